//! Parsing one RFC 5322 message with bounds: total size, MIME parts, nesting depth and
//! attachment count are checked before any attachment is decoded, so a MIME bomb costs at most
//! one bounded parse.

use mail_parser::{Encoding, MessageParser, MessagePart, MimeHeaders, PartType};

/// Bounds on one message. Defaults suit invoice mail: 25 MiB per message (the common MTA
/// limit), 16 MiB per attachment, 20 attachments, 200 MIME parts, 3 levels of nesting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_message_bytes: usize,
    pub max_attachment_bytes: usize,
    pub max_attachments: usize,
    pub max_parts: usize,
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 25 * 1024 * 1024,
            max_attachment_bytes: 16 * 1024 * 1024,
            max_attachments: 20,
            max_parts: 200,
            max_depth: 3,
        }
    }
}

/// Why a whole message could not be read. Never retryable: the same bytes fail the same way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    #[error("the message is {size} bytes; the limit is {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("not an RFC 5322 message: no header block could be read")]
    NotAMessage,
    #[error("the message has more than {limit} MIME parts; refused as a possible MIME bomb")]
    TooManyParts { limit: usize },
    #[error("MIME parts are nested more than {limit} deep; refused as a possible MIME bomb")]
    TooDeep { limit: usize },
    #[error("the message has {count} attachments; the limit is {limit}")]
    TooManyAttachments { count: usize, limit: usize },
    /// Two `From` fields, or one naming several mailboxes: which sender the partner is found
    /// by would be the parser's choice (a spoofed first `From` with a partner's second was
    /// taken as the partner's).
    #[error(
        "the message names {count} senders in From (a message has one From field with one address); refused: it cannot tell which partner it is from"
    )]
    SeveralSenders { count: usize },
}

/// One attachment, in message order (numbered from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAttachment {
    pub index: usize,
    /// The file name from `Content-Disposition`/`Content-Type`, when given.
    pub name: Option<String>,
    /// `type/subtype`, lower case, when given.
    pub content_type: Option<String>,
    /// The content for the format readers: its transfer encoding removed and, when the part
    /// declares a charset other than UTF-8 and its text could be read in it, that text as UTF-8
    /// (see [`MailAttachment::sent`]).
    pub bytes: Vec<u8>,
    /// The content exactly as sent (transfer encoding removed, nothing else), when `bytes` is
    /// its text converted from the charset the part declares; `None` when `bytes` are already
    /// as sent. An XML document is read from these: its own declaration or byte-order mark
    /// names its encoding, and a reader that converted it by the MIME charset first would
    /// then decode it a second time by that declaration.
    pub sent: Option<Vec<u8>>,
    /// The `charset` parameter of the part's `Content-Type`, lower case, when it has one.
    pub charset: Option<String>,
    /// True for an attached message (`message/rfc822`), which is not opened.
    pub is_message: bool,
    /// Why the text could not be read in the character set its `charset` parameter declares
    /// (a charset nobody knows, or bytes that are not text in it); `bytes` then holds the
    /// content as sent. An attachment that is a document is rejected with this reason rather
    /// than read with characters replaced; but XML, which names its own encoding, is read.
    pub unreadable: Option<String>,
}

impl MailAttachment {
    /// `attachment 2 'inv.pdf'` for locations.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("attachment {} '{}'", self.index, clean(n, 120)),
            None => format!("attachment {}", self.index),
        }
    }

    /// Lower-case hex SHA-256 of the content (`bytes`, so a message's source keys stay what
    /// they were before the bytes as sent were kept beside them).
    pub fn sha256(&self) -> String {
        gateway_core::sha256_hex(&self.bytes)
    }

    /// The content exactly as sent: transfer encoding removed, no character set conversion.
    pub fn as_sent(&self) -> &[u8] {
        self.sent.as_deref().unwrap_or(&self.bytes)
    }

    /// Whether `bytes` is text the gateway converted to UTF-8 from the charset the part
    /// declares, so a reader must take it as UTF-8 and not decode it again.
    pub fn is_converted(&self) -> bool {
        self.sent.is_some()
    }
}

/// The facts of a message the gateway uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMail {
    /// `Message-ID` without angle brackets, or `sha256:<hex>` of the raw message when absent.
    pub message_id: String,
    /// The first `From` address, lower case.
    pub from: Option<String>,
    pub subject: Option<String>,
    /// Every `Authentication-Results` header value, topmost first.
    pub auth_results: Vec<String>,
    pub attachments: Vec<MailAttachment>,
}

impl ParsedMail {
    /// Parses `raw` within `limits`.
    pub fn parse(raw: &[u8], limits: &Limits) -> Result<Self, MailError> {
        if raw.len() > limits.max_message_bytes {
            return Err(MailError::TooLarge {
                size: raw.len(),
                limit: limits.max_message_bytes,
            });
        }
        let message = FlatDrop(
            MessageParser::default()
                .parse(raw)
                .ok_or(MailError::NotAMessage)?,
        );
        let message = &message.0;
        if message.headers().is_empty() {
            return Err(MailError::NotAMessage);
        }
        check_shape(message, limits)?;
        let count = message.attachment_count();
        if count > limits.max_attachments {
            return Err(MailError::TooManyAttachments {
                count,
                limit: limits.max_attachments,
            });
        }
        let message_id = match message.message_id() {
            Some(id) if !id.trim().is_empty() => clean(id.trim(), 200),
            _ => format!("sha256:{}", gateway_core::sha256_hex(raw)),
        };
        let from_fields = message
            .headers_raw()
            .filter(|(name, _)| name.eq_ignore_ascii_case("From"))
            .count();
        let from_addresses = message.from().map_or(0, |a| a.iter().count());
        if from_fields > 1 || from_addresses > 1 {
            return Err(MailError::SeveralSenders {
                count: from_fields.max(from_addresses),
            });
        }
        let from = message
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(|a| a.trim().to_ascii_lowercase());
        let auth_results = message
            .headers_raw()
            .filter(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))
            .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        let attachments = message
            .attachments()
            .enumerate()
            .map(|(i, part)| {
                let content = attachment_bytes(raw, part);
                MailAttachment {
                    index: i + 1,
                    name: part.attachment_name().map(str::to_string),
                    content_type: mime_type(part),
                    bytes: content.bytes,
                    sent: content.sent,
                    charset: declared_charset(part),
                    is_message: matches!(part.body, PartType::Message(_)),
                    unreadable: content.unreadable,
                }
            })
            .collect();
        Ok(ParsedMail {
            message_id,
            from,
            subject: message.subject().map(|s| clean(s, 200)),
            auth_results,
            attachments,
        })
    }

    /// `message <id>` for locations.
    pub fn label(&self) -> String {
        format!("message <{}>", self.message_id)
    }
}

/// An attachment's content: see the fields of [`MailAttachment`] of the same names.
struct Content {
    bytes: Vec<u8>,
    sent: Option<Vec<u8>>,
    unreadable: Option<String>,
}

/// The attachment's content for the format readers, the content as sent when that differs,
/// and why it could not be read when it could not.
///
/// mail-parser turns a `text/*` part into UTF-8, replacing with U+FFFD every byte its charset
/// does not explain: all of a part that declares no charset but is not UTF-8 (a CSV saved by
/// Excel on Windows and attached with no charset parameter, as most mailers do), and all of a
/// part in a charset it was built without (Shift_JIS, GBK, Big5, EUC-KR) or does not know.
/// Those invoices lost their names with no trace. So text parts are decoded here from the
/// bytes as sent: with no charset (or UTF-8, ASCII) the bytes stay as they are, and the format
/// readers read what is not UTF-8 as Windows-1252 and note it; a declared charset is decoded
/// by its WHATWG label (as mail clients do: `iso-8859-1` reads as Windows-1252), and a charset
/// nobody knows or bytes that are not text in it are refused with the reason.
///
/// The bytes as sent are kept beside a conversion: an XML document names its own encoding,
/// and is read from them (see [`MailAttachment::sent`]).
fn attachment_bytes(raw: &[u8], part: &MessagePart<'_>) -> Content {
    let as_is = |bytes: Vec<u8>, unreadable| Content {
        bytes,
        sent: None,
        unreadable,
    };
    let converted = part.contents();
    let is_text = matches!(part.body, PartType::Text(_) | PartType::Html(_));
    if !is_text {
        return as_is(converted.to_vec(), None);
    }
    let Some(bytes) = bytes_as_sent(raw, part) else {
        return as_is(converted.to_vec(), None);
    };
    match declared_charset(part).as_deref() {
        None | Some("utf-8" | "utf8" | "us-ascii" | "ascii") => as_is(bytes, None),
        Some(label) => match decode_declared(&bytes, label) {
            Ok(text) => Content {
                bytes: text.into_bytes(),
                sent: Some(bytes),
                unreadable: None,
            },
            Err(why) => as_is(bytes, Some(why)),
        },
    }
}

/// The `charset` parameter of the part's `Content-Type`, trimmed, unquoted, lower case.
fn declared_charset(part: &MessagePart<'_>) -> Option<String> {
    part.content_type()
        .and_then(|ct| ct.attribute("charset"))
        .map(|c| clean(c.trim().trim_matches('"'), 40).to_ascii_lowercase())
}

/// The part's `type/subtype`, lower case, when it declares one.
pub(crate) fn mime_type(part: &MessagePart<'_>) -> Option<String> {
    part.content_type().map(|ct| match ct.subtype() {
        Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
        None => ct.ctype().to_ascii_lowercase(),
    })
}

/// The part's content as sent: its transfer encoding (base64, quoted-printable) undone, no
/// character set conversion. `None` when the offsets or the encoding do not hold.
pub(crate) fn bytes_as_sent(raw: &[u8], part: &MessagePart<'_>) -> Option<Vec<u8>> {
    let body = raw.get(part.offset_body as usize..part.offset_end as usize)?;
    match part.encoding {
        Encoding::None => Some(body.to_vec()),
        Encoding::QuotedPrintable => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(body)
        }
        Encoding::Base64 => mail_parser::decoders::base64::base64_decode(body),
    }
}

/// `bytes` as text in the charset `label` names, or why not, in words for the sender.
fn decode_declared(bytes: &[u8], label: &str) -> Result<String, String> {
    use gateway_model::charset::{Undecodable, decode_labelled, line_of};
    decode_labelled(bytes, label).map_err(|e| match e {
        Undecodable::UnknownLabel(shown) => format!(
            "it declares charset \"{shown}\", which the gateway cannot read; send it as UTF-8 \
             (or Windows-1252, or name a character set of the WHATWG Encoding Standard)"
        ),
        Undecodable::Malformed { charset, offset } => format!(
            "it declares charset \"{}\" but line {} (byte {}) is not {charset} text; send it \
             again in the charset it names, or name the one it is in",
            clean(label, 40),
            line_of(bytes, offset),
            offset + 1
        ),
    })
}

/// Owns a parsed message and drops it without recursion. mail-parser keeps an attached message
/// (`message/rfc822`) inside its parent part, so dropping a message nested thousands deep
/// recurses once per level: a MIME bomb of that shape overflowed the stack and aborted the whole
/// process, even though the depth limit refused the message. Nested messages are taken out and
/// dropped one level at a time instead.
pub(crate) struct FlatDrop<'x>(pub(crate) mail_parser::Message<'x>);

impl Drop for FlatDrop<'_> {
    fn drop(&mut self) {
        let mut pending = Vec::new();
        take_nested(&mut self.0, &mut pending);
        while let Some(mut m) = pending.pop() {
            take_nested(&mut m, &mut pending);
        }
    }
}

/// Moves the messages attached directly to `m` into `out`.
fn take_nested<'x>(m: &mut mail_parser::Message<'x>, out: &mut Vec<mail_parser::Message<'x>>) {
    for part in &mut m.parts {
        if matches!(part.body, PartType::Message(_))
            && let PartType::Message(inner) = std::mem::take(&mut part.body)
        {
            out.push(inner);
        }
    }
}

/// Counts MIME parts and nesting depth over the whole tree (attached messages included),
/// visiting at most `max_parts + 1` parts, so the walk itself is bounded.
pub(crate) fn check_shape(
    message: &mail_parser::Message<'_>,
    limits: &Limits,
) -> Result<(), MailError> {
    let mut stack: Vec<(&mail_parser::Message<'_>, u32, usize)> = vec![(message, 0, 0)];
    let mut visited = 0usize;
    while let Some((msg, id, depth)) = stack.pop() {
        visited += 1;
        if visited > limits.max_parts {
            return Err(MailError::TooManyParts {
                limit: limits.max_parts,
            });
        }
        if depth > limits.max_depth {
            return Err(MailError::TooDeep {
                limit: limits.max_depth,
            });
        }
        let Some(part) = usize::try_from(id).ok().and_then(|i| msg.parts.get(i)) else {
            continue;
        };
        match &part.body {
            PartType::Multipart(children) => {
                for child in children {
                    if *child > id {
                        stack.push((msg, *child, depth + 1));
                    }
                }
            }
            PartType::Message(inner) => stack.push((inner, 0, depth + 1)),
            _ => {}
        }
    }
    Ok(())
}

/// Keeps text fit for a one-line location: control characters dropped, length bounded.
pub(crate) fn clean(s: &str, max_chars: usize) -> String {
    let mut out: String = s
        .chars()
        .filter(|c| !c.is_control())
        .take(max_chars)
        .collect();
    if s.chars().filter(|c| !c.is_control()).count() > max_chars {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CSV saved by Excel on Windows, attached with no charset parameter.
    const WINDOWS_1252_CSV: &[u8] =
        b"Invoice,Invoice Number,Supplier Name\nInvoice,1,Soci\xe9t\xe9 M\x92s\n";

    fn mail_with(content_type: &str, encoding: &str, body: &[u8]) -> Vec<u8> {
        let mut raw = format!(
            "From: a@acme.example\r\nMessage-ID: <x@acme.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: {encoding}\r\nContent-Disposition: attachment; filename=\"i.csv\"\r\n\r\n"
        )
        .into_bytes();
        raw.extend_from_slice(body);
        raw.extend_from_slice(b"\r\n--b--\r\n");
        raw
    }

    /// mail-parser replaced every byte that is not UTF-8 with U+FFFD in a text part that
    /// declares no charset: the attachment now keeps the bytes as sent, in every transfer
    /// encoding, and a declared charset is converted by mail-parser as before.
    #[test]
    fn a_text_attachment_without_a_charset_keeps_its_bytes() {
        let quoted: Vec<u8> = WINDOWS_1252_CSV
            .iter()
            .flat_map(|&b| {
                if b >= 0x80 {
                    format!("={b:02X}").into_bytes()
                } else {
                    vec![b]
                }
            })
            .collect();
        // "Soci\xe9t\xe9 M\x92s" and the rest, in base64 over two lines.
        let base64 =
            b"SW52b2ljZSxJbnZvaWNlIE51bWJlcixTdXBwbGllciBOYW1lCkludm9pY2Us\r\nMSxTb2Np6XTpIE2Scwo=";
        for (encoding, body) in [
            ("8bit", WINDOWS_1252_CSV.to_vec()),
            ("quoted-printable", quoted),
            ("base64", base64.to_vec()),
        ] {
            let m = ParsedMail::parse(&mail_with("text/csv", encoding, &body), &Limits::default())
                .unwrap_or_else(|e| panic!("{encoding}: {e}"));
            assert_eq!(m.attachments[0].bytes, WINDOWS_1252_CSV, "{encoding}");
        }
        let declared = ParsedMail::parse(
            &mail_with("text/csv; charset=windows-1252", "8bit", WINDOWS_1252_CSV),
            &Limits::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            String::from_utf8(declared.attachments[0].bytes.clone())
                .ok()
                .as_deref(),
            Some("Invoice,Invoice Number,Supplier Name\nInvoice,1,Société M’s\n")
        );
    }

    /// "株式会社アクメ,安全手袋（ニトリル）Ｌサイズ" and a line break, in Shift_JIS as Python's
    /// codec writes it (`'...'.encode('shift_jis')`), so the expected text is not this code's.
    const SHIFT_JIS_CSV: &[u8] = b"\x8a\x94\x8e\xae\x89\xef\x8e\xd0\x83\x41\x83\x4e\x83\x81,\
        \x88\xc0\x91\x53\x8e\xe8\x91\xdc\x81\x69\x83\x6a\x83\x67\x83\x8a\x83\x8b\x81\x6a\x82\x6b\
        \x83\x54\x83\x43\x83\x59\n";
    const SHIFT_JIS_TEXT: &str = "株式会社アクメ,安全手袋（ニトリル）Ｌサイズ\n";

    fn base64(bytes: &[u8]) -> Vec<u8> {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = Vec::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (k, &b)| n | u32::from(b) << (16 - 8 * k));
            for k in 0..4 {
                out.push(if k <= chunk.len() {
                    ALPHABET[(n >> (18 - 6 * k) & 63) as usize]
                } else {
                    b'='
                });
            }
        }
        out
    }

    fn attachment(content_type: &str, encoding: &str, body: &[u8]) -> MailAttachment {
        let m = ParsedMail::parse(&mail_with(content_type, encoding, body), &Limits::default())
            .unwrap_or_else(|e| panic!("{content_type}: {e}"));
        m.attachments
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no attachment"))
    }

    /// mail-parser, built without its multi-byte tables, replaced a Shift_JIS attachment
    /// with U+FFFD throughout: a Japanese supplier's invoice lost every name, silently.
    #[test]
    fn a_declared_multi_byte_charset_is_decoded() {
        for (ctype, encoding, body) in [
            (
                "text/csv; charset=Shift_JIS",
                "base64",
                base64(SHIFT_JIS_CSV),
            ),
            (
                "text/csv; charset=\"shift_jis\"",
                "8bit",
                SHIFT_JIS_CSV.to_vec(),
            ),
            (
                "text/csv; charset=windows-31j",
                "8bit",
                SHIFT_JIS_CSV.to_vec(),
            ),
        ] {
            let a = attachment(ctype, encoding, &body);
            assert_eq!(a.unreadable, None, "{ctype}");
            // The bytes as sent are kept beside the text, for a reader of XML.
            assert_eq!(a.as_sent(), SHIFT_JIS_CSV, "{ctype}");
            assert!(a.is_converted());
            assert_eq!(
                String::from_utf8(a.bytes).ok().as_deref(),
                Some(SHIFT_JIS_TEXT),
                "{ctype}"
            );
        }
        // A byte-order mark wins over the label.
        let mut utf16be = vec![0xFE, 0xFF];
        utf16be.extend("Müller,1\n".encode_utf16().flat_map(u16::to_be_bytes));
        let a = attachment("text/csv; charset=utf-16", "base64", &base64(&utf16be));
        assert_eq!(
            String::from_utf8(a.bytes).ok().as_deref(),
            Some("Müller,1\n")
        );
        // Labelled ISO-8859-1, written by Windows: 0x92 is the apostrophe, as mail clients read it.
        let a = attachment("text/csv; charset=iso-8859-1", "8bit", b"M\x92s,1\n");
        assert_eq!(
            String::from_utf8(a.bytes).ok().as_deref(),
            Some("M\u{2019}s,1\n")
        );
    }

    #[test]
    fn an_unknown_charset_or_bytes_not_in_it_are_refused_with_the_reason() {
        let a = attachment("text/csv; charset=x-martian", "8bit", SHIFT_JIS_CSV);
        let why = a.unreadable.unwrap_or_default();
        assert!(
            why.contains("\"x-martian\"") && why.contains("UTF-8"),
            "{why}"
        );
        assert_eq!(a.bytes, SHIFT_JIS_CSV, "kept as sent");
        // A lone lead byte (0x82) at the end of the second line is not Shift_JIS.
        let mut broken = b"Invoice,1\n".to_vec();
        broken.extend_from_slice(b"Name,\x82\n");
        let a = attachment("text/csv; charset=Shift_JIS", "8bit", &broken);
        let why = a.unreadable.unwrap_or_default();
        assert!(why.contains("line 2 (byte 16) is not Shift_JIS"), "{why}");
        assert_eq!(a.bytes, broken);
    }

    fn mail(body: &str) -> Vec<u8> {
        format!(
            "From: Billing <Billing@Acme.Example>\r\nTo: ap@globex.example\r\nMessage-ID: <m1@acme.example>\r\nSubject: inv\r\nMIME-Version: 1.0\r\n{body}"
        )
        .into_bytes()
    }

    #[test]
    fn reads_from_id_and_attachments() {
        let raw = mail(
            "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: text/csv; name=\"a.csv\"\r\nContent-Disposition: attachment; filename=\"a.csv\"\r\nContent-Transfer-Encoding: base64\r\n\r\nYSxiCjEsMgo=\r\n--b--\r\n",
        );
        let m = ParsedMail::parse(&raw, &Limits::default()).unwrap();
        assert_eq!(m.message_id, "m1@acme.example");
        assert_eq!(m.from.as_deref(), Some("billing@acme.example"));
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].name.as_deref(), Some("a.csv"));
        assert_eq!(m.attachments[0].content_type.as_deref(), Some("text/csv"));
        assert_eq!(m.attachments[0].bytes, b"a,b\n1,2\n");
        assert_eq!(m.attachments[0].label(), "attachment 1 'a.csv'");
    }

    #[test]
    fn oversized_messages_are_refused_before_parsing() {
        let raw = mail("\r\nbody");
        let limits = Limits {
            max_message_bytes: 10,
            ..Limits::default()
        };
        assert!(matches!(
            ParsedMail::parse(&raw, &limits),
            Err(MailError::TooLarge { .. })
        ));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut body = String::new();
        let levels = 12;
        for i in 0..levels {
            body.push_str(&format!(
                "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
            ));
        }
        body.push_str("Content-Type: text/plain\r\n\r\nx\r\n");
        for i in (0..levels).rev() {
            body.push_str(&format!("--b{i}--\r\n"));
        }
        let raw = mail(&body);
        let got = ParsedMail::parse(&raw, &Limits::default());
        assert!(matches!(got, Err(MailError::TooDeep { .. })), "{got:?}");
    }

    #[test]
    fn messages_attached_ten_thousand_deep_are_refused_without_overflowing_the_stack() {
        let mut raw = String::new();
        for i in 0..10_000 {
            raw.push_str(&format!(
                "From: a@b.example\r\nMessage-ID: <m{i}@b.example>\r\nContent-Type: message/rfc822\r\n\r\n"
            ));
        }
        raw.push_str("From: a@b.example\r\n\r\nx\r\n");
        let got = ParsedMail::parse(raw.as_bytes(), &Limits::default());
        assert!(matches!(got, Err(MailError::TooDeep { .. })), "{got:?}");
    }

    #[test]
    fn too_many_parts_are_refused() {
        let mut body = String::from("Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n");
        for _ in 0..300 {
            body.push_str("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n");
        }
        body.push_str("--b--\r\n");
        let got = ParsedMail::parse(&mail(&body), &Limits::default());
        assert!(
            matches!(got, Err(MailError::TooManyParts { .. })),
            "{got:?}"
        );
    }

    #[test]
    fn a_missing_message_id_falls_back_to_the_content_hash() {
        let raw = b"From: a@b.example\r\nSubject: x\r\n\r\nhi".to_vec();
        let m = ParsedMail::parse(&raw, &Limits::default()).unwrap();
        assert!(m.message_id.starts_with("sha256:"), "{}", m.message_id);
        assert_eq!(m.message_id.len(), 7 + 64);
    }

    /// A second `From` field (or one naming two mailboxes) was read as the parser chose: a
    /// spoofed `From: mallory@evil.example` before a partner's was accepted as the partner's.
    #[test]
    fn a_message_naming_several_senders_is_refused() {
        let body = "Content-Type: text/plain\r\n\r\nhi\r\n";
        for from in [
            "From: mallory@evil.example\r\nFrom: billing@acme.example\r\n",
            "From: mallory@evil.example, billing@acme.example\r\n",
        ] {
            let raw = format!("{from}Message-ID: <x@y>\r\nSubject: s\r\n{body}");
            let err = ParsedMail::parse(raw.as_bytes(), &Limits::default()).err();
            assert!(
                matches!(err, Some(MailError::SeveralSenders { count: 2 })),
                "{from}: {err:?}"
            );
        }
        let one = format!("From: billing@acme.example\r\nMessage-ID: <x@y>\r\n{body}");
        let parsed = ParsedMail::parse(one.as_bytes(), &Limits::default());
        assert_eq!(
            parsed.ok().and_then(|m| m.from).as_deref(),
            Some("billing@acme.example")
        );
    }
}
