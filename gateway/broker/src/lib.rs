//! The bus backends behind `gateway_core::Broker`: RabbitMQ through lapin (topic exchange,
//! quorum work queues with a delivery limit, TTL retry tiers, dead-letter queues, publisher
//! confirms, manual acks, reconnects) and an embedded SQLite-backed bus with the same
//! semantics for single-machine use and the demo.
//!
//! This crate is the only lapin user in the workspace.

pub mod embedded;
pub mod names;
pub mod rabbit;
mod settle;

pub use embedded::EmbeddedBroker;
pub use rabbit::RabbitBroker;
