//! The `gateway` binary's library half: the codec registry, the CLI commands and the wiring of
//! adapters, bus and HTTP. Kept as a library so the integration tests in `tests/` drive exactly
//! what the binary runs.

/// The version `gateway --version` prints: the release, and the commit it was built from when
/// the build knew it (`0.1.0 (29cd847)`, set by `build.rs`), so an operator upgrading can tell
/// two builds of one release apart; the release alone when built without git.
pub const VERSION: &str = env!("GATEWAY_VERSION");

pub mod ack_outbox;
pub mod ack_watch;
pub mod bus;
pub mod codecs;
pub mod config;
pub mod consumers;
pub mod convert;
pub mod coupa_link;
pub mod cxml_reply;
pub mod demo;
pub mod disk_space;
pub mod dlq;
pub mod documents;
mod drop_entry;
mod drop_guard;
pub mod filedrop;
pub mod folder_owner;
pub mod group_commit;
pub mod inbound_credentials;
pub mod ledger;
pub mod ledger_health;
pub mod logging;
pub mod mailbox;
pub mod partner_acks;
pub mod partners;
pub mod pipeline;
pub mod po_keys;
pub mod po_poller;
pub mod protocols;
mod published_mark;
pub mod retention;
pub mod serve_lock;
pub mod service;
pub mod supplier;
pub mod supplier_notice;
pub mod x12_senders;
pub mod zipdrop;
