//! A zip dropped into a partner's folder: Coupa's flat-file way of sending invoices with their
//! files (one CSV at the top level, the PDFs beside it, each invoice row naming its file in
//! `Image Scan Filename`). The document entry is decoded as if dropped alone; the other entries
//! go with it as files ([`gateway_core::assign_files`]).
//!
//! A zip is read in memory under bounds (entries, each entry's size, the total, checked against
//! what is actually inflated, not what the headers claim), and entries are never written to
//! disk under their own names, so neither a zip bomb nor a `../` name can hurt.

use std::io::Read;

use gateway_core::{Format, SupportingFile, detect_format};

/// Whether `raw` starts like a zip archive (a local file header).
pub fn is_zip(raw: &[u8]) -> bool {
    raw.starts_with(b"PK\x03\x04")
}

/// Bounds on one zip.
#[derive(Debug, Clone, Copy)]
pub struct ZipLimits {
    pub max_entries: usize,
    pub max_entry_bytes: u64,
    pub max_total_bytes: u64,
    /// Largest entry that is not a document (a PDF copy): what Coupa takes for an invoice's
    /// files. A 400 MB "PDF" was inflated, stored, and only refused by Coupa at delivery.
    pub max_supporting_bytes: u64,
}

/// Coupa's documented bound on an invoice's files (8 MB), as the most one supporting file in a
/// zip may inflate to.
pub const COUPA_FILES_BYTES: u64 = 8 * 1024 * 1024;

impl ZipLimits {
    /// Bounds for a folder whose files may be `max_file_bytes`: an entry as large as a file,
    /// everything inflated at most four times that, and 200 entries (Coupa takes ten files per
    /// invoice, its import at most 8 MB).
    pub fn for_files_of(max_file_bytes: u64) -> Self {
        ZipLimits {
            max_entries: 200,
            max_entry_bytes: max_file_bytes,
            max_total_bytes: max_file_bytes.saturating_mul(4),
            max_supporting_bytes: max_file_bytes.min(COUPA_FILES_BYTES),
        }
    }
}

/// A zip's document and the files that came with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipDrop {
    /// The entry holding the documents (its name, its bytes).
    pub document_name: String,
    pub document: Vec<u8>,
    pub files: Vec<SupportingFile>,
}

/// The content type a file's name suggests, for where it is delivered.
fn content_type_of(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "tif" | "tiff" => "image/tiff",
        "gif" => "image/gif",
        "txt" => "text/plain",
        "xml" => "application/xml",
        "csv" => "text/csv",
        _ => "application/octet-stream",
    }
}

/// Whether an entry may hold documents, told by its name before it is inflated: a CSV, an
/// X12 or cXML file by its usual extensions, or a name without one (X12 files often have
/// none). Anything else (`.pdf`, `.png`, ...) is a supporting file.
fn may_be_document(name: &str) -> bool {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let lower = base.to_ascii_lowercase();
    match lower.rsplit_once('.') {
        None => true,
        Some((_, ext)) => matches!(
            ext,
            "csv" | "txt" | "edi" | "x12" | "xml" | "cxml" | "dat" | "810" | "850" | "997"
        ),
    }
}

/// Whether an entry holds documents: a CSV by name, or X12/cXML by content.
fn is_document(name: &str, bytes: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".csv") || matches!(detect_format(bytes), Format::X12 | Format::Cxml)
}

/// Reads `raw` within `limits`; the error says what is wrong, for the partner.
pub fn read_zip(raw: &[u8], limits: ZipLimits) -> Result<ZipDrop, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(raw))
        .map_err(|e| format!("not a readable zip: {e}"))?;
    if archive.len() > limits.max_entries {
        // Said with what to do: the limit is the gateway's own and fixed, and Coupa's own
        // flat-file import takes smaller zips still.
        let max = limits.max_entries;
        return Err(format!(
            "the zip has {} entries; the limit is {max} (the gateway's own, not a setting): send \
             it as several zips of at most {max} files each, each with its own invoice file \
             holding the invoices whose files it carries (Coupa's own flat-file import takes a \
             zip under {} MB, with at most 10 files per invoice)",
            archive.len(),
            COUPA_FILES_BYTES / (1024 * 1024)
        ));
    }
    let mut total: u64 = 0;
    let mut documents: Vec<(String, Vec<u8>)> = Vec::new();
    let mut files = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| format!("entry {}: {e}", i + 1))?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().to_string();
        // Only a file that may hold documents (by its name) may be as large as a document;
        // any other is a supporting file, bounded by what Coupa takes.
        let per_entry = if may_be_document(&name) {
            limits.max_entry_bytes
        } else {
            limits.max_supporting_bytes
        };
        // Read at most one byte more than allowed: a header may lie about the size.
        let allowed = per_entry.min(limits.max_total_bytes.saturating_sub(total));
        let mut bytes = Vec::new();
        (&mut entry)
            .take(allowed.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| format!("entry {name}: {e}"))?;
        if bytes.len() as u64 > allowed {
            return Err(
                if per_entry < limits.max_entry_bytes && allowed == per_entry {
                    format!(
                        "entry {name} inflates past {per_entry} bytes, the most Coupa takes for an invoice's files; send it smaller, or the invoice without it"
                    )
                } else {
                    format!(
                        "entry {name} inflates past the limit ({per_entry} bytes for this entry, {} in all); refused as a possible zip bomb",
                        limits.max_total_bytes
                    )
                },
            );
        }
        let base = name.rsplit(['/', '\\']).next().unwrap_or(&name).to_string();
        total += bytes.len() as u64;
        if base.is_empty() || base.starts_with('.') || name.starts_with("__MACOSX/") {
            continue;
        }
        if is_zip(&bytes) {
            // Its documents would never be read, and the zip would reach Coupa as an invoice's
            // file: the invoices in it lost without a word.
            return Err(format!(
                "entry {name} is itself a zip, and a zip inside a zip is not opened; put its files at the top level of one zip"
            ));
        }
        if is_document(&base, &bytes) {
            documents.push((base, bytes));
        } else if bytes.len() as u64 > limits.max_supporting_bytes {
            return Err(format!(
                "entry {name} inflates past {} bytes, the most Coupa takes for an invoice's files; send it smaller, or the invoice without it",
                limits.max_supporting_bytes
            ));
        } else {
            files.push(SupportingFile::received(
                &base,
                content_type_of(&base),
                bytes,
            ));
        }
    }
    match documents.len() {
        1 => {
            let (document_name, document) = documents.remove(0);
            Ok(ZipDrop {
                document_name,
                document,
                files,
            })
        }
        0 => Err("the zip holds no document (a .csv, or an X12 or cXML file); put the invoice file at its top level beside its PDFs".into()),
        n => Err(format!(
            "the zip holds {n} document files ({}); send one per zip, with the PDFs it names",
            documents
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        {
            let mut z = zip::ZipWriter::new(&mut out);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            for (name, bytes) in entries {
                z.start_file(*name, opts).expect("start");
                z.write_all(bytes).expect("write");
            }
            z.finish().expect("finish");
        }
        out.into_inner()
    }

    const LIMITS: ZipLimits = ZipLimits {
        max_entries: 20,
        max_entry_bytes: 100_000,
        max_total_bytes: 200_000,
        max_supporting_bytes: 50_000,
    };

    /// A supporting file is bounded by what Coupa takes for an invoice's files, however large
    /// a document may be: a zip of a CSV and a 400 MB "PDF" of zeros was inflated and stored,
    /// then refused by Coupa at delivery. A document-sized file is still taken.
    #[test]
    fn a_supporting_file_larger_than_coupa_takes_is_refused_before_it_is_inflated() {
        let csv = b"Invoice,Invoice Number*\n";
        let big = vec![0u8; 60_000];
        for name in ["INV-1.pdf", "scan", "notes.txt"] {
            let raw = zip_of(&[("invoices.csv", csv), (name, &big)]);
            let err = read_zip(&raw, LIMITS).err().unwrap_or_default();
            assert!(
                err.contains(&format!("entry {name} inflates past 50000 bytes"))
                    && err.contains("the most Coupa takes"),
                "{name}: {err}"
            );
        }
        // A document may be larger than a supporting file.
        let mut large_csv = csv.to_vec();
        large_csv.extend(std::iter::repeat_n(b'x', 60_000));
        let raw = zip_of(&[("invoices.csv", &large_csv), ("INV-1.pdf", b"%PDF-1.7")]);
        assert_eq!(
            read_zip(&raw, LIMITS).map(|z| z.document.len()),
            Ok(large_csv.len())
        );
        assert_eq!(
            ZipLimits::for_files_of(512 * 1024 * 1024).max_supporting_bytes,
            COUPA_FILES_BYTES
        );
    }

    #[test]
    fn the_csv_is_the_document_and_the_rest_are_files() {
        let raw = zip_of(&[
            ("invoices.csv", b"Invoice,Invoice Number*\n"),
            ("scans/INV-1.pdf", b"%PDF-1.7 one"),
            ("logo.PNG", b"\x89PNG"),
            ("__MACOSX/._INV-1.pdf", b"junk"),
        ]);
        assert!(is_zip(&raw));
        let z = read_zip(&raw, LIMITS).unwrap();
        assert_eq!(z.document_name, "invoices.csv");
        assert_eq!(z.document, b"Invoice,Invoice Number*\n");
        let names: Vec<_> = z
            .files
            .iter()
            .map(|f| (f.name.as_str(), f.content_type.as_str()))
            .collect();
        assert_eq!(
            names,
            [("INV-1.pdf", "application/pdf"), ("logo.PNG", "image/png")]
        );
        assert_eq!(z.files[0].bytes, b"%PDF-1.7 one");
    }

    #[test]
    fn zips_that_cannot_be_taken_say_why() {
        let none = read_zip(&zip_of(&[("a.pdf", b"%PDF")]), LIMITS).unwrap_err();
        assert!(none.contains("no document"), "{none}");
        let two = read_zip(&zip_of(&[("a.csv", b"x"), ("b.csv", b"y")]), LIMITS).unwrap_err();
        assert!(two.contains("a.csv, b.csv"), "{two}");
        assert!(
            read_zip(b"PK\x03\x04 not really", LIMITS)
                .unwrap_err()
                .contains("not a readable zip")
        );
        let many: Vec<(String, Vec<u8>)> = (0..21)
            .map(|k| (format!("{k}.pdf"), b"x".to_vec()))
            .collect();
        let refs: Vec<(&str, &[u8])> = many
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        assert!(
            read_zip(&zip_of(&refs), LIMITS)
                .unwrap_err()
                .contains("21 entries")
        );
    }

    /// A zip inside the zip was attached to the invoice as a file, and the invoices in it
    /// were never read.
    #[test]
    fn a_zip_inside_a_zip_is_refused_not_attached() {
        let inner = zip_of(&[("more.csv", b"Invoice,Invoice Number*\n")]);
        for name in ["batch2.zip", "scans/batch2", "INV-1.pdf"] {
            let raw = zip_of(&[
                ("invoices.csv", b"Invoice,Invoice Number*\n"),
                (name, &inner),
            ]);
            let err = read_zip(&raw, LIMITS).unwrap_err();
            assert!(
                err.contains(&format!("entry {name} is itself a zip"))
                    && err.contains("top level of one zip"),
                "{name}: {err}"
            );
        }
    }

    #[test]
    fn an_entry_that_inflates_past_the_limit_is_refused() {
        // 1 MB of zeros deflates to about a kilobyte.
        let zeros = vec![0u8; 1_000_000];
        let raw = zip_of(&[("a.csv", b"x"), ("bomb.txt", &zeros)]);
        assert!(raw.len() < 10_000, "{}", raw.len());
        let err = read_zip(&raw, LIMITS).unwrap_err();
        assert!(
            err.contains("bomb.txt") && err.contains("zip bomb"),
            "{err}"
        );
    }
}
