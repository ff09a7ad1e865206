//! `Encode::left_out` for CSV: every field of the rich samples either comes back through
//! CSV → canonical JSON or is named, for Coupa's layouts and a partner's column map.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use adapter_csv::CsvCodec;
use common::canonical;
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, to_json_line};
use serde_json::Value;

fn repo() -> std::path::PathBuf {
    gateway_core::testkit::repo_root()
}

/// The rich samples of every format, as canonical documents.
fn rich() -> Vec<Document> {
    let mut out = Vec::new();
    for p in [
        "samples/json/invoice/rich.canonical.json",
        "samples/json/purchase_order/rich.canonical.json",
        "samples/cxml/invoice/rich.canonical.json",
        "samples/cxml/purchase_order/rich.canonical.json",
        "samples/x12/invoice/rich.canonical.json",
        "samples/x12/purchase_order/rich.canonical.json",
    ] {
        out.extend(canonical(&repo().join(p)));
    }
    out
}

/// Every leaf path of `v` at `path`, with its value.
fn leaves(path: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, v)| leaves(&format!("{path}.{k}"), v, out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(n, v)| leaves(&format!("{path}[{n}]"), v, out)),
        Value::Null => {}
        v => out.push((path.to_string(), v.clone())),
    }
}

/// `$.supplier.ids[1]` as the JSON pointer `/supplier/ids/1`.
fn pointer(path: &str) -> String {
    path.trim_start_matches('$')
        .replace(['.', '['], "/")
        .replace(']', "")
}

fn json(doc: &Document) -> Value {
    serde_json::from_str(&to_json_line(doc)).unwrap()
}

fn same(a: &Value, b: &Value) -> bool {
    a == b
        || matches!((a, b), (Value::String(x), Value::String(y))
            if gateway_model::parse_plain_decimal(x).is_some()
                && gateway_model::parse_plain_decimal(x) == gateway_model::parse_plain_decimal(y))
}

/// Asserts that every leaf of `doc` comes back through CSV under `partner`, or is named
/// (itself or a part holding it) by `named`; returns the names.
fn carried_or_named(doc: &Document, partner: &PartnerProfile, named: &[String]) {
    let Ok(bytes) = CsvCodec.encode(std::slice::from_ref(doc), partner) else {
        // Refused: `encode` says why, and nothing is written to lose.
        return;
    };
    let back = CsvCodec.decode(&bytes, partner);
    assert!(back.rejects.is_empty(), "{:?}", back.rejects);
    let got = json(&back.documents[0].document);
    let whole = json(doc);
    let mut sent = Vec::new();
    leaves("$", &whole, &mut sent);
    let mut got_leaves = Vec::new();
    leaves("$", &got, &mut got_leaves);
    let back_json = got;
    let got: std::collections::HashMap<_, _> = got_leaves.into_iter().collect();
    let paths: Vec<&str> = named
        .iter()
        .map(|n| n.split_once(": ").expect("path: why").0)
        .collect();
    for (path, value) in sent {
        if got.get(&path).is_some_and(|g| same(g, &value)) {
            continue;
        }
        // A party's ids are a set: an id written elsewhere in the list is carried.
        if let Some(at) = path.find(".ids[") {
            let end = at + path[at..].find(']').unwrap();
            let id = whole.pointer(&pointer(&path[..=end])).unwrap();
            let ids = back_json.pointer(&pointer(&path[..at + 4]));
            if ids
                .and_then(Value::as_array)
                .is_some_and(|a| a.contains(id))
            {
                continue;
            }
        }
        // A line's supplier auxiliary part id comes back in the CSV form, not the one it was
        // sent in: carried when the read-back line's id is this value.
        if let Some(n) = path
            .strip_prefix("$.lines[")
            .and_then(|rest| rest.split_once("].extensions."))
            .and_then(|(n, _)| n.parse::<usize>().ok())
        {
            let back = &back.documents[0].document;
            let ext = match back {
                Document::PurchaseOrder(po) => po.lines.get(n).map(|l| &l.extensions),
                Document::Invoice(inv) => inv.lines.get(n).map(|l| &l.extensions),
            };
            let id = ext.and_then(gateway_core::supplier_part_auxiliary_id);
            // The id itself, or an element of the X12 pair `[VS, id]` holding it.
            let pair = path
                .rfind('[')
                .filter(|_| path.contains(".x12.ids["))
                .and_then(|at| whole.pointer(&pointer(&path[..at])));
            let held = |id: &str| {
                value.as_str().map(str::trim) == Some(id)
                    || pair.is_some_and(|p| *p == serde_json::json!(["VS", id]))
            };
            if id.is_some_and(|(_, id)| held(id)) {
                continue;
            }
        }
        let covered = paths.iter().any(|p| {
            path == *p
                || path
                    .strip_prefix(p)
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        });
        assert!(
            covered,
            "{}: {path} = {value} is neither carried through CSV nor named; named: {named:#?}",
            doc.number()
        );
    }
}

#[test]
fn rich_samples_through_coupa_layouts_lose_nothing_unnamed() {
    for doc in rich() {
        let named = CsvCodec.left_out(&doc, &PartnerProfile::anonymous());
        assert_eq!(
            named,
            adapter_csv::left_out(&doc, &PartnerProfile::anonymous())
        );
        carried_or_named(&doc, &PartnerProfile::anonymous(), &named);
    }
}

#[test]
fn coupa_invoice_import_names_what_it_has_no_column_for() {
    let doc = &canonical(&repo().join("samples/json/invoice/rich.canonical.json"))[0];
    let named = CsvCodec.left_out(doc, &PartnerProfile::anonymous());
    let paths: Vec<&str> = named
        .iter()
        .map(|n| n.split_once(": ").unwrap().0)
        .collect();
    for want in [
        "$.payment_terms.net_days",
        "$.payment_terms.discount_percent",
        "$.payment_terms.discount_days",
    ] {
        assert!(paths.contains(&want), "{want} not in {named:#?}");
    }
    for want in [
        "$.supplier.contact",
        "$.supplier.email",
        "$.supplier.phone",
        "$.buyer.ids",
    ] {
        assert!(paths.contains(&want), "{want} not in {named:#?}");
    }
    // What the import writes is not named: the number, the lines' quantities and prices.
    for not in [
        "$.invoice_number",
        "$.lines[0].quantity",
        "$.lines[0].unit_price",
    ] {
        assert!(!paths.contains(&not), "{not} named: {named:#?}");
    }
}

#[test]
fn a_column_map_names_what_it_has_no_column_for() {
    let dir = repo().join("samples/csv/invoice");
    let partner = PartnerProfile::load(&dir.join("partner_sheet.partner.toml")).unwrap();
    let docs = canonical(&dir.join("partner_sheet.canonical.json"));
    // A document the map holds whole names nothing.
    for doc in &docs {
        assert_eq!(adapter_csv::left_out(doc, &partner), Vec::<String>::new());
    }
    // The map has no column for a supplier's city or a line's buyer part.
    let mut v = json(&docs[0]);
    v["supplier"]["address"] = serde_json::json!({"city": "Berlin"});
    v["lines"][0]["buyer_part_id"] = "B-1".into();
    let doc = gateway_model::from_json(v.to_string().as_bytes()).unwrap();
    let named = adapter_csv::left_out(&doc, &partner);
    let paths: Vec<&str> = named
        .iter()
        .map(|n| n.split_once(": ").unwrap().0)
        .collect();
    assert_eq!(
        paths,
        ["$.lines[0].buyer_part_id", "$.supplier.address"],
        "{named:#?}"
    );
    assert!(named[0].contains("column map"), "{named:#?}");
    carried_or_named(&doc, &partner, &named);
}

/// A PO of one line whose `extensions` are `ext`, as a reader of another format leaves it.
fn po_with_line_extensions(ext: Value) -> Document {
    let v = serde_json::json!({
        "schema_version": 1, "kind": "purchase_order", "po_number": "QA4-AUX",
        "order_date": "2026-03-01", "currency": "USD",
        "supplier": {"name": "Acme Industrial Supply"},
        "lines": [{"line_number": 1, "quantity": "2", "uom": "EA", "unit_price": "250.16",
                   "amount": "500.32", "description": "Punch-out item",
                   "supplier_part_id": "LS-100", "extensions": ext}]
    });
    gateway_model::from_json(v.to_string().as_bytes()).unwrap()
}

/// The paths `named` names.
fn paths(named: &[String]) -> Vec<&str> {
    named
        .iter()
        .map(|n| n.split_once(": ").expect("path: why").0)
        .collect()
}

#[test]
fn a_po_lines_auxiliary_part_id_from_any_reader_is_carried_not_named() {
    // Found by QA: `convert --to csv` named a Coupa line's `supp-aux-part-num` "not written"
    // though the PO layout writes it in its column of that name.
    let partner = PartnerProfile::anonymous();
    for ext in [
        serde_json::json!({"coupa": {"supp-aux-part-num": "AUX-9"}}),
        serde_json::json!({"cxml": {"supplier_part_auxiliary_id": "AUX-9"}}),
        serde_json::json!({"x12": {"ids": [["VS", "AUX-9"]]}}),
    ] {
        let doc = po_with_line_extensions(ext.clone());
        let csv = String::from_utf8(
            CsvCodec
                .encode(std::slice::from_ref(&doc), &partner)
                .unwrap(),
        )
        .unwrap();
        assert!(csv.contains("AUX-9"), "{ext}: the id is not in\n{csv}");
        let named = CsvCodec.left_out(&doc, &partner);
        assert_eq!(named, Vec::<String>::new(), "{ext}");
        carried_or_named(&doc, &partner, &named);
    }
}

#[test]
fn a_po_lines_auxiliary_part_id_that_is_not_written_is_named() {
    // A line with two ids that differ: the layout's one column holds the first (cXML's), so
    // Coupa's other one is lost, and only it is named.
    let partner = PartnerProfile::anonymous();
    let doc = po_with_line_extensions(serde_json::json!({
        "cxml": {"supplier_part_auxiliary_id": "AUX-9"},
        "coupa": {"supp-aux-part-num": "AUX-OTHER"},
    }));
    let named = CsvCodec.left_out(&doc, &partner);
    assert_eq!(paths(&named), ["$.lines[0].extensions.coupa"], "{named:#?}");
    carried_or_named(&doc, &partner, &named);

    // A partner's column map without a column for it does not write it.
    let dir = repo().join("samples/csv/purchase_order");
    let partner = PartnerProfile::load(&dir.join("partner_keyed.partner.toml")).unwrap();
    for (ext, path) in [
        (
            serde_json::json!({"coupa": {"supp-aux-part-num": "AUX-9"}}),
            "$.lines[0].extensions.coupa.supp-aux-part-num",
        ),
        (
            serde_json::json!({"x12": {"ids": [["VS", "AUX-9"]]}}),
            "$.lines[0].extensions.x12.ids[0]",
        ),
    ] {
        let doc = po_with_line_extensions(ext);
        let named = CsvCodec.left_out(&doc, &partner);
        let covering: Vec<&String> = named
            .iter()
            .filter(|n| {
                let p = n.split_once(": ").expect("path: why").0;
                path.strip_prefix(p)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
            })
            .collect();
        assert!(
            covering.iter().any(|n| n.contains("column map")),
            "{path} not named: {named:#?}"
        );
        carried_or_named(&doc, &partner, &named);
    }
}
