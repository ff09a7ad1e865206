//! Which attachments carry documents: content first (an `ISA` segment, a cXML root, JSON),
//! then the file name and content type for CSV, which has no signature of its own.

use gateway_core::{Format, detect_format};

use crate::message::MailAttachment;

const CSV_TYPES: [&str; 4] = [
    "text/csv",
    "application/csv",
    "text/comma-separated-values",
    "application/vnd.ms-excel",
];

/// The format of an attachment, or why it is not one the gateway reads.
pub fn classify(att: &MailAttachment) -> Result<Format, String> {
    if att.is_message {
        return Err(
            "an attached message (message/rfc822) is not opened; attach the document itself".into(),
        );
    }
    let ext = att
        .name
        .as_deref()
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase());
    let ext = ext.as_deref();
    let ctype = att.content_type.as_deref().unwrap_or("");
    if att.bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err("the attachment is empty".into());
    }
    let looks_html = ctype == "text/html" || matches!(ext, Some("html" | "htm"));
    // XML names its own encoding, so it is recognised in the bytes as sent too: a part whose
    // MIME charset does not match its XML (UTF-8 labelled UTF-16) converts to anything.
    if att.is_converted() && !looks_html && detect_format(att.as_sent()) == Format::Cxml {
        return Ok(Format::Cxml);
    }
    match detect_format(&att.bytes) {
        Format::X12 => return Ok(Format::X12),
        Format::Cxml if !looks_html => return Ok(Format::Cxml),
        Format::Json if ext == Some("json") || ctype == "application/json" => {
            return Ok(Format::Json);
        }
        _ => {}
    }
    let csv_named = ext == Some("csv") || CSV_TYPES.contains(&ctype);
    if csv_named && !att.bytes.starts_with(b"%PDF") && is_text(&att.bytes) {
        return Ok(Format::Csv);
    }
    if matches!(ext, Some("edi" | "x12" | "810" | "850")) {
        return Err("named as X12 but it does not start with an ISA segment".into());
    }
    if matches!(ext, Some("xml" | "cxml")) {
        return Err("named as XML but it does not start with '<'".into());
    }
    let shown = if ctype.is_empty() { "unknown" } else { ctype };
    Err(format!(
        "not a cXML, X12 or CSV document (content type {shown}); only those are read, PDFs and images are not"
    ))
}

/// Text in any character set the CSV reader reads (UTF-8, Windows-1252, UTF-16 with its
/// byte-order mark), as opposed to a binary file given a CSV name: text has no zero byte,
/// except as half of each UTF-16 unit.
fn is_text(bytes: &[u8]) -> bool {
    gateway_model::charset::utf16_bom(bytes).is_some() || !bytes.contains(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn att(name: &str, ctype: &str, bytes: &[u8]) -> MailAttachment {
        MailAttachment {
            index: 1,
            name: Some(name.into()),
            content_type: Some(ctype.into()),
            bytes: bytes.to_vec(),
            sent: None,
            charset: None,
            is_message: false,
            unreadable: None,
        }
    }

    #[test]
    fn content_decides_for_x12_and_cxml() {
        assert_eq!(
            classify(&att("inv.txt", "text/plain", b"ISA*00*")),
            Ok(Format::X12)
        );
        assert_eq!(
            classify(&att(
                "inv.dat",
                "application/octet-stream",
                b"<?xml version"
            )),
            Ok(Format::Cxml)
        );
    }

    #[test]
    fn csv_needs_its_name_or_type() {
        assert_eq!(
            classify(&att("inv.csv", "application/octet-stream", b"a,b\n")),
            Ok(Format::Csv)
        );
        assert_eq!(classify(&att("x", "text/csv", b"a,b\n")), Ok(Format::Csv));
        assert!(classify(&att("notes.txt", "text/plain", b"a,b\n")).is_err());
        // Excel on Windows: Windows-1252, or UTF-16 for "Unicode Text".
        assert_eq!(
            classify(&att("inv.csv", "text/csv", b"Soci\xe9t\xe9,1\n")),
            Ok(Format::Csv)
        );
        assert_eq!(
            classify(&att("inv.csv", "text/csv", b"\xFF\xFEa\0,\0b\0")),
            Ok(Format::Csv)
        );
        // A binary file given a CSV name is not read as one.
        assert!(classify(&att("inv.csv", "text/csv", b"PK\x03\x04\0\0")).is_err());
    }

    #[test]
    fn pdf_html_and_empty_are_refused_with_a_reason() {
        let pdf = classify(&att("inv.pdf", "application/pdf", b"%PDF-1.7")).unwrap_err();
        assert!(pdf.contains("application/pdf"), "{pdf}");
        assert!(classify(&att("a.html", "text/html", b"<html>")).is_err());
        assert!(classify(&att("a.csv", "text/csv", b"  \n")).is_err());
        let edi = classify(&att("a.edi", "application/edi-x12", b"GS*IN")).unwrap_err();
        assert!(edi.contains("ISA"), "{edi}");
    }
}
