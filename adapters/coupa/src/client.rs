//! [`CoupaClient`]: the HTTP client, the token cache, the rate limiter and the retry loop that
//! every operation (invoices, suppliers, purchase orders, cXML) shares.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::backoff;
use crate::config::CoupaClientConfig;
use crate::error::{CoupaError, TokenRefusal};
use crate::rate::RateLimiter;
use crate::stats::{ClientStats, Counters};
use crate::suppliers::SupplierCache;
use crate::token::{self, AccessToken, TokenCache};

/// A Coupa Core API client for one instance. Cheap to share behind an `Arc`; all methods take
/// `&self`.
#[derive(Debug)]
pub struct CoupaClient {
    pub(crate) cfg: CoupaClientConfig,
    pub(crate) http: reqwest::Client,
    pub(crate) tokens: TokenCache,
    pub(crate) limiter: RateLimiter,
    pub(crate) counters: Arc<Counters>,
    pub(crate) suppliers: SupplierCache,
    /// One delivery at a time per supplier and invoice number ([`CoupaClient::deliver_invoice`]).
    pub(crate) delivering: crate::invoices::InFlightInvoices,
    /// The last token refusal, until a token request succeeds ([`CoupaClient::token_refusal`]).
    refusal: std::sync::Mutex<RefusalState>,
    base: String,
}

/// How often a token refusal that goes on is logged again as an error (each one in between
/// at debug): every delivery asks, and one line a minute says it as well.
const REFUSAL_LOG_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
struct RefusalState {
    current: Option<TokenRefusal>,
    logged_at: Option<std::time::Instant>,
}

impl CoupaClient {
    /// Checks the configuration and builds the HTTP client (rustls). No request is sent yet.
    pub fn new(cfg: CoupaClientConfig) -> Result<Self, CoupaError> {
        let base = cfg.base_url.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(CoupaError::Config(format!(
                "base_url must start with https:// (or http:// for a local sandbox), got {base:?}"
            )));
        }
        if cfg.client_id.trim().is_empty() {
            return Err(CoupaError::Config("client_id is empty".into()));
        }
        if cfg.rate_per_sec == 0 || cfg.burst == 0 {
            return Err(CoupaError::Config(
                "rate_per_sec and burst must be at least 1".into(),
            ));
        }
        if cfg.timeout.is_zero() {
            return Err(CoupaError::Config("timeout must be more than zero".into()));
        }
        let http = crate::transport::client_builder()
            .connect_timeout(cfg.timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| CoupaError::Config(format!("HTTP client: {e}")))?;
        Ok(CoupaClient {
            limiter: RateLimiter::new(cfg.rate_per_sec, cfg.burst),
            http,
            tokens: TokenCache::default(),
            counters: Arc::new(Counters::default()),
            suppliers: SupplierCache::default(),
            delivering: crate::invoices::InFlightInvoices::default(),
            refusal: std::sync::Mutex::default(),
            base,
            cfg,
        })
    }

    pub fn config(&self) -> &CoupaClientConfig {
        &self.cfg
    }

    /// What the client has done so far (requests, retries, 429s, tokens, duplicates avoided).
    pub fn stats(&self) -> ClientStats {
        self.counters.snapshot()
    }

    /// The base URL requests go to (trimmed, without a trailing `/`).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Coupa's last refusal of this client's token request, until a token request succeeds
    /// again: the gateway's credentials or scopes are wrong, so nothing reaches Coupa. For
    /// readiness; a client that has not asked for a token yet has none.
    pub fn token_refusal(&self) -> Option<TokenRefusal> {
        self.refusal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .current
            .clone()
    }

    /// Records what the token endpoint said: a refusal is logged as an error naming what to
    /// check (never the secret), again each [`REFUSAL_LOG_EVERY`] while it goes on; a token
    /// after a refusal ends it.
    fn note_token_answer(&self, answer: &Result<AccessToken, CoupaError>) {
        let mut state = self.refusal.lock().unwrap_or_else(|p| p.into_inner());
        match answer {
            Ok(_) => {
                if let Some(was) = state.current.take() {
                    state.logged_at = None;
                    tracing::info!(
                        client_id = %self.cfg.client_id,
                        refused_before = %was.summary(),
                        "Coupa took the client credentials: the token refusal is over"
                    );
                }
            }
            Err(CoupaError::TokenRefused(r)) => {
                let now = std::time::Instant::now();
                let again = state.current.as_ref() == Some(r)
                    && state
                        .logged_at
                        .is_some_and(|t| now.duration_since(t) < REFUSAL_LOG_EVERY);
                state.current = Some(r.clone());
                if again {
                    tracing::debug!(client_id = %self.cfg.client_id, refusal = %r.summary(),
                        "Coupa refused the token request again");
                } else {
                    state.logged_at = Some(now);
                    tracing::error!(
                        client_id = %self.cfg.client_id,
                        scopes = %self.cfg.scopes.join(" "),
                        token_url = %gateway_core::redact_url(&self.url("/oauth2/token")),
                        "{r}"
                    );
                }
            }
            Err(_) => {}
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A fresh access token (cached until `token_refresh_margin` before expiry).
    pub(crate) async fn token(&self) -> Result<AccessToken, CoupaError> {
        let url = self.url("/oauth2/token");
        self.tokens
            .get(
                self.cfg.token_refresh_margin,
                self.cfg.token_activation,
                |generation| async move {
                    self.limiter.acquire().await;
                    Counters::bump(&self.counters.requests);
                    Counters::bump(&self.counters.tokens_fetched);
                    tracing::debug!(generation, "fetching a Coupa access token");
                    let answer = token::fetch(
                        &self.http,
                        &url,
                        &self.cfg.client_id,
                        &self.cfg.client_secret,
                        &self.cfg.scopes,
                        self.cfg.timeout,
                        generation,
                    )
                    .await;
                    self.note_token_answer(&answer);
                    answer
                },
            )
            .await
    }

    /// Waits before retry number `attempt`: a 429's `Retry-After` is honoured by the rate
    /// limiter (paused for every caller); otherwise jittered exponential backoff. A
    /// `Retry-After` beyond `max_retry_after` is not waited here: the error goes back.
    pub(crate) async fn pause_before_retry(
        &self,
        attempt: u32,
        e: &CoupaError,
    ) -> Result<(), CoupaError> {
        Counters::bump(&self.counters.retries);
        match e.retry_after() {
            Some(wait) if wait > self.cfg.max_retry_after => Err(e.clone()),
            Some(wait) => {
                let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                self.counters
                    .retry_after_honoured_ms
                    .fetch_max(ms, std::sync::atomic::Ordering::Relaxed);
                // The limiter was paused until the 429 plus `wait`; acquiring waits it out.
                Ok(())
            }
            None => {
                let d = backoff::delay(attempt, self.cfg.backoff_base, self.cfg.backoff_max);
                tokio::time::sleep(d).await;
                Ok(())
            }
        }
    }

    /// Runs `op` until it succeeds, fails permanently, or `max_attempts` is spent. Only for
    /// operations that are safe to repeat (reads, `PUT`s that set a state).
    pub(crate) async fn retrying<T, F, Fut>(&self, what: &str, mut op: F) -> Result<T, CoupaError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, CoupaError>>,
    {
        let mut attempt = 0;
        loop {
            match op().await {
                Ok(v) => return Ok(v),
                Err(e) if e.is_retryable_now() && attempt + 1 < self.cfg.max_attempts.max(1) => {
                    tracing::warn!(what, attempt, error = %e, "Coupa call failed; retrying");
                    self.pause_before_retry(attempt, &e).await?;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}
