//! X12 → canonical → cXML → canonical: what the X12 reader holds of a line beyond the model
//! (its own ship-to, an `N1*ST` loop inside the IT1/PO1 loop: `lines[].extensions.x12.ship_to`;
//! an 850 line's `MSG` text: `extensions.x12.comments`) and the payment-term tiers after the
//! first ITD (`extensions.x12.payment_terms`) reach cXML, and cXML's reader reads them back as
//! its own (`extensions.cxml.ship_to`, `.comments`, `.payment_terms`): an 810 line's ship-to
//! in the line's `InvoiceDetailLineShipping`, an 850 line's in its `ItemOut/ShipTo` and its
//! comments in the `ItemOut`'s `Comments`, every tier a further `PaymentTerm`. What cXML has
//! no place for is named by `Encode::left_out`. Found by QA: all three were dropped without a
//! word on the way from X12 to cXML (the cXML invoice reader did not read a line's shipping
//! parties at all).
//!
//! So is the 810's ship-from (`N1*SF`, heading and line: `extensions.x12.ship_from`), which
//! cXML writes as its `shipFrom` contacts and reads back as its own, and the 850's heading
//! one, the OrderRequest header's `Contact role="shipFrom"`. And one tax has one
//! category whatever the channel (X12 `TXI*ST` is `sales`, as cXML says), the same values the
//! same canonical JSON.
//!
//! The DTD validity of what is written is checked in `invoice_dtd.rs` and
//! `order_request_dtd.rs`, with documents that hold the same extensions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_cxml::CxmlCodec;
use adapter_x12::X12Codec;
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, Party, PaymentTerms};
use serde_json::{Value, json};

fn profile() -> PartnerProfile {
    PartnerProfile::from_toml(
        r#"
id = "acme"
[cxml]
from_domain = "DUNS"
from_identity = "123456789"
to_domain = "NetworkID"
to_identity = "AN01000000123"
shared_secret = "s3cret"
payload_id_host = "gw.example"
"#,
        "test.toml",
    )
    .unwrap()
}

const ISA: &str = "ISA*00*          *00*          *ZZ*ACME           *ZZ*GLOBEX         *260315*1030*U*00401*000000042*0*P*>~\n";

/// One X12 set (`kind` 810 or 850, functional group `group`) of `body`, enveloped.
fn x12(kind: &str, group: &str, body: &[&str]) -> String {
    let mut segments = vec![format!("ST*{kind}*0001")];
    segments.extend(body.iter().map(|s| s.to_string()));
    segments.push(format!("SE*{}*0001", segments.len() + 1));
    format!(
        "{ISA}GS*{group}*ACME*GLOBEX*20260315*1030*42*X*004010~\n{}~\nGE*1*42~\nIEA*1*000000042~\n",
        segments.join("~\n")
    )
}

fn from_x12(raw: &str) -> Document {
    let d = X12Codec::new().decode(raw.as_bytes(), &PartnerProfile::anonymous());
    assert!(d.rejects.is_empty(), "{:?}\n{raw}", d.rejects);
    assert_eq!(d.documents.len(), 1);
    d.documents.into_iter().next().unwrap().document
}

/// The document written as cXML, and that read back.
fn through_cxml(doc: &Document) -> (String, Document) {
    let bytes = CxmlCodec::new()
        .encode(std::slice::from_ref(doc), &profile())
        .unwrap_or_else(|e| panic!("encode: {e}"));
    let written = String::from_utf8(bytes).unwrap();
    let d = CxmlCodec::new().decode(written.as_bytes(), &profile());
    assert!(d.rejects.is_empty(), "{:?}\n{written}", d.rejects);
    let back = d.documents.into_iter().next().unwrap().document;
    // And once more: cXML → canonical → cXML → canonical changes nothing.
    let again = CxmlCodec::new()
        .encode(std::slice::from_ref(&back), &profile())
        .unwrap();
    let d = CxmlCodec::new().decode(&again, &profile());
    assert_eq!(d.documents[0].document, back, "{written}");
    (written, back)
}

/// `lines[k].extensions.<format>.<key>`.
fn line_ext<'d>(d: &'d Document, k: usize, format: &str, key: &str) -> Option<&'d Value> {
    let e = match d {
        Document::Invoice(i) => &i.lines[k].extensions,
        Document::PurchaseOrder(p) => &p.lines[k].extensions,
    };
    e.get(format).and_then(|x| x.get(key))
}

fn party(v: &Value) -> Party {
    serde_json::from_value(v.clone()).unwrap()
}

fn terms(d: &Document) -> Option<&PaymentTerms> {
    match d {
        Document::Invoice(i) => i.payment_terms.as_ref(),
        Document::PurchaseOrder(p) => p.payment_terms.as_ref(),
    }
}

/// `extensions.<format>.payment_terms` of the document.
fn tiers<'d>(d: &'d Document, format: &str) -> Option<&'d Value> {
    d.extensions()
        .get(format)
        .and_then(|x| x.get("payment_terms"))
}

/// A kept cXML `PaymentTerm` of `days`, with a percent discount and a description when given.
fn cxml_term(days: &str, percent: Option<&str>, description: Option<&str>) -> Value {
    let mut t = json!({"element": "PaymentTerm", "attributes": {"payInNumberOfDays": days}});
    let mut children = Vec::new();
    if let Some(p) = percent {
        children.push(json!({"element": "Discount", "children": [
            {"element": "DiscountPercent", "attributes": {"percent": p}}
        ]}));
    }
    if let Some(d) = description {
        children.push(
            json!({"element": "Extrinsic", "attributes": {"name": "description"}, "text": d}),
        );
    }
    if !children.is_empty() {
        t["children"] = Value::Array(children);
    }
    t
}

/// The heading's terms: 2% in 10 days net 30 (the document's), then 1% in 20 net 30, then
/// net 45.
const TIERED_ITDS: [&str; 3] = [
    "ITD*01*3*2**10**30*****2% 10 Net 30",
    "ITD*01*3*1**20**30*****1% 20 Net 30",
    "ITD*01*3*****45",
];

/// The lines' own ship-to, in the IT1/PO1 loop.
const LINE_SHIP_TO: [&str; 3] = [
    "N1*ST*Globex Lab 2*92*LAB2",
    "N3*9 Test Lane",
    "N4*Cypress Creek*OR*97002*US",
];

fn invoice_810(extra_itds: &[&str]) -> String {
    let mut body = vec![
        "BIG*20260315*INV-1**PO-1",
        "CUR*SE*USD",
        "N1*ST*Globex Warehouse 7*92*WH7",
        "N3*77 Dock Street",
        "N4*Cypress Creek*OR*97002*US",
    ];
    body.extend(TIERED_ITDS);
    body.extend_from_slice(extra_itds);
    body.extend(["IT1*1*10*EA*12.5**VP*GLV", "PID*F****Gloves"]);
    body.extend(LINE_SHIP_TO);
    body.extend([
        "IT1*2*2*BX*45**VP*PPR",
        "PID*F****Paper",
        "TDS*22500",
        "SAC*C*D240***1500**********Ground freight",
        "CTT*2",
    ]);
    x12("810", "IN", &body)
}

fn order_850() -> String {
    let mut body = vec![
        "BEG*00*SA*PO-1**20260301",
        "CUR*BY*USD",
        TIERED_ITDS[0],
        TIERED_ITDS[1],
        TIERED_ITDS[2],
        "N1*ST*Globex Warehouse 7*92*WH7",
        "N3*77 Dock Street",
        "N4*Cypress Creek*OR*97002*US",
        "PO1*1*10*EA*12.5**VP*GLV",
        "PID*F****Gloves",
        "MSG*Deliver to dock 4",
        "MSG*Ring the bell",
    ];
    body.extend(LINE_SHIP_TO);
    body.extend(["PO1*2*4*BX*45**VP*PPR", "CTT*2"]);
    x12("850", "PO", &body)
}

/// What the X12 reader made of the tiers: the first ITD the document's, the others further.
fn assert_x12_tiers(doc: &Document) {
    let own = terms(doc).unwrap();
    assert_eq!(
        (own.discount_days, own.net_days),
        (Some(10), Some(30)),
        "{own:?}"
    );
    let x12: Vec<PaymentTerms> =
        serde_json::from_value(tiers(doc, "x12").unwrap().clone()).unwrap();
    assert_eq!(x12.len(), 2, "{x12:?}");
    assert_eq!(x12[1].net_days, Some(45));
}

/// The further tiers read back from cXML: kept in their places after the document's own
/// discount tier and net term, the 1% tier with its description; its net 30 is the
/// document's own net term, written once.
fn assert_cxml_tiers(back: &Document, written: &str) {
    assert_eq!(
        tiers(back, "cxml"),
        Some(&json!([
            "discount",
            "net",
            cxml_term("20", Some("1"), Some("1% 20 Net 30")),
            cxml_term("45", None, None)
        ])),
        "{written}"
    );
    let own = terms(back).unwrap();
    assert_eq!(
        (own.discount_percent, own.discount_days, own.net_days),
        (Some("2".parse().unwrap()), Some(10), Some(30))
    );
    assert_eq!(written.matches("<PaymentTerm ").count(), 4, "{written}");
}

#[test]
fn an_810_line_ship_to_and_the_payment_tiers_reach_cxml_and_read_back() {
    let doc = from_x12(&invoice_810(&[]));
    let ship_to = party(line_ext(&doc, 0, "x12", "ship_to").unwrap());
    assert_eq!(ship_to.name.as_deref(), Some("Globex Lab 2"));
    assert_x12_tiers(&doc);

    let (written, back) = through_cxml(&doc);
    // The line ships to its own address: the shipTo of its line shipping, which charges
    // nothing (the line has no shipping charge of its own; InvoiceDetailLineShipping requires
    // Money), read back as the line's ship-to and no charge.
    let first = &written[written.find("<InvoiceDetailItem ").unwrap()..];
    let first = &first[..first.find("</InvoiceDetailItem>").unwrap()];
    assert!(
        first.contains("<InvoiceDetailLineShipping>")
            && first.contains(r#"<Contact role="shipTo">"#)
            && first.contains("Globex Lab 2")
            && first.contains(r#"<Money currency="USD">0.00</Money>"#),
        "{written}"
    );
    assert!(written.contains(r#"isShippingInLine="yes""#), "{written}");
    assert_eq!(
        party(line_ext(&back, 0, "cxml", "ship_to").unwrap()),
        ship_to
    );
    let Document::Invoice(inv) = &back else {
        panic!("not an invoice")
    };
    assert!(
        inv.lines[0].charges.is_empty(),
        "{:?}",
        inv.lines[0].charges
    );
    // The other line has none of its own, and no line shipping.
    assert_eq!(line_ext(&back, 1, "cxml", "ship_to"), None);
    assert_eq!(written.matches("<InvoiceDetailLineShipping>").count(), 1);
    // The invoice's ship-to is still the invoice's.
    assert_eq!(
        inv.ship_to.as_ref().and_then(|p| p.name.as_deref()),
        Some("Globex Warehouse 7")
    );

    assert_cxml_tiers(&back, &written);
}

#[test]
fn an_850_line_ship_to_comments_and_payment_tiers_reach_the_order_request_and_read_back() {
    let doc = from_x12(&order_850());
    let ship_to = party(line_ext(&doc, 0, "x12", "ship_to").unwrap());
    let comments = line_ext(&doc, 0, "x12", "comments").unwrap().clone();
    assert_eq!(comments, json!("Deliver to dock 4\nRing the bell"));
    assert_x12_tiers(&doc);

    let (written, back) = through_cxml(&doc);
    let item = &written[written.find("<ItemOut ").unwrap()..];
    let item = &item[..item.find("</ItemOut>").unwrap()];
    assert!(
        item.contains("<ShipTo>") && item.contains("Globex Lab 2"),
        "{written}"
    );
    assert!(
        item.contains("<Comments xml:lang=\"en\">Deliver to dock 4\nRing the bell</Comments>"),
        "{written}"
    );
    assert_eq!(
        party(line_ext(&back, 0, "cxml", "ship_to").unwrap()),
        ship_to
    );
    assert_eq!(line_ext(&back, 0, "cxml", "comments"), Some(&comments));
    assert_eq!(line_ext(&back, 1, "cxml", "ship_to"), None);
    assert_eq!(line_ext(&back, 1, "cxml", "comments"), None);

    assert_cxml_tiers(&back, &written);
}

/// What cXML has no place for is named, each at its canonical path: the 810's charge codes
/// (SAC02), a tier's discount percent without its days; what it carries is not named.
#[test]
fn what_cxml_has_no_place_for_is_named_left_out() {
    let codec = CxmlCodec::new();
    let doc = from_x12(&invoice_810(&["ITD*01*3*1.5"]));
    let left = codec.left_out(&doc, &PartnerProfile::anonymous());
    assert_eq!(left.len(), 2, "{left:#?}");
    assert!(
        left[0].starts_with("$.extensions.x12.payment_terms[2]: its discount percent")
            && left[0].contains("payInNumberOfDays"),
        "{left:#?}"
    );
    assert!(
        left[1].starts_with("$.charges[0].code: cXML has no element for a charge's code"),
        "{left:#?}"
    );
    // The code is lost indeed; the rest of the charge is not.
    let (_, back) = through_cxml(&doc);
    let Document::Invoice(inv) = &back else {
        panic!("not an invoice")
    };
    assert_eq!(inv.charges[0].code, None);
    assert_eq!(
        inv.charges[0].description.as_deref(),
        Some("Ground freight")
    );
    // Read from cXML, nothing is left out of cXML.
    assert_eq!(
        codec.left_out(&back, &PartnerProfile::anonymous()),
        Vec::<String>::new()
    );

    // An order: its charges' codes and rates, and nothing for its line ship-to and comments.
    let mut order = from_x12(&order_850());
    assert_eq!(
        codec.left_out(&order, &PartnerProfile::anonymous()),
        Vec::<String>::new()
    );
    let Document::PurchaseOrder(po) = &mut order else {
        panic!("not an order")
    };
    po.charges.push(gateway_model::Charge {
        kind: gateway_model::ChargeKind::Shipping,
        amount: Some("25".parse().unwrap()),
        rate: Some("2.5".parse().unwrap()),
        category: None,
        description: None,
        code: Some("G830".into()),
    });
    assert_eq!(
        codec
            .left_out(&order, &PartnerProfile::anonymous())
            .iter()
            .map(|l| l.split(": ").next().unwrap())
            .collect::<Vec<_>>(),
        ["$.charges[0].code", "$.charges[0].rate"]
    );
}

/// The first line of `samples/cxml/invoice/rich.xml` read by the cXML reader.
fn cxml_sample_line() -> gateway_model::InvoiceLine {
    let root = gateway_core::testkit::repo_root().join("samples/cxml/invoice");
    let partner = PartnerProfile::load(&root.join("rich.partner.toml")).unwrap();
    let d = CxmlCodec::new().decode(&std::fs::read(root.join("rich.xml")).unwrap(), &partner);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let Document::Invoice(inv) = &d.documents[0].document else {
        panic!("not an invoice")
    };
    inv.lines[0].clone()
}

/// An 810 whose one line is the first line of the cXML sample, as X12 writes the same values:
/// 10 EA at 12.50, sales tax 10.31 at 8.25 % of 125.00 (TXI*ST, TXI08 the taxable amount).
fn sample_line_810(price: &str) -> String {
    let it1 = format!("IT1*1*10*EA*{price}**VP*GLV-NIT-L*BP*100234*PL*1");
    x12(
        "810",
        "IN",
        &[
            "BIG*20260315*INV-2026-0042**PO-7781",
            "CUR*SE*USD",
            &it1,
            "TXI*ST*10.31*8.25*****125.00",
            "PID*F****Safety gloves, nitrile, size L",
            "TDS*13531",
            "CTT*1",
        ],
    )
}

/// The canonical JSON of the parts of a line both formats hold: its money and its tax.
fn money_json(l: &gateway_model::InvoiceLine) -> Value {
    let tax = &l.taxes[0];
    json!({
        "quantity": l.quantity, "unit_price": l.unit_price, "amount": l.amount,
        "tax": [tax.amount, tax.rate, tax.taxable_amount, tax.category.as_deref()],
    })
}

/// One tax, one category whatever the channel: X12's `TXI*ST` reached Coupa described `ST`
/// where the same tax from cXML is `sales`. Read from X12, it is `sales`; written as cXML it
/// is `TaxDetail@category="sales"`; and the same values (12.50, 125.00, 8.25) make the same
/// canonical JSON, text for text, from either reader: each keeps the source's decimal text,
/// and the amount X12 does not carry is computed as cXML's reader computes one. (X12 writes
/// `12.5` for 12.50, its R type's shortest form: same value, and read back it is `12.5`,
/// numerically the same, as CANONICAL.md compares decimals.)
#[test]
fn the_same_tax_and_amounts_read_the_same_from_x12_and_cxml() {
    let cxml_line = cxml_sample_line();
    let doc = from_x12(&sample_line_810("12.50"));
    let Document::Invoice(inv) = &doc else {
        panic!("not an invoice")
    };
    assert_eq!(inv.lines[0].taxes[0].category.as_deref(), Some("sales"));
    assert_eq!(money_json(&inv.lines[0]), money_json(&cxml_line));
    assert_eq!(
        money_json(&cxml_line)["unit_price"],
        json!("12.50"),
        "the sample's own text"
    );

    let (written, back) = through_cxml(&doc);
    assert!(
        written.contains(r#"<TaxDetail purpose="tax" category="sales" percentageRate="8.25">"#),
        "{written}"
    );
    let Document::Invoice(back) = &back else {
        panic!("not an invoice")
    };
    assert_eq!(money_json(&back.lines[0]), money_json(&cxml_line));

    // X12's wire form: 12.5, the same value.
    let x12 = String::from_utf8(
        X12Codec::new()
            .encode(std::slice::from_ref(&doc), &PartnerProfile::anonymous())
            .unwrap(),
    )
    .unwrap();
    assert!(x12.contains("IT1*1*10*EA*12.5**"), "{x12}");
    let again = from_x12(&x12);
    assert_eq!(again, doc, "decimals compare by value");
}

/// An 810 with a ship-from (`N1*SF`) beside its ship-to, and a line shipped from its own dock.
fn ship_from_810(ship_to: bool) -> String {
    let mut body = vec![
        "BIG*20260315*INV-5**PO-1",
        "CUR*SE*USD",
        "N1*SF*Acme Dock 2*92*DOCK2",
        "N3*5 Loading Lane",
        "N4*Springfield*IL*62702*US",
    ];
    if ship_to {
        body.extend(["N1*ST*Globex Warehouse 7*92*WH7"]);
    }
    body.extend([
        "IT1*1*10*EA*12.5**VP*GLV",
        "PID*F****Gloves",
        "N1*SF*Acme Pier 4",
        "IT1*2*2*BX*45**VP*PPR",
        "PID*F****Paper",
        "TDS*21500",
        "CTT*2",
    ]);
    x12("810", "IN", &body)
}

/// The 810's ship-from (`N1*SF`) was read but not written to cXML: X12 → cXML lost it. It is
/// the header's `shipFrom` (in `InvoiceDetailShipping` beside the ship-to, an
/// `InvoicePartner` alone), the `shipFrom` of every line's shipping, and a line's own
/// (`N1*SF` in its IT1 loop) that line's; read back as cXML's own, and written to X12 again as
/// the same `N1*SF` loops.
#[test]
fn an_810_ship_from_reaches_cxml_and_comes_back_to_x12() {
    let doc = from_x12(&ship_from_810(true));
    let x12_from = party(&doc.extensions()["x12"]["ship_from"]);
    assert_eq!(x12_from.name.as_deref(), Some("Acme Dock 2"));
    let line_from = party(line_ext(&doc, 0, "x12", "ship_from").unwrap());

    let (written, back) = through_cxml(&doc);
    let header = &written[..written.find("</InvoiceDetailRequestHeader>").unwrap()];
    let shipping = &header[header.find("<InvoiceDetailShipping>").unwrap()..];
    assert!(
        shipping.find(r#"<Contact role="shipFrom""#).unwrap()
            < shipping.find(r#"<Contact role="shipTo""#).unwrap()
            && shipping.contains("Acme Dock 2")
            && shipping.contains("5 Loading Lane"),
        "{written}"
    );
    let first = &written[written.find("<InvoiceDetailItem ").unwrap()..];
    let first = &first[..first.find("</InvoiceDetailItem>").unwrap()];
    assert!(
        first.contains("Acme Pier 4") && first.contains(r#"<Contact role="shipTo">"#),
        "{written}"
    );
    assert_eq!(
        party(&back.extensions()["cxml"]["parties"]["shipFrom"]),
        x12_from
    );
    assert_eq!(
        party(line_ext(&back, 0, "cxml", "ship_from").unwrap()),
        line_from
    );
    assert_eq!(line_ext(&back, 1, "cxml", "ship_from"), None);
    let Document::Invoice(inv) = &back else {
        panic!("not an invoice")
    };
    assert!(
        inv.lines[0].charges.is_empty(),
        "{:?}",
        inv.lines[0].charges
    );

    // And on to X12: the same ship-from loops.
    let again = String::from_utf8(
        X12Codec::new()
            .encode(std::slice::from_ref(&back), &PartnerProfile::anonymous())
            .unwrap(),
    )
    .unwrap();
    assert!(
        again.contains(
            "N1*SF*Acme Dock 2*92*DOCK2~\nN3*5 Loading Lane~\nN4*Springfield*IL*62702*US~"
        ),
        "{again}"
    );
    assert!(
        again.contains("PID*F****Gloves~\nN1*SF*Acme Pier 4~\nIT1*2"),
        "{again}"
    );

    // A ship-from without a ship-to: an InvoicePartner, read back the same.
    let doc = from_x12(&ship_from_810(false));
    let (written, back) = through_cxml(&doc);
    let header = &written[..written.find("</InvoiceDetailRequestHeader>").unwrap()];
    assert!(
        !header.contains("<InvoiceDetailShipping>")
            && header.contains(
                r#"<InvoicePartner>
          <Contact role="shipFrom""#
            ),
        "{written}"
    );
    assert_eq!(
        party(&back.extensions()["cxml"]["parties"]["shipFrom"]),
        x12_from
    );
}

/// What cXML has no place for among the ship-froms is named: a service line's (no line
/// shipping) and an order line's (the OrderRequest writer writes an ItemOut's ShipTo only).
#[test]
fn a_ship_from_cxml_has_no_place_for_is_named_left_out() {
    let codec = CxmlCodec::new();
    let mut doc = from_x12(&ship_from_810(true));
    let Document::Invoice(inv) = &mut doc else {
        panic!("not an invoice")
    };
    inv.lines[0]
        .extensions
        .insert("cxml".into(), json!({"service": true}));
    assert_eq!(
        codec.left_out(&doc, &PartnerProfile::anonymous()),
        [
            "$.lines[0].extensions.x12.ship_from: a cXML InvoiceDetailServiceItem has no ShipTo \
             and no InvoiceDetailLineShipping (InvoiceDetailItem's only), so the line's own \
             ship-to or ship-from is not written"
        ]
    );
    let order = from_x12(&x12(
        "850",
        "PO",
        &[
            "BEG*00*SA*PO-1**20260301",
            "CUR*BY*USD",
            "PO1*1*10*EA*12.5**VP*GLV",
            "N1*SF*Acme Pier 4",
            "CTT*1",
        ],
    ));
    let left = codec.left_out(&order, &PartnerProfile::anonymous());
    assert_eq!(left.len(), 1, "{left:#?}");
    assert!(
        left[0].starts_with("$.lines[0].extensions.x12.ship_from: "),
        "{left:#?}"
    );
}

/// An 850's heading ship-from (`N1*SF`) was kept as raw segments, which cXML cannot read:
/// X12 → cXML lost it. It is read as a party as the 810's is (`extensions.x12.ship_from`),
/// written as the OrderRequest header's `Contact role="shipFrom"` (the DTD check is in
/// `order_request_dtd.rs`), read back as cXML's own, and written to X12 again as the same
/// `N1*SF` loop; nothing of it is named left out.
#[test]
fn an_850_ship_from_reaches_the_order_request_and_comes_back_to_x12() {
    let raw = x12(
        "850",
        "PO",
        &[
            "BEG*00*SA*PO-1**20260301",
            "CUR*BY*USD",
            "N1*ST*Globex Warehouse 7*92*WH7",
            "N1*SF*Acme Dock 2*92*DOCK2",
            "N3*5 Loading Lane",
            "N4*Springfield*IL*62702*US",
            "PO1*1*10*EA*12.5**VP*GLV",
            "CTT*1",
        ],
    );
    let doc = from_x12(&raw);
    let x12_from = party(&doc.extensions()["x12"]["ship_from"]);
    assert_eq!(x12_from.name.as_deref(), Some("Acme Dock 2"));
    assert!(doc.extensions()["x12"].get("segments").is_none(), "{doc:?}");
    let codec = CxmlCodec::new();
    assert_eq!(
        codec.left_out(&doc, &PartnerProfile::anonymous()),
        Vec::<String>::new()
    );

    let (written, back) = through_cxml(&doc);
    let header = &written[..written.find("</OrderRequestHeader>").unwrap()];
    let contact = &header[header.find(r#"<Contact role="shipFrom""#).unwrap()..];
    assert!(
        contact.contains("Acme Dock 2") && contact.contains("5 Loading Lane"),
        "{written}"
    );
    assert_eq!(
        party(&back.extensions()["cxml"]["parties"]["shipFrom"]),
        x12_from
    );

    let again = String::from_utf8(
        X12Codec::new()
            .encode(std::slice::from_ref(&back), &PartnerProfile::anonymous())
            .unwrap(),
    )
    .unwrap();
    assert!(
        again.contains(
            "N1*SF*Acme Dock 2*92*DOCK2~\nN3*5 Loading Lane~\nN4*Springfield*IL*62702*US~"
        ),
        "{again}"
    );
    assert_eq!(
        party(&from_x12(&again).extensions()["x12"]["ship_from"]),
        x12_from
    );
}
