//! What `POST /api/v1/documents` answers about what it was sent, through the router over a
//! pipeline whose report is chosen per test: the status says whether anything was taken
//! (202 all, 207 some, 422 none), each reject carries the doc id of its ledger row, and the
//! refusals made before the pipeline say what to do (401 with its challenge, 409 with when to
//! ask again, 415 naming the encoding or the character set).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use futures::future::BoxFuture;
use gateway_core::{
    Accepted, Duplicate, IngestError, IngestReport, IngestRequest, PartnerProfile, Reject,
};
use gateway_http::{AppState, DocumentLookup, DocumentStatus, IdempotencyStore, StoredResponse};
use serde_json::Value;
use tower::ServiceExt;

/// A pipeline that answers every request with `report`, or never answers while `hang` is set.
struct Scripted {
    partners: Vec<PartnerProfile>,
    report: Mutex<IngestReport>,
    calls: AtomicUsize,
    hang: bool,
    entered: tokio::sync::Notify,
}

impl gateway_core::Ingest for Scripted {
    fn ingest<'a>(
        &'a self,
        _req: IngestRequest<'a>,
    ) -> BoxFuture<'a, Result<IngestReport, IngestError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let report = self.report.lock().unwrap().clone();
        Box::pin(async move {
            if self.hang {
                self.entered.notify_one();
                std::future::pending::<()>().await;
            }
            Ok(report)
        })
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

fn scripted(report: IngestReport, hang: bool) -> (Router, Arc<Scripted>) {
    let ingest = Arc::new(Scripted {
        partners: vec![PartnerProfile {
            id: "acme".into(),
            api_token: Some(gateway_core::Secret::new("acme-token")),
            ..PartnerProfile::default()
        }],
        report: Mutex::new(report),
        calls: AtomicUsize::new(0),
        hang,
        entered: tokio::sync::Notify::new(),
    });
    let state = AppState::new(ingest.clone(), Arc::new(Nothing), Arc::new(Nothing));
    (gateway_http::router(state, 1 << 20), ingest)
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn post(headers: &[(&str, &str)], body: impl Into<Body>) -> Request<Body> {
    let mut r = Request::post("/api/v1/documents");
    for (name, value) in headers {
        r = r.header(*name, *value);
    }
    r.body(body.into()).unwrap()
}

const TOKEN: (&str, &str) = ("authorization", "Bearer acme-token");
const JSON: (&str, &str) = ("content-type", "application/json");
const DOC: &[u8] = br#"{"schema_version":1,"kind":"invoice","invoice_number":"R-1"}"#;

fn accepted(number: &str) -> Accepted {
    Accepted {
        doc_id: format!("doc-{number}"),
        idempotency_key: format!("key-{number}"),
        kind: "invoice".into(),
        number: number.into(),
        partner: "acme".into(),
        same_business_key_as: None,
        notes: Vec::new(),
        attachments: Vec::new(),
    }
}

fn rejected(number: &str) -> Reject {
    Reject {
        location: "document 2, $.lines[0].quantity".into(),
        message: "invalid decimal".into(),
        document: Some(number.into()),
    }
}

/// A body with one good and one bad invoice was answered 422 while the good one was taken
/// and went on to Coupa: a client reading 4xx as "nothing happened" sent it again. Some
/// taken and some rejected is 207 (the body as before); none taken is 422; all taken 202.
/// Each reject carries the doc id of the ledger row that keeps it.
#[tokio::test]
async fn the_status_says_whether_anything_was_taken() {
    let mut reject_ids = std::collections::BTreeMap::new();
    reject_ids.insert(0, "doc-bad".to_string());
    let mixed = IngestReport {
        accepted: vec![accepted("OK-1")],
        rejects: vec![rejected("BAD-2")],
        reject_doc_ids: reject_ids.clone(),
        ..IngestReport::default()
    };
    let (app, _) = scripted(mixed, false);
    let (status, _, answer) = send(&app, post(&[TOKEN, JSON], DOC)).await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{answer}");
    let v: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(v["accepted"][0]["number"], "OK-1");
    assert_eq!(v["rejects"][0]["document"], "BAD-2");
    assert_eq!(v["rejects"][0]["doc_id"], "doc-bad");

    // Received before (a duplicate) counts as taken: it must not be sent again either.
    let duplicate = IngestReport {
        duplicates: vec![Duplicate {
            doc_id: "doc-old".into(),
            idempotency_key: "key-old".into(),
            status: "delivered".into(),
            number: "OLD-1".into(),
        }],
        rejects: vec![rejected("BAD-2")],
        ..IngestReport::default()
    };
    let (app, _) = scripted(duplicate, false);
    let (status, _, answer) = send(&app, post(&[TOKEN, JSON], DOC)).await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{answer}");
    let v: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(v["rejects"][0]["doc_id"], Value::Null, "no row, no id");

    let none = IngestReport {
        rejects: vec![rejected("BAD-2"), rejected("BAD-2")],
        reject_doc_ids: [(0, "doc-bad".to_string()), (1, "doc-bad".to_string())]
            .into_iter()
            .collect(),
        ..IngestReport::default()
    };
    let (app, _) = scripted(none, false);
    let (status, _, answer) = send(&app, post(&[TOKEN, JSON], DOC)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let v: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(v["rejects"][1]["doc_id"], "doc-bad");

    let all = IngestReport {
        accepted: vec![accepted("OK-1"), accepted("OK-2")],
        ..IngestReport::default()
    };
    let (app, _) = scripted(all, false);
    let (status, _, answer) = send(&app, post(&[TOKEN, JSON], DOC)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
}

/// A 401 says which credentials to send (`WWW-Authenticate: Bearer`, RFC 9110 §11.6.1), on
/// every endpoint; a token that was sent but is no partner's is `invalid_token` (RFC 6750).
#[tokio::test]
async fn a_401_carries_its_bearer_challenge() {
    let (app, ingest) = scripted(IngestReport::default(), false);
    for uri in ["/api/v1/documents", "/api/v1/documents/doc-1"] {
        for (authorization, challenge) in [
            (None, "Bearer realm=\"coupa-gateway\""),
            (
                Some("Bearer wrong"),
                "Bearer realm=\"coupa-gateway\", error=\"invalid_token\"",
            ),
            (Some("Basic YWNtZTp4"), "Bearer realm=\"coupa-gateway\""),
        ] {
            let method = if uri.ends_with("doc-1") {
                "GET"
            } else {
                "POST"
            };
            let mut r = Request::builder().method(method).uri(uri);
            if let Some(a) = authorization {
                r = r.header("authorization", a);
            }
            let (status, headers, answer) = send(&app, r.body(Body::from(DOC)).unwrap()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
            assert_eq!(
                headers
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok()),
                Some(challenge),
                "{method} {uri} {authorization:?}"
            );
        }
    }
    assert_eq!(ingest.calls.load(Ordering::SeqCst), 0);
}

/// A copy sent while the first request with its `Idempotency-Key` still runs is told when to
/// ask again (`Retry-After`), not only "later".
#[tokio::test]
async fn a_409_says_when_to_retry() {
    let (app, ingest) = scripted(IngestReport::default(), true);
    let key = ("idempotency-key", "k-1");
    let first = tokio::spawn(app.clone().oneshot(post(&[TOKEN, JSON, key], DOC)));
    ingest.entered.notified().await;
    let (status, headers, answer) = send(&app, post(&[TOKEN, JSON, key], DOC)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(
        headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("5")
    );
    assert!(answer.contains("retry in 5 seconds"), "{answer}");
    first.abort();
}

/// A compressed body was read as JSON and answered "not valid JSON": it is refused with 415
/// naming the encoding (and `Accept-Encoding: identity`), and never reaches the pipeline.
#[tokio::test]
async fn a_body_with_a_content_encoding_is_refused_naming_it() {
    let (app, ingest) = scripted(IngestReport::default(), false);
    for encoding in ["gzip", "br", "identity, gzip", "x-custom"] {
        let request = post(
            &[TOKEN, JSON, ("content-encoding", encoding)],
            b"\x1f\x8b\x08\x00".to_vec(),
        );
        let (status, headers, answer) = send(&app, request).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{answer}");
        let named = encoding.rsplit(", ").next().unwrap_or(encoding);
        assert!(
            answer.contains(&format!("Content-Encoding: {named}")),
            "{answer}"
        );
        assert_eq!(
            headers.get("accept-encoding").and_then(|v| v.to_str().ok()),
            Some("identity")
        );
    }
    assert_eq!(ingest.calls.load(Ordering::SeqCst), 0);
    // `identity` is no encoding at all.
    let (status, _, answer) = send(
        &app,
        post(&[TOKEN, JSON, ("content-encoding", "identity")], DOC),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
}

/// A body declared in another character set that is not UTF-8 was answered "invalid unicode
/// code point": 415, saying the body must be UTF-8 and where the first byte that is not is.
/// Declared so but UTF-8 all the same (plain ASCII), it is read.
#[tokio::test]
async fn a_body_that_is_not_utf8_is_refused_saying_it_must_be() {
    let (app, ingest) = scripted(IngestReport::default(), false);
    let latin1 = b"{\"kind\":\"invoice\",\n\"invoice_number\":\"Caf\xe9\"}".to_vec();
    let declared = ("content-type", "application/json; charset=ISO-8859-1");
    let (status, _, answer) = send(&app, post(&[TOKEN, declared], latin1)).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{answer}");
    assert!(
        answer.contains("the body must be UTF-8")
            && answer.contains("charset=ISO-8859-1")
            && answer.contains("byte 0xE9 at line 2 column 22"),
        "{answer}"
    );
    assert_eq!(ingest.calls.load(Ordering::SeqCst), 0);
    let quoted = ("content-type", "application/json; charset=\"windows-1252\"");
    let (status, _, answer) = send(&app, post(&[TOKEN, quoted], DOC)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let utf8 = ("content-type", "application/json; charset=utf-8");
    let (status, _, answer) = send(&app, post(&[TOKEN, utf8], DOC)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
}
