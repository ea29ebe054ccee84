//! verity-node: the Verity chain's node binary (see the library, `verity_node`).

fn main() {
	// Errors end the process with one readable line and exit code 1, never a backtrace: an
	// operator who passes a bad chain spec or a busy port needs to read what is wrong.
	if let Err(e) = verity_node::command::run() {
		eprintln!("Error: {}", verity_node::command::one_line(&e));
		std::process::exit(1);
	}
}
