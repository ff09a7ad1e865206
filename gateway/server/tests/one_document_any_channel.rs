//! One document, whatever channel brings it, driven through the real entry points (`POST
//! /cxml` and `POST /x12` on a local port, the Maildir reader, the file drop), each polled by
//! the test: a cXML invoice posted and then mailed, or an X12 interchange dropped and then
//! mailed, is one document (the copy a duplicate, nothing published twice), also for a ledger
//! that holds the mailed copy under the key an earlier release gave it; parallel copies of one
//! POST are told to retry, not that nothing was accepted; and a dropped file's refused sets are
//! listed with its accepted ones under `gateway documents --from FILE`, each saying where it
//! came from.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use adapter_email::{Limits, ParsedMail};
use gateway_core::{Broker, BusError, Message};
use gateway_server::codecs::Codecs;
use gateway_server::config::{Config, FileDropConfig};
use gateway_server::filedrop::FileDrop;
use gateway_server::ledger::{DocumentFilter, Entry, Ledger, NewDocument};
use gateway_server::mailbox::{Mailbox, MailboxConfig};
use gateway_server::pipeline::Pipeline;

/// Partner `acme` as QA configured it: cXML From DUNS:123456789 with a shared secret, X12
/// ZZ:ACMESUPPLY, mail from `@acme.example`, Coupa supplier ACME-1.
fn config_text(dir: &Path) -> String {
    let d = dir.display();
    format!(
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
api_token = "acme-token"
[partners.coupa_supplier]
number = "ACME-1"
[partners.cxml]
from_domain = "DUNS"
from_identity = "123456789"
to_domain = "NetworkID"
to_identity = "GLOBEX"
sender_domain = "DUNS"
sender_identity = "123456789"
shared_secret = "acme-shared-secret"
[partners.x12]
partner_qualifier = "ZZ"
partner_id = "ACMESUPPLY"
our_qualifier = "ZZ"
our_id = "GLOBEXCORP"
[partners.email]
from = ["@acme.example"]
"#
    )
}

/// QA's `a1_good.xml`: invoice QA-A1, payloadID `qa-a1@acme`.
const CXML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cXML.org/schemas/cXML/1.2.020/InvoiceDetail.dtd">
<cXML payloadID="qa-a1@acme" timestamp="2026-11-20T10:00:00-05:00" xml:lang="en-US" version="1.2.020">
<Header>
<From><Credential domain="DUNS"><Identity>123456789</Identity></Credential></From>
<To><Credential domain="NetworkID"><Identity>GLOBEX</Identity></Credential></To>
<Sender><Credential domain="DUNS"><Identity>123456789</Identity><SharedSecret>acme-shared-secret</SharedSecret></Credential><UserAgent>QA 1.0</UserAgent></Sender>
</Header>
<Request deploymentMode="production"><InvoiceDetailRequest>
<InvoiceDetailRequestHeader invoiceID="QA-A1" purpose="standard" operation="new" invoiceDate="2026-11-20T10:00:00-05:00">
<InvoiceDetailHeaderIndicator/><InvoiceDetailLineIndicator isTaxInLine="yes"/>
<PaymentTerm payInNumberOfDays="30"/>
</InvoiceDetailRequestHeader>
<InvoiceDetailOrder><InvoiceDetailOrderInfo><OrderReference orderID="PO-00001"><DocumentReference payloadID="PO-00001"/></OrderReference></InvoiceDetailOrderInfo><InvoiceDetailItem invoiceLineNumber="1" quantity="10"><UnitOfMeasure>EA</UnitOfMeasure><UnitPrice><Money currency="USD">12.50</Money></UnitPrice>
<InvoiceDetailItemReference lineNumber="1"><ItemID><SupplierPartID>GLV</SupplierPartID></ItemID><Description xml:lang="en">Gloves</Description></InvoiceDetailItemReference>
<SubtotalAmount><Money currency="USD">125.00</Money></SubtotalAmount><Tax><Money currency="USD">10.31</Money><Description xml:lang="en">tax</Description><TaxDetail purpose="tax" category="sales" percentageRate="8.25"><TaxAmount><Money currency="USD">10.31</Money></TaxAmount></TaxDetail></Tax></InvoiceDetailItem></InvoiceDetailOrder>
<InvoiceDetailSummary><SubtotalAmount><Money currency="USD">125.00</Money></SubtotalAmount><Tax><Money currency="USD">10.31</Money><Description xml:lang="en">Total tax</Description></Tax><GrossAmount><Money currency="USD">135.31</Money></GrossAmount><NetAmount><Money currency="USD">135.31</Money></NetAmount><DueAmount><Money currency="USD">135.31</Money></DueAmount></InvoiceDetailSummary>
</InvoiceDetailRequest></Request></cXML>
"#;

fn sample(path: &str) -> String {
    std::fs::read_to_string(gateway_core::testkit::repo_root().join(path)).unwrap()
}

/// The sample 810 from ZZ:ACMESUPPLY (interchange 000000042, group 42, set 0001, invoice
/// INV-2026-0042).
fn x12() -> String {
    sample("samples/x12/invoice/rich.edi")
}

/// The bus, with publishes held back while the gate is closed (a broker slow to confirm), and
/// counted when they start waiting.
struct Gate {
    inner: Arc<dyn Broker>,
    open: tokio::sync::watch::Sender<bool>,
    waiting: AtomicUsize,
}

impl Broker for Gate {
    fn publish<'a>(
        &'a self,
        batch: &'a [Message],
    ) -> futures::future::BoxFuture<'a, Result<(), BusError>> {
        Box::pin(async move {
            let mut open = self.open.subscribe();
            self.waiting.fetch_add(1, Ordering::SeqCst);
            let _ = open.wait_for(|o| *o).await;
            self.inner.publish(batch).await
        })
    }
    fn consume<'a>(
        &'a self,
        consumer: &'a str,
        handler: Arc<dyn gateway_core::Handler>,
        stop: gateway_core::Stop,
    ) -> futures::future::BoxFuture<'a, Result<(), BusError>> {
        self.inner.consume(consumer, handler, stop)
    }
    fn dead_letters<'a>(
        &'a self,
        consumer: &'a str,
        filter: &'a gateway_core::DeadFilter,
        limit: usize,
    ) -> futures::future::BoxFuture<'a, Result<Vec<gateway_core::DeadLetter>, BusError>> {
        self.inner.dead_letters(consumer, filter, limit)
    }
    fn replay<'a>(
        &'a self,
        consumer: &'a str,
        filter: &'a gateway_core::DeadFilter,
    ) -> futures::future::BoxFuture<'a, Result<usize, BusError>> {
        self.inner.replay(consumer, filter)
    }
    fn purge<'a>(
        &'a self,
        consumer: &'a str,
        filter: &'a gateway_core::DeadFilter,
    ) -> futures::future::BoxFuture<'a, Result<Vec<Option<String>>, BusError>> {
        self.inner.purge(consumer, filter)
    }
    fn depth<'a>(
        &'a self,
        consumer: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<gateway_core::QueueDepth, BusError>> {
        self.inner.depth(consumer)
    }
    fn ready(&self) -> futures::future::BoxFuture<'_, Result<(), BusError>> {
        self.inner.ready()
    }
}

/// Every inbound channel of one gateway, on one ledger and bus, polled by the test.
struct Env {
    dir: tempfile::TempDir,
    ledger: Arc<Ledger>,
    gate: Arc<Gate>,
    mailbox: Mailbox,
    maildir: PathBuf,
    drop: FileDrop,
    http: String,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(dir.path());
    std::fs::write(dir.path().join("gateway.toml"), &text).unwrap();
    let config = Config::parse(&text, "test", std::iter::empty()).unwrap();
    let bus = gateway_server::bus::open(&config.bus, gateway_server::bus::Role::Server)
        .await
        .unwrap();
    let (open, _) = tokio::sync::watch::channel(true);
    let gate = Arc::new(Gate {
        inner: bus,
        open,
        waiting: AtomicUsize::new(0),
    });
    let ledger = Arc::new(Ledger::open(&config.ledger.path).unwrap());
    let pipeline = Arc::new(Pipeline::new(
        Codecs::standard(),
        gateway_server::partners::Partners::new(config.partners.clone()),
        Arc::clone(&ledger),
        gate.clone(),
    ));
    let maildir = dir.path().join("Maildir");
    let mailbox_config = MailboxConfig {
        maildir: Some(maildir.clone()),
        poll_interval_ms: 50,
        max_message_bytes: 1024 * 1024,
        smtp: None,
        imap: None,
        tell_senders: false,
    };
    let mailbox = Mailbox::new(maildir.clone(), &mailbox_config, Arc::clone(&pipeline));
    mailbox.prepare().unwrap();
    let drop_config: FileDropConfig = toml::from_str(&format!(
        "root = \"{}\"\nmin_age_ms = 0",
        dir.path().join("sftp").display()
    ))
    .unwrap();
    let drop = FileDrop::new(drop_config, Arc::clone(&pipeline));
    drop.prepare().unwrap();
    let app = gateway_server::protocols::routes(pipeline, &Codecs::standard(), 1024 * 1024);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Env {
        dir,
        ledger,
        gate,
        mailbox,
        maildir,
        drop,
        http,
    }
}

/// A multipart message from acme's billing address with `name` attached (base64).
fn mail(message_id: &str, name: &str, content_type: &str, bytes: &[u8]) -> Vec<u8> {
    common::mail(
        "billing@acme.example",
        message_id,
        &[(name, content_type, bytes)],
    )
}

/// Posts `body` to `base` + `path`: (HTTP status, Retry-After, body).
async fn post(base: &str, path: &str, body: &str) -> (u16, Option<String>, String) {
    let resp = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", "text/xml")
        // acme's token, which `/x12` takes its interchanges with (`/cxml` reads its secret).
        .bearer_auth("acme-token")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, retry_after, resp.text().await.unwrap())
}

impl Env {
    /// Delivers `raw` into the Maildir and reads it: (documents published, duplicates).
    async fn mail_in(&self, name: &str, raw: &[u8]) -> (usize, usize) {
        gateway_server::demo::deliver_to_maildir(&self.maildir, name, raw).unwrap();
        let poll = self.mailbox.poll().await;
        assert_eq!(poll.seen.len(), 1, "{poll:?}");
        (poll.documents, poll.duplicates)
    }

    /// Drops a file in acme's folder and takes it: (documents published, duplicates).
    async fn drop_in(&mut self, name: &str, bytes: &[u8]) -> (usize, usize) {
        let incoming = self.drop.incoming("acme");
        let tmp = incoming.join(format!(".{name}.part"));
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, incoming.join(name)).unwrap();
        let mut documents = 0;
        let mut duplicates = 0;
        for _ in 0..2 {
            let poll = self.drop.poll().await;
            documents += poll.documents;
            duplicates += poll.duplicates;
        }
        assert!(!incoming.join(name).exists(), "{name} was not taken");
        (documents, duplicates)
    }

    async fn post(&self, path: &str, body: &str) -> (u16, Option<String>, String) {
        post(&self.http, path, body).await
    }

    async fn published(&self) -> u64 {
        self.gate
            .depth(gateway_server::bus::COUPA_INVOICES)
            .await
            .unwrap()
            .ready
    }

    fn numbered(&self, number: &str) -> Vec<Entry> {
        self.ledger
            .search(&DocumentFilter {
                number: Some(number),
                limit: 100,
                ..DocumentFilter::default()
            })
            .unwrap()
    }
}

/// QA: `a1_good.xml` posted to `/cxml`, then mailed as an attachment (same sender, payloadID
/// and content) was published a second time; only Coupa's duplicate guard kept a second
/// invoice out. The mailed copy was keyed by its message, not by its own From and payloadID.
/// The same for an X12 interchange dropped as a file and then mailed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_sent_again_through_another_channel_is_a_duplicate() {
    let mut env = env().await;
    let (status, _, body) = env.post("/cxml", CXML).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(env.published().await, 1);
    let (documents, duplicates) = env
        .mail_in(
            "1796000008.M8P1.test",
            &mail(
                "qa-mail-8@acme.example",
                "QA-A1.xml",
                "text/xml",
                CXML.as_bytes(),
            ),
        )
        .await;
    assert_eq!(
        (documents, duplicates),
        (0, 1),
        "the mailed copy of the posted cXML"
    );
    assert_eq!(env.published().await, 1, "published once");
    let rows = env.numbered("QA-A1");
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0].idempotency_key, "DUNS:123456789:qa-a1@acme");
    assert_eq!(rows[0].adapter, "cxml");

    // X12: dropped as a file, then mailed.
    let (documents, duplicates) = env.drop_in("inv-42.edi", x12().as_bytes()).await;
    assert_eq!((documents, duplicates), (1, 0));
    assert_eq!(env.published().await, 2);
    let (documents, duplicates) = env
        .mail_in(
            "1796000009.M9P1.test",
            &mail(
                "edi-42@acme.example",
                "inv-42.edi",
                "application/edi-x12",
                x12().as_bytes(),
            ),
        )
        .await;
    assert_eq!(
        (documents, duplicates),
        (0, 1),
        "the mailed copy of the dropped X12"
    );
    assert_eq!(env.published().await, 2, "published once");
    let rows = env.numbered("INV-2026-0042");
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0].idempotency_key, "ZZ:ACMESUPPLY:000000042/42/0001");

    // And the other way round: mailed first, then posted.
    let cxml = CXML
        .replace("qa-a1@acme", "qa-a2@acme")
        .replace("QA-A1", "QA-A2");
    let (documents, _) = env
        .mail_in(
            "1796000010.M10P1.test",
            &mail(
                "qa-mail-10@acme.example",
                "QA-A2.xml",
                "text/xml",
                cxml.as_bytes(),
            ),
        )
        .await;
    assert_eq!(documents, 1);
    let (status, _, body) = env.post("/cxml", &cxml).await;
    assert_eq!(status, 409, "a duplicate: {body}");
    assert_eq!(env.published().await, 3);
}

/// A ledger written before the keys changed holds a mailed cXML or X12 document under its
/// message's key (`<From address>:<Message-ID>/<attachment SHA-256>/<payloadID>`); the same
/// mail coming again after the upgrade (a mail server redelivering it, the supplier
/// resending) must still be a duplicate, not published a second time under its new key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_mailed_before_the_keys_changed_is_still_a_duplicate() {
    let env = env().await;
    let cases = [
        (
            "old-cxml@acme.example",
            "QA-A1.xml",
            "text/xml",
            CXML.to_string(),
            "qa-a1@acme",
            "QA-A1",
        ),
        (
            "old-x12@acme.example",
            "inv-42.edi",
            "application/edi-x12",
            x12(),
            "000000042/42/0001",
            "INV-2026-0042",
        ),
    ];
    for (n, (message_id, name, content_type, content, own_key, number)) in cases.iter().enumerate()
    {
        let raw = mail(message_id, name, content_type, content.as_bytes());
        // The row the earlier release wrote when the message first came, on the bus since.
        let parsed = ParsedMail::parse(&raw, &Limits::default()).unwrap();
        let sha = parsed.attachments.last().unwrap().sha256();
        let old_key = format!(
            "{}:{}/{sha}/{own_key}",
            parsed.from.as_deref().unwrap(),
            parsed.message_id
        );
        let doc_id = format!("doc-before-{n}");
        env.ledger
            .claim_content(
                &NewDocument {
                    idempotency_key: &old_key,
                    doc_id: &doc_id,
                    adapter: "email",
                    partner: "acme",
                    kind: "invoice",
                    number,
                    business_key: None,
                },
                // Its content hash does not matter: an earlier key names the very bytes sent.
                "",
                "",
            )
            .unwrap();
        env.ledger.mark_published(&old_key).unwrap();

        let (documents, duplicates) = env.mail_in(&format!("{n}.again.test"), &raw).await;
        assert_eq!((documents, duplicates), (0, 1), "{name} mailed again");
        let rows = env.numbered(number);
        assert_eq!(rows.len(), 1, "{rows:#?}");
        assert_eq!(rows[0].doc_id, doc_id);
    }
    assert_eq!(env.published().await, 0, "nothing published again");
}

/// QA: six parallel POSTs of one cXML invoice: one was accepted, the other five were told
/// "nothing was accepted, retry later", although the document was; their retry got 409. A copy
/// of a document another request is taking right now is still told to retry (503 with
/// Retry-After, cXML Status 500), but not that nothing was accepted: the retry's answer says
/// whether it was taken. The same for `/x12`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_posted_while_another_request_takes_it_is_told_to_retry_not_that_nothing_was_taken()
{
    let env = env().await;
    let x12 = x12();
    for (round, (path, body, duplicate)) in [("/cxml", CXML, 409), ("/x12", x12.as_str(), 200)]
        .into_iter()
        .enumerate()
    {
        env.gate.open.send_replace(false);
        let first = {
            let http = env.http.clone();
            let body = body.to_string();
            tokio::spawn(async move { post(&http, path, &body).await })
        };
        // The first request holds the document while its publish waits for the bus.
        let mut waited = 0;
        while env.gate.waiting.load(Ordering::SeqCst) <= round {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            waited += 1;
            assert!(waited < 1000, "the first request never published");
        }
        let (status, retry_after, answer) = env.post(path, body).await;
        assert_eq!(status, 503, "{answer}");
        assert!(retry_after.is_some(), "{answer}");
        if path == "/cxml" {
            assert!(answer.contains(r#"<Status code="500""#), "{answer}");
        }
        assert!(
            answer.contains("another request is taking this same document right now")
                && answer.contains("retry shortly and the answer will say whether it was taken"),
            "{answer}"
        );
        assert!(!answer.contains("nothing was accepted"), "{answer}");

        env.gate.open.send_replace(true);
        let (status, _, answer) = first.await.unwrap();
        assert_eq!(status, 200, "{answer}");
        // The retry: a duplicate (cXML 409; X12 acknowledged again, counted as a duplicate).
        let resp = reqwest::Client::new()
            .post(format!("{}{path}", env.http))
            .bearer_auth("acme-token")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), duplicate);
        if path == "/x12" {
            let result = resp
                .headers()
                .get("x-gateway-result")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            assert!(result.contains("duplicates=1"), "{result}");
        }
    }
    assert_eq!(env.published().await, 2);
}

/// The sample 810 as four sets of one interchange (INV-F-1..4): 1 and 2 good, 3 without its
/// BIG (not readable as an invoice), 4 a cancellation (BIG08 `01`, refused).
fn four_sets_two_refused() -> String {
    let edi = x12();
    let (envelope, rest) = edi.split_once("ST*810*0001~").unwrap();
    let (set_body, _) = rest.split_once("GE*1*42~").unwrap();
    let sep = if envelope.ends_with('\n') { "\n" } else { "" };
    let set = |k: u32| {
        let s = format!("ST*810*000{k}~{set_body}")
            .replace("SE*34*0001~", &format!("SE*34*000{k}~"))
            .replace("INV-2026-0042", &format!("INV-F-{k}"));
        match k {
            3 => s
                .replace(&format!("BIG*20260315*INV-F-3*20260301*PO-7781~{sep}"), "")
                .replace("SE*34*0003~", "SE*33*0003~"),
            4 => s.replace(
                "BIG*20260315*INV-F-4*20260301*PO-7781~",
                "BIG*20260315*INV-F-4*20260301*PO-7781****01~",
            ),
            _ => s,
        }
    };
    format!(
        "{envelope}{}{}{}{}GE*4*42~{sep}IEA*1*000000042~{sep}",
        set(1),
        set(2),
        set(3),
        set(4)
    )
}

/// QA: `gateway documents --from FILE` listed only the documents taken from an X12 file
/// dropped with a bad set; the refused ones had no `from:` line, so "what became of a dropped
/// file's documents" left them out. Every row of the file, refused or not, says where it came
/// from and is listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_files_refused_sets_are_listed_under_from_with_where_they_came_from() {
    let mut env = env().await;
    let (documents, _) = env
        .drop_in("f-0315.edi", four_sets_two_refused().as_bytes())
        .await;
    assert_eq!(documents, 2);
    let from = env
        .ledger
        .search(&DocumentFilter {
            from: Some("f-0315.edi"),
            limit: 100,
            ..DocumentFilter::default()
        })
        .unwrap();
    let mut fates: Vec<(String, String)> = from
        .iter()
        .map(|e| (e.number.clone(), e.status.clone()))
        .collect();
    fates.sort();
    assert_eq!(
        fates,
        [
            ("810 0003".to_string(), "rejected".to_string()),
            ("INV-F-1".into(), "published".into()),
            ("INV-F-2".into(), "published".into()),
            ("INV-F-4".into(), "rejected".into()),
        ],
        "{from:#?}"
    );
    for e in &from {
        assert!(e.source.starts_with("file f-0315.edi, "), "{e:#?}");
    }
    let set = |n: &str| from.iter().find(|e| e.number == n).unwrap().source.clone();
    assert!(set("810 0003").contains("set 0003"), "{}", set("810 0003"));
    assert!(set("INV-F-4").contains("set 0004"), "{}", set("INV-F-4"));

    // As an operator sees it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["documents", "--config"])
        .arg(env.dir.path().join("gateway.toml"))
        .args(["--from", "f-0315.edi"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        text.matches("    from: file f-0315.edi, ").count(),
        4,
        "{text}"
    );
    for number in ["INV-F-1", "INV-F-2", "810 0003", "INV-F-4"] {
        assert!(text.contains(number), "{number}: {text}");
    }
}
