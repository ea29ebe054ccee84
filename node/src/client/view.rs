//! Calls of the pallets' read API (`#[pallet::view_functions]`) over JSON-RPC: `state_call` of
//! the `RuntimeViewFunction` runtime API with the view function's id and arguments. Clients,
//! tests and examples read chain state this way instead of decoding the pallets' storage.

use codec::{Decode, Encode};
use frame_support::view_functions::{ViewFunction, ViewFunctionDispatchError};

/// The runtime API method `state_call` runs.
pub const API: &str = "RuntimeViewFunction_execute_view_function";

/// The `state_call` data of `call`: its id and SCALE arguments, as 0x hex.
pub fn encode_call<V: ViewFunction + Encode>(call: &V) -> String {
	format!("0x{}", hex::encode((V::id(), call.encode()).encode()))
}

/// The view function's answer from `state_call`'s 0x hex result.
pub fn decode_result<V: ViewFunction>(raw: &str) -> Result<V::ReturnType, String>
where
	V::ReturnType: Decode,
{
	let bytes = hex::decode(raw.trim_start_matches("0x"))
		.map_err(|_| "the node's state_call answer is not hex".to_string())?;
	let out = Result::<Vec<u8>, ViewFunctionDispatchError>::decode(&mut &bytes[..])
		.map_err(|_| "the runtime's view function answer does not decode".to_string())?
		.map_err(|e| format!("the runtime refused the view function: {e:?}"))?;
	V::ReturnType::decode(&mut &out[..])
		.map_err(|_| "the view function's answer does not decode with this client's types".into())
}
