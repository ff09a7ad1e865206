//! Criterion group `x12`: tokenizer and decode-to-canonical throughput (MB/s and documents/s) on
//! a generated interchange of thousands of 810s and 850s (> 10 MB), beside a plain
//! byte-classification loop (the tokenizer's ceiling) and the `edi` crate's parse of the same
//! bytes (the baseline; GPL-3, dev-dependency only).

// Setup failures must abort the bench loudly rather than measure nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use adapter_x12::X12Codec;
use adapter_x12::tokenizer::Tokenizer;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::Document;

/// One interchange with a group of `n` 810s and a group of `n` 850s, ten lines each.
fn generate(n: usize) -> Vec<u8> {
    let mut out = String::with_capacity(n * 2400);
    out.push_str("ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*GLOBEXCORP     *260315*1030*U*00401*000000042*0*P*>~\n");
    for (function, set_id) in [("IN", "810"), ("PO", "850")] {
        out.push_str(&format!(
            "GS*{function}*ACME*GLOBEX*20260315*1030*{set_id}*X*004010~\n"
        ));
        for k in 0..n {
            let ctl = format!("{:06}", k + 1);
            let mut segs: Vec<String> = Vec::with_capacity(40);
            segs.push(format!("ST*{set_id}*{ctl}"));
            if set_id == "810" {
                segs.push(format!("BIG*20260315*INV{k}*20260301*PO{k}"));
                segs.push("CUR*SE*USD".into());
            } else {
                segs.push(format!("BEG*00*SA*PO{k}**20260301"));
                segs.push("CUR*BY*USD".into());
            }
            segs.push(format!("REF*VN*SUP{}", k % 97));
            segs.push(format!("N1*SU*Acme Industrial Supply*92*SUP{}", k % 97));
            segs.push("N3*100 Factory Road*Building 4".into());
            segs.push("N4*Springfield*IL*62701*US".into());
            segs.push("N1*ST*Globex Warehouse 7".into());
            segs.push("N3*77 Dock Street".into());
            segs.push("N4*Cypress Creek*OR*97002*US".into());
            segs.push("ITD*01*3*2**10**30*****2% 10 Net 30".into());
            let mut total_cents: u64 = 0;
            for l in 1..=10u64 {
                let qty = (k as u64 % 7) + l;
                let cents = 1000 + l * 125;
                total_cents += qty * cents;
                let price = format!("{}.{:02}", cents / 100, cents % 100);
                if set_id == "810" {
                    segs.push(format!(
                        "IT1*{l}*{qty}*EA*{price}**VP*PART-{k}-{l}*BP*B{l}*PL*{l}"
                    ));
                    segs.push(format!(
                        "PID*F****Item {l} of invoice {k}, industrial grade"
                    ));
                } else {
                    segs.push(format!("PO1*{l}*{qty}*EA*{price}**VP*PART-{k}-{l}*BP*B{l}"));
                    segs.push(format!("PID*F****Item {l} of order {k}, industrial grade"));
                    segs.push("DTM*002*20260320".into());
                }
            }
            if set_id == "810" {
                segs.push(format!("TDS*{total_cents}"));
                segs.push("CTT*10".into());
            } else {
                segs.push("CTT*10".into());
                segs.push(format!(
                    "AMT*TT*{}.{:02}",
                    total_cents / 100,
                    total_cents % 100
                ));
            }
            let count = segs.len() + 1;
            for s in segs {
                out.push_str(&s);
                out.push_str("~\n");
            }
            out.push_str(&format!("SE*{count}*{ctl}~\n"));
        }
        out.push_str(&format!("GE*{n}*{set_id}~\n"));
    }
    out.push_str("IEA*2*000000042~\n");
    out.into_bytes()
}

fn x12(c: &mut Criterion) {
    let per_kind = 4_000;
    let input = generate(per_kind);
    let docs = 2 * per_kind as u64;
    assert!(
        input.len() >= 10 * 1024 * 1024,
        "input is {} bytes",
        input.len()
    );
    let decoded = X12Codec::new().decode(&input, &PartnerProfile::anonymous());
    assert_eq!(
        decoded.documents.len() as u64,
        docs,
        "{:?}",
        decoded.rejects.first()
    );
    let text = std::str::from_utf8(&input).unwrap();
    assert!(edi::parse(text).is_ok(), "edi refuses the generated input");

    let mut g = c.benchmark_group("x12");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.bench_function("byte_loop_baseline", |b| {
        b.iter(|| {
            let mut terminators = 0usize;
            let mut elements = 0usize;
            for &byte in black_box(&input[..]) {
                terminators += usize::from(byte == b'~');
                elements += usize::from(byte == b'*');
            }
            black_box((terminators, elements))
        })
    });
    g.bench_function("tokenize", |b| {
        b.iter(|| {
            let mut elements = 0usize;
            for seg in Tokenizer::new(black_box(&input)).flatten() {
                elements += seg.elements().count();
            }
            black_box(elements)
        })
    });
    g.bench_function("decode_to_canonical", |b| {
        b.iter(|| {
            let d = X12Codec::new().decode(black_box(&input), &PartnerProfile::anonymous());
            black_box(d.documents.len())
        })
    });
    g.bench_function("decode_streaming", |b| {
        b.iter(|| {
            let mut n = 0usize;
            let mut reader = std::io::BufReader::new(black_box(&input[..]));
            adapter_x12::decode_stream(&mut reader, &mut |_| n += 1).unwrap();
            black_box(n)
        })
    });
    g.bench_function("edi_crate_parse", |b| {
        b.iter(|| {
            black_box(
                edi::parse(black_box(text))
                    .map(|d| d.interchanges.len())
                    .ok(),
            )
        })
    });
    // Encoding: our canonical -> X12 (one interchange of all 8,000 documents, control numbers
    // from memory) beside the `edi` crate writing its parsed tree back out. Each is reported
    // in MB/s of what it writes.
    let partner = PartnerProfile::from_toml(
        "id = \"bench\"\n[x12]\npartner_qualifier = \"ZZ\"\npartner_id = \"ACMESUPPLY\"\n\
         partner_gs_id = \"ACME\"\nour_qualifier = \"ZZ\"\nour_id = \"GLOBEXCORP\"\n\
         our_gs_id = \"GLOBEX\"\nversion = \"004010\"\n",
        "bench.toml",
    )
    .unwrap();
    let canonical: Vec<Document> = decoded.documents.into_iter().map(|d| d.document).collect();
    let codec = X12Codec::new();
    let encoded = codec.encode(&canonical, &partner).unwrap();
    let parsed = edi::parse(text).unwrap();
    let edi_written = parsed.to_x12_string();
    g.throughput(Throughput::Bytes(encoded.len() as u64));
    g.bench_function("encode_from_canonical", |b| {
        b.iter(|| {
            black_box(
                codec
                    .encode(black_box(&canonical), &partner)
                    .map(|o| o.len()),
            )
        })
    });
    g.throughput(Throughput::Bytes(edi_written.len() as u64));
    g.bench_function("edi_crate_write", |b| {
        b.iter(|| black_box(black_box(&parsed).to_x12_string().len()))
    });
    g.throughput(Throughput::Elements(docs));
    g.bench_function("encode_from_canonical_docs", |b| {
        b.iter(|| {
            black_box(
                codec
                    .encode(black_box(&canonical), &partner)
                    .map(|o| o.len()),
            )
        })
    });
    g.bench_function("edi_crate_write_docs", |b| {
        b.iter(|| black_box(black_box(&parsed).to_x12_string().len()))
    });
    g.bench_function("decode_to_canonical_docs", |b| {
        b.iter(|| {
            let d = X12Codec::new().decode(black_box(&input), &PartnerProfile::anonymous());
            black_box(d.documents.len())
        })
    });
    g.bench_function("edi_crate_parse_docs", |b| {
        b.iter(|| {
            black_box(
                edi::parse(black_box(text))
                    .map(|d| d.interchanges.len())
                    .ok(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, x12);
criterion_main!(benches);
