//! Decodes the `x12` bench interchange once, for instruction counts and allocation profiles
//! that criterion's repeated timing cannot give on a noisy machine:
//!
//! ```text
//! cargo build --release -p gateway-benches --example x12_decode
//! valgrind --tool=callgrind target/release/examples/x12_decode 500
//! valgrind --tool=dhat target/release/examples/x12_decode 500
//! ```
//!
//! The argument is the number of 810s and of 850s (default 500, so 1,000 documents). With
//! `edi` as second argument it runs the `edi` crate's parse of the same bytes instead; with
//! `encode` it also encodes the decoded documents back to X12 (read the inclusive cost of
//! `X12Codec::encode`). With `repeat=N` it decodes the same bytes N times, for `perf record`; with
//! `tokenize=N` it tokenizes them N times, as the criterion row `tokenize` does; `stream=N`,
//! `parallel=N` and `stream-parallel=N` decode them N times as the rows of those names do. With
//! `X12_DECODE_WINDOWS_1252` set, each supplier name holds a Windows-1252 byte (`Acmé`).

use std::hint::black_box;

use adapter_x12::X12Codec;
use gateway_core::{Decode, Encode, PartnerProfile};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let per_kind: usize = match args.next() {
        Some(n) => n.parse()?,
        None => 500,
    };
    let mut input = gateway_benches::x12_interchange(per_kind);
    let mode = args.next();
    if std::env::var_os("X12_DECODE_WINDOWS_1252").is_some() {
        // The supplier's name as a Windows-1252 system writes it (`Acmé`), in every set: the
        // cost of reading bytes that are not UTF-8.
        let from: &[u8] = b"N1*SU*Acme ";
        for at in 0..input.len().saturating_sub(from.len()) {
            if input.get(at..at + from.len()) == Some(from)
                && let Some(e) = input.get_mut(at + from.len() - 2)
            {
                *e = 0xE9;
            }
        }
    }
    if mode.as_deref() == Some("edi") {
        let text = std::str::from_utf8(&input)?;
        let parsed = edi::parse(black_box(text)).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        println!("edi: {} interchanges", parsed.interchanges.len());
        return Ok(());
    }
    if let Some(times) = mode.as_deref().and_then(|m| m.strip_prefix("tokenize=")) {
        // What the criterion row `tokenize` times, for a profiler.
        let mut elements = 0usize;
        for _ in 0..times.parse::<usize>()? {
            for seg in adapter_x12::tokenizer::Tokenizer::new(black_box(&input)).flatten() {
                elements += seg.elements().count();
            }
        }
        println!("{elements} elements");
        return Ok(());
    }
    if let Some((how, times)) = mode.as_deref().and_then(|m| m.split_once('=')) {
        // What the criterion rows `decode_streaming`, `decode_to_canonical_parallel` and
        // `decode_streaming_parallel` time, for `perf stat` (CPU use, cycles per document).
        let times: usize = times.parse()?;
        let cores = adapter_x12::Parallelism::cores();
        let parallel = X12Codec::new().with_parallelism(cores);
        let mut documents = 0usize;
        for _ in 0..times {
            match how {
                "stream" | "stream-parallel" => {
                    let threads = if how == "stream" {
                        adapter_x12::Parallelism::sequential()
                    } else {
                        cores
                    };
                    let mut reader = std::io::BufReader::new(black_box(&input[..]));
                    adapter_x12::decode_stream_with(
                        &mut reader,
                        adapter_x12::codec::MAX_SET_BYTES,
                        threads,
                        &mut |_| documents += 1,
                    )?;
                }
                "parallel" => {
                    let d = parallel.decode(black_box(&input), &PartnerProfile::anonymous());
                    documents += d.documents.len();
                }
                _ => break,
            }
        }
        if documents > 0 {
            println!("{how}: {documents} documents");
            return Ok(());
        }
    }
    if let Some(times) = mode.as_deref().and_then(|m| m.strip_prefix("repeat=")) {
        // Decodes the same bytes again and again, so a sampling profiler sees decode rather
        // than the input generator.
        for _ in 0..times.parse::<usize>()? {
            let decoded = X12Codec::new().decode(black_box(&input), &PartnerProfile::anonymous());
            black_box(decoded.documents.len());
        }
        return Ok(());
    }
    let decoded = X12Codec::new().decode(black_box(&input), &PartnerProfile::anonymous());
    anyhow::ensure!(
        decoded.rejects.is_empty(),
        "rejects: {:?}",
        decoded.rejects.first()
    );
    println!("ours: {} documents", decoded.documents.len());
    if mode.as_deref() == Some("encode") {
        let partner = gateway_benches::x12_bench_partner()?;
        let docs: Vec<_> = decoded.documents.into_iter().map(|d| d.document).collect();
        let out = X12Codec::new().encode(black_box(&docs), &partner)?;
        println!("encoded: {} bytes", out.len());
    }
    Ok(())
}
