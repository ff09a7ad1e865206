//! Every file of the shared corpus (documents written by others) through format detection and
//! the decoder: no panic, and either documents or located rejects. Folders that hold invoices
//! or orders must give at least one of that kind once the codec for the format is built in.

use std::panic::{AssertUnwindSafe, catch_unwind};

use gateway_core::{PartnerProfile, detect_format};
use gateway_model::DocumentKind;
use gateway_server::codecs::Codecs;
use gateway_tests::{corpus_dir, files_under};

/// Corpus files that are templates rather than documents, with where their reject must point.
const KNOWN_BAD: &[(&str, &str)] = &[
    // invoiceDate="invoice_date": a placeholder left in the upstream fixture.
    ("invoice_taxes_at_line_multiple_taxes.xml", "@invoiceDate"),
];

fn expected_kind(folder: &str) -> Option<DocumentKind> {
    match folder {
        "x12-810" | "cxml-invoice" => Some(DocumentKind::Invoice),
        "x12-850" | "cxml-order" => Some(DocumentKind::PurchaseOrder),
        _ => None,
    }
}

#[test]
fn every_corpus_file_gives_documents_or_located_rejects() {
    let Some(dir) = corpus_dir() else {
        eprintln!("SKIPPED: ../shared/corpus not found beside the checkout (set GATEWAY_CORPUS)");
        return;
    };
    let codecs = Codecs::standard();
    let partner = PartnerProfile::anonymous();
    let mut seen = 0;
    let mut not_built = Vec::new();
    for file in files_under(&dir) {
        if file.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let raw = std::fs::read(&file).unwrap();
        let format = detect_format(&raw);
        let Some(decoder) = codecs.decoder(format) else {
            not_built.push(format!("{} ({format})", file.display()));
            continue;
        };
        let decoded = catch_unwind(AssertUnwindSafe(|| decoder.decode(&raw, &partner)))
            .unwrap_or_else(|_| panic!("{}: the {format} decoder panicked", file.display()));
        // A partner's 997/999 is neither: the server reads it as an acknowledgment.
        let acknowledgments = if format == gateway_core::Format::X12 {
            adapter_x12::read_acknowledgments(&raw).len()
        } else {
            0
        };
        assert!(
            !decoded.documents.is_empty() || !decoded.rejects.is_empty() || acknowledgments > 0,
            "{}: neither documents nor rejects nor acknowledgments",
            file.display()
        );
        if name_of(&file).contains("997") && format == gateway_core::Format::X12 {
            assert!(
                acknowledgments > 0,
                "{}: no acknowledgment read",
                file.display()
            );
        }
        for r in &decoded.rejects {
            assert!(
                !r.location.trim().is_empty(),
                "{}: reject without location: {r:?}",
                file.display()
            );
            assert!(
                !r.message.trim().is_empty(),
                "{}: reject without message",
                file.display()
            );
        }
        let folder = file
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if let Some((_, fragment)) = KNOWN_BAD.iter().find(|(f, _)| name.ends_with(f)) {
            assert!(
                decoded
                    .rejects
                    .iter()
                    .any(|r| r.location.contains(fragment)),
                "{}: expected a reject at {fragment}, got {:?}",
                file.display(),
                decoded.rejects
            );
        } else if let Some(kind) = expected_kind(&folder) {
            assert!(
                decoded.documents.iter().any(|d| d.document.kind() == kind),
                "{}: expected at least one {kind}, got rejects {:?}",
                file.display(),
                decoded.rejects
            );
        }
        seen += 1;
    }
    if !not_built.is_empty() {
        eprintln!(
            "NOTE: {} corpus file(s) need a codec this build lacks: {}",
            not_built.len(),
            not_built.join(", ")
        );
    }
    println!("{seen} corpus file(s) decoded without panic");
}

fn name_of(file: &std::path::Path) -> String {
    file.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}
