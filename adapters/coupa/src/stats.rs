//! Counters the client keeps so tests and metrics can see what it did (retries, 429s,
//! waits honoured, tokens fetched, duplicates avoided) without timing anything.

use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters (atomics).
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub rate_limited: AtomicU64,
    pub server_errors: AtomicU64,
    pub timeouts: AtomicU64,
    pub tokens_fetched: AtomicU64,
    pub unauthorized_refreshes: AtomicU64,
    pub ambiguous_outcomes: AtomicU64,
    pub found_existing: AtomicU64,
    pub retry_after_honoured_ms: AtomicU64,
}

/// A snapshot of [`Counters`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent (token requests included).
    pub requests: u64,
    /// Retries after a retryable failure.
    pub retries: u64,
    /// 429 answers received.
    pub rate_limited: u64,
    pub server_errors: u64,
    pub timeouts: u64,
    pub tokens_fetched: u64,
    /// 401 answers that led to a token refresh and one retry.
    pub unauthorized_refreshes: u64,
    /// Creates whose outcome was unknown (timeout after send).
    pub ambiguous_outcomes: u64,
    /// Invoices found by the duplicate guard instead of being created.
    pub found_existing: u64,
    /// The largest `Retry-After` the client waited for, in milliseconds.
    pub max_retry_after_honoured_ms: u64,
}

impl Counters {
    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> ClientStats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ClientStats {
            requests: g(&self.requests),
            retries: g(&self.retries),
            rate_limited: g(&self.rate_limited),
            server_errors: g(&self.server_errors),
            timeouts: g(&self.timeouts),
            tokens_fetched: g(&self.tokens_fetched),
            unauthorized_refreshes: g(&self.unauthorized_refreshes),
            ambiguous_outcomes: g(&self.ambiguous_outcomes),
            found_existing: g(&self.found_existing),
            max_retry_after_honoured_ms: g(&self.retry_after_honoured_ms),
        }
    }
}
