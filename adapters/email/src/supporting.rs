//! PDF copies sent beside the documents of a mail: which document each belongs to.
//!
//! A supplier that mails a cXML or X12 invoice often attaches its PDF too, and in many
//! countries that PDF is the invoice in law, so a buyer wants it on the invoice in Coupa. A PDF
//! goes with the document whose number its file name holds (`INV-42.pdf`, `Invoice INV-42
//! copy.pdf`); when the mail carries one document, every PDF goes with it. A PDF that cannot be
//! placed is not guessed at: the documents' notes say so, and the mail stays in the archive.

use gateway_core::attachments::MAX_FILES_PER_DOCUMENT;
use gateway_core::{DecodedDocument, SupportingFile};

use crate::message::MailAttachment;

/// Whether `att` is a PDF file: named or typed as one, and starting as one does.
pub fn is_pdf(att: &MailAttachment) -> bool {
    let named = att
        .name
        .as_deref()
        .and_then(|n| n.rsplit_once('.'))
        .is_some_and(|(_, e)| e.eq_ignore_ascii_case("pdf"));
    let typed = att.content_type.as_deref() == Some("application/pdf");
    (named || typed) && att.bytes.starts_with(b"%PDF-")
}

/// Whether `number` appears in `name` as a whole token (not `INV-1` inside `INV-10.pdf`).
fn names_number(name: &str, number: &str) -> bool {
    if number.trim().is_empty() {
        return false;
    }
    let hay = name.to_ascii_lowercase();
    let needle = number.trim().to_ascii_lowercase();
    let edge = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
    hay.match_indices(&needle).any(|(at, _)| {
        edge(hay.get(..at).and_then(|s| s.chars().next_back()))
            && edge(hay.get(at + needle.len()..).and_then(|s| s.chars().next()))
    })
}

/// Gives each PDF in `pdfs` to the document of `docs` it belongs to (see the module), as a
/// [`SupportingFile`] in its `meta.files`; a PDF that belongs to none, or to more than one, is
/// named in every document's notes instead.
pub fn attach_pdfs(pdfs: &[&MailAttachment], docs: &mut [DecodedDocument]) {
    let mut unplaced: Vec<String> = Vec::new();
    for (n, att) in pdfs.iter().enumerate() {
        let name = att
            .name
            .clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| format!("attachment-{}.pdf", n + 1));
        let named: Vec<usize> = docs
            .iter()
            .enumerate()
            .filter(|(_, d)| names_number(&name, d.document.number()))
            .map(|(i, _)| i)
            .collect();
        let target = match (named.as_slice(), docs.len()) {
            ([one], _) => Some(*one),
            ([], 1) => Some(0),
            _ => None,
        };
        let Some(doc) = target.and_then(|i| docs.get_mut(i)) else {
            unplaced.push(name);
            continue;
        };
        if doc.meta.files.len() >= MAX_FILES_PER_DOCUMENT {
            doc.meta.note(&format!(
                "{name} was not attached: a document takes at most {MAX_FILES_PER_DOCUMENT} files"
            ));
            continue;
        }
        doc.meta.files.push(SupportingFile {
            name,
            content_type: "application/pdf".into(),
            bytes: att.bytes.clone(),
        });
    }
    if unplaced.is_empty() || docs.is_empty() {
        return;
    }
    let numbers: Vec<&str> = docs.iter().map(|d| d.document.number()).collect();
    let note = format!(
        "PDF {} not attached to any document: the mail carries {} documents ({}) and the file \
         name must hold the number of exactly one of them; send each invoice's PDF named by its \
         number (INV-42.pdf)",
        unplaced.join(", "),
        docs.len(),
        numbers.join(", ")
    );
    for d in docs.iter_mut() {
        d.meta.note(&note);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_core::SourceMeta;
    use gateway_model::{Document, Invoice};

    fn att(name: &str, ctype: &str, bytes: &[u8]) -> MailAttachment {
        MailAttachment {
            index: 1,
            name: Some(name.into()),
            content_type: Some(ctype.into()),
            bytes: bytes.to_vec(),
            is_message: false,
            unreadable: None,
        }
    }

    fn doc(number: &str) -> DecodedDocument {
        DecodedDocument {
            document: Document::Invoice(Invoice {
                invoice_number: Some(number.into()),
                ..Invoice::default()
            }),
            meta: SourceMeta::default(),
        }
    }

    #[test]
    fn only_real_pdfs_count() {
        assert!(is_pdf(&att(
            "a.PDF",
            "application/octet-stream",
            b"%PDF-1.7\n"
        )));
        assert!(is_pdf(&att("scan", "application/pdf", b"%PDF-1.4\n")));
        assert!(!is_pdf(&att("a.pdf", "application/pdf", b"<html>")));
        assert!(!is_pdf(&att("a.png", "image/png", b"%PDF-1.4")));
    }

    #[test]
    fn numbers_match_whole_tokens_only() {
        assert!(names_number("INV-42.pdf", "INV-42"));
        assert!(names_number("Invoice inv-42 copy.pdf", "INV-42"));
        assert!(!names_number("INV-420.pdf", "INV-42"));
        assert!(!names_number("XINV-42.pdf", "INV-42"));
        assert!(names_number("2026_INV-42_final.pdf", "INV-42"));
        assert!(!names_number("anything.pdf", ""));
    }

    #[test]
    fn each_pdf_goes_with_the_invoice_its_name_holds() {
        let a = att("INV-1.pdf", "application/pdf", b"%PDF-1.7 one");
        let b = att("copy of INV-2.pdf", "application/pdf", b"%PDF-1.7 two");
        let mut docs = vec![doc("INV-1"), doc("INV-2")];
        attach_pdfs(&[&a, &b], &mut docs);
        assert_eq!(docs[0].meta.files.len(), 1);
        assert_eq!(docs[0].meta.files[0].bytes, b"%PDF-1.7 one");
        assert_eq!(docs[0].meta.files[0].name, "INV-1.pdf");
        assert_eq!(docs[1].meta.files[0].bytes, b"%PDF-1.7 two");
        assert_eq!(docs[0].meta.notes().count(), 0);
    }

    #[test]
    fn with_one_document_every_pdf_is_its_own() {
        let a = att("scan.pdf", "application/pdf", b"%PDF-1.7 a");
        let b = att("terms.pdf", "application/pdf", b"%PDF-1.7 b");
        let mut docs = vec![doc("INV-9")];
        attach_pdfs(&[&a, &b], &mut docs);
        let names: Vec<_> = docs[0].meta.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["scan.pdf", "terms.pdf"]);
    }

    #[test]
    fn a_pdf_that_names_no_single_document_is_noted_not_guessed() {
        let a = att("scan.pdf", "application/pdf", b"%PDF-1.7 a");
        let mut docs = vec![doc("INV-1"), doc("INV-2")];
        attach_pdfs(&[&a], &mut docs);
        assert!(docs.iter().all(|d| d.meta.files.is_empty()));
        for d in &docs {
            let notes: Vec<_> = d.meta.notes().collect();
            assert_eq!(notes.len(), 1);
            assert!(notes[0].contains("scan.pdf"), "{}", notes[0]);
            assert!(notes[0].contains("INV-1, INV-2"), "{}", notes[0]);
        }
    }

    #[test]
    fn at_most_ten_files_go_with_one_document() {
        let pdfs: Vec<MailAttachment> = (0..12)
            .map(|k| att(&format!("p{k}.pdf"), "application/pdf", b"%PDF-1.7"))
            .collect();
        let refs: Vec<&MailAttachment> = pdfs.iter().collect();
        let mut docs = vec![doc("INV-1")];
        attach_pdfs(&refs, &mut docs);
        assert_eq!(docs[0].meta.files.len(), MAX_FILES_PER_DOCUMENT);
        assert_eq!(docs[0].meta.notes().count(), 2);
    }
}
