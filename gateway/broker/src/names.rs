//! Exchange and queue names, derived from the topology's namespace so tests and environments
//! can share one broker without touching each other.

/// The topic exchange every document is published to (`gw.documents`).
pub fn exchange(ns: &str) -> String {
    format!("{ns}.documents")
}

/// The dead-letter exchange the broker uses when a work queue's delivery limit is hit.
pub fn dead_letter_exchange(ns: &str) -> String {
    format!("{ns}.dlx")
}

/// A consumer's work queue (`gw.q.coupa-invoices`).
pub fn work_queue(ns: &str, consumer: &str) -> String {
    format!("{ns}.q.{consumer}")
}

/// A consumer's dead-letter queue (`gw.dead.coupa-invoices`).
pub fn dead_queue(ns: &str, consumer: &str) -> String {
    format!("{ns}.dead.{consumer}")
}

/// The lock a reader of a consumer's dead letters holds while it reads them
/// (`gw.dead.coupa-invoices.walking`): an exclusive, auto-delete queue, declared on the reader's
/// own connection. RabbitMQ refuses it to every other connection (`RESOURCE_LOCKED`) and
/// deletes it when its connection closes, even when the reader is killed. No message ever
/// goes there. Anything that fetches dead letters without acking them (and so hides them from
/// other readers) must hold it: see `crate::turns`.
pub fn dead_walk_lock(ns: &str, consumer: &str) -> String {
    format!("{}.walking", dead_queue(ns, consumer))
}

/// A consumer's retry queue for one tier (`gw.retry.coupa-invoices.5000ms`).
pub fn retry_queue(ns: &str, consumer: &str, tier_ms: u128) -> String {
    format!("{ns}.retry.{consumer}.{tier_ms}ms")
}
