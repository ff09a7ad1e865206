//! The wire formats the gateway speaks, and detection by content.

use serde::{Deserialize, Serialize};

/// A wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Cxml,
    X12,
    Csv,
    Email,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Cxml => "cxml",
            Format::X12 => "x12",
            Format::Csv => "csv",
            Format::Email => "email",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "cxml" | "xml" => Ok(Format::Cxml),
            "x12" | "edi" => Ok(Format::X12),
            "csv" => Ok(Format::Csv),
            "email" | "eml" | "mime" => Ok(Format::Email),
            other => Err(format!(
                "unknown format {other:?}; expected one of json, cxml, x12, csv, email"
            )),
        }
    }
}

/// Guesses the format from the first bytes: `ISA` → X12, `<` → cXML, `{`/`[` → JSON, RFC 5322
/// headers → email, anything else → CSV. Leading BOM and whitespace are skipped; UTF-16 text
/// (told by its byte-order mark) is judged by its first characters.
pub fn detect_format(raw: &[u8]) -> Format {
    if let Some((endian, body)) = gateway_model::charset::utf16_bom(raw) {
        // The first characters are enough; text up to half a character will do.
        let head = body.get(..body.len().min(128)).unwrap_or(body);
        let text = gateway_model::charset::from_utf16(head, endian).unwrap_or_else(|good| good);
        return detect_format(text.as_bytes());
    }
    let mut s = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    while let Some((first, rest)) = s.split_first() {
        if first.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    if s.starts_with(b"ISA") {
        Format::X12
    } else if s.starts_with(b"<") {
        Format::Cxml
    } else if s.starts_with(b"{") || s.starts_with(b"[") {
        Format::Json
    } else if looks_like_mail(s) {
        Format::Email
    } else {
        Format::Csv
    }
}

fn looks_like_mail(s: &[u8]) -> bool {
    const HEADERS: [&[u8]; 13] = [
        b"From:",
        b"Return-Path:",
        b"Received:",
        b"MIME-Version:",
        b"Message-ID:",
        b"Delivered-To:",
        b"Date:",
        b"Authentication-Results:",
        b"DKIM-Signature:",
        b"ARC-",
        b"Received-SPF:",
        b"Subject:",
        b"To:",
    ];
    let head = &s[..s.len().min(64)];
    if HEADERS
        .iter()
        .any(|h| head.len() >= h.len() && head[..h.len()].eq_ignore_ascii_case(h))
    {
        return true;
    }
    // `X-Whatever: value`: a header name (letters, digits, dashes) then a colon, before any
    // comma or line end, so a CSV whose first column is named `X-...` is not taken for mail.
    if head.len() > 2 && head[..2].eq_ignore_ascii_case(b"X-") {
        for &b in head {
            match b {
                b':' => return true,
                b if b.is_ascii_alphanumeric() || b == b'-' => continue,
                _ => return false,
            }
        }
    }
    false
}

#[cfg(test)]
mod mail_detection_tests {
    use super::{Format, detect_format};

    #[test]
    fn mail_starting_with_trace_headers_is_mail() {
        for head in [
            "Authentication-Results: mx.example; dkim=pass\r\nFrom: a@b\r\n",
            "DKIM-Signature: v=1; a=rsa-sha256\r\n",
            "ARC-Seal: i=1; a=rsa-sha256\r\n",
            "X-Mailer: Outlook\r\nFrom: a@b\r\n",
        ] {
            assert_eq!(detect_format(head.as_bytes()), Format::Email, "{head}");
        }
        assert_eq!(detect_format(b"X-Ref,Amount\n1,2\n"), Format::Csv);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_first_bytes() {
        assert_eq!(detect_format(b"ISA*00*"), Format::X12);
        assert_eq!(detect_format(b"\xEF\xBB\xBF  <?xml version"), Format::Cxml);
        assert_eq!(detect_format(b"\n{\"kind\":1}"), Format::Json);
        assert_eq!(detect_format(b"From: a@b.c\r\n"), Format::Email);
        assert_eq!(detect_format(b"Invoice,Invoice Number"), Format::Csv);
        assert_eq!(detect_format(b""), Format::Csv);
        let utf16le = |text: &str| -> Vec<u8> {
            let mut raw = b"\xFF\xFE".to_vec();
            raw.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            raw
        };
        assert_eq!(detect_format(&utf16le("<?xml version")), Format::Cxml);
        assert_eq!(detect_format(&utf16le("ISA*00*")), Format::X12);
        assert_eq!(
            detect_format(&utf16le("Invoice\tInvoice Number")),
            Format::Csv
        );
        let mut be = b"\xFE\xFF".to_vec();
        be.extend("<cXML>".encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(detect_format(&be), Format::Cxml);
    }
}
