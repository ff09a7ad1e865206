//! Golden pairs in `samples/cxml/<kind>/<case>.xml` beside a hand-written
//! `<case>.canonical.json`: decoding gives exactly the canonical documents, and encoding them
//! back to cXML then decoding again changes nothing. (The repository's `tests/` crate runs the
//! same check through the server's codec registry.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use adapter_cxml::CxmlCodec;
use gateway_core::testkit::{files_under, repo_root};
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, from_json_lines};

fn cases() -> Vec<PathBuf> {
    files_under(&repo_root().join("samples/cxml"))
        .into_iter()
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("xml"))
        .collect()
}

fn sibling(source: &Path, suffix: &str) -> PathBuf {
    let stem = source.file_stem().unwrap().to_string_lossy().to_string();
    source.with_file_name(format!("{stem}.{suffix}"))
}

fn partner(source: &Path) -> PartnerProfile {
    let p = sibling(source, "partner.toml");
    if p.is_file() {
        PartnerProfile::load(&p).unwrap()
    } else {
        PartnerProfile::anonymous()
    }
}

fn expected(source: &Path) -> Vec<Document> {
    let bytes = std::fs::read(sibling(source, "canonical.json")).unwrap();
    from_json_lines(&bytes)
        .into_iter()
        .map(|r| r.unwrap())
        .collect()
}

#[test]
fn golden_samples_decode_to_their_canonical_json() {
    let cases = cases();
    assert!(cases.len() >= 2, "no cXML golden samples");
    let codec = CxmlCodec::default();
    for source in &cases {
        let d = codec.decode(&std::fs::read(source).unwrap(), &partner(source));
        assert!(
            d.rejects.is_empty(),
            "{}: {:?}",
            source.display(),
            d.rejects
        );
        let docs: Vec<Document> = d.documents.into_iter().map(|d| d.document).collect();
        let want = expected(source);
        assert_eq!(docs, want, "{}", source.display());
        let kind = source
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        for d in &docs {
            assert_eq!(d.kind().as_str(), kind, "{}", source.display());
            let report = d.validate();
            assert!(
                !report.has_errors(),
                "{}: {:?}",
                source.display(),
                report.problems
            );
        }
    }
}
#[test]
fn golden_samples_survive_encode_then_decode() {
    let codec = CxmlCodec::default();
    for source in cases() {
        let partner = partner(&source);
        let want = expected(&source);
        let bytes = codec
            .encode(&want, &partner)
            .unwrap_or_else(|e| panic!("{}: {e}", source.display()));
        let again = codec.decode(&bytes, &partner);
        assert!(
            again.rejects.is_empty(),
            "{}: {:?}\n{}",
            source.display(),
            again.rejects,
            String::from_utf8_lossy(&bytes)
        );
        let docs: Vec<Document> = again.documents.into_iter().map(|d| d.document).collect();
        assert_eq!(
            docs,
            want,
            "{}\n{}",
            source.display(),
            String::from_utf8_lossy(&bytes)
        );
    }
}

#[test]
#[ignore = "prints the encoded samples for a human to read"]
fn print_encoded_samples() {
    let codec = CxmlCodec::default();
    for source in cases() {
        let bytes = codec.encode(&expected(&source), &partner(&source)).unwrap();
        println!("{}", String::from_utf8_lossy(&bytes));
    }
}

/// A telephone number is its present parts joined by one space, the country code with `+`.
#[test]
fn phone_numbers_join_the_parts_that_are_present() {
    let source = repo_root().join("samples/cxml/invoice/rich.xml");
    let raw = std::fs::read_to_string(&source).unwrap();
    let full = "<CountryCode isoCountryCode=\"US\">1</CountryCode>\n                <AreaOrCityCode>217</AreaOrCityCode>\n                <Number>555 0100</Number>";
    assert!(raw.contains(full), "the sample's phone changed");
    for (parts, expected) in [
        (full, Some("+1 217 555 0100")),
        (
            "<AreaOrCityCode>217</AreaOrCityCode><Number>555 0100</Number>",
            Some("217 555 0100"),
        ),
        (
            "<CountryCode isoCountryCode=\"US\">+44</CountryCode><Number>20 7946 0000</Number>",
            Some("+44 20 7946 0000"),
        ),
        ("<Number> 555 0100 </Number>", Some("555 0100")),
        ("", None),
    ] {
        let decoded =
            CxmlCodec::default().decode(raw.replace(full, parts).as_bytes(), &partner(&source));
        let Some(Document::Invoice(inv)) = decoded.documents.first().map(|d| &d.document) else {
            panic!("no invoice for {parts:?}: {:?}", decoded.rejects);
        };
        let phone = inv.supplier.as_ref().and_then(|s| s.phone.as_deref());
        assert_eq!(phone, expected, "{parts:?}");
    }
}
