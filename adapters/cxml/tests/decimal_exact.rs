//! An amount or quantity a decimal cannot hold exactly is refused at its path, not rounded:
//! a quantity of -0.000000000000000000000000000001 was read as 0.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_cxml::CxmlCodec;
use gateway_core::{Decode, PartnerProfile};

fn rich() -> String {
    let path = gateway_core::testkit::repo_root().join("samples/cxml/invoice/rich.xml");
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn a_quantity_a_decimal_would_round_is_refused_at_its_attribute() {
    let source = rich();
    let line = r#"<InvoiceDetailItem invoiceLineNumber="1" quantity="10">"#;
    assert!(source.contains(line));
    for q in [
        "-0.000000000000000000000000000001",
        "10.000000000000000000000000000009",
    ] {
        let xml = source.replacen(
            line,
            &format!(r#"<InvoiceDetailItem invoiceLineNumber="1" quantity="{q}">"#),
            1,
        );
        let d = CxmlCodec::default().decode(xml.as_bytes(), &PartnerProfile::anonymous());
        assert!(d.documents.is_empty(), "{q}: read as {:?}", d.documents);
        let reject = d
            .rejects
            .first()
            .map(|r| format!("{r:?}"))
            .unwrap_or_default();
        assert!(
            reject.contains("quantity") && reject.contains("more digits than"),
            "{q}: {reject}"
        );
    }
}
