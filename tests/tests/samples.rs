//! Every golden pair in `samples/`: decoding the source gives exactly the canonical documents,
//! and encoding them back to the source format then decoding again changes nothing.

use gateway_core::{Format, PartnerProfile};
use gateway_model::{Document, from_json_lines};
use gateway_server::codecs::Codecs;
use gateway_tests::sample_cases;

fn expected(path: &std::path::Path) -> Vec<Document> {
    let bytes = std::fs::read(path)
        .unwrap_or_else(|e| panic!("{} is missing beside its source: {e}", path.display()));
    from_json_lines(&bytes)
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

#[test]
fn golden_samples_decode_and_round_trip() {
    let codecs = Codecs::standard();
    let cases = sample_cases();
    assert!(cases.len() >= 2, "samples/ has no golden pairs");
    let mut checked = 0;
    for case in &cases {
        let format: Format = case.format.parse().unwrap();
        let partner = match &case.partner {
            Some(p) => PartnerProfile::load(p).unwrap(),
            None => PartnerProfile::anonymous(),
        };
        let decoder = codecs.decoder(format).unwrap_or_else(|| {
            panic!(
                "{}: no {format} decoder in this build",
                case.source.display()
            )
        });
        let raw = std::fs::read(&case.source).unwrap();
        let decoded = decoder.decode(&raw, &partner);
        assert!(
            decoded.rejects.is_empty(),
            "{}: rejects {:?}",
            case.source.display(),
            decoded.rejects
        );
        let docs: Vec<Document> = decoded.documents.into_iter().map(|d| d.document).collect();
        let want = expected(&case.canonical);
        assert_eq!(
            docs,
            want,
            "{} decodes differently from {}",
            case.source.display(),
            case.canonical.display()
        );
        for d in &docs {
            assert_eq!(
                d.kind().as_str(),
                case.kind,
                "{} is filed under the wrong kind",
                case.source.display()
            );
        }
        if let Some(encoder) = codecs.encoder(format) {
            let bytes = encoder
                .encode(&docs, &partner)
                .unwrap_or_else(|e| panic!("{}: encode failed: {e}", case.source.display()));
            let again = decoder.decode(&bytes, &partner);
            assert!(
                again.rejects.is_empty(),
                "{}: re-decode rejects {:?}",
                case.source.display(),
                again.rejects
            );
            let again: Vec<Document> = again.documents.into_iter().map(|d| d.document).collect();
            assert_eq!(
                again,
                docs,
                "{}: encode → decode changed the documents",
                case.source.display()
            );
        }
        checked += 1;
    }
    println!("{checked} golden sample(s) checked");
}

#[test]
fn golden_samples_are_valid_documents() {
    for case in sample_cases() {
        for doc in expected(&case.canonical) {
            let report = doc.validate();
            assert!(
                !report.has_errors(),
                "{}: {:?}",
                case.canonical.display(),
                report.problems
            );
        }
    }
}
