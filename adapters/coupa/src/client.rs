//! [`CoupaClient`]: the HTTP client, the token cache, the rate limiter and the retry loop that
//! every operation (invoices, suppliers, purchase orders, cXML) shares.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::backoff;
use crate::config::CoupaClientConfig;
use crate::error::CoupaError;
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
    base: String,
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
        let http = reqwest::Client::builder()
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
                    token::fetch(
                        &self.http,
                        &url,
                        &self.cfg.client_id,
                        &self.cfg.client_secret,
                        &self.cfg.scopes,
                        self.cfg.timeout,
                        generation,
                    )
                    .await
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
                Err(e) if e.is_retryable() && attempt + 1 < self.cfg.max_attempts.max(1) => {
                    tracing::warn!(what, attempt, error = %e, "Coupa call failed; retrying");
                    self.pause_before_retry(attempt, &e).await?;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}
