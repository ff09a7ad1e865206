//! `gateway demo` and the end-to-end tests share this: a Coupa sandbox and a whole gateway on
//! free ports in a temporary folder (embedded bus, or RabbitMQ with a private namespace), three
//! partners, and helpers that send documents through each inbound path exactly as a partner
//! would (cXML POST, X12 POST, file drops, REST).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use gateway_core::{Broker, Encode, PartnerProfile};
use gateway_model::{Document, Invoice};
use gateway_sandbox::{Sandbox, SandboxHandle, SandboxOptions};
use serde_json::json;

use crate::codecs::Codecs;
use crate::config::Config;
use crate::service::{Parts, Running};

/// The canonical sample every demo invoice starts from.
const SAMPLE_INVOICE: &str = include_str!("../../../samples/json/invoice/rich.json");

/// The three demo partners.
pub const ACME: &str = "acme";
pub const GLOBEX: &str = "globex";
pub const NOBODY: &str = "nobody";
/// The address acme's billing system mails its invoices from (allowed by its `[email]` list).
pub const ACME_BILLING: &str = "billing@acme.example";

/// How to start the demo environment.
#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// RabbitMQ URL; `None` = the embedded bus.
    pub amqp_url: Option<String>,
    /// Seconds between PO polls and file-drop polls are kept short for the demo.
    pub po_count: usize,
    /// Make the sandbox enforce Coupa's published limit (25 requests/s, burst 20) with 429s,
    /// as the real Coupa does, instead of serving every request (the load tool's `--coupa-cap`).
    pub coupa_cap: bool,
}

/// A running sandbox + gateway.
pub struct DemoEnv {
    pub sandbox: SandboxHandle,
    pub running: Running,
    pub config: Config,
    pub bus: Arc<dyn Broker>,
    pub codecs: Codecs,
    pub dir: PathBuf,
    http: reqwest::Client,
    _temp: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for DemoEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoEnv")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// The demo configuration (three partners, short poll intervals) for a gateway whose files live
/// in `dir` and whose Coupa is the sandbox at `sandbox`. Public so tests can run the same
/// configuration in a separate `gateway serve` process.
pub fn config_text(dir: &Path, sandbox: &str, amqp: Option<&str>, namespace: &str) -> String {
    let d = dir.display();
    let amqp = amqp
        .map(|u| format!("amqp_url = \"{u}\""))
        .unwrap_or_default();
    format!(
        r#"
[http]
listen = "127.0.0.1:0"

[bus]
{amqp}
embedded_path = "{d}/bus.sqlite"
namespace = "{namespace}"
retry_tiers_ms = [200, 1000, 3000]
delivery_limit = 5
prefetch = 16

[ledger]
path = "{d}/ledger.sqlite"

[coupa]
base_url = "{sandbox}"
client_id = "sandbox-client"
client_secret = "sandbox-secret"
timeout_ms = 5000
# The demo's suppliers are the sandbox's own endpoints, on this machine: a dropped answer is
# given up on after 5 s, not the 60 s a real supplier gets.
supplier_timeout_ms = 5000
# The sandbox takes a token at once; Coupa asks clients to wait 5 s (the default).
token_activation_ms = 0

[file_drop]
root = "{d}/sftp"
poll_interval_ms = 100
min_age_ms = 200

[po_poller]
interval_ms = 300

[mailbox]
maildir = "{d}/maildir"
poll_interval_ms = 100

[[partners]]
id = "acme"
name = "Acme Supplies"
api_token = "acme-token"
[partners.coupa_supplier]
number = "ACME-1"
[partners.cxml]
from_domain = "DUNS"
from_identity = "acme"
to_domain = "NetworkID"
to_identity = "coupa-buyer"
sender_domain = "DUNS"
sender_identity = "acme"
shared_secret = "acme-secret"
outbound_shared_secret = "acme-po-secret"
[partners.x12]
partner_qualifier = "ZZ"
partner_id = "ACME"
our_qualifier = "ZZ"
our_id = "COUPAGW"
version = "004010"
[partners.outbound]
type = "cxml"
url = "{sandbox}/supplier/acme/cxml"
[partners.email]
from = ["{ACME_BILLING}"]

[[partners]]
id = "globex"
name = "Globex Corporation"
api_token = "globex-token"
[partners.coupa_supplier]
number = "GLOBEX-7"
[partners.x12]
partner_qualifier = "ZZ"
partner_id = "GLOBEX"
our_qualifier = "ZZ"
our_id = "COUPAGW"
version = "004010"
[partners.outbound]
type = "x12_file"
dir = "{d}/sftp/globex/Outgoing"

[[partners]]
id = "nobody"
name = "A supplier Coupa does not know"
api_token = "nobody-token"
[partners.coupa_supplier]
number = "NOT-IN-COUPA"
"#
    )
}

impl DemoEnv {
    /// Starts the sandbox (seeded with Acme, Globex and their POs) and the gateway.
    pub async fn start(opts: DemoOptions) -> anyhow::Result<Self> {
        let temp = tempfile::Builder::new()
            .prefix("coupa-gateway-demo-")
            .tempdir()
            .context("creating a temporary folder")?;
        let dir = temp.path().to_path_buf();
        let sandbox = Sandbox::start(SandboxOptions {
            rate_limit: opts.coupa_cap.then_some((
                adapter_coupa::config::DEFAULT_RATE_PER_SEC,
                adapter_coupa::config::DEFAULT_BURST,
            )),
            ..SandboxOptions::default()
        })
        .await
        .context("starting the Coupa sandbox")?;
        let acme = gateway_sandbox::demo::seed_demo(&sandbox, opts.po_count)
            .map_err(|e| anyhow::anyhow!("seeding the sandbox: {e}"))?;
        let _ = acme;
        let globex = sandbox
            .add_supplier(
                json!({"name": "Globex Corporation", "number": "GLOBEX-7", "po-method": "edi"}),
            )
            .map_err(|e| anyhow::anyhow!("seeding the sandbox: {e}"))?;
        if opts.po_count > 0 {
            sandbox
                .add_purchase_order(gateway_sandbox::demo::sample_purchase_order(
                    "PO-GLOBEX-1",
                    globex,
                ))
                .map_err(|e| anyhow::anyhow!("seeding the sandbox: {e}"))?;
        }
        let namespace = format!("demo{}", uuid::Uuid::new_v4().simple());
        let text = config_text(
            &dir,
            &sandbox.base_url(),
            opts.amqp_url.as_deref(),
            &namespace,
        );
        let config_path = dir.join("gateway.toml");
        std::fs::write(&config_path, &text)
            .with_context(|| format!("writing {}", config_path.display()))?;
        // GATEWAY__... overrides apply here too (the load tool lifts the Coupa rate limit with them).
        let config = Config::parse(&text, "demo configuration", std::env::vars())?;
        let bus = crate::bus::open(&config.bus, crate::bus::Role::Server).await?;
        let coupa = crate::coupa_link::parts(&config)?;
        let codecs = Codecs::with_x12_control_numbers_in(&dir.join("x12-control"));
        let (running, _pipeline) = crate::service::start(Parts {
            config: config.clone(),
            codecs: codecs.clone(),
            bus: Arc::clone(&bus),
            coupa: Some(coupa),
        })
        .await?;
        Ok(DemoEnv {
            sandbox,
            running,
            config,
            bus,
            codecs,
            dir,
            http: adapter_coupa::transport::client_builder()
                .timeout(Duration::from_secs(30))
                .build()?,
            _temp: Some(temp),
        })
    }

    pub fn partner(&self, id: &str) -> anyhow::Result<&PartnerProfile> {
        self.config
            .partners
            .iter()
            .find(|p| p.id == id)
            .with_context(|| format!("no demo partner {id}"))
    }

    /// The sample invoice with its number replaced. Its Coupa supplier number (`SUP-001`) is
    /// left out: every demo partner sends it, and an invoice naming another Coupa supplier
    /// than its sender's profile is refused at intake; the profiles say whose it is.
    pub fn invoice(number: &str) -> anyhow::Result<Invoice> {
        match gateway_model::from_json(SAMPLE_INVOICE.as_bytes())? {
            Document::Invoice(mut inv) => {
                inv.invoice_number = Some(number.into());
                if let Some(s) = &mut inv.supplier {
                    s.ids.retain(|i| {
                        !i.domain.eq_ignore_ascii_case("coupa")
                            && !i.domain.eq_ignore_ascii_case("coupa-number")
                    });
                }
                Ok(inv)
            }
            other => bail!("the sample is a {}, not an invoice", other.kind()),
        }
    }

    fn encode(
        &self,
        format: gateway_core::Format,
        doc: &Document,
        p: &PartnerProfile,
    ) -> anyhow::Result<Vec<u8>> {
        let enc: Arc<dyn Encode> = self
            .codecs
            .encoder(format)
            .with_context(|| format!("no {format} encoder"))?;
        Ok(enc.encode(std::slice::from_ref(doc), p)?)
    }

    /// The partner's side of X12: its interchange has the partner as sender.
    pub fn as_sent_by(p: &PartnerProfile) -> PartnerProfile {
        let mut mirrored = p.clone();
        if let Some(x) = mirrored.x12.as_mut() {
            std::mem::swap(&mut x.our_id, &mut x.partner_id);
            std::mem::swap(&mut x.our_qualifier, &mut x.partner_qualifier);
            std::mem::swap(&mut x.our_gs_id, &mut x.partner_gs_id);
        }
        mirrored
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url())
    }

    /// Posts `inv` as a cXML InvoiceDetailRequest from `partner`; (HTTP status, body).
    pub async fn post_cxml(&self, partner: &str, inv: &Invoice) -> anyhow::Result<(u16, String)> {
        let p = self.partner(partner)?;
        let body = self.encode(
            gateway_core::Format::Cxml,
            &Document::Invoice(inv.clone()),
            p,
        )?;
        let r = self
            .http
            .post(self.url("/cxml"))
            .header("content-type", "text/xml")
            .body(body)
            .send()
            .await?;
        Ok((r.status().as_u16(), r.text().await?))
    }

    /// Posts `inv` as `partner`'s cXML with `pdf` beside it, the way Coupa tells suppliers to
    /// send attachments: `multipart/related`, the cXML as the `start` part, the PDF a part it
    /// names by `cid:` (here `<name>`); (HTTP status, the cXML answer).
    pub async fn post_cxml_with_pdf(
        &self,
        partner: &str,
        inv: &Invoice,
        name: &str,
        pdf: &[u8],
    ) -> anyhow::Result<(u16, String)> {
        let p = self.partner(partner)?;
        let cxml = self.encode(
            gateway_core::Format::Cxml,
            &Document::Invoice(inv.clone()),
            p,
        )?;
        let boundary = "demo-part-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-ID: <payload.xml>\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(&cxml);
        body.extend_from_slice(
            format!(
                "\r\n--{boundary}\r\nContent-Type: application/pdf\r\nContent-ID: <{name}>\r\nContent-Transfer-Encoding: binary\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(pdf);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let r = self
            .http
            .post(self.url("/cxml"))
            .header(
                "content-type",
                format!(
                    "multipart/related; boundary=\"{boundary}\"; type=\"text/xml\"; start=\"<payload.xml>\""
                ),
            )
            .body(body)
            .send()
            .await?;
        Ok((r.status().as_u16(), r.text().await?))
    }

    /// Posts `inv` as an X12 810 from `partner`, with its token; (HTTP status, the 997
    /// returned).
    pub async fn post_x12(&self, partner: &str, inv: &Invoice) -> anyhow::Result<(u16, String)> {
        let body = self.x12_from(partner, inv)?;
        self.post_x12_bytes(partner, body).await
    }

    /// The `api_token` of the demo partner whose id `edi`'s ISA06 names (`POST /x12` takes a
    /// partner's interchanges only with it); `None` for a sender no partner has, or an input
    /// without an interchange header.
    pub fn x12_token(&self, edi: &[u8]) -> Option<&str> {
        let isa06 = std::str::from_utf8(edi.get(35..50)?).ok()?.trim();
        self.config
            .partners
            .iter()
            .find(|p| {
                p.x12
                    .as_ref()
                    .and_then(|x| x.partner_id.as_deref())
                    .is_some_and(|id| id == isa06)
            })
            .and_then(|p| p.api_token.as_ref())
            .map(|t| t.expose())
    }

    /// Posts `body` to `/x12` as `partner` does: with its `api_token` as the bearer token
    /// (`POST /x12` takes a partner's interchanges only with it); (HTTP status, the answer).
    pub async fn post_x12_bytes(
        &self,
        partner: &str,
        body: impl Into<reqwest::Body>,
    ) -> anyhow::Result<(u16, String)> {
        let token = self
            .partner(partner)?
            .api_token
            .as_ref()
            .with_context(|| format!("demo partner {partner} has no api_token"))?;
        let r = self
            .http
            .post(self.url("/x12"))
            .bearer_auth(token.expose())
            .body(body)
            .send()
            .await?;
        Ok((r.status().as_u16(), r.text().await?))
    }

    /// `inv` as an 810 interchange from `partner` to the gateway (the partner's ids as sender).
    pub fn x12_from(&self, partner: &str, inv: &Invoice) -> anyhow::Result<Vec<u8>> {
        let p = Self::as_sent_by(self.partner(partner)?);
        self.encode(
            gateway_core::Format::X12,
            &Document::Invoice(inv.clone()),
            &p,
        )
    }

    /// Posts canonical JSON with the partner's bearer token.
    pub async fn post_rest(&self, token: &str, doc: &Document) -> anyhow::Result<(u16, String)> {
        let r = self
            .http
            .post(self.url("/api/v1/documents"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(gateway_model::to_json(doc))
            .send()
            .await?;
        Ok((r.status().as_u16(), r.text().await?))
    }

    /// Drops a file into the partner's `Incoming` folder the way an SFTP upload ends: written
    /// under a temporary name, then renamed.
    pub fn drop_file(&self, partner: &str, name: &str, bytes: &[u8]) -> anyhow::Result<PathBuf> {
        let dir = self.incoming(partner)?;
        std::fs::create_dir_all(&dir)?;
        let tmp = dir.join(format!(".{name}.part"));
        std::fs::write(&tmp, bytes)?;
        let dest = dir.join(name);
        std::fs::rename(&tmp, &dest)?;
        Ok(dest)
    }

    fn incoming(&self, partner: &str) -> anyhow::Result<PathBuf> {
        let fd = self
            .config
            .file_drop
            .as_ref()
            .context("no file drop configured")?;
        Ok(fd.root.join(partner).join("Incoming"))
    }

    /// An X12 810 file from `partner`.
    pub fn drop_x12(&self, partner: &str, inv: &Invoice, name: &str) -> anyhow::Result<PathBuf> {
        let p = Self::as_sent_by(self.partner(partner)?);
        let body = self.encode(
            gateway_core::Format::X12,
            &Document::Invoice(inv.clone()),
            &p,
        )?;
        self.drop_file(partner, name, &body)
    }

    /// Mails `inv` as acme's billing system does: an X12 810 attachment with the invoice's PDF
    /// copy beside it, from [`ACME_BILLING`], delivered into the gateway's Maildir as an MTA
    /// delivers. Returns the delivered file.
    pub fn mail_x12_with_pdf(
        &self,
        inv: &Invoice,
        pdf_name: &str,
        pdf: &[u8],
    ) -> anyhow::Result<PathBuf> {
        let number = inv.invoice_number.as_deref().unwrap_or("unnumbered");
        let edi = self.x12_from(ACME, inv)?;
        let raw = invoice_mail(
            ACME_BILLING,
            number,
            (&format!("{number}.edi"), "application/EDI-X12", edi),
            Some((pdf_name, pdf)),
        )?;
        let maildir = self
            .config
            .mailbox
            .as_ref()
            .and_then(|m| m.maildir.clone())
            .context("no Maildir configured")?;
        Ok(deliver_to_maildir(
            &maildir,
            &format!("{}.demo.{number}", std::process::id()),
            &raw,
        )?)
    }

    /// A CSV file (Coupa invoice import layout) from `partner`.
    pub fn drop_csv(&self, partner: &str, inv: &Invoice, name: &str) -> anyhow::Result<PathBuf> {
        let p = self.partner(partner)?;
        let body = self.encode(
            gateway_core::Format::Csv,
            &Document::Invoice(inv.clone()),
            p,
        )?;
        self.drop_file(partner, name, &body)
    }

    /// The configuration file of this environment (for `gateway dlq --config`).
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("gateway.toml")
    }

    /// Invoice numbers the sandbox holds.
    pub fn coupa_invoice_numbers(&self) -> Vec<String> {
        self.sandbox.invoice_numbers()
    }

    /// Files written to a partner's `Outgoing` folder.
    pub fn outgoing(&self, partner: &str) -> Vec<PathBuf> {
        let Some(fd) = self.config.file_drop.as_ref() else {
            return Vec::new();
        };
        let mut out: Vec<PathBuf> = std::fs::read_dir(fd.root.join(partner).join("Outgoing"))
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        out.sort();
        out
    }

    /// Waits until `done` holds, checking every 100 ms, at most `limit`. Returns whether it did.
    pub async fn wait_until(&self, limit: Duration, mut done: impl FnMut(&Self) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if done(self) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the gateway and the sandbox; with RabbitMQ, deletes the demo's queues.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.running.shutdown().await;
        if let Some(url) = &self.config.bus.amqp_url {
            let b = gateway_broker::RabbitBroker::connect(
                url.expose(),
                crate::bus::topology(&self.config.bus),
            )
            .await?;
            b.delete_topology().await?;
        }
        self.sandbox.shutdown().await?;
        Ok(())
    }
}

/// The 997 a supplier's translator sends back for `edi`, an interchange of one set the gateway
/// wrote (an 850, an 824): addressed back to the gateway, naming the group's functional id and
/// control number and the set's id and control number, with `set_loop` (`AK5*A~`, or AK3/AK4
/// and `AK5*R*5~`) as the verdict on its one set.
pub fn supplier_997(edi: &[u8], set_loop: &str) -> anyhow::Result<String> {
    let (mut isa, mut gs, mut st) = (Vec::new(), Vec::new(), Vec::new());
    for seg in adapter_x12::tokenizer::Tokenizer::new(edi) {
        let seg = seg.map_err(|e| anyhow::anyhow!("the interchange does not tokenize: {e:?}"))?;
        let fields: Vec<String> = seg
            .elements()
            .map(|e| String::from_utf8_lossy(e).trim().to_string())
            .collect();
        match seg.id() {
            b"ISA" => isa = fields,
            b"GS" => gs = fields,
            b"ST" => st = fields,
            _ => {}
        }
    }
    let field = |v: &[String], n: usize| {
        v.get(n)
            .cloned()
            .context("the interchange lacks an envelope element")
    };
    let (st01, st02) = (field(&st, 1)?, field(&st, 2)?);
    let (to_q, to, from_q, from) = (
        field(&isa, 5)?,
        field(&isa, 6)?,
        field(&isa, 7)?,
        field(&isa, 8)?,
    );
    let (gs01, gs02, gs03, gs06) = (
        field(&gs, 1)?,
        field(&gs, 2)?,
        field(&gs, 3)?,
        field(&gs, 6)?,
    );
    let ak9 = if set_loop.contains("AK5*A") {
        "AK9*A*1*1*1"
    } else {
        "AK9*R*1*1*0"
    };
    // ST, AK1, AK2, the set loop, AK9 and SE.
    let count = 5 + set_loop.matches('~').count();
    Ok(format!(
        "ISA*00*          *00*          *{from_q:<2}*{from:<15}*{to_q:<2}*{to:<15}*261203*1200*U*00401*000000901*0*P*>~\n\
         GS*FA*{gs03}*{gs02}*20261203*1200*901*X*004010~\n\
         ST*997*0001~\nAK1*{gs01}*{gs06}~\nAK2*{st01}*{st02}~\n{set_loop}\n{ak9}~\nSE*{count}*0001~\n\
         GE*1*901~\nIEA*1*000000901~\n"
    ))
}

/// A supplier's mail carrying invoice `number`: a line of text, the invoice file
/// (`(name, MIME type, bytes)`) and, when given, its PDF copy, from `from`.
pub fn invoice_mail(
    from: &str,
    number: &str,
    (name, mime, bytes): (&str, &str, Vec<u8>),
    pdf: Option<(&str, &[u8])>,
) -> anyhow::Result<Vec<u8>> {
    use adapter_email::lettre::Message;
    use adapter_email::lettre::message::header::ContentType;
    use adapter_email::lettre::message::{Attachment, MultiPart, SinglePart};
    let mut parts = MultiPart::mixed()
        .singlepart(SinglePart::plain(format!("Invoice {number} is attached.")))
        .singlepart(Attachment::new(name.to_string()).body(bytes, ContentType::parse(mime)?));
    if let Some((pdf_name, pdf)) = pdf {
        parts = parts.singlepart(
            Attachment::new(pdf_name.to_string())
                .body(pdf.to_vec(), ContentType::parse("application/pdf")?),
        );
    }
    let domain = from.rsplit_once('@').map_or("supplier.example", |(_, d)| d);
    let message = Message::builder()
        .from(from.parse()?)
        .to("ap@globex.example".parse()?)
        .subject(format!("Invoice {number}"))
        .message_id(Some(format!("<{number}@{domain}>")))
        .multipart(parts)?;
    Ok(message.formatted())
}

/// Delivers `raw` into `maildir` as an MTA does: written into `tmp/`, renamed into `new/`, so
/// the gateway never reads half a message. Returns the delivered file.
pub fn deliver_to_maildir(maildir: &Path, name: &str, raw: &[u8]) -> std::io::Result<PathBuf> {
    for sub in ["tmp", "new"] {
        std::fs::create_dir_all(maildir.join(sub))?;
    }
    let tmp = maildir.join("tmp").join(name);
    std::fs::write(&tmp, raw)?;
    let dest = maildir.join("new").join(name);
    std::fs::rename(&tmp, &dest)?;
    Ok(dest)
}

/// The 850 files among a partner's outgoing files (acknowledgments are `*.ack.edi`).
pub fn po_files(files: &[PathBuf]) -> usize {
    files
        .iter()
        .filter(|f| {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            name.ends_with(".edi") && !name.ends_with(".ack.edi")
        })
        .count()
}

/// What the demo expects and what happened, per inbound path.
/// What a cXML sender heard: the HTTP status and, when it says so, the cXML 200.
fn cxml_answer(status: u16, body: &str) -> String {
    let ok = if body.contains("code=\"200\"") {
        ", cXML 200 OK"
    } else {
        ""
    };
    format!("HTTP {status}{ok}")
}

/// The demo's PDF copy of an invoice (a minimal PDF: header, one empty page, trailer).
const DEMO_PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
const DEMO_PDF_NAME: &str = "DEMO-CXML-PDF-1.pdf";
/// The PDF mailed beside DEMO-MAIL-1: its name holds the invoice number, as suppliers name them.
const DEMO_MAIL_PDF_NAME: &str = "DEMO-MAIL-1.pdf";

#[derive(Debug, Clone)]
struct PathResult {
    adapter: &'static str,
    invoice: String,
    answer: String,
}

fn step(out: &mut dyn std::io::Write, text: &str) {
    let _ = writeln!(out, "  {text}");
    let _ = out.flush();
}

/// Globex's translator accepts the 850 it was sent with a 997 in its Incoming folder; the
/// verdict the gateway then records on the PO's ledger row, if it does within the wait.
async fn supplier_acknowledges(env: &DemoEnv, files: &[PathBuf]) -> Option<String> {
    let edi = files
        .iter()
        .find(|f| !f.to_string_lossy().ends_with(".ack.edi"))
        .and_then(|f| std::fs::read(f).ok())?;
    let ack = supplier_997(&edi, "AK5*A~").ok()?;
    env.drop_file(GLOBEX, "po-acknowledgment.997", ack.as_bytes())
        .ok()?;
    let row = || {
        env.running
            .ledger
            .search(&crate::ledger::DocumentFilter {
                partner: Some(GLOBEX),
                kind: Some("purchase_order"),
                limit: 1,
                ..Default::default()
            })
            .ok()
            .and_then(|rows| rows.into_iter().next())
            .filter(|e| !e.partner_ack.is_empty())
            .map(|e| e.partner_ack)
    };
    env.wait_until(Duration::from_secs(30), |_| row().is_some())
        .await
        .then(row)
        .flatten()
}

/// The operator's side of the poison invoice: ask Coupa what a replay would do (fail again),
/// fix the cause (the supplier is created in Coupa), ask again (it would be created), replay.
/// Returns whether the invoice then reached Coupa exactly once.
async fn operator_replays_the_poison(
    env: &DemoEnv,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<bool> {
    use crate::dlq::{DlqAction, DlqContext, run as dlq_run};
    let coupa = crate::coupa_link::invoice_lookup(&env.config)?;
    let cx = DlqContext {
        coupa: Some(&coupa),
        ledger: Some(&env.running.ledger),
        ..DlqContext::default()
    };
    let consumers = [crate::bus::COUPA_INVOICES];
    let filter = gateway_core::DeadFilter {
        partner: Some(NOBODY.into()),
        ..Default::default()
    };
    let preview = DlqAction::Preview {
        verb: "replay",
        limit: 10,
        tell_supplier: false,
    };
    let _ = writeln!(
        out,
        "\nThe operator's side: what would a replay do? (gateway dlq replay --partner nobody --dry-run)"
    );
    dlq_run(env.bus.as_ref(), cx, &consumers, &filter, &preview, out).await?;
    let _ = writeln!(
        out,
        "the operator creates supplier NOT-IN-COUPA in Coupa, and asks again:"
    );
    env.sandbox
        .add_supplier(json!({"name": "A supplier Coupa did not know", "number": "NOT-IN-COUPA"}))
        .map_err(|e| anyhow::anyhow!("adding the supplier to the sandbox: {e}"))?;
    dlq_run(env.bus.as_ref(), cx, &consumers, &filter, &preview, out).await?;
    let _ = writeln!(out, "and replays it (gateway dlq replay --partner nobody):");
    dlq_run(
        env.bus.as_ref(),
        cx,
        &consumers,
        &filter,
        &DlqAction::Replay,
        out,
    )
    .await?;
    let once = |e: &DemoEnv| {
        e.coupa_invoice_numbers()
            .iter()
            .filter(|n| *n == "DEMO-POISON-1")
            .count()
            == 1
    };
    let delivered = env.wait_until(Duration::from_secs(30), once).await;
    let _ = writeln!(
        out,
        "  DEMO-POISON-1 in Coupa after the replay: {}",
        if delivered { "yes, once" } else { "NO" }
    );
    Ok(delivered)
}

/// `gateway demo`: sends one invoice through every inbound path and a poison one, runs the PO
/// flow, shows an operator replaying the poison one after fixing its cause, and prints a
/// summary. Returns whether every expected outcome happened.
pub async fn run(opts: DemoOptions, out: &mut dyn std::io::Write) -> anyhow::Result<bool> {
    let bus_name = if opts.amqp_url.is_some() {
        "RabbitMQ"
    } else {
        "the embedded bus"
    };
    let _ = writeln!(out, "coupa-gateway demo: sandbox + gateway on {bus_name}");
    let env = DemoEnv::start(opts).await?;
    step(out, &format!("Coupa sandbox at {}", env.sandbox.base_url()));
    step(
        out,
        &format!(
            "gateway at {} (its files in {} while the demo runs; removed when it ends)",
            env.running.base_url(),
            env.dir.display()
        ),
    );

    let mut paths = Vec::new();
    let (s, b) = env
        .post_cxml(ACME, &DemoEnv::invoice("DEMO-CXML-1")?)
        .await?;
    paths.push(PathResult {
        adapter: "cxml",
        invoice: "DEMO-CXML-1".into(),
        answer: cxml_answer(s, &b),
    });
    step(
        out,
        &format!("POST /cxml       DEMO-CXML-1      → HTTP {s}"),
    );
    let (s, b) = env
        .post_cxml_with_pdf(
            ACME,
            &DemoEnv::invoice("DEMO-CXML-PDF-1")?,
            DEMO_PDF_NAME,
            DEMO_PDF,
        )
        .await?;
    paths.push(PathResult {
        adapter: "cxml+pdf",
        invoice: "DEMO-CXML-PDF-1".into(),
        answer: cxml_answer(s, &b),
    });
    step(
        out,
        &format!("POST /cxml       DEMO-CXML-PDF-1  (multipart/related, with its PDF) → HTTP {s}"),
    );
    let (s, b) = env.post_x12(ACME, &DemoEnv::invoice("DEMO-X12-1")?).await?;
    let ack = if b.contains("AK9*A") || b.contains("IK5*A") || b.contains("AK5*A") {
        "997 accepted"
    } else {
        "no accepting 997"
    };
    paths.push(PathResult {
        adapter: "x12",
        invoice: "DEMO-X12-1".into(),
        answer: format!("HTTP {s}, {ack}"),
    });
    step(
        out,
        &format!("POST /x12        DEMO-X12-1       → HTTP {s}, {ack}"),
    );
    env.drop_x12(
        GLOBEX,
        &DemoEnv::invoice("DEMO-EDI-FILE-1")?,
        "invoice-0001.edi",
    )?;
    paths.push(PathResult {
        adapter: "filedrop",
        invoice: "DEMO-EDI-FILE-1".into(),
        answer: "dropped in globex/Incoming".into(),
    });
    step(
        out,
        "file drop        DEMO-EDI-FILE-1  → sftp/globex/Incoming/invoice-0001.edi",
    );
    env.drop_csv(
        GLOBEX,
        &DemoEnv::invoice("DEMO-CSV-1")?,
        "invoices-0001.csv",
    )?;
    paths.push(PathResult {
        adapter: "filedrop",
        invoice: "DEMO-CSV-1".into(),
        answer: "dropped in globex/Incoming".into(),
    });
    step(
        out,
        "file drop        DEMO-CSV-1       → sftp/globex/Incoming/invoices-0001.csv",
    );
    env.mail_x12_with_pdf(
        &DemoEnv::invoice("DEMO-MAIL-1")?,
        DEMO_MAIL_PDF_NAME,
        DEMO_PDF,
    )?;
    paths.push(PathResult {
        adapter: "email",
        invoice: "DEMO-MAIL-1".into(),
        answer: "mailed from billing@acme".into(),
    });
    step(
        out,
        "e-mail           DEMO-MAIL-1      (X12 810 attached, with its PDF) → maildir/new",
    );
    let (s, _) = env
        .post_rest(
            "acme-token",
            &Document::Invoice(DemoEnv::invoice("DEMO-REST-1")?),
        )
        .await?;
    paths.push(PathResult {
        adapter: "rest",
        invoice: "DEMO-REST-1".into(),
        answer: format!("HTTP {s}"),
    });
    step(
        out,
        &format!("POST /api/v1/documents DEMO-REST-1 → HTTP {s}"),
    );
    let (s, _) = env
        .post_rest(
            "nobody-token",
            &Document::Invoice(DemoEnv::invoice("DEMO-POISON-1")?),
        )
        .await?;
    step(
        out,
        &format!("POST /api/v1/documents DEMO-POISON-1 (supplier unknown to Coupa) → HTTP {s}"),
    );

    step(out, "waiting for deliveries to Coupa ...");
    let expected: Vec<String> = paths.iter().map(|p| p.invoice.clone()).collect();
    let delivered = env
        .wait_until(Duration::from_secs(60), |e| {
            let have = e.coupa_invoice_numbers();
            expected.iter().all(|n| have.contains(n))
        })
        .await;
    let mut dead = Vec::new();
    let dead_deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::time::Instant::now() < dead_deadline {
        dead = env
            .bus
            .dead_letters(crate::bus::COUPA_INVOICES, &Default::default(), 100)
            .await?;
        if !dead.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    step(out, "waiting for purchase orders to reach suppliers ...");
    let pos_total = env.sandbox.purchase_orders().len();
    let pos_ok = env
        .wait_until(Duration::from_secs(60), |e| {
            let exported = e
                .sandbox
                .purchase_orders()
                .iter()
                .filter(|p| p.get("exported").and_then(|v| v.as_bool()) == Some(true))
                .count();
            exported == pos_total
        })
        .await;

    // A PDF is uploaded after the create, before the submit: wait for them too.
    let with_pdf = [
        ("DEMO-CXML-PDF-1", DEMO_PDF_NAME),
        ("DEMO-MAIL-1", DEMO_MAIL_PDF_NAME),
    ];
    let attached = |e: &DemoEnv, invoice: &str, name: &str| {
        e.sandbox
            .invoice_files(invoice)
            .iter()
            .any(|f| f.file_name == name && f.size == DEMO_PDF.len() as u64)
    };
    env.wait_until(Duration::from_secs(30), |e| {
        with_pdf.iter().all(|(inv, name)| attached(e, inv, name))
    })
    .await;
    let have = env.coupa_invoice_numbers();
    let _ = writeln!(out, "\nInvoices to Coupa");
    let _ = writeln!(
        out,
        "  {:<10} {:<17} {:<28} in Coupa",
        "adapter", "invoice", "sender's answer"
    );
    let mut ok = delivered;
    for p in &paths {
        let there = have.contains(&p.invoice);
        ok &= there;
        let pdf = with_pdf.iter().find(|(inv, _)| *inv == p.invoice);
        let pdf_attached = pdf.is_some_and(|(inv, name)| attached(&env, inv, name));
        let shown = match (there, pdf.is_some(), pdf_attached) {
            (false, _, _) => "NO",
            (true, false, _) => "yes",
            (true, true, true) => "yes, with its PDF attached",
            (true, true, false) => "yes, but its PDF is NOT attached",
        };
        ok &= pdf.is_none() || pdf_attached;
        let _ = writeln!(
            out,
            "  {:<10} {:<17} {:<28} {shown}",
            p.adapter, p.invoice, p.answer,
        );
    }
    let _ = writeln!(out, "\nDead letters (coupa-invoices): {}", dead.len());
    for d in &dead {
        let _ = writeln!(
            out,
            "  {} partner={} reason: {}",
            d.doc_id,
            d.partner.as_deref().unwrap_or("-"),
            d.reason
        );
    }
    let poison_dead = dead.iter().any(|d| d.partner.as_deref() == Some(NOBODY));
    ok &= poison_dead && dead.len() == 1;
    if poison_dead {
        ok &= operator_replays_the_poison(&env, out).await?;
    }

    let received = env.sandbox.supplier_received();
    let files = env.outgoing(GLOBEX);
    let _ = writeln!(out, "\nPurchase orders to suppliers");
    let _ = writeln!(
        out,
        "  acme   (cXML OrderRequest): {} received by the supplier endpoint",
        received.len()
    );
    let _ = writeln!(
        out,
        "  globex (X12 850 file):      {} file(s) in sftp/globex/Outgoing",
        po_files(&files)
    );
    let exported = env
        .sandbox
        .purchase_orders()
        .iter()
        .filter(|p| p.get("exported").and_then(|v| v.as_bool()) == Some(true))
        .count();
    let _ = writeln!(
        out,
        "  marked exported in Coupa:   {exported} of {pos_total}"
    );
    ok &= pos_ok;
    let verdict = supplier_acknowledges(&env, &files).await;
    let _ = writeln!(
        out,
        "  globex's 997 for its 850:   {}",
        verdict.as_deref().unwrap_or("NOT recorded")
    );
    ok &= verdict.is_some_and(|v| v.starts_with("accepted"));

    let _ = writeln!(
        out,
        "\n{}",
        if ok {
            "demo: every expected outcome happened"
        } else {
            "demo: some expected outcome did NOT happen (see above)"
        }
    );
    env.shutdown().await?;
    Ok(ok)
}
