//! What `POST /api/v1/documents` (and the `GET`s beside it) answer, through the router over a
//! recording pipeline and an in-memory idempotency store: a multipart retry with the same
//! `Idempotency-Key` gets the first answer although its boundary is new; copies racing with the
//! same key get one answer and make one document; a body holding no document is refused; the
//! bearer scheme is read case-insensitively.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use futures::future::BoxFuture;
use gateway_core::{Accepted, IngestError, IngestReport, IngestRequest, PartnerProfile};
use gateway_http::{AppState, DocumentLookup, DocumentStatus, IdempotencyStore, StoredResponse};
use tower::ServiceExt;

/// A pipeline that accepts whatever it is given as one new document (doc ids `doc-1`,
/// `doc-2`, ...) and keeps what it was given.
struct Recording {
    partners: Vec<PartnerProfile>,
    calls: AtomicUsize,
    /// The raw document and the names of its files, per call.
    seen: Mutex<Vec<(Vec<u8>, Vec<String>)>>,
}

impl gateway_core::Ingest for Recording {
    fn ingest<'a>(
        &'a self,
        req: IngestRequest<'a>,
    ) -> BoxFuture<'a, Result<IngestReport, IngestError>> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.seen.lock().unwrap().push((
            req.raw.to_vec(),
            req.files.iter().map(|f| f.name.clone()).collect(),
        ));
        Box::pin(async move {
            Ok(IngestReport {
                accepted: vec![Accepted {
                    doc_id: format!("doc-{n}"),
                    idempotency_key: format!("idem-{n}"),
                    kind: "invoice".into(),
                    number: "INV-1".into(),
                    partner: "acme".into(),
                    same_business_key_as: None,
                    notes: Vec::new(),
                    attachments: Vec::new(),
                }],
                ..IngestReport::default()
            })
        })
    }
    fn partners(&self) -> &[PartnerProfile] {
        &self.partners
    }
    fn ready(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
}

/// First answers kept in memory; the first one stored for a key stays (as the ledger's
/// `INSERT OR IGNORE`).
#[derive(Default)]
struct Memory {
    answers: Mutex<HashMap<(String, String), StoredResponse>>,
}

impl IdempotencyStore for Memory {
    fn get(&self, scope: &str, key: &str) -> Result<Option<StoredResponse>, String> {
        let found = self
            .answers
            .lock()
            .unwrap()
            .get(&(scope.to_string(), key.to_string()))
            .cloned();
        // As a database read, the answer is already old when the caller gets it: let other
        // threads run meanwhile.
        std::thread::yield_now();
        Ok(found)
    }
    fn put(&self, scope: &str, key: &str, response: &StoredResponse) -> Result<(), String> {
        self.answers
            .lock()
            .unwrap()
            .entry((scope.to_string(), key.to_string()))
            .or_insert_with(|| response.clone());
        Ok(())
    }
}

struct NoDocuments;

impl DocumentLookup for NoDocuments {
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

fn gateway() -> (Router, Arc<Recording>) {
    gateway_with(Arc::new(Memory::default()))
}

fn gateway_with(store: Arc<dyn IdempotencyStore>) -> (Router, Arc<Recording>) {
    let ingest = Arc::new(Recording {
        partners: vec![PartnerProfile {
            id: "acme".into(),
            api_token: Some(gateway_core::Secret::new("acme-token")),
            ..PartnerProfile::default()
        }],
        calls: AtomicUsize::new(0),
        seen: Mutex::new(Vec::new()),
    });
    let state = AppState::new(ingest.clone(), store, Arc::new(NoDocuments));
    (gateway_http::router(state, 1 << 20), ingest)
}

/// Status and body of the answer to `request`.
async fn send(app: &Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn post_json(key: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut r = Request::post("/api/v1/documents")
        .header("authorization", "Bearer acme-token")
        .header("content-type", "application/json");
    if let Some(key) = key {
        r = r.header("idempotency-key", key);
    }
    r.body(body.into()).unwrap()
}

/// One part of a form: field name, file name, content type, content.
type Part<'a> = (&'a str, Option<&'a str>, &'a str, &'a [u8]);

/// A `multipart/form-data` POST of `parts` framed with `boundary`, as a client (curl -F) makes
/// it.
fn post_form(key: &str, boundary: &str, parts: &[Part<'_>]) -> Request<Body> {
    let mut body = Vec::new();
    for (name, file_name, content_type, content) in parts {
        let disposition = match file_name {
            Some(f) => format!("form-data; name=\"{name}\"; filename=\"{f}\""),
            None => format!("form-data; name=\"{name}\""),
        };
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Request::post("/api/v1/documents")
        .header("authorization", "Bearer acme-token")
        .header("idempotency-key", key)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap()
}

const DOC: &[u8] = br#"{"kind":"invoice","schema_version":1,"number":"R3"}"#;
const PDF: &[u8] = b"%PDF-1.7\n\x00\xff binary \r\n--not-a-boundary\r\n";

/// A retry of a multipart/form-data request with the same `Idempotency-Key` gets the first
/// answer, although the client framed it with a new boundary (every client does); a form
/// that says something else (another file, another file name, another document, a part
/// more) is still refused with 422. Before, the key was checked against the raw body,
/// boundary included, and every such retry got 422.
#[tokio::test]
async fn a_multipart_retry_with_a_new_boundary_gets_the_first_answer() {
    let (app, ingest) = gateway();
    let parts: [Part<'_>; 2] = [
        ("document", Some("r3.json"), "application/json", DOC),
        ("file", Some("R3.pdf"), "application/pdf", PDF),
    ];
    let (status, first) = send(
        &app,
        post_form("k-r3", "------------------------a1b2c3", &parts),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    let (status, again) = send(
        &app,
        post_form("k-r3", "------------------------ffee99887766", &parts),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    assert_eq!(again, first, "the first answer, word for word");
    assert_eq!(
        ingest.calls.load(Ordering::SeqCst),
        1,
        "the retry made no new document"
    );

    let other_pdf: [Part<'_>; 2] = [
        parts[0],
        ("file", Some("R3.pdf"), "application/pdf", b"%PDF-1.7 other"),
    ];
    let other_name: [Part<'_>; 2] = [parts[0], ("file", Some("R4.pdf"), "application/pdf", PDF)];
    let other_type: [Part<'_>; 2] = [parts[0], ("file", Some("R3.pdf"), "image/png", PDF)];
    let other_doc: [Part<'_>; 2] = [
        (
            "document",
            Some("r3.json"),
            "application/json",
            br#"{"kind":"invoice","number":"R4"}"#,
        ),
        parts[1],
    ];
    let no_file: [Part<'_>; 1] = [parts[0]];
    let one_more: [Part<'_>; 3] = [
        parts[0],
        parts[1],
        ("file", Some("R3b.pdf"), "application/pdf", PDF),
    ];
    let reordered: [Part<'_>; 2] = [parts[1], parts[0]];
    let cases: [(&str, &[Part<'_>]); 7] = [
        ("another PDF", &other_pdf),
        ("another file name", &other_name),
        ("another content type", &other_type),
        ("another document", &other_doc),
        ("the file left out", &no_file),
        ("a file more", &one_more),
        ("the parts in another order", &reordered),
    ];
    for (what, form) in cases {
        let (status, answer) = send(&app, post_form("k-r3", "b0undary", form)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {answer}");
        assert!(answer.contains("different body"), "{what}: {answer}");
    }
    assert_eq!(ingest.calls.load(Ordering::SeqCst), 1);
}

/// JSON bodies are compared byte for byte, as before: the same bytes replay, other bytes are
/// another body.
#[tokio::test]
async fn a_json_retry_is_compared_by_its_bytes() {
    let (app, ingest) = gateway();
    let (status, first) = send(&app, post_json(Some("k-j"), DOC)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    let (status, again) = send(&app, post_json(Some("k-j"), DOC)).await;
    assert_eq!((status, &again), (StatusCode::ACCEPTED, &first));
    let (status, other) = send(&app, post_json(Some("k-j"), [DOC, b" "].concat())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{other}");
    assert_eq!(ingest.calls.load(Ordering::SeqCst), 1);
}

/// Copies of one request with the same `Idempotency-Key`, sent at once: every one is answered
/// with the first answer or told the first is still running (409); never a second, different
/// "accepted" with a new document. Before, a copy that looked the key up just before the first
/// stored its answer and released its hold took the hold itself and was processed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_copies_with_one_key_get_one_answer_and_make_one_document() {
    const KEYS: usize = 300;
    const COPIES: usize = 8;
    let (app, ingest) = gateway();
    for k in 0..KEYS {
        let key = format!("race-{k}");
        let barrier = Arc::new(tokio::sync::Barrier::new(COPIES));
        let copies: Vec<_> = (0..COPIES)
            .map(|_| {
                let (app, key, barrier) = (app.clone(), key.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    send(&app, post_json(Some(&key), DOC)).await
                })
            })
            .collect();
        let mut accepted = HashSet::new();
        for copy in copies {
            let (status, body) = copy.await.unwrap();
            match status {
                StatusCode::ACCEPTED => {
                    accepted.insert(body);
                }
                StatusCode::CONFLICT => {}
                other => panic!("{key}: {other} {body}"),
            }
        }
        assert_eq!(
            accepted.len(),
            1,
            "{key}: one answer for all copies, got {accepted:#?}"
        );
        assert_eq!(
            ingest.calls.load(Ordering::SeqCst),
            k + 1,
            "{key}: one document per key"
        );
    }
}

/// A store whose first look-up, once it has read (nothing stored yet), waits until the test
/// lets it go: the copy that looked the key up before the first request stored its answer.
struct FirstLookupHeld {
    inner: Memory,
    entered: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    release: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
}

impl IdempotencyStore for FirstLookupHeld {
    fn get(&self, scope: &str, key: &str) -> Result<Option<StoredResponse>, String> {
        let found = self.inner.get(scope, key);
        let release = self.release.lock().unwrap().take();
        if let Some(release) = release {
            if let Some(entered) = self.entered.lock().unwrap().take() {
                let _ = entered.send(());
            }
            // Ends when the test lets go, or fails (its sender dropped).
            let _ = release.recv();
        }
        found
    }
    fn put(&self, scope: &str, key: &str, response: &StoredResponse) -> Result<(), String> {
        self.inner.put(scope, key, response)
    }
}

/// The interleaving of the race, made to happen: a copy looks the key up (nothing yet), the
/// first request then runs to its end (answer stored, key released), and only then does the
/// copy go on. It gets the first answer; before, it took the free key and made a second
/// document with a second "accepted".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_that_looked_up_before_the_first_answer_was_stored_gets_that_answer() {
    let (entered_tx, entered) = tokio::sync::oneshot::channel();
    let (release, release_rx) = std::sync::mpsc::channel();
    let (app, ingest) = gateway_with(Arc::new(FirstLookupHeld {
        inner: Memory::default(),
        entered: Mutex::new(Some(entered_tx)),
        release: Mutex::new(Some(release_rx)),
    }));
    let copy = tokio::spawn({
        let app = app.clone();
        async move { send(&app, post_json(Some("k-race"), DOC)).await }
    });
    entered.await.unwrap();
    let (status, first) = send(&app, post_json(Some("k-race"), DOC)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    release.send(()).unwrap();
    let (status, copy) = copy.await.unwrap();
    assert_eq!(status, StatusCode::ACCEPTED, "{copy}");
    assert_eq!(copy, first, "the copy gets the first answer");
    assert_eq!(ingest.calls.load(Ordering::SeqCst), 1, "one document");
}

/// A body holding no document (empty, white space, an empty array, empty arrays as JSON
/// Lines), as a client whose file read failed sends, is refused with 400 saying so; it never
/// reaches the pipeline, whose empty report was answered 202 "accepted" before.
#[tokio::test]
async fn a_body_without_a_document_is_refused() {
    let (app, ingest) = gateway();
    let bodies: [&[u8]; 7] = [
        b"",
        b"   ",
        b"\r\n\t\n",
        b"\xef\xbb\xbf\n",
        b"[]",
        b" [ ]\n",
        b"[]\n[]\n",
    ];
    for body in bodies {
        let (status, answer) = send(&app, post_json(None, body.to_vec())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}: {answer}");
        let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
        let message = v["error"].as_str().unwrap_or_default();
        assert!(message.contains("no document"), "{body:?}: {message}");
        assert!(message.contains("canonical JSON"), "{body:?}: {message}");
    }
    assert_eq!(ingest.calls.load(Ordering::SeqCst), 0);

    // The same with an Idempotency-Key: the refusal is not kept, the key stays free.
    let (status, _) = send(&app, post_json(Some("k-e"), "")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, answer) = send(&app, post_json(Some("k-e"), DOC)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");

    // Something to read goes on to the pipeline, which decides.
    for body in [&b"{}"[..], b"[{}]", b"[[]]", b"["] {
        let (status, answer) = send(&app, post_json(None, body.to_vec())).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body:?}: {answer}");
    }
    assert_eq!(ingest.calls.load(Ordering::SeqCst), 5);
}

/// A multipart/form-data request without a document (no `document` part, an empty one, one
/// holding an empty array, no part at all, an empty body) is refused with 400 saying so.
#[tokio::test]
async fn a_form_without_a_document_is_refused() {
    let (app, ingest) = gateway();
    let file: Part<'_> = ("file", Some("R3.pdf"), "application/pdf", PDF);
    let forms: [&[Part<'_>]; 5] = [
        &[file],
        &[("document", None, "application/json", b""), file],
        &[
            ("document", Some("r3.json"), "application/json", b" \n"),
            file,
        ],
        &[("document", None, "application/json", b"[]"), file],
        &[],
    ];
    for form in forms {
        let (status, answer) = send(&app, post_form("k-f", "XyZ", form)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form:?}: {answer}");
        assert!(answer.contains("no document"), "{form:?}: {answer}");
    }
    let empty = Request::post("/api/v1/documents")
        .header("authorization", "Bearer acme-token")
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(Body::empty())
        .unwrap();
    let (status, answer) = send(&app, empty).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer.contains("no document"), "{answer}");
    assert_eq!(ingest.calls.load(Ordering::SeqCst), 0);
}

fn with_authorization(method: &str, uri: &str, authorization: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", authorization)
        .header("content-type", "application/json")
        .body(Body::from(DOC))
        .unwrap()
}

/// The auth scheme is case-insensitive (RFC 9110 §11.1): `bearer`, `BEARER` are `Bearer`, on
/// every endpoint that takes the token. A wrong token, another scheme or no token is still
/// 401, and the answer never repeats what was sent.
#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_everywhere() {
    let (app, ingest) = gateway();
    let endpoints = [
        ("POST", "/api/v1/documents", StatusCode::ACCEPTED),
        ("GET", "/api/v1/documents?number=R3", StatusCode::OK),
        ("GET", "/api/v1/documents/doc-1", StatusCode::NOT_FOUND),
    ];
    for (method, uri, expected) in endpoints {
        for authorization in [
            "Bearer acme-token",
            "bearer acme-token",
            "BEARER acme-token",
            "bEaReR  acme-token ",
        ] {
            let (status, answer) = send(&app, with_authorization(method, uri, authorization)).await;
            assert_eq!(
                status, expected,
                "{method} {uri} with {authorization:?}: {answer}"
            );
        }
        for authorization in [
            "bearer not-the-token",
            "Basic acme-token",
            "bearerx acme-token",
            "Bearer",
            "bearer ",
            "acme-token",
        ] {
            let (status, answer) = send(&app, with_authorization(method, uri, authorization)).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {uri} with {authorization:?}: {answer}"
            );
            assert!(
                !answer.contains("acme-token") && !answer.contains("not-the-token"),
                "the token is echoed: {answer}"
            );
        }
    }
    assert_eq!(ingest.calls.load(Ordering::SeqCst), 4);
}
