//! Criterion group `x12`: tokenizer and decode-to-canonical throughput (MB/s and documents/s) on
//! a generated interchange of thousands of 810s and 850s (> 10 MB), beside a plain
//! byte-classification loop (the tokenizer's ceiling) and the `edi` crate's parse of the same
//! bytes (the baseline; GPL-3, dev-dependency only). Decoding runs on one thread, and again on
//! the machine's cores (`*_parallel`); the `edi` crate has no parallel parse.

// Setup failures must abort the bench loudly rather than measure nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use adapter_x12::tokenizer::Tokenizer;
use adapter_x12::{Parallelism, X12Codec};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::Document;

fn x12(c: &mut Criterion) {
    let per_kind = 4_000;
    let input = gateway_benches::x12_interchange(per_kind);
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
    // The same two on the machine's cores (at most four), as the `gateway` binary decodes
    // large inputs. Read them beside the rows above with the allocator named in BENCHMARKS.md:
    // with glibc malloc, freeing across threads makes them slower than one thread.
    let cores = Parallelism::cores();
    eprintln!("x12 parallel rows: {} threads", cores.threads);
    let parallel_codec = X12Codec::new().with_parallelism(cores);
    g.bench_function("decode_to_canonical_parallel", |b| {
        b.iter(|| {
            let d = parallel_codec.decode(black_box(&input), &PartnerProfile::anonymous());
            black_box(d.documents.len())
        })
    });
    g.bench_function("decode_streaming_parallel", |b| {
        b.iter(|| {
            let mut n = 0usize;
            let mut reader = std::io::BufReader::new(black_box(&input[..]));
            adapter_x12::decode_stream_with(
                &mut reader,
                adapter_x12::codec::MAX_SET_BYTES,
                cores,
                &mut |_| n += 1,
            )
            .unwrap();
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
    let partner = gateway_benches::x12_bench_partner().unwrap();
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
