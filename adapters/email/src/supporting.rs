//! PDF copies sent beside the documents of a mail.
//!
//! A supplier that mails a cXML or X12 invoice often attaches its PDF too, and in many
//! countries that PDF is the invoice in law, so a buyer wants it on the invoice in Coupa. Only
//! PDFs are taken: the other files of a mail (a logo in the signature, a spreadsheet) are not
//! the supplier's invoice. Which document each PDF goes with is
//! [`gateway_core::assign_files`]'s rule (the number in its name, or the mail's one document).

use gateway_core::{DecodedDocument, SupportingFile, assign_files};

use crate::message::MailAttachment;

/// Whether `att` is named or typed as a PDF, whatever its bytes.
pub fn named_pdf(att: &MailAttachment) -> bool {
    let named = att
        .name
        .as_deref()
        .and_then(|n| n.rsplit_once('.'))
        .is_some_and(|(_, e)| e.eq_ignore_ascii_case("pdf"));
    named || att.content_type.as_deref() == Some("application/pdf")
}

/// Where a PDF's header may start: PDF readers look for `%PDF-` within the first kilobyte,
/// and some mailers put a line break before it.
const PDF_HEADER_WINDOW: usize = 1024;

/// Whether `att` is a PDF file: named or typed as one, with the `%PDF-` header in its first
/// kilobyte.
pub fn is_pdf(att: &MailAttachment) -> bool {
    let head = att.bytes.get(..PDF_HEADER_WINDOW).unwrap_or(&att.bytes);
    named_pdf(att) && head.windows(5).any(|w| w == b"%PDF-")
}

/// The note on a mail's documents for a file named or typed as a PDF that is not one (its
/// transfer encoding broken, or something else named `.pdf`): it was skipped with a log line
/// only, and the invoice went to Coupa without its copy.
pub fn damaged_pdf_note(label: &str) -> String {
    format!(
        "{label} is named as a PDF but is not one (no %PDF- header; damaged in transit?): not attached; send the PDF again"
    )
}

/// Gives each PDF of `pdfs` to the document of `docs` it belongs to.
pub fn attach_pdfs(pdfs: &[&MailAttachment], docs: &mut [DecodedDocument]) {
    let files = pdfs
        .iter()
        .enumerate()
        .map(|(n, att)| {
            let name = att
                .name
                .clone()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| format!("attachment-{}.pdf", n + 1));
            SupportingFile::received(&name, "application/pdf", att.bytes.clone())
        })
        .collect();
    assign_files(files, docs);
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_core::SourceMeta;
    use gateway_model::{Document, Invoice};

    fn att(name: Option<&str>, ctype: &str, bytes: &[u8]) -> MailAttachment {
        MailAttachment {
            index: 1,
            name: name.map(str::to_string),
            content_type: Some(ctype.into()),
            bytes: bytes.to_vec(),
            sent: None,
            charset: None,
            is_message: false,
            unreadable: None,
        }
    }

    #[test]
    fn only_real_pdfs_count() {
        assert!(is_pdf(&att(
            Some("a.PDF"),
            "application/octet-stream",
            b"%PDF-1.7\n"
        )));
        assert!(is_pdf(&att(Some("scan"), "application/pdf", b"%PDF-1.4\n")));
        assert!(!is_pdf(&att(Some("a.pdf"), "application/pdf", b"<html>")));
        assert!(!is_pdf(&att(Some("a.png"), "image/png", b"%PDF-1.4")));
    }

    #[test]
    fn a_pdf_without_a_name_gets_one_and_goes_with_the_only_document() {
        let a = att(None, "application/pdf", b"%PDF-1.7 a");
        let mut docs = vec![DecodedDocument {
            document: Document::Invoice(Invoice {
                invoice_number: Some("INV-9".into()),
                ..Invoice::default()
            }),
            meta: SourceMeta::default(),
        }];
        attach_pdfs(&[&a], &mut docs);
        assert_eq!(docs[0].meta.files.len(), 1);
        assert_eq!(docs[0].meta.files[0].name, "attachment-1.pdf");
        assert_eq!(docs[0].meta.files[0].content_type, "application/pdf");
    }
}
