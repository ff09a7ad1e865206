//! criterion group `cxml`: decoding and encoding a large cXML invoice (thousands of lines) and
//! many small documents, reported as MB/s (bytes) and docs/s (elements). `reader_only` parses
//! the same bytes into the bounded element tree without mapping, to show what the mapping costs;
//! `serde_baseline_*` is quick-xml deserialising the same bytes into serde structs (the goal:
//! our decode at least 1.5× that).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cxml_serde;

use adapter_cxml::CxmlCodec;
use adapter_cxml::reader::{Limits, parse};
use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Charge, ChargeKind, Decimal, Document, Invoice, InvoiceLine, Party, Tax};

const LARGE_LINES: u32 = 5_000;
const SMALL_DOCS: usize = 500;

fn partner() -> PartnerProfile {
    PartnerProfile::from_toml(
        "id = \"bench\"\n[cxml]\nfrom_domain = \"DUNS\"\nfrom_identity = \"123456789\"\n\
         to_domain = \"NetworkID\"\nto_identity = \"AN01\"\nshared_secret = \"s\"\n",
        "bench.toml",
    )
    .unwrap()
}

fn invoice(lines: u32) -> Invoice {
    let price = Decimal::new(1250, 2);
    Invoice {
        invoice_number: Some(format!("INV-{lines}").into()),
        invoice_date: Some("2026-03-15".parse().unwrap()),
        purpose: Some(gateway_model::InvoicePurpose::Standard),
        po_number: Some("PO-1".into()),
        currency: Some("USD".into()),
        supplier: Some(Party {
            name: Some("Acme".into()),
            ..Party::default()
        }),
        lines: (1..=lines)
            .map(|n| InvoiceLine {
                line_number: n,
                quantity: Some(Decimal::from(n % 7 + 1)),
                uom: Some("EA".into()),
                unit_price: Some(price),
                amount: Some(price * Decimal::from(n % 7 + 1)),
                description: Some(format!("Item number {n}, nitrile gloves & more").into()),
                supplier_part_id: Some(format!("SKU-{n:06}").into()),
                po_line_number: Some(n.to_string().into()),
                taxes: vec![Tax {
                    amount: Some(Decimal::new(103, 2)),
                    rate: Some(Decimal::new(825, 2)),
                    category: Some("sales".into()),
                    ..Tax::default()
                }],
                ..InvoiceLine::default()
            })
            .collect(),
        charges: vec![Charge {
            kind: ChargeKind::Shipping,
            amount: Some(Decimal::new(1500, 2)),
            rate: None,
            category: None,
            description: None,
            code: None,
        }],
        ..Invoice::default()
    }
}

fn bench(c: &mut Criterion) {
    let codec = CxmlCodec::default();
    let partner = partner();
    let large_doc = vec![Document::Invoice(invoice(LARGE_LINES))];
    let large = codec.encode(&large_doc, &partner).unwrap();
    let small: Vec<Vec<u8>> = (0..SMALL_DOCS)
        .map(|_| {
            codec
                .encode(&[Document::Invoice(invoice(3))], &partner)
                .unwrap()
        })
        .collect();
    let small_bytes: usize = small.iter().map(Vec::len).sum();

    let mut g = c.benchmark_group("cxml");
    g.throughput(Throughput::Bytes(large.len() as u64));
    g.bench_function("decode_large_invoice_MBps", |b| {
        b.iter(|| codec.decode(black_box(&large), &partner))
    });
    g.bench_function("serde_baseline_large_invoice_MBps", |b| {
        let text = std::str::from_utf8(&large).unwrap();
        b.iter(|| {
            let c: cxml_serde::CXml = quick_xml::de::from_str(black_box(text)).unwrap();
            black_box(c)
        })
    });
    g.bench_function("reader_only_large_invoice_MBps", |b| {
        b.iter(|| parse(black_box(&large), &Limits::default()))
    });
    g.bench_function("encode_large_invoice_MBps", |b| {
        b.iter(|| codec.encode(black_box(&large_doc), &partner).unwrap())
    });
    // The encode baseline: quick-xml serde writing the baseline structs read from the same
    // bytes (measured in MB/s of the input size, like our encode, which writes those bytes).
    let tree: cxml_serde::CXml =
        quick_xml::de::from_str(std::str::from_utf8(&large).unwrap()).unwrap();
    let written = quick_xml::se::to_string(&tree).unwrap();
    assert!(
        written.len() > large.len() / 2,
        "the baseline wrote {}",
        written.len()
    );
    g.bench_function("serde_baseline_encode_large_invoice_MBps", |b| {
        b.iter(|| black_box(quick_xml::se::to_string(black_box(&tree)).unwrap().len()))
    });
    g.throughput(Throughput::Elements(SMALL_DOCS as u64));
    g.bench_function("decode_small_docs_per_s", |b| {
        b.iter(|| {
            for d in &small {
                black_box(codec.decode(d, &partner));
            }
        })
    });
    g.bench_function("serde_baseline_small_docs_per_s", |b| {
        let texts: Vec<&str> = small
            .iter()
            .map(|d| std::str::from_utf8(d).unwrap())
            .collect();
        b.iter(|| {
            for t in &texts {
                let c: cxml_serde::CXml = quick_xml::de::from_str(black_box(t)).unwrap();
                black_box(c);
            }
        })
    });
    g.throughput(Throughput::Bytes(small_bytes as u64));
    g.bench_function("decode_small_docs_MBps", |b| {
        b.iter(|| {
            for d in &small {
                black_box(codec.decode(d, &partner));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
