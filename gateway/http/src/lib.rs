//! The gateway's HTTP front door: `POST /api/v1/documents` (canonical JSON) and `GET` of what
//! became of them, the protocol
//! endpoints mounted by the server (`/cxml`, `/x12`), `GET /healthz`, `GET /readyz`,
//! `GET /metrics`; with body limits, header-read and request timeouts, graceful shutdown and
//! TLS (rustls) when a certificate is configured.
//!
//! Every endpoint answers success only after the bus confirmed the publish: handlers go through
//! [`gateway_core::Ingest`], which returns only then.

pub mod form;
mod health;
mod idempotency;
mod rest;
mod serve;
mod status;
pub mod tls;

pub use idempotency::{IdempotencyStore, StoredResponse};
pub use rest::{bearer_challenge, bearer_token};
pub use serve::{ServeOptions, serve};
pub use status::{DocumentLookup, DocumentStatus, PoPurpose, PoVersion};

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use gateway_core::{Ingest, IngestError};

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub ingest: Arc<dyn Ingest>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub documents: Arc<dyn DocumentLookup>,
    /// `Idempotency-Key`s of REST requests running now (per partner scope).
    in_flight: gateway_core::in_flight::InFlightKeys,
    /// The body limit [`router`] was given, for the 413 answer to state it.
    max_body_bytes: usize,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(
        ingest: Arc<dyn Ingest>,
        idempotency: Arc<dyn IdempotencyStore>,
        documents: Arc<dyn DocumentLookup>,
    ) -> Self {
        AppState {
            ingest,
            idempotency,
            documents,
            in_flight: gateway_core::in_flight::InFlightKeys::default(),
            max_body_bytes: 0,
        }
    }
}

/// The core routes; the server merges the protocol routes (`/cxml`, `/x12`) into it.
pub fn router(mut state: AppState, max_body_bytes: usize) -> Router {
    state.max_body_bytes = max_body_bytes;
    Router::new()
        .route(
            "/api/v1/documents",
            axum::routing::post(rest::post_documents).get(status::list_documents),
        )
        .route(
            "/api/v1/documents/{id}",
            axum::routing::get(status::get_document),
        )
        .route("/healthz", axum::routing::get(health::healthz))
        .route("/readyz", axum::routing::get(health::readyz))
        .route("/metrics", axum::routing::get(health::metrics))
        .with_state(state)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn(count_oversized))
}

/// Counts an input refused before it reached the pipeline (bad credentials, an unknown
/// sender, a body over the limit) in `gateway_documents_rejected_total`, kind `unknown`, as
/// the pipeline counts what it cannot read: the rejection alert then sees a partner whose
/// configuration broke as well as one whose documents did.
pub fn count_refused(adapter: &str) {
    gateway_core::metrics::count(
        gateway_core::metrics::Counter::Rejected,
        adapter,
        "unknown",
        1,
    );
}

/// Counts the 413s the body limit answers (axum answers them before any handler runs), under
/// the adapter of the route (`cxml`, `x12`, else `rest`). Layered on every inbound router.
pub async fn count_oversized(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let adapter = match request.uri().path() {
        "/cxml" => "cxml",
        "/x12" => "x12",
        _ => "rest",
    };
    let response = next.run(request).await;
    if response.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        count_refused(adapter);
    }
    response
}

/// A correlation id for an error answer: logged with the details, returned without them.
pub fn correlation_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// How long a sender should wait before sending again after a 503, in seconds: long enough
/// for the bus to reconnect after a broker restart, short enough not to hold documents back.
pub const RETRY_AFTER_SECS: u32 = 5;

/// Makes `resp` a 503 Service Unavailable with `Retry-After`: the answer to every request
/// the gateway could not take over (the bus did not confirm), so that HTTP clients and
/// proxies know nothing was accepted and the same request may be sent again.
pub fn unavailable(mut resp: axum::response::Response) -> axum::response::Response {
    *resp.status_mut() = axum::http::StatusCode::SERVICE_UNAVAILABLE;
    resp.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from(RETRY_AFTER_SECS),
    );
    resp
}

/// Between what a sender is told and the detail for the log only, in an [`IngestError`]
/// made by [`not_taken`].
const DETAIL: &str = " | detail: ";

/// An [`IngestError`] for a request the gateway could not take over: `what` failed, in words
/// the sender is given (the gateway's part that failed, never a path or an internal message),
/// and `detail` for the log only. [`not_taken_reason`] reads `what` back.
pub fn not_taken(what: &str, detail: &str) -> IngestError {
    IngestError(format!("{what}{DETAIL}{detail}"))
}

/// What a sender is told about `e`: the part [`not_taken`] gave for it; an error made
/// otherwise says only that the gateway could not take the request over (its text may hold
/// internal detail).
pub fn not_taken_reason(e: &IngestError) -> &str {
    e.0.split_once(DETAIL).map_or(
        "the gateway could not take it over right now",
        |(what, _)| what,
    )
}

/// What failed in `e`, without the detail for the log (which may change from one attempt to
/// the next while the cause stays: the free space left, a count); the whole text of an error
/// not made by [`not_taken`]. For telling a new cause from the same one again.
pub fn not_taken_cause(e: &IngestError) -> &str {
    e.0.split_once(DETAIL)
        .map_or(e.0.as_str(), |(what, _)| what)
}

/// The status and the one-line answer to a body the endpoint could not read (`rejection`),
/// logged at warn under `adapter` (a limit the operators set is theirs to hear of): one over
/// the limit gets 413 naming the limit and `[http] max_body_bytes`; one that did not arrive
/// within the request timeout gets 408 naming `[http] request_timeout_ms` (the 408 used to be
/// empty, and logged nowhere); else axum's reason. Nothing of such a body was taken.
pub fn body_refused(
    adapter: &str,
    rejection: &axum::extract::rejection::BytesRejection,
    limit: usize,
) -> (axum::http::StatusCode, String) {
    use axum::http::StatusCode;
    let timed_out = std::iter::successors(
        std::error::Error::source(rejection),
        |e: &&(dyn std::error::Error + 'static)| e.source(),
    )
    .find_map(|e| e.downcast_ref::<serve::BodyTimedOut>().copied());
    let (status, setting, reason) = if let Some(timed_out) = timed_out {
        (
            StatusCode::REQUEST_TIMEOUT,
            "[http] request_timeout_ms",
            format!(
                "{timed_out}; nothing was accepted. Send it again over a faster link or in smaller requests (split the documents), or ask the gateway's operators to raise [http] request_timeout_ms"
            ),
        )
    } else if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "[http] max_body_bytes",
            format!(
                "the request body is larger than this gateway takes: the limit is {limit} bytes ([http] max_body_bytes); nothing was accepted. Send a smaller body (split the documents over several requests)"
            ),
        )
    } else {
        (
            rejection.status(),
            "",
            format!("cannot read the request body: {}", rejection.body_text()),
        )
    };
    if setting.is_empty() {
        tracing::info!(adapter, %status, %reason, "request body not read");
    } else {
        tracing::warn!(adapter, %status, setting, %reason, "request body refused");
    }
    (status, reason)
}
