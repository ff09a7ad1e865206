//! What the REST endpoint answers when it cannot take a request, through the running server
//! over real HTTP: a failure says which part of the gateway failed (still 503 + Retry-After),
//! and a body over the limit gets the endpoint's own JSON stating the limit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use futures::future::BoxFuture;
use gateway_core::{IngestError, IngestReport, IngestRequest, PartnerProfile};
use gateway_http::{AppState, DocumentLookup, DocumentStatus, IdempotencyStore, StoredResponse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A pipeline whose every ingest fails with `error`.
struct Failing {
    partners: Vec<PartnerProfile>,
    error: IngestError,
}

impl gateway_core::Ingest for Failing {
    fn ingest<'a>(
        &'a self,
        _req: IngestRequest<'a>,
    ) -> BoxFuture<'a, Result<IngestReport, IngestError>> {
        let e = self.error.clone();
        Box::pin(async move { Err(e) })
    }
    fn partners(&self) -> &[PartnerProfile] {
        &self.partners
    }
    fn ready(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
}

struct Nothing;

impl IdempotencyStore for Nothing {
    fn get(&self, _: &str, _: &str) -> Result<Option<StoredResponse>, String> {
        Ok(None)
    }
    fn put(&self, _: &str, _: &str, _: &StoredResponse) -> Result<(), String> {
        Ok(())
    }
}

impl DocumentLookup for Nothing {
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

/// Serves the REST router over a pipeline failing with `error`, limit `max_body` bytes.
async fn server(error: IngestError, max_body: usize) -> std::net::SocketAddr {
    server_with(error, max_body, gateway_http::ServeOptions::default()).await
}

/// [`server`] with the listener's `options`.
async fn server_with(
    error: IngestError,
    max_body: usize,
    options: gateway_http::ServeOptions,
) -> std::net::SocketAddr {
    let ingest = Arc::new(Failing {
        partners: vec![PartnerProfile {
            id: "acme".into(),
            api_token: Some(gateway_core::Secret::new("acme-token")),
            ..PartnerProfile::default()
        }],
        error,
    });
    let state = AppState::new(ingest, Arc::new(Nothing), Arc::new(Nothing));
    let app = gateway_http::router(state, max_body);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(gateway_http::serve(
        listener,
        app,
        options,
        std::future::pending::<()>(),
    ));
    addr
}

/// POSTs `body` to `/api/v1/documents` as acme; the raw answer (head and body).
async fn post(addr: std::net::SocketAddr, body: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/documents HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer acme-token\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    // The server may answer a body over the limit before reading it all.
    let _ = s.write_all(body).await;
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// The ledger could not record the document (a full disk): the sender is told that, not
/// "the bus is unavailable", and still gets a retryable 503 with Retry-After; the detail
/// (the database's own message) stays in the log.
#[tokio::test]
async fn a_ledger_failure_is_named_in_the_rest_answer() {
    let addr = server(
        gateway_http::not_taken(
            "the gateway's document ledger could not record it",
            "document ledger: database or disk is full",
        ),
        1 << 20,
    )
    .await;
    let answer = post(addr, b"{}").await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("\r\nretry-after: 5\r\n"),
        "{answer}"
    );
    assert!(
        answer.contains("not accepted: the gateway's document ledger could not record it; send again (correlation id "),
        "{answer}"
    );
    assert!(!answer.contains("bus"), "blames the bus: {answer}");
    assert!(
        !answer.contains("disk is full"),
        "internal detail: {answer}"
    );
}

/// An error not made by `not_taken` (its text may be internal) is not handed to the sender.
#[tokio::test]
async fn an_unexplained_failure_is_not_passed_on_verbatim() {
    let addr = server(
        IngestError("/var/lib/gateway/ledger.sqlite: locked".into()),
        1 << 20,
    )
    .await;
    let answer = post(addr, b"{}").await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.contains("not accepted: the gateway could not take it over right now; send again"),
        "{answer}"
    );
    assert!(!answer.contains("/var/lib"), "{answer}");
}

/// A body over `max_body_bytes` gets the REST endpoint's own JSON error stating the limit,
/// not axum's plain "Failed to buffer the request body".
#[tokio::test]
async fn a_body_over_the_limit_gets_json_naming_the_limit() {
    let addr = server(IngestError("unused".into()), 4096).await;
    let answer = post(addr, &vec![b' '; 10_000]).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{answer}"
    );
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(body.trim()).expect(body);
    let message = v["error"].as_str().unwrap_or_default();
    assert!(
        message.contains("the limit is 4096 bytes ([http] max_body_bytes)"),
        "{message}"
    );
    assert!(!answer.contains("Failed to buffer"), "{answer}");
}

/// A body that does not arrive within the request timeout gets 408 with the endpoint's own
/// JSON naming the setting and saying nothing was accepted (it was an empty 408).
#[tokio::test]
async fn a_body_slower_than_the_request_timeout_gets_json_naming_the_setting() {
    let addr = server_with(
        IngestError("unused".into()),
        1 << 20,
        gateway_http::ServeOptions {
            request_timeout: std::time::Duration::from_millis(200),
            ..gateway_http::ServeOptions::default()
        },
    )
    .await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(
        b"POST /api/v1/documents HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer acme-token\r\n\
          Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"schema_version\"",
    )
    .await
    .unwrap();
    // The rest never comes: the server answers once the timeout has passed.
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(body.trim()).expect(body);
    let message = v["error"].as_str().unwrap_or_default();
    assert!(
        message.contains("within 200 ms ([http] request_timeout_ms); nothing was accepted"),
        "{message}"
    );
}

/// The bus has not confirmed the documents yet but may: the sender is not told that nothing
/// was accepted (its documents may well be), but to send again for the answer.
#[tokio::test]
async fn an_unconfirmed_publish_is_not_called_nothing_accepted() {
    let addr = server(
        gateway_http::not_taken(
            &format!("{} (waited 300 ms)", gateway_core::ingest::UNCONFIRMED),
            "timeout",
        ),
        1 << 20,
    )
    .await;
    let answer = post(addr, b"{}").await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.contains("not accepted yet: the gateway's message bus has not confirmed it yet (waited 300 ms); send it again shortly"),
        "{answer}"
    );
}
