//! Bad command-line input makes `verity-node` exit with one clear error line, never a panic.

mod common;

use common::*;
use std::{net::TcpListener, time::Duration};

fn assert_clean_failure(code: Option<i32>, stderr: &str, expected: &str) {
	assert_eq!(code, Some(1), "exit code 1; stderr:\n{stderr}");
	assert!(!stderr.contains("panicked"), "no panic:\n{stderr}");
	assert!(!stderr.contains("backtrace"), "no backtrace:\n{stderr}");
	let error_lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("Error:")).collect();
	assert_eq!(error_lines.len(), 1, "exactly one error line:\n{stderr}");
	assert!(error_lines[0].contains(expected), "`{expected}` in {:?}", error_lines[0]);
}

#[test]
fn unknown_preset_is_refused() {
	let dir = TempDir::new("preset");
	let (code, stderr) = run_to_exit(
		&["--chain", "no-such-preset", "--base-path", dir.0.to_str().unwrap()],
		Duration::from_secs(30),
	);
	assert_clean_failure(code, &stderr, "unknown chain `no-such-preset`");
}

#[test]
fn malformed_chain_spec_is_refused() {
	let dir = TempDir::new("spec");
	let spec = dir.0.join("broken.json");
	std::fs::write(&spec, br#"{"name": "half a spec", "#).unwrap();
	let (code, stderr) = run_to_exit(
		&["--chain", spec.to_str().unwrap(), "--base-path", dir.0.to_str().unwrap()],
		Duration::from_secs(30),
	);
	assert_clean_failure(code, &stderr, "invalid chain spec");
}

/// The fault switch on a spec file of a `Live` chain (a copy of the local chain that declares
/// itself live) is refused before the node starts.
#[test]
fn faulty_executor_switch_is_refused_on_a_live_chain() {
	let dir = TempDir::new("live");
	let spec = dir.0.join("live.json");
	let out = std::process::Command::new(NODE_BIN)
		.args(["build-spec", "--chain", "local"])
		.stderr(std::process::Stdio::null())
		.output()
		.unwrap();
	assert!(out.status.success());
	let mut json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
	assert_eq!(json["chainType"], "Local");
	json["chainType"] = "Live".into();
	std::fs::write(&spec, serde_json::to_vec(&json).unwrap()).unwrap();
	let base = dir.0.join("base");
	let args = ["--chain", spec.to_str().unwrap(), "--base-path", base.to_str().unwrap()];
	let (code, stderr) =
		run_to_exit(&[&args[..], &["--dev-faulty-executor"]].concat(), Duration::from_secs(30));
	assert_clean_failure(code, &stderr, "--dev-faulty-executor is refused on this chain");
}

#[test]
fn busy_rpc_port_is_refused() {
	let dir = TempDir::new("port");
	let taken = TcpListener::bind("127.0.0.1:0").unwrap();
	let port = taken.local_addr().unwrap().port().to_string();
	let p2p = free_port().to_string();
	let (code, stderr) = run_to_exit(
		&[
			"--dev",
			"--base-path",
			dir.0.to_str().unwrap(),
			"--rpc-port",
			&port,
			"--port",
			&p2p,
			"--no-prometheus",
		],
		Duration::from_secs(60),
	);
	assert_clean_failure(code, &stderr, &port);
	drop(taken);
}

#[test]
fn busy_p2p_port_is_refused() {
	let dir = TempDir::new("p2p");
	let taken = TcpListener::bind("127.0.0.1:0").unwrap();
	let port = taken.local_addr().unwrap().port().to_string();
	let rpc = free_port().to_string();
	let listen = format!("/ip4/127.0.0.1/tcp/{port}");
	let (code, stderr) = run_to_exit(
		&[
			"--dev",
			"--base-path",
			dir.0.to_str().unwrap(),
			"--rpc-port",
			&rpc,
			"--listen-addr",
			&listen,
			"--no-prometheus",
		],
		Duration::from_secs(60),
	);
	assert_clean_failure(code, &stderr, &port);
	drop(taken);
}
