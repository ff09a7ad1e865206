//! The `gateway` binary's library half: the codec registry, the CLI commands and the wiring of
//! adapters, bus and HTTP. Kept as a library so the integration tests in `tests/` drive exactly
//! what the binary runs.

pub mod codecs;
pub mod config;
pub mod convert;
pub mod filedrop;
pub mod ledger;
pub mod logging;
pub mod partners;
pub mod pipeline;
pub mod protocols;
pub mod service;
