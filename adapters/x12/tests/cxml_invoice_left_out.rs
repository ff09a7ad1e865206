//! What of a cXML invoice an 810 carries and what it names as left out (found by QA: cXML →
//! X12 dropped these without a word). The `Contact role="shipFrom"` party cXML keeps in
//! `extensions.cxml.parties.shipFrom` is written as an `N1*SF` loop (the 810's ship-from),
//! which the X12 reader reads as a party (`extensions.x12.ship_from`), so it reads back and is
//! written again as it came. A tax's description, the invoice's and lines' Extrinsics, a line's
//! service flag and the invoice date's time of day have no place in an 810 and are named by
//! [`adapter_x12::left_out`].

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::X12Codec;
use gateway_core::testkit::repo_root;
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, from_json_lines};
use serde_json::json;

fn rich() -> Document {
    let bytes =
        std::fs::read(repo_root().join("samples/cxml/invoice/rich.canonical.json")).unwrap();
    from_json_lines(&bytes).remove(0).unwrap()
}

fn encode(doc: &Document) -> String {
    let bytes = X12Codec::new()
        .encode(std::slice::from_ref(doc), &PartnerProfile::anonymous())
        .unwrap_or_else(|e| panic!("encode: {e}"));
    String::from_utf8(bytes).unwrap()
}

fn decode(x12: &str) -> Document {
    let d = X12Codec::new().decode(x12.as_bytes(), &PartnerProfile::anonymous());
    assert!(d.rejects.is_empty(), "rejects {:?}\n{x12}", d.rejects);
    d.documents.into_iter().next().unwrap().document
}

#[test]
fn cxml_ship_from_is_written_as_n1_sf_and_reads_back() {
    let doc = rich();
    let written = encode(&doc);
    assert!(written.contains("N1*SF*Acme Dock 2"), "{written}");
    let back = decode(&written);
    let Document::Invoice(inv) = &back else {
        panic!()
    };
    let x12 = inv.extensions.get("x12").unwrap();
    assert_eq!(x12["ship_from"], json!({"name": "Acme Dock 2"}), "{x12}");
    assert!(x12.get("segments").is_none(), "{x12}");
    // Written again from X12: the one N1*SF, as it came.
    let again = encode(&back);
    assert_eq!(again.matches("N1*SF").count(), 1, "{again}");
    let named = adapter_x12::left_out(&doc);
    assert!(
        !named.iter().any(|l| l.path.contains("shipFrom")),
        "{named:#?}"
    );
}

#[test]
fn what_an_810_has_no_place_for_is_named() {
    let doc = rich();
    let named: Vec<String> = adapter_x12::left_out(&doc)
        .into_iter()
        .map(|l| l.path)
        .collect();
    for want in [
        "$.extensions.cxml.invoice_date",
        "$.extensions.cxml.extrinsic",
        "$.lines[0].taxes[0].description",
        "$.lines[1].extensions.cxml.extrinsic",
        "$.lines[2].extensions.cxml.service",
    ] {
        assert!(named.iter().any(|p| p == want), "{want} not in {named:#?}");
    }
    // Also through the codec trait, which `gateway convert` prints.
    let said = X12Codec::new().left_out(&doc, &PartnerProfile::anonymous());
    assert!(
        said.iter()
            .any(|s| s.starts_with("$.extensions.cxml.extrinsic: ")),
        "{said:#?}"
    );
}

#[test]
fn cxml_order_date_is_written_as_big03() {
    let mut v: serde_json::Value =
        serde_json::from_str(&gateway_model::to_json_line(&rich())).unwrap();
    v["extensions"]["cxml"]["order_date"] = json!("2026-03-01T08:00:00-05:00");
    let doc = gateway_model::from_json(v.to_string().as_bytes()).unwrap();
    let written = encode(&doc);
    assert!(written.contains("BIG*20260315*"), "{written}");
    let big = written
        .split('~')
        .find(|s| s.trim_start().starts_with("BIG*"))
        .unwrap();
    assert_eq!(big.trim().split('*').nth(3), Some("20260301"), "{big}");
}

/// The ship date cXML read (`extensions.cxml.shipping_date`, the header's
/// `InvoiceDetailShipping@shippingDate`) is written as `DTM*011` with its date, after ITD as
/// the 810's table has it, and read back as X12's ship date (`extensions.x12.ship_date`). Its
/// time of day, and a text that is no date, have no place in DTM*011 and are named.
#[test]
fn cxml_shipping_date_is_written_as_dtm_011() {
    let with_date = |text: &str| {
        let mut v: serde_json::Value =
            serde_json::from_str(&gateway_model::to_json_line(&rich())).unwrap();
        v["extensions"]["cxml"]["shipping_date"] = json!(text);
        gateway_model::from_json(v.to_string().as_bytes()).unwrap()
    };
    for (text, written, named) in [
        ("2026-03-14", true, None),
        ("2026-03-14T08:30:00-05:00", true, Some("time of day")),
        ("soon", false, Some("does not begin with a date")),
    ] {
        let doc = with_date(text);
        let out = encode(&doc);
        assert_eq!(out.contains("DTM*011*20260314~"), written, "{text}: {out}");
        if written {
            assert!(
                out.find("ITD*").unwrap() < out.find("DTM*011").unwrap(),
                "{out}"
            );
            assert_eq!(
                decode(&out).extensions()["x12"]["ship_date"],
                "2026-03-14",
                "{text}"
            );
        }
        let said: Vec<_> = adapter_x12::left_out(&doc)
            .into_iter()
            .filter(|l| l.path == "$.extensions.cxml.shipping_date")
            .collect();
        match named {
            None => assert!(said.is_empty(), "{text}: {said:#?}"),
            Some(why) => {
                assert_eq!(said.len(), 1, "{text}: {said:#?}");
                assert!(said[0].reason.contains(why), "{text}: {said:#?}");
            }
        }
    }
}

/// A cXML order's parties by a role the model has no field for (`extensions.cxml.parties`:
/// the rich sample's `endUser`) have no N1 entity code in an 850 either, so they are not
/// written and are named as an invoice's are; its ship-from is written as `N1*SF` and is not
/// named. Found by QA: `left_out` named them for invoices only.
#[test]
fn cxml_order_parties_an_850_has_no_n1_code_for_are_named() {
    let bytes =
        std::fs::read(repo_root().join("samples/cxml/purchase_order/rich.canonical.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let parties = &mut v["extensions"]["cxml"]["parties"];
    assert!(parties.get("endUser").is_some(), "{parties}");
    parties["endUser"] = json!({"name": "Ellis Enduser"});
    parties["shipFrom"] = json!({"name": "Acme Dock 2"});
    let doc = gateway_model::from_json(v.to_string().as_bytes()).unwrap();
    let written = encode(&doc);
    assert!(written.contains("N1*SF*Acme Dock 2"), "{written}");
    assert!(!written.contains("Ellis Enduser"), "{written}");
    let named: Vec<_> = adapter_x12::left_out(&doc)
        .into_iter()
        .filter(|l| l.path.starts_with("$.extensions.cxml.parties"))
        .collect();
    assert_eq!(named.len(), 1, "{named:#?}");
    assert_eq!(named[0].path, "$.extensions.cxml.parties.endUser");
    assert!(named[0].reason.contains("an 850 "), "{named:#?}");
    // Also through the codec trait, which `gateway convert` prints.
    let said = X12Codec::new().left_out(&doc, &PartnerProfile::anonymous());
    assert!(
        said.iter()
            .any(|s| s.starts_with("$.extensions.cxml.parties.endUser: ")),
        "{said:#?}"
    );
}
