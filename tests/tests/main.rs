//! The integration test binary: golden samples, the shared corpus, and (as they land) the
//! end-to-end paths through the bus and the Coupa sandbox.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod broker_restart;
mod corpus;
mod e2e;
mod faults;
mod hostile;
mod prop;
mod samples;
mod soak;
