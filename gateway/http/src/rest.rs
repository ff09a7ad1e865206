//! `POST /api/v1/documents`: canonical JSON (one document, an array, or JSON Lines).
//!
//! Authentication: `Authorization: Bearer <token>` matching a partner profile's `api_token`
//! (the scheme in any case, as RFC 9110 §11.1 has it).
//! Answers (JSON body listing accepted, duplicates and rejects with their locations; each
//! reject with the `doc_id` of the ledger row that keeps it, so it can be followed like an
//! accepted document):
//! 202 every document accepted (or already received: duplicates are reported, never
//! re-published); 207 Multi-Status some documents accepted (or already received) and some
//! rejected: the accepted ones go on to delivery and must not be sent again, only the rejects,
//! fixed (a 4xx here was read by clients as "nothing happened", and the accepted ones were
//! sent twice); 422 every document rejected, nothing accepted; 400 a body (or `document`
//! field) holding no document, or a form that cannot be read; 401 bad token (with
//! `WWW-Authenticate: Bearer`); 409 same `Idempotency-Key` still in flight (with
//! `Retry-After`); 415 a body sent with a `Content-Encoding` (gzip, ...), which the endpoint
//! does not decode, or declared in a character set other than UTF-8 and not UTF-8; 422 same
//! key, other body (a JSON body is compared byte for byte, a multipart/form-data one by its
//! parts, not its boundary);
//! 413 a body over `max_body_bytes` (the limit stated); 408 a body that did not arrive within
//! the request timeout (the setting named), nothing taken; 503 the gateway could not take it over
//! (the bus did not confirm, the ledger could not record it: the answer names which): nothing
//! was accepted, send again.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gateway_core::{Format, IngestReport, IngestRequest, PartnerProfile};
use serde_json::json;

use crate::idempotency::{StoredResponse, body_hash};
use crate::{AppState, correlation_id};

pub(crate) fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    json_response(status, &json!({ "error": message }))
}

/// The token of an `Authorization: Bearer <token>` header. The scheme is matched without
/// regard to case (RFC 9110 §11.1: `bearer`, `BEARER` are `Bearer`); `None` for another
/// scheme or no token. Every endpoint a partner authenticates to by its `api_token` reads it
/// here (REST, and `POST /x12`).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once([' ', '\t'])?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The 401 answer to a request without a known bearer token, with the `WWW-Authenticate`
/// challenge RFC 9110 §11.6.1 requires (RFC 6750: `error="invalid_token"` when a token was
/// sent but is not one of a partner's), so an HTTP client knows which credentials to send.
pub(crate) fn unauthorized(headers: &HeaderMap) -> Response {
    let mut resp = error(
        StatusCode::UNAUTHORIZED,
        "missing or unknown bearer token: send `Authorization: Bearer <api_token of your partner profile>`",
    );
    resp.headers_mut()
        .insert(header::WWW_AUTHENTICATE, bearer_challenge(headers));
    resp
}

/// The `WWW-Authenticate` challenge of a 401 to a request without a known bearer token (RFC
/// 9110 §11.6.1; RFC 6750 `error="invalid_token"` when a token was sent), so an HTTP client
/// knows which credentials to send: REST's and `POST /x12`'s alike.
pub fn bearer_challenge(headers: &HeaderMap) -> HeaderValue {
    if bearer_token(headers).is_some() {
        HeaderValue::from_static("Bearer realm=\"coupa-gateway\", error=\"invalid_token\"")
    } else {
        HeaderValue::from_static("Bearer realm=\"coupa-gateway\"")
    }
}

/// The 415 answer to a body sent with a `Content-Encoding` other than `identity` (`gzip`,
/// `br`), naming it: the endpoint does not decode bodies, and reading compressed bytes as JSON
/// answered "not valid JSON" about a body that may be fine. `None` when there is none.
fn refused_encoding(headers: &HeaderMap) -> Option<Response> {
    let encodings: Vec<&str> = headers
        .get_all(header::CONTENT_ENCODING)
        .iter()
        .map(|v| v.to_str().unwrap_or("(not readable)"))
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("identity"))
        .collect();
    if encodings.is_empty() {
        return None;
    }
    let mut resp = error(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        &format!(
            "the body is sent with Content-Encoding: {}, which this endpoint does not decode: send the JSON (or form) as it is, without a Content-Encoding; nothing was accepted",
            encodings.join(", ")
        ),
    );
    // RFC 9110 §15.5.16: what the endpoint takes instead.
    resp.headers_mut().insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    Some(resp)
}

/// The 415 answer to a body its `Content-Type` declares in a character set other than UTF-8
/// (`charset=iso-8859-1`) that is not UTF-8 either: canonical JSON is UTF-8 (RFC 8259), and
/// such a body was answered "invalid unicode code point", which did not say why. A body
/// declared so that is UTF-8 all the same (plain ASCII) is read. `None` when it may be read.
fn refused_charset(content_type: &str, body: &[u8]) -> Option<Response> {
    let charset = content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"'))
    })?;
    if ["utf-8", "utf8", "us-ascii", "ascii"]
        .iter()
        .any(|c| charset.eq_ignore_ascii_case(c))
    {
        return None;
    }
    let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    let bad = std::str::from_utf8(body).err()?.valid_up_to();
    let line = 1 + body[..bad].iter().filter(|&&b| b == b'\n').count();
    let column = bad
        - body[..bad]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |n| n + 1)
        + 1;
    Some(error(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        &format!(
            "the body must be UTF-8 (canonical JSON is UTF-8, RFC 8259): it is declared charset={charset}, and byte 0x{:02X} at line {line} column {column} is not UTF-8; convert it to UTF-8 and send it again, declared charset=utf-8 or with no charset; nothing was accepted",
            body[bad]
        ),
    ))
}

/// The partner whose API token the request carries.
pub(crate) fn authenticate<'a>(
    state: &'a AppState,
    headers: &HeaderMap,
) -> Option<&'a PartnerProfile> {
    let token = bearer_token(headers)?;
    state
        .ingest
        .partners()
        .iter()
        .find(|p| p.api_token.as_ref().is_some_and(|t| t.matches(token)))
}

/// Renders an ingest report and picks the status: 202 all taken, 207 some taken (accepted or
/// received before) and some rejected, 422 nothing taken.
pub fn report_response(report: &IngestReport) -> (StatusCode, serde_json::Value) {
    let body = json!({
        "accepted": report.accepted.iter().map(|a| json!({
            "doc_id": a.doc_id, "kind": a.kind, "number": a.number, "partner": a.partner,
            "idempotency_key": a.idempotency_key,
            "same_business_key_as": a.same_business_key_as,
            "notes": a.notes,
            "attachments": a.attachments,
        })).collect::<Vec<_>>(),
        "duplicates": report.duplicates.iter().map(|d| json!({
            "doc_id": d.doc_id, "number": d.number, "status": d.status,
            "idempotency_key": d.idempotency_key,
        })).collect::<Vec<_>>(),
        "rejects": report.rejects.iter().enumerate().map(|(i, r)| json!({
            "location": r.location, "message": r.message, "document": r.document,
            "doc_id": report.reject_doc_ids.get(&i),
        })).collect::<Vec<_>>(),
    });
    let status = if report.rejects.is_empty() {
        StatusCode::ACCEPTED
    } else if report.accepted.is_empty() && report.duplicates.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::MULTI_STATUS
    };
    (status, body)
}

/// The answer to a request whose body holds no document.
const NO_DOCUMENT: &str = "the request holds no document: send canonical JSON (one document, an array of them, or JSON Lines) as the body, or multipart/form-data with it in a field named `document`; nothing was accepted";

/// True when `json` holds no document at all: nothing but white space (after a UTF-8 byte
/// order mark), or only empty arrays (`[]`, `[ ]` as JSON Lines). Anything else goes to the
/// pipeline, which accepts or rejects it with the reason.
fn holds_no_document(json: &[u8]) -> bool {
    let json = json.strip_prefix(b"\xef\xbb\xbf").unwrap_or(json);
    let mut open = false;
    for &b in json {
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b'[' if !open => open = true,
            b']' if open => open = false,
            _ => return false,
        }
    }
    !open
}

/// The answer already due to a request with `key` in `scope` whose body hashes to `hash`:
/// the first answer again (same body), 422 (another body), 503 (the store failed); `None`
/// when there is none yet and the request is to be processed.
fn earlier_answer(state: &AppState, scope: &str, key: &str, hash: &str) -> Option<Response> {
    match state.idempotency.get(scope, key) {
        Ok(Some(stored)) if stored.body_hash == hash => {
            let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
            Some(
                (
                    status,
                    [(header::CONTENT_TYPE, "application/json")],
                    stored.body,
                )
                    .into_response(),
            )
        }
        Ok(Some(_)) => Some(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "this Idempotency-Key was used with a different body; use a new key for a new request",
        )),
        Ok(None) => None,
        Err(e) => {
            let id = correlation_id();
            tracing::error!(adapter = "rest", correlation_id = %id, error = %e, "idempotency store failed");
            Some(crate::unavailable(error(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("temporarily unavailable, retry (correlation id {id})"),
            )))
        }
    }
}

pub async fn post_documents(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(rejection) => {
            let (status, reason) = crate::body_refused("rest", &rejection, state.max_body_bytes);
            return error(status, &reason);
        }
    };
    let Some(partner) = authenticate(&state, &headers) else {
        crate::count_refused("rest");
        return unauthorized(&headers);
    };
    if let Some(refused) = refused_encoding(&headers) {
        crate::count_refused("rest");
        return refused;
    }
    // A client whose file read failed sends nothing (or `[]`): refused, never answered
    // "accepted" with nothing in it.
    if holds_no_document(&body) {
        crate::count_refused("rest");
        return error(StatusCode::BAD_REQUEST, NO_DOCUMENT);
    }
    // The document alone, or the document and its files as multipart/form-data; and what
    // the request says, for its `Idempotency-Key`: a JSON body byte for byte, a form by its
    // parts (a retry comes with a new boundary).
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !crate::form::is_form(content_type)
        && let Some(refused) = refused_charset(content_type, &body)
    {
        crate::count_refused("rest");
        return refused;
    }
    let (document, files, hash) = if crate::form::is_form(content_type) {
        match crate::form::read_form(content_type, body).await {
            Ok(form) if holds_no_document(&form.document) => {
                crate::count_refused("rest");
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!("the `document` field is empty (or only `[]`): {NO_DOCUMENT}"),
                );
            }
            Ok(form) => (Bytes::from(form.document), form.files, form.request_hash),
            Err(why) => {
                crate::count_refused("rest");
                return error(StatusCode::BAD_REQUEST, &why);
            }
        }
    } else {
        let hash = body_hash(&body);
        (body, Vec::new(), hash)
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let scope = format!("rest:{}", partner.id);
    let mut held = state.in_flight.holder();
    if let Some(key) = &key {
        if key.is_empty() || key.len() > 255 {
            return error(
                StatusCode::BAD_REQUEST,
                "Idempotency-Key must be 1 to 255 characters",
            );
        }
        if let Some(answer) = earlier_answer(&state, &scope, key, &hash) {
            return answer;
        }
        // Released when this request ends, however it ends: a client that went away or a
        // request timeout drops this future, and its retry must not be refused for good.
        if !held.take(&format!("{scope}\n{key}")) {
            // When to ask again: by then the first request has its answer, which the retry
            // gets (a client without a delay hammered the endpoint).
            let mut resp = error(
                StatusCode::CONFLICT,
                &format!(
                    "a request with this Idempotency-Key is still being processed; retry in {} seconds with the same key and body to get its answer",
                    crate::RETRY_AFTER_SECS
                ),
            );
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(crate::RETRY_AFTER_SECS),
            );
            return resp;
        }
        // Looked up again now that the key is held: the first request may have stored its
        // answer and released the key between the look-up above and the hold, and this copy
        // would otherwise be processed a second time (a second document, a second answer).
        if let Some(answer) = earlier_answer(&state, &scope, key, &hash) {
            return answer;
        }
    }
    let result = state
        .ingest
        .ingest(IngestRequest {
            raw: &document,
            adapter: "rest",
            format: Some(Format::Json),
            partner: Some(partner),
            source: None,
            files: &files,
            notes: &[],
        })
        .await;
    let response = match result {
        Ok(report) => {
            // Counted by the pipeline, as for every channel.
            for a in &report.accepted {
                tracing::info!(adapter = "rest", partner = %a.partner, doc_id = %a.doc_id, kind = %a.kind, number = %a.number, "accepted");
            }
            let (status, body) = report_response(&report);
            let bytes = body.to_string().into_bytes();
            if let Some(key) = &key {
                let stored = StoredResponse {
                    body_hash: hash,
                    status: status.as_u16(),
                    body: bytes.clone(),
                };
                if let Err(e) = state.idempotency.put(&scope, key, &stored) {
                    tracing::warn!(adapter = "rest", error = %e, "cannot store idempotent response");
                }
            }
            (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response()
        }
        Err(e) => {
            let id = correlation_id();
            let reason = crate::not_taken_reason(&e);
            tracing::warn!(adapter = "rest", partner = %partner.id, correlation_id = %id, error = %e, "not accepted: {reason}");
            // When it may be taken after all, the retry's answer says whether it was.
            let answer = if e.may_be_taken() {
                format!(
                    "not accepted yet: {reason}; send it again shortly, with the same Idempotency-Key, and the answer will say whether it was taken (correlation id {id})"
                )
            } else {
                format!("not accepted: {reason}; send again (correlation id {id})")
            };
            crate::unavailable(error(StatusCode::SERVICE_UNAVAILABLE, &answer))
        }
    };
    drop(held);
    response
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::body::Body;
    use axum::http::Request;
    use futures::future::BoxFuture;
    use gateway_core::{IngestError, IngestReport, IngestRequest, PartnerProfile};
    use tower::ServiceExt;

    use crate::{AppState, DocumentLookup, DocumentStatus, IdempotencyStore, StoredResponse};

    /// The pipeline as the REST handler sees it: the first request never ends (a publish the
    /// bus does not confirm), later ones are accepted at once.
    struct FirstRequestHangs {
        partners: Vec<PartnerProfile>,
        calls: AtomicUsize,
        entered: tokio::sync::Notify,
    }

    impl gateway_core::Ingest for FirstRequestHangs {
        fn ingest<'a>(
            &'a self,
            _req: IngestRequest<'a>,
        ) -> BoxFuture<'a, Result<IngestReport, IngestError>> {
            let first = self.calls.fetch_add(1, Ordering::SeqCst) == 0;
            Box::pin(async move {
                if first {
                    self.entered.notify_one();
                    std::future::pending::<()>().await;
                }
                Ok(IngestReport::default())
            })
        }
        fn partners(&self) -> &[PartnerProfile] {
            &self.partners
        }
        fn ready(&self) -> BoxFuture<'_, Result<(), String>> {
            Box::pin(async { Ok(()) })
        }
    }

    /// Remembers no answers, so each request with the key reaches the in-flight check.
    struct NothingStored;

    impl IdempotencyStore for NothingStored {
        fn get(&self, _: &str, _: &str) -> Result<Option<StoredResponse>, String> {
            Ok(None)
        }
        fn put(&self, _: &str, _: &str, _: &StoredResponse) -> Result<(), String> {
            Ok(())
        }
    }

    impl DocumentLookup for NothingStored {
        fn documents(
            &self,
            _: &str,
            _: Option<&str>,
            _: Option<&str>,
            _: u32,
        ) -> Result<Vec<DocumentStatus>, String> {
            Ok(Vec::new())
        }
    }

    fn post(key: &str) -> Request<Body> {
        Request::post("/api/v1/documents")
            .header("authorization", "Bearer acme-token")
            .header("idempotency-key", key)
            .body(Body::from("{}"))
            .unwrap_or_default()
    }

    /// A request cancelled while it runs (its client went away, its timeout fired: the server
    /// drops its future) releases its `Idempotency-Key`. Before, the key stayed "in flight"
    /// and every retry with it was refused with 409 until the process restarted.
    #[tokio::test]
    async fn a_cancelled_request_releases_its_idempotency_key() {
        let ingest = Arc::new(FirstRequestHangs {
            partners: vec![PartnerProfile {
                id: "acme".into(),
                api_token: Some(gateway_core::Secret::new("acme-token")),
                ..PartnerProfile::default()
            }],
            calls: AtomicUsize::new(0),
            entered: tokio::sync::Notify::new(),
        });
        let state = AppState::new(
            ingest.clone(),
            Arc::new(NothingStored),
            Arc::new(NothingStored),
        );
        let app = crate::router(state, 1 << 20);
        let first = tokio::spawn(app.clone().oneshot(post("k-1")));
        ingest.entered.notified().await;
        let copy = app.clone().oneshot(post("k-1")).await;
        assert_eq!(
            copy.map(|r| r.status().as_u16()).ok(),
            Some(409),
            "a copy is refused while the first runs"
        );
        first.abort();
        assert!(first.await.is_err_and(|e| e.is_cancelled()));
        let retry = app.oneshot(post("k-1")).await;
        assert_eq!(
            retry.map(|r| r.status().as_u16()).ok(),
            Some(202),
            "the retry after the cancelled request is taken"
        );
    }
}
