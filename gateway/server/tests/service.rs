//! The service's HTTP side as a client sees it: TLS with a configured certificate, health,
//! readiness and metrics, on the embedded bus (no Coupa needed).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use gateway_server::codecs::Codecs;
use gateway_server::config::Config;
use gateway_server::service::{Parts, start};

mod common;

use common::started;

fn config(dir: &std::path::Path, tls: Option<(&std::path::Path, &std::path::Path)>) -> Config {
    let tls = tls
        .map(|(c, k)| {
            format!(
                "tls_cert = \"{}\"\ntls_key = \"{}\"",
                c.display(),
                k.display()
            )
        })
        .unwrap_or_default();
    common::config(
        dir,
        &tls,
        "[[partners]]\nid = \"acme\"\napi_token = \"acme-token\"\n",
    )
}

/// A `kill -9` between the ledger's claim and the publish left a row `received` for good;
/// the next service marks it interrupted, and a second service on the same ledger is refused
/// (it would take the first one's claims for abandoned ones).
#[tokio::test]
async fn a_claim_left_by_a_stop_is_interrupted_and_one_service_holds_a_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), None);
    {
        let ledger = gateway_server::ledger::Ledger::open(&cfg.ledger.path).unwrap();
        let doc = gateway_server::ledger::NewDocument {
            idempotency_key: "cxml:acme:payload-1",
            doc_id: "doc-1",
            adapter: "cxml-http",
            partner: "acme",
            kind: "invoice",
            number: "INV-1",
            business_key: Some("acme:INV-1"),
        };
        ledger.claim(&doc).unwrap();
    }
    let running = started(cfg.clone()).await;
    let entry = running.ledger.entry("doc-1").unwrap().unwrap();
    assert_eq!(entry.status, "interrupted", "{entry:?}");

    let bus = gateway_server::bus::open(
        &config(&dir.path().join("second"), None).bus,
        gateway_server::bus::Role::Server,
    )
    .await
    .unwrap();
    let second = start(Parts {
        config: cfg.clone(),
        codecs: Codecs::standard(),
        bus,
        coupa: None,
    })
    .await;
    let err = match second {
        Ok(_) => panic!("a second service on the same ledger started"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("another `gateway serve`"), "{err}");
    running.shutdown().await;
    // Freed when the first stops.
    started(cfg).await.shutdown().await;
}

/// A full disk refused every document while `/readyz` said ready; now readiness names the
/// folder short of space (here: a minimum no disk has).
#[tokio::test]
async fn readiness_names_a_disk_short_of_the_minimum_free_space() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), None);
    cfg.ledger.min_free_mb = 1 << 40;
    let running = started(cfg).await;
    let r = reqwest::get(format!("{}/readyz", running.base_url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("disk: the disk holding the ledger") && body.contains("[ledger] min_free_mb"),
        "{body}"
    );
    running.shutdown().await;
}

/// QA: with `[ledger] min_free_mb` above the free space, `/readyz` said "documents are
/// refused meanwhile, and senders told to send again" while POSTs got 202 and the ledger went
/// on filling the disk. Now a document is refused as the message says: 503 with Retry-After,
/// nothing recorded, and the refusal counted.
#[tokio::test]
async fn documents_are_refused_while_the_disk_is_short_of_the_minimum_free_space() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), None);
    cfg.ledger.min_free_mb = 1 << 40;
    let running = started(cfg).await;
    let base = running.base_url();
    let before = gateway_core::metrics::refused("rest", "disk_space");
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/documents"))
        .bearer_auth("acme-token")
        .body(rich_invoice())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"), "{:?}", r.headers());
    let body = r.text().await.unwrap();
    assert!(
        body.contains("the gateway is short of disk space") && body.contains("send again"),
        "{body}"
    );
    assert!(running.ledger.list(None, None, 10).unwrap().is_empty());
    assert_eq!(
        gateway_core::metrics::refused("rest", "disk_space"),
        before + 1
    );
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("gateway_inputs_refused_total{adapter=\"rest\",reason=\"disk_space\"}"),
        "{metrics}"
    );
    running.shutdown().await;
}

/// QA: with the ledger's files immutable, every document got 503 ("the gateway's document
/// ledger could not record it") while `/readyz` said ready, so a load balancer kept sending
/// senders to it. Here another connection holds the ledger's write lock (as a stuck process
/// would): `/readyz` says not ready, naming the ledger's file, why and what to do, the
/// refusals are counted, and once the lock is gone `/readyz` is ready again by itself (no
/// document comes to an instance out of rotation) and documents are taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_reports_a_ledger_that_cannot_write_until_it_writes_again() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), None);
    let ledger_path = cfg.ledger.path.clone();
    let running = started(cfg).await;
    let base = running.base_url();
    let client = reqwest::Client::new();
    let readyz = || async {
        let r = client.get(format!("{base}/readyz")).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    let post = || async {
        let r = client
            .post(format!("{base}/api/v1/documents"))
            .bearer_auth("acme-token")
            .body(rich_invoice())
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    assert_eq!(readyz().await.0, 200);

    let holder = rusqlite::Connection::open(&ledger_path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let before = gateway_core::metrics::refused("rest", "ledger");
    let (status, body) = post().await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("the gateway's document ledger could not record it"),
        "{body}"
    );
    assert_eq!(gateway_core::metrics::refused("rest", "ledger"), before + 1);
    let (status, body) = readyz().await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body.starts_with("not ready: ledger: ")
            && body.contains(&ledger_path.display().to_string())
            && body.contains("[ledger] path")
            && body.contains("database is locked")
            && body.contains("another process holds the ledger's write lock")
            && body.contains("ready again once a write succeeds"),
        "{body}"
    );

    holder.execute_batch("ROLLBACK").unwrap();
    let (status, body) = readyz().await;
    assert_eq!((status, body.as_str()), (200, "ready\n"));
    let (status, body) = post().await;
    assert_eq!(status, 202, "{body}");
    running.shutdown().await;
}

/// The sample invoice the REST endpoint takes from partner acme.
fn rich_invoice() -> String {
    std::fs::read_to_string(
        gateway_core::testkit::repo_root().join("samples/json/invoice/rich.json"),
    )
    .unwrap()
}

#[tokio::test]
async fn tls_listener_serves_https_only() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    let running = started(config(dir.path(), Some((&cert_path, &key_path)))).await;
    assert_eq!(running.scheme, "https");
    let port = running.http_addr.port();

    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .resolve("localhost", running.http_addr)
        .build()
        .unwrap();
    let r = client
        .get(format!("https://localhost:{port}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Plain HTTP on the TLS port gets no HTTP answer.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);

    // A client that does not trust the certificate is refused.
    let untrusting = reqwest::Client::builder()
        .resolve("localhost", running.http_addr)
        .build()
        .unwrap();
    assert!(
        untrusting
            .get(format!("https://localhost:{port}/healthz"))
            .send()
            .await
            .is_err()
    );
    running.shutdown().await;
}

#[tokio::test]
async fn readiness_and_metrics_answer() {
    let dir = tempfile::tempdir().unwrap();
    let running = started(config(dir.path(), None)).await;
    let base = running.base_url();
    let client = reqwest::Client::new();
    assert_eq!(
        client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let doc = std::fs::read_to_string(
        gateway_core::testkit::repo_root().join("samples/json/invoice/rich.json"),
    )
    .unwrap();
    let r = client
        .post(format!("{base}/api/v1/documents"))
        .bearer_auth("acme-token")
        .body(doc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("gateway_documents_received_total{adapter=\"rest\",kind=\"invoice\"}"),
        "{metrics}"
    );
    // The process's own series, for memory and file-descriptor alerts.
    if cfg!(target_os = "linux") {
        let resident = metrics
            .lines()
            .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
            .and_then(|v| v.parse::<u64>().ok());
        assert!(resident.is_some_and(|r| r > 0), "{metrics}");
        assert!(metrics.contains("\nprocess_open_fds "), "{metrics}");
    }
    running.shutdown().await;
}

#[tokio::test]
async fn readiness_fails_while_coupa_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    // [coupa] base_url points at a closed port.
    let config = config(dir.path(), None);
    let bus = gateway_server::bus::open(&config.bus, gateway_server::bus::Role::Server)
        .await
        .unwrap();
    let coupa = gateway_server::coupa_link::parts(&config).unwrap();
    let (running, _) = start(Parts {
        config,
        codecs: Codecs::standard(),
        bus,
        coupa: Some(coupa),
    })
    .await
    .unwrap();
    let r = reqwest::get(format!("{}/readyz", running.base_url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let body = r.text().await.unwrap();
    assert!(body.contains("coupa"), "{body}");
    running.shutdown().await;
}

/// The running service prunes on its own: a file-drop archive day folder past `[retention]
/// archive_days` is gone soon after start, today's stays.
#[tokio::test]
async fn the_service_prunes_what_is_past_its_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path(), None);
    let root = dir.path().join("sftp");
    config.file_drop = Some(toml::from_str(&format!("root = \"{}\"", root.display())).unwrap());
    config.retention.archive_days = 30;
    config.retention.interval_ms = 100;
    let old = root.join("acme/archive/2021-06-30");
    let today = root
        .join("acme/archive")
        .join(chrono::Utc::now().format("%Y-%m-%d").to_string());
    for d in [&old, &today] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(d.join("invoice.edi"), b"ISA").unwrap();
    }
    // A file refused earlier waits in error/ for an operator: never pruned, but counted.
    std::fs::create_dir_all(root.join("acme/error")).unwrap();
    std::fs::write(root.join("acme/error/bad.csv"), b"x").unwrap();
    let running = started(config).await;
    let gauge = "gateway_files_waiting_for_operator{folder=\"acme/error\"} 1";
    let metrics_url = format!("{}/metrics", running.base_url());
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut metrics = String::new();
    while (old.exists() || !metrics.contains(gauge)) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        metrics = reqwest::get(&metrics_url)
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    }
    assert!(!old.exists(), "{} was not pruned", old.display());
    assert!(today.join("invoice.edi").exists());
    assert!(root.join("acme/error/bad.csv").exists());
    assert!(metrics.contains(gauge), "{metrics}");
    running.shutdown().await;
}

/// The file drop forgets a file that left `Incoming` before it was picked (a sender's client
/// renaming its upload, a file deleted): the names it watches do not pile up over months.
#[tokio::test]
async fn the_file_drop_forgets_files_that_left_before_they_were_picked() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), None);
    let root = dir.path().join("sftp");
    let drop_config: gateway_server::config::FileDropConfig = toml::from_str(&format!(
        "root = \"{}\"\nmin_age_ms = 3600000",
        root.display()
    ))
    .unwrap();
    let bus = gateway_server::bus::open(&config.bus, gateway_server::bus::Role::Server)
        .await
        .unwrap();
    let ledger = Arc::new(gateway_server::ledger::Ledger::open(&config.ledger.path).unwrap());
    let pipeline = Arc::new(gateway_server::pipeline::Pipeline::new(
        Codecs::standard(),
        gateway_server::partners::Partners::new(config.partners.clone()),
        ledger,
        bus,
    ));
    let mut file_drop = gateway_server::filedrop::FileDrop::new(drop_config, pipeline);
    file_drop.prepare().unwrap();
    let incoming = file_drop.incoming("acme");
    // An hour's minimum age: both files are watched, neither is picked.
    for name in ["upload-1.edi", "upload-2.edi"] {
        std::fs::write(incoming.join(name), b"ISA*00").unwrap();
    }
    file_drop.poll().await;
    assert_eq!(file_drop.watched(), 2);
    std::fs::rename(incoming.join("upload-1.edi"), incoming.join("renamed.edi")).unwrap();
    std::fs::remove_file(incoming.join("upload-2.edi")).unwrap();
    file_drop.poll().await;
    assert_eq!(file_drop.watched(), 1, "only the renamed file is watched");
    assert!(
        incoming.join("renamed.edi").exists(),
        "and it is not picked yet"
    );
}

/// `Idempotency-Key` on the REST API, through the running service and its ledger: the same key
/// with the same body gets the first answer again and publishes nothing more; the same key
/// with another body is refused with 422; a new key is a new request (flagged as the same
/// invoice).
#[tokio::test]
async fn a_rest_idempotency_key_replays_the_first_answer_and_refuses_another_body() {
    let dir = tempfile::tempdir().unwrap();
    let running = started(config(dir.path(), None)).await;
    let url = format!("{}/api/v1/documents", running.base_url());
    let doc = std::fs::read_to_string(
        gateway_core::testkit::repo_root().join("samples/json/invoice/rich.json"),
    )
    .unwrap();
    let client = reqwest::Client::new();
    let post = |key: &str, body: String| {
        client
            .post(&url)
            .bearer_auth("acme-token")
            .header("idempotency-key", key)
            .body(body)
            .send()
    };
    let first = post("order-7", doc.clone()).await.unwrap();
    assert_eq!(first.status(), 202);
    let first: serde_json::Value = first.json().await.unwrap();
    assert_eq!(
        first["accepted"].as_array().map(Vec::len),
        Some(1),
        "{first}"
    );

    let again = post("order-7", doc.clone()).await.unwrap();
    assert_eq!(again.status(), 202);
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(again, first, "the first answer, word for word");

    // One byte more is another body.
    let refused = post("order-7", format!("{doc} ")).await.unwrap();
    assert_eq!(refused.status(), 422);
    assert!(
        refused.text().await.unwrap().contains("different body"),
        "the sender is told to use a new key"
    );

    // One document in the ledger: the replayed answer published nothing.
    let ledger = gateway_server::ledger::Ledger::open(&dir.path().join("ledger.sqlite")).unwrap();
    let rows = ledger
        .search(&gateway_server::ledger::DocumentFilter {
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");

    // A new key with the same document is a new request for a document already taken: a
    // duplicate of the first (a JSON document's key is its content, whatever the channel).
    let new_key = post("order-8", doc.clone()).await.unwrap();
    let new_key: serde_json::Value = new_key.json().await.unwrap();
    assert_eq!(
        new_key["accepted"].as_array().map(Vec::len),
        Some(0),
        "{new_key}"
    );
    assert_eq!(
        new_key["duplicates"][0]["doc_id"], first["accepted"][0]["doc_id"],
        "{new_key}"
    );
    // Another document under the same number is taken, and flagged as the same invoice.
    let changed = doc.replace("Thank you for your business.", "Corrected copy.");
    assert_ne!(changed, doc);
    let other = post("order-9", changed).await.unwrap();
    let other: serde_json::Value = other.json().await.unwrap();
    assert_eq!(
        other["accepted"][0]["same_business_key_as"], first["accepted"][0]["doc_id"],
        "{other}"
    );
    running.shutdown().await;
}

// ---- The file drop: one acknowledgment per interchange, none lost, senders checked ----

/// A service whose file drop polls every 20 ms and picks files at once, for partners `acme`
/// (ISA sender ZZ:ACMESUPPLY), `beta` (ZZ:BETAPARTS) and `gamma` (no `[x12]` section).
fn file_drop_config(dir: &std::path::Path) -> Config {
    let d = dir.display();
    let text = format!(
        r#"
[http]
listen = "127.0.0.1:0"
[bus]
embedded_path = "{d}/bus.sqlite"
[ledger]
path = "{d}/ledger.sqlite"
[coupa]
base_url = "http://127.0.0.1:9"
client_id = "x"
client_secret = "y"
[file_drop]
root = "{d}/sftp"
poll_interval_ms = 20
min_age_ms = 0
[[partners]]
id = "acme"
api_token = "acme-token"
[partners.x12]
partner_qualifier = "ZZ"
partner_id = "ACMESUPPLY"
our_qualifier = "ZZ"
our_id = "GLOBEXCORP"
[[partners]]
id = "beta"
api_token = "beta-token"
[partners.x12]
partner_qualifier = "ZZ"
partner_id = "BETAPARTS"
our_qualifier = "ZZ"
our_id = "GLOBEXCORP"
[[partners]]
id = "gamma"
api_token = "gamma-token"
"#
    );
    Config::parse(&text, "test", std::iter::empty()).unwrap()
}

/// The sample 810 as sent by ISA sender `ZZ:<sender>` under interchange control `control`
/// (nine digits).
fn x12_invoice_from(sender: &str, control: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(
        gateway_core::testkit::repo_root().join("samples/x12/invoice/rich.edi"),
    )
    .unwrap();
    text.replace("ZZ*ACMESUPPLY     ", &format!("ZZ*{sender:<15}"))
        .replace("GS*IN*ACMESUPPLY*", &format!("GS*IN*{sender}*"))
        .replace("000000042", control)
        .into_bytes()
}

/// Drops a file the way an SFTP upload ends: written under a temporary name, then renamed.
fn drop_into(root: &std::path::Path, partner: &str, name: &str, bytes: &[u8]) {
    let incoming = root.join(partner).join("Incoming");
    let tmp = incoming.join(format!(".{name}.part"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, incoming.join(name)).unwrap();
}

use gateway_core::testkit::visible_files;

/// Polls `done` until it holds or 30 s passed; false on the deadline.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done() {
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    true
}

/// Waits until the file drop has polled at least twice more: a file it cannot read as a
/// document, dropped now, reaches `error/` only after one poll sees it and another claims it
/// (each poll first retries what waits in `processing/`).
async fn two_more_polls(root: &std::path::Path, partner: &str, name: &str) {
    drop_into(root, partner, name, b"not a document at all");
    let error = root.join(partner).join("error");
    assert!(
        eventually(|| visible_files(&error).contains(&name.to_string())).await,
        "{name} never reached {}",
        error.display()
    );
}

/// QA: with `archive` unwritable, every poll wrote a new 997 for the file it could not
/// archive (18 in 15 s, each with its own ISA13). The file is retried, its 997 written once.
#[tokio::test]
async fn a_file_that_cannot_be_archived_is_acknowledged_once_however_often_it_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let config = file_drop_config(dir.path());
    let root = dir.path().join("sftp");
    let running = started(config).await;
    // `archive` a file: the day folder under it cannot be made.
    let archive = root.join("acme/archive");
    std::fs::write(&archive, b"in the way").unwrap();
    let outgoing = root.join("acme/Outgoing");
    let processing = root.join("acme/processing");

    drop_into(
        &root,
        "acme",
        "inv-1.edi",
        &x12_invoice_from("ACMESUPPLY", "000000101"),
    );
    assert!(eventually(|| !visible_files(&outgoing).is_empty()).await);
    two_more_polls(&root, "acme", "poke-1.txt").await;
    two_more_polls(&root, "acme", "poke-2.txt").await;
    let waiting = visible_files(&processing);
    assert!(
        waiting.len() == 1 && waiting[0].ends_with("--inv-1.edi"),
        "the file waits in processing/: {waiting:?}"
    );
    assert_eq!(
        visible_files(&outgoing),
        vec!["inv-1.ack.edi"],
        "one 997 while the file is retried"
    );

    // The archive works again: the file is archived, still with its one 997.
    std::fs::remove_file(&archive).unwrap();
    assert!(eventually(|| visible_files(&archive) == vec!["inv-1.edi"]).await);
    assert_eq!(visible_files(&outgoing), vec!["inv-1.ack.edi"]);
    let ack = std::fs::read_to_string(outgoing.join("inv-1.ack.edi")).unwrap();
    assert_eq!(
        ack.split('*').nth(13),
        Some("000000001"),
        "acme's counter advanced once: {ack}"
    );
    assert!(
        std::fs::read_dir(&processing).unwrap().next().is_none(),
        "nothing is left in processing/, not even what was kept for the retries"
    );
    // The document went out once.
    let ledger = gateway_server::ledger::Ledger::open(&dir.path().join("ledger.sqlite")).unwrap();
    let rows = ledger
        .search(&gateway_server::ledger::DocumentFilter {
            partner: Some("acme"),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    let invoices: Vec<_> = rows.iter().filter(|r| r.kind == "invoice").collect();
    assert!(
        invoices.len() == 1 && invoices[0].status != "rejected",
        "{rows:?}"
    );
    running.shutdown().await;
}

/// The invoices of `partner` in the service's ledger.
fn invoices_of(
    running: &gateway_server::service::Running,
    partner: &str,
) -> Vec<gateway_server::ledger::Entry> {
    running
        .ledger
        .search(&gateway_server::ledger::DocumentFilter {
            partner: Some(partner),
            kind: Some("invoice"),
            limit: 10,
            ..Default::default()
        })
        .unwrap()
}

/// QA: with `Outgoing` unwritable, the 997 was lost (the invoice published, the file archived,
/// a warning naming neither). The file now waits in `processing/` until its 997 is written,
/// counted where operators look, and is archived with exactly one 997.
#[tokio::test]
async fn a_file_whose_acknowledgment_cannot_be_written_waits_for_it() {
    use gateway_core::metrics::{Counter, value};
    let dir = tempfile::tempdir().unwrap();
    let config = file_drop_config(dir.path());
    let root = dir.path().join("sftp");
    let running = started(config).await;
    // `Outgoing` a file: no acknowledgment can be written into it.
    let outgoing = root.join("acme/Outgoing");
    std::fs::remove_dir(&outgoing).unwrap();
    std::fs::write(&outgoing, b"in the way").unwrap();
    let processing = root.join("acme/processing");
    let archive = root.join("acme/archive");
    let failed_before = value(Counter::Failed, "file-drop", "acknowledgment");

    drop_into(
        &root,
        "acme",
        "inv-2.edi",
        &x12_invoice_from("ACMESUPPLY", "000000202"),
    );
    // Published on the first pass, then retried at least twice.
    assert!(eventually(|| !invoices_of(&running, "acme").is_empty()).await);
    two_more_polls(&root, "acme", "poke.txt").await;
    let waiting = visible_files(&processing);
    assert!(
        waiting.len() == 1 && waiting[0].ends_with("--inv-2.edi"),
        "the file waits in processing/ for its 997: {waiting:?}"
    );
    assert!(
        visible_files(&archive).is_empty(),
        "archived without its 997"
    );
    assert!(
        value(Counter::Failed, "file-drop", "acknowledgment") > failed_before,
        "the failed acknowledgment is counted"
    );
    let metrics = reqwest::get(format!("{}/metrics", running.base_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "gateway_documents_failed_total{adapter=\"file-drop\",kind=\"acknowledgment\"}"
        ),
        "{metrics}"
    );

    // `Outgoing` works again: one 997, then the file is archived.
    std::fs::remove_file(&outgoing).unwrap();
    assert!(eventually(|| visible_files(&archive) == vec!["inv-2.edi"]).await);
    assert_eq!(visible_files(&outgoing), vec!["inv-2.ack.edi"]);
    let ack = std::fs::read_to_string(outgoing.join("inv-2.ack.edi")).unwrap();
    assert!(
        ack.starts_with("ISA") && ack.contains("ST*997*"),
        "a 997: {ack}"
    );
    assert!(ack.contains("AK1*IN*42"), "answering the group sent: {ack}");
    assert_eq!(
        ack.split('*').nth(13),
        Some("000000001"),
        "the 997 made on the first pass, written on the retry: acme's counter advanced once"
    );
    assert!(
        std::fs::read_dir(&processing).unwrap().next().is_none(),
        "nothing is left in processing/"
    );
    assert_eq!(invoices_of(&running, "acme").len(), 1, "published once");
    running.shutdown().await;
}

/// QA: beta's 810 dropped into acme's folder was delivered as acme's, with a 997 addressed to
/// BETAPARTS in acme's Outgoing, and beta's own POST /x12 of it then swallowed as a duplicate.
/// A folder now takes only its owner's interchanges, as `POST /x12` takes only known senders.
#[tokio::test]
async fn an_interchange_from_another_sender_is_refused_from_a_partners_folder() {
    let dir = tempfile::tempdir().unwrap();
    let config = file_drop_config(dir.path());
    let root = dir.path().join("sftp");
    let running = started(config).await;
    let betas = x12_invoice_from("BETAPARTS", "000000303");
    let nobodys = x12_invoice_from("NOBODY", "000000304");
    let acmes = x12_invoice_from("ACMESUPPLY", "000000305");
    drop_into(&root, "acme", "from-beta.edi", &betas);
    drop_into(&root, "acme", "from-nobody.edi", &nobodys);
    // gamma has no [x12] section: it takes no X12, not even a known partner's.
    drop_into(&root, "gamma", "from-acme.edi", &acmes);

    let reason = |partner: &str, name: &str| {
        std::fs::read_to_string(
            root.join(partner)
                .join("error")
                .join(format!("{name}.errors.txt")),
        )
        .ok()
    };
    assert!(
        eventually(|| reason("acme", "from-beta.edi").is_some()
            && reason("acme", "from-nobody.edi").is_some()
            && reason("gamma", "from-acme.edi").is_some())
        .await
    );
    let text = reason("acme", "from-beta.edi").unwrap_or_default();
    assert!(
        text.contains("ZZ:BETAPARTS is partner beta's") && text.contains("ZZ:ACMESUPPLY"),
        "names the sender found and the one expected: {text}"
    );
    let text = reason("acme", "from-nobody.edi").unwrap_or_default();
    assert!(
        text.contains("ZZ:NOBODY is named by no partner profile") && text.contains("ZZ:ACMESUPPLY"),
        "{text}"
    );
    let text = reason("gamma", "from-acme.edi").unwrap_or_default();
    assert!(
        text.contains("ZZ:ACMESUPPLY is partner acme's")
            && text.contains("gamma has no [partners.x12]"),
        "{text}"
    );
    for (partner, name) in [
        ("acme", "from-beta.edi"),
        ("acme", "from-nobody.edi"),
        ("gamma", "from-acme.edi"),
    ] {
        assert!(root.join(partner).join("error").join(name).exists());
    }
    // Nothing published or kept under anyone, no 997 written.
    for partner in ["acme", "beta", "gamma"] {
        assert!(
            invoices_of(&running, partner).is_empty(),
            "{partner}: {:?}",
            invoices_of(&running, partner)
        );
        assert!(visible_files(&root.join(partner).join("Outgoing")).is_empty());
        assert!(visible_files(&root.join(partner).join("archive")).is_empty());
    }

    // beta's own copy over HTTP is beta's first, not a duplicate.
    let r = reqwest::Client::new()
        .post(format!("{}/x12", running.base_url()))
        .bearer_auth("beta-token")
        .body(betas)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let result = r
        .headers()
        .get("x-gateway-result")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(result.starts_with("accepted=1; duplicates=0"), "{result}");
    assert_eq!(invoices_of(&running, "beta").len(), 1);

    // acme's own interchange in its own folder still goes through.
    drop_into(&root, "acme", "own.edi", &acmes);
    let archive = root.join("acme/archive");
    assert!(eventually(|| visible_files(&archive) == vec!["own.edi"]).await);
    assert_eq!(
        visible_files(&root.join("acme/Outgoing")),
        vec!["own.ack.edi"]
    );
    assert_eq!(invoices_of(&running, "acme").len(), 1);
    running.shutdown().await;
}

/// An invoice whose retries run out (Coupa answers 503 to every call) is a dead letter the
/// bus made, not the handler: the ledger must say `dead` with the reason `gateway dlq list`
/// shows, the partner's summary must count it dead (not "on its way"), and
/// `gateway_documents_dead_total` must count it, on the embedded bus and on RabbitMQ. Before,
/// only a dead letter the handler asked for was recorded: this one stayed `published`. A
/// replay once Coupa answers again still moves the row on to `delivered`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoice_whose_retries_run_out_is_dead_in_the_ledger_and_counted() {
    use gateway_server::demo::{ACME, DemoEnv, DemoOptions};

    let rabbit = gateway_core::testkit::test_amqp_url();
    let rabbit_up = gateway_broker::RabbitBroker::connect(
        &rabbit,
        gateway_core::Topology {
            namespace: format!("probe{}", uuid::Uuid::new_v4().simple()),
            consumers: Vec::new(),
            retry_tiers: Vec::new(),
            delivery_limit: 5,
            prefetch: 1,
        },
    )
    .await;
    let mut backends = vec![None];
    match rabbit_up {
        Ok(probe) => {
            probe.delete_topology().await.unwrap();
            backends.push(Some(rabbit));
        }
        Err(e) if std::env::var_os("CI").is_some() => panic!("RabbitMQ is required under CI: {e}"),
        Err(e) => eprintln!("SKIPPED the RabbitMQ half: {e} (start it: rabbitmq-server -detached)"),
    }
    for (i, amqp_url) in backends.into_iter().enumerate() {
        let backend = if amqp_url.is_some() {
            "rabbitmq"
        } else {
            "embedded"
        };
        let env = DemoEnv::start(DemoOptions {
            amqp_url,
            ..DemoOptions::default()
        })
        .await
        .unwrap();
        // Every Coupa invoice call fails with 503: retryable, for longer than the tiers last.
        assert!(env.sandbox.inject(gateway_sandbox::FaultSpec::new(
            "/api/invoices",
            gateway_sandbox::FaultKind::Status { status: 503 },
            100_000,
        )));
        let number = format!("RUN-OUT-{i}");
        let (status, body) = env
            .post_cxml(ACME, &DemoEnv::invoice(&number).unwrap())
            .await
            .unwrap();
        assert_eq!(status, 200, "{backend}: {body}");

        let ledger = gateway_server::ledger::Ledger::open(&env.config.ledger.path).unwrap();
        let row = || {
            ledger
                .list(Some(&number), None, 10)
                .unwrap()
                .into_iter()
                .next()
        };
        let adapter = row().map(|e| e.adapter).unwrap();
        let counted = || {
            gateway_core::metrics::value(gateway_core::metrics::Counter::Dead, &adapter, "invoice")
        };
        let dead_before = counted();
        // Four attempts (three retry tiers), then the bus parks it; the ledger is written
        // right after the park is durable.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
        while env
            .bus
            .depth(gateway_server::bus::COUPA_INVOICES)
            .await
            .unwrap()
            .dead
            == 0
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{backend}: never dead-lettered"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        let entry = loop {
            let entry = row().unwrap();
            if entry.status != "published" || tokio::time::Instant::now() > deadline {
                break entry;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        assert_eq!(entry.status, "dead", "{backend}: {entry:?}");
        let letters = env
            .bus
            .dead_letters(
                gateway_server::bus::COUPA_INVOICES,
                &gateway_core::DeadFilter::default(),
                10,
            )
            .await
            .unwrap();
        assert_eq!(letters.len(), 1, "{backend}: {letters:?}");
        assert_eq!(letters[0].doc_id, entry.doc_id);
        assert!(
            entry.detail.starts_with("gave up after 4 attempts: "),
            "{backend}: {}",
            entry.detail
        );
        assert_eq!(
            entry.detail, letters[0].reason,
            "{backend}: the ledger gives the reason `dlq list` gives"
        );
        assert_eq!(counted(), dead_before + 1, "{backend}: counted dead once");
        let summary = ledger.partner_summaries().unwrap();
        let acme = summary.iter().find(|s| s.partner == ACME).unwrap();
        assert_eq!((acme.dead, acme.on_the_way), (1, 0), "{backend}: {acme:?}");

        // Coupa answers again: a replay delivers it and the row moves on.
        env.sandbox.clear_faults();
        let replayed = env
            .bus
            .replay(
                gateway_server::bus::COUPA_INVOICES,
                &gateway_core::DeadFilter::default(),
            )
            .await
            .unwrap();
        assert_eq!(replayed, 1);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        let entry = loop {
            let entry = row().unwrap();
            if entry.status != "dead" || tokio::time::Instant::now() > deadline {
                break entry;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        assert_eq!(entry.status, "delivered", "{backend}: {entry:?}");
        assert_eq!(counted(), dead_before + 1, "{backend}");
        env.shutdown().await.unwrap();
    }
}

/// A cXML invoice the gateway refuses (line 1 without a quantity) is answered with where the
/// problem is in the XML the sender sent: the element and attribute with the line's own
/// number, and the XML line, beside the canonical path; the ledger's reason says it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_cxml_invoice_is_answered_with_the_xml_path_of_its_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let text = format!(
        r#"
[http]
listen = "127.0.0.1:0"
[bus]
embedded_path = "{d}/bus.sqlite"
[ledger]
path = "{d}/ledger.sqlite"
[coupa]
base_url = "http://127.0.0.1:9"
client_id = "x"
client_secret = "y"
[[partners]]
id = "acme"
[partners.cxml]
from_domain = "DUNS"
from_identity = "123456789"
shared_secret = "s3cret-acme"
"#
    );
    let running = started(Config::parse(&text, "test", std::iter::empty()).unwrap()).await;
    let rich = std::fs::read_to_string(
        gateway_core::testkit::repo_root().join("samples/cxml/invoice/rich.xml"),
    )
    .unwrap();
    let broken = rich.replacen(r#"quantity="10""#, r#"quantity="""#, 1);
    assert_ne!(broken, rich);
    let at = broken
        .find(r#"<InvoiceDetailItem invoiceLineNumber="1""#)
        .unwrap();
    let line = broken[..at].matches('\n').count() + 1;
    let answer = reqwest::Client::new()
        .post(format!("{}/cxml", running.base_url()))
        .body(broken)
        .send()
        .await
        .unwrap();
    let http = answer.status().as_u16();
    let body = answer.bytes().await.unwrap();
    let status = adapter_cxml::response::parse(&body).unwrap();
    let said = format!("{} {}", status.text, status.message.unwrap_or_default());
    assert_eq!((http, status.code), (406, 406), "{said}");
    let path = format!(
        r#"$.lines[0].quantity (cXML: InvoiceDetailItem[@invoiceLineNumber="1"]/@quantity, line {line}): missing: quantity is required"#
    );
    assert!(said.contains(&path), "{said}");

    let ledger = gateway_server::ledger::Ledger::open(&dir.path().join("ledger.sqlite")).unwrap();
    let rows = ledger.list(Some("INV-2026-0042"), None, 10).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].status, "rejected");
    assert!(
        rows[0]
            .detail
            .contains(r#"(cXML: InvoiceDetailItem[@invoiceLineNumber="1"]/@quantity, line "#),
        "{}",
        rows[0].detail
    );
}
