//! Telling a supplier that the gateway gave up its invoice.
//!
//! A supplier hears "accepted" when the gateway has its invoice on the bus (a cXML 200, a
//! 997, an archived file). If Coupa then refuses the invoice for good (unknown supplier or
//! PO, a duplicate number) it is dead-lettered, and when an operator purges it the supplier
//! would otherwise never learn that it will not be paid through this channel. So
//! `gateway dlq purge --tell-supplier` sends each purged invoice's supplier a notice on the
//! channel its partner profile names for documents we send it (`[partners.outbound]`):
//! - `cxml`: a cXML `StatusUpdateRequest` (`InvoiceStatus type="rejected"`, the invoice's
//!   payloadID as `DocumentReference` when it came as cXML) POSTed to its URL;
//! - `x12_file`: an 824 Application Advice (`OTI*TR*IV*<number>`, naming the 810's GS06 and
//!   ST02 when it came as X12) written into its folder, numbered from the partner's counters;
//! - `csv_file`: a text file `<number>-<doc>.rejected.txt` beside the CSV files it receives;
//! - `email`: a plain-text mail (needs `[mailbox.smtp]`).
//!
//! A notice that cannot be sent is reported with what to do, never retried: the invoice is
//! already purged, and the operator can tell the supplier another way.
//!
//! The supplier is told what happened, never what the operator is advised to do about it: a
//! dead letter's reason is cut at its advice ([`adapter_coupa::OPERATOR_ADVICE`]).

use std::sync::Arc;
use std::time::Duration;

use gateway_core::{DeadLetter, Direction, Envelope, PartnerProfile, profile::OutboundChannel};
use gateway_model::{Document, DocumentKind, Invoice};

use crate::codecs::Codecs;
use crate::partners::Partners;
use crate::supplier::{post_cxml, stem, supplier_http, write_file};

/// Notices [`SupplierNotices::tell_all`] sends at once.
pub const NOTICES_AT_ONCE: usize = 8;

/// Sends the notices; one per command run.
pub struct SupplierNotices {
    partners: Partners,
    codecs: Codecs,
    http: reqwest::Client,
    mailer: Option<Arc<adapter_email::SmtpMailer>>,
}

impl std::fmt::Debug for SupplierNotices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupplierNotices").finish_non_exhaustive()
    }
}

/// A notice sent: where it went, and the X12 written when it was an 824 (its control numbers
/// are what the supplier's 997 will name).
#[derive(Debug, Clone)]
pub struct Told {
    pub said: String,
    pub x12: Option<Vec<u8>>,
}

impl Told {
    fn said(said: String) -> Self {
        Told { said, x12: None }
    }
}

/// Why a supplier whose channel is e-mail cannot be told.
const NO_RELAY: &str = "the partner's channel is email but [mailbox.smtp] is not configured; tell the supplier yourself";

/// The invoice facts a notice names.
struct Given<'a> {
    envelope: &'a Envelope,
    invoice: Invoice,
    number: String,
    /// What the supplier is told: why the gateway gave the invoice up, without the advice the
    /// dead letter gives the operator ([`adapter_coupa::what_happened`]) and without Coupa's
    /// raw error JSON, in words fitting whose side the cause is on ([`supplier_words`]).
    reason: String,
    /// What the supplier is asked to do: send a corrected invoice only when Coupa refused the
    /// invoice's own content; else nothing, the buyer will contact it.
    request: &'static str,
}

impl Given<'_> {
    /// The notice's words on a channel that has one text for them (the cXML `Comments`, the
    /// 824's TED and NTE): why, then what the supplier is asked to do. One text, so an EDI
    /// supplier is asked what a cXML one is (its 824 said why and nothing of a resend).
    fn reason_and_request(&self) -> String {
        let stop = if self.reason.ends_with(['.', '!', '?']) {
            ""
        } else {
            "."
        };
        format!("{}{stop} {}", self.reason, self.request)
    }
}

impl SupplierNotices {
    /// `codecs` must number X12 from the service's counters (`<state>/x12-control`), so an 824
    /// never shares an ISA13/GS06 with what the service sends the partner.
    pub fn new(
        partners: Partners,
        codecs: Codecs,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        Ok(SupplierNotices {
            partners,
            codecs,
            http: supplier_http(timeout)?,
            mailer: None,
        })
    }

    /// The SMTP relay for partners whose channel is `email`.
    pub fn with_mailer(mut self, mailer: Arc<adapter_email::SmtpMailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// The invoice of `letter`, its supplier's profile and the channel a notice would take, or
    /// why there is none.
    fn route<'l>(
        &self,
        letter: &'l DeadLetter,
    ) -> Result<(Given<'l>, &PartnerProfile, &OutboundChannel), String> {
        let given = given(letter)?;
        let partner_id = letter.partner.as_deref().unwrap_or("");
        let partner = self.partners.by_id(partner_id).ok_or_else(|| {
            format!(
                "no partner profile {partner_id:?} in the configuration; tell the supplier yourself"
            )
        })?;
        let channel = partner.outbound.as_ref().ok_or_else(|| {
            format!(
                "partner {} has no [partners.outbound] channel to tell it on; tell the supplier yourself",
                partner.id
            )
        })?;
        Ok((given, partner, channel))
    }

    /// What [`SupplierNotices::tell`] would send for `letter`, without sending it (nor using a
    /// control number): for `gateway dlq purge --tell-supplier --dry-run`, since a notice to a
    /// supplier cannot be taken back. `Err`: why none could be sent.
    pub fn plan(&self, letter: &DeadLetter) -> Result<String, String> {
        let (given, partner, channel) = self.route(letter)?;
        match channel {
            OutboundChannel::Cxml { url } => {
                self.status_update(&given, partner)?;
                let url = gateway_core::redact_url(url);
                Ok(format!("a cXML StatusUpdateRequest to {url}"))
            }
            OutboundChannel::X12File { dir } => Ok(format!("an X12 824 in {dir}")),
            OutboundChannel::CsvFile { dir } => Ok(format!("a text notice in {dir}")),
            OutboundChannel::Email { to } => match self.mailer {
                Some(_) => Ok(format!("a mail to {to}")),
                None => Err(NO_RELAY.to_string()),
            },
        }
    }

    /// [`SupplierNotices::tell`] for each of `letters`, [`NOTICES_AT_ONCE`] at a time, each
    /// answer in the order of `letters` as soon as it and those before it are in: a supplier
    /// endpoint that does not answer holds one slot until its timeout, not the whole purge.
    pub fn tell_all<'a>(
        &'a self,
        letters: &'a [DeadLetter],
    ) -> impl futures::Stream<Item = (&'a DeadLetter, Result<Told, String>)> + 'a {
        use futures::StreamExt;
        futures::stream::iter(letters)
            .map(move |letter| async move { (letter, self.tell(letter).await) })
            .buffered(NOTICES_AT_ONCE)
    }

    /// Tells the supplier of `letter` that its invoice was given up, and why. `Ok`: where the
    /// notice went. `Err`: why none was sent, with what the operator can do.
    pub async fn tell(&self, letter: &DeadLetter) -> Result<Told, String> {
        let (given, partner, channel) = self.route(letter)?;
        let stem = stem(&given.number, "", &given.envelope.doc_id);
        match channel {
            OutboundChannel::Cxml { url } => {
                let body = self.status_update(&given, partner)?;
                post_cxml(&self.http, url, body)
                    .await
                    .map(|answer| {
                        let url = gateway_core::redact_url(url);
                        Told::said(format!("cXML StatusUpdateRequest to {url} ({answer})"))
                    })
                    .map_err(|e| format!("{e}; tell the supplier yourself"))
            }
            OutboundChannel::X12File { dir } => {
                let body = self.application_advice(&given, partner)?;
                let path = write_file(dir, &format!("{stem}.824.edi"), &body)
                    .map_err(|e| e.to_string())?;
                Ok(Told {
                    said: format!("X12 824 written to {path}"),
                    x12: Some(body),
                })
            }
            OutboundChannel::CsvFile { dir } => write_file(
                dir,
                &format!("{stem}.rejected.txt"),
                text(&given).as_bytes(),
            )
            .map(|path| Told::said(format!("notice written to {path}")))
            .map_err(|e| e.to_string()),
            OutboundChannel::Email { to } => self.mail(&given, to).await.map(Told::said),
        }
    }

    fn status_update(
        &self,
        given: &Given<'_>,
        partner: &PartnerProfile,
    ) -> Result<Vec<u8>, String> {
        let source = &given.envelope.source;
        let update = adapter_cxml::InvoiceStatusUpdate {
            payload_id: source
                .source_key
                .as_deref()
                .filter(|_| came_as_cxml(given.envelope)),
            invoice_id: &given.number,
            invoice_date: given.invoice.invoice_date,
            status: adapter_cxml::InvoiceStatusKind::Rejected,
            comments: &given.reason_and_request(),
        };
        adapter_cxml::encode_invoice_status_update(&update, partner)
            .map_err(|e| format!("cannot write the cXML notice for {}: {e}", partner.id))
    }

    fn application_advice(
        &self,
        given: &Given<'_>,
        partner: &PartnerProfile,
    ) -> Result<Vec<u8>, String> {
        let source = &given.envelope.source;
        let controls = x12_controls(given.envelope);
        let extra = |k: &str| {
            source
                .extra
                .get(k)
                .map(String::as_str)
                .filter(|_| came_as_x12(given.envelope))
        };
        let advice = adapter_x12::InvoiceAdvice {
            invoice_number: &given.number,
            original_gs_sender: extra("gs_sender"),
            original_gs_receiver: extra("gs_receiver"),
            original_group_control: controls.as_ref().map(|[_, gs06, _]| gs06.as_str()),
            original_set_control: controls.as_ref().map(|[_, _, st02]| st02.as_str()),
            reason: &given.reason_and_request(),
        };
        self.codecs
            .x12()
            .application_advice(&advice, partner)
            .map_err(|e| format!("cannot write the 824 for {}: {e}", partner.id))
    }

    async fn mail(&self, given: &Given<'_>, to: &str) -> Result<String, String> {
        let mailer = self.mailer.as_ref().ok_or_else(|| NO_RELAY.to_string())?;
        let subject = format!("Invoice {} was not accepted", given.number);
        let message = adapter_email::render_notice_mail(adapter_email::NoticeMail {
            from: mailer.from().clone(),
            reply_to: mailer.reply_to().cloned(),
            to,
            subject: &subject,
            body: &text(given),
            message_id: format!("rejected.{}@coupa-gateway", given.envelope.doc_id),
            in_reply_to: None,
        })
        .map_err(|e| format!("cannot write the mail to {to}: {e}"))?;
        mailer
            .send(message)
            .await
            .map(|answer| format!("mail to {to} ({answer})"))
            .map_err(|e| e.to_string())
    }
}

/// A kind of document in words, with its article: "an invoice", "a purchase order".
pub fn a_kind(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Invoice => "an invoice",
        DocumentKind::PurchaseOrder => "a purchase order",
        DocumentKind::OrderConfirmation => "an order confirmation",
        DocumentKind::ShipNotice => "a ship notice",
    }
}

/// The invoice a dead letter holds, or why it is not one a supplier sent.
fn given(letter: &DeadLetter) -> Result<Given<'_>, String> {
    if letter.kind != DocumentKind::Invoice || letter.envelope.direction != Direction::In {
        return Err(format!(
            "{} going {} is not an invoice a supplier sent; nobody to tell",
            a_kind(letter.kind),
            letter.envelope.direction.as_str()
        ));
    }
    let invoice = match gateway_model::from_json(&letter.body) {
        Ok(Document::Invoice(inv)) => inv,
        Ok(other) => {
            return Err(format!(
                "the dead letter holds {}, not an invoice",
                a_kind(other.kind())
            ));
        }
        Err(e) => {
            return Err(format!(
                "the dead letter's body is not a canonical invoice: {e}"
            ));
        }
    };
    let number = invoice
        .invoice_number
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .ok_or("the invoice has no number to name it by; tell the supplier yourself")?
        .to_string();
    // What happened only: the operator's advice in a reason ("add that supplier in Coupa
    // ... then replay it: gateway dlq replay ...", "void or credit the one in Coupa first")
    // reached suppliers word for word.
    let (reason, request) = supplier_words(&letter.reason);
    Ok(Given {
        envelope: &letter.envelope,
        number,
        reason,
        request,
        invoice,
    })
}

/// What a supplier asks of its own invoice when Coupa refused what it says.
const RESEND_CORRECTED: &str = "Please correct it and send it again as a new invoice.";
/// What a supplier is told when the cause is the buyer's: a resend would change nothing (and
/// could become a duplicate once the buyer has fixed its side).
const BUYER_WILL_CONTACT: &str = "There is nothing for you to correct and no need to send it again: the buyer will contact you about it.";

/// The reason a supplier reads for a dead letter's `reason`, and what it is asked to do, by
/// whose side the cause is on ([`adapter_coupa::error::cause_of`]). Told "correct it and send
/// it again" when its supplier record was missing in Coupa, or Coupa was down, a supplier
/// resent a correct invoice; and it read Coupa's error body as raw JSON. Only a refusal of
/// the invoice's content passes Coupa's words on (its field errors as `field: message`); a
/// cause on the buyer's side is named in general words, not the gateway's internals.
fn supplier_words(reason: &str) -> (String, &'static str) {
    use adapter_coupa::error::Cause;
    let buyer = |why: &str| {
        (
            format!(
                "Not delivered to the buyer's Coupa: {why}. This is on the buyer's side, not in your invoice."
            ),
            BUYER_WILL_CONTACT,
        )
    };
    match adapter_coupa::error::cause_of(reason) {
        Cause::Content => {
            let happened = adapter_coupa::what_happened(reason);
            let happened = happened
                .strip_prefix("gave up after ")
                .and_then(|rest| rest.split_once(" attempts: "))
                .map_or(happened, |(_, rest)| rest);
            let happened = happened.strip_prefix("conflict: ").unwrap_or(happened);
            (
                format!(
                    "Rejected by the buyer's Coupa: {}",
                    adapter_coupa::error::field_errors_in(happened)
                ),
                RESEND_CORRECTED,
            )
        }
        Cause::SupplierSetup => buyer("your supplier account could not be found in it"),
        Cause::Access => buyer("the buyer's system could not sign in to it"),
        Cause::Unavailable => buyer("it was not available"),
        Cause::Buyer => buyer("a problem on the buyer's side"),
    }
}

/// The words of a text notice (file or mail).
fn text(given: &Given<'_>) -> String {
    let mut out = format!("Invoice {}", given.number);
    if let Some(date) = given.invoice.invoice_date {
        out.push_str(&format!(" of {date}"));
    }
    out.push_str(&format!(
        ", received {}, was not accepted.\n\n{}\n\n{}\nGateway reference: {}\n",
        given.envelope.received_at.format("%Y-%m-%d %H:%M UTC"),
        given.reason,
        given.request,
        given.envelope.doc_id
    ));
    out
}

/// The cXML decoder's envelope facts name the sender's credential; no other source does.
fn came_as_cxml(env: &Envelope) -> bool {
    env.source.extra.contains_key("sender_credential")
        || env.source.extra.contains_key("deployment_mode")
}

/// The X12 decoder's envelope facts name the transaction set; no other source does.
fn came_as_x12(env: &Envelope) -> bool {
    env.source.extra.contains_key("transaction_set")
}

/// The control numbers (ISA13, GS06, ST02) an invoice that came as X12 has in its source
/// key, read by the decoder's own rule (the key escapes some characters and marks a group
/// repeating a GS06).
fn x12_controls(env: &Envelope) -> Option<[String; 3]> {
    env.source
        .source_key
        .as_deref()
        .filter(|_| came_as_x12(env))
        .and_then(adapter_x12::codec::key_controls)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_core::{SourceMeta, profile::OutboundChannel};

    fn letter(doc: &Document, partner: &str, meta: SourceMeta) -> DeadLetter {
        let envelope = Envelope::inbound(doc.kind(), "file-drop", Some(partner.into()), meta);
        DeadLetter {
            consumer: crate::bus::COUPA_INVOICES.into(),
            doc_id: envelope.doc_id.clone(),
            idempotency_key: envelope.idempotency_key.clone(),
            partner: Some(partner.into()),
            kind: doc.kind(),
            attempts: 1,
            reason: "Coupa refused the invoice: supplier not found".into(),
            first_error: None,
            dead_at: None,
            replayed: Default::default(),
            envelope,
            body: gateway_model::to_json(doc).into_bytes(),
        }
    }

    fn invoice(number: &str) -> Document {
        let json = format!(
            r#"{{"schema_version": 1, "kind": "invoice", "invoice_number": "{number}", "invoice_date": "2026-03-15", "currency": "USD", "lines": []}}"#
        );
        gateway_model::from_json(json.as_bytes()).unwrap()
    }

    fn notices(partner: PartnerProfile) -> SupplierNotices {
        SupplierNotices::new(
            Partners::new(vec![partner]),
            Codecs::standard(),
            Duration::from_secs(5),
        )
        .unwrap()
    }

    fn partner(id: &str, outbound: Option<OutboundChannel>) -> PartnerProfile {
        PartnerProfile {
            id: id.into(),
            outbound,
            ..PartnerProfile::default()
        }
    }

    /// Partner acme, a cXML supplier told at `url`.
    fn cxml_supplier(url: String) -> PartnerProfile {
        let mut p = PartnerProfile::from_toml(
            "id = \"acme\"\n[cxml]\nfrom_domain = \"DUNS\"\nfrom_identity = \"acme\"\n\
             to_domain = \"NetworkID\"\nto_identity = \"buyer\"\n",
            "acme.toml",
        )
        .unwrap();
        p.outbound = Some(OutboundChannel::Cxml { url });
        p
    }

    #[tokio::test]
    async fn a_csv_supplier_gets_a_text_notice_beside_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("Outgoing");
        let n = notices(partner(
            "csvco",
            Some(OutboundChannel::CsvFile {
                dir: out.display().to_string(),
            }),
        ));
        let l = letter(&invoice("INV/42"), "csvco", SourceMeta::default());
        let told = n.tell(&l).await.unwrap().said;
        let files: Vec<_> = std::fs::read_dir(&out).unwrap().flatten().collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let name = files[0].file_name().to_string_lossy().into_owned();
        assert!(
            name.starts_with("INV_42-") && name.ends_with(".rejected.txt"),
            "{name}"
        );
        assert!(told.contains(&name), "{told}");
        let text = std::fs::read_to_string(files[0].path()).unwrap();
        assert!(
            text.starts_with("Invoice INV/42 of 2026-03-15, received "),
            "{text}"
        );
        assert!(text.contains("on the buyer's side"), "{text}");
        assert!(text.contains(&l.doc_id), "{text}");
    }

    /// QA: `--tell-supplier` sent a dead letter's reason word for word, so the supplier read
    /// the operator's advice ("add that supplier in Coupa ... then replay it: gateway dlq
    /// replay ...", "void or credit the one in Coupa first and replay this one"). It reads
    /// what happened only.
    #[tokio::test]
    async fn a_supplier_is_told_what_happened_not_the_operators_advice() {
        let not_found: gateway_core::DeliveryError =
            adapter_coupa::CoupaError::SupplierNotFound("number \"BETA-9\"".into()).into();
        let not_found =
            adapter_coupa::error::with_partner_named(not_found.reason().to_string(), "csvco");
        let held = serde_json::json!({
            "id": 41, "status": "approved", "invoice-number": "INV/42",
            "supplier": {"id": 7, "name": "Beta"}, "supplier-total": "90.00"
        });
        let conflict = adapter_coupa::CoupaInvoice::from_json(&held)
            .unwrap()
            .conflict_with(
                &serde_json::json!({"invoice-number": "INV/42", "supplier-total": "100.00"}),
            )
            .unwrap();
        for (reason, happened) in [
            (not_found, "your supplier account could not be found in it"),
            (
                conflict,
                "Coupa already has invoice INV/42 of supplier Beta",
            ),
        ] {
            assert!(reason.contains("replay"), "{reason}");
            let dir = tempfile::tempdir().unwrap();
            let n = notices(partner(
                "csvco",
                Some(OutboundChannel::CsvFile {
                    dir: dir.path().display().to_string(),
                }),
            ));
            let mut l = letter(&invoice("INV/42"), "csvco", SourceMeta::default());
            l.reason = reason.clone();
            n.tell(&l).await.unwrap();
            let file = std::fs::read_dir(dir.path())
                .unwrap()
                .flatten()
                .next()
                .unwrap();
            let text = std::fs::read_to_string(file.path()).unwrap();
            assert!(text.contains(happened), "{text}");
            for advice in ["replay", "To deliver it", "in Coupa first", "[partners"] {
                assert!(!text.contains(advice), "{advice:?} in {text}");
            }
            // The 824 and the cXML notice say the same words.
            assert!(!given(&l).unwrap().reason.contains("replay"));
        }
    }

    /// QA: a notice asked the supplier to "correct it and send it again as a new invoice"
    /// when its record was missing in Coupa, Coupa was down or the gateway's token was
    /// refused, and passed Coupa's error JSON on. A cause on the buyer's side says the buyer
    /// will contact it and asks for no resend; only a refusal of the invoice's content asks
    /// for a corrected one, Coupa's field errors as `field: message`.
    #[tokio::test]
    async fn a_notice_asks_for_a_corrected_invoice_only_when_its_content_was_refused() {
        let permanent = |e: adapter_coupa::CoupaError| {
            gateway_core::DeliveryError::from(e).reason().to_string()
        };
        let refused = permanent(adapter_coupa::CoupaError::Validation {
            status: 422,
            body: r#"{"errors":{"invoice-number":["has already been taken"]}}"#.into(),
            messages: vec!["has already been taken".into()],
        });
        let buyers = [
            permanent(adapter_coupa::CoupaError::SupplierNotFound(
                "number \"BETA-9\"".into(),
            )),
            format!(
                "gave up after 4 attempts: {}",
                adapter_coupa::CoupaError::Server {
                    status: 503,
                    body: r#"{"errors":{"request":["down"]}}"#.into()
                }
            ),
            format!(
                "gave up after 4 attempts: {}",
                adapter_coupa::CoupaError::TokenRefused(adapter_coupa::TokenRefusal::from_answer(
                    401,
                    r#"{"error":"invalid_client"}"#
                ))
            ),
        ];
        let told = |reason: &str| {
            let mut l = letter(&invoice("INV/42"), "csvco", SourceMeta::default());
            l.reason = reason.to_string();
            let g = given(&l).unwrap();
            (text(&g), g.reason)
        };
        let (content, said) = told(&refused);
        assert!(
            content.contains("Rejected by the buyer's Coupa: Coupa refused the invoice (422): invoice-number: has already been taken")
                && content.contains(RESEND_CORRECTED),
            "{content}"
        );
        assert!(
            !said.contains('{') && !content.contains("errors"),
            "{content}"
        );
        for reason in buyers {
            let (content, said) = told(&reason);
            assert!(
                content.contains(BUYER_WILL_CONTACT)
                    && !content.contains("send it again as a new invoice"),
                "{content}"
            );
            assert!(said.contains("on the buyer's side"), "{said}");
            for raw in ['{', '"'] {
                assert!(!said.contains(raw), "{raw:?} in {said}");
            }
            for internal in ["invalid_client", "503", "BETA-9", "client_secret"] {
                assert!(!said.contains(internal), "{internal:?} in {said}");
            }
        }
    }

    /// QA: the 824 said why an invoice was rejected but not the cXML notice's "Please
    /// correct it and send it again as a new invoice.", and cut words across its segments.
    #[tokio::test]
    async fn an_824_says_what_the_cxml_notice_says_in_whole_words() {
        let dir = tempfile::tempdir().unwrap();
        let mut steel = PartnerProfile::from_toml(
            "id = \"steel\"\n[x12]\npartner_qualifier = \"ZZ\"\npartner_id = \"EDISTEEL\"\n\
             our_qualifier = \"ZZ\"\nour_id = \"GLOBEX\"\n",
            "steel.toml",
        )
        .unwrap();
        steel.outbound = Some(OutboundChannel::X12File {
            dir: dir.path().display().to_string(),
        });
        let refused = gateway_core::DeliveryError::from(adapter_coupa::CoupaError::Validation {
            status: 422,
            body: r#"{"errors":{"invoice-number":["has already been taken by invoice ST-INV-1 of supplier EDI Steel Inc"]}}"#.into(),
            messages: vec!["has already been taken by invoice ST-INV-1 of supplier EDI Steel Inc".into()],
        })
        .reason()
        .to_string();
        let mut l = letter(&invoice("ST-INV-1"), "steel", SourceMeta::default());
        l.reason = refused;
        let told = notices(steel).tell(&l).await.unwrap();
        let raw = String::from_utf8(told.x12.unwrap()).unwrap();
        let pieces: Vec<&str> = raw
            .split('~')
            .map(str::trim)
            .filter_map(|seg| {
                seg.strip_prefix("TED*848*")
                    .or_else(|| seg.strip_prefix("NTE*GEN*"))
            })
            .collect();
        assert!(pieces.len() > 1, "{raw}");
        let g = given(&l).unwrap();
        assert_eq!(g.request, RESEND_CORRECTED);
        // Cut between words: put together with a space between them, the pieces are the
        // cXML notice's text.
        assert_eq!(pieces.join(" "), g.reason_and_request(), "{raw}");
        assert!(
            pieces.join(" ").ends_with(
                "invoice-number: has already been taken by invoice ST-INV-1 of supplier EDI \
                 Steel Inc. Please correct it and send it again as a new invoice."
            ),
            "{raw}"
        );
    }

    #[tokio::test]
    async fn what_cannot_be_told_says_why_and_what_to_do() {
        let mail = notices(partner(
            "mailco",
            Some(OutboundChannel::Email {
                to: "ap@mailco.example".into(),
            }),
        ));
        let why = mail
            .tell(&letter(&invoice("INV-1"), "mailco", SourceMeta::default()))
            .await
            .unwrap_err();
        assert!(why.contains("[mailbox.smtp] is not configured"), "{why}");
        let planned = mail.plan(&letter(&invoice("INV-1"), "mailco", SourceMeta::default()));
        assert_eq!(planned, Err(why));
        let why = mail
            .tell(&letter(
                &invoice("INV-1"),
                "stranger",
                SourceMeta::default(),
            ))
            .await
            .unwrap_err();
        assert!(why.contains("no partner profile \"stranger\""), "{why}");
        let po = gateway_model::from_json(
            br#"{"schema_version": 1, "kind": "purchase_order", "po_number": "PO-1", "lines": []}"#,
        )
        .unwrap();
        let why = mail
            .tell(&letter(&po, "mailco", SourceMeta::default()))
            .await
            .unwrap_err();
        assert!(why.contains("not an invoice a supplier sent"), "{why}");
        assert!(why.starts_with("a purchase order going"), "{why}");
        let mut outgoing = letter(&invoice("INV-1"), "mailco", SourceMeta::default());
        outgoing.envelope.direction = Direction::Out;
        let why = mail.tell(&outgoing).await.unwrap_err();
        assert!(
            why.starts_with("an invoice going out is not an invoice a supplier sent"),
            "{why}"
        );
        let why = mail
            .tell(&letter(&invoice(" "), "mailco", SourceMeta::default()))
            .await
            .unwrap_err();
        assert!(why.contains("no number"), "{why}");
    }

    #[tokio::test]
    async fn a_cxml_supplier_that_cannot_be_reached_is_reported_not_told() {
        // A port nothing listens on: the connection is refused at once.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap();
        let why = notices(cxml_supplier(format!("http://{closed}/cxml")))
            .tell(&letter(&invoice("INV-2"), "acme", SourceMeta::default()))
            .await
            .unwrap_err();
        assert!(
            why.contains(&format!("POST http://{closed}/cxml"))
                && why.ends_with("tell the supplier yourself"),
            "{why}"
        );
    }

    /// Reads one HTTP request from `conn` (headers, then `Content-Length` bytes of body).
    async fn read_request(conn: &mut tokio::net::TcpStream) {
        use tokio::io::AsyncReadExt;
        let mut got = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = conn.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the request ended early");
            got.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&got).to_ascii_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let length: usize = text
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().unwrap());
                if got.len() >= end + 4 + length {
                    return;
                }
            }
        }
    }

    /// Two suppliers' notices go out together: the supplier endpoint here answers neither
    /// until both requests are in, so notices sent one after the other would each wait out
    /// the timeout and fail.
    #[tokio::test]
    async fn notices_go_out_together_and_answers_come_back_in_order() {
        use futures::StreamExt;
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (first, _) = listener.accept().await.unwrap();
            let (second, _) = listener.accept().await.unwrap();
            for mut conn in [first, second] {
                tokio::spawn(async move {
                    read_request(&mut conn).await;
                    let body = r#"<?xml version="1.0"?><cXML payloadID="r@test" timestamp="2026-12-04T00:00:00Z"><Response><Status code="200" text="OK"/></Response></cXML>"#;
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    conn.write_all(answer.as_bytes()).await.unwrap();
                });
            }
        });
        let n = notices(cxml_supplier(format!("http://{addr}/cxml")));
        let letters = [
            letter(&invoice("INV-A"), "acme", SourceMeta::default()),
            letter(&invoice("INV-B"), "acme", SourceMeta::default()),
        ];
        let answers: Vec<_> = n.tell_all(&letters).collect().await;
        assert_eq!(answers.len(), 2);
        for ((letter, answer), sent) in answers.iter().zip(&letters) {
            assert_eq!(letter.doc_id, sent.doc_id, "in the order given");
            let told = answer.as_ref().unwrap();
            assert!(told.said.contains("cXML 200 OK"), "{}", told.said);
        }
    }

    #[test]
    fn the_source_is_told_by_the_facts_its_decoder_left() {
        let mut x12 = SourceMeta {
            source_key: Some("000000007/42/0001".into()),
            ..SourceMeta::default()
        };
        x12.extra.insert("transaction_set".into(), "810".into());
        let env = Envelope::inbound(DocumentKind::Invoice, "x12", None, x12.clone());
        assert!(came_as_x12(&env) && !came_as_cxml(&env));
        let controls = |key: &str| {
            let mut meta = x12.clone();
            meta.source_key = Some(key.into());
            x12_controls(&Envelope::inbound(DocumentKind::Invoice, "x12", None, meta))
        };
        let named = |isa13: &str, gs06: &str, st02: &str| {
            Some([isa13.to_string(), gs06.to_string(), st02.to_string()])
        };
        assert_eq!(x12_controls(&env), named("000000007", "42", "0001"));
        // A group repeating a GS06 is marked with its place; control numbers holding `/`, `#`
        // or `%` are escaped: the 824 names them as they were sent.
        assert_eq!(
            controls("000000007/42#2/0001"),
            named("000000007", "42", "0001")
        );
        assert_eq!(
            controls("000000007/1%2F2/3%23%254"),
            named("000000007", "1/2", "3#%4")
        );
        assert_eq!(controls("content:abc/000000007/42/0001"), None);
        let mut cxml = SourceMeta {
            source_key: Some("1700000000.abc@supplier".into()),
            ..SourceMeta::default()
        };
        cxml.extra
            .insert("sender_credential".into(), "DUNS:acme".into());
        let env = Envelope::inbound(DocumentKind::Invoice, "cxml", None, cxml);
        assert!(came_as_cxml(&env) && !came_as_x12(&env));
        assert_eq!(x12_controls(&env), None);
    }
}
