//! OAuth 2.0 client credentials: `POST /oauth2/token` with form fields `client_id`,
//! `client_secret`, `grant_type=client_credentials` and space-separated `scope`. The token is
//! cached and refreshed `token_refresh_margin` before it expires; a 401 invalidates it.

use std::time::{Duration, Instant};

use gateway_core::Secret;
use serde::Deserialize;

use crate::error::{CoupaError, TokenRefusal};

/// A cached access token. The value is a [`Secret`]: never logged.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub value: Secret,
    pub fetched_at: Instant,
    pub expires_at: Instant,
    /// Increases with every fetch, so a 401 only invalidates the token it was sent with.
    pub generation: u64,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Coupa's documented lifetime when the answer omits `expires_in` (86,399 s).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(86_399);

/// The cache; one refresh at a time (the async mutex serialises fetchers).
#[derive(Debug, Default)]
pub struct TokenCache {
    current: tokio::sync::Mutex<Option<AccessToken>>,
}

impl TokenCache {
    /// The cached token when still fresh, else a newly fetched one, handed out no sooner
    /// than `activation` after it was fetched (callers wait meanwhile, holding nothing else).
    pub async fn get<F, Fut>(
        &self,
        margin: Duration,
        activation: Duration,
        fetch: F,
    ) -> Result<AccessToken, CoupaError>
    where
        F: FnOnce(u64) -> Fut,
        Fut: std::future::Future<Output = Result<AccessToken, CoupaError>>,
    {
        let mut cur = self.current.lock().await;
        if let Some(t) = cur.as_ref()
            && Instant::now() + margin < t.expires_at
        {
            return Ok(t.clone());
        }
        let generation = cur.as_ref().map_or(1, |t| t.generation + 1);
        let t = fetch(generation).await?;
        tokio::time::sleep(activation.saturating_sub(t.fetched_at.elapsed())).await;
        *cur = Some(t.clone());
        Ok(t)
    }

    /// Drops the token of `generation` (after a 401), unless a newer one replaced it already.
    pub async fn invalidate(&self, generation: u64) {
        let mut cur = self.current.lock().await;
        if cur.as_ref().is_some_and(|t| t.generation == generation) {
            *cur = None;
        }
    }
}

/// Requests a token. A 4xx (but 429) is [`CoupaError::TokenRefused`]: bad client credentials
/// or scopes, which only a configuration fix changes; 5xx, 429 and transport trouble are
/// retryable at once.
pub async fn fetch(
    http: &reqwest::Client,
    url: &str,
    client_id: &str,
    secret: &Secret,
    scopes: &[String],
    timeout: Duration,
    generation: u64,
) -> Result<AccessToken, CoupaError> {
    let scope = scopes.join(" ");
    let form = [
        ("client_id", client_id),
        ("client_secret", secret.expose()),
        ("grant_type", "client_credentials"),
        ("scope", scope.as_str()),
    ];
    let resp = http
        .post(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&form)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| crate::transport::classify(&e))?;
    let status = resp.status().as_u16();
    if resp.status().is_redirection() {
        return Err(CoupaError::Redirected {
            status,
            location: crate::transport::redirect_location(resp.headers()),
        });
    }
    let body = crate::transport::read_bounded(resp, crate::transport::MAX_ANSWER_BYTES).await?;
    if status >= 500 || status == 429 {
        return Err(CoupaError::Server {
            status,
            body: crate::transport::clip(&body),
        });
    }
    if !(200..300).contains(&status) {
        return Err(CoupaError::TokenRefused(TokenRefusal::from_answer(
            status, &body,
        )));
    }
    let answer: TokenAnswer = serde_json::from_str(&body)
        .map_err(|e| CoupaError::Decode(format!("token answer: {e}")))?;
    let now = Instant::now();
    let lifetime = answer
        .expires_in
        .map_or(DEFAULT_LIFETIME, Duration::from_secs);
    Ok(AccessToken {
        value: Secret::new(answer.access_token),
        fetched_at: now,
        expires_at: now + lifetime,
        generation,
    })
}
