//! Hostile input: every prefix of every sample, and pseudo-random bytes, through the decoder
//! with and without a column map: never a panic, always documents or located rejects.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use adapter_csv::CsvCodec;
use common::samples;
use gateway_core::{Decode, PartnerProfile};

fn profiles() -> Vec<PartnerProfile> {
    let mut out = vec![PartnerProfile::anonymous()];
    for case in [
        "invoice/partner_sheet.partner.toml",
        "purchase_order/partner_keyed.partner.toml",
    ] {
        out.push(PartnerProfile::load(&samples().join(case)).unwrap());
    }
    out
}

fn check(raw: &[u8], p: &PartnerProfile, what: &str) {
    let d = catch_unwind(AssertUnwindSafe(|| CsvCodec.decode(raw, p)))
        .unwrap_or_else(|_| panic!("{what}: panicked"));
    assert!(
        !d.documents.is_empty() || !d.rejects.is_empty(),
        "{what}: nothing came out"
    );
    assert!(
        d.rejects
            .iter()
            .all(|r| !r.location.is_empty() && !r.message.is_empty())
    );
}

#[test]
fn every_prefix_of_every_sample() {
    let profiles = profiles();
    for kind in ["invoice", "purchase_order"] {
        for entry in std::fs::read_dir(samples().join(kind)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "csv") {
                continue;
            }
            let raw = std::fs::read(&path).unwrap();
            for end in 0..=raw.len() {
                for p in &profiles {
                    check(&raw[..end], p, &format!("{}[..{end}]", path.display()));
                }
            }
        }
    }
}

#[test]
fn pseudo_random_bytes() {
    let profiles = profiles();
    let alphabet = b"Invoice Line,;\t\"\r\n0123456789.-abcTypeHeader\xEF\xBB\xBF\xff";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for round in 0..400 {
        let len = (round * 7) % 600;
        let mut raw = Vec::with_capacity(len);
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            raw.push(alphabet[(state % alphabet.len() as u64) as usize]);
        }
        for p in &profiles {
            check(&raw, p, &format!("round {round}"));
        }
    }
}
