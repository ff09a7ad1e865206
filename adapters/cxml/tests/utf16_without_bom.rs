//! A cXML document in UTF-16 without its byte-order mark is read as XML's Appendix F tells it
//! (`<?` as `3C 00 3F 00` or `00 3C 00 3F`): it was refused as "\0?\0x\0m\0l\0 is not an XML
//! element name", which named no encoding.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_cxml::CxmlCodec;
use gateway_core::{Decode, PartnerProfile};

#[test]
fn utf16_without_a_byte_order_mark_reads_as_the_same_document() {
    let path = gateway_core::testkit::repo_root().join("samples/cxml/invoice/rich.xml");
    let xml = std::fs::read_to_string(path).unwrap();
    let decode = |bytes: &[u8]| {
        let d = CxmlCodec::default().decode(bytes, &PartnerProfile::anonymous());
        assert!(d.rejects.is_empty(), "{:?}", d.rejects);
        d.documents
            .into_iter()
            .map(|d| d.document)
            .collect::<Vec<_>>()
    };
    let want = decode(xml.as_bytes());
    assert_eq!(want.len(), 1);
    let units: Vec<u16> = xml.encode_utf16().collect();
    let le: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
    let be: Vec<u8> = units.iter().flat_map(|u| u.to_be_bytes()).collect();
    assert!(le.starts_with(b"<\0?\0") && be.starts_with(b"\0<\0?"));
    assert_eq!(decode(&le), want, "little-endian");
    assert_eq!(decode(&be), want, "big-endian");
    // Half a character at the end is said to be UTF-16 without a byte-order mark.
    let mut cut = le.clone();
    cut.push(b'<');
    let d = CxmlCodec::default().decode(&cut, &PartnerProfile::anonymous());
    let said = format!("{:?}", d.rejects);
    assert!(said.contains("UTF-16 without a byte-order mark"), "{said}");
}
