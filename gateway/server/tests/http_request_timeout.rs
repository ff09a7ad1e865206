//! `[http] request_timeout_ms` bounds how long a sender may take to send its request, not the
//! work on a body received in full: through the running service, its real pipeline, ledger
//! and embedded bus, a `POST /x12` whose documents take longer than the timeout to claim and
//! publish is answered with its acknowledgment, a sender that goes away does not cut the work off, and
//! the same interchange sent again after a lost answer puts no copy on the bus. A body slower
//! than the timeout gets a 408 saying which setting cut it off, and nothing is taken.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use gateway_server::service::Running;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;

/// A partner sending X12 as `01:123456789` (GS02 `NEWCOGS`) to our `ZZ:GLOBEX`, with its
/// token ([`TOKEN`]).
const PARTNERS: &str = r#"
[[partners]]
id = "newco"
api_token = "newco-token"
[partners.coupa_supplier]
number = "NEW-1"
[partners.x12]
partner_qualifier = "01"
partner_id = "123456789"
partner_gs_id = "NEWCOGS"
our_qualifier = "ZZ"
our_id = "GLOBEX"
our_gs_id = "GLOBEXGS"
version = "005010"
"#;

/// newco's `api_token`, which `POST /x12` takes its interchanges with.
const TOKEN: &str = "newco-token";

/// The request timeout of these tests: far below what claiming and publishing [`SETS`]
/// invoices takes, so each test's work runs well past it.
const REQUEST_TIMEOUT_MS: u64 = 200;

/// Invoices in the interchange the tests post (about 250 KB).
const SETS: usize = 1500;

/// Keeps a broken service from hanging a test.
const GUARD: Duration = Duration::from_secs(120);

fn config(dir: &std::path::Path) -> gateway_server::config::Config {
    common::config(
        dir,
        &format!("request_timeout_ms = {REQUEST_TIMEOUT_MS}"),
        PARTNERS,
    )
}

/// The service on `dir`, with the request timeout above and the default publish timeout.
async fn started(dir: &std::path::Path) -> Running {
    common::started(config(dir)).await
}

/// One interchange from newco holding `sets` invoices, each numbered `<prefix>-<n>`.
fn interchange(prefix: &str, sets: usize) -> Vec<u8> {
    let mut x = String::from(
        "ISA*00*          *00*          *01*123456789      *ZZ*GLOBEX         *261201*1200*^*00501*000000701*0*P*:~\n\
         GS*IN*NEWCOGS*GLOBEXGS*20261201*1200*701*X*005010~\n",
    );
    for n in 1..=sets {
        x.push_str(&format!(
            "ST*810*{n:04}~\nBIG*20261201*{prefix}-{n}*20261130*PO-NEW-1~\nCUR*SE*USD~\n\
             N1*SU*Newco Fasteners*92*NEW-1~\nIT1*1*10*EA*1.5**VP*P1~\nPID*F****Bolt~\n\
             IT1*2*4*EA*2.25**VP*P2~\nPID*F****Nut~\nTDS*2400~\nCTT*2~\nSE*11*{n:04}~\n"
        ));
    }
    x.push_str(&format!("GE*{sets}*701~\nIEA*1*000000701~\n"));
    x.into_bytes()
}

/// Posts `body` to `/x12`: the status, the `x-gateway-result` header and the body.
async fn post_x12(base: &str, body: Vec<u8>) -> (u16, String, String) {
    let r = reqwest::Client::new()
        .post(format!("{base}/x12"))
        .bearer_auth(TOKEN)
        .body(body)
        .timeout(GUARD)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let result = r
        .headers()
        .get("x-gateway-result")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, result, r.text().await.unwrap())
}

/// Starts a `POST /x12` of `body` on `s` by hand: the request head, then only the first
/// `sent` bytes of the body.
async fn post_part(s: &mut tokio::net::TcpStream, body: &[u8], sent: usize) {
    s.write_all(
        format!(
            "POST /x12 HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    s.write_all(&body[..sent]).await.unwrap();
}

/// The messages on the embedded bus for Coupa, and how many different documents they are.
fn bus_messages(dir: &std::path::Path) -> (u64, u64) {
    let bus = rusqlite::Connection::open(dir.join("bus.sqlite")).unwrap();
    bus.query_row(
        "SELECT COUNT(*), COUNT(DISTINCT json_extract(envelope, '$.idempotency_key'))
         FROM messages WHERE consumer = 'coupa-invoices'",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

/// How many ledger rows have `status`, read from the ledger file.
fn rows(dir: &std::path::Path, status: &str) -> u64 {
    let ledger = rusqlite::Connection::open(dir.join("ledger.sqlite")).unwrap();
    ledger
        .query_row(
            "SELECT COUNT(*) FROM documents WHERE status = ?1",
            [status],
            |r| r.get(0),
        )
        .unwrap()
}

/// Every one of the `sets` invoices is on the bus exactly once, and every ledger row says it
/// is published.
fn taken_once(dir: &std::path::Path, sets: usize) {
    let sets = u64::try_from(sets).unwrap();
    assert_eq!(bus_messages(dir), (sets, sets), "messages, documents");
    assert_eq!(rows(dir, "published"), sets);
    assert_eq!(rows(dir, "received"), 0, "rows left unsettled");
}

/// `body` posted again to `base`: every invoice a duplicate, and still [`taken_once`].
async fn resent_adds_no_copy(base: &str, body: Vec<u8>, dir: &std::path::Path) {
    let (status, result, answer) = post_x12(base, body).await;
    all_duplicates(status, &result, &answer, SETS);
    taken_once(dir, SETS);
}

/// An answer of 200 finding all `sets` invoices received before.
fn all_duplicates(status: u16, result: &str, answer: &str, sets: usize) {
    assert_eq!(status, 200, "{result} {answer}");
    assert!(
        result.starts_with(&format!("accepted=0; duplicates={sets}; rejected=0")),
        "{result}"
    );
}

/// The QA run: a legitimate interchange whose claim and publish take longer than the
/// request timeout got an empty 408 while its invoices were taken anyway, and its resend put
/// every one on the bus a second time. Now the work is not cut: the answer is the acknowledgment, every
/// invoice is on the bus once, and the resend finds them all received before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_running_past_the_request_timeout_is_answered_and_taken_once() {
    let dir = tempfile::tempdir().unwrap();
    let running = started(dir.path()).await;
    let base = running.base_url();
    let body = interchange("LONG", SETS);

    let began = std::time::Instant::now();
    let (status, result, answer) = post_x12(&base, body.clone()).await;
    let took = began.elapsed();
    assert_eq!(status, 200, "{result} {answer}");
    assert!(
        took > Duration::from_millis(REQUEST_TIMEOUT_MS),
        "the work took {took:?}, not past the request timeout: the test proves nothing"
    );
    assert!(
        result.starts_with(&format!("accepted={SETS}; duplicates=0; rejected=0")),
        "{result}"
    );
    // The partner's acknowledgment (a 999, its version being 005010): every set accepted.
    assert!(
        answer.starts_with("ISA") && answer.contains("AK1*IN*701*"),
        "{answer}"
    );
    assert_eq!(answer.matches("IK5*A~").count(), SETS, "{answer}");
    taken_once(dir.path(), SETS);

    resent_adds_no_copy(&base, body, dir.path()).await;
    running.shutdown().await;
}

/// A sender that gives up waiting (its own timeout, a dropped link) used to drop the
/// request's work where it stood: rows left `received`, or published with the rows still
/// `received`, so that the resend published every invoice again. The work runs to its end on
/// its own (the service's shutdown waits for it), and the resend after the lost answer puts
/// nothing more on the bus.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_going_away_does_not_cut_the_work_and_its_resend_adds_no_copy() {
    let dir = tempfile::tempdir().unwrap();
    let running = started(dir.path()).await;
    let body = interchange("GONE", SETS);

    let gone = reqwest::Client::new()
        .post(format!("{}/x12", running.base_url()))
        .bearer_auth(TOKEN)
        .body(body.clone())
        .timeout(Duration::from_millis(REQUEST_TIMEOUT_MS / 2))
        .send()
        .await;
    assert!(
        gone.as_ref().is_err_and(reqwest::Error::is_timeout),
        "the sender was answered before it went away: {gone:?}"
    );
    // Shutdown drains: it returns once the work in flight has ended.
    running.shutdown().await;
    taken_once(dir.path(), SETS);

    let running = started(dir.path()).await;
    resent_adds_no_copy(&running.base_url(), body, dir.path()).await;
    running.shutdown().await;
}

/// A sender whose body does not arrive within the request timeout gets a 408 saying so and
/// naming the setting (it was an empty 408), and nothing of it is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_slower_than_the_request_timeout_gets_a_408_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let running = started(dir.path()).await;
    let body = interchange("SLOW", 2);
    let mut s = tokio::net::TcpStream::connect(running.http_addr)
        .await
        .unwrap();
    // Half the body, and then nothing: the server answers when the timeout has passed.
    post_part(&mut s, &body, body.len() / 2).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(GUARD, s.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "never answered");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let reason = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    assert!(
        reason.contains(&format!(
            "within {REQUEST_TIMEOUT_MS} ms ([http] request_timeout_ms)"
        )) && reason.contains("nothing was accepted"),
        "{answer}"
    );
    assert_eq!(reason.trim_end().lines().count(), 1, "one line: {reason}");
    assert_eq!(
        running.ledger.list(None, None, 10).unwrap().len(),
        0,
        "a request cut off while it was sent must take nothing"
    );
    running.shutdown().await;
}

/// A bus that does not confirm within `[bus] publish_timeout_ms` (here: the embedded bus's
/// file held locked, as a broker's memory alarm holds publishers) got the sender a 503 "send
/// again", and the publish it gave up was confirmed later all the same: the claims had been
/// released, so the resend published every document a second time. Now the publish goes on
/// holding its documents, the sender is told they may still be taken, a resend meanwhile is
/// told to retry, and once the bus confirmed, the resend finds them received: on the bus once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_the_bus_confirms_late_is_not_published_again_by_the_resend() {
    const LATE: usize = 20;
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(dir.path(), "", PARTNERS);
    config.bus.publish_timeout_ms = 300;
    let running = common::started(config).await;
    let base = running.base_url();
    let body = interchange("LATE", LATE);

    // The bus cannot write until the lock is let go (its busy timeout is 10 s).
    let lock = rusqlite::Connection::open(dir.path().join("bus.sqlite")).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (status, _, answer) = post_x12(&base, body.clone()).await;
    assert_eq!(status, 503, "{answer}");
    assert!(
        answer.contains("has not confirmed it yet")
            && answer.contains("[bus] publish_timeout_ms")
            && !answer.contains("nothing was accepted"),
        "{answer}"
    );
    let (status, _, answer) = post_x12(&base, body.clone()).await;
    assert_eq!(status, 503, "a resend while the publish goes on: {answer}");
    lock.execute_batch("ROLLBACK").unwrap();

    // The sender sends again, as told, until the gateway has it.
    let deadline = tokio::time::Instant::now() + GUARD;
    let (status, result, answer) = loop {
        let (status, result, answer) = post_x12(&base, body.clone()).await;
        if status != 503 || tokio::time::Instant::now() > deadline {
            break (status, result, answer);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    all_duplicates(status, &result, &answer, LATE);
    taken_once(dir.path(), LATE);
    running.shutdown().await;
}

/// The work now outlives its sender, but only once the body has arrived in full: a sender
/// that goes away half way through its body (here after five whole sets) has nothing taken,
/// neither those sets nor a rejection of the cut interchange.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_cut_off_half_way_takes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let running = started(dir.path()).await;
    let body = interchange("CUT", 10);
    let cut = String::from_utf8_lossy(&body).find("ST*810*0006").unwrap();
    let mut s = tokio::net::TcpStream::connect(running.http_addr)
        .await
        .unwrap();
    // A first request answered on the connection: the server is serving it, so the cut
    // request below reaches it (and shutdown waits for it) rather than dying in the backlog.
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n")
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    while !seen.ends_with(b"\r\n\r\nok\n") {
        let n = tokio::time::timeout(GUARD, s.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    post_part(&mut s, &body, cut).await;
    drop(s);
    // Shutdown drains: it returns once the request, and any work on it, has ended.
    running.shutdown().await;
    assert_eq!(bus_messages(dir.path()), (0, 0), "messages, documents");
    let ledger = rusqlite::Connection::open(dir.path().join("ledger.sqlite")).unwrap();
    let rows: u64 = ledger
        .query_row("SELECT COUNT(*) FROM documents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0, "a body cut off half way must take nothing");
}
