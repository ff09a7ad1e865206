//! The service's HTTP side as a client sees it: TLS with a configured certificate, health,
//! readiness and metrics, on the embedded bus (no Coupa needed).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use gateway_server::codecs::Codecs;
use gateway_server::config::Config;
use gateway_server::service::{Parts, start};

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
    let d = dir.display();
    let text = format!(
        r#"
[http]
listen = "127.0.0.1:0"
{tls}
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
api_token = "acme-token"
"#
    );
    Config::parse(&text, "test", std::iter::empty()).unwrap()
}

async fn started(config: Config) -> gateway_server::service::Running {
    let bus = gateway_server::bus::open(&config.bus, gateway_server::bus::Role::Server)
        .await
        .unwrap();
    let (running, _) = start(Parts {
        config,
        codecs: Codecs::standard(),
        bus: Arc::clone(&bus),
        coupa: None,
    })
    .await
    .unwrap();
    running
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

    // A new key is a new request: taken, and flagged as the same invoice as the first.
    let new_key = post("order-8", doc).await.unwrap();
    let new_key: serde_json::Value = new_key.json().await.unwrap();
    assert_eq!(
        new_key["accepted"][0]["same_business_key_as"], first["accepted"][0]["doc_id"],
        "{new_key}"
    );
    running.shutdown().await;
}
