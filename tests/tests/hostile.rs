//! Hostile input through every entry point (`POST /cxml`, `/x12`, `/api/v1/documents`, the
//! file drop and `gateway convert`; the Maildir mailbox gets the MIME bombs in
//! `gateway/server/tests/email.rs`), and the security checks: shared secret, secrets in logs,
//! slow headers, body limits.
//!
//! The small hostile files live in `tests/data/hostile/` (see its README); the large ones are
//! generated here at run time. Every input must get a clear refusal (a 4xx with a message, a
//! rejecting acknowledgment, a file moved to `error/` with its reasons, a non-zero exit with a
//! message), the process must stay up (a good document still goes through afterwards), and
//! `gateway convert` runs under an address-space limit so unbounded memory would fail it.
//! These tests use the embedded bus: no RabbitMQ needed.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use gateway_core::Format;
use gateway_model::Document;
use gateway_server::demo::{ACME, DemoEnv, DemoOptions, config_text};

use crate::faults::{GUARD, ServeChild, cxml_bytes, invoice, seeded_sandbox};

fn hostile_dir() -> PathBuf {
    gateway_tests::repo_root().join("tests/data/hostile")
}

/// Every hostile input: the committed files plus the large ones generated here. `xxe_port` is
/// a local listener an external entity would reach if anything fetched it.
fn corpus(xxe_port: u16) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(hostile_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name() != "README.md")
        .map(|e| {
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    let head = r#"<?xml version="1.0"?><cXML payloadID="h@example.com" timestamp="2026-01-01T00:00:00+00:00">"#;
    // 100,000 nested elements.
    let mut deep = String::from(head);
    deep.push_str(&"<a>".repeat(100_000));
    deep.push_str(&"</a>".repeat(100_000));
    deep.push_str("</cXML>");
    out.push(("gen-deep-nesting.xml".into(), deep.into_bytes()));
    // A 2 MB attribute value.
    let huge = format!(
        r#"{head}<Header><From><Credential domain="{}"><Identity>x</Identity></Credential></From></Header></cXML>"#,
        "A".repeat(2 * 1024 * 1024)
    );
    out.push(("gen-huge-attribute.xml".into(), huge.into_bytes()));
    // External entities pointing at a local listener: nothing may connect to it.
    let xxe = format!(
        r#"<?xml version="1.0"?>
<!DOCTYPE cXML [ <!ENTITY % remote SYSTEM "http://127.0.0.1:{xxe_port}/evil.dtd"> %remote; <!ENTITY ext SYSTEM "http://127.0.0.1:{xxe_port}/x"> ]>
<cXML payloadID="x@example.com" timestamp="2026-01-01T00:00:00+00:00"><Header><From><Credential domain="DUNS"><Identity>&ext;</Identity></Credential></From></Header></cXML>"#
    );
    out.push(("gen-xxe-local.xml".into(), xxe.into_bytes()));
    // Billion laughs, ten levels of ten.
    let mut lol = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE cXML [\n<!ENTITY l0 \"lol\">\n");
    for i in 1..10 {
        let prev = format!("&l{};", i - 1);
        lol.push_str(&format!("<!ENTITY l{i} \"{}\">\n", prev.repeat(10)));
    }
    lol.push_str("]>\n<cXML payloadID=\"l@example.com\" timestamp=\"2026-01-01T00:00:00+00:00\"><Header><From><Credential domain=\"DUNS\"><Identity>&l9;</Identity></Credential></From></Header></cXML>");
    out.push(("gen-billion-laughs.xml".into(), lol.into_bytes()));
    // CSV: one 5 MB field, and 100,000 columns.
    let mut big_field =
        b"Invoice,Invoice Number,Supplier Name,Invoice Date,Currency\nInvoice,INV-1,\"".to_vec();
    big_field.extend(std::iter::repeat_n(b'x', 5 * 1024 * 1024));
    big_field.extend_from_slice(b"\",2026-01-01,USD\n");
    out.push(("gen-huge-field.csv".into(), big_field));
    let cols: Vec<String> = (0..100_000).map(|i| format!("c{i}")).collect();
    out.push((
        "gen-many-columns.csv".into(),
        format!("{}\n{}\n", cols.join(","), cols.join(",")).into_bytes(),
    ));
    // MIME bombs: messages attached in one another 10,000 deep (this one aborted the whole
    // process with a stack overflow before the e-mail adapter dropped parsed messages
    // iteratively), multiparts nested 50,000 deep, and 50,000 parts.
    let mut nested = String::new();
    for i in 0..10_000 {
        nested.push_str(&format!(
            "From: a@acme.example\r\nMessage-ID: <m{i}@acme.example>\r\nMIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n\r\n"
        ));
    }
    nested.push_str("From: a@acme.example\r\n\r\nx\r\n");
    out.push(("gen-mime-nested-messages.eml".into(), nested.into_bytes()));
    let mut deep = String::from("From: a@acme.example\r\nMIME-Version: 1.0\r\n");
    for i in 0..50_000 {
        deep.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
        ));
    }
    deep.push_str("Content-Type: text/plain\r\n\r\nx\r\n");
    out.push(("gen-mime-deep-multipart.eml".into(), deep.into_bytes()));
    let mut wide = String::from(
        "From: a@acme.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n",
    );
    wide.push_str(&"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n".repeat(50_000));
    wide.push_str("--b--\r\n");
    out.push(("gen-mime-many-parts.eml".into(), wide.into_bytes()));
    out
}

/// The local listener external entities point at; `hits` tells whether anything connected.
struct Canary(std::net::TcpListener);

impl Canary {
    fn new() -> Canary {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        Canary(l)
    }
    fn port(&self) -> u16 {
        self.0.local_addr().unwrap().port()
    }
    fn hit(&self) -> bool {
        self.0.accept().is_ok()
    }
}

async fn embedded_env() -> DemoEnv {
    DemoEnv::start(DemoOptions {
        amqp_url: None,
        po_count: 0,
        coupa_cap: false,
    })
    .await
    .unwrap()
}

/// Peak resident set of this test process (`VmHWM`), for the printed report only: the test
/// process also runs other tests, so it is not asserted.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_inputs_over_http_get_clear_errors_and_the_service_stays_up() {
    let canary = Canary::new();
    let env = embedded_env().await;
    let http = reqwest::Client::new();
    let base = env.running.base_url();
    let mut report = Vec::new();
    for (name, bytes) in corpus(canary.port()) {
        // cXML endpoint: a 4xx cXML answer with a message.
        let r = http
            .post(format!("{base}/cxml"))
            .header("content-type", "text/xml")
            .body(bytes.clone())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert!(
            (400..500).contains(&status),
            "/cxml {name}: {status} {text:.300}"
        );
        assert!(
            text.contains("<Status") && text.contains("code=\"4"),
            "/cxml {name}: no cXML status: {text:.300}"
        );
        assert!(
            !text.contains("root:"),
            "/cxml {name}: file contents leaked"
        );
        // X12 endpoint: nothing accepted; an answer, never a 5xx. With acme's token, so an
        // input naming acme reaches the reader.
        let r = http
            .post(format!("{base}/x12"))
            .bearer_auth("acme-token")
            .body(bytes.clone())
            .send()
            .await
            .unwrap();
        let x_status = r.status().as_u16();
        let result = r
            .headers()
            .get("x-gateway-result")
            .map(|v| v.to_str().unwrap_or("").to_string())
            .unwrap_or_default();
        assert!(x_status < 500, "/x12 {name}: {x_status}");
        assert!(
            x_status >= 400 || result.contains("accepted=0"),
            "/x12 {name}: {x_status} {result}"
        );
        // REST: 4xx with an error body.
        let r = http
            .post(format!("{base}/api/v1/documents"))
            .bearer_auth("acme-token")
            .header("content-type", "application/json")
            .body(bytes.clone())
            .send()
            .await
            .unwrap();
        let rest_status = r.status().as_u16();
        let rest_text = r.text().await.unwrap();
        assert!(
            (400..500).contains(&rest_status) && !rest_text.is_empty(),
            "/api/v1/documents {name}: {rest_status} {rest_text:.300}"
        );
        report.push(format!(
            "{name:28} /cxml {status}  /x12 {x_status} [{result}]  /api {rest_status}"
        ));
    }
    eprintln!(
        "HOSTILE over HTTP (test process peak RSS {} KiB):\n  {}",
        peak_rss_kib(),
        report.join("\n  ")
    );
    assert!(!canary.hit(), "an external entity was fetched");

    // Still up: a good document goes through end to end.
    let (s, body) = env
        .post_cxml(ACME, &invoice("HOSTILE-AFTER-HTTP"))
        .await
        .unwrap();
    assert_eq!(s, 200, "{body}");
    assert!(
        env.wait_until(GUARD, |e| e
            .coupa_invoice_numbers()
            .contains(&"HOSTILE-AFTER-HTTP".to_string()))
            .await
    );
    assert!(
        env.sandbox.invoices().len() == 1,
        "hostile input created something in Coupa: {:?}",
        env.coupa_invoice_numbers()
    );
    env.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_files_in_the_drop_folder_are_quarantined_with_reasons() {
    let canary = Canary::new();
    let env = embedded_env().await;
    let files = corpus(canary.port());
    for (name, bytes) in &files {
        env.drop_file(ACME, name, bytes).unwrap();
    }
    let error_dir = env.dir.join("sftp").join(ACME).join("error");
    let all_quarantined = env
        .wait_until(Duration::from_secs(120), |_| {
            files
                .iter()
                .all(|(n, _)| error_dir.join(format!("{n}.errors.txt")).exists())
        })
        .await;
    let missing: Vec<&String> = files
        .iter()
        .map(|(n, _)| n)
        .filter(|n| !error_dir.join(format!("{n}.errors.txt")).exists())
        .collect();
    let archived = gateway_tests::files_under(&env.dir.join("sftp").join(ACME).join("archive"));
    assert!(
        all_quarantined,
        "not quarantined: {missing:?}; archived instead: {archived:?}"
    );
    for (name, _) in &files {
        let text = std::fs::read_to_string(error_dir.join(format!("{name}.errors.txt"))).unwrap();
        assert!(text.lines().count() >= 2, "{name}: no reason given: {text}");
        assert!(!text.contains("root:x:"), "{name}: file contents leaked");
    }
    assert!(!canary.hit(), "an external entity was fetched");
    // Still up: a good file goes through.
    env.drop_csv(
        gateway_server::demo::GLOBEX,
        &invoice("HOSTILE-AFTER-DROP"),
        "good.csv",
    )
    .unwrap();
    assert!(
        env.wait_until(GUARD, |e| e
            .coupa_invoice_numbers()
            .contains(&"HOSTILE-AFTER-DROP".to_string()))
            .await
    );
    assert_eq!(env.sandbox.invoices().len(), 1);
    env.shutdown().await.unwrap();
}

/// `gateway convert` under a 2 GiB address-space limit (prlimit) when available.
fn convert(path: &Path) -> std::process::Output {
    let bin = crate::faults::gateway_bin();
    let limited = Path::new("/usr/bin/prlimit").exists();
    let mut cmd = if limited {
        let mut c = std::process::Command::new("/usr/bin/prlimit");
        c.arg("--as=2147483648").arg(&bin);
        c
    } else {
        std::process::Command::new(&bin)
    };
    cmd.args(["convert", "--to", "json"])
        .arg(path)
        .output()
        .unwrap()
}

#[test]
fn hostile_files_through_convert_exit_with_a_located_error() {
    let canary = Canary::new();
    let dir = tempfile::tempdir().unwrap();
    let mut report = Vec::new();
    for (name, bytes) in corpus(canary.port()) {
        let path = dir.path().join(&name);
        std::fs::write(&path, &bytes).unwrap();
        let out = convert(&path);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        if name == "isa13-ne-iea02.edi" {
            // X12 accepts an interchange whose IEA02 differs from its ISA13 with errors (TA1
            // `E` note 001, "the value from the header is used"): converted, and `validate`
            // warns with where and the TA1 note; never a rejection.
            assert_eq!(code, Some(0), "{name}: {stderr:.500}");
            let checked = std::process::Command::new(crate::faults::gateway_bin())
                .arg("validate")
                .arg(&path)
                .output()
                .unwrap();
            let said = String::from_utf8_lossy(&checked.stdout);
            assert!(
                said.contains("warning: line 1, interchange 000000001: IEA02 \"000000002\" does not match ISA13 \"000000001\" (TA1 note 001)"),
                "{name}: {said}"
            );
            continue;
        }
        assert!(
            matches!(code, Some(1 | 2)),
            "{name}: exit {:?} (killed by a signal if None); stderr: {stderr:.500}",
            out.status
        );
        assert!(!stderr.trim().is_empty(), "{name}: no message on stderr");
        assert!(!stderr.contains("panicked"), "{name}: {stderr:.500}");
        assert!(!stderr.contains("root:x:"), "{name}: file contents leaked");
        report.push(format!(
            "{name:28} exit {} {}",
            code.unwrap_or(-1),
            stderr
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(110)
                .collect::<String>()
        ));
    }
    eprintln!("HOSTILE through convert:\n  {}", report.join("\n  "));
    assert!(!canary.hit(), "an external entity was fetched");
}

// ---------------------------------------------------------------------------------------
// Security checks on a real `gateway serve` process (embedded bus): shared secret, secrets in
// logs, slow headers, body limits.

const SECRETS: [&str; 6] = [
    "acme-secret",
    "acme-po-secret",
    "sandbox-secret",
    "acme-token",
    "globex-token",
    "nobody-token",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn security_secret_401_no_secret_in_logs_slow_headers_and_body_limit() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = seeded_sandbox().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = config_text(dir.path(), &sandbox.base_url(), None, "sec").replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{port}\"\nheader_timeout_ms = 500\nmax_body_bytes = 65536"),
    );
    let path = dir.path().join("gateway.toml");
    std::fs::write(&path, &text).unwrap();
    let config =
        gateway_server::config::Config::parse(&text, "security test", std::iter::empty()).unwrap();
    let log = dir.path().join("serve.log");
    // Debug level: the most a deployment would turn on while chasing a problem.
    let child = ServeChild::start_with_log_level(&path, port, &log, "debug").await;
    let base = child.base.clone();
    let http = reqwest::Client::new();
    let codecs = gateway_server::codecs::Codecs::standard();
    let acme = crate::faults::partner(&config, ACME);

    // Right secret: 200. Wrong secret: 401. No secret: 401.
    let good = cxml_bytes(&codecs, &acme, &invoice("SEC-GOOD-1"));
    let r = http
        .post(format!("{base}/cxml"))
        .body(good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let wrong_guess = "wrong-guess-7f1c";
    let mut wrong = acme.clone();
    wrong.cxml.as_mut().unwrap().shared_secret = Some(gateway_core::Secret::new(wrong_guess));
    let body = cxml_bytes(&codecs, &wrong, &invoice("SEC-WRONG-1"));
    let r = http
        .post(format!("{base}/cxml"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let t = r.text().await.unwrap();
    assert!(
        !t.contains(wrong_guess) && !t.contains("acme-secret"),
        "{t}"
    );
    let mut none = acme.clone();
    none.cxml.as_mut().unwrap().shared_secret = None;
    let body = cxml_bytes(&codecs, &none, &invoice("SEC-NONE-1"));
    assert!(!String::from_utf8_lossy(&body).contains("SharedSecret>acme"));
    let r = http
        .post(format!("{base}/cxml"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // REST: wrong and missing token.
    let doc = gateway_model::to_json(&Document::Invoice(invoice("SEC-REST-1")));
    let r = http
        .post(format!("{base}/api/v1/documents"))
        .bearer_auth("acme-token-but-wrong")
        .body(doc.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .post(format!("{base}/api/v1/documents"))
        .body(doc.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .post(format!("{base}/api/v1/documents"))
        .bearer_auth("acme-token")
        .body(doc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);

    // Body limit: 413 on every endpoint. Each request on a new connection: the server may
    // close one after a 413 without reading the body, and reusing it is a reset, not an answer.
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let big = vec![b'<'; 100_000];
    for (route, auth) in [
        ("/cxml", false),
        ("/x12", false),
        ("/api/v1/documents", true),
    ] {
        let mut req = fresh.post(format!("{base}{route}")).body(big.clone());
        if auth {
            req = req.bearer_auth("acme-token");
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 413, "{route}");
    }

    // Slow headers: a client that never finishes its header block is cut off.
    let slow = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(GUARD)).unwrap();
        s.write_all(b"POST /cxml HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            .unwrap();
        let mut buf = [0u8; 512];
        // EOF (0) or a reset: the server closed it. A timeout here means it never did.
        match s.read(&mut buf) {
            Ok(n) => Ok(String::from_utf8_lossy(&buf[..n]).to_string()),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                Err("the server kept the slow-header connection open".to_string())
            }
            Err(e) => Ok(format!("closed with {e}")),
        }
    })
    .await
    .unwrap();
    let slow = slow.unwrap();
    assert!(
        slow.is_empty() || slow.contains("408") || slow.starts_with("closed"),
        "{slow}"
    );
    // And the server still answers.
    let r = fresh.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // The invoice reached Coupa (the gateway fetched an OAuth token with its client secret).
    let sb = &sandbox;
    let deadline = tokio::time::Instant::now() + GUARD;
    while tokio::time::Instant::now() < deadline
        && !sb
            .invoices()
            .iter()
            .any(|i| i["invoice-number"] == "SEC-REST-1")
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(sb.stats().tokens_issued >= 1);
    drop(child);

    // No secret in any log line.
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.lines().count() > 5,
        "too little logged to judge: {logged}"
    );
    for secret in SECRETS.iter().chain(std::iter::once(&wrong_guess)) {
        let lines: Vec<&str> = logged.lines().filter(|l| l.contains(secret)).collect();
        assert!(lines.is_empty(), "secret {secret:?} logged: {lines:#?}");
    }
    eprintln!(
        "SECURITY: {} log lines at debug scanned for {} secrets: none found",
        logged.lines().count(),
        SECRETS.len() + 1
    );
    sandbox.shutdown().await.unwrap();
    let _ = Format::Cxml;
}

/// A gateway started in this process on `text` (files under `dir`, the embedded bus), the
/// way `gateway serve` starts: the bus, the Coupa parts, the service.
async fn start_gateway_in_process(
    dir: &Path,
    text: &str,
) -> (
    gateway_server::service::Running,
    std::sync::Arc<dyn gateway_core::Broker>,
    gateway_server::config::Config,
) {
    let config =
        gateway_server::config::Config::parse(text, "hostile test", std::iter::empty()).unwrap();
    let bus = gateway_server::bus::open(&config.bus, gateway_server::bus::Role::Server)
        .await
        .unwrap();
    let coupa = gateway_server::coupa_link::parts(&config).unwrap();
    let codecs =
        gateway_server::codecs::Codecs::with_x12_control_numbers_in(&dir.join("x12-control"));
    let (running, _pipeline) = gateway_server::service::start(gateway_server::service::Parts {
        config: config.clone(),
        codecs,
        bus: std::sync::Arc::clone(&bus),
        coupa: Some(coupa),
    })
    .await
    .unwrap();
    (running, bus, config)
}

/// QA: the example configuration's client id (`gateway`) against the sandbox, which wants
/// `sandbox-client`. A refused token request is the gateway's fault, not the invoice's: the
/// invoice is retried (not dead-lettered on its first attempt), `/readyz` says 503 naming the
/// refusal and what to check, and once the configuration is fixed and the service started
/// again the same invoice is delivered, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_coupa_credentials_keep_invoices_retrying_and_readyz_names_the_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = seeded_sandbox().await;
    // Tiers long enough to restart within them; the PO poller asks for a token once, at start,
    // so the token requests after it are the invoice's delivery attempts.
    let good = config_text(dir.path(), &sandbox.base_url(), None, "creds")
        .replace(
            "retry_tiers_ms = [200, 1000, 3000]",
            "retry_tiers_ms = [200, 500, 1000, 2000, 4000, 8000]",
        )
        .replace(
            "[po_poller]\ninterval_ms = 300",
            "[po_poller]\ninterval_ms = 600000",
        );
    assert!(good.contains("8000]") && good.contains("interval_ms = 600000"));
    let wrong = good.replace("client_id = \"sandbox-client\"", "client_id = \"gateway\"");
    assert_ne!(wrong, good);
    let token_requests = || {
        sandbox
            .request_log()
            .iter()
            .filter(|r| r.path == "/oauth2/token")
            .count()
    };

    let (running, bus, config) = start_gateway_in_process(dir.path(), &wrong).await;
    let base = running.base_url();
    let http = reqwest::Client::new();
    let codecs = gateway_server::codecs::Codecs::standard();
    let acme = crate::faults::partner(&config, ACME);
    let r = http
        .post(format!("{base}/cxml"))
        .body(cxml_bytes(&codecs, &acme, &invoice("CREDS-1")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());

    // The poller's request and three delivery attempts, each refused.
    let deadline = tokio::time::Instant::now() + GUARD;
    while token_requests() < 4 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(token_requests() >= 4, "the invoice was not retried");
    let dead = bus
        .dead_letters("coupa-invoices", &Default::default(), 10)
        .await
        .unwrap();
    assert!(
        dead.is_empty(),
        "dead-lettered for the gateway's credentials: {:?}",
        dead.iter().map(|d| &d.reason).collect::<Vec<_>>()
    );
    let r = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let said = r.text().await.unwrap();
    assert!(
        said.contains(
            "coupa: token refused (401 invalid_client): check [coupa] client_id/client_secret"
        ),
        "{said}"
    );
    assert!(!said.contains("sandbox-secret"), "{said}");
    assert!(sandbox.invoices().is_empty());

    // Fixed and started again: the invoice waiting in its retry tier is delivered.
    running.shutdown().await;
    drop(bus);
    let (running, bus, _) = start_gateway_in_process(dir.path(), &good).await;
    let base = running.base_url();
    let deadline = tokio::time::Instant::now() + GUARD;
    while !sandbox
        .invoices()
        .iter()
        .any(|i| i["invoice-number"] == "CREDS-1")
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let delivered = sandbox
        .invoices()
        .iter()
        .filter(|i| i["invoice-number"] == "CREDS-1")
        .count();
    assert_eq!(delivered, 1, "delivered once after the fix");
    let r = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    assert!(
        bus.dead_letters("coupa-invoices", &Default::default(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    running.shutdown().await;
    sandbox.shutdown().await.unwrap();
}

/// QA: a request `/x12` cannot acknowledge (no interchange in it) gets a 400 saying what it
/// looks like and where it goes, not a 200 with an empty body; a body over `max_body_bytes`
/// gets 413 in the endpoint's own format stating the limit (a cXML Response with Status 413
/// on `/cxml`, JSON on the REST API, plain text on `/x12`), not axum's "Failed to buffer the
/// request body".
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn x12_without_an_interchange_and_bodies_over_the_limit_are_answered_in_kind() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = seeded_sandbox().await;
    let text = config_text(dir.path(), &sandbox.base_url(), None, "kinds").replace(
        "listen = \"127.0.0.1:0\"",
        "listen = \"127.0.0.1:0\"\nmax_body_bytes = 65536",
    );
    let (running, _bus, config) = start_gateway_in_process(dir.path(), &text).await;
    let base = running.base_url();
    let http = reqwest::Client::new();
    let codecs = gateway_server::codecs::Codecs::standard();
    let acme = crate::faults::partner(&config, ACME);
    let cxml = cxml_bytes(&codecs, &acme, &invoice("KIND-1"));

    for (body, found) in [
        (cxml.clone(), "this looks like XML — cXML goes to /cxml"),
        (
            gateway_model::to_json(&Document::Invoice(invoice("KIND-2"))).into_bytes(),
            "this looks like JSON — canonical JSON goes to /api/v1/documents",
        ),
        (Vec::new(), "the body is empty"),
    ] {
        let r = http
            .post(format!("{base}/x12"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{found}");
        let said = r.text().await.unwrap();
        assert!(
            said.starts_with(&format!(
                "expected an X12 interchange starting with ISA; {found}"
            )),
            "{said}"
        );
    }
    // A real interchange still goes through.
    let mut sender = acme.clone();
    if let Some(x) = sender.x12.as_mut() {
        std::mem::swap(&mut x.our_id, &mut x.partner_id);
        std::mem::swap(&mut x.our_qualifier, &mut x.partner_qualifier);
    }
    let edi = codecs
        .encoder(Format::X12)
        .unwrap()
        .encode(&[Document::Invoice(invoice("KIND-3"))], &sender)
        .unwrap();
    let r = http
        .post(format!("{base}/x12"))
        .bearer_auth("acme-token")
        .body(edi)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().starts_with("ISA"));

    // Over the limit, each endpoint in its own format. A new connection each: the server may
    // close one after a 413 without reading the body.
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let big = vec![b'<'; 100_000];
    let limit = "the limit is 65536 bytes";
    let r = fresh
        .post(format!("{base}/cxml"))
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let said = r.text().await.unwrap();
    assert!(
        said.contains("<cXML") && said.contains("<Status code=\"413\"") && said.contains(limit),
        "{said}"
    );
    let r = fresh
        .post(format!("{base}/api/v1/documents"))
        .bearer_auth("acme-token")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let said: serde_json::Value = r.json().await.unwrap();
    assert!(
        said["error"].as_str().is_some_and(|e| e.contains(limit)),
        "{said}"
    );
    let r = fresh
        .post(format!("{base}/x12"))
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain")),
        "{:?}",
        r.headers()
    );
    let said = r.text().await.unwrap();
    assert!(
        said.contains(limit) && !said.contains("Failed to buffer"),
        "{said}"
    );
    running.shutdown().await;
    sandbox.shutdown().await.unwrap();
}
