//! Where a canonical path lives in a decoded X12 set ([`gateway_core::Decode::source_path`]):
//! the segment and element CANONICAL.md maps the field to (`$.invoice_number` → `BIG02`), a
//! line's at the position in its set of its IT1/PO1 that the reading loop recorded while it
//! read (`$.lines[0].quantity` → `IT102 of the IT1 at segment 5 of the set`; one number per
//! line, no text), or by its loop's place when none was recorded (`IT102 of IT1 loop 1 of
//! the set`). The set itself is named by the document's location (`line 3, interchange
//! 000000043, group 43, set 0001`), so positions count from its ST, as AK302 does.

use gateway_core::SourceMeta;
use gateway_core::codec::{PathStep, path_steps};
use gateway_model::Document;

/// The segments and elements one set kind reads its fields from.
struct Shape {
    number: &'static str,
    date: &'static str,
    purpose: &'static str,
    /// The line segment (IT1, PO1).
    line: &'static str,
}

const INVOICE: Shape = Shape {
    number: "BIG02",
    date: "BIG01",
    purpose: "BIG07",
    line: "IT1",
};

const ORDER: Shape = Shape {
    number: "BEG03",
    date: "BEG05",
    purpose: "BEG01",
    line: "PO1",
};

/// Where `json_path` of `document` is in its set, in words.
pub(crate) fn source_path(
    document: &Document,
    meta: &SourceMeta,
    json_path: &str,
) -> Option<String> {
    let steps = path_steps(json_path)?;
    let Some((first, rest)) = steps.split_first() else {
        return Some("the transaction set".into());
    };
    let (shape, invoice) = match document {
        Document::Invoice(_) => (&INVOICE, true),
        Document::PurchaseOrder(_) => (&ORDER, false),
    };
    let lines = match document {
        Document::Invoice(i) => i.lines.len(),
        Document::PurchaseOrder(p) => p.lines.len(),
    };
    Some(match (first.name, first.index, rest) {
        ("invoice_number", None, []) if invoice => shape.number.into(),
        ("po_number", None, []) if !invoice => shape.number.into(),
        ("po_number", None, []) => "BIG04".into(),
        ("invoice_date" | "order_date", None, []) => shape.date.into(),
        ("purpose", None, []) => shape.purpose.into(),
        ("version", None, []) if !invoice => "REF02 of the heading's REF*PP".into(),
        ("currency", None, []) => "CUR02 of the heading's CUR".into(),
        ("supplier", None, _) => party("SU", rest)?,
        ("buyer", None, _) => party("BY", rest)?,
        ("bill_to", None, _) => party("BT", rest)?,
        ("remit_to", None, _) if invoice => party("RI", rest)?,
        ("ship_to", None, _) => party("ST", rest)?,
        ("payment_terms", None, _) => terms(rest)?,
        ("comments", None, []) => "NTE02 of the heading's NTE".into(),
        ("lines", None, []) => format!("the {} loops", shape.line),
        ("lines", Some(i), _) if i < lines => line(shape, meta.places.lines.get(i), i, rest)?,
        ("taxes", _, []) => "TXI outside the line loops".into(),
        ("charges", _, _) => "SAC outside the line loops".into(),
        ("total", None, []) if invoice => "TDS01 (two implied decimals)".into(),
        ("total", None, []) => "AMT02 of AMT*TT".into(),
        ("extensions", None, [x12, elements, element])
            if x12.name == "x12" && elements.name == "elements" =>
        {
            element.name.to_string()
        }
        _ => return None,
    })
}

/// Where field `rest` of line `i` is: an element of its IT1/PO1 (at position `at` in the
/// set when recorded) or a segment of its loop.
fn line(shape: &Shape, at: Option<&u32>, i: usize, rest: &[PathStep<'_>]) -> Option<String> {
    let l = shape.line;
    let segment = match at {
        Some(p) => format!("the {l} at segment {p} of the set"),
        None => format!("{l} loop {} of the set", i + 1),
    };
    let Some((field, under)) = rest.split_first() else {
        return Some(segment);
    };
    let element = |n: u8| Some(format!("{l}{n:02} of {segment}"));
    let in_loop = |what: &str| Some(format!("{what} in the loop of {segment}"));
    match (field.name, field.index, under) {
        ("line_number", None, []) => element(1),
        ("quantity", None, []) => element(2),
        ("uom", None, []) => element(3),
        ("unit_price", None, []) => element(4),
        ("amount", None, []) => Some(format!("{l}02 × {l}04 of {segment}")),
        ("description", None, []) => in_loop("PID05"),
        ("supplier_part_id", None, []) => Some(format!("the VP (or VN, SK) id pair of {segment}")),
        ("buyer_part_id", None, []) => Some(format!("the BP (or IN) id pair of {segment}")),
        ("po_line_number", None, []) => Some(format!("the PL id pair of {segment}")),
        ("po_number", None, []) => Some(format!("the PO id pair or REF*PO of {segment}")),
        ("need_by", None, []) => in_loop("DTM02 of DTM*002"),
        ("taxes", _, []) => in_loop("TXI"),
        ("charges", _, _) => in_loop("SAC"),
        _ => None,
    }
}

/// A party's N1 loop (N101 `code`), and the element of its field `rest`.
fn party(code: &str, rest: &[PathStep<'_>]) -> Option<String> {
    let at = format!("the N1*{code} loop");
    let Some((field, under)) = rest.split_first() else {
        return Some(at);
    };
    let element = match (field.name, under) {
        ("name", []) => "N102",
        ("ids", _) => "N103/N104 (and REF*ZZ)",
        ("address", []) => "N3/N4",
        ("address", [part, ..]) => match part.name {
            "lines" => "N301",
            "city" => "N401",
            "region" => "N402",
            "postal_code" => "N403",
            "country" => "N404",
            _ => "N3/N4",
        },
        ("contact" | "email" | "phone", []) => "PER",
        _ => return None,
    };
    Some(format!("{element} of {at}"))
}

/// The heading's ITD, and the element of field `rest`.
fn terms(rest: &[PathStep<'_>]) -> Option<String> {
    let element = match rest.first().map(|s| s.name) {
        None => return Some("the heading's ITD".into()),
        Some("description") => "ITD12",
        Some("net_days") => "ITD07",
        Some("discount_percent") => "ITD03",
        Some("discount_days") => "ITD05",
        Some(_) => return None,
    };
    Some(format!("{element} of the heading's ITD"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use gateway_core::{Decode, PartnerProfile};
    use gateway_model::{Invoice, InvoiceLine, OrderLine, PurchaseOrder};

    /// Fields CANONICAL.md maps that an 810 has no element for (the subtotal and the tax
    /// total are the lines' and taxes' sums).
    const NOT_IN_X12: &[&str] = &["$.subtotal", "$.tax_total"];

    fn invoice() -> Document {
        Document::Invoice(Invoice {
            lines: vec![InvoiceLine::default()],
            ..Invoice::default()
        })
    }

    fn order() -> Document {
        Document::PurchaseOrder(PurchaseOrder {
            lines: vec![OrderLine::default()],
            ..PurchaseOrder::default()
        })
    }

    #[test]
    fn every_mapped_invoice_and_order_field_has_an_x12_place() {
        let meta = SourceMeta::default();
        for (doc, fields) in [
            (invoice(), gateway_core::testkit::CANONICAL_INVOICE_PATHS),
            (order(), gateway_core::testkit::CANONICAL_ORDER_PATHS),
        ] {
            for field in fields.iter().filter(|f| !NOT_IN_X12.contains(f)) {
                let at = source_path(&doc, &meta, field);
                assert!(
                    at.as_deref().is_some_and(|a| !a.is_empty()),
                    "{} {field}: {at:?}",
                    doc.kind()
                );
            }
        }
    }

    #[test]
    fn the_mapping_table_names_the_elements_canonical_md_names() {
        let meta = SourceMeta::default();
        let inv = invoice();
        let at = |p: &str| source_path(&inv, &meta, p).unwrap();
        assert_eq!(at("$.invoice_number"), "BIG02");
        // An element kept in the extensions (a cancellation's BIG08) is named too.
        assert!(source_path(&inv, &meta, "$.extensions.x12.elements.BIG08").is_some());
        assert_eq!(at("$.invoice_date"), "BIG01");
        assert_eq!(at("$.po_number"), "BIG04");
        assert_eq!(at("$.lines[0].quantity"), "IT102 of IT1 loop 1 of the set");
        assert_eq!(at("$.supplier.name"), "N102 of the N1*SU loop");
        assert_eq!(at("$.total"), "TDS01 (two implied decimals)");
        let po = order();
        assert_eq!(source_path(&po, &meta, "$.po_number").unwrap(), "BEG03");
        assert_eq!(
            source_path(&po, &meta, "$.lines[0].unit_price").unwrap(),
            "PO104 of PO1 loop 1 of the set"
        );
        for unknown in [
            "$.lines[3].quantity",
            "$.subtotal",
            "$.remit_to.bogus",
            "no path",
        ] {
            assert_eq!(source_path(&inv, &meta, unknown), None, "{unknown}");
        }
    }

    /// The reading loop records where each line's IT1 is in its set, on both decoders.
    #[test]
    fn decoded_lines_are_located_at_their_segment_in_the_set() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../samples/x12/invoice/multi_po.edi"
        );
        let raw = std::fs::read(path).unwrap();
        let text = String::from_utf8(raw.clone()).unwrap();
        // Positions counted from ST (1), as AK302 counts them.
        let set: Vec<&str> = text
            .split('~')
            .map(str::trim)
            .skip_while(|s| !s.starts_with("ST*"))
            .collect();
        let expected: Vec<u32> = set
            .iter()
            .enumerate()
            .filter(|(_, s)| s.starts_with("IT1*"))
            .map(|(k, _)| k as u32 + 1)
            .collect();
        assert_eq!(expected.len(), 3);
        for threads in [1, 3] {
            let codec =
                crate::X12Codec::new().with_parallelism(crate::Parallelism { threads, batch: 1 });
            let decoded = codec.decode(&raw, &PartnerProfile::anonymous());
            let d = &decoded.documents[0];
            assert_eq!(d.meta.places.lines, expected);
            assert_eq!(
                codec.source_path(&d.document, &d.meta, "$.lines[2].quantity"),
                Some(format!(
                    "IT102 of the IT1 at segment {} of the set",
                    expected[2]
                ))
            );
            assert_eq!(
                codec
                    .source_path(&d.document, &d.meta, "$.lines[1].description")
                    .as_deref(),
                Some(
                    format!(
                        "PID05 in the loop of the IT1 at segment {} of the set",
                        expected[1]
                    )
                    .as_str()
                )
            );
        }
    }
}
