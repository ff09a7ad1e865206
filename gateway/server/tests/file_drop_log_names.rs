//! File names with control characters are logged escaped by the file drop. A test binary
//! of its own: it captures the logs with a subscriber of its own, which tests running beside
//! it in the same process would race (tracing caches which call sites are listened to).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use gateway_core::testkit::visible_files;
use gateway_server::codecs::Codecs;
use gateway_server::config::{Config, FileDropConfig};
use gateway_server::filedrop::FileDrop;
use gateway_server::ledger::Ledger;

/// A file drop for partner `acme`, polled by the test.
async fn file_drop(dir: &std::path::Path) -> FileDrop {
    file_drop_with(dir, false).await
}

/// [`file_drop`], its disk short of the minimum free space when `short_of_disk`.
async fn file_drop_with(dir: &std::path::Path, short_of_disk: bool) -> FileDrop {
    let d = dir.display();
    let text = format!(
        r#"
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
[partners.coupa_supplier]
number = "ACME-1"
"#
    );
    let config = Config::parse(&text, "test", std::iter::empty()).unwrap();
    let drop_config: FileDropConfig =
        toml::from_str(&format!("root = \"{d}/sftp\"\nmin_age_ms = 0")).unwrap();
    let bus = gateway_server::bus::open(&config.bus, gateway_server::bus::Role::Server)
        .await
        .unwrap();
    let ledger = Arc::new(Ledger::open(&config.ledger.path).unwrap());
    let mut pipeline = gateway_server::pipeline::Pipeline::new(
        Codecs::standard(),
        gateway_server::partners::Partners::new(config.partners.clone()),
        ledger,
        bus,
    );
    if short_of_disk {
        // No disk has this much free.
        pipeline = pipeline.with_disk_space(
            gateway_server::disk_space::DiskSpace::new(u64::MAX, "[ledger] min_free_mb")
                .watching("ledger", &config.ledger.path),
        );
    }
    let pipeline = Arc::new(pipeline);
    let drop = FileDrop::new(drop_config, pipeline);
    drop.prepare().unwrap();
    drop
}

/// A log writer the test reads back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Logs at info and above into a [`Captured`], for as long as the guard lives.
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

/// QA: a name with a newline, a carriage return and an ANSI escape appeared raw in the
/// `file moved to error/` line, forging a log line and colouring the terminal. Names are now
/// logged escaped.
#[tokio::test]
async fn a_file_name_with_control_characters_is_logged_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let mut drop = file_drop(dir.path()).await;
    let (logs, _guard) = capture();

    let incoming = drop.incoming("acme");
    let name = "odd\nname\r\x1b[31mred.csv";
    std::fs::write(incoming.join(name), "x").unwrap();
    std::os::unix::fs::symlink("/nowhere\nforged", incoming.join("link\nforged.csv")).unwrap();
    for _ in 0..3 {
        drop.poll().await;
    }
    assert!(visible_files(&incoming).is_empty());

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("file moved to error/"), "{text}");
    assert!(text.contains(r"odd\nname\r\u{1b}[31mred.csv"), "{text}");
    assert!(text.contains(r"link\nforged.csv"), "{text}");
    assert!(!text.contains('\x1b') && !text.contains('\r'), "{text:?}");
    for line in text.lines() {
        assert!(
            !line.starts_with("name") && !line.starts_with("forged"),
            "a forged line: {line:?}"
        );
    }
}

/// QA (regression pass): a file waiting while the disk was short of space logged a warning at
/// every poll (52 in 10 s for one file). It is warned of once while the cause lasts.
#[tokio::test]
async fn a_file_waiting_for_the_same_cause_is_warned_of_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut drop = file_drop_with(dir.path(), true).await;
    let (logs, _guard) = capture();

    let invoice = r#"{"schema_version":1,"kind":"invoice","invoice_number":"W-1","invoice_date":"2026-03-01","currency":"USD","supplier":{"name":"Acme"},"lines":[{"line_number":1,"description":"Widget","quantity":"1","unit_price":"10.00","amount":"10.00"}],"total":"10.00"}"#;
    std::fs::write(drop.incoming("acme").join("w1.json"), invoice).unwrap();
    for _ in 0..4 {
        drop.poll().await;
    }
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let warned = text
        .matches("not published; the file stays in processing/")
        .count();
    assert_eq!(warned, 1, "{text}");
    assert!(text.contains("short of disk space"), "{text}");
}
