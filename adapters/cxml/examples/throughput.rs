//! Quick throughput check without criterion: `cargo run --release -p adapter-cxml --example
//! throughput`. Prints MB/s decoding a large invoice and docs/s decoding small ones. The
//! criterion group `cxml` in `benches/` is the reference measurement.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use adapter_cxml::CxmlCodec;
use adapter_cxml::reader::{Limits, parse};
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Decimal, Document, Invoice, InvoiceLine, InvoicePurpose, Tax};

fn invoice(lines: u32) -> Invoice {
    let price = Decimal::new(1250, 2);
    Invoice {
        invoice_number: Some("INV-1".into()),
        invoice_date: Some("2026-03-15".parse().unwrap()),
        purpose: Some(InvoicePurpose::Standard),
        currency: Some("USD".into()),
        lines: (1..=lines)
            .map(|n| InvoiceLine {
                line_number: n,
                quantity: Some(Decimal::from(n % 7 + 1)),
                uom: Some("EA".into()),
                unit_price: Some(price),
                amount: Some(price * Decimal::from(n % 7 + 1)),
                description: Some(format!("Item number {n}, nitrile gloves & more")),
                supplier_part_id: Some(format!("SKU-{n:06}")),
                po_line_number: Some(n.to_string()),
                taxes: vec![Tax {
                    amount: Some(Decimal::new(103, 2)),
                    rate: Some(Decimal::new(825, 2)),
                    category: Some("sales".into()),
                    ..Tax::default()
                }],
                ..InvoiceLine::default()
            })
            .collect(),
        ..Invoice::default()
    }
}

fn main() {
    let partner = PartnerProfile::from_toml(
        "id = \"b\"\n[cxml]\nfrom_domain = \"D\"\nfrom_identity = \"1\"\nto_domain = \"N\"\nto_identity = \"2\"\n",
        "b.toml",
    )
    .unwrap();
    let codec = CxmlCodec::default();
    let large = codec
        .encode(&[Document::Invoice(invoice(5_000))], &partner)
        .unwrap();
    let mb = large.len() as f64 / 1e6;
    let rounds = 20;
    let t = Instant::now();
    for _ in 0..rounds {
        let d = codec.decode(&large, &partner);
        assert_eq!(d.documents.len(), 1);
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "decode large invoice ({mb:.2} MB, 5000 lines): {:.1} MB/s",
        mb * rounds as f64 / s
    );
    let t = Instant::now();
    for _ in 0..rounds {
        let p = parse(&large, &Limits::default());
        assert_eq!(p.trees.len(), 1);
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "reader only, same bytes: {:.1} MB/s",
        mb * rounds as f64 / s
    );
    let doc = [Document::Invoice(invoice(5_000))];
    let t = Instant::now();
    for _ in 0..rounds {
        let _ = codec.encode(&doc, &partner).unwrap();
    }
    let s = t.elapsed().as_secs_f64();
    println!("encode large invoice: {:.1} MB/s", mb * rounds as f64 / s);
    let small = codec
        .encode(&[Document::Invoice(invoice(3))], &partner)
        .unwrap();
    let n = 20_000;
    let t = Instant::now();
    for _ in 0..n {
        let d = codec.decode(&small, &partner);
        assert_eq!(d.documents.len(), 1);
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "decode small invoices ({} bytes, 3 lines): {:.0} docs/s, {:.1} MB/s",
        small.len(),
        n as f64 / s,
        small.len() as f64 * n as f64 / s / 1e6
    );
}
