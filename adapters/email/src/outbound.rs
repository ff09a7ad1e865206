//! Purchase orders out by mail: a readable text and HTML summary (PO number, what the message
//! does to the order, lines, totals; written by `po_summary`) with the PO attached in the
//! partner's format, sent with `lettre` over SMTP (plain on loopback, STARTTLS or implicit TLS
//! with rustls). SMTP 4xx and network trouble are retryable, 5xx permanent.

use std::path::PathBuf;
use std::time::Duration;

use gateway_core::profile::CxmlProfile;
use gateway_core::{DeliveryError, Format, PartnerProfile, Secret};
use gateway_model::PurchaseOrder;
use gateway_model::charset::Charset;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

pub use crate::po_summary::{html_body, subject, text_body, total};

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain SMTP: only for a relay on loopback.
    None,
    /// STARTTLS required (port 587 by default).
    #[default]
    Starttls,
    /// Implicit TLS (port 465 by default).
    Tls,
}

/// The SMTP relay POs are sent through (`[mailbox.smtp]` in `gateway.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    /// Default: 25 without TLS, 587 with STARTTLS, 465 with TLS.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub security: SmtpSecurity,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<Secret>,
    /// The sender of PO mails (`Purchasing <po@globex.example>`).
    pub from: String,
    /// Where suppliers' replies go, when not to `from`.
    #[serde(default)]
    pub reply_to: Option<String>,
    /// Extra PEM CA certificate to trust (a private relay).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
}

fn default_timeout() -> u64 {
    30_000
}

/// Why the SMTP client could not be set up. Not retryable: fix the configuration.
#[derive(Debug, thiserror::Error)]
pub enum SmtpSetupError {
    #[error("[mailbox.smtp] from {0:?} is not a mail address")]
    From(String),
    #[error("[mailbox.smtp] reply_to {0:?} is not a mail address")]
    ReplyTo(String),
    #[error("[mailbox.smtp] ca_file {path}: {message}")]
    Ca { path: String, message: String },
    #[error("[mailbox.smtp] TLS for {host}: {message}")]
    Tls { host: String, message: String },
    #[error("[mailbox.smtp] username and password must be set together")]
    Credentials,
}

/// Why a PO mail could not be built. Not retryable: the PO or profile must change.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("recipient {0:?} is not a mail address")]
    To(String),
    #[error("cannot build the mail: {0}")]
    Build(String),
}

/// Sends mails through one SMTP relay (connections are pooled).
///
/// lettre's connection pool starts a Tokio task when it is built and another when it is
/// dropped, which panics outside a Tokio runtime. So the pool is built on the first
/// [`SmtpMailer::send`] (always inside the runtime), never by [`SmtpMailer::new`]: a mailer
/// can be set up by a command before its runtime starts, or only asked what it would do
/// (`gateway dlq purge --tell-supplier --dry-run`), without one.
pub struct SmtpMailer {
    builder: AsyncSmtpTransportBuilder,
    transport: std::sync::OnceLock<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    relay: String,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("relay", &self.relay)
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    pub fn new(cfg: &SmtpConfig) -> Result<Self, SmtpSetupError> {
        let from: Mailbox = cfg
            .from
            .parse()
            .map_err(|_| SmtpSetupError::From(cfg.from.clone()))?;
        let reply_to = match &cfg.reply_to {
            Some(r) => Some(r.parse().map_err(|_| SmtpSetupError::ReplyTo(r.clone()))?),
            None => None,
        };
        let tls = match cfg.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::Starttls | SmtpSecurity::Tls => {
                let mut b = TlsParameters::builder(cfg.host.clone());
                if let Some(path) = &cfg.ca_file {
                    let pem = std::fs::read(path).map_err(|e| SmtpSetupError::Ca {
                        path: path.display().to_string(),
                        message: e.to_string(),
                    })?;
                    let cert = Certificate::from_pem(&pem).map_err(|e| SmtpSetupError::Ca {
                        path: path.display().to_string(),
                        message: e.to_string(),
                    })?;
                    b = b.add_root_certificate(cert);
                }
                let params = b.build_rustls().map_err(|e| SmtpSetupError::Tls {
                    host: cfg.host.clone(),
                    message: e.to_string(),
                })?;
                if cfg.security == SmtpSecurity::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let port = cfg.port.unwrap_or(match cfg.security {
            SmtpSecurity::None => 25,
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
        });
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(cfg.host.as_str())
                .port(port)
                .tls(tls)
                .timeout(Some(Duration::from_millis(cfg.timeout_ms.max(100))));
        match (&cfg.username, &cfg.password) {
            (Some(u), Some(p)) => {
                builder = builder.credentials(Credentials::new(u.clone(), p.expose().to_string()));
            }
            (None, None) => {}
            _ => return Err(SmtpSetupError::Credentials),
        }
        Ok(SmtpMailer {
            builder,
            transport: std::sync::OnceLock::new(),
            from,
            reply_to,
            relay: format!("{}:{port}", cfg.host),
        })
    }

    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    pub fn reply_to(&self) -> Option<&Mailbox> {
        self.reply_to.as_ref()
    }

    /// Sends `message`; the receipt is the relay's answer (`2.0.0 Ok: queued as ...`).
    pub async fn send(&self, message: Message) -> Result<String, DeliveryError> {
        self.send_outcome(message).await.map_err(|f| f.error)
    }

    /// [`SmtpMailer::send`], and on failure whether the relay may have taken the mail all the
    /// same ([`SmtpFailure::maybe_taken`]), for mails whose duplicate is better than their loss
    /// (a PO, whose later cancellation must go out if the supplier may have it).
    pub async fn send_outcome(&self, message: Message) -> Result<String, SmtpFailure> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(SmtpFailure {
                error: DeliveryError::permanent(format!(
                    "SMTP {}: the mailer was used outside a Tokio runtime (a bug in the caller)",
                    self.relay
                )),
                maybe_taken: false,
            });
        }
        let transport = self.transport.get_or_init(|| self.builder.clone().build());
        match transport.send(message).await {
            Ok(response) => {
                let text = response.message().collect::<Vec<_>>().join(" ");
                Ok(format!("smtp {}: {} {text}", self.relay, response.code()))
            }
            Err(e) => Err(SmtpFailure {
                error: classify_smtp_error(&self.relay, &e),
                maybe_taken: maybe_taken(&e),
            }),
        }
    }
}

impl Drop for SmtpMailer {
    /// A pool dropped outside a Tokio runtime (a command's mailer outliving its runtime) would
    /// panic starting its shutdown task; it is left to the process's exit instead.
    fn drop(&mut self) {
        if let Some(transport) = self.transport.take()
            && tokio::runtime::Handle::try_current().is_err()
        {
            std::mem::forget(transport);
        }
    }
}

/// A mail [`SmtpMailer::send_outcome`] could not send.
#[derive(Debug)]
pub struct SmtpFailure {
    /// Retryable or permanent, as for [`SmtpMailer::send`].
    pub error: DeliveryError,
    /// Whether the relay may have taken the mail: its reply to the end of the DATA (`250`) may
    /// be what was lost, the classic duplicate mail. lettre does not say at which command a
    /// failure came, so only what certainly came before the mail was taken counts as not
    /// sent: a reply refusing it (4xx/5xx, to any command), a connection or TLS session never
    /// made, or a message the client would not send. A lost or unreadable reply or a timeout
    /// (`network`, `response` errors), which may come after the final dot, counts as possibly
    /// sent.
    pub maybe_taken: bool,
}

/// [`SmtpFailure::maybe_taken`] of `e`.
fn maybe_taken(e: &lettre::transport::smtp::Error) -> bool {
    let certain = e.is_permanent()
        || e.is_transient()
        || e.is_client()
        || e.is_tls()
        || e.is_transport_shutdown()
        || e.to_string().starts_with("Connection error");
    !certain
}

/// 5xx is permanent (the relay refused this mail); 4xx, timeouts, network and TLS trouble may
/// pass later.
fn classify_smtp_error(relay: &str, e: &lettre::transport::smtp::Error) -> DeliveryError {
    let reason = format!("SMTP {relay}: {e}");
    if e.is_permanent() {
        DeliveryError::permanent(reason)
    } else {
        DeliveryError::retryable(reason)
    }
}

/// The attachment format for a partner: `[email] po_format`, else cXML with a `[cxml]`
/// section, X12 with `[x12]`, else CSV.
pub fn po_format(partner: &PartnerProfile) -> Format {
    if let Some(f) = partner.email.as_ref().and_then(|e| e.po_format) {
        return f;
    }
    if partner.cxml.is_some() {
        Format::Cxml
    } else if partner.x12.is_some() {
        Format::X12
    } else {
        Format::Csv
    }
}

/// The profile a PO mail's attachment is written with: `partner` with none of its secrets.
///
/// A cXML OrderRequest's `Sender/Credential/SharedSecret` (the profile's
/// `outbound_shared_secret`, else its `shared_secret`, which is also the secret the partner
/// authenticates to us with) proves the sender of a cXML HTTP POST. Attached to a mail it
/// proves nothing (nobody receives the mail as a cXML request, and anyone can write one), and
/// a mail is read, forwarded and stored in clear text on servers neither side controls: it
/// only hands out the secret, to whoever reads the supplier's order inbox. So every secret is
/// taken out before the attachment is written; the cXML writer then writes the Sender's
/// Credential with its Identity only, which cXML.dtd allows (`Credential (Identity,
/// (SharedSecret | DigitalSignature | CredentialMac)?)`). The partner's REST `api_token`
/// goes too, so no writer can put any secret of the profile in a mail.
///
/// Both profiles are taken apart field by field, with no `..`: a field added to either does
/// not compile here until it is said to be kept or dropped, so a new secret cannot slip into
/// mails unnoticed.
pub fn without_secrets(partner: &PartnerProfile) -> PartnerProfile {
    let PartnerProfile {
        id,
        name,
        coupa_supplier,
        x12,
        cxml,
        csv,
        email,
        api_token: _,
        outbound,
        anonymous,
    } = partner.clone();
    let cxml = cxml.map(|c| {
        let CxmlProfile {
            from_domain,
            from_identity,
            to_domain,
            to_identity,
            sender_domain,
            sender_identity,
            shared_secret: _,
            user_agent,
            deployment_mode,
            outbound_shared_secret: _,
            payload_id_host,
        } = c;
        CxmlProfile {
            from_domain,
            from_identity,
            to_domain,
            to_identity,
            sender_domain,
            sender_identity,
            shared_secret: None,
            user_agent,
            deployment_mode,
            outbound_shared_secret: None,
            payload_id_host,
        }
    });
    PartnerProfile {
        id,
        name,
        coupa_supplier,
        x12,
        cxml,
        csv,
        email,
        api_token: None,
        outbound,
        anonymous,
    }
}

/// File extension and MIME type of an attachment in `format`.
pub fn attachment_type(format: Format) -> (&'static str, &'static str) {
    match format {
        Format::Cxml => ("xml", "application/xml"),
        Format::X12 => ("edi", "application/EDI-X12"),
        Format::Csv => ("csv", "text/csv"),
        Format::Json | Format::Email => ("json", "application/json"),
    }
}

/// The character set an attachment in `format` is written in for `partner`, which its
/// `Content-Type` must name: a CSV file is in the partner's `csv.charset` (UTF-8 by default),
/// and a `text/*` part that names no charset is read by mail clients as US-ASCII (RFC 2046),
/// so `Müller` and `Église` showed garbled. `None` for the formats that are not text to a mail
/// reader (cXML, whose XML declaration names its encoding; X12; JSON, which is UTF-8).
pub fn attachment_charset(format: Format, partner: &PartnerProfile) -> Option<Charset> {
    match format {
        Format::Csv => Some(
            partner
                .csv
                .as_ref()
                .and_then(|c| c.charset)
                .unwrap_or_default(),
        ),
        Format::Cxml | Format::X12 | Format::Json | Format::Email => None,
    }
}

/// The MIME name of `charset` (RFC 2978 registry names).
fn mime_charset(charset: Charset) -> &'static str {
    match charset {
        Charset::Utf8 => "utf-8",
        Charset::Windows1252 => "windows-1252",
    }
}

/// One PO mail to build.
#[derive(Debug, Clone)]
pub struct PoMail<'a> {
    pub po: &'a PurchaseOrder,
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    pub to: &'a str,
    pub attachment_format: Format,
    /// The character set the attachment is written in, named in its `Content-Type`
    /// ([`attachment_charset`]).
    pub attachment_charset: Option<Charset>,
    pub attachment_name: String,
    pub attachment: Vec<u8>,
    /// Our id for the mail (`<doc id>@coupa-gateway`), so a supplier's reply can be traced.
    pub message_id: String,
}

/// Builds the mail: `multipart/mixed` of (`multipart/alternative` text + HTML) and the PO.
pub fn render_po_mail(m: PoMail<'_>) -> Result<Message, RenderError> {
    let to = recipients(m.to)?;
    let (_, mime) = attachment_type(m.attachment_format);
    let mime = match m.attachment_charset {
        Some(c) => format!("{mime}; charset={}", mime_charset(c)),
        None => mime.to_string(),
    };
    let ctype = ContentType::parse(&mime).map_err(|e| RenderError::Build(e.to_string()))?;
    let mut b = Message::builder().from(m.from);
    for mb in to {
        b = b.to(mb);
    }
    let mut b = b
        .subject(subject(m.po))
        .message_id(Some(format!("<{}>", m.message_id)));
    if let Some(r) = m.reply_to {
        b = b.reply_to(r);
    }
    b.multipart(
        MultiPart::mixed()
            .multipart(MultiPart::alternative_plain_html(
                text_body(m.po),
                html_body(m.po),
            ))
            .singlepart(Attachment::new(m.attachment_name).body(m.attachment, ctype)),
    )
    .map_err(|e| RenderError::Build(e.to_string()))
}

/// The addresses of `to`: one address or a comma-separated list (Coupa's `po-email` allows
/// both).
fn recipients(to: &str) -> Result<Vec<Mailbox>, RenderError> {
    let mut out: Vec<Mailbox> = Vec::new();
    for addr in to.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        out.push(
            addr.parse()
                .map_err(|_| RenderError::To(addr.to_string()))?,
        );
    }
    if out.is_empty() {
        return Err(RenderError::To(to.to_string()));
    }
    Ok(out)
}

/// One plain-text mail to a partner's people.
#[derive(Debug, Clone)]
pub struct NoticeMail<'a> {
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    /// One address or a comma-separated list.
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    /// Our id for the mail, so a reply can be traced.
    pub message_id: String,
    /// The Message-ID of the mail this answers, so the sender's client threads them.
    pub in_reply_to: Option<String>,
}

/// Builds a plain-text notice: what a partner whose channel is e-mail gets where others get a
/// document (an invoice the gateway gave up, say), since there is no document format to send.
pub fn render_notice_mail(m: NoticeMail<'_>) -> Result<Message, RenderError> {
    render_notice_mail_with(m, Vec::new())
}

/// A file attached to a notice ([`render_notice_mail_with`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailFile {
    pub name: String,
    /// Gives the MIME type ([`attachment_type`]).
    pub format: Format,
    pub bytes: Vec<u8>,
}

/// [`render_notice_mail`] with `files` attached (`multipart/mixed` of the text and the files):
/// an answer that is itself a document, such as the 997 a partner's mailed X12 is owed. With
/// no files, the plain-text notice.
pub fn render_notice_mail_with(
    m: NoticeMail<'_>,
    files: Vec<MailFile>,
) -> Result<Message, RenderError> {
    let mut b = Message::builder().from(m.from);
    for mb in recipients(m.to)? {
        b = b.to(mb);
    }
    let mut b = b
        .subject(m.subject)
        .message_id(Some(format!("<{}>", m.message_id)));
    if let Some(r) = m.reply_to {
        b = b.reply_to(r);
    }
    if let Some(id) = m.in_reply_to {
        b = b.in_reply_to(id.clone()).references(id);
    }
    if files.is_empty() {
        return b
            .header(ContentType::TEXT_PLAIN)
            .body(m.body.to_string())
            .map_err(|e| RenderError::Build(e.to_string()));
    }
    let mut parts = MultiPart::mixed().singlepart(
        lettre::message::SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(m.body.to_string()),
    );
    for f in files {
        let (_, mime) = attachment_type(f.format);
        let ctype = ContentType::parse(mime).map_err(|e| RenderError::Build(e.to_string()))?;
        parts = parts.singlepart(Attachment::new(f.name).body(f.bytes, ctype));
    }
    b.multipart(parts)
        .map_err(|e| RenderError::Build(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_model::{Document, from_json};

    fn po() -> PurchaseOrder {
        let json = r#"{"schema_version": 1, "kind": "purchase_order", "po_number": "PO-7781", "order_date": "2026-03-01", "currency": "USD", "buyer": {"name": "Globex <Corp>"}, "lines": [{"line_number": 1, "quantity": "10", "uom": "EA", "unit_price": "12.50", "description": "Safety gloves", "supplier_part_id": "GLV-1"}, {"line_number": 2, "quantity": "2", "uom": "BX", "unit_price": "3.25", "amount": "6.50", "description": "Cable ties & clips"}]}"#;
        match from_json(json.as_bytes()) {
            Ok(Document::PurchaseOrder(po)) => po,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bodies_carry_number_lines_and_total() {
        let p = po();
        let text = text_body(&p);
        assert!(
            text.contains("Purchase order PO-7781 from Globex <Corp>"),
            "{text}"
        );
        assert!(
            text.contains("1. GLV-1 Safety gloves 10 x 12.50 USD = 125.00 USD (EA)"),
            "{text}"
        );
        assert!(text.contains("Total: 131.50 USD"), "{text}");
        let html = html_body(&p);
        assert!(html.contains("Globex &lt;Corp&gt;"), "{html}");
        assert!(html.contains("Cable ties &amp; clips"), "{html}");
        assert!(html.contains("Total: 131.50 USD"), "{html}");
    }

    #[test]
    fn a_notice_mail_is_plain_text_to_every_address_with_its_id() {
        let mail = |to: &'static str| {
            render_notice_mail(NoticeMail {
                from: "Gateway <gw@globex.example>".parse().unwrap(),
                reply_to: None,
                to,
                subject: "Invoice INV-9 was not accepted",
                body: "Coupa refused it: unknown PO.\nPlease send it again corrected.",
                message_id: "n-1@coupa-gateway".into(),
                in_reply_to: Some("<orig-7@acme.example>".into()),
            })
        };
        let raw =
            String::from_utf8(mail("a@acme.example, b@acme.example").unwrap().formatted()).unwrap();
        assert!(raw.contains("To: a@acme.example, b@acme.example"), "{raw}");
        assert!(
            raw.contains("Subject: Invoice INV-9 was not accepted"),
            "{raw}"
        );
        assert!(raw.contains("Content-Type: text/plain"), "{raw}");
        assert!(raw.contains("Message-ID: <n-1@coupa-gateway>"), "{raw}");
        assert!(raw.contains("In-Reply-To: <orig-7@acme.example>"), "{raw}");
        assert!(raw.contains("Please send it again corrected."), "{raw}");
        match mail("not an address") {
            Err(RenderError::To(a)) => assert_eq!(a, "not an address"),
            other => panic!("{other:?}"),
        }
    }

    /// A notice with files: the text and each file, read back whole by the inbound parser,
    /// threaded like the plain notice.
    #[test]
    fn a_notice_mail_with_files_carries_the_text_and_each_file() {
        let ack = b"ISA*00*          *00*          *ZZ*COUPAGW        *ZZ*ACME           *260315*1030*U*00401*000000007*0*P*>~".to_vec();
        let m = render_notice_mail_with(
            NoticeMail {
                from: "Gateway <gw@globex.example>".parse().unwrap(),
                reply_to: None,
                to: "edi@acme.example",
                subject: "Acknowledgment: invoice",
                body: "Your interchanges are acknowledged in the attached files.",
                message_id: "ack-1@coupa-gateway".into(),
                in_reply_to: Some("<orig-8@acme.example>".into()),
            },
            vec![MailFile {
                name: "INV-1.ack.edi".into(),
                format: Format::X12,
                bytes: ack.clone(),
            }],
        )
        .unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(raw.contains("multipart/mixed"), "{raw}");
        assert!(raw.contains("In-Reply-To: <orig-8@acme.example>"), "{raw}");
        assert!(raw.contains("Message-ID: <ack-1@coupa-gateway>"), "{raw}");
        assert!(raw.contains("attached files"), "{raw}");
        let back =
            crate::message::ParsedMail::parse(raw.as_bytes(), &crate::Limits::default()).unwrap();
        assert_eq!(back.attachments.len(), 1);
        assert_eq!(back.attachments[0].name.as_deref(), Some("INV-1.ack.edi"));
        assert_eq!(
            back.attachments[0].content_type.as_deref(),
            Some("application/edi-x12")
        );
        assert_eq!(back.attachments[0].bytes, ack);
    }

    #[test]
    fn a_comma_separated_po_email_reaches_every_address_and_a_bad_one_is_named() {
        let p = po();
        let mail = |to: &'static str| {
            render_po_mail(PoMail {
                po: &p,
                from: "Purchasing <po@globex.example>".parse().unwrap(),
                reply_to: None,
                to,
                attachment_format: Format::Csv,
                attachment_charset: Some(Charset::Utf8),
                attachment_name: "PO-7781.csv".into(),
                attachment: b"x".to_vec(),
                message_id: "doc-1@coupa-gateway".into(),
            })
        };
        let raw = String::from_utf8(
            mail("orders@acme.example, ap@acme.example")
                .unwrap()
                .formatted(),
        )
        .unwrap();
        let to_line = raw.lines().find(|l| l.starts_with("To:")).unwrap();
        assert!(to_line.contains("orders@acme.example"), "{to_line}");
        assert!(to_line.contains("ap@acme.example"), "{to_line}");
        match mail("orders@acme.example, not an address") {
            Err(RenderError::To(bad)) => assert_eq!(bad, "not an address"),
            other => panic!("{:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn the_mail_has_text_html_and_the_attachment() {
        let p = po();
        let from: Mailbox = "Purchasing <po@globex.example>".parse().unwrap();
        let m = render_po_mail(PoMail {
            po: &p,
            from,
            reply_to: None,
            to: "orders@acme.example",
            attachment_format: Format::Csv,
            attachment_charset: Some(Charset::Utf8),
            attachment_name: "PO-7781.csv".into(),
            attachment: b"Purchase Order,PO-7781\n".to_vec(),
            message_id: "doc-1@coupa-gateway".into(),
        })
        .unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(raw.contains("Subject: Purchase order PO-7781"), "{raw}");
        assert!(raw.contains("Message-ID: <doc-1@coupa-gateway>"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("text/html"), "{raw}");
        assert!(raw.contains("filename=\"PO-7781.csv\""), "{raw}");
        assert!(
            raw.contains("Content-Type: text/csv; charset=utf-8"),
            "{raw}"
        );
        // the parser used inbound reads it back: the attachment survives the encoding
        let back =
            crate::message::ParsedMail::parse(raw.as_bytes(), &crate::Limits::default()).unwrap();
        assert_eq!(back.attachments.len(), 1);
        assert_eq!(back.attachments[0].bytes, b"Purchase Order,PO-7781\n");
    }

    #[test]
    fn a_bad_recipient_is_a_render_error() {
        let p = po();
        let err = render_po_mail(PoMail {
            po: &p,
            from: "po@globex.example".parse().unwrap(),
            reply_to: None,
            to: "not an address",
            attachment_format: Format::Cxml,
            attachment_charset: None,
            attachment_name: "a.xml".into(),
            attachment: Vec::new(),
            message_id: "x@y".into(),
        });
        assert!(matches!(err, Err(RenderError::To(_))));
    }

    /// Every secret of the profile is gone from the copy a mail's attachment is written with;
    /// the rest is the partner's (the cXML identities the attachment still names).
    #[test]
    fn a_mailed_attachment_is_written_with_no_secret_of_the_profile() {
        let p = PartnerProfile::from_toml(
            r#"
id = "acme"
api_token = "rest-token"
[cxml]
from_domain = "DUNS"
from_identity = "123456789"
to_domain = "NetworkID"
to_identity = "GLOBEX"
shared_secret = "inbound-secret"
outbound_shared_secret = "outbound-secret"
[outbound]
type = "email"
to = "orders@acme.example"
"#,
            "acme.toml",
        )
        .unwrap();
        let mailed = without_secrets(&p);
        let c = mailed.cxml.as_ref().unwrap();
        assert!(c.shared_secret.is_none() && c.outbound_shared_secret.is_none());
        assert!(mailed.api_token.is_none());
        assert_eq!(c.to_identity.as_deref(), Some("GLOBEX"));
        assert_eq!(c.from_identity.as_deref(), Some("123456789"));
        assert_eq!(mailed.id, "acme");
        assert_eq!(mailed.outbound, p.outbound);
        assert_eq!(po_format(&mailed), po_format(&p));
    }

    #[test]
    fn the_po_format_follows_the_profile() {
        let mut p = PartnerProfile::anonymous();
        assert_eq!(po_format(&p), Format::Csv);
        p.x12 = Some(Default::default());
        assert_eq!(po_format(&p), Format::X12);
        p.email = Some(gateway_core::profile::EmailProfile {
            po_format: Some(Format::Cxml),
            ..Default::default()
        });
        assert_eq!(po_format(&p), Format::Cxml);
    }

    fn relay_config(port: u16) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: Some(port),
            security: SmtpSecurity::Starttls,
            username: None,
            password: None,
            from: "po@globex.example".into(),
            reply_to: None,
            ca_file: None,
            timeout_ms: 5_000,
        }
    }

    /// Set up and dropped with no Tokio runtime, as `gateway dlq purge --tell-supplier
    /// --dry-run` does before (and after) its runtime: lettre's pool would panic ("there is no
    /// reactor running") if it were built here.
    #[test]
    fn a_mailer_is_set_up_and_dropped_outside_a_runtime() {
        let mailer = SmtpMailer::new(&relay_config(25)).unwrap();
        assert_eq!(mailer.from().to_string(), "po@globex.example");
        drop(mailer);
    }

    /// A mailer whose pool was built inside a runtime (it sent) may still be dropped after the
    /// runtime is gone.
    #[test]
    fn a_mailer_that_sent_is_dropped_after_its_runtime() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mut cfg = relay_config(port);
        cfg.security = SmtpSecurity::None;
        let mailer = SmtpMailer::new(&cfg).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let m = test_mail(&mailer);
        let err = rt.block_on(mailer.send(m)).unwrap_err();
        assert!(err.is_retryable(), "{err}");
        drop(rt);
        drop(mailer);
    }

    fn test_mail(mailer: &SmtpMailer) -> Message {
        let p = po();
        render_po_mail(PoMail {
            po: &p,
            from: mailer.from().clone(),
            reply_to: None,
            to: "orders@acme.example",
            attachment_format: Format::Csv,
            attachment_charset: Some(Charset::Utf8),
            attachment_name: "a.csv".into(),
            attachment: b"x".to_vec(),
            message_id: "x@y".into(),
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_closed_port_is_retryable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mailer = SmtpMailer::new(&SmtpConfig {
            host: "127.0.0.1".into(),
            port: Some(port),
            security: SmtpSecurity::None,
            username: None,
            password: None,
            from: "po@globex.example".into(),
            reply_to: None,
            ca_file: None,
            timeout_ms: 5_000,
        })
        .unwrap();
        let p = po();
        let m = render_po_mail(PoMail {
            po: &p,
            from: mailer.from().clone(),
            reply_to: None,
            to: "orders@acme.example",
            attachment_format: Format::Csv,
            attachment_charset: Some(Charset::Utf8),
            attachment_name: "a.csv".into(),
            attachment: b"x".to_vec(),
            message_id: "x@y".into(),
        })
        .unwrap();
        let err = mailer.send(m).await.unwrap_err();
        assert!(err.is_retryable(), "{err}");
    }
}
