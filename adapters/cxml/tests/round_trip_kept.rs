//! cXML → canonical → cXML keeps what the model holds coarser than cXML writes it: a
//! timestamp attribute read as its date (`orderDate`, `invoiceDate`,
//! `ItemOut@requestedDeliveryDate`), a `Country`'s name beside its ISO code, and a phone's
//! `CountryCode@isoCountryCode`. Every expectation is read from the input file itself: the
//! re-encoded cXML must say what the source said, element for element. What a user changes in
//! the canonical document (a date, a country, a phone number) wins over what was kept.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_cxml::CxmlCodec;
use adapter_cxml::reader::{Limits, Node, Tree, parse_one};
use gateway_core::testkit::repo_root;
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, to_json_line};
use serde_json::Value;

const INVOICE: &str = "samples/cxml/invoice/rich";
const ORDER: &str = "samples/cxml/purchase_order/rich";

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap()
}

fn profile(sample: &str) -> PartnerProfile {
    PartnerProfile::from_toml(&read(&format!("{sample}.partner.toml")), "p.toml").unwrap()
}

fn decode(xml: &[u8], partner: &PartnerProfile) -> Document {
    let d = CxmlCodec::new().decode(xml, partner);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    assert_eq!(d.documents.len(), 1);
    d.documents.into_iter().next().unwrap().document
}

fn encode(doc: &Document, partner: &PartnerProfile) -> String {
    let bytes = CxmlCodec::new()
        .encode(std::slice::from_ref(doc), partner)
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

fn tree(xml: &str) -> Tree {
    parse_one(xml.as_bytes(), &Limits::default()).unwrap()
}

/// Every element named `name` under `n`, in document order.
fn all<'t>(n: Node<'t>, name: &str, out: &mut Vec<Node<'t>>) {
    if n.name() == name {
        out.push(n);
    }
    for c in n.children() {
        all(c, name, out);
    }
}

/// Where an element is, in words that do not depend on the writer's layout: the party it
/// belongs to (`Contact role`, `ShipTo`, `BillTo`) and the order line it is in.
fn owner(n: Node<'_>) -> String {
    let mut parts = Vec::new();
    let mut at = n.parent();
    while let Some(p) = at {
        match p.name() {
            "Contact" => parts.push(format!("Contact {}", p.attr("role").unwrap_or_default())),
            "ShipTo" | "BillTo" => parts.push(p.name().to_string()),
            "ItemOut" => parts.push(format!(
                "ItemOut {}",
                p.attr("lineNumber").unwrap_or_default()
            )),
            _ => {}
        }
        at = p.parent();
    }
    parts.reverse();
    parts.join("/")
}

/// `(owner, isoCountryCode, text)` of every `name` element (`Country`, `CountryCode`), sorted.
fn codes(t: &Tree, name: &str) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    all(t.root().unwrap(), name, &mut found);
    let mut out: Vec<_> = found
        .into_iter()
        .map(|n| {
            (
                owner(n),
                n.attr("isoCountryCode").unwrap_or_default().to_string(),
                n.text().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// `(line number, requestedDeliveryDate)` of every `ItemOut`.
fn delivery_dates(t: &Tree) -> Vec<(String, Option<String>)> {
    let mut items = Vec::new();
    all(t.root().unwrap(), "ItemOut", &mut items);
    items
        .into_iter()
        .map(|i| {
            (
                i.attr("lineNumber").unwrap_or_default().to_string(),
                i.attr("requestedDeliveryDate").map(str::to_string),
            )
        })
        .collect()
}

fn header<'t>(t: &'t Tree, path: &str) -> Node<'t> {
    t.root().unwrap().find(path).unwrap()
}

const ORDER_HEADER: &str = "Request/OrderRequest/OrderRequestHeader";
const INVOICE_HEADER: &str = "Request/InvoiceDetailRequest/InvoiceDetailRequestHeader";

/// The sample holds what the test is about, so the test cannot pass by writing the
/// canonical form back: a timestamp that is not what the writer writes for a bare date, a country name that is not
/// its code.
fn assert_sample_is_telling(t: &Tree, date: &str) {
    assert!(!date.ends_with("T12:00:00+00:00"), "{date}");
    let countries = codes(t, "Country");
    assert!(!countries.is_empty());
    assert!(
        countries.iter().all(|(_, code, name)| code != name),
        "{countries:?}"
    );
}

#[test]
fn the_rich_order_round_trips_its_timestamps_and_country_names() {
    let xml = read(&format!("{ORDER}.xml"));
    let source = tree(&xml);
    let date = header(&source, ORDER_HEADER).attr("orderDate").unwrap();
    assert_sample_is_telling(&source, date);

    let partner = profile(ORDER);
    let doc = decode(xml.as_bytes(), &partner);
    let written = encode(&doc, &partner);
    let out = tree(&written);
    assert_eq!(
        header(&out, ORDER_HEADER).attr("orderDate"),
        Some(date),
        "{written}"
    );
    let dates = delivery_dates(&source);
    assert!(
        dates.iter().any(|(_, d)| d.is_some()),
        "the sample has requestedDeliveryDates"
    );
    assert_eq!(delivery_dates(&out), dates, "{written}");
    assert_eq!(
        codes(&out, "Country"),
        codes(&source, "Country"),
        "{written}"
    );
    // And the canonical document read back is the one written.
    assert_eq!(decode(written.as_bytes(), &partner), doc);
}

#[test]
fn the_rich_invoice_round_trips_its_timestamp_country_names_and_phone_country() {
    let xml = read(&format!("{INVOICE}.xml"));
    let source = tree(&xml);
    let date = header(&source, INVOICE_HEADER).attr("invoiceDate").unwrap();
    assert_sample_is_telling(&source, date);
    let phones = codes(&source, "CountryCode");
    assert!(
        !phones.is_empty() && phones.iter().all(|(_, iso, _)| !iso.is_empty()),
        "{phones:?}"
    );

    let partner = profile(INVOICE);
    let doc = decode(xml.as_bytes(), &partner);
    let written = encode(&doc, &partner);
    let out = tree(&written);
    assert_eq!(
        header(&out, INVOICE_HEADER).attr("invoiceDate"),
        Some(date),
        "{written}"
    );
    assert_eq!(
        codes(&out, "Country"),
        codes(&source, "Country"),
        "{written}"
    );
    assert_eq!(codes(&out, "CountryCode"), phones, "{written}");
    assert_eq!(decode(written.as_bytes(), &partner), doc);
}

/// The decoded document, as JSON, for pointers into its extensions.
fn json(doc: &Document) -> Value {
    serde_json::from_str(&to_json_line(doc)).unwrap()
}

#[test]
fn a_date_changed_in_the_canonical_document_is_written_as_changed() {
    let partner = profile(ORDER);
    let mut doc = decode(read(&format!("{ORDER}.xml")).as_bytes(), &partner);
    let Document::PurchaseOrder(po) = &mut doc else {
        panic!("not an order")
    };
    assert!(
        json(&Document::PurchaseOrder(po.clone()))
            .pointer("/extensions/cxml/order_date")
            .is_some(),
        "the time was kept"
    );
    let new_date = po.order_date.unwrap().succ_opt().unwrap();
    po.order_date = Some(new_date);
    let line = &mut po.lines[0];
    let new_need_by = line.need_by.unwrap().pred_opt().unwrap();
    line.need_by = Some(new_need_by);
    let written = encode(&doc, &partner);
    let out = tree(&written);
    assert_eq!(
        header(&out, ORDER_HEADER).attr("orderDate"),
        Some(format!("{new_date}T12:00:00+00:00").as_str()),
        "{written}"
    );
    assert_eq!(
        delivery_dates(&out)[0].1.as_deref(),
        Some(format!("{new_need_by}T12:00:00+00:00").as_str()),
        "{written}"
    );

    let partner = profile(INVOICE);
    let mut doc = decode(read(&format!("{INVOICE}.xml")).as_bytes(), &partner);
    let Document::Invoice(inv) = &mut doc else {
        panic!("not an invoice")
    };
    let new_date = inv.invoice_date.unwrap().pred_opt().unwrap();
    inv.invoice_date = Some(new_date);
    let written = encode(&doc, &partner);
    assert_eq!(
        header(&tree(&written), INVOICE_HEADER).attr("invoiceDate"),
        Some(format!("{new_date}T12:00:00+00:00").as_str()),
        "{written}"
    );
    // Read back, the document has the new date and nothing kept for it any more.
    let again = decode(written.as_bytes(), &partner);
    let Document::Invoice(back) = &again else {
        panic!("not an invoice")
    };
    assert_eq!(back.invoice_date, Some(new_date));
    assert!(
        json(&again)
            .pointer("/extensions/cxml/invoice_date")
            .is_none()
    );
}

#[test]
fn a_kept_country_name_or_phone_country_is_written_only_for_what_it_was_kept_with() {
    let partner = profile(INVOICE);
    let source = read(&format!("{INVOICE}.xml"));
    // A Canadian phone number (+1 too) at a US address: only kept, never derived.
    let us_phone = r#"<CountryCode isoCountryCode="US">1</CountryCode>"#;
    assert_eq!(source.matches(us_phone).count(), 1);
    let xml = source.replace(
        us_phone,
        r#"<CountryCode isoCountryCode="CA">1</CountryCode>"#,
    );
    let doc = decode(xml.as_bytes(), &partner);
    let j = json(&doc);
    assert_eq!(
        j.pointer("/extensions/cxml/phone_country/supplier/code"),
        Some(&Value::from("CA")),
        "{j}"
    );
    let written = encode(&doc, &partner);
    assert_eq!(
        codes(&tree(&written), "CountryCode"),
        codes(&tree(&xml), "CountryCode"),
        "{written}"
    );

    // A new phone number: the kept country was given for +1, so the address's is written.
    let mut changed = doc.clone();
    let Document::Invoice(inv) = &mut changed else {
        panic!("not an invoice")
    };
    let supplier = inv.supplier.as_mut().unwrap();
    supplier.phone = Some("+44 20 7946 0000".into());
    let written = encode(&changed, &partner);
    assert_eq!(
        codes(&tree(&written), "CountryCode"),
        [("Contact from".into(), "US".into(), "44".into())],
        "{written}"
    );

    // The supplier moves to Mexico: the kept name belongs to the US, so the new code is
    // written as the name; the other parties keep theirs, and the phone (still +1) its kept
    // country.
    let mut changed = doc.clone();
    let Document::Invoice(inv) = &mut changed else {
        panic!("not an invoice")
    };
    let supplier = inv.supplier.as_mut().unwrap();
    supplier.address.as_mut().unwrap().country = Some("MX".into());
    let written = encode(&changed, &partner);
    let out = tree(&written);
    let countries = codes(&out, "Country");
    assert!(
        countries.contains(&("Contact from".into(), "MX".into(), "MX".into())),
        "{countries:?}"
    );
    assert!(
        countries.contains(&("Contact billTo".into(), "US".into(), "United States".into())),
        "{countries:?}"
    );
    assert_eq!(
        codes(&out, "CountryCode"),
        [("Contact from".into(), "CA".into(), "1".into())],
        "{written}"
    );
}

#[test]
fn a_phone_without_a_kept_or_address_country_is_written_as_before() {
    // No address: nothing to derive from, and the US given for the phone is kept.
    let partner = profile(INVOICE);
    let source = read(&format!("{INVOICE}.xml"));
    let start = source.find("<PostalAddress>").unwrap();
    let end = source.find("</PostalAddress>").unwrap() + "</PostalAddress>".len();
    assert!(
        source[start..end].contains("Factory Road"),
        "the supplier's"
    );
    let mut xml = source.clone();
    xml.replace_range(start..end, "");
    let doc = decode(xml.as_bytes(), &partner);
    let written = encode(&doc, &partner);
    assert_eq!(
        codes(&tree(&written), "CountryCode"),
        codes(&tree(&xml), "CountryCode"),
        "{written}"
    );
    // Without the kept value either, the writer has nothing to go on: an empty code.
    let mut bare = doc.clone();
    let Document::Invoice(inv) = &mut bare else {
        panic!("not an invoice")
    };
    inv.extensions
        .get_mut("cxml")
        .and_then(Value::as_object_mut)
        .unwrap()
        .remove("phone_country")
        .unwrap();
    let written = encode(&bare, &partner);
    assert_eq!(
        codes(&tree(&written), "CountryCode"),
        [("Contact from".into(), String::new(), "1".into())],
        "{written}"
    );
}

#[test]
fn a_line_ship_to_keeps_its_country_name() {
    let partner = profile(ORDER);
    let source = read(&format!("{ORDER}.xml"));
    let name = r#"<Name xml:lang="en">Globex Warehouse 3</Name>"#;
    assert_eq!(source.matches(name).count(), 1);
    let xml = source.replace(
        name,
        r#"<Name xml:lang="en">Globex Warehouse 3</Name>
            <PostalAddress><Street>Am Sandtorkai 1</Street><City>Hamburg</City><Country isoCountryCode="DE">Deutschland</Country></PostalAddress>"#,
    );
    let doc = decode(xml.as_bytes(), &partner);
    let j = json(&doc);
    assert_eq!(
        j.pointer("/lines/1/extensions/cxml/country_name/ship_to/name"),
        Some(&Value::from("Deutschland")),
        "{j}"
    );
    assert_eq!(
        j.pointer("/lines/1/extensions/cxml/ship_to/address/country"),
        Some(&Value::from("DE")),
        "the model keeps the code"
    );
    let written = encode(&doc, &partner);
    let countries = codes(&tree(&written), "Country");
    assert_eq!(countries, codes(&tree(&xml), "Country"), "{written}");
    assert!(
        countries.contains(&("ItemOut 2/ShipTo".into(), "DE".into(), "Deutschland".into())),
        "{countries:?}"
    );
    assert_eq!(decode(written.as_bytes(), &partner), doc);
}

/// What the writer would write anyway is not kept: a noon-UTC timestamp, a country named
/// by its code, a phone in its address's country.
#[test]
fn nothing_is_kept_that_the_writer_writes_anyway() {
    let partner = profile(ORDER);
    let source = read(&format!("{ORDER}.xml"));
    let xml = source
        .replace(
            r#"orderDate="2026-03-18T07:59:12-08:00""#,
            r#"orderDate="2026-03-18T12:00:00+00:00""#,
        )
        .replace(
            r#"requestedDeliveryDate="2026-03-25T00:00:00-08:00""#,
            r#"requestedDeliveryDate="2026-03-25T12:00:00+00:00""#,
        )
        .replace(
            r#"requestedDeliveryDate="2026-04-01""#,
            r#"requestedDeliveryDate="2026-04-01T12:00:00+00:00""#,
        )
        .replace(
            r#"<Country isoCountryCode="US">United States</Country>"#,
            r#"<Country isoCountryCode="US">US</Country>"#,
        );
    let doc = decode(xml.as_bytes(), &partner);
    let j = json(&doc);
    let lines = j["lines"].as_array().unwrap();
    for kept in std::iter::once(&j).chain(lines) {
        let cxml = kept.pointer("/extensions/cxml");
        for key in [
            "order_date",
            "requested_delivery_date",
            "country_name",
            "phone_country",
        ] {
            assert!(
                cxml.and_then(|c| c.get(key)).is_none(),
                "{key} kept in {kept}"
            );
        }
    }
    let written = encode(&doc, &partner);
    let out = tree(&written);
    assert_eq!(
        header(&out, ORDER_HEADER).attr("orderDate"),
        Some("2026-03-18T12:00:00+00:00")
    );
    assert_eq!(delivery_dates(&out), delivery_dates(&tree(&xml)));
    assert_eq!(codes(&out, "Country"), codes(&tree(&xml), "Country"));

    // The invoice's phone is in its supplier's country: derived, not kept.
    let partner = profile(INVOICE);
    let doc = decode(read(&format!("{INVOICE}.xml")).as_bytes(), &partner);
    assert!(!to_json_line(&doc).contains("phone_country"));
}
