//! Coupa-shaped answers: JSON records, `{"errors": {"<resource>": [..]}}` bodies and cXML
//! `Response/Status` documents.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A JSON answer with `Content-Type: application/json`.
pub fn json(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Coupa's JSON error body: `{"errors": {"invoice": ["..."]}}`.
pub fn errors(status: StatusCode, resource: &str, messages: Vec<String>) -> Response {
    json(status, json!({ "errors": { resource: messages } }))
}

/// One error message.
pub fn error(status: StatusCode, resource: &str, message: &str) -> Response {
    errors(status, resource, vec![message.to_string()])
}

/// 429 with `Retry-After` in seconds (our assumption: Coupa documents no 429 headers).
pub fn too_many(retry_after: u64) -> Response {
    let mut r = error(
        StatusCode::TOO_MANY_REQUESTS,
        "request",
        "Rate limit exceeded (25 requests per second, burst 20)",
    );
    if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// Escapes text for an XML attribute or element.
pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// A cXML `Response` with `Status@code`/`@text` and an optional message; the HTTP status is
/// separate (Coupa answers errors with matching HTTP codes, success with 200).
pub fn cxml_status(http: StatusCode, code: u16, text: &str, message: &str) -> Response {
    let now = chrono::Utc::now();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<cXML payloadID=\"{}.{}@sandbox.coupahost.invalid\" xml:lang=\"en-US\" timestamp=\"{}\"><Response><Status code=\"{}\" text=\"{}\">{}</Status></Response></cXML>\n",
        now.timestamp(),
        fastrand::u32(..),
        now.format("%Y-%m-%dT%H:%M:%S+00:00"),
        code,
        xml_escape(text),
        xml_escape(message)
    );
    (
        http,
        [(header::CONTENT_TYPE, "text/xml; charset=UTF-8")],
        body,
    )
        .into_response()
}
