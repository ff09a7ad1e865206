//! A cXML without a payloadID had no key, so each time it was sent it was a new document;
//! it is known by its content now.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_cxml::CxmlCodec;
use gateway_core::{Decode, PartnerProfile};

fn rich_without_payload_id() -> String {
    let path = gateway_core::testkit::repo_root().join("samples/cxml/invoice/rich.xml");
    let xml = std::fs::read_to_string(path).unwrap();
    let at = xml.find("payloadID=\"").unwrap();
    let end = xml[at + 11..].find('"').unwrap() + at + 12;
    format!("{}{}", &xml[..at], &xml[end..])
}

fn key_and_notes(xml: &str) -> (String, Vec<String>) {
    let d = CxmlCodec::default().decode(xml.as_bytes(), &PartnerProfile::anonymous());
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let meta = &d.documents[0].meta;
    (
        meta.source_key.as_deref().unwrap_or_default().to_string(),
        meta.notes().map(str::to_string).collect(),
    )
}

#[test]
fn the_same_cxml_without_a_payload_id_has_the_same_key_and_another_one_another() {
    let xml = rich_without_payload_id();
    assert!(xml.contains("<cXML  timestamp="), "{xml}");
    let (first, notes) = key_and_notes(&xml);
    assert!(first.starts_with("no-payload-id:"), "{first}");
    assert!(
        notes.iter().any(|n| n.contains("has no payloadID")),
        "{notes:?}"
    );
    // Sent again, with other whitespace: the same document, the same key.
    let (again, _) = key_and_notes(&xml.replace("\n", "\n  "));
    assert_eq!(again, first);
    // Another invoice: another key.
    let (other, _) = key_and_notes(&xml.replace("INV-2026-0042", "INV-2026-0043"));
    assert_ne!(other, first);
}
