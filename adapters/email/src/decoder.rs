//! [`EmailCodec`]: a whole message in, the documents of its attachments out.

use std::borrow::Cow;
use std::sync::Arc;

use gateway_core::{Decode, Decoded, DecodedDocument, Format, PartnerProfile, Reject};
use gateway_model::Text;
use gateway_model::charset::{Charset, Endian, utf16_bom, utf16_without_bom};

use crate::attachment::classify;
use crate::message::{Limits, MailAttachment, ParsedMail};
use crate::sender::{Identity, check_sender};
use crate::supporting::{attach_pdfs, is_pdf};

/// Decodes RFC 5322 messages: every cXML, X12, CSV (or JSON) attachment is decoded by the codec
/// for its format, handed in by the server. One bad attachment never loses the others.
///
/// A message whose sender the partner's `[email]` section does not allow, or that has no usable
/// attachment, gives located rejects and no documents. Other attachments (an
/// image, a spreadsheet) are skipped quietly when some attachment was usable; a PDF goes with
/// the document it belongs to ([`crate::supporting`]), to be attached to it where it is
/// delivered.
pub struct EmailCodec {
    decoders: Vec<Arc<dyn Decode>>,
    limits: Limits,
}

impl std::fmt::Debug for EmailCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailCodec")
            .field(
                "formats",
                &self.decoders.iter().map(|d| d.format()).collect::<Vec<_>>(),
            )
            .field("limits", &self.limits)
            .finish()
    }
}

/// Keys added to [`gateway_core::SourceMeta::extra`] of every document from a mail.
pub const EXTRA_MESSAGE_ID: &str = "email_message_id";
pub const EXTRA_ATTACHMENT: &str = "email_attachment";
pub const EXTRA_SHA256: &str = "email_attachment_sha256";
pub const EXTRA_FORMAT: &str = "email_attachment_format";
/// The sender the attachment itself names, for a document that does not carry its own
/// identity (a CSV or JSON attachment naming one), whose sender is the message's From.
pub const EXTRA_INNER_SENDER: &str = "email_attachment_sender";
/// The message's From, for a document that carries its own identity (cXML, X12), whose
/// sender stays the one it names ([`EmailCodec`]'s keys).
pub const EXTRA_FROM: &str = "email_from";

impl EmailCodec {
    /// `decoders` are the codecs attachments may be decoded with (e-mail ones are ignored,
    /// so a message never recurses into itself).
    pub fn new(decoders: Vec<Arc<dyn Decode>>) -> Self {
        EmailCodec {
            decoders: decoders
                .into_iter()
                .filter(|d| d.format() != Format::Email)
                .collect(),
            limits: Limits::default(),
        }
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn decoder(&self, format: Format) -> Option<&Arc<dyn Decode>> {
        self.decoders.iter().find(|d| d.format() == format)
    }

    /// Decodes an already parsed message (the mailbox parses once to find the partner).
    pub fn decode_mail(&self, mail: &ParsedMail, partner: &PartnerProfile) -> Decoded {
        let mut out = Decoded::default();
        let msg = mail.label();
        if let Err(e) = check_sender(partner, mail) {
            out.rejects.push(Reject::new(
                format!("{msg}, From {}", mail.from.as_deref().unwrap_or("(none)")),
                e.to_string(),
            ));
            return out;
        }
        let mut skipped = Vec::new();
        let mut pdfs = Vec::new();
        let mut damaged_pdfs = Vec::new();
        let mut usable = 0usize;
        // The same file attached twice (a mailer's resend in one message) is read once: its
        // documents under one key each were published twice, and its PDF named two documents
        // of one number, so went with neither.
        let mut read_before: Vec<(String, String)> = Vec::new();
        for att in &mail.attachments {
            let place = format!("{msg}, {}", att.label());
            let sha = att.sha256();
            if let Some((_, first)) = read_before.iter().find(|(s, _)| *s == sha) {
                skipped.push(Reject::new(
                    place,
                    format!("the same file as {first}; read once"),
                ));
                continue;
            }
            let read = self.read(att, partner);
            if matches!(read, Read::Pdf | Read::Decoded(..)) {
                read_before.push((sha, att.label()));
            }
            match read {
                Read::Refused(why) => {
                    out.rejects.push(Reject::new(place, why));
                    usable += 1;
                }
                Read::Pdf => pdfs.push(att),
                Read::Skipped(why) => {
                    if crate::supporting::named_pdf(att) {
                        damaged_pdfs.push(crate::supporting::damaged_pdf_note(&att.label()));
                    }
                    skipped.push(Reject::new(place, why));
                }
                Read::Decoded(format, mut decoded) => {
                    usable += 1;
                    keep_partners_own(&mut decoded, format, partner);
                    self.adopt(mail, att, format, &place, decoded, partner, &mut out);
                }
            }
        }
        if usable == 0 {
            skipped.extend(pdfs.iter().map(|att| {
                Reject::new(
                    format!("{msg}, {}", att.label()),
                    "a PDF (application/pdf): the gateway attaches a PDF to the invoice it comes \
                     with, but cannot read an invoice from one",
                )
            }));
            for s in &skipped {
                tracing::debug!(location = %s.location, reason = %s.message, "attachment skipped");
            }
            out.rejects.extend(skipped);
            out.rejects.push(Reject::new(
                msg,
                format!(
                    "no usable attachment: {} attachment(s), none is a cXML, X12 or CSV document; attach the invoice as .xml, .edi or .csv",
                    mail.attachments.len()
                ),
            ));
        } else {
            for s in &skipped {
                tracing::info!(location = %s.location, reason = %s.message, "attachment skipped");
            }
            attach_pdfs(&pdfs, &mut out.documents);
            for note in &damaged_pdfs {
                for d in &mut out.documents {
                    d.meta.note(note);
                }
            }
        }
        out
    }

    /// Reads one attachment as `partner`'s: the documents of a cXML, X12, CSV or JSON
    /// attachment, or why it is refused or skipped.
    pub(crate) fn read(&self, att: &MailAttachment, partner: &PartnerProfile) -> Read {
        match self.input(att, partner) {
            Ok(input) => Read::Decoded(
                input.format,
                input.decoder.decode(&input.bytes, &input.profile),
            ),
            Err(not_read) => not_read,
        }
    }

    /// What the reader of an attachment's format is handed (the reader, the bytes and the
    /// profile), or why the attachment is not read. Each text is decoded exactly once: XML from
    /// the bytes as sent, by its own declaration or byte-order mark ([`xml_input`]); other text
    /// converted from the charset its part declares is read as the UTF-8 it now is
    /// ([`read_as_utf8`]). [`EmailCodec::read`] decodes it; [`EmailCodec::x12_attachments`]
    /// hands the same input to the acknowledgment, so the 997 answers what was read.
    fn input<'a>(
        &'a self,
        att: &'a MailAttachment,
        partner: &'a PartnerProfile,
    ) -> Result<Input<'a>, Read> {
        let size = att.bytes.len().max(att.as_sent().len());
        if size > self.limits.max_attachment_bytes {
            return Err(Read::Refused(format!(
                "the attachment is {size} bytes; the limit is {}",
                self.limits.max_attachment_bytes
            )));
        }
        let format = match classify(att) {
            Ok(f) => f,
            Err(_) if is_pdf(att) => return Err(Read::Pdf),
            Err(why) => return Err(Read::Skipped(why)),
        };
        let Some(decoder) = self.decoder(format) else {
            return Err(Read::Skipped(format!(
                "a {format} attachment, which this gateway does not read"
            )));
        };
        if format == Format::Cxml {
            // The MIME charset does not matter to XML, so neither does whether it could be read.
            return Ok(Input {
                format,
                decoder,
                bytes: xml_input(att),
                profile: Cow::Borrowed(partner),
            });
        }
        if let Some(why) = &att.unreadable {
            return Err(Read::Refused(why.clone()));
        }
        let profile = if att.is_converted() {
            read_as_utf8(partner)
        } else {
            Cow::Borrowed(partner)
        };
        Ok(Input {
            format,
            decoder,
            bytes: Cow::Borrowed(&att.bytes),
            profile,
        })
    }

    /// The X12 attachments of `mail` as the X12 reader reads them for `partner` (the same
    /// bytes and profile, each file once however often it is attached), for the server to
    /// acknowledge them (997/999/TA1) as it acknowledges a dropped or posted interchange. None
    /// when the mail's sender is not `partner`'s, as its profile requires it (nothing of such a
    /// mail is read, so nothing is acknowledged: a forged `From` must not make the gateway
    /// answer anyone).
    pub fn x12_attachments<'a>(
        &'a self,
        mail: &'a ParsedMail,
        partner: &'a PartnerProfile,
    ) -> Vec<X12Attachment<'a>> {
        if check_sender(partner, mail).is_err() {
            return Vec::new();
        }
        let mut read_before: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for att in &mail.attachments {
            let Ok(input) = self.input(att, partner) else {
                continue;
            };
            if input.format != Format::X12 {
                continue;
            }
            let sha = att.sha256();
            if read_before.contains(&sha) {
                continue;
            }
            read_before.push(sha);
            out.push(X12Attachment {
                label: att.label(),
                name: att.name.as_deref(),
                bytes: input.bytes,
                profile: input.profile,
            });
        }
        out
    }

    /// Moves one attachment's results into `out` with mail-level locations and keys.
    ///
    /// A document that carries its own identity (a cXML's From and payloadID, an X12 set's
    /// ISA sender and control numbers) keeps its sender and key, so its idempotency key is the
    /// one it has posted or dropped as a file: the same invoice sent by HTTP and then mailed
    /// is a duplicate, not a second document. The key it had before (message, attachment
    /// hash, its own key, under the message's From) is named as its earlier key
    /// ([`gateway_core::envelope::EARLIER_KEY`]), so one received by mail before this
    /// release is still a duplicate when mailed again. Other documents (CSV rows, JSON) have
    /// no identity of their own: the message and the attachment's hash make their key.
    #[allow(clippy::too_many_arguments)]
    fn adopt(
        &self,
        mail: &ParsedMail,
        att: &MailAttachment,
        format: Format,
        place: &str,
        decoded: Decoded,
        partner: &PartnerProfile,
        out: &mut Decoded,
    ) {
        let sha = att.sha256();
        let own_identity = matches!(format, Format::Cxml | Format::X12);
        for (n, d) in decoded.documents.into_iter().enumerate() {
            let DecodedDocument { document, mut meta } = d;
            let channel_key = |inner_key: &str| format!("{}/{sha}/{inner_key}", mail.message_id);
            match meta.source_key.take() {
                Some(own) if own_identity => {
                    let earlier = gateway_core::envelope::idempotency_key(
                        mail.from.as_deref(),
                        Some(&partner.id),
                        &channel_key(&own),
                    );
                    meta.extra
                        .insert(gateway_core::envelope::EARLIER_KEY.into(), earlier.into());
                    if let Some(from) = mail.from.as_deref() {
                        meta.extra.insert(EXTRA_FROM.into(), from.into());
                    }
                    meta.source_key = Some(own);
                }
                inner => {
                    let inner_key = inner.unwrap_or_else(|| format!("doc-{}", n + 1).into());
                    if let Some(inner) = meta.sender.take() {
                        meta.extra.insert(EXTRA_INNER_SENDER.into(), inner);
                    }
                    meta.sender = mail.from.as_deref().map(Text::from);
                    meta.source_key = Some(channel_key(&inner_key).into());
                }
            }
            meta.location = Some(
                match meta.location.take() {
                    Some(l) => format!("{place}, {l}"),
                    None => place.to_string(),
                }
                .into(),
            );
            meta.extra
                .insert(EXTRA_MESSAGE_ID.into(), mail.message_id.as_str().into());
            meta.extra.insert(
                EXTRA_ATTACHMENT.into(),
                att.name
                    .clone()
                    .unwrap_or_else(|| att.index.to_string())
                    .into(),
            );
            meta.extra.insert(EXTRA_SHA256.into(), sha.as_str().into());
            meta.extra
                .insert(EXTRA_FORMAT.into(), format.to_string().into());
            out.documents.push(DecodedDocument { document, meta });
        }
        for mut r in decoded.rejects {
            r.location = format!("{place}, {}", r.location);
            out.rejects.push(r);
        }
    }
}

/// What one attachment gave ([`EmailCodec::read`]).
pub(crate) enum Read {
    /// A document format's documents and rejects.
    Decoded(Format, Decoded),
    /// A document attachment refused whole (too large, text in a charset it cannot be read in).
    Refused(String),
    /// A PDF, to go with the documents it came with.
    Pdf,
    /// Not a document the gateway reads, and why.
    Skipped(String),
}

/// What the reader of one attachment's format is handed ([`EmailCodec::input`]).
struct Input<'a> {
    format: Format,
    decoder: &'a Arc<dyn Decode>,
    bytes: Cow<'a, [u8]>,
    profile: Cow<'a, PartnerProfile>,
}

/// An X12 attachment as the X12 reader read it ([`EmailCodec::x12_attachments`]).
#[derive(Debug, Clone)]
pub struct X12Attachment<'a> {
    /// `attachment 2 'inv.edi'`, for logs and the acknowledgment mail.
    pub label: String,
    /// The file name the sender gave it, if any.
    pub name: Option<&'a str>,
    /// The interchanges, as the reader got them.
    pub bytes: Cow<'a, [u8]>,
    /// The partner's profile as the reader got it (its character set UTF-8 for text the mail
    /// declared in another set and this adapter converted).
    pub profile: Cow<'a, PartnerProfile>,
}

/// The bytes the XML reader gets: the attachment as sent, its own declaration or byte-order
/// mark naming its encoding, as the XML specification has it. Converted by the MIME charset
/// first, an ISO-8859-1 invoice was decoded twice (`Größe` reached Coupa as `GrÃ¶ÃŸe`) and a
/// UTF-16 one was refused as "not UTF-16LE text", because the reader then applied the
/// declaration to UTF-8. The one use of the MIME charset: UTF-16 without the byte-order mark
/// XML requires, in a part whose charset says UTF-16, gets the mark, which the reader cannot
/// guess (such a part was read before, converted).
fn xml_input(att: &MailAttachment) -> Cow<'_, [u8]> {
    let sent = att.as_sent();
    let utf16_label = att.charset.as_deref().is_some_and(|c| {
        matches!(
            c,
            "utf-16" | "utf-16le" | "utf-16be" | "utf16" | "utf16le" | "utf16be" | "unicode"
        )
    });
    if utf16_label
        && utf16_bom(sent).is_none()
        && let Some(endian) = utf16_without_bom(sent)
    {
        let mark: &[u8] = match endian {
            Endian::Little => b"\xFF\xFE",
            Endian::Big => b"\xFE\xFF",
        };
        let mut marked = Vec::with_capacity(sent.len() + mark.len());
        marked.extend_from_slice(mark);
        marked.extend_from_slice(sent);
        return Cow::Owned(marked);
    }
    Cow::Borrowed(sent)
}

/// `partner` with its X12 and CSV character sets set to UTF-8, for text this adapter converted
/// to UTF-8 from the charset its part declares. A profile's `windows-1252` says what the
/// partner writes where the file does not say; this part did say, and read again as
/// Windows-1252 its text was decoded twice (`Müller` became `MÃ¼ller`). Borrowed when the
/// profile reads UTF-8 already.
fn read_as_utf8(partner: &PartnerProfile) -> Cow<'_, PartnerProfile> {
    let not_utf8 = |c: Option<Charset>| c.is_some_and(|c| c != Charset::Utf8);
    let csv = partner.csv.as_ref().is_some_and(|c| not_utf8(c.charset));
    let x12 = partner.x12.as_ref().is_some_and(|x| not_utf8(x.charset));
    if !csv && !x12 {
        return Cow::Borrowed(partner);
    }
    let mut utf8 = partner.clone();
    if let Some(c) = utf8.csv.as_mut() {
        c.charset = Some(Charset::Utf8);
    }
    if let Some(x) = utf8.x12.as_mut() {
        x.charset = Some(Charset::Utf8);
    }
    Cow::Owned(utf8)
}

/// Rejects documents whose own sender (cXML `From`, ISA sender) is not the partner the mail
/// came from, when the profile names that partner's identity in the format: an allowed mail
/// address must not carry another partner's documents. (A partner with no identity in the
/// format cannot be checked here, knowing no other partner: [`EmailCodec::route`] refuses a
/// mail whose document names another configured partner's identity.)
fn keep_partners_own(decoded: &mut Decoded, format: Format, partner: &PartnerProfile) {
    let Some(want) = Identity::of(partner, format) else {
        return;
    };
    let docs = std::mem::take(&mut decoded.documents);
    for d in docs {
        let Some(sender) = d.meta.sender.as_deref() else {
            decoded.documents.push(d);
            continue;
        };
        if want.matches(sender) {
            decoded.documents.push(d);
        } else {
            decoded.rejects.push(Reject {
                location: d
                    .meta
                    .location
                    .as_deref()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{} {}", d.document.kind(), d.document.number())),
                message: format!(
                    "the document says it is from {sender}, but the mail is from partner {}, whose {} is {}",
                    partner.id,
                    want.keys,
                    want.shown()
                ),
                document: Some(d.document.number().to_string()),
            });
        }
    }
}

impl Decode for EmailCodec {
    fn format(&self) -> Format {
        Format::Email
    }

    /// A message is read whole; the default `decode_reader` reads at most this + 1 bytes, so
    /// an endless input costs bounded memory and is rejected as too large.
    fn max_input_bytes(&self) -> Option<usize> {
        Some(self.limits.max_message_bytes)
    }

    fn decode(&self, raw: &[u8], partner: &PartnerProfile) -> Decoded {
        match ParsedMail::parse(raw, &self.limits) {
            Ok(mail) => self.decode_mail(&mail, partner),
            Err(e) => {
                let digest = gateway_core::sha256_hex(raw);
                let short: String = digest.chars().take(16).collect();
                Decoded {
                    documents: Vec::new(),
                    rejects: vec![Reject::new(
                        format!("message sha256:{short}"),
                        e.to_string(),
                    )],
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_core::JsonCodec;
    use gateway_core::profile::EmailProfile;

    const INVOICE: &str = r#"{"schema_version": 1, "kind": "invoice", "invoice_number": "D-1", "invoice_date": "2026-05-01", "currency": "EUR", "supplier": {"name": "Dialect Supplies"}, "lines": [{"line_number": 1, "quantity": "5", "uom": "PK", "unit_price": "3.20", "amount": "16.00", "description": "Cable ties"}]}"#;

    fn codec() -> EmailCodec {
        EmailCodec::new(vec![Arc::new(JsonCodec::default())])
    }

    fn part(name: &str, ctype: &str, body: &str) -> String {
        format!(
            "--b\r\nContent-Type: {ctype}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\r\n{body}\r\n"
        )
    }

    fn mail(from: &str, parts: &[String]) -> Vec<u8> {
        let mut s = format!(
            "From: {from}\r\nTo: ap@globex.example\r\nMessage-ID: <m1@acme.example>\r\nSubject: invoices\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nPlease find attached.\r\n"
        );
        for p in parts {
            s.push_str(p);
        }
        s.push_str("--b--\r\n");
        s.into_bytes()
    }

    fn acme() -> PartnerProfile {
        PartnerProfile {
            id: "acme".into(),
            email: Some(EmailProfile {
                from: vec!["@acme.example".into()],
                ..EmailProfile::default()
            }),
            ..PartnerProfile::default()
        }
    }

    #[test]
    fn attachment_documents_carry_sender_and_a_stable_key() {
        let raw = mail(
            "billing@acme.example",
            &[
                part("inv.pdf", "application/pdf", "%PDF-1.4"),
                part("inv.json", "application/json", INVOICE),
            ],
        );
        let d = codec().decode(&raw, &acme());
        assert!(d.rejects.is_empty(), "{:?}", d.rejects);
        assert_eq!(d.documents.len(), 1);
        let meta = &d.documents[0].meta;
        assert_eq!(meta.sender.as_deref(), Some("billing@acme.example"));
        let key = meta.source_key.clone().unwrap_or_default();
        assert!(key.starts_with("m1@acme.example/"), "{key}");
        assert_eq!(
            meta.location.as_deref(),
            Some("message <m1@acme.example>, attachment 2 'inv.json', document 1")
        );
        assert_eq!(d.documents[0].document.number(), "D-1");
        // the same bytes give the same key: the ledger sees the resend as a duplicate
        let again = codec().decode(&raw, &acme());
        assert_eq!(
            again.documents[0].meta.source_key.as_deref(),
            Some(key.as_str())
        );
    }

    #[test]
    fn a_message_without_usable_attachment_is_rejected_with_each_reason() {
        let raw = mail(
            "billing@acme.example",
            &[part("inv.pdf", "application/pdf", "%PDF-1.4")],
        );
        let d = codec().decode(&raw, &acme());
        assert!(d.documents.is_empty());
        assert_eq!(d.rejects.len(), 2, "{:?}", d.rejects);
        assert_eq!(
            d.rejects[0].location,
            "message <m1@acme.example>, attachment 1 'inv.pdf'"
        );
        assert!(d.rejects[0].message.contains("application/pdf"));
        assert!(d.rejects[1].message.contains("no usable attachment"));
    }

    #[test]
    fn a_bad_attachment_does_not_lose_the_good_one() {
        let raw = mail(
            "billing@acme.example",
            &[
                part("bad.json", "application/json", "{\"kind\": \"invoice\""),
                part("inv.json", "application/json", INVOICE),
            ],
        );
        let d = codec().decode(&raw, &acme());
        assert_eq!(d.documents.len(), 1);
        assert_eq!(d.rejects.len(), 1, "{:?}", d.rejects);
        assert!(
            d.rejects[0]
                .location
                .starts_with("message <m1@acme.example>, attachment 1 'bad.json', "),
            "{}",
            d.rejects[0].location
        );
    }

    /// A document in a charset the gateway cannot read is refused with the reason, not read
    /// with its characters replaced; the mail's other documents still go through.
    #[test]
    fn an_attachment_in_an_unreadable_charset_is_rejected_not_mangled() {
        let raw = mail(
            "billing@acme.example",
            &[
                part("odd.json", "text/plain; charset=x-martian", INVOICE),
                part("inv.json", "application/json", INVOICE),
            ],
        );
        let d = codec().decode(&raw, &acme());
        assert_eq!(d.documents.len(), 1, "{:?}", d.rejects);
        assert_eq!(d.rejects.len(), 1, "{:?}", d.rejects);
        assert_eq!(
            d.rejects[0].location,
            "message <m1@acme.example>, attachment 1 'odd.json'"
        );
        assert!(
            d.rejects[0].message.contains("charset \"x-martian\""),
            "{}",
            d.rejects[0].message
        );
    }

    #[test]
    fn a_sender_outside_the_allow_list_gets_nothing_decoded() {
        let raw = mail(
            "mallory@evil.example",
            &[part("inv.json", "application/json", INVOICE)],
        );
        let d = codec().decode(&raw, &acme());
        assert!(d.documents.is_empty());
        assert_eq!(d.rejects.len(), 1);
        assert!(d.rejects[0].message.contains("mallory@evil.example"));
    }

    #[test]
    fn oversized_attachments_and_too_many_attachments_are_located() {
        let small = codec().with_limits(Limits {
            max_attachment_bytes: 10,
            ..Limits::default()
        });
        let raw = mail(
            "billing@acme.example",
            &[part("inv.json", "application/json", INVOICE)],
        );
        let d = small.decode(&raw, &acme());
        assert!(d.documents.is_empty());
        assert_eq!(d.rejects.len(), 1, "{:?}", d.rejects);
        assert!(d.rejects[0].location.ends_with("attachment 1 'inv.json'"));
        assert!(d.rejects[0].message.contains("limit is 10"));

        let few = codec().with_limits(Limits {
            max_attachments: 1,
            ..Limits::default()
        });
        let two = part("inv.json", "application/json", INVOICE);
        let d = few.decode(&mail("billing@acme.example", &[two.clone(), two]), &acme());
        assert_eq!(d.rejects.len(), 1);
        assert!(
            d.rejects[0].message.contains("2 attachments"),
            "{:?}",
            d.rejects
        );
    }

    #[test]
    fn a_reader_is_read_only_up_to_the_limit() {
        let small = codec().with_limits(Limits {
            max_message_bytes: 1000,
            ..Limits::default()
        });
        // an endless input: only the limit (plus one byte) is ever read
        let mut endless = std::io::BufReader::new(std::io::repeat(b'a'));
        let mut rejects = Vec::new();
        small
            .decode_reader(&mut endless, &acme(), &mut |item| {
                if let gateway_core::DecodeItem::Reject(r) = item {
                    rejects.push(r);
                }
            })
            .unwrap();
        assert_eq!(rejects.len(), 1);
        assert!(
            rejects[0].message.contains("1001 bytes; the limit is 1000"),
            "{:?}",
            rejects
        );
    }

    #[test]
    fn garbage_never_panics_and_is_rejected() {
        let c = codec();
        let mut seed = 0x2545_f491_u64;
        for len in 0..400usize {
            let mut bytes = Vec::with_capacity(len);
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                bytes.push((seed & 0xff) as u8);
            }
            let d = c.decode(&bytes, &acme());
            assert!(d.documents.is_empty());
        }
        // every prefix of a good message
        let raw = mail(
            "billing@acme.example",
            &[part("inv.json", "application/json", INVOICE)],
        );
        for n in 0..raw.len() {
            let _ = c.decode(&raw[..n], &acme());
        }
    }
}
