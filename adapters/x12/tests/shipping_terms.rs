//! A purchase order's shipping terms (Coupa's `shipping-term`) and the 850's heading FOB:
//! written for the supplier, read back as they were, and a partner's own FOB kept whole.

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::X12Codec;
use gateway_core::{Decode, Encode, EncodeError, PartnerProfile};
use gateway_model::{Document, OrderLine, OrderPurpose, PurchaseOrder, ShippingTerms};

fn order(code: Option<&str>) -> PurchaseOrder {
    PurchaseOrder {
        po_number: Some("PO-1".into()),
        order_date: Some("2026-04-01".parse().unwrap()),
        purpose: Some(OrderPurpose::New),
        currency: Some("USD".into()),
        shipping_terms: code.map(|c| ShippingTerms {
            code: Some(c.into()),
        }),
        lines: vec![OrderLine {
            line_number: 1,
            quantity: Some("2".parse().unwrap()),
            uom: Some("EA".into()),
            unit_price: Some("5".parse().unwrap()),
            amount: Some("10".parse().unwrap()),
            ..OrderLine::default()
        }],
        total: Some("10".parse().unwrap()),
        ..PurchaseOrder::default()
    }
}

fn encode(po: &PurchaseOrder) -> Result<String, EncodeError> {
    let bytes = X12Codec::new().encode(
        &[Document::PurchaseOrder(po.clone())],
        &PartnerProfile::anonymous(),
    )?;
    Ok(String::from_utf8(bytes).unwrap())
}

fn decode(raw: &str) -> PurchaseOrder {
    let d = X12Codec::new().decode(raw.as_bytes(), &PartnerProfile::anonymous());
    assert!(d.rejects.is_empty(), "rejects {:?}", d.rejects);
    match d.documents.into_iter().next().map(|d| d.document) {
        Some(Document::PurchaseOrder(po)) => po,
        other => panic!("not an order: {other:?}"),
    }
}

/// The FOB segments of an interchange.
fn fobs(x12: &str) -> Vec<&str> {
    x12.split('~')
        .map(str::trim)
        .filter(|s| s.starts_with("FOB*"))
        .collect()
}

/// An 850 of one line with `heading` after its BEG.
fn interchange(heading: &[&str]) -> String {
    let mut body = vec!["BEG*00*SA*PO-1**20260401".to_string()];
    body.extend(heading.iter().map(|s| s.to_string()));
    body.extend(["PO1*1*2*EA*5**VP*P-1".to_string(), "CTT*1".to_string()]);
    format!(
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260101*1200*U*00401*000000001*0*P*>~\n\
         GS*PO*SENDER*RECEIVER*20260101*1200*1*X*004010~\nST*850*0001~\n{}~\nSE*{}*0001~\nGE*1*1~\nIEA*1*000000001~\n",
        body.join("~\n"),
        body.len() + 2
    )
}

/// The shipping terms reach the supplier in the heading FOB: an Incoterm as FOB05 with FOB04
/// `01` (Incoterms), a buyer's own code (`FOB Destination`) as FOB03 text after FOB02 `ZZ`;
/// FOB01, which X12 requires, `DF` (defined by buyer and seller). Read back, the order is the
/// one written, with nothing the writer filled in kept. Before, the 850 had no FOB and the
/// supplier never learned the delivery terms.
#[test]
fn shipping_terms_go_in_the_heading_fob_and_read_back() {
    for (code, fob) in [
        ("DAP", "FOB*DF***01*DAP"),
        ("FOB Destination", "FOB*DF*ZZ*FOB Destination"),
        ("Prepaid & Add", "FOB*DF*ZZ*Prepaid & Add"),
    ] {
        let po = order(Some(code));
        let x12 = encode(&po).unwrap();
        assert_eq!(fobs(&x12), [fob], "{x12}");
        let back = decode(&x12);
        assert_eq!(back, po, "{x12}");
        assert!(back.extensions.is_empty(), "{:?}", back.extensions);
    }
    // No terms, no FOB; a blank code names none.
    assert!(fobs(&encode(&order(None)).unwrap()).is_empty());
    assert!(fobs(&encode(&order(Some("  "))).unwrap()).is_empty());
}

/// FOB03 holds 80 characters: a longer code is refused at its path rather than cut.
#[test]
fn a_code_longer_than_fob03_is_refused_at_its_path() {
    let long = "x".repeat(81);
    match encode(&order(Some(&long))) {
        Err(EncodeError::Invalid { path, .. }) => assert_eq!(path, "$.shipping_terms.code"),
        other => panic!("{other:?}"),
    }
}

/// A partner's FOB: the terms' code (FOB05, else FOB03 after FOB02 `ZZ`) is the shipping
/// terms, the rest kept, and the FOB written back as it came. One that names no terms (who
/// pays the carriage only) is kept whole, and the order has none.
#[test]
fn a_partners_fob_reads_as_its_terms_and_goes_back_as_it_came() {
    for (fob, code) in [
        ("FOB*PP*DE*Cypress Creek*01*DAP", Some("DAP")),
        (
            "FOB*CC*ZZ*Collect, freight allowed",
            Some("Collect, freight allowed"),
        ),
        ("FOB*DF*OR*Origin*ZZ*ABC*ZZ*Dock 4", Some("ABC")),
        ("FOB*PP", None),
        ("FOB*PP*ZZ**01", None),
    ] {
        let po = decode(&interchange(&[fob]));
        assert_eq!(
            po.shipping_terms.as_ref().and_then(|t| t.code.as_deref()),
            code,
            "{fob}"
        );
        let x12 = encode(&po).unwrap();
        assert_eq!(fobs(&x12), [fob], "{x12}");
        assert_eq!(decode(&x12), po, "{x12}");
    }
    // A code changed in between is written the writer's way, beside the kept FOB01.
    let mut po = decode(&interchange(&["FOB*CC*ZZ*Collect"]));
    for (code, fob) in [("Prepaid", "FOB*CC*ZZ*Prepaid"), ("CIF", "FOB*CC***01*CIF")] {
        po.shipping_terms = Some(ShippingTerms {
            code: Some(code.into()),
        });
        assert_eq!(fobs(&encode(&po).unwrap()), [fob]);
    }
}
