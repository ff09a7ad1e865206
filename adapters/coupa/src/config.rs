//! Client configuration: where Coupa is, the OAuth client, and the delivery knobs.

use std::time::Duration;

use gateway_core::Secret;

/// How to reach one Coupa instance and how politely.
#[derive(Debug, Clone)]
pub struct CoupaClientConfig {
    /// `https://{instance}.coupahost.com` (no trailing `/api`).
    pub base_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// OAuth scopes, sent space-separated (`core.invoice.create core.invoice.read ...`).
    pub scopes: Vec<String>,
    /// Submit each created draft for approval (`PUT /api/invoices/:id/submit`).
    pub submit_after_create: bool,
    /// Client-side rate limit; Coupa publishes 25 requests/s with a burst of 20.
    pub rate_per_sec: u32,
    pub burst: u32,
    /// Per-request timeout. A timeout after the request was sent is an ambiguous outcome.
    pub timeout: Duration,
    /// Attempts per operation, first included, before a retryable error is handed back.
    pub max_attempts: u32,
    /// Exponential backoff base and cap (jittered).
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Longest `Retry-After` waited in place; a longer one is handed back to the caller
    /// (the bus retry tier) as `DeliveryError::Retryable { retry_after }`.
    pub max_retry_after: Duration,
    /// Refresh the token this long before it expires (Coupa: 24 h tokens, refresh after 20 h).
    pub token_refresh_margin: Duration,
    /// Wait this long after fetching a token before the first use (Coupa: "wait at least 5
    /// seconds after generating a token"): used at once, it can be refused with 401, and the
    /// refresh that follows gets another token just as new.
    pub token_activation: Duration,
    /// `account-type` (chart of accounts) name sent on invoices, when the instance needs one.
    pub account_type: Option<String>,
}

/// Coupa's published rate: 25 requests per second.
pub const DEFAULT_RATE_PER_SEC: u32 = 25;
/// Coupa's published burst: 20 calls.
pub const DEFAULT_BURST: u32 = 20;

impl CoupaClientConfig {
    /// A configuration with Coupa's published limits and conservative retry defaults.
    pub fn new(
        base_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Secret,
    ) -> Self {
        CoupaClientConfig {
            base_url: base_url.into(),
            client_id: client_id.into(),
            client_secret,
            scopes: [
                "core.common.read",
                "core.invoice.read",
                "core.invoice.create",
                "core.invoice.write",
                "core.purchase_order.read",
                "core.purchase_order.write",
                "core.supplier.read",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            submit_after_create: true,
            rate_per_sec: DEFAULT_RATE_PER_SEC,
            burst: DEFAULT_BURST,
            timeout: Duration::from_secs(30),
            max_attempts: 5,
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            token_refresh_margin: Duration::from_secs(4 * 3600),
            token_activation: Duration::from_secs(5),
            account_type: None,
        }
    }
}
