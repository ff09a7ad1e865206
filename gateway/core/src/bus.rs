//! The bus as the rest of the gateway sees it: publish with confirms, consume with an explicit
//! outcome per message (ack, retry later, dead-letter), and the operator verbs on dead letters.
//!
//! Two backends implement [`Broker`] in `gateway-broker` (RabbitMQ and an embedded file-backed
//! bus); everything above this trait is the same for both, and one conformance suite runs
//! against each.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use gateway_model::DocumentKind;
use serde::Serialize;

use crate::delivery::{DeliveryError, Receipt};
use crate::envelope::Envelope;

/// One message: the envelope (transport facts) and the body (canonical JSON of the document).
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub envelope: Envelope,
    pub body: Vec<u8>,
}

/// A message as a consumer receives it, with its delivery history.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivered {
    pub envelope: Envelope,
    pub body: Vec<u8>,
    /// 1 on the first delivery; counts retries and broker redeliveries after a crash.
    pub attempt: u32,
    /// The reason of the first failure, kept across retries so operators see where it began.
    pub first_error: Option<String>,
}

/// What a handler decided about one message. The broker acts on it only after the decision is
/// durable (a retry or dead letter is confirmed before the original is acked), so a crash in
/// between delivers the message again rather than losing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ack,
    /// Try again later: after `after` if given, else after the next retry tier.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Never going to work without a fix: park it in the dead-letter queue with the reason.
    Dead {
        reason: String,
    },
}

impl From<Result<Receipt, DeliveryError>> for Outcome {
    fn from(r: Result<Receipt, DeliveryError>) -> Self {
        match r {
            Ok(_) => Outcome::Ack,
            Err(DeliveryError::Retryable {
                reason,
                retry_after,
            }) => Outcome::Retry {
                reason,
                after: retry_after,
            },
            Err(DeliveryError::Permanent { reason }) => Outcome::Dead { reason },
        }
    }
}

/// What the broker did with a handled message, once that is durable (the retry or dead-letter
/// copy confirmed, the ack sent). It can differ from the handler's [`Outcome`]: a `Retry` past
/// the last tier is parked as `Dead` ("gave up after N attempts: ..."), and a message that
/// reached the delivery limit (its consumer stopped while handling it each time) is parked
/// without being handled at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Done: removed from the queue.
    Acked,
    /// Delivered again after `delay` (the retry tier it went to).
    Retrying { delay: Duration, reason: String },
    /// Parked in the consumer's dead-letter queue with `reason`, as `gateway dlq list` shows it.
    Dead { reason: String },
}

/// The code that handles each message of one consumer.
pub trait Handler: Send + Sync {
    fn handle<'a>(&'a self, message: &'a Delivered) -> BoxFuture<'a, Outcome>;

    /// Told what became of `message` on `consumer`, once it is durable, whoever decided it
    /// (the handler's outcome, the retry tiers, the delivery limit). Every dead letter a
    /// backend parks through its consumer reaches this, so this is where a handler records
    /// dead letters (ledger, counters, logs), never from its own [`Outcome::Dead`] alone. Not
    /// called when the decision could not be made durable (the message is delivered again).
    /// A crash between the decision and this call loses the call, not the message.
    fn settled<'a>(
        &'a self,
        consumer: &'a str,
        message: &'a Delivered,
        settled: &'a Settled,
    ) -> BoxFuture<'a, ()> {
        let _ = (consumer, message, settled);
        Box::pin(std::future::ready(()))
    }
}

/// A consumer: one durable queue bound to the routing patterns it wants
/// (`in.invoice.*`, `out.purchase_order.#`; `<direction>.<kind>.<partner>` keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerSpec {
    pub name: String,
    pub bindings: Vec<String>,
}

/// The whole topology, declared (and verified) when a backend starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// Prefix of every exchange and queue name (`gw` → `gw.documents`, `gw.dead.coupa`).
    pub namespace: String,
    pub consumers: Vec<ConsumerSpec>,
    /// Delays of the successive retries; after the last one a message is dead-lettered.
    pub retry_tiers: Vec<Duration>,
    /// Deliveries after which a message that keeps crashing its consumer is dead-lettered.
    pub delivery_limit: u32,
    /// Messages in flight per consumer.
    pub prefetch: u16,
}

impl Topology {
    pub fn consumer(&self, name: &str) -> Option<&ConsumerSpec> {
        self.consumers.iter().find(|c| c.name == name)
    }

    /// The consumers whose bindings match `routing_key`.
    pub fn routes<'a>(&'a self, routing_key: &'a str) -> impl Iterator<Item = &'a ConsumerSpec> {
        self.consumers
            .iter()
            .filter(move |c| c.bindings.iter().any(|b| topic_matches(b, routing_key)))
    }

    /// The delay before attempt `attempt + 1`, or `None` when the tiers are exhausted.
    pub fn retry_delay(&self, attempt: u32) -> Option<Duration> {
        let idx = usize::try_from(attempt.saturating_sub(1)).ok()?;
        self.retry_tiers.get(idx).copied()
    }
}

/// AMQP topic matching: words split on `.`, `*` matches exactly one word, `#` zero or more.
pub fn topic_matches(pattern: &str, key: &str) -> bool {
    fn go(p: &[&str], k: &[&str]) -> bool {
        match p.split_first() {
            None => k.is_empty(),
            Some((&"#", rest)) => (0..=k.len()).any(|i| go(rest, k.get(i..).unwrap_or(&[]))),
            Some((&w, rest)) => match k.split_first() {
                Some((&kw, krest)) => (w == "*" || w == kw) && go(rest, krest),
                None => false,
            },
        }
    }
    let p: Vec<&str> = pattern.split('.').collect();
    let k: Vec<&str> = key.split('.').collect();
    go(&p, &k)
}

/// A parked message, as operators see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetter {
    pub consumer: String,
    pub doc_id: String,
    pub idempotency_key: String,
    pub partner: Option<String>,
    pub kind: DocumentKind,
    pub attempts: u32,
    pub reason: String,
    pub first_error: Option<String>,
    pub dead_at: Option<DateTime<Utc>>,
    /// Its lives before the last replay: `attempts` counts only the last one, so a letter
    /// replayed and dead again on its first try would otherwise read as tried once.
    pub replayed: ReplayHistory,
    #[serde(skip)]
    pub envelope: Envelope,
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// How often an operator replayed a letter, and what it took before the last replay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReplayHistory {
    pub replays: u32,
    /// Deliveries in every life before the last replay.
    pub earlier_attempts: u32,
}

impl ReplayHistory {
    /// The history of a letter replayed once more, after dying after `attempts` in its last
    /// life; a replay starts a fresh attempt count, so this keeps the old one.
    pub fn replayed_after(self, attempts: u32) -> Self {
        ReplayHistory {
            replays: self.replays.saturating_add(1),
            earlier_attempts: self.earlier_attempts.saturating_add(attempts),
        }
    }

    /// What an operator reads after the attempt count of the last life: empty for a letter
    /// never replayed.
    pub fn describe(&self, attempts: u32) -> String {
        if self.replays == 0 {
            return String::new();
        }
        let how = match self.replays {
            1 => "once".to_string(),
            n => format!("{n} times"),
        };
        format!(
            " (replayed {how}; {} attempts in all)",
            self.earlier_attempts.saturating_add(attempts)
        )
    }
}

/// Which dead letters an operator verb applies to. Empty filter = all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeadFilter {
    pub doc_id: Option<String>,
    pub partner: Option<String>,
    pub kind: Option<DocumentKind>,
    pub reason_contains: Option<String>,
    /// Only these documents: a set a verb chose from letters it read (the invoices whose
    /// suppliers were told), so what arrived meanwhile is left alone.
    pub doc_ids: Option<std::collections::BTreeSet<String>>,
}

impl DeadFilter {
    pub fn matches(&self, envelope: &Envelope, reason: &str) -> bool {
        self.doc_id.as_ref().is_none_or(|d| *d == envelope.doc_id)
            && self
                .doc_ids
                .as_ref()
                .is_none_or(|ids| ids.contains(&envelope.doc_id))
            && self
                .partner
                .as_ref()
                .is_none_or(|p| envelope.partner.as_ref() == Some(p))
            && self.kind.is_none_or(|k| k == envelope.kind)
            && self
                .reason_contains
                .as_ref()
                .is_none_or(|r| reason.contains(r.as_str()))
    }
}

/// Counts per consumer queue, for `/metrics` and `gateway dlq list`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QueueDepth {
    /// Waiting for a consumer (the embedded bus also counts those being delivered).
    pub ready: u64,
    pub dead: u64,
    /// Waiting out a retry delay after a failed delivery. Without it, a Coupa outage looks like
    /// an empty queue while every invoice sits in the retry tiers.
    pub retrying: u64,
}

/// Why a bus operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusError {
    /// The broker cannot be reached or the connection dropped. Retrying later helps.
    #[error("bus unavailable: {0}")]
    Unavailable(String),
    /// The broker answered but refused the connection: the user name and password, or the
    /// virtual host, in its URL. Its own variant because the cure is not waiting for a broker
    /// to come up but fixing the credentials (in the configuration or in the broker); still
    /// retryable, as a document waiting on the bus must not be given up for the gateway's own
    /// configuration, and a reconnect succeeds once they are fixed.
    #[error("broker refused the connection: {0}")]
    Refused(String),
    /// The broker refused (nacked) a message. Retrying later may help.
    #[error("broker did not confirm the message: {0}")]
    NotConfirmed(String),
    /// No queue is bound for this routing key: a configuration error, retrying does not help.
    #[error(
        "no consumer is bound for routing key {0}; add a consumer binding for it in the bus topology"
    )]
    Unroutable(String),
    /// The existing topology differs from the configured one. Fix the config or the broker.
    #[error("topology: {0}")]
    Topology(String),
    #[error("unknown consumer {0}")]
    UnknownConsumer(String),
    /// The local store failed (disk full, corrupt file). Retrying may help after a fix.
    #[error("bus storage: {0}")]
    Storage(String),
}

impl BusError {
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            BusError::Unavailable(_)
                | BusError::Refused(_)
                | BusError::NotConfirmed(_)
                | BusError::Storage(_)
        )
    }
}

/// A signal that resolves when a consumer should stop.
pub type Stop = BoxFuture<'static, ()>;

/// The bus. Implementations: `gateway_broker::RabbitBroker`, `gateway_broker::EmbeddedBroker`.
pub trait Broker: Send + Sync {
    /// Publishes every message, routed by `envelope.routing_key()`, and returns only after the
    /// broker confirmed all of them. An unroutable message is an error, never a silent drop.
    fn publish<'a>(&'a self, batch: &'a [Message]) -> BoxFuture<'a, Result<(), BusError>>;

    /// Runs `handler` on the consumer's queue until `stop` resolves. Survives broker restarts
    /// (reconnects with backoff); returns an error only for configuration problems.
    fn consume<'a>(
        &'a self,
        consumer: &'a str,
        handler: Arc<dyn Handler>,
        stop: Stop,
    ) -> BoxFuture<'a, Result<(), BusError>>;

    /// Dead letters of a consumer, oldest first, at most `limit`.
    fn dead_letters<'a>(
        &'a self,
        consumer: &'a str,
        filter: &'a DeadFilter,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<DeadLetter>, BusError>>;

    /// Moves matching dead letters back onto the consumer's queue with a fresh attempt count.
    /// Each is replayed once: it leaves the dead-letter queue in the same step.
    fn replay<'a>(
        &'a self,
        consumer: &'a str,
        filter: &'a DeadFilter,
    ) -> BoxFuture<'a, Result<usize, BusError>>;

    /// Deletes matching dead letters. Returns each deleted letter's doc id (`None` for one
    /// whose envelope could not be read), so the ledger can record that it was purged.
    fn purge<'a>(
        &'a self,
        consumer: &'a str,
        filter: &'a DeadFilter,
    ) -> BoxFuture<'a, Result<Vec<Option<String>>, BusError>>;

    fn depth<'a>(&'a self, consumer: &'a str) -> BoxFuture<'a, Result<QueueDepth, BusError>>;

    /// Whether the broker answers now (for `/readyz`).
    fn ready(&self) -> BoxFuture<'_, Result<(), BusError>>;
}

#[cfg(test)]
mod tests {
    use super::topic_matches;

    #[test]
    fn topic_patterns() {
        assert!(topic_matches("in.invoice.*", "in.invoice.acme"));
        assert!(!topic_matches("in.invoice.*", "in.invoice.acme.x"));
        assert!(topic_matches("in.#", "in.invoice.acme"));
        assert!(topic_matches("#", "a"));
        assert!(topic_matches("in.#.acme", "in.acme"));
        assert!(!topic_matches("out.*.*", "in.invoice.acme"));
        assert!(!topic_matches("in.invoice", "in.invoice.acme"));
    }
}
