//! Canonical JSON and validation behaviour of the model.

use gateway_model::{Decimal, Document, Severity, from_json, from_json_lines, to_json_line};

const INVOICE: &str = r#"{
  "schema_version": 1, "kind": "invoice",
  "invoice_number": "INV-1", "invoice_date": "2026-01-31", "currency": "USD",
  "supplier": {"name": "Acme"},
  "lines": [
    {"line_number": 1, "quantity": "2", "uom": "EA", "unit_price": "10.50", "amount": "21.00"},
    {"line_number": 2, "quantity": "1", "uom": "EA", "unit_price": "5.00", "amount": "5.00"}
  ],
  "subtotal": "26.00", "total": "26.00"
}"#;

#[test]
fn decimals_keep_their_scale_through_a_round_trip() {
    let doc = from_json(INVOICE.as_bytes()).map_err(|e| e.to_string());
    let Ok(Document::Invoice(inv)) = doc else {
        panic!("expected an invoice, got {doc:?}");
    };
    assert_eq!(
        inv.lines[0].amount.map(|d| d.to_string()),
        Some("21.00".into())
    );
    let line = to_json_line(&Document::Invoice(inv));
    assert!(line.contains(r#""unit_price":"10.50""#), "{line}");
    assert!(line.contains(r#""kind":"invoice""#), "{line}");
    assert!(line.contains(r#""schema_version":1"#), "{line}");
}

#[test]
fn bad_field_is_reported_with_its_path() {
    let bad = INVOICE.replace(r#""quantity": "1""#, r#""quantity": "one""#);
    let err = from_json(bad.as_bytes()).err().map(|e| e.location);
    assert_eq!(err.as_deref(), Some("$.lines[1].quantity"));
}

/// The contract's form (`^-?[0-9]+(\.[0-9]+)?$`) only: `rust_decimal` alone read `"1E3"` as
/// 1000 and `"1_000"` as 1000, and rounded what it could not hold.
#[test]
fn decimal_strings_outside_the_documented_form_are_refused_where_they_are() {
    for (field, text) in [
        (r#""quantity": "1""#, "1E3"),
        (r#""quantity": "1""#, "+1"),
        (r#""quantity": "1""#, "1_000"),
        (r#""unit_price": "10.50""#, ".5"),
        (r#""total": "26.00""#, "26."),
        (r#""total": "26.00""#, "0.00000000000000000000000000001"),
    ] {
        let key = field.split(':').next().unwrap_or_default();
        let bad = INVOICE.replacen(field, &format!("{key}: \"{text}\""), 1);
        assert_ne!(bad, INVOICE, "{field}");
        let err = from_json(bad.as_bytes()).err();
        let Some(err) = err else {
            panic!("{text:?} in {key} was accepted");
        };
        assert!(err.location.starts_with("$."), "{err}");
        assert!(err.message.contains(text), "{err}");
    }
    // null is still no value, and the documented form still reads.
    let null = INVOICE.replace(r#""subtotal": "26.00""#, r#""subtotal": null"#);
    assert!(from_json(null.as_bytes()).is_ok());
    let zeros = INVOICE.replace(r#""total": "26.00""#, r#""total": "-0026.000""#);
    assert!(from_json(zeros.as_bytes()).is_ok());
}

#[test]
fn numbers_for_money_are_refused() {
    let bad = INVOICE.replace(r#""total": "26.00""#, r#""total": 26.0"#);
    let err = from_json(bad.as_bytes()).err().map(|e| e.location);
    assert_eq!(err.as_deref(), Some("$.total"));
}

#[test]
fn unknown_kind_and_version_are_refused() {
    let bad = INVOICE.replace(r#""kind": "invoice""#, r#""kind": "receipt""#);
    assert!(from_json(bad.as_bytes()).is_err());
    let bad = INVOICE.replace(r#""schema_version": 1"#, r#""schema_version": 2"#);
    let err = from_json(bad.as_bytes()).err().map(|e| e.location);
    assert_eq!(err.as_deref(), Some("$.schema_version"));
}

#[test]
fn json_lines_keep_good_documents_beside_bad_ones() {
    let good = INVOICE.replace('\n', " ");
    let bad = good.replace(
        r#""invoice_date": "2026-01-31""#,
        r#""invoice_date": "31/01/2026""#,
    );
    let input = format!("{good}\n{bad}\n{good}\n");
    let items = from_json_lines(input.as_bytes());
    assert_eq!(items.len(), 3);
    assert!(items[0].is_ok() && items[2].is_ok());
    let loc = items[1].as_ref().err().map(|e| e.location.clone());
    assert_eq!(loc.as_deref(), Some("document 2 (line 2): $.invoice_date"));
}

#[test]
fn valid_invoice_has_no_errors() {
    let doc = from_json(INVOICE.as_bytes()).map_err(|e| e.to_string());
    let report = doc.map(|d| d.validate()).unwrap_or_default();
    assert!(!report.has_errors(), "{:?}", report.problems);
}

#[test]
fn validation_reports_every_problem_with_its_path() {
    let bad = INVOICE
        .replace(r#""invoice_number": "INV-1", "#, "")
        .replace(r#""currency": "USD""#, r#""currency": "usd""#)
        .replace(r#""amount": "21.00""#, r#""amount": "22.00""#);
    let report = from_json(bad.as_bytes())
        .map(|d| d.validate())
        .unwrap_or_default();
    let errors: Vec<&str> = report.errors().map(|p| p.path.as_str()).collect();
    assert!(errors.contains(&"$.invoice_number"), "{errors:?}");
    assert!(errors.contains(&"$.currency"), "{errors:?}");
    assert!(errors.contains(&"$.lines[0].amount"), "{errors:?}");
    // the line sum no longer matches the subtotal either
    assert!(errors.contains(&"$.subtotal"), "{errors:?}");
    assert!(
        report
            .problems
            .iter()
            .all(|p| p.severity == Severity::Error || p.severity == Severity::Warning)
    );
}

#[test]
fn total_mismatch_is_a_warning_not_an_error() {
    let bad = INVOICE.replace(r#""total": "26.00""#, r#""total": "30.00""#);
    let report = from_json(bad.as_bytes())
        .map(|d| d.validate())
        .unwrap_or_default();
    assert!(!report.has_errors(), "{:?}", report.problems);
    assert_eq!(
        report
            .warnings()
            .map(|p| p.path.as_str())
            .collect::<Vec<_>>(),
        ["$.total"]
    );
    assert_eq!(Decimal::new(2600, 2).to_string(), "26.00");
}

/// Coupa's limits hold only for a document that goes on to Coupa: exactly 40 characters of
/// invoice number and 1,550 of description pass, one more is refused, as is a line without a
/// description.
/// Coupa takes taxes on the lines or on the invoice: with both, the invoice's were dropped
/// on the way and Coupa held less tax than billed. Refused for Coupa, saying what to do; a
/// header tax that restates the lines' sum (an X12 summary TXI) loses nothing and passes.
#[test]
fn taxes_on_both_the_invoice_and_its_lines_are_refused_for_coupa() {
    let to_coupa = gateway_model::ValidationContext {
        to_coupa: true,
        ..Default::default()
    };
    let with_taxes = |header: &str, line: &str| {
        let text = INVOICE
            .replace(
                r#""subtotal": "26.00""#,
                &format!(r#""taxes": [{{"amount": "{header}"}}], "subtotal": "26.00""#),
            )
            .replacen(
                r#""amount": "21.00"}"#,
                &format!(r#""amount": "21.00", "taxes": [{{"amount": "{line}"}}]}}"#),
                1,
            );
        from_json(text.as_bytes()).unwrap()
    };
    let both = with_taxes("2.00", "1.00");
    let errors: Vec<String> = both
        .validate_in(to_coupa)
        .errors()
        .map(|p| format!("{} {}", p.path, p.message))
        .collect();
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("$.taxes ") && e.contains("not both")),
        "{errors:?}"
    );
    // Not for Coupa (converting a file), nothing is lost: no error of this kind.
    assert!(
        !both
            .validate_in(Default::default())
            .errors()
            .any(|p| p.message.contains("not both"))
    );
    // A header tax equal to the lines' sum only restates it.
    let summary = with_taxes("1.00", "1.00");
    assert!(
        !summary
            .validate_in(to_coupa)
            .errors()
            .any(|p| p.message.contains("not both"))
    );
}

#[test]
fn coupa_limits_hold_for_documents_that_go_to_coupa() {
    let to_coupa = gateway_model::ValidationContext {
        to_coupa: true,
        ..Default::default()
    };
    let mut doc = from_json(INVOICE.as_bytes()).unwrap();
    let gateway_model::Document::Invoice(inv) = &mut doc else {
        panic!("not an invoice")
    };
    inv.invoice_number = Some("N".repeat(40).into());
    inv.lines[0].description = Some("d".repeat(1550).into());
    inv.lines[1].description = Some("Bolts".into());
    assert!(!doc.validate_in(to_coupa).has_errors());
    let gateway_model::Document::Invoice(inv) = &mut doc else {
        panic!("not an invoice")
    };
    inv.invoice_number = Some("N".repeat(41).into());
    inv.lines[0].description = Some("é".repeat(1551).into());
    let errors = |d: &gateway_model::Document, cx| {
        d.validate_in(cx)
            .errors()
            .map(|p| format!("{} {}", p.path, p.message))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        errors(&doc, to_coupa),
        [
            "$.invoice_number too long: the invoice number is 41 characters; Coupa takes at most 40",
            "$.lines[0].description too long: the description is 1551 characters; Coupa takes at most 1550"
        ]
    );
    let gateway_model::Document::Invoice(inv) = &mut doc else {
        panic!("not an invoice")
    };
    inv.invoice_number = Some("INV-1".into());
    inv.lines[0].description = Some("  ".into());
    assert_eq!(
        errors(&doc, to_coupa),
        ["$.lines[0].description missing: Coupa requires a description on every invoice line"]
    );
    assert!(errors(&doc, gateway_model::ValidationContext::default()).is_empty());
}

/// QA: a cXML invoice of 6,000 lines was answered "accepted" and then died at Coupa ("too
/// many lines"). Bound for Coupa, an invoice of more lines than it takes is refused on
/// `$.lines`, saying the limit and what to do; one of exactly the limit passes, and nothing
/// is said of the count when the invoice does not go to Coupa.
#[test]
fn an_invoice_of_more_lines_than_coupa_takes_is_refused_for_coupa() {
    use gateway_model::COUPA_MAX_INVOICE_LINES as MAX;
    let to_coupa = gateway_model::ValidationContext {
        to_coupa: true,
        ..Default::default()
    };
    let with_lines = |n: usize| {
        let mut doc = from_json(INVOICE.as_bytes()).unwrap();
        let Document::Invoice(inv) = &mut doc else {
            panic!("not an invoice")
        };
        let mut line = inv.lines[1].clone();
        line.description = Some("Bolts".into());
        inv.lines = vec![line; n];
        let sum = inv.lines.iter().filter_map(|l| l.amount).sum();
        inv.subtotal = Some(sum);
        inv.total = Some(sum);
        doc
    };
    let errors = |d: &Document, cx| {
        d.validate_in(cx)
            .errors()
            .map(|p| format!("{} {}", p.path, p.message))
            .collect::<Vec<_>>()
    };
    assert!(errors(&with_lines(MAX), to_coupa).is_empty());
    let over = with_lines(MAX + 1);
    assert_eq!(
        errors(&over, to_coupa),
        [format!(
            "$.lines the invoice has {} lines; Coupa takes at most {MAX} on one invoice: send \
             it as several invoices of at most {MAX} lines each",
            MAX + 1
        )]
    );
    assert_eq!(MAX, 5_000);
    assert!(errors(&over, gateway_model::ValidationContext::default()).is_empty());
}

#[test]
fn an_invoice_without_a_supplier_needs_a_partner_that_names_one() {
    let json = to_json_line(&from_json(INVOICE.as_bytes()).unwrap());
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value.as_object_mut().unwrap().remove("supplier");
    let doc = from_json(value.to_string().as_bytes()).unwrap();
    let unknown = doc.validate();
    let errors: Vec<&str> = unknown.errors().map(|p| p.message.as_str()).collect();
    assert_eq!(
        errors,
        [
            "missing: the supplier is required (name it in the document, or set coupa_supplier in the sender's partner profile)"
        ]
    );
    // A partner profile that names its Coupa supplier makes it deliverable, with a warning.
    let known = doc.validate_in(gateway_model::ValidationContext {
        supplier_from_partner: true,
        ..Default::default()
    });
    assert!(!known.has_errors(), "{:?}", known.problems);
    assert_eq!(
        known
            .warnings()
            .map(|p| (p.path.as_str(), p.message.as_str()))
            .collect::<Vec<_>>(),
        [(
            "$.supplier",
            "no supplier party; the partner profile's Coupa supplier is used"
        )]
    );
}

/// A date is refused at its path naming the contract's form: chrono's own reader answered
/// "trailing input" for a timestamp and "input is out of range" for 30 February, and took
/// `"2026-3-5"`.
#[test]
fn dates_outside_the_documented_form_are_refused_where_they_are_naming_the_form() {
    let field = r#""invoice_date": "2026-01-31""#;
    assert!(INVOICE.contains(field));
    for text in [
        "2026-03-15T23:30:00-05:00",
        "20260315",
        "2026-02-30",
        "2026-13-01",
        "2026-3-5",
    ] {
        let bad = INVOICE.replacen(field, &format!(r#""invoice_date": "{text}""#), 1);
        let Some(err) = from_json(bad.as_bytes()).err() else {
            panic!("{text:?} was accepted");
        };
        assert_eq!(err.location, "$.invoice_date", "{text}: {err}");
        assert!(
            err.message.contains(text) && err.message.contains("\"YYYY-MM-DD\""),
            "{text}: {err}"
        );
    }
    let null = INVOICE.replacen(field, r#""invoice_date": null"#, 1);
    assert!(from_json(null.as_bytes()).is_ok());
}

/// An invoice bound for Coupa without a currency, or with a quantity line without a price,
/// was acknowledged as accepted (the currency only warned "the receiver's default will
/// apply") and then died at Coupa ("Currency can't be blank", "Price can't be blank"): the
/// sender now hears it in its answer. Converting a file, they stay what they were.
#[test]
fn coupa_refuses_an_invoice_without_currency_or_a_quantity_line_without_price() {
    let to_coupa = gateway_model::ValidationContext {
        to_coupa: true,
        ..Default::default()
    };
    let mut doc = from_json(INVOICE.as_bytes()).unwrap();
    let gateway_model::Document::Invoice(inv) = &mut doc else {
        panic!("not an invoice")
    };
    for l in &mut inv.lines {
        l.description = Some("Bolts".into());
    }
    assert!(!doc.validate_in(to_coupa).has_errors());
    let gateway_model::Document::Invoice(inv) = &mut doc else {
        panic!("not an invoice")
    };
    inv.currency = None;
    inv.lines[1].unit_price = None;
    let errors: Vec<String> = doc
        .validate_in(to_coupa)
        .errors()
        .map(|p| format!("{} {}", p.path, p.message))
        .collect();
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("$.currency ") && e.contains("Coupa requires")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("$.lines[1].unit_price ") && e.contains("Coupa requires")),
        "{errors:?}"
    );
    let report = doc.validate_in(Default::default());
    assert!(
        !report
            .errors()
            .any(|p| p.message.contains("Coupa requires")),
        "not bound for Coupa"
    );
    // An amount line (no quantity) is sent at its amount and needs no price.
    let gateway_model::Document::Invoice(inv) = &mut doc else {
        panic!("not an invoice")
    };
    inv.currency = Some("USD".into());
    inv.lines[1].quantity = None;
    assert!(
        !doc.validate_in(to_coupa)
            .errors()
            .any(|p| p.path.starts_with("$.lines[1].unit_price")),
        "an amount line"
    );
}

/// A control character other than tab, line feed and carriage return (NUL, BEL) in a text
/// used to reach Coupa as sent: refused at its path for a document bound for Coupa, wherever
/// it is (a line's description, a party's name, an extension), and not for a file being
/// converted. Tab and line ends pass.
#[test]
fn control_characters_in_text_are_refused_for_coupa_at_their_path() {
    let to_coupa = gateway_model::ValidationContext {
        to_coupa: true,
        ..Default::default()
    };
    let coupa_ready = INVOICE
        .replace(
            r#""unit_price": "10.50""#,
            r#""unit_price": "10.50", "description": "Wid\u0000gets\u0007""#,
        )
        .replace(
            r#""unit_price": "5.00""#,
            r#""unit_price": "5.00", "description": "Bolts\tM8\r\nzinc""#,
        )
        .replace(r#""name": "Acme""#, r#""name": "Ac\u001bme""#)
        .replace(
            r#""total": "26.00""#,
            r#""total": "26.00", "extensions": {"note": ["ok", "bell\u0007"]}"#,
        );
    let doc = from_json(coupa_ready.as_bytes()).unwrap();
    let errors: Vec<(String, String)> = doc
        .validate_in(to_coupa)
        .errors()
        .map(|p| (p.path.clone(), p.message.clone()))
        .collect();
    let paths: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "$.extensions.note[1]",
            "$.lines[0].description",
            "$.supplier.name"
        ],
        "{errors:?}"
    );
    assert!(
        errors[1]
            .1
            .starts_with("holds the control character U+0000 (NUL) at character 4:"),
        "{errors:?}"
    );
    assert!(!doc.validate().has_errors(), "not bound for Coupa");
}

/// A purchase order a partner sends has nowhere to go (POs come from Coupa): refused, saying
/// which kinds are taken; read as a file (no partner) it is still a valid document.
#[test]
fn a_purchase_order_from_a_partner_is_refused_naming_what_is_taken() {
    let to_coupa = gateway_model::ValidationContext {
        to_coupa: true,
        ..Default::default()
    };
    let po = from_json(
        br#"{"schema_version": 1, "kind": "purchase_order", "po_number": "PO-7781",
             "order_date": "2026-03-01", "currency": "USD",
             "lines": [{"line_number": 1, "quantity": "1", "unit_price": "2.00"}]}"#,
    )
    .unwrap();
    assert!(!po.validate().has_errors(), "{:?}", po.validate());
    let report = po.validate_in(to_coupa);
    let errors: Vec<String> = report.errors().map(|p| p.to_string()).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("error: $.kind: a purchase_order is not taken from a partner")
            && errors[0].contains("of kind \"invoice\" only"),
        "{errors:?}"
    );
    assert_eq!(
        gateway_model::PARTNER_KINDS,
        [gateway_model::DocumentKind::Invoice]
    );
}
