//! Stand-ins for the cXML, CSV and X12 readers, and a hand-built RFC 5322 mail.
//!
//! adapter-email never depends on another adapter (the server hands the codecs in), and its
//! tests cannot either. Each stand-in decodes its text exactly as the real reader does, with
//! the same `gateway_model::charset` functions: cXML by its byte-order mark or XML declaration
//! (adapter-cxml `reader::to_utf8`), CSV and X12 by the partner profile's `charset`
//! (`Charset::read`, as adapter-csv `rows::to_strings` and the X12 tokenizer do). Then it reads
//! the few fields these tests look at: the invoice number, the supplier, the first line's
//! description, and the sender the document names (cXML `From`, ISA05:ISA06).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::sync::Arc;

use adapter_email::EmailCodec;
use gateway_core::{Decode, Decoded, DecodedDocument, Format, PartnerProfile, Reject, SourceMeta};
use gateway_model::charset::{
    Charset, Undecodable, decode_labelled, from_utf16, from_windows_1252, utf16_bom,
};
use gateway_model::{Document, Invoice, from_json};

/// The e-mail codec over the three stand-ins.
pub fn codec() -> EmailCodec {
    EmailCodec::new(vec![
        Arc::new(XmlReader),
        Arc::new(CsvReader),
        Arc::new(X12Reader),
    ])
}

/// The invoice of a decoded document.
pub fn invoice(d: &DecodedDocument) -> &Invoice {
    match &d.document {
        Document::Invoice(i) => i,
        other => panic!("not an invoice: {other:?}"),
    }
}

/// The first line's description of the only document, or the rejects.
pub fn only_description(d: &Decoded) -> String {
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    assert_eq!(d.documents.len(), 1, "{:?}", d.documents);
    invoice(&d.documents[0]).lines[0]
        .description
        .as_deref()
        .unwrap_or_default()
        .to_string()
}

/// The document's notes (a reader's remark that text was read as Windows-1252, say).
pub fn notes(d: &DecodedDocument) -> Vec<String> {
    d.meta.notes().map(str::to_string).collect()
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A one-line canonical invoice.
fn document(
    number: &str,
    supplier: Option<&str>,
    supplier_number: Option<&str>,
    description: &str,
) -> Document {
    let mut party = Vec::new();
    if let Some(n) = supplier {
        party.push(format!("\"name\": {}", json_str(n)));
    }
    if let Some(n) = supplier_number {
        party.push(format!(
            "\"ids\": [{{\"domain\": \"coupa-number\", \"value\": {}}}]",
            json_str(n)
        ));
    }
    let json = format!(
        r#"{{"schema_version": 1, "kind": "invoice", "invoice_number": {}, "invoice_date": "2026-03-15", "currency": "EUR", "supplier": {{{}}}, "lines": [{{"line_number": 1, "quantity": "10", "uom": "EA", "unit_price": "12.50", "amount": "125.00", "description": {}}}]}}"#,
        json_str(number),
        party.join(", "),
        json_str(description)
    );
    from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}: {json}"))
}

fn decoded(doc: Document, sender: Option<String>, n: usize) -> DecodedDocument {
    DecodedDocument {
        document: doc,
        meta: SourceMeta {
            sender: sender.map(Into::into),
            source_key: Some(format!("doc-{n}").into()),
            location: Some(format!("document {n}").into()),
            ..SourceMeta::default()
        },
    }
}

/// Text between `open` (then the end of its tag) and `close`, after `from`.
fn between<'t>(text: &'t str, open: &str, close: &str) -> Option<&'t str> {
    let at = text.find(open)? + open.len();
    let rest = text.get(at..)?;
    let rest = rest.get(rest.find('>')? + 1..)?;
    rest.get(..rest.find(close)?)
}

fn attribute<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    let key = format!("{name}=\"");
    let at = text.find(&key)? + key.len();
    let rest = text.get(at..)?;
    rest.get(..rest.find('"')?)
}

/// The `encoding` of the XML declaration, lower case, as adapter-cxml reads it.
fn declared_encoding(body: &[u8]) -> Option<String> {
    let head = body.get(..body.len().min(200))?;
    let head = std::str::from_utf8(head)
        .ok()
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(head).into_owned());
    let decl = head.strip_prefix("<?xml")?;
    let decl = decl.get(..decl.find("?>")?)?;
    let at = decl.find("encoding")? + "encoding".len();
    let rest = decl.get(at..)?.trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next()?;
    let rest = rest.get(1..)?;
    Some(rest.get(..rest.find(quote)?)?.to_ascii_lowercase())
}

/// The XML text of `raw`, as adapter-cxml `to_utf8` decodes it.
fn xml_text(raw: &[u8]) -> Result<String, String> {
    if let Some((endian, body)) = utf16_bom(raw) {
        return from_utf16(body, endian).map_err(|_| "invalid UTF-16".to_string());
    }
    let bom = raw.starts_with(b"\xEF\xBB\xBF");
    let body = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    let declared = if bom { None } else { declared_encoding(body) };
    match declared.as_deref() {
        None | Some("utf-8" | "utf8" | "us-ascii" | "ascii") => {
            std::str::from_utf8(body).map(str::to_string).map_err(|_| {
                "invalid UTF-8 byte sequence (the document declares or defaults to UTF-8)".into()
            })
        }
        Some("iso-8859-1" | "latin1" | "windows-1252" | "cp1252") => Ok(from_windows_1252(body)),
        Some(other) => decode_labelled(body, other).map_err(|e| match e {
            Undecodable::Malformed { charset, .. } => format!(
                "not {charset} text, as the XML declaration says it is: send the document \
                 again in the encoding it declares"
            ),
            e => e.to_string(),
        }),
    }
}

/// Reads a cXML invoice's number, From credential, supplier (`role="from"` contact) name and
/// first description.
#[derive(Debug)]
pub struct XmlReader;

impl Decode for XmlReader {
    fn format(&self) -> Format {
        Format::Cxml
    }

    fn decode(&self, raw: &[u8], _partner: &PartnerProfile) -> Decoded {
        let text = match xml_text(raw) {
            Ok(t) => t,
            Err(why) => {
                return Decoded {
                    documents: Vec::new(),
                    rejects: vec![Reject::new("line 1", why)],
                };
            }
        };
        let from = text.find("<From>").and_then(|at| {
            let from = text.get(at..)?;
            let domain = attribute(from, "domain")?;
            let identity = between(from, "<Identity", "</Identity>")?;
            Some(format!("{domain}:{identity}"))
        });
        let supplier = text
            .find("role=\"from\"")
            .and_then(|at| between(text.get(at..)?, "<Name", "</Name>"));
        let doc = document(
            attribute(&text, "invoiceID").unwrap_or("?"),
            supplier,
            None,
            between(&text, "<Description", "</Description>").unwrap_or_default(),
        );
        Decoded {
            documents: vec![decoded(doc, from, 1)],
            rejects: Vec::new(),
        }
    }
}

/// Reads a CSV file whose header names `Invoice Number`, `Supplier Name`, `Supplier Number`
/// and `Description`, one invoice a row, each cell in the profile's `csv.charset`.
#[derive(Debug)]
pub struct CsvReader;

impl Decode for CsvReader {
    fn format(&self) -> Format {
        Format::Csv
    }

    fn decode(&self, raw: &[u8], partner: &PartnerProfile) -> Decoded {
        let charset = partner
            .csv
            .as_ref()
            .and_then(|c| c.charset)
            .unwrap_or_default();
        let utf16;
        let raw = match utf16_bom(raw) {
            Some((endian, body)) => {
                utf16 = from_utf16(body, endian).unwrap_or_default();
                utf16.as_bytes()
            }
            None => raw,
        };
        let mut lines = raw
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .filter(|l| !l.is_empty());
        let cells = |line: &[u8]| -> Vec<String> {
            line.split(|&b| b == b',')
                .map(|c| charset.read(c).into_owned())
                .collect()
        };
        let header = lines.next().map(cells).unwrap_or_default();
        let col = |name: &str| header.iter().position(|h| h == name);
        let (number, name, supplier_number, description) = (
            col("Invoice Number"),
            col("Supplier Name"),
            col("Supplier Number"),
            col("Description"),
        );
        let mut out = Decoded::default();
        for (n, line) in lines.enumerate() {
            let row = cells(line);
            let cell = |c: Option<usize>| c.and_then(|c| row.get(c)).map(String::as_str);
            let doc = document(
                cell(number).unwrap_or("?"),
                cell(name),
                cell(supplier_number),
                cell(description).unwrap_or_default(),
            );
            out.documents.push(decoded(doc, None, n + 1));
        }
        out
    }
}

/// Reads an X12 810's ISA sender, BIG invoice number, N1*SU supplier and first PID
/// description, each element in the profile's `x12.charset`.
#[derive(Debug)]
pub struct X12Reader;

impl Decode for X12Reader {
    fn format(&self) -> Format {
        Format::X12
    }

    fn decode(&self, raw: &[u8], partner: &PartnerProfile) -> Decoded {
        let charset: Charset = partner
            .x12
            .as_ref()
            .and_then(|x| x.charset)
            .unwrap_or_default();
        let segments: Vec<Vec<String>> = raw
            .split(|&b| b == b'~')
            .map(|s| s.trim_ascii())
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.split(|&b| b == b'*')
                    .map(|e| charset.read(e).into_owned())
                    .collect()
            })
            .collect();
        let seg = |id: &str| segments.iter().find(|s| s[0] == id);
        fn el(s: Option<&Vec<String>>, i: usize) -> Option<&str> {
            s.and_then(|s| s.get(i)).map(|e| e.trim())
        }
        let isa = seg("ISA");
        let sender = match (el(isa, 5), el(isa, 6)) {
            (Some(q), Some(id)) => Some(format!("{q}:{id}")),
            _ => None,
        };
        let supplier = segments
            .iter()
            .find(|s| s[0] == "N1" && s.get(1).is_some_and(|q| q == "SU"));
        let doc = document(
            el(seg("BIG"), 2).unwrap_or("?"),
            el(supplier, 2),
            None,
            el(seg("PID"), 5).unwrap_or_default(),
        );
        Decoded {
            documents: vec![decoded(doc, sender, 1)],
            rejects: Vec::new(),
        }
    }
}

/// One attachment of a hand-built mail.
pub struct Part<'a> {
    pub name: &'a str,
    /// The whole `Content-Type` value, parameters included.
    pub content_type: &'a str,
    /// `8bit`, `base64` or `quoted-printable`; the body is encoded here.
    pub encoding: &'a str,
    pub body: &'a [u8],
}

/// A `multipart/mixed` RFC 5322 message from `from` with a text part and `parts` attached.
pub fn mail(from: &str, message_id: &str, parts: &[Part<'_>]) -> Vec<u8> {
    let mut raw = format!(
        "From: Billing <{from}>\r\nTo: ap@globex.example\r\nMessage-ID: <{message_id}>\r\n\
         Subject: Invoices\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n\
         --=_b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease find attached.\r\n"
    )
    .into_bytes();
    for p in parts {
        raw.extend_from_slice(
            format!(
                "--=_b\r\nContent-Type: {}; name=\"{}\"\r\n\
                 Content-Disposition: attachment; filename=\"{}\"\r\n\
                 Content-Transfer-Encoding: {}\r\n\r\n",
                p.content_type, p.name, p.name, p.encoding
            )
            .as_bytes(),
        );
        match p.encoding {
            "base64" => raw.extend_from_slice(&base64(p.body)),
            "quoted-printable" => raw.extend_from_slice(&quoted_printable(p.body)),
            _ => raw.extend_from_slice(p.body),
        }
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"--=_b--\r\n");
    raw
}

/// Base64 in lines of 76 characters.
pub fn base64(bytes: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    for (i, chunk) in bytes.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.extend_from_slice(b"\r\n");
        }
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

/// Quoted-printable: every byte outside printable ASCII (and `=`) as `=XX`, soft line breaks
/// every 70 characters, line breaks kept.
pub fn quoted_printable(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut width = 0;
    for &b in bytes {
        if b == b'\n' {
            out.extend_from_slice(b"\r\n");
            width = 0;
            continue;
        }
        if width >= 70 {
            out.extend_from_slice(b"=\r\n");
            width = 0;
        }
        if (b' '..=b'~').contains(&b) && b != b'=' {
            out.push(b);
            width += 1;
        } else {
            out.extend_from_slice(format!("={b:02X}").as_bytes());
            width += 3;
        }
    }
    out
}
