//! verity-node: the Verity chain's node binary.

mod chain_spec;
mod cli;
mod client;
mod command;
mod inference_rpc;
mod preflight;
mod rpc;
mod service;

fn main() {
	// Errors end the process with one readable line and exit code 1, never a backtrace: an
	// operator who passes a bad chain spec or a busy port needs to read what is wrong.
	if let Err(e) = command::run() {
		eprintln!("Error: {}", command::one_line(&e));
		std::process::exit(1);
	}
}
