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
    let pipeline = Arc::new(gateway_server::pipeline::Pipeline::new(
        Codecs::standard(),
        gateway_server::partners::Partners::new(config.partners.clone()),
        ledger,
        bus,
    ));
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

/// QA: a name with a newline, a carriage return and an ANSI escape appeared raw in the
/// `file moved to error/` line, forging a log line and colouring the terminal. Names are now
/// logged escaped.
#[tokio::test]
async fn a_file_name_with_control_characters_is_logged_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let mut drop = file_drop(dir.path()).await;
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

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
