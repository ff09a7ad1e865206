//! One authenticated JSON exchange with Coupa: rate limit, bearer token (one refresh and
//! resend on 401), `Accept`/`Content-Type: application/json`, and the status → error mapping.
//! Retrying is the caller's business ([`crate::client::CoupaClient::retrying`]).

use std::time::Instant;

use reqwest::Method;
use serde_json::Value;

use crate::backoff;
use crate::client::CoupaClient;
use crate::error::CoupaError;
use crate::stats::Counters;

/// Longest error body kept in an error (Coupa's bodies are short; a proxy's HTML may not be).
const MAX_BODY: usize = 4_000;

pub fn clip(body: &str) -> String {
    if body.len() <= MAX_BODY {
        return body.to_string();
    }
    let mut end = MAX_BODY;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", body.get(..end).unwrap_or(""))
}

/// The most of one Coupa answer that is read. Coupa's lists come in pages of 50 documents
/// (a page of full purchase orders is a few MB at most), its other answers are one document;
/// an answer longer than this is not Coupa's (a misconfigured proxy, a hostile endpoint), and
/// reading on would let it fill the gateway's memory, so reading stops here.
pub const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;

/// Reads `resp`'s body as text (UTF-8; bytes that are not are replaced, as
/// `reqwest::Response::text` does), stopping once it passes `limit` bytes, or at once when its
/// `Content-Length` says it will. An answer over the limit is [`CoupaError::Transport`] with
/// the request sent: retryable, and ambiguous (its status came, so Coupa may have acted; a
/// create looks before creating again), naming the limit.
pub(crate) async fn read_bounded(
    resp: reqwest::Response,
    limit: usize,
) -> Result<String, CoupaError> {
    let status = resp.status().as_u16();
    match read_body_bounded(resp, limit)
        .await
        .map_err(|e| classify(&e))?
    {
        Bounded::Whole(body) => Ok(match String::from_utf8(body) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }),
        Bounded::TooLarge(_) => Err(CoupaError::Transport {
            message: format!(
                "Coupa's answer (HTTP {status}) is larger than {limit} bytes, the most the gateway reads of one, so reading stopped there"
            ),
            sent: true,
        }),
    }
}

/// A body read with a bound ([`read_body_bounded`]).
#[derive(Debug)]
pub enum Bounded {
    /// All of it, within the bound.
    Whole(Vec<u8>),
    /// It is longer than the bound (announced so, or found so while reading): what was read
    /// of it, at most the bound.
    TooLarge(Vec<u8>),
}

/// Reads `response`'s body, stopping once it passes `limit` bytes (or at once when its
/// `Content-Length` says it will): an endless or huge answer cannot fill the process's
/// memory. The one bounded reader of an HTTP answer, for Coupa's and for a supplier's.
pub async fn read_body_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Bounded, reqwest::Error> {
    if response
        .content_length()
        .is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX))
    {
        return Ok(Bounded::TooLarge(Vec::new()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = limit.saturating_sub(body.len());
        if chunk.len() > room {
            body.extend_from_slice(chunk.get(..room).unwrap_or_default());
            return Ok(Bounded::TooLarge(body));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bounded::Whole(body))
}

/// Where every HTTP client the gateway sends with starts (Coupa's, the suppliers', the
/// readiness probe): redirects are never followed. Followed, a 307/308 re-sent the whole
/// request (a cXML OrderRequest with its SharedSecret, an invoice, the token request with the
/// client secret) to whatever host the `Location` named, and its answer counted as the
/// target's. A 3xx is an answer like any other, which each caller turns into a failure naming
/// the status and the `Location` ([`redirect_location`]).
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none())
}

/// The `Location` of a 3xx answer, redacted as every URL the gateway writes down
/// ([`gateway_core::redact_url`]), or `no Location` when it has none.
pub fn redirect_location(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get(reqwest::header::LOCATION)
        .map(|l| gateway_core::redact_url(&String::from_utf8_lossy(l.as_bytes())))
        .unwrap_or_else(|| "no Location".to_string())
}

/// Sorts a reqwest error into timeout / transport, noting whether the request left. The URL
/// in reqwest's message is redacted ([`gateway_core::redact_url`]): a transport error's text
/// goes to logs and dead letters.
pub fn classify(e: &reqwest::Error) -> CoupaError {
    let sent = !e.is_connect() && !e.is_builder();
    if e.is_timeout() {
        CoupaError::Timeout { sent }
    } else {
        // With its causes: `error sending request` alone does not tell Coupa being down
        // (`Connection refused`) from a DNS, TLS or proxy problem.
        let mut message = gateway_core::with_causes(e);
        if let Some(url) = e.url() {
            message = message.replace(url.as_str(), &gateway_core::redact_url(url.as_str()));
        }
        CoupaError::Transport { message, sent }
    }
}

/// Coupa's error strings from `{"errors": {"invoice": ["..", ..]}}` (or a list, or a string).
pub fn error_messages(body: &str) -> Vec<String> {
    fn collect(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
            Value::Object(o) => o.values().for_each(|x| collect(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    match serde_json::from_str::<Value>(body) {
        Ok(v) => collect(v.get("errors").unwrap_or(&v), &mut out),
        Err(_) if !body.trim().is_empty() => out.push(clip(body.trim())),
        Err(_) => {}
    }
    out
}

/// What a request carries.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Payload<'a> {
    Empty,
    Json(&'a Value),
    /// One file as `multipart/form-data` (`file_field`), after text `fields`, the way Coupa's
    /// attachment endpoints take it.
    File {
        fields: &'a [(&'a str, &'a str)],
        file_field: &'a str,
        file_name: &'a str,
        content_type: &'a str,
        bytes: &'a [u8],
    },
}

impl Payload<'_> {
    /// `req` with this payload (built again for each send: a form cannot be cloned).
    fn apply(self, req: reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, CoupaError> {
        Ok(match self {
            Payload::Empty => req.header(reqwest::header::CONTENT_TYPE, "application/json"),
            Payload::Json(b) => req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(b).map_err(|e| CoupaError::Mapping(e.to_string()))?),
            Payload::File {
                fields,
                file_field,
                file_name,
                content_type,
                bytes,
            } => {
                let part = reqwest::multipart::Part::bytes(bytes.to_vec())
                    .file_name(file_name.to_string())
                    .mime_str(content_type)
                    .map_err(|e| {
                        CoupaError::Mapping(format!("content type {content_type}: {e}"))
                    })?;
                let mut form = reqwest::multipart::Form::new();
                for (k, v) in fields {
                    form = form.text(k.to_string(), v.to_string());
                }
                req.multipart(form.part(file_field.to_string(), part))
            }
        })
    }
}

/// What one exchange produced.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl CoupaClient {
    /// Sends once with the current token; on 401 refreshes the token and sends once more.
    pub(crate) async fn exchange(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        payload: Payload<'_>,
    ) -> Result<Answer, CoupaError> {
        let mut refreshed = false;
        loop {
            let token = self.token().await?;
            self.limiter.acquire().await;
            Counters::bump(&self.counters.requests);
            let mut req = self
                .http
                .request(method.clone(), self.url(path))
                .header(reqwest::header::ACCEPT, "application/json")
                .bearer_auth(token.value.expose())
                .timeout(self.cfg.timeout);
            if !query.is_empty() {
                req = req.query(query);
            }
            req = payload.apply(req)?;
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    let err = classify(&e);
                    if matches!(err, CoupaError::Timeout { .. }) {
                        Counters::bump(&self.counters.timeouts);
                    }
                    return Err(err);
                }
            };
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let text = read_bounded(resp, MAX_ANSWER_BYTES).await?;
            if status == 401 && !refreshed {
                Counters::bump(&self.counters.unauthorized_refreshes);
                tracing::info!(path, "Coupa answered 401; refreshing the token once");
                self.tokens.invalidate(token.generation).await;
                refreshed = true;
                continue;
            }
            return Ok(Answer {
                status,
                headers,
                body: text,
            });
        }
    }

    /// [`Self::exchange`] then maps the status: 2xx → parsed JSON (`Null` when empty),
    /// anything else → the matching [`CoupaError`]. A 429 pauses the whole client until its
    /// `Retry-After`.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<Value, CoupaError> {
        let payload = body.map_or(Payload::Empty, Payload::Json);
        self.call_with(method, path, query, payload).await
    }

    /// [`Self::call`] with any [`Payload`] (a file upload).
    pub(crate) async fn call_with(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        payload: Payload<'_>,
    ) -> Result<Value, CoupaError> {
        let a = self.exchange(method, path, query, payload).await?;
        match a.status {
            200..=299 => {
                if a.body.trim().is_empty() {
                    Ok(Value::Null)
                } else {
                    serde_json::from_str(&a.body).map_err(|e| CoupaError::Decode(e.to_string()))
                }
            }
            429 => {
                Counters::bump(&self.counters.rate_limited);
                let retry_after = backoff::retry_after(&a.headers);
                if let Some(wait) = retry_after {
                    self.limiter
                        .pause_until(Instant::now() + wait.min(self.cfg.max_retry_after));
                }
                Err(CoupaError::RateLimited { retry_after })
            }
            500..=599 => {
                Counters::bump(&self.counters.server_errors);
                Err(CoupaError::Server {
                    status: a.status,
                    body: clip(&a.body),
                })
            }
            400 | 417 | 422 => Err(CoupaError::Validation {
                status: a.status,
                messages: error_messages(&a.body),
                body: clip(&a.body),
            }),
            300..=399 => Err(CoupaError::Redirected {
                status: a.status,
                location: redirect_location(&a.headers),
            }),
            401 => Err(CoupaError::Unauthorized(clip(&a.body))),
            403 => Err(CoupaError::Forbidden(clip(&a.body))),
            404 => Err(CoupaError::NotFound(clip(&a.body))),
            status => Err(CoupaError::UnexpectedStatus {
                status,
                body: clip(&a.body),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// QA: a Coupa that was down dead-lettered invoices with "error sending request for url
    /// (...)" and nothing more, so the operator could not tell it from a DNS or TLS problem.
    #[tokio::test]
    async fn a_refused_connection_is_named_with_its_cause_and_no_secret() {
        // A port nothing listens on: bound, then let go.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let http = client_builder().build().unwrap();
        let e = http
            .get(format!("http://127.0.0.1:{port}/api/invoices?token=s3cret"))
            .send()
            .await
            .unwrap_err();
        match classify(&e) {
            CoupaError::Transport { message, sent } => {
                assert!(!sent, "{message}");
                assert!(
                    message.to_lowercase().contains("connection refused"),
                    "{message}"
                );
                assert!(!message.contains("s3cret"), "{message}");
            }
            other => panic!("not a transport error: {other:?}"),
        }
    }
}
