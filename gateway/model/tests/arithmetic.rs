//! Validation of a document's amounts at the edge of what a decimal holds, and of its line
//! numbers: every sum or product past `Decimal::MAX` is an error at the value that went past,
//! never a panic (a panic here stopped the file drop for every partner), and a repeated line
//! number is a warning.
// A helper may panic too: a failure is the point.
#![allow(clippy::panic)]

use gateway_model::{Document, Problem, Severity, ValidationContext, from_json};

/// The largest decimal, as a partner may write it (28 digits).
const MAX: &str = "79228162514264337593543950335";

/// An invoice of two lines with the given (quantity, unit price, amount) and header fields.
fn invoice(lines: &[(&str, &str, Option<&str>)], header: &str) -> Document {
    let lines: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, (q, p, a))| {
            let amount = a.map(|a| format!(r#", "amount": "{a}""#)).unwrap_or_default();
            format!(
                r#"{{"line_number": {}, "quantity": "{q}", "uom": "EA", "unit_price": "{p}"{amount}, "description": "Gloves"}}"#,
                i + 1
            )
        })
        .collect();
    let text = format!(
        r#"{{"schema_version": 1, "kind": "invoice", "invoice_number": "OVF-1", "invoice_date": "2026-04-01", "currency": "USD", "supplier": {{"name": "Acme"}}, "lines": [{}]{header}}}"#,
        lines.join(", ")
    );
    match from_json(text.as_bytes()) {
        Ok(d) => d,
        Err(e) => panic!("{e}: {text}"),
    }
}

/// Every problem of `doc`, validated both ways (knowing nothing, and bound for Coupa): one
/// list, which must be the same for the arithmetic either way.
fn problems(doc: &Document) -> Vec<Problem> {
    let plain = doc.validate().problems;
    let to_coupa = doc
        .validate_in(ValidationContext {
            to_coupa: true,
            ..Default::default()
        })
        .problems;
    for p in plain.iter().filter(|p| p.message.contains("can hold")) {
        assert!(to_coupa.contains(p), "{p} missing for Coupa: {to_coupa:?}");
    }
    plain
}

fn error_at<'a>(problems: &'a [Problem], path: &str) -> Option<&'a Problem> {
    problems
        .iter()
        .find(|p| p.severity == Severity::Error && p.path == path)
}

/// QA: a dropped file whose two lines each had unit price and amount 79228162514264337593543950335
/// panicked adding them ("Addition overflowed") and stopped the file drop. Now the second
/// line's amount is where the sum went past, an error the sender reads.
#[test]
fn line_amounts_adding_up_past_what_a_decimal_holds_are_an_error_at_the_line() {
    let doc = invoice(
        &[("1", MAX, Some(MAX)), ("1", MAX, Some(MAX))],
        r#", "subtotal": "215.00", "total": "245.74""#,
    );
    let found = problems(&doc);
    let p = error_at(&found, "$.lines[1].amount");
    assert!(
        p.is_some_and(
            |p| p.message.contains("more than an amount can hold") && p.message.contains(MAX)
        ),
        "{found:?}"
    );
    // The first line alone fits: nothing said of it.
    assert!(error_at(&found, "$.lines[0].amount").is_none(), "{found:?}");
}

/// Taxes, charges and the total they make with the lines overflow alike, each at its place;
/// two huge amounts of opposite signs compared (subtotal against the lines) differ.
#[test]
fn taxes_charges_and_totals_past_what_a_decimal_holds_are_errors_where_they_go_past() {
    let taxes = invoice(
        &[("1", "10", Some("10"))],
        &format!(r#", "taxes": [{{"amount": "{MAX}"}}, {{"amount": "1"}}]"#),
    );
    let found = problems(&taxes);
    assert!(
        error_at(&found, "$.taxes[1].amount").is_some_and(|p| p.message.contains("can hold")),
        "{found:?}"
    );

    let charges = invoice(
        &[("1", "10", Some("10"))],
        &format!(
            r#", "charges": [{{"kind": "shipping", "amount": "{MAX}"}}, {{"kind": "handling", "amount": "{MAX}"}}]"#
        ),
    );
    let found = problems(&charges);
    assert!(
        error_at(&found, "$.charges[1].amount").is_some_and(|p| p.message.contains("can hold")),
        "{found:?}"
    );

    // Each sum fits; lines + taxes + charges does not.
    let total = invoice(
        &[("1", MAX, Some(MAX))],
        &format!(r#", "taxes": [{{"amount": "{MAX}"}}], "subtotal": "{MAX}", "total": "1.00""#),
    );
    let found = problems(&total);
    assert!(
        error_at(&found, "$.total").is_some_and(|p| p.message.contains("can hold")),
        "{found:?}"
    );

    let opposite = invoice(
        &[("1", MAX, Some(MAX))],
        &format!(r#", "subtotal": "-{MAX}""#),
    );
    let found = problems(&opposite);
    assert!(
        error_at(&found, "$.subtotal").is_some_and(|p| p.message.contains("does not equal")),
        "{found:?}"
    );
}

/// QA: quantity 9999999999999999999999999999 × unit price 99999 with an amount of 125.00
/// skipped the line-amount check (the product did not fit) and reached Coupa. The amount
/// cannot equal the product: refused at the amount; without an amount, at the quantity.
#[test]
fn a_quantity_times_price_past_what_a_decimal_holds_is_refused_at_the_line() {
    let nines = "9999999999999999999999999999";
    let with_amount = invoice(
        &[
            (nines, "99999", Some("125.00")),
            ("2", "45.00", Some("90.00")),
        ],
        "",
    );
    let found = problems(&with_amount);
    assert!(
        error_at(&found, "$.lines[0].amount").is_some_and(|p| p.message.contains("does not equal")
            && p.message.contains(nines)
            && p.message.contains("can hold")),
        "{found:?}"
    );

    let without_amount = invoice(&[(nines, "99999", None), ("2", "45.00", Some("90.00"))], "");
    let found = problems(&without_amount);
    assert!(
        error_at(&found, "$.lines[0].quantity").is_some_and(|p| p.message.contains("can hold")),
        "{found:?}"
    );
}

/// QA: two lines numbered 1 were taken without a word. Coupa is not known to refuse them,
/// so it is a warning at the second line, the same for every channel (each reader gives its
/// source's number to the model); numbers of their own say nothing.
#[test]
fn a_repeated_line_number_is_a_warning_at_the_line_that_repeats_it() {
    let text = |second: u32| {
        format!(
            r#"{{"schema_version": 1, "kind": "invoice", "invoice_number": "DUP-1", "invoice_date": "2026-04-01", "currency": "USD", "supplier": {{"name": "Acme"}}, "lines": [{{"line_number": 1, "quantity": "1", "unit_price": "5", "amount": "5", "description": "A"}}, {{"line_number": {second}, "quantity": "1", "unit_price": "5", "amount": "5", "description": "B"}}]}}"#
        )
    };
    let Ok(repeated) = from_json(text(1).as_bytes()) else {
        panic!("not read");
    };
    let found = problems(&repeated);
    let warning = found
        .iter()
        .find(|p| p.path == "$.lines[1].line_number")
        .map(|p| (p.severity, p.message.clone()));
    assert!(
        warning
            .as_ref()
            .is_some_and(|(s, m)| *s == Severity::Warning
                && m.contains("line number 1")
                && m.contains("$.lines[0]")),
        "{found:?}"
    );
    assert!(!repeated.validate().has_errors(), "{found:?}");

    let Ok(distinct) = from_json(text(2).as_bytes()) else {
        panic!("not read");
    };
    assert!(
        !distinct
            .validate()
            .problems
            .iter()
            .any(|p| p.path.ends_with("line_number")),
    );
}
