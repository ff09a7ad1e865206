//! An X12 invoice's dates in cXML (found by QA: X12 → cXML dropped them without a word): the
//! PO's date (BIG03, kept in `extensions.x12.elements.BIG03`) is written as
//! `OrderReference@orderDate` and read back (`extensions.cxml.order_date`); the ship date
//! (`DTM*011`) has no place in the invoice cXML writes and is named by `left_out`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_cxml::CxmlCodec;
use gateway_core::testkit::repo_root;
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, from_json_lines};

fn profile() -> PartnerProfile {
    PartnerProfile::load(&repo_root().join("samples/cxml/invoice/rich.partner.toml")).unwrap()
}

fn x12_rich() -> Document {
    let bytes = std::fs::read(repo_root().join("samples/x12/invoice/rich.canonical.json")).unwrap();
    from_json_lines(&bytes).remove(0).unwrap()
}

#[test]
fn big03_is_written_as_order_date_and_read_back() {
    let doc = x12_rich();
    let bytes = CxmlCodec::new()
        .encode(std::slice::from_ref(&doc), &profile())
        .unwrap();
    let xml = String::from_utf8(bytes.clone()).unwrap();
    assert!(xml.contains(r#"orderDate="2026-03-01""#), "{xml}");
    let back = CxmlCodec::new().decode(&bytes, &profile());
    assert!(back.rejects.is_empty(), "{:?}", back.rejects);
    let Document::Invoice(inv) = &back.documents[0].document else {
        panic!()
    };
    assert_eq!(
        inv.extensions.get("cxml").unwrap()["order_date"],
        serde_json::json!("2026-03-01")
    );
    // Written again, the date stays.
    let again = CxmlCodec::new().encode(
        std::slice::from_ref(&back.documents[0].document),
        &profile(),
    );
    assert!(
        String::from_utf8(again.unwrap())
            .unwrap()
            .contains(r#"orderDate="2026-03-01""#)
    );
}

#[test]
fn x12_ship_date_is_named_as_left_out() {
    let said = CxmlCodec::new().left_out(&x12_rich(), &PartnerProfile::anonymous());
    assert!(
        said.iter()
            .any(|s| s.starts_with("$.extensions.x12.segments[1]: ") && s.contains("DTM*011")),
        "{said:#?}"
    );
}
