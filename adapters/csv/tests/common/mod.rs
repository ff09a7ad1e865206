//! Helpers shared by the adapter's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use adapter_csv::CsvCodec;
use gateway_core::{Decode, Decoded, PartnerProfile};
use gateway_model::{Document, from_json_lines};

pub fn samples() -> PathBuf {
    gateway_core::testkit::repo_root().join("samples/csv")
}

pub fn decode(raw: &[u8]) -> Decoded {
    CsvCodec.decode(raw, &PartnerProfile::anonymous())
}

pub fn decode_with(raw: &[u8], profile_toml: &str) -> Decoded {
    let p = PartnerProfile::from_toml(profile_toml, "test.toml").unwrap();
    CsvCodec.decode(raw, &p)
}

pub fn docs(d: &Decoded) -> Vec<Document> {
    d.documents.iter().map(|d| d.document.clone()).collect()
}

pub fn canonical(path: &std::path::Path) -> Vec<Document> {
    let bytes = std::fs::read(path).unwrap();
    from_json_lines(&bytes)
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}
