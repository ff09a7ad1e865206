//! A PDF copy that is not one (its base64 broken in transit, or a line break before its
//! header) was skipped with a log line only, and the invoice reached Coupa without its copy
//! and without a word. A line break before `%PDF-` is a PDF readers accept; anything else named
//! `.pdf` is noted on the mail's documents.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod stub_readers;

use gateway_core::{Decode, PartnerProfile};
use stub_readers::{Part, codec, mail, notes};

/// One invoice, as the stand-in CSV reader reads it (a header, one row per invoice).
const CSV: &[u8] = b"Invoice Number,Supplier Name,Description\r\nPB-1,Acme,Gloves\r\n";

fn acme() -> PartnerProfile {
    PartnerProfile {
        id: "acme".into(),
        ..PartnerProfile::default()
    }
}

fn decoded_with_pdf(pdf: &[u8]) -> gateway_core::Decoded {
    let raw = mail(
        "billing@acme.example",
        "pb@acme.example",
        &[
            Part {
                name: "PB-1.csv",
                content_type: "text/csv",
                encoding: "8bit",
                body: CSV,
            },
            Part {
                name: "PB-1.pdf",
                content_type: "application/pdf",
                encoding: "base64",
                body: pdf,
            },
        ],
    );
    codec().decode(&raw, &acme())
}

#[test]
fn a_file_named_pdf_that_is_not_one_is_noted_on_the_invoice() {
    // What a broken transfer leaves: bytes, but no PDF header in them.
    let d = decoded_with_pdf(b"\x00\x13garbage, not a PDF at all");
    assert_eq!(d.documents.len(), 1, "{:?}", d.rejects);
    assert!(d.documents[0].meta.files.is_empty());
    let notes = notes(&d.documents[0]);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("'PB-1.pdf' is named as a PDF but is not one")),
        "{notes:?}"
    );
}

#[test]
fn a_pdf_with_a_line_break_before_its_header_is_attached() {
    let d = decoded_with_pdf(b"\r\n%PDF-1.7\n1 0 obj\n");
    assert_eq!(d.documents.len(), 1, "{:?}", d.rejects);
    let files: Vec<&str> = d.documents[0]
        .meta
        .files
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(
        files,
        ["PB-1.pdf"],
        "{:?} {:?}",
        d.rejects,
        notes(&d.documents[0])
    );
    assert!(notes(&d.documents[0]).is_empty());
}
