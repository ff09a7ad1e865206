//! Criterion group `csv`: decoding and encoding the Coupa invoice import layout, beside the
//! baseline of the `csv` crate + serde reading the same file into owned structs.
//!
//! Throughput is reported in bytes (MB/s) for every bench and in documents (docs/s) for the
//! decode-per-document bench. The goal is decode at ≥ 0.8× the baseline.

// Setup failures must abort the bench loudly rather than measure nothing.
#![allow(clippy::expect_used)]

use std::hint::black_box;

use adapter_csv::CsvCodec;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gateway_core::{Decode, DecodeItem, Encode, PartnerProfile};
use gateway_model::Document;

/// Invoices in the generated file (about 9 MB: 4 lines and 2 charges each).
const INVOICES: usize = 20_000;

/// The baseline's owned record: every column of the widest record type, by position. Shorter
/// records (invoice headers, charges) fill the missing columns with `None`, so the baseline
/// reads every row of the file as our decoder does.
#[derive(Debug, Default, serde::Deserialize, serde::Serialize)]
#[serde(default)]
#[allow(dead_code)] // read only to make the baseline do the work
struct Row {
    kind: String,
    number: String,
    c2: Option<String>,
    c3: Option<String>,
    c4: Option<String>,
    c5: Option<String>,
    c6: Option<String>,
    c7: Option<String>,
    c8: Option<String>,
    c9: Option<String>,
    c10: Option<String>,
}

fn baseline(raw: &[u8]) -> usize {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(raw);
    let mut n = 0;
    for row in r.deserialize::<Row>() {
        black_box(&row);
        n += usize::from(row.is_ok());
    }
    n
}

/// The baseline's encode: the same owned rows written back with `csv` + serde.
fn baseline_encode(rows: &[Row]) -> usize {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_writer(Vec::with_capacity(rows.len() * 100));
    for row in rows {
        let _ = w.serialize(row);
    }
    w.into_inner().map(|v| v.len()).unwrap_or(0)
}

fn decode(raw: &[u8]) -> usize {
    let mut docs = 0;
    let mut input = raw;
    let _ = CsvCodec.decode_reader(&mut input, &PartnerProfile::anonymous(), &mut |item| {
        if let DecodeItem::Document(d) = item {
            black_box(&d);
            docs += 1;
        }
    });
    docs
}

fn bench(c: &mut Criterion) {
    let raw = gateway_benches::csv_invoice_import(INVOICES);
    let docs: Vec<Document> = CsvCodec
        .decode(&raw, &PartnerProfile::anonymous())
        .documents
        .into_iter()
        .map(|d| d.document)
        .collect();
    assert_eq!(
        docs.len(),
        INVOICES,
        "the generated file must decode cleanly"
    );
    let encoded_len = CsvCodec
        .encode(&docs, &PartnerProfile::anonymous())
        .map(|b| b.len())
        .unwrap_or(0);

    assert_eq!(
        baseline(&raw),
        INVOICES * 7 + 3,
        "the baseline must read every row"
    );
    let mut g = c.benchmark_group("csv");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(raw.len() as u64));
    g.bench_function("baseline_csv_serde_owned", |b| {
        b.iter(|| baseline(black_box(&raw)))
    });
    g.bench_function("decode", |b| b.iter(|| decode(black_box(&raw))));
    g.throughput(Throughput::Elements(INVOICES as u64));
    g.bench_function("decode_docs", |b| b.iter(|| decode(black_box(&raw))));
    g.throughput(Throughput::Bytes(encoded_len as u64));
    g.bench_function("encode", |b| {
        b.iter(|| CsvCodec.encode(black_box(&docs), &PartnerProfile::anonymous()))
    });
    g.throughput(Throughput::Elements(INVOICES as u64));
    g.bench_function("encode_docs", |b| {
        b.iter(|| CsvCodec.encode(black_box(&docs), &PartnerProfile::anonymous()))
    });
    let rows: Vec<Row> = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&raw[..])
        .deserialize::<Row>()
        .collect::<Result<_, _>>()
        .expect("the baseline reads every row");
    g.throughput(Throughput::Bytes(baseline_encode(&rows) as u64));
    g.bench_function("baseline_encode_csv_serde", |b| {
        b.iter(|| baseline_encode(black_box(&rows)))
    });
    g.throughput(Throughput::Elements(INVOICES as u64));
    g.bench_function("baseline_encode_csv_serde_docs", |b| {
        b.iter(|| baseline_encode(black_box(&rows)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
