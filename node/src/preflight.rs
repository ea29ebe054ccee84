//! Checks run before the service starts, so that a port conflict ends the node with one clear
//! line naming the address, instead of an anonymous `Address already in use` from deep inside the
//! network or RPC stack (or, for RPC, a silent move to a random port).

use sc_network::multiaddr::Protocol;
use sc_service::Configuration;
use std::net::{IpAddr, SocketAddr, TcpListener};

/// Fails if a TCP address the node is configured to listen on is already taken.
///
/// `explicit_rpc_port`: the operator named `--rpc-port`; only then is a busy RPC port an error
/// (the default port may still move to a free one, as upstream does).
pub fn check_listen_addresses(
	config: &Configuration,
	explicit_rpc_port: bool,
) -> Result<(), String> {
	for addr in p2p_tcp_addresses(config) {
		bindable(addr).map_err(|e| format!("p2p listen address {addr} is not available: {e}"))?;
	}
	if explicit_rpc_port {
		let endpoints = config.rpc.addr.iter().flatten().filter(|e| !e.is_optional);
		for endpoint in endpoints {
			bindable(endpoint.listen_addr).map_err(|e| {
				format!("RPC address {} is not available: {e}", endpoint.listen_addr)
			})?;
		}
	}
	Ok(())
}

/// The `/ip4|ip6/<addr>/tcp/<port>` listen addresses with a fixed port (port 0 is always free).
fn p2p_tcp_addresses(config: &Configuration) -> Vec<SocketAddr> {
	let mut out = Vec::new();
	for multiaddr in &config.network.listen_addresses {
		let mut ip: Option<IpAddr> = None;
		for protocol in multiaddr.iter() {
			match protocol {
				Protocol::Ip4(v4) => ip = Some(v4.into()),
				Protocol::Ip6(v6) => ip = Some(v6.into()),
				Protocol::Tcp(port) if port != 0 => {
					if let Some(ip) = ip {
						out.push(SocketAddr::new(ip, port));
					}
				},
				_ => {},
			}
		}
	}
	out
}

/// Binds and releases `addr`. An address family the host lacks (IPv6 on some machines) is not a
/// conflict: the network stack skips it too.
fn bindable(addr: SocketAddr) -> std::io::Result<()> {
	match TcpListener::bind(addr) {
		Ok(_) => Ok(()),
		Err(e) if e.kind() == std::io::ErrorKind::AddrNotAvailable => Ok(()),
		Err(e) => Err(e),
	}
}
