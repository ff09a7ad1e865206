//! An X12 invoice's dates in cXML (found by QA: X12 → cXML dropped them without a word): the
//! PO's date (BIG03, kept in `extensions.x12.elements.BIG03`) is written as
//! `OrderReference@orderDate` and read back (`extensions.cxml.order_date`); the ship date
//! (`DTM*011`, read as `extensions.x12.ship_date`) is written as the header's
//! `InvoiceDetailShipping@shippingDate`, read back (`extensions.cxml.shipping_date`) and
//! written to X12 again as the same `DTM*011`. An invoice with fewer than two shipping parties
//! has no `InvoiceDetailShipping` (`Contact, Contact+`), and its ship date is named by
//! `left_out`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_cxml::CxmlCodec;
use adapter_x12::X12Codec;
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

/// The golden X12 invoice (`samples/x12/invoice/rich.edi`) with a ship-from (`N1*SF`) beside
/// its ship-to, so that cXML has its `InvoiceDetailShipping`.
fn x12_with_ship_from() -> String {
    let rich = std::fs::read_to_string(repo_root().join("samples/x12/invoice/rich.edi")).unwrap();
    let edi = rich
        .replace(
            "ITD*01*",
            "N1*SF*Acme Dock 2*92*DOCK2~\nN3*5 Loading Lane~\nITD*01*",
        )
        .replace("SE*34*0001", "SE*36*0001");
    assert_ne!(edi, rich);
    edi
}

fn x12_decode(edi: &str) -> Document {
    let d = X12Codec::new().decode(edi.as_bytes(), &PartnerProfile::anonymous());
    assert!(d.rejects.is_empty(), "{:?}\n{edi}", d.rejects);
    d.documents.into_iter().next().unwrap().document
}

/// Found mapping the ship-from: X12's ship date (`DTM*011`) did not reach cXML, although
/// `InvoiceDetailShipping` has a `shippingDate`. It is written there (a date alone as the
/// writer writes one, noon UTC), read back as cXML's own, written again the same, and written
/// to X12 as the `DTM*011` it came as; no date is named left out.
#[test]
fn x12_ship_date_is_the_shipping_date_and_comes_back_to_x12() {
    let edi = x12_with_ship_from();
    let doc = x12_decode(&edi);
    assert_eq!(doc.extensions()["x12"]["ship_date"], "2026-03-14");
    let codec = CxmlCodec::new();
    let said = codec.left_out(&doc, &profile());
    // The charges' codes (SAC02) are named; no date is.
    assert_eq!(said.len(), 2, "{said:#?}");
    assert!(
        said.iter().all(|s| s.starts_with("$.charges[")),
        "{said:#?}"
    );
    let bytes = codec
        .encode(std::slice::from_ref(&doc), &profile())
        .unwrap();
    let xml = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        xml.contains(r#"<InvoiceDetailShipping shippingDate="2026-03-14T12:00:00+00:00">"#),
        "{xml}"
    );
    let back = codec.decode(&bytes, &profile());
    assert!(back.rejects.is_empty(), "{:?}", back.rejects);
    let back = &back.documents[0].document;
    assert_eq!(back.extensions()["cxml"]["shipping_date"], "2026-03-14");
    let again = String::from_utf8(
        codec
            .encode(std::slice::from_ref(back), &profile())
            .unwrap(),
    )
    .unwrap();
    assert!(
        again.contains(r#"shippingDate="2026-03-14T12:00:00+00:00""#),
        "{again}"
    );
    // And on to X12: the DTM*011 it came as, after ITD, read as X12's ship date again.
    let x12 = String::from_utf8(
        X12Codec::new()
            .encode(std::slice::from_ref(back), &PartnerProfile::anonymous())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(x12.matches("DTM*011*20260314~").count(), 1, "{x12}");
    assert!(
        x12.find("ITD*").unwrap() < x12.find("DTM*011").unwrap(),
        "{x12}"
    );
    assert_eq!(
        x12_decode(&x12).extensions()["x12"]["ship_date"],
        "2026-03-14"
    );
}

/// Without a ship-from the invoice's only shipping party, its ship-to, is an `InvoicePartner`
/// and there is no `InvoiceDetailShipping` for the date: it is named left out, and not
/// written.
#[test]
fn x12_ship_date_without_two_shipping_parties_is_named_as_left_out() {
    let doc = x12_rich();
    let said = CxmlCodec::new().left_out(&doc, &PartnerProfile::anonymous());
    let dates: Vec<&String> = said.iter().filter(|s| s.contains("ship date")).collect();
    assert_eq!(dates.len(), 1, "{said:#?}");
    assert!(
        dates[0].starts_with("$.extensions.x12.ship_date: ")
            && dates[0].contains("two shipping parties"),
        "{said:#?}"
    );
    let xml = String::from_utf8(
        CxmlCodec::new()
            .encode(std::slice::from_ref(&doc), &profile())
            .unwrap(),
    )
    .unwrap();
    assert!(!xml.contains("shippingDate"), "{xml}");
    // A DTM*011 X12 kept as its segment (with a time) is named as before.
    let edi = std::fs::read_to_string(repo_root().join("samples/x12/invoice/rich.edi"))
        .unwrap()
        .replace("DTM*011*20260314", "DTM*011*20260314*0830");
    let doc = x12_decode(&edi);
    assert!(doc.extensions()["x12"].get("ship_date").is_none());
    let said = CxmlCodec::new().left_out(&doc, &PartnerProfile::anonymous());
    assert!(
        said.iter()
            .any(|s| s.starts_with("$.extensions.x12.segments[1]: ") && s.contains("DTM*011")),
        "{said:#?}"
    );
}
