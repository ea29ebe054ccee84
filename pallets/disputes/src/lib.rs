//! # Disputes (pallet-disputes) — to be written.
#![cfg_attr(not(feature = "std"), no_std)]
