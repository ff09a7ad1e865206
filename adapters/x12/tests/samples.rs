//! Golden pairs `samples/x12/<kind>/<case>.edi` beside hand-written `<case>.canonical.json`:
//! decoding gives exactly the canonical documents; encoding them and decoding again changes
//! nothing; and every 810/850 of the shared corpus survives X12 → canonical → X12 → canonical.

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use adapter_x12::X12Codec;
use gateway_core::testkit::{corpus_or_skip, files_under, repo_root};
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, from_json_lines};

fn golden_cases() -> Vec<(PathBuf, PathBuf, String)> {
    let root = repo_root().join("samples/x12");
    files_under(&root)
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "edi"))
        .map(|f| {
            let case = f.file_stem().unwrap().to_string_lossy().to_string();
            let kind = f
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string();
            (
                f.clone(),
                f.with_file_name(format!("{case}.canonical.json")),
                kind,
            )
        })
        .collect()
}

fn partner_for(source: &std::path::Path) -> PartnerProfile {
    let stem = source.file_stem().unwrap().to_string_lossy().to_string();
    let p = source.with_file_name(format!("{stem}.partner.toml"));
    if p.is_file() {
        PartnerProfile::load(&p).unwrap()
    } else {
        PartnerProfile::anonymous()
    }
}

fn decode_docs(
    codec: &X12Codec,
    raw: &[u8],
    partner: &PartnerProfile,
    what: &str,
) -> Vec<Document> {
    let d = codec.decode(raw, partner);
    assert!(d.rejects.is_empty(), "{what}: rejects {:?}", d.rejects);
    d.documents.into_iter().map(|d| d.document).collect()
}

#[test]
fn golden_samples_decode_to_their_canonical_json_and_round_trip() {
    let cases = golden_cases();
    let kinds: Vec<&str> = cases.iter().map(|c| c.2.as_str()).collect();
    assert!(
        kinds.contains(&"invoice") && kinds.contains(&"purchase_order"),
        "{kinds:?}"
    );
    let codec = X12Codec::new();
    for (source, canonical, kind) in &cases {
        let what = source.display().to_string();
        let partner = partner_for(source);
        let docs = decode_docs(&codec, &std::fs::read(source).unwrap(), &partner, &what);
        let want: Vec<Document> = from_json_lines(&std::fs::read(canonical).unwrap())
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(
            docs, want,
            "{what} decodes differently from its canonical JSON"
        );
        assert!(docs.iter().all(|d| d.kind().as_str() == kind), "{what}");
        for d in &want {
            assert!(
                !d.validate().has_errors(),
                "{what}: {:?}",
                d.validate().problems
            );
        }
        // canonical → X12 → canonical is identical.
        let bytes = codec.encode(&want, &partner).unwrap();
        let again = decode_docs(&codec, &bytes, &partner, &format!("{what} re-encoded"));
        assert_eq!(again, want, "{what}: encode → decode changed the documents");
    }
}

#[test]
fn corpus_810_and_850_survive_x12_canonical_x12_canonical() {
    let codec = X12Codec::new();
    let partner = PartnerProfile::anonymous();
    let mut checked = 0;
    for folder in ["x12-810", "x12-850"] {
        let Some(dir) = corpus_or_skip(folder, "x12 round trip").unwrap() else {
            return;
        };
        for f in files_under(&dir) {
            let d = codec.decode(&std::fs::read(&f).unwrap(), &partner);
            let first: Vec<Document> = d.documents.into_iter().map(|d| d.document).collect();
            assert!(!first.is_empty(), "{}", f.display());
            let bytes = codec
                .encode(&first, &partner)
                .unwrap_or_else(|e| panic!("{}: encode: {e}", f.display()));
            let second = decode_docs(&codec, &bytes, &partner, &f.display().to_string());
            assert_eq!(
                second,
                first,
                "{}: X12 → canonical → X12 → canonical differs",
                f.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 12, "{checked}");
}

#[test]
fn encoding_uses_the_partner_profile() {
    let partner = PartnerProfile::from_toml(
        r#"
id = "acme"
[x12]
partner_qualifier = "01"
partner_id = "123456789"
partner_gs_id = "ACMEGS"
our_qualifier = "ZZ"
our_id = "COUPAGW"
our_gs_id = "COUPAGS"
version = "005010"
element_separator = "|"
component_separator = "!"
segment_terminator = "\n"
repetition_separator = "^"
usage_indicator = "T"
"#,
        "inline",
    )
    .unwrap();
    let codec = X12Codec::new();
    let (source, canonical, _) = golden_cases()
        .into_iter()
        .find(|c| c.2 == "purchase_order")
        .unwrap();
    let want: Vec<Document> = from_json_lines(&std::fs::read(canonical).unwrap())
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let bytes = codec.encode(&want, &partner).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        text.starts_with("ISA|00|          |00|          |ZZ|COUPAGW        |01|123456789      |"),
        "{text}"
    );
    assert!(
        text.contains("|^|00501|000000001|0|T|!\nGS|PO|COUPAGS|ACMEGS|"),
        "{text}"
    );
    assert!(
        text.contains("|000001|X|005010\n") || text.contains("|1|X|005010\n"),
        "{text}"
    );
    assert!(text.ends_with("IEA|1|000000001\n"), "{text}");
    // Control numbers increase and are never reused.
    let again = String::from_utf8(codec.encode(&want, &partner).unwrap()).unwrap();
    assert!(again.contains("|000000002|"), "{again}");
    // Read back as the partner would send it: from its ids, to ours. (Read with the profile as
    // it is, the interchange is addressed to the partner, not to this gateway: refused.)
    let docs = decode_docs(&codec, &bytes, &as_sent_by(&partner), "profile encode");
    assert_eq!(docs, want, "{}", source.display());
    assert!(!codec.decode(&bytes, &partner).rejects.is_empty());
}

/// `partner`'s profile as the partner's own side reads it: its ids and ours swapped.
fn as_sent_by(partner: &PartnerProfile) -> PartnerProfile {
    let mut mirrored = partner.clone();
    if let Some(x) = mirrored.x12.as_mut() {
        std::mem::swap(&mut x.our_id, &mut x.partner_id);
        std::mem::swap(&mut x.our_qualifier, &mut x.partner_qualifier);
        std::mem::swap(&mut x.our_gs_id, &mut x.partner_gs_id);
    }
    mirrored
}

#[test]
fn profile_can_ask_for_one_unbroken_line_and_a_ta1() {
    let partner = PartnerProfile::from_toml(
        "id = \"acme\"\n[x12]\nline_break_after_segment = false\nrequest_ta1 = true\n",
        "inline",
    )
    .unwrap();
    let docs: Vec<Document> = from_json_lines(
        &std::fs::read(repo_root().join("samples/x12/invoice/rich.canonical.json")).unwrap(),
    )
    .into_iter()
    .map(|r| r.unwrap())
    .collect();
    let codec = X12Codec::new();
    let bytes = codec.encode(&docs, &partner).unwrap();
    assert!(!bytes.contains(&b'\n'));
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains("*000000001*1*P*>~GS*IN*"), "{text}");
    assert_eq!(decode_docs(&codec, &bytes, &partner, "one line"), docs);
}

/// X12 cannot escape a delimiter. In free text (a description, a name) it is written as a
/// space, as a line break is: a PO line described `Screw M6*20` was refused, so the PO never
/// reached its supplier. In a code or an id it would change what the value means, so it is
/// still refused with its path.
#[test]
fn a_delimiter_in_free_text_becomes_a_space_and_in_an_id_is_refused_with_its_path() {
    let codec = X12Codec::new();
    let mut docs: Vec<Document> = from_json_lines(
        &std::fs::read(repo_root().join("samples/x12/invoice/rich.canonical.json")).unwrap(),
    )
    .into_iter()
    .map(|r| r.unwrap())
    .collect();
    if let Document::Invoice(inv) = &mut docs[0] {
        inv.lines[1].description = Some("Screw M6*20 ~ box>50".into());
    }
    let text =
        String::from_utf8(codec.encode(&docs, &PartnerProfile::anonymous()).unwrap()).unwrap();
    assert!(text.contains("Screw M6 20   box 50"), "{text}");
    if let Document::Invoice(inv) = &mut docs[0] {
        inv.lines[1].supplier_part_id = Some("PPR*A4".into());
    }
    let err = codec
        .encode(&docs, &PartnerProfile::anonymous())
        .unwrap_err();
    assert!(
        err.to_string().contains("$.lines[1]") && err.to_string().contains("delimiter"),
        "{err}"
    );
}
