//! The shared corpus (CSV written by others): no panic with or without a column map, and
//! the supplier-style files give documents once their partner has a column map.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use adapter_csv::CsvCodec;
use gateway_core::testkit::{corpus_or_skip, files_under};
use gateway_core::{Decode, Decoded, PartnerProfile};
use gateway_model::Document;

fn read(name: &str) -> Option<Vec<u8>> {
    let dir = corpus_or_skip("csv", "csv corpus").unwrap()?;
    Some(std::fs::read(dir.join(name)).unwrap())
}

fn decode(raw: &[u8], profile: &str) -> Decoded {
    let p = PartnerProfile::from_toml(profile, "test.toml").unwrap();
    CsvCodec.decode(raw, &p)
}

#[test]
fn every_corpus_file_decodes_without_panic() {
    let Some(dir) = corpus_or_skip("csv", "every_corpus_file_decodes_without_panic").unwrap()
    else {
        return;
    };
    let root = dir.parent().unwrap().to_path_buf();
    let mapped = PartnerProfile::from_toml(BOTS, "bots.toml").unwrap();
    let mut seen = 0;
    // Every file of the corpus, CSV or not, through the CSV decoder: never a panic, and
    // always documents or located rejects.
    for file in files_under(&root) {
        let raw = std::fs::read(&file).unwrap();
        for p in [&PartnerProfile::anonymous(), &mapped] {
            let d = catch_unwind(AssertUnwindSafe(|| CsvCodec.decode(&raw, p)))
                .unwrap_or_else(|_| panic!("{} panicked", file.display()));
            assert!(
                !d.documents.is_empty() || !d.rejects.is_empty(),
                "{}: nothing came out",
                file.display()
            );
            assert!(
                d.rejects
                    .iter()
                    .all(|r| r.location.starts_with("row ") || r.location.starts_with("partner"))
            );
        }
        seen += 1;
    }
    assert!(seen >= 4, "only {seen} corpus files");
}

const BOTS: &str = r#"
id = "bots"
[csv]
kind = "purchase_order"
has_header = false
date_format = "%Y%m%d"
columns = [
  { column = "5", field = "po_number" },
  { column = "6", field = "order_date" },
  { column = "11", field = "buyer.ids.GLN" },
  { column = "14", field = "supplier.ids.GLN" },
  { column = "16", field = "lines.need_by" },
  { column = "26", field = "lines.line_number" },
  { column = "27", field = "lines.buyer_part_id" },
  { column = "30", field = "lines.quantity" },
]
"#;

#[test]
fn bots_order_lines_group_into_orders() {
    let Some(raw) = read("bots-edi__bots-plugins__test.csv") else {
        return;
    };
    let d = decode(&raw, BOTS);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let numbers: Vec<&str> = d.documents.iter().map(|d| d.document.number()).collect();
    assert_eq!(
        numbers,
        ["BGMREF", "1-4500094289", "1-4500094290", "1-4500094291"]
    );
    let Document::PurchaseOrder(first) = &d.documents[0].document else {
        panic!()
    };
    assert_eq!(first.lines.len(), 4);
    assert_eq!(first.order_date.unwrap().to_string(), "2005-08-19");
    assert_eq!(
        first.lines[1].buyer_part_id.as_deref(),
        Some("8712345005009")
    );
    assert_eq!(first.lines[0].need_by.unwrap().to_string(), "2005-08-29");
    let Document::PurchaseOrder(last) = &d.documents[3].document else {
        panic!()
    };
    assert_eq!(last.lines[0].quantity.unwrap().to_string(), "9.000");
}

const OCA: &str = r#"
id = "oca"
[csv]
kind = "purchase_order"
has_header = false
columns = [
  { column = "1", field = "lines.supplier_part_id" },
  { column = "2", field = "lines.quantity" },
]
"#;

#[test]
fn oca_product_lines_are_one_order() {
    for name in [
        "OCA__edi__order_file_test1.csv",
        "OCA__edi__order_file_test1_update.csv",
    ] {
        let Some(raw) = read(name) else { return };
        let d = decode(&raw, OCA);
        assert!(d.rejects.is_empty(), "{name}: {:?}", d.rejects);
        assert_eq!(d.documents.len(), 1, "{name}");
        let Document::PurchaseOrder(po) = &d.documents[0].document else {
            panic!()
        };
        assert_eq!(po.lines.len(), 3, "{name}");
    }
    let raw = read("OCA__edi__order_file_test1.csv").unwrap();
    let d = decode(&raw, OCA);
    let Document::PurchaseOrder(po) = &d.documents[0].document else {
        panic!()
    };
    assert_eq!(po.lines[2].supplier_part_id.as_deref(), Some("M-Opt"));
    assert_eq!(po.lines[2].quantity.unwrap().to_string(), "5");
}

const INVOICE2DATA: &str = r#"
id = "i2d"
[csv]
kind = "invoice"
grouping = "row"
date_format = "%d/%m/%Y"
columns = [
  { column = "date", field = "invoice_date" },
  { column = "desc", field = "lines.description" },
  { column = "currency", field = "currency" },
  { column = "amount", field = "total" },
  { column = "amount", field = "lines.amount" },
]
"#;

#[test]
fn invoice2data_summary_rows_are_invoices() {
    let Some(raw) = read("invoice-x__invoice2data__invoices-output.csv") else {
        return;
    };
    let d = decode(&raw, INVOICE2DATA);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    assert_eq!(d.documents.len(), 4);
    let Document::Invoice(third) = &d.documents[2].document else {
        panic!()
    };
    assert_eq!(third.invoice_date.unwrap().to_string(), "2015-01-28");
    assert_eq!(third.currency.as_deref(), Some("EUR"));
    assert_eq!(third.total.unwrap().to_string(), "101.0");
    assert_eq!(third.lines[0].amount.unwrap().to_string(), "101.0");
}

#[test]
fn without_a_column_map_the_supplier_files_are_one_located_reject_each() {
    for name in [
        "bots-edi__bots-plugins__test.csv",
        "OCA__edi__order_file_test1.csv",
        "invoice-x__invoice2data__invoices-output.csv",
    ] {
        let Some(raw) = read(name) else { return };
        let d = CsvCodec.decode(&raw, &PartnerProfile::anonymous());
        assert!(d.documents.is_empty(), "{name}");
        assert_eq!(d.rejects.len(), 1, "{name}");
        assert_eq!(d.rejects[0].location, "row 1", "{name}");
    }
}
