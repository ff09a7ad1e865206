//! OAuth 2.0 client credentials (`POST /oauth2/token`) and bearer-token checks with scopes
//! enforced per route.

use std::collections::HashMap;
use std::time::Instant;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::json;

use crate::reply;
use crate::server::SharedState;
use crate::store::IssuedToken;

/// Most live tokens kept; the oldest are dropped past this so memory stays bounded.
const MAX_TOKENS: usize = 10_000;

fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    reply::json(
        status,
        json!({ "error": code, "error_description": description }),
    )
}

/// `POST /oauth2/token`: form fields `client_id`, `client_secret`,
/// `grant_type=client_credentials`, space-separated `scope`.
pub async fn token(
    State(s): State<SharedState>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    let id = form.get("client_id").map(String::as_str).unwrap_or("");
    let secret = form.get("client_secret").map(String::as_str).unwrap_or("");
    let Some(client) = s
        .clients
        .iter()
        .find(|c| c.client_id == id && c.client_secret.matches(secret))
    else {
        s.store().stats.unauthorized += 1;
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    };
    let requested: Vec<String> = form
        .get("scope")
        .map(|sc| sc.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    if let Some(bad) = requested.iter().find(|r| !client.scopes.contains(r)) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &format!("scope {bad} is not granted to this client"),
        );
    }
    let scopes = if requested.is_empty() {
        client.scopes.clone()
    } else {
        requested
    };
    let value = format!("sbx.{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    let ttl = s.token_ttl;
    {
        let mut store = s.store();
        let now = Instant::now();
        store.tokens.retain(|_, t| t.expires_at > now);
        if store.tokens.len() >= MAX_TOKENS {
            store.tokens.clear();
        }
        store.tokens.insert(
            value.clone(),
            IssuedToken {
                scopes: scopes.clone(),
                expires_at: now + ttl,
                usable_at: now + s.token_activation,
            },
        );
        store.stats.tokens_issued += 1;
    }
    reply::json(
        StatusCode::OK,
        json!({
            "access_token": value,
            "token_type": "bearer",
            "expires_in": ttl.as_secs(),
            "scope": scopes.join(" "),
        }),
    )
}

/// Checks `Authorization: Bearer <token>`: 401 when missing, unknown or expired, 403 when the
/// token lacks every one of `any_scope`.
#[allow(clippy::result_large_err)]
pub fn authorize(s: &SharedState, headers: &HeaderMap, any_scope: &[&str]) -> Result<(), Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let store = s.store();
    let Some(t) = token.and_then(|t| store.tokens.get(t)) else {
        return Err(reply::error(
            StatusCode::UNAUTHORIZED,
            "token",
            "Invalid or missing access token",
        ));
    };
    let now = Instant::now();
    if t.expires_at <= now {
        return Err(reply::error(
            StatusCode::UNAUTHORIZED,
            "token",
            "Access token has expired",
        ));
    }
    if now < t.usable_at {
        return Err(reply::error(
            StatusCode::UNAUTHORIZED,
            "token",
            "Access token is not active yet: wait a few seconds after generating it",
        ));
    }
    if !any_scope
        .iter()
        .any(|need| t.scopes.iter().any(|h| h == need))
    {
        return Err(reply::error(
            StatusCode::FORBIDDEN,
            "token",
            &format!("Access token lacks scope {}", any_scope.join(" or ")),
        ));
    }
    Ok(())
}
