//! The same file attached twice to one mail was read twice: its invoice published twice under
//! one key, and its PDF, naming two documents of one number, went with neither. It is read
//! once now.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod stub_readers;

use gateway_core::{Decode, PartnerProfile};
use stub_readers::{Part, codec, mail};

const CSV: &[u8] = b"Invoice Number,Supplier Name,Description\r\nTW-1,Acme,Gloves\r\n";

#[test]
fn the_same_attachment_twice_is_read_once_and_its_pdf_attached() {
    let part = |name| Part {
        name,
        content_type: "text/csv",
        encoding: "8bit",
        body: CSV,
    };
    let raw = mail(
        "billing@acme.example",
        "tw@acme.example",
        &[
            part("TW-1.csv"),
            part("TW-1 (copy).csv"),
            Part {
                name: "TW-1.pdf",
                content_type: "application/pdf",
                encoding: "base64",
                body: b"%PDF-1.7\n",
            },
        ],
    );
    let acme = PartnerProfile {
        id: "acme".into(),
        ..PartnerProfile::default()
    };
    let d = codec().decode(&raw, &acme);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    assert_eq!(d.documents.len(), 1, "{:?}", d.documents);
    let files: Vec<&str> = d.documents[0]
        .meta
        .files
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(files, ["TW-1.pdf"]);
}
