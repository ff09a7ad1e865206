//! Property tests for the cXML decoder (proptest, bounded for CI: a few hundred cases, a
//! few seconds in a debug build): arbitrary bytes (alone and after a cXML root) and mutated golden samples never
//! panic, and decode(encode(doc)) == doc for generated invoices (the golden sample with a
//! generated invoice number, and generated lines: quantities, prices, descriptions).
//!
//! Longer runs: `PROPTEST_CASES=100000 cargo test -p adapter-cxml --test prop --release`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use adapter_cxml::CxmlCodec;
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, Invoice, InvoiceLine, from_json_lines};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples/cxml")
}

fn codec() -> CxmlCodec {
    CxmlCodec::new()
}

/// Every golden source file of this format.
fn sample_sources() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut stack = vec![samples()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if p.is_dir() {
                stack.push(p);
            } else if !name.ends_with(".json")
                && !name.ends_with(".toml")
                && !name.starts_with("README")
                && !name.ends_with(".txt")
            {
                out.push(std::fs::read(&p).unwrap());
            }
        }
    }
    assert!(!out.is_empty(), "no samples under {}", samples().display());
    out
}

fn profile(path: &Path) -> PartnerProfile {
    if path.is_file() {
        PartnerProfile::load(path).unwrap()
    } else {
        PartnerProfile::anonymous()
    }
}

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(prop::sample::Index, u8),
    Delete(prop::sample::Index, usize),
    Insert(prop::sample::Index, Vec<u8>),
    Duplicate(prop::sample::Index, usize),
    Truncate(prop::sample::Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<prop::sample::Index>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (
            any::<prop::sample::Index>(),
            prop::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<prop::sample::Index>(), 1usize..128).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        if bytes.is_empty() {
            break;
        }
        let len = bytes.len();
        match m {
            Mutation::Flip(i, b) => {
                let at = i.index(len);
                bytes[at] ^= b | 1;
            }
            Mutation::Delete(i, n) => {
                let at = i.index(len);
                let end = (at + n).min(len);
                bytes.drain(at..end);
            }
            Mutation::Insert(i, b) => {
                let at = i.index(len);
                bytes.splice(at..at, b.iter().copied());
            }
            Mutation::Duplicate(i, n) => {
                let at = i.index(len);
                let end = (at + n).min(len);
                let copy = bytes[at..end].to_vec();
                bytes.splice(end..end, copy);
            }
            Mutation::Truncate(i) => bytes.truncate(i.index(len)),
        }
    }
    bytes
}

/// The golden invoice every generated one starts from, and the profile it round-trips with.
fn base() -> (Invoice, PartnerProfile) {
    let dir = samples().join("invoice");
    let raw = std::fs::read(dir.join("rich.canonical.json")).unwrap();
    let Some(Ok(Document::Invoice(inv))) = from_json_lines(&raw).into_iter().next() else {
        panic!("rich does not start with an invoice")
    };
    (inv, profile(&dir.join("rich.partner.toml")))
}

/// One generated line: quantity (units, scale), unit price in cents, description.
type LineSpec = (u32, u32, u32, String);

fn line_spec() -> impl Strategy<Value = LineSpec> {
    (
        1u32..100_000,
        0u32..=2,
        1u32..10_000_000,
        r#"[A-Za-z0-9 .,/()#&<>"';:éü€-]{1,40}"#,
    )
}

fn build(base: &Invoice, number: &str, specs: &[LineSpec]) -> Invoice {
    let mut inv = base.clone();
    inv.invoice_number = Some(number.to_string());
    let template: InvoiceLine = base.lines[0].clone();
    inv.lines = specs
        .iter()
        .enumerate()
        .map(|(i, (q, scale, cents, desc))| {
            let mut l = template.clone();
            let quantity = Decimal::new(i64::from(*q), *scale);
            let price = Decimal::new(i64::from(*cents), 2);
            l.line_number = u32::try_from(i + 1).unwrap();
            l.quantity = Some(quantity);
            l.unit_price = Some(price);
            l.amount = Some(quantity * price);
            l.description = Some(desc.trim().to_string())
                .filter(|d| !d.is_empty())
                .or(Some("item".into()));
            l
        })
        .collect();
    inv
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let d = codec().decode(&bytes, &PartnerProfile::anonymous());
        // Nothing may come out of noise silently: a document or a located reject, or nothing
        // at all for empty input.
        prop_assert!(bytes.iter().all(u8::is_ascii_whitespace) || !d.documents.is_empty() || !d.rejects.is_empty());
    }

    #[test]
    fn format_prefixed_noise_never_panics(tail in prop::collection::vec(any::<u8>(), 0..2048)) {
        let mut bytes = b"<?xml version=\"1.0\"?><cXML payloadID=\"p@x\" timestamp=\"2026-01-01T00:00:00+00:00\">".to_vec();
        bytes.extend_from_slice(&tail);
        let d = codec().decode(&bytes, &PartnerProfile::anonymous());
        prop_assert!(!d.documents.is_empty() || !d.rejects.is_empty());
    }

    #[test]
    fn mutated_samples_never_panic(
        which in any::<prop::sample::Index>(),
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        let sources = sample_sources();
        let src = sources[which.index(sources.len())].clone();
        let bytes = apply(src, &muts);
        let _ = codec().decode(&bytes, &PartnerProfile::anonymous());
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_invoices_round_trip(
        number in "[A-Z][A-Z0-9-]{0,18}[A-Z0-9]",
        specs in prop::collection::vec(line_spec(), 1..6),
    ) {
        let (base, partner) = base();
        let inv = build(&base, &number, &specs);
        let doc = Document::Invoice(inv);
        let bytes = codec().encode(std::slice::from_ref(&doc), &partner).unwrap();
        let back = codec().decode(&bytes, &partner);
        prop_assert!(back.rejects.is_empty(), "{:?}\n{}", back.rejects, String::from_utf8_lossy(&bytes));
        let docs: Vec<Document> = back.documents.into_iter().map(|d| d.document).collect();
        prop_assert_eq!(docs, vec![doc]);
    }
}
