//! # verity-node
//!
//! The Verity node as a library: the binary (`main.rs`) is a thin wrapper around
//! [`command::run`], and the end-to-end tests, the examples and the load generator use the
//! same [`client`] (transactions, the typed `verity_*` RPC, the pallets' read API) that the
//! command-line client is built on.
//!
//! | module | what |
//! |---|---|
//! | [`chain_spec`] | chain specs by genesis preset name, or from a file |
//! | [`cli`], [`command`] | the command line: node options, subcommands, `client` jobs |
//! | [`service`] | the full node: BABE + GRANDPA, ParityDB, off-chain workers, the engine |
//! | [`rpc`] | JSON-RPC extensions, the typed `verity_*` API ([`rpc::verity`]) |
//! | [`client`] | the command-line client of a running chain, and its library |
//! | [`preflight`] | checks run before the node binds its ports |

// `sc_service::Error` and `sc_cli::Error`, which every Substrate node returns, are large enums;
// boxing them here would only add an allocation on the error path of start-up code.
#![allow(clippy::result_large_err)]

pub mod chain_spec;
pub mod cli;
pub mod client;
pub mod command;
pub mod preflight;
pub mod rpc;
pub mod service;
