//! A PO mail tells the supplier's people where and how the goods go: the ship-to's attention
//! line (Coupa's `ship-to-attention`, the canonical ship-to `contact`) and the shipping terms
//! (Coupa's `shipping-term`) are in both bodies. Before, the attention line reached cXML and
//! X12 suppliers but no mail, and the shipping terms reached no supplier at all.
//!
//! So are the ship-to's full address, the payment terms in words and each line's need-by
//! date: before, a supplier reading the mail got the ship-to's name only ("Ship to: Plant 2"),
//! no payment terms and no dates, all of which were in the attachment.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_email::outbound::{html_body, text_body};
use gateway_model::{Address, Document, PaymentTerms, PurchaseOrder, from_json};

fn po(json: &str) -> PurchaseOrder {
    match from_json(json.as_bytes()) {
        Ok(Document::PurchaseOrder(po)) => po,
        other => panic!("{other:?}"),
    }
}

const COUPA_PO: &str = r#"{"schema_version": 1, "kind": "purchase_order", "po_number": "PO-6112", "order_date": "2026-03-01", "currency": "USD",
  "ship_to": {"name": "Main Warehouse", "contact": "J Madden <Receiving>"},
  "shipping_terms": {"code": "FOB Destination"},
  "lines": [{"line_number": 1, "quantity": "1", "uom": "EA", "unit_price": "5", "description": "Bolts"}]}"#;

#[test]
fn the_attention_line_and_shipping_terms_are_in_both_bodies() {
    let p = po(COUPA_PO);
    let text = text_body(&p);
    for line in [
        "Ship to: Main Warehouse",
        "Attention: J Madden <Receiving>",
        "Shipping terms: FOB Destination",
    ] {
        assert!(text.lines().any(|l| l == line), "{line}:\n{text}");
    }
    // Before the lines, with the order's other facts.
    assert!(
        text.find("Shipping terms:").unwrap() < text.find("Lines:").unwrap(),
        "{text}"
    );
    let html = html_body(&p);
    for part in [
        "<p>Ship to: Main Warehouse</p>",
        "<p>Attention: J Madden &lt;Receiving&gt;</p>",
        "<p>Shipping terms: FOB Destination</p>",
    ] {
        assert!(html.contains(part), "{part}:\n{html}");
    }
    assert!(html.find("Attention:").unwrap() < html.find("<table").unwrap());
}

/// An attention line of several lines (a cXML ship-to's `DeliverTo`s) is one line of the
/// mail; an order without them says nothing of them.
#[test]
fn a_several_line_attention_is_one_line_and_absent_facts_are_not_written() {
    let p = po(&COUPA_PO.replace("J Madden <Receiving>", "Receiving Dock\\nAttn: M. Chen"));
    let text = text_body(&p);
    assert!(
        text.lines()
            .any(|l| l == "Attention: Receiving Dock, Attn: M. Chen"),
        "{text}"
    );
    let mut bare = po(COUPA_PO);
    bare.ship_to = None;
    bare.shipping_terms = None;
    let text = text_body(&bare);
    assert!(!text.contains("Attention"), "{text}");
    assert!(!text.contains("Shipping terms"), "{text}");
    assert!(!html_body(&bare).contains("Attention"));
}

/// The PO the QA tester seeded in Coupa, as the Coupa mapping makes it: a ship-to with two
/// street lines, city, region, postal code and country, an attention line, the payment
/// term's code as its description, shipping terms, two lines of three with a need-by date.
const QA_PO: &str = r#"{"schema_version": 1, "kind": "purchase_order", "po_number": "QA-PO-1", "order_date": "2026-12-05", "version": 1, "currency": "EUR",
  "ship_to": {"name": "Plant 2", "contact": "Frau Müller",
    "address": {"lines": ["Industriestr. 5", "Tor 3, Halle B"], "city": "München", "region": "BY", "postal_code": "80331", "country": "DE"}},
  "payment_terms": {"description": "2/10 Net 45"},
  "shipping_terms": {"code": "FOB Destination"},
  "lines": [
    {"line_number": 1, "quantity": "3", "uom": "EA", "unit_price": "1234.5678", "amount": "3703.70", "description": "Hydraulic pump <HP-9> & seal kit", "supplier_part_id": "HP-9", "need_by": "2026-12-24"},
    {"line_number": 2, "unit_price": "850.00", "amount": "850.00", "description": "Installation service", "need_by": "2027-01-10"},
    {"line_number": 3, "quantity": "1000", "uom": "EA", "unit_price": "0.012", "amount": "12.00", "description": "Bolts", "supplier_part_id": "B-1"}],
  "total": "4565.70"}"#;

/// The text line that follows the line starting with `start`.
fn line_after<'a>(text: &'a str, start: &str) -> Option<&'a str> {
    let mut lines = text.lines();
    lines.find(|l| l.starts_with(start))?;
    lines.next()
}

#[test]
fn the_full_ship_to_address_payment_terms_and_need_by_dates_are_in_both_bodies() {
    let p = po(QA_PO);
    let text = text_body(&p);
    let facts = [
        "Ship to: Plant 2",
        "         Industriestr. 5",
        "         Tor 3, Halle B",
        "         München, BY 80331",
        "         DE",
        "Attention: Frau Müller",
        "Shipping terms: FOB Destination",
        "Payment terms: 2/10 Net 45",
    ];
    let at = text.find(facts[0]).expect("ship to");
    assert!(
        text[at..].starts_with(&facts.join("\n")),
        "the facts in this order:\n{text}"
    );
    assert!(at < text.find("Lines:").unwrap(), "{text}");
    // Each line's date under it; the line without one has none.
    assert_eq!(
        line_after(&text, "  1. HP-9"),
        Some("     Need by: 2026-12-24"),
        "{text}"
    );
    assert_eq!(
        line_after(&text, "  2. "),
        Some("     Need by: 2027-01-10"),
        "{text}"
    );
    assert_eq!(text.matches("Need by").count(), 2, "{text}");

    let html = html_body(&p);
    for part in [
        "<p>Ship to: Plant 2<br>Industriestr. 5<br>Tor 3, Halle B<br>München, BY 80331<br>DE</p>",
        "<p>Attention: Frau Müller</p>",
        "<p>Payment terms: 2/10 Net 45</p>",
        "<th>Amount</th><th>Need by</th></tr>",
        "<td>3703.70 EUR</td><td>2026-12-24</td></tr>",
        "<td>850.00 EUR</td><td>2027-01-10</td></tr>",
        "<td>12.00 EUR</td><td></td></tr>",
    ] {
        assert!(html.contains(part), "{part}:\n{html}");
    }
    assert!(html.find("Payment terms").unwrap() < html.find("<table").unwrap());
}

/// Terms given as numbers are said in words, after the description when there is one; every
/// value of the new facts is escaped in the HTML body.
#[test]
fn payment_terms_given_as_numbers_are_words_and_every_value_is_escaped() {
    let mut p = po(QA_PO);
    p.payment_terms = Some(PaymentTerms {
        description: Some("2/10 Net 45".into()),
        discount_percent: Some("2.00".parse().unwrap()),
        discount_days: Some(10),
        net_days: Some(45),
    });
    assert!(
        text_body(&p)
            .lines()
            .any(|l| l
                == "Payment terms: 2/10 Net 45 (2% discount if paid within 10 days, net 45 days)"),
        "{}",
        text_body(&p)
    );
    p.payment_terms = Some(PaymentTerms {
        discount_percent: Some("1.5".parse().unwrap()),
        discount_days: Some(1),
        net_days: Some(30),
        ..PaymentTerms::default()
    });
    assert!(
        text_body(&p)
            .lines()
            .any(|l| l == "Payment terms: 1.5% discount if paid within 1 day, net 30 days"),
        "{}",
        text_body(&p)
    );
    p.payment_terms = Some(PaymentTerms {
        net_days: Some(30),
        ..PaymentTerms::default()
    });
    assert!(
        text_body(&p)
            .lines()
            .any(|l| l == "Payment terms: Net 30 days"),
        "{}",
        text_body(&p)
    );

    p.payment_terms = Some(PaymentTerms {
        description: Some("<b>Net 30</b> & \"EOM\"".into()),
        ..PaymentTerms::default()
    });
    if let Some(a) = p.ship_to.as_mut().and_then(|s| s.address.as_mut()) {
        a.lines = vec!["Dock <7> & Gate 'B'".into()];
        a.city = Some("Paris & <Co>".into());
    }
    let html = html_body(&p);
    for part in [
        "<p>Payment terms: &lt;b&gt;Net 30&lt;/b&gt; &amp; &quot;EOM&quot;</p>",
        "<br>Dock &lt;7&gt; &amp; Gate &#39;B&#39;<br>Paris &amp; &lt;Co&gt;, BY 80331<br>",
    ] {
        assert!(html.contains(part), "{part}:\n{html}");
    }
    assert!(!html.contains("<b>Net"), "{html}");
}

/// An order without an address, payment terms or dates has no label for them, in neither
/// body; a ship-to with an address and no name is its address; blank values are absent.
#[test]
fn absent_address_terms_and_dates_leave_no_empty_labels() {
    let mut p = po(QA_PO);
    p.payment_terms = Some(PaymentTerms {
        description: Some("  ".into()),
        ..PaymentTerms::default()
    });
    for l in &mut p.lines {
        l.need_by = None;
    }
    if let Some(s) = p.ship_to.as_mut() {
        s.address = Some(Address {
            lines: vec![" ".into()],
            city: Some(String::new().into()),
            ..Address::default()
        });
    }
    let text = text_body(&p);
    let html = html_body(&p);
    for absent in ["Payment terms", "Need by"] {
        assert!(!text.contains(absent), "{absent}:\n{text}");
        assert!(!html.contains(absent), "{absent}:\n{html}");
    }
    assert_eq!(
        line_after(&text, "Ship to: Plant 2"),
        Some("Attention: Frau Müller")
    );
    assert!(html.contains("<p>Ship to: Plant 2</p>"), "{html}");

    if let Some(s) = p.ship_to.as_mut() {
        s.name = None;
        s.address = Some(Address {
            city: Some("München".into()),
            country: Some("DE".into()),
            ..Address::default()
        });
    }
    let text = text_body(&p);
    assert!(
        text.contains("Ship to: München\n         DE\nAttention"),
        "{text}"
    );
    p.ship_to = None;
    assert!(!text_body(&p).contains("Ship to"));
    assert!(!html_body(&p).contains("Ship to"));
}
