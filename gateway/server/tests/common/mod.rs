//! What the service's integration tests share: a configuration on the embedded bus in a
//! temporary folder (no RabbitMQ, no Coupa), and the service started from it. Each test adds
//! its own `[http]` keys and partners. Each test binary uses some of these, hence `dead_code`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use gateway_core::Broker;
use gateway_server::codecs::Codecs;
use gateway_server::config::Config;
use gateway_server::ledger::Ledger;
use gateway_server::pipeline::Pipeline;
use gateway_server::service::{Parts, Running, start};

/// The `[coupa]` keys of a Coupa nobody listens on (port 9): tests that never deliver.
pub const NO_COUPA: &str = r#"base_url = "http://127.0.0.1:9"
client_id = "x"
client_secret = "y""#;

/// A configuration in `dir`: HTTP on a free port with `http` added to its section, the
/// embedded bus and the ledger in `dir`, a Coupa nobody listens on, then `rest` (partners).
pub fn config(dir: &std::path::Path, http: &str, rest: &str) -> Config {
    config_on(
        dir,
        NO_COUPA,
        &format!("[http]\nlisten = \"127.0.0.1:0\"\n{http}\n{rest}"),
    )
}

/// A configuration in `dir` without `[http]`: the embedded bus and the ledger in `dir`,
/// `coupa` as the keys of `[coupa]` (e.g. [`NO_COUPA`]), then `rest` (partners, sections).
pub fn config_on(dir: &std::path::Path, coupa: &str, rest: &str) -> Config {
    let d = dir.display();
    let text = format!(
        r#"
[bus]
embedded_path = "{d}/bus.sqlite"
[ledger]
path = "{d}/ledger.sqlite"
[coupa]
{coupa}
{rest}"#
    );
    Config::parse(&text, "test", std::iter::empty()).unwrap_or_else(|e| panic!("{e}"))
}

/// The bus of `config` opened as `gateway serve` opens it, and the ledger of `config`.
pub async fn bus_and_ledger(config: &Config) -> (Arc<dyn Broker>, Arc<Ledger>) {
    let bus = gateway_server::bus::open(&config.bus, gateway_server::bus::Role::Server)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let ledger = Arc::new(Ledger::open(&config.ledger.path).unwrap_or_else(|e| panic!("{e}")));
    (bus, ledger)
}

/// The intake pipeline of `config`'s partners with the standard codecs, recording in `ledger`
/// and publishing to `bus` (a test may pass a bus of its own around the real one).
pub fn pipeline(config: &Config, ledger: &Arc<Ledger>, bus: Arc<dyn Broker>) -> Pipeline {
    Pipeline::new(
        Codecs::standard(),
        gateway_server::partners::Partners::new(config.partners.clone()),
        Arc::clone(ledger),
        bus,
    )
}

/// The Coupa id of the demo's Acme supplier record (number `ACME-1`), whose POs go by cXML to
/// the sandbox's test supplier endpoint `/supplier/acme/cxml`.
pub fn demo_acme(sandbox: &gateway_sandbox::SandboxHandle) -> u64 {
    sandbox
        .suppliers()
        .iter()
        .find(|s| s["number"] == "ACME-1")
        .and_then(|s| s["id"].as_u64())
        .unwrap()
}

/// Everything logged by a test binary, read back by its tests.
#[derive(Clone, Default)]
pub struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The logs so far, from the one global subscriber of this binary (installed on first use,
/// so a test calls this before the service starts): tests running beside each other cannot
/// race over which call sites are listened to.
pub fn logs() -> &'static Captured {
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
}

/// What [`logs`] captured so far, as text.
pub fn logged() -> String {
    String::from_utf8_lossy(&logs().0.lock().unwrap()).into_owned()
}

/// Adds the sample PO `number` for the demo's Acme ([`demo_acme`]) in Coupa; its Coupa id.
pub fn add_acme_po(sandbox: &gateway_sandbox::SandboxHandle, number: &str) -> u64 {
    sandbox
        .add_purchase_order(gateway_sandbox::demo::sample_purchase_order(
            number,
            demo_acme(sandbox),
        ))
        .unwrap()
}

/// `gateway <args> --config <env's configuration>`, run to its end.
pub fn gateway_on(env: &gateway_server::demo::DemoEnv, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(args)
        .arg("--config")
        .arg(env.config_path())
        .output()
        .unwrap()
}

/// [`gateway_on`], which must succeed: its standard output.
pub fn gateway_ok(env: &gateway_server::demo::DemoEnv, args: &[&str]) -> String {
    let out = gateway_on(env, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "gateway {args:?}: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// [`gateway_on`], which must fail: its standard error.
pub fn gateway_refusing(env: &gateway_server::demo::DemoEnv, args: &[&str]) -> String {
    let out = gateway_on(env, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "gateway {args:?} succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

/// The service running on `config`, without Coupa.
pub async fn started(config: Config) -> Running {
    let bus = gateway_server::bus::open(&config.bus, gateway_server::bus::Role::Server)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (running, _) = start(Parts {
        config,
        codecs: Codecs::standard(),
        bus: Arc::clone(&bus),
        coupa: None,
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    running
}

/// Puts an invoice from `partner` among the dead letters of `coupa-invoices` in the bus of the
/// gateway configured at `cfg` (the bus created as `gateway serve` creates it). Returns its
/// doc id.
pub fn dead_invoice(cfg: &std::path::Path, partner: &str) -> String {
    use futures::FutureExt;
    use gateway_core::{DeadFilter, Delivered, Handler, Message, Outcome};
    use gateway_server::bus::COUPA_INVOICES;
    struct GiveUp;
    impl Handler for GiveUp {
        fn handle<'a>(&'a self, _: &'a Delivered) -> futures::future::BoxFuture<'a, Outcome> {
            async {
                Outcome::Dead {
                    reason: "Coupa refused the invoice: supplier not found".into(),
                }
            }
            .boxed()
        }
    }
    let config = gateway_server::config::Config::load(cfg, Vec::new()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let bus = gateway_server::bus::open(&config.bus, gateway_server::bus::Role::Server)
            .await
            .unwrap();
        let doc = gateway_model::from_json(
            &std::fs::read(
                gateway_core::testkit::repo_root().join("samples/json/invoice/rich.canonical.json"),
            )
            .unwrap_or_else(|e| panic!("{e}")),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let envelope = gateway_core::Envelope::inbound(
            doc.kind(),
            "test",
            Some(partner.into()),
            gateway_core::SourceMeta::default(),
        );
        let id = envelope.doc_id.clone();
        bus.publish(&[Message {
            envelope,
            body: gateway_model::to_json(&doc).into_bytes(),
        }])
        .await
        .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let consumer = std::sync::Arc::clone(&bus);
        let task = tokio::spawn(async move {
            consumer
                .consume(
                    COUPA_INVOICES,
                    std::sync::Arc::new(GiveUp),
                    stopped.map(|_| ()).boxed(),
                )
                .await
        });
        let only = DeadFilter {
            doc_id: Some(id.clone()),
            ..DeadFilter::default()
        };
        for _ in 0..400 {
            if !bus
                .dead_letters(COUPA_INVOICES, &only, 1)
                .await
                .unwrap()
                .is_empty()
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        let _ = stop.send(());
        task.await.unwrap().unwrap();
        assert_eq!(
            bus.dead_letters(COUPA_INVOICES, &only, 1)
                .await
                .unwrap()
                .len(),
            1,
            "the invoice did not die"
        );
        id
    })
}

/// A multipart message with base64 attachments.
pub fn mail(from: &str, message_id: &str, attachments: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut s = format!(
        "From: {from}\r\nTo: ap@globex.example\r\nSubject: invoice\r\nMessage-ID: <{message_id}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XB\"\r\n\r\n--XB\r\nContent-Type: text/plain\r\n\r\nInvoice attached.\r\n"
    );
    for (name, ctype, bytes) in attachments {
        s.push_str(&format!(
            "--XB\r\nContent-Type: {ctype}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        ));
        let encoded = base64(bytes);
        for chunk in encoded.as_bytes().chunks(76) {
            s.push_str(std::str::from_utf8(chunk).unwrap_or_default());
            s.push_str("\r\n");
        }
    }
    s.push_str("--XB--\r\n");
    s.into_bytes()
}

/// `bytes` in base64 (RFC 4648, with padding).
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
