//! Dialects (BOM, CRLF, embedded newlines, `;` and tab delimiters, no final newline) and
//! streaming: documents leave the decoder as their rows complete.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::cell::Cell;
use std::io::{BufReader, Read};
use std::rc::Rc;

use adapter_csv::CsvCodec;
use common::{canonical, decode, decode_with, docs, samples};
use gateway_core::{Decode, DecodeItem, Encode, PartnerProfile};

fn check_case(case: &str) {
    let dir = samples().join("invoice");
    let raw = std::fs::read(dir.join(format!("{case}.csv"))).unwrap();
    let d = decode(&raw);
    assert!(d.rejects.is_empty(), "{case}: {:?}", d.rejects);
    assert_eq!(
        docs(&d),
        canonical(&dir.join(format!("{case}.canonical.json"))),
        "{case}"
    );
}

#[test]
fn bom() {
    check_case("dialect_bom");
}

#[test]
fn crlf() {
    check_case("dialect_crlf");
}

#[test]
fn embedded_newline_and_doubled_quotes() {
    check_case("dialect_newline");
}

#[test]
fn semicolon_is_sniffed() {
    check_case("dialect_semicolon");
}

/// A spreadsheet saved on Windows writes Windows-1252: its names and curly quotes arrive as
/// written, and the note names the rows that were read so.
#[test]
fn windows_1252_is_read_as_written_and_noted() {
    check_case("dialect_windows_1252");
    let raw = std::fs::read(samples().join("invoice/dialect_windows_1252.csv")).unwrap();
    let d = decode(&raw);
    let notes: Vec<&str> = d.documents[0].meta.notes().collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with("rows 3, 4 not UTF-8: read as Windows-1252"),
        "{notes:?}"
    );
    // A UTF-8 file gets no such note.
    let crlf = std::fs::read(samples().join("invoice/dialect_crlf.csv")).unwrap();
    assert_eq!(decode(&crlf).documents[0].meta.notes().count(), 0);
}

/// A partner whose system reads Windows-1252 (`csv.charset`) is written in it, and what is
/// written reads back the same; a character the set lacks is refused at its row and column.
#[test]
fn a_partner_that_reads_windows_1252_is_written_in_it() {
    let raw = std::fs::read(samples().join("invoice/dialect_windows_1252.csv")).unwrap();
    let original = docs(&decode(&raw));
    let toml = "id = \"p\"\n[csv]\ncharset = \"windows-1252\"\n";
    let profile = PartnerProfile::from_toml(toml, "p.toml").unwrap();
    let written = CsvCodec.encode(&original, &profile).unwrap();
    let find = |needle: &[u8]| written.windows(needle.len()).any(|w| w == needle);
    assert!(find(b"Soci\xe9t\xe9 M\xfcller"), "{written:?}");
    assert!(
        find(b"Men\x92s \x93heavy\x94 gloves \x96 size 9"),
        "{written:?}"
    );
    assert!(std::str::from_utf8(&written).is_err(), "written as UTF-8");
    assert_eq!(docs(&decode_with(&written, toml)), original);
    // The default stays UTF-8.
    let utf8 = CsvCodec
        .encode(&original, &PartnerProfile::anonymous())
        .unwrap();
    assert!(String::from_utf8(utf8).unwrap().contains("Société Müller"));

    let mut ticked = original.clone();
    let gateway_model::Document::Invoice(inv) = &mut ticked[0] else {
        panic!("{ticked:?}")
    };
    inv.lines[1].description = Some("Cable ties ✓".into());
    let err = CsvCodec.encode(&ticked, &profile).unwrap_err().to_string();
    assert!(
        err.contains("row 5, column 5 (\"Cable ties ✓\") holds '✓' (U+2713)")
            && err.contains("csv.charset"),
        "{err}"
    );
}

/// `Ö€` from a Windows-1252 spreadsheet is also valid UTF-8 (U+0580): a partner whose profile
/// says Windows-1252 is read in it throughout, with nothing to note.
#[test]
fn a_partner_that_writes_windows_1252_is_read_so_even_where_the_bytes_are_utf8() {
    let raw = b"Invoice,Invoice Number,Supplier Name,Invoice Date,Currency\n\
Invoice Line,Invoice Number,Line Number,Description,Price,Quantity,Unit of Measure\n\
Invoice,D-2,Gr\xd6\x80e AG,2026-05-01,EUR\n\
Invoice Line,D-2,1,Ties,1.00,2,PK\n";
    let supplier = |d: &gateway_core::Decoded| match &d.documents[0].document {
        gateway_model::Document::Invoice(i) => i.supplier.as_ref().unwrap().name.clone().unwrap(),
        other => panic!("{other:?}"),
    };
    let guessed = decode(raw);
    assert_eq!(
        supplier(&guessed),
        "Gr\u{580}e AG",
        "valid UTF-8 is read as UTF-8"
    );
    let declared = decode_with(raw, "id = \"p\"\n[csv]\ncharset = \"windows-1252\"\n");
    assert_eq!(supplier(&declared), "GrÖ€e AG");
    assert_eq!(declared.documents[0].meta.notes().count(), 0);
}

/// Excel's "Unicode Text" is UTF-16 with tabs: read as the same invoice as its UTF-8 copy, in
/// either byte order; half a character is refused with where, not replaced.
#[test]
fn utf16_files_read_as_their_text() {
    let dir = samples().join("invoice");
    let text = std::fs::read_to_string(dir.join("dialect_crlf.csv"))
        .unwrap()
        .replace(',', "\t");
    let expected = canonical(&dir.join("dialect_crlf.canonical.json"));
    for (bom, unit) in [
        (b"\xFF\xFE", u16::to_le_bytes as fn(u16) -> [u8; 2]),
        (b"\xFE\xFF", u16::to_be_bytes as fn(u16) -> [u8; 2]),
    ] {
        let mut raw = bom.to_vec();
        raw.extend(text.encode_utf16().flat_map(unit));
        let d = decode(&raw);
        assert!(d.rejects.is_empty(), "{:?}", d.rejects);
        assert_eq!(docs(&d), expected);
    }
    let mut broken = b"\xFF\xFE".to_vec();
    broken.extend(text.encode_utf16().take(40).flat_map(u16::to_le_bytes));
    broken.extend_from_slice(&0xDC00u16.to_le_bytes());
    let d = decode(&broken);
    assert_eq!(d.rejects.len(), 1, "{:?}", d.rejects);
    assert!(
        d.rejects[0].message.contains("lone surrogate") && d.rejects[0].message.contains("UTF-8"),
        "{:?}",
        d.rejects
    );
}

/// A UTF-16 file from a partner whose profile says Windows-1252 (its other files are) is
/// decoded once: the profile's charset read the decoded text again (`GrÃ¶ÃŸe`).
#[test]
fn utf16_from_a_windows_1252_partner_is_decoded_once() {
    let text = "Invoice,Invoice Number,Supplier Name,Invoice Date,Currency\n\
Invoice Line,Invoice Number,Line Number,Description,Price,Quantity,Unit of Measure\n\
Invoice,D-3,Müller AG,2026-05-01,EUR\n\
Invoice Line,D-3,1,Größe L,1.00,2,PK\n";
    let mut raw = b"\xFF\xFE".to_vec();
    raw.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let d = decode_with(&raw, "id = \"p\"\n[csv]\ncharset = \"windows-1252\"\n");
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let json = gateway_model::to_json(&d.documents[0].document);
    assert!(
        json.contains("Müller AG") && json.contains("Größe L"),
        "{json}"
    );
}

/// UTF-16 without its byte-order mark was read as one garbled column and refused as "not a
/// Coupa file"; it is now told by its zero bytes, read in either order, and noted.
#[test]
fn utf16_without_a_byte_order_mark_is_read_and_noted() {
    let dir = samples().join("invoice");
    let text = std::fs::read_to_string(dir.join("dialect_crlf.csv")).unwrap();
    let expected = canonical(&dir.join("dialect_crlf.canonical.json"));
    for (unit, order) in [
        (u16::to_le_bytes as fn(u16) -> [u8; 2], "little-endian"),
        (u16::to_be_bytes as fn(u16) -> [u8; 2], "big-endian"),
    ] {
        let raw: Vec<u8> = text.encode_utf16().flat_map(unit).collect();
        let d = decode(&raw);
        assert!(d.rejects.is_empty(), "{order}: {:?}", d.rejects);
        assert_eq!(docs(&d), expected, "{order}");
        let notes: Vec<&str> = d.documents[0].meta.notes().collect();
        assert!(
            notes
                .iter()
                .any(|n| n.contains(&format!("UTF-16 ({order}) without a byte-order mark"))),
            "{notes:?}"
        );
    }
    // UTF-8 and Windows-1252 text is never taken for it.
    for other in [
        "dialect_crlf.csv",
        "dialect_windows_1252.csv",
        "coupa_import.csv",
    ] {
        let raw = std::fs::read(dir.join(other)).unwrap();
        assert_eq!(
            gateway_model::charset::utf16_without_bom(&raw),
            None,
            "{other}"
        );
    }
}

/// A guessed delimiter is noted with every document (a comma, the default, is not), and a
/// configured one is not noted at all.
#[test]
fn a_guessed_delimiter_is_noted() {
    let raw = std::fs::read(samples().join("invoice/dialect_semicolon.csv")).unwrap();
    let notes = |d: &gateway_core::Decoded| -> Vec<Vec<String>> {
        d.documents
            .iter()
            .map(|x| x.meta.notes().map(str::to_string).collect())
            .collect()
    };
    let guessed = notes(&decode(&raw));
    assert!(!guessed.is_empty());
    for n in &guessed {
        assert!(
            n.len() == 1 && n[0].starts_with("the delimiter ';' was guessed from the first line"),
            "{n:?}"
        );
    }
    let configured = notes(&decode_with(&raw, "id = \"p\"\n[csv]\ndelimiter = \";\"\n"));
    assert_eq!(configured.len(), guessed.len());
    assert!(configured.iter().all(Vec::is_empty), "{configured:?}");
    let comma = std::fs::read(samples().join("invoice/dialect_crlf.csv")).unwrap();
    assert!(notes(&decode(&comma)).iter().all(Vec::is_empty));
}

#[test]
fn tab_is_sniffed() {
    check_case("dialect_tab");
}

#[test]
fn no_final_newline() {
    check_case("dialect_no_final_newline");
}

#[test]
fn configured_delimiter_wins_over_sniffing() {
    // The header row has more commas than pipes; the profile says pipe.
    let raw = b"Invoice|Invoice Number|Supplier Name|Invoice Date\n\
Invoice|E-1|Commas, Inc.|2026-05-01\n";
    let d = decode_with(raw, "id = \"p\"\n[csv]\ndelimiter = \"|\"\n");
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    assert_eq!(docs(&d)[0].number(), "E-1");
}

/// Counts the bytes the decoder has pulled from its input.
struct Counting<R> {
    inner: R,
    read: Rc<Cell<usize>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n);
        Ok(n)
    }
}

#[test]
fn documents_are_emitted_before_the_file_is_read_to_the_end() {
    let mut file = String::from(
        "Invoice,Invoice Number,Invoice Date\nInvoice Line,Invoice Number,Price,Quantity\n",
    );
    for i in 0..40_000 {
        file.push_str(&format!(
            "Invoice,S-{i},2026-01-01\nInvoice Line,S-{i},1.00,2\n"
        ));
    }
    let total = file.len();
    let read = Rc::new(Cell::new(0));
    let mut input = BufReader::new(Counting {
        inner: file.as_bytes(),
        read: Rc::clone(&read),
    });
    let mut at_first = None;
    let mut count = 0;
    CsvCodec
        .decode_reader(&mut input, &PartnerProfile::anonymous(), &mut |item| {
            if let DecodeItem::Document(_) = item {
                count += 1;
                at_first.get_or_insert(read.get());
            }
        })
        .unwrap();
    assert_eq!(count, 40_000);
    let at_first = at_first.unwrap();
    assert!(
        at_first < total / 4,
        "first document emitted after {at_first} of {total} bytes"
    );
}

#[test]
fn an_oversized_cell_rejects_its_document_only() {
    let big = "x".repeat(adapter_csv::limits::MAX_FIELD_BYTES + 1);
    let raw = format!(
        "Invoice,Invoice Number,Invoice Date\nInvoice Line,Invoice Number,Description\n\
Invoice,F-1,2026-01-01\nInvoice Line,F-1,{big}\nInvoice,F-2,2026-01-01\n"
    );
    let d = decode(raw.as_bytes());
    assert_eq!(d.documents.len(), 1);
    assert_eq!(d.documents[0].document.number(), "F-2");
    assert_eq!(d.rejects.len(), 1);
    assert_eq!(d.rejects[0].location, "row 4");
    assert_eq!(d.rejects[0].document.as_deref(), Some("F-1"));
}

#[test]
fn coupa_layout_with_the_partners_dates_and_decimal_commas() {
    use gateway_core::Encode;
    let profile = "id = \"us\"\n[csv]\ndate_format = \"%m/%d/%Y\"\ndecimal_separator = \",\"\n";
    let raw = "Invoice;Invoice Number;Invoice Date\n\
Invoice Line;Invoice Number;Price;Quantity\n\
Invoice;U-1;03/15/2026\n\
Invoice Line;U-1;1.234,50;2\n";
    let d = decode_with(raw.as_bytes(), profile);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let docs = docs(&d);
    let gateway_model::Document::Invoice(inv) = &docs[0] else {
        panic!()
    };
    assert_eq!(inv.invoice_date.unwrap().to_string(), "2026-03-15");
    assert_eq!(inv.lines[0].unit_price.unwrap().to_string(), "1234.50");
    assert_eq!(inv.lines[0].amount.unwrap().to_string(), "2469.00");
    let p = PartnerProfile::from_toml(profile, "p.toml").unwrap();
    let bytes = CsvCodec.encode(&docs, &p).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        text.contains("03/15/2026") && text.contains("\"1234,50\""),
        "{text}"
    );
    let again = CsvCodec.decode(&bytes, &p);
    assert!(again.rejects.is_empty(), "{:?}", again.rejects);
    assert_eq!(common::docs(&again), docs);
}

#[test]
fn a_record_with_too_many_cells_is_rejected() {
    let wide = ",".repeat(adapter_csv::limits::MAX_COLUMNS + 1);
    let raw = format!(
        "Invoice,Invoice Number,Invoice Date\nInvoice,W-1,2026-01-01{wide}\nInvoice,W-2,2026-01-01\n"
    );
    let d = decode(raw.as_bytes());
    assert_eq!(d.documents.len(), 1);
    assert_eq!(d.documents[0].document.number(), "W-2");
    assert_eq!(d.rejects.len(), 1);
    assert_eq!(d.rejects[0].location, "row 2");
    assert!(
        d.rejects[0].message.contains("cells"),
        "{}",
        d.rejects[0].message
    );
}

#[test]
fn an_oversized_invoice_row_does_not_reject_the_invoice_before_it() {
    let big = "x".repeat(adapter_csv::limits::MAX_FIELD_BYTES + 1);
    let raw = format!(
        "Invoice,Invoice Number,Invoice Date,Supplier Note\n\
Invoice Line,Invoice Number,Price,Quantity\n\
Invoice,K-1,2026-01-01,\nInvoice Line,K-1,1.00,1\n\
Invoice,K-2,2026-01-01,{big}\nInvoice Line,K-2,1.00,1\n\
Invoice,K-3,2026-01-01,\n"
    );
    let d = decode(raw.as_bytes());
    let numbers: Vec<&str> = d.documents.iter().map(|d| d.document.number()).collect();
    assert_eq!(numbers, ["K-1", "K-3"]);
    let locations: Vec<&str> = d.rejects.iter().map(|r| r.location.as_str()).collect();
    assert_eq!(locations, ["row 5", "row 6"]);
}

/// QA's `amb.csv`: `;`-separated, no decimal separator in the profile. `2,500` and `0,125`
/// were read as 2500 and 125 (a Coupa invoice at 25,125.000 instead of 150.00): where cells are
/// `;`-separated, a comma without a point is refused as ambiguous, with what to set, whether
/// the `;` was guessed or declared. Declared, the separator decides.
#[test]
fn a_comma_without_a_point_in_a_semicolon_file_is_refused_unless_the_profile_says() {
    let raw = "\
Invoice;Invoice Number*;Supplier Name;Supplier Number;Invoice Date*;Currency
Invoice Line;Invoice Number*;Supplier Name;Line Number;Description*;Price*;Quantity;Unit of Measure*
Invoice;AMB-1;Acme Supplies;ACME-1;2026-03-15;EUR
Invoice Line;AMB-1;Acme Supplies;1;Schrauben M6;2,500;10;EA
Invoice Line;AMB-1;Acme Supplies;2;Muttern;0,125;1.000;EA
";
    for profile in ["id = \"p\"\n", "id = \"p\"\n[csv]\ndelimiter = \";\"\n"] {
        let d = decode_with(raw.as_bytes(), profile);
        assert!(d.documents.is_empty(), "{profile}: {:?}", docs(&d));
        let at: Vec<&str> = d.rejects.iter().map(|r| r.location.as_str()).collect();
        assert_eq!(
            at,
            ["row 4, column \"Price\"", "row 5, column \"Price\""],
            "{profile}"
        );
        for r in &d.rejects {
            assert!(
                r.message.contains("`;`-separated")
                    && r.message.contains("decimal_separator = \",\""),
                "{}",
                r.message
            );
        }
    }
    let comma = decode_with(
        raw.as_bytes(),
        "id = \"p\"\n[csv]\ndecimal_separator = \",\"\n",
    );
    assert!(comma.rejects.is_empty(), "{:?}", comma.rejects);
    let json = gateway_model::to_json(&comma.documents[0].document);
    assert!(
        json.contains("\"2.500\"") && json.contains("\"0.125\""),
        "{json}"
    );
    // The partner says its comma groups thousands: 2,500 is 2500, and 0,125 never is 125.
    let point = decode_with(
        raw.as_bytes(),
        "id = \"p\"\n[csv]\ndecimal_separator = \".\"\n",
    );
    assert_eq!(point.rejects.len(), 1, "{:?}", point.rejects);
    assert_eq!(point.rejects[0].location, "row 5, column \"Price\"");
    // A comma file is not `;`-separated: its grouping reads as before.
    let dot = decode(b"Invoice,Invoice Number,Currency\nInvoice Line,Invoice Number,Line Number,Price,Quantity\nInvoice,G-1,EUR\nInvoice Line,G-1,1,\"2,500\",1\n");
    assert!(dot.rejects.is_empty(), "{:?}", dot.rejects);
}

/// QA's `zero_group.csv`: `0,125` under the default decimal point was read as 125. A first
/// group of `0` never groups thousands: refused like `10,00`, saying what to set.
#[test]
fn a_first_group_of_zero_is_refused_at_its_row_and_column() {
    let raw = "\
Invoice,Invoice Number*,Supplier Name,Supplier Number,Invoice Date*,Currency
Invoice Line,Invoice Number*,Supplier Name,Line Number,Description*,Price*,Quantity,Unit of Measure*
Invoice,Z-1,Acme Supplies,ACME-1,2026-03-15,EUR
Invoice Line,Z-1,Acme Supplies,1,Nuts,\"0,125\",1000,EA
";
    let d = decode(raw.as_bytes());
    assert!(d.documents.is_empty(), "{:?}", docs(&d));
    assert_eq!(d.rejects.len(), 1, "{:?}", d.rejects);
    assert_eq!(d.rejects[0].location, "row 4, column \"Price\"");
    assert!(
        d.rejects[0].message.contains("\"0,125\"")
            && d.rejects[0].message.contains("decimal_separator = \",\""),
        "{}",
        d.rejects[0].message
    );
}

/// QA's `date2y.csv`: under `%d/%m/%Y`, `05/03/26` was the year 0026 in Coupa. A year cut
/// short is refused at its row and column, suggesting `%y`.
#[test]
fn a_two_digit_year_under_a_four_digit_format_is_refused_where_it_is() {
    let raw = "\
Invoice;Invoice Number*;Supplier Name;Supplier Number;Invoice Date*;Currency
Invoice Line;Invoice Number*;Supplier Name;Line Number;Description*;Price*;Quantity;Unit of Measure*
Invoice;DT-00;Fournitures Élysée SARL;FR-1;05/03/26;EUR
Invoice Line;DT-00;Fournitures Élysée SARL;1;Vis;1,00;1;EA
Invoice;DT-01;Fournitures Élysée SARL;FR-1;5/3/2026;EUR
Invoice Line;DT-01;Fournitures Élysée SARL;1;Vis;1,00;1;EA
";
    let profile = "id = \"frsup\"\n[csv]\ndelimiter = \";\"\ndate_format = \"%d/%m/%Y\"\ndecimal_separator = \",\"\n";
    let d = decode_with(raw.as_bytes(), profile);
    let numbers: Vec<&str> = d.documents.iter().map(|x| x.document.number()).collect();
    assert_eq!(numbers, ["DT-01"], "{:?}", d.rejects);
    assert_eq!(d.rejects.len(), 1, "{:?}", d.rejects);
    let r = &d.rejects[0];
    assert_eq!(r.location, "row 3, column \"Invoice Date\"");
    for want in [
        "\"05/03/26\"",
        "four-digit year",
        "date_format = \"%d/%m/%y\"",
    ] {
        assert!(r.message.contains(want), "{want}: {}", r.message);
    }
}

/// QA's `eu_utf8bom2.csv`: a UTF-8 file with its byte-order mark, from a partner whose profile
/// says Windows-1252, was read as Windows-1252 (`DÃ¼bel`) without a word. The mark says UTF-8:
/// read so, with a note that the profile says otherwise. Without the mark, the profile rules.
#[test]
fn a_utf8_byte_order_mark_wins_over_a_windows_1252_profile_and_is_noted() {
    let text = "Invoice,Invoice Number,Supplier Name,Invoice Date,Currency\n\
Invoice Line,Invoice Number,Line Number,Description,Price,Quantity,Unit of Measure\n\
Invoice,B-1,Schrauben Müller GmbH,2026-01-12,EUR\n\
Invoice Line,B-1,1,Dübel 8 mm – grau,1.00,2,PK\n";
    let profile = "id = \"p\"\n[csv]\ncharset = \"windows-1252\"\n";
    let mut raw = b"\xEF\xBB\xBF".to_vec();
    raw.extend_from_slice(text.as_bytes());
    let d = decode_with(&raw, profile);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let json = gateway_model::to_json(&d.documents[0].document);
    assert!(
        json.contains("Schrauben Müller GmbH") && json.contains("Dübel 8 mm – grau"),
        "{json}"
    );
    let notes: Vec<&str> = d.documents[0].meta.notes().collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    for want in [
        adapter_csv::UTF8_BY_ITS_MARK,
        "csv.charset = \"windows-1252\"",
        "charset = \"utf-8\"",
    ] {
        assert!(notes[0].contains(want), "{want}: {}", notes[0]);
    }
    assert!(
        !notes[0].contains(gateway_core::READ_AS_WINDOWS_1252),
        "{}",
        notes[0]
    );
    // Without the mark, the declared set is read exactly, unnoted.
    let d = decode_with(text.as_bytes(), profile);
    assert_eq!(d.documents[0].meta.notes().count(), 0);
    // A UTF-8 partner's file with the mark is not noted either.
    let d = decode(&raw);
    assert_eq!(d.documents[0].meta.notes().count(), 0);
}

/// QA: `fr_comma.csv` (`,`) under a profile saying `;` was refused as "not a Coupa invoice
/// import", though its first column is `Invoice`; so was a UTF-16 tab file. A header line the
/// profile's delimiter does not split, which another splits, is refused saying so.
#[test]
fn a_header_line_the_profile_delimiter_does_not_split_is_refused_naming_the_one_it_has() {
    let text = "Invoice,Invoice Number,Supplier Name,Invoice Date,Currency\n\
Invoice Line,Invoice Number,Line Number,Description,Price,Quantity\n\
Invoice,F-1,Fournitures,2026-02-28,EUR\n\
Invoice Line,F-1,1,Café,\"1.000,00\",1\n";
    let semicolon = "id = \"frsup\"\n[csv]\ndelimiter = \";\"\ndecimal_separator = \",\"\n";
    let d = decode_with(text.as_bytes(), semicolon);
    assert!(d.documents.is_empty());
    assert_eq!(d.rejects.len(), 1, "{:?}", d.rejects);
    let r = &d.rejects[0];
    assert_eq!(r.location, "row 1");
    for want in [
        "delimiter `;` (csv.delimiter) does not split the header line",
        "looks `,`-separated",
        "delimiter = \",\"",
    ] {
        assert!(r.message.contains(want), "{want}: {}", r.message);
    }
    assert!(!r.message.contains("record type"), "{}", r.message);
    // UTF-16 with tabs, the same profile.
    let mut utf16 = b"\xFF\xFE".to_vec();
    utf16.extend(
        text.replace(',', "\t")
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    let d = decode_with(&utf16, semicolon);
    assert_eq!(d.rejects.len(), 1, "{:?}", d.rejects);
    assert!(
        d.rejects[0].message.contains("looks tab-separated")
            && d.rejects[0].message.contains("delimiter = \"\\t\""),
        "{}",
        d.rejects[0].message
    );
    // A column map's header is checked the same way.
    let map = "id = \"m\"\n[csv]\ndelimiter = \";\"\ncolumns = [\n  { column = \"Nr\", field = \"invoice_number\" },\n  { column = \"Cur\", field = \"currency\" },\n]\n";
    let d = decode_with(b"Nr,Cur\nA-1,EUR\n", map);
    assert_eq!(d.rejects.len(), 1, "{:?}", d.rejects);
    assert!(
        d.rejects[0].message.contains("looks `,`-separated"),
        "{:?}",
        d.rejects
    );
}
