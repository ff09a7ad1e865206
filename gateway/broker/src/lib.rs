//! The bus backends behind `gateway_core::Broker`: RabbitMQ through lapin (topic exchange,
//! quorum work queues with a delivery limit, TTL retry tiers, dead-letter queues, publisher
//! confirms, manual acks, reconnects) and an embedded SQLite-backed bus with the same
//! semantics for single-machine use and the demo.
//!
//! Readers of a RabbitMQ dead-letter queue take turns ([`turns`]): a list, replay or purge is
//! complete, or it fails saying another reader had the letters; never a quiet part of them.
//!
//! This crate is the only lapin user in the workspace.

pub mod embedded;
pub mod names;
pub mod rabbit;
mod settle;
pub mod turns;

pub use embedded::EmbeddedBroker;
pub use rabbit::{KeptLimit, RabbitBroker};
pub use turns::{DEAD_LETTER_WAIT, is_busy, on_dead_letter_wait, with_dead_letter_wait};
