//! A mailed document's text is decoded exactly once (QA's case: a cXML part declared
//! `text/xml; charset=iso-8859-1` reached Coupa as `Schutzhandschuhe GrÃ¶ÃŸe L - MÃ¼ller`, and a
//! valid UTF-16 one declared `charset=utf-16` was quarantined as "not UTF-16LE text", because
//! the part was converted by its MIME charset and the XML reader then applied the XML
//! declaration to the result).
//!
//! - XML reaches its reader as the sender wrote it (transfer encoding undone only): its
//!   declaration or byte-order mark names its encoding, whatever the MIME charset says.
//! - Other text (CSV, X12) declared in a charset is converted from it once, and read as the
//!   UTF-8 it then is, even when the partner's profile says its system writes Windows-1252.
//!
//! The readers are stand-ins that decode text exactly as the real ones do (`stub_readers`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod stub_readers;

use gateway_core::profile::{CsvProfile, X12Profile};
use gateway_core::{Decode, PartnerProfile};
use gateway_model::charset::Charset;
use stub_readers::{Part, codec, mail, notes, only_description};

const TEXT: &str = "Schutzhandschuhe Größe L - Müller";

/// A cXML invoice from Acme whose first line is [`TEXT`], with `encoding` in its declaration.
fn cxml(encoding: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"{encoding}\"?>\n\
         <cXML payloadID=\"1.42@acme.example\" timestamp=\"2026-03-15T09:30:00-05:00\">\n\
         <Header><From><Credential domain=\"DUNS\"><Identity>123456789</Identity></Credential></From></Header>\n\
         <Request><InvoiceDetailRequest>\n\
         <InvoiceDetailRequestHeader invoiceID=\"INV-42\" purpose=\"standard\">\n\
         <InvoicePartner><Contact role=\"from\"><Name xml:lang=\"de\">Müller Arbeitsschutz GmbH</Name></Contact></InvoicePartner>\n\
         </InvoiceDetailRequestHeader>\n\
         <InvoiceDetailItem invoiceLineNumber=\"1\" quantity=\"10\"><Description xml:lang=\"de\">{TEXT}</Description></InvoiceDetailItem>\n\
         </InvoiceDetailRequest></Request>\n</cXML>\n"
    )
}

fn acme() -> PartnerProfile {
    PartnerProfile {
        id: "acme".into(),
        ..PartnerProfile::default()
    }
}

/// Acme's profile saying its system writes Windows-1252 where a file does not say.
fn acme_windows_1252() -> PartnerProfile {
    PartnerProfile {
        csv: Some(CsvProfile {
            charset: Some(Charset::Windows1252),
            ..CsvProfile::default()
        }),
        x12: Some(X12Profile {
            charset: Some(Charset::Windows1252),
            ..X12Profile::default()
        }),
        ..acme()
    }
}

fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

fn decode_one(content_type: &str, encoding: &str, name: &str, body: &[u8]) -> String {
    decode_one_as(&acme(), content_type, encoding, name, body)
}

fn decode_one_as(
    partner: &PartnerProfile,
    content_type: &str,
    encoding: &str,
    name: &str,
    body: &[u8],
) -> String {
    let raw = mail(
        "billing@acme.example",
        "m1@acme.example",
        &[Part {
            name,
            content_type,
            encoding,
            body,
        }],
    );
    let d = codec().decode(&raw, partner);
    for doc in &d.documents {
        assert!(notes(doc).is_empty(), "{content_type}: {:?}", notes(doc));
    }
    only_description(&d)
}

#[test]
fn an_iso_8859_1_cxml_declared_so_in_its_mime_part_is_read_once() {
    let body = latin1(&cxml("ISO-8859-1"));
    for encoding in ["8bit", "quoted-printable", "base64"] {
        for ctype in [
            "text/xml; charset=iso-8859-1",
            "text/xml; charset=\"ISO-8859-1\"",
            "text/plain; charset=windows-1252",
            // As before: without the parameter, and as application/xml.
            "text/xml",
            "application/xml; charset=iso-8859-1",
        ] {
            assert_eq!(
                decode_one(ctype, encoding, "INV-42.xml", &body),
                TEXT,
                "{ctype}, {encoding}"
            );
        }
    }
}

#[test]
fn a_utf16_cxml_declared_utf16_in_its_mime_part_is_read() {
    let body = utf16le_with_bom(&cxml("UTF-16"));
    for ctype in [
        "text/xml; charset=utf-16",
        "text/xml; charset=UTF-16LE",
        "application/xml; charset=utf-16",
    ] {
        assert_eq!(
            decode_one(ctype, "base64", "INV-42.xml", &body),
            TEXT,
            "{ctype}"
        );
    }
}

/// The XML declaration is the authority, not the MIME charset: a UTF-8 document in a part
/// that says ISO-8859-1 (a mailer's default) is read as the UTF-8 it declares, and one in a
/// part whose charset the gateway does not know is read too.
#[test]
fn the_xml_declaration_wins_over_a_wrong_or_unknown_mime_charset() {
    let body = cxml("UTF-8").into_bytes();
    for ctype in [
        "text/xml; charset=iso-8859-1",
        "text/xml; charset=x-martian",
        "text/xml; charset=us-ascii",
    ] {
        assert_eq!(
            decode_one(ctype, "8bit", "INV-42.xml", &body),
            TEXT,
            "{ctype}"
        );
    }
}

/// UTF-16 without the byte-order mark XML requires, in a part whose charset names UTF-16: the
/// mark is supplied from the charset (the XML reader cannot guess the byte order).
#[test]
fn utf16_xml_without_its_byte_order_mark_is_read_by_the_mime_charset() {
    let text = cxml("UTF-16");
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    assert_eq!(
        decode_one("text/xml; charset=utf-16le", "base64", "a.xml", &le),
        TEXT
    );
    assert_eq!(
        decode_one("text/xml; charset=utf-16be", "base64", "a.xml", &be),
        TEXT
    );
    assert_eq!(
        decode_one("text/xml; charset=utf-16", "base64", "a.xml", &le),
        TEXT
    );
}

fn csv_1252() -> Vec<u8> {
    let text = format!(
        "Invoice Number,Supplier Name,Supplier Number,Description\n\
         INV-1001,Müller Arbeitsschutz GmbH,ACME-1,{TEXT} \u{2013} \u{201c}Nitril\u{201d}\n"
    );
    text.chars()
        .map(|c| gateway_model::charset::windows_1252_byte(c).unwrap_or(b'?'))
        .collect()
}

/// A CSV part declared windows-1252 is read as windows-1252 once: under a profile that says
/// the partner writes Windows-1252 it was decoded a second time (`GrÃ¶ÃŸe`).
#[test]
fn a_csv_declared_windows_1252_is_read_once_whatever_the_profile_says() {
    let want = format!("{TEXT} \u{2013} \u{201c}Nitril\u{201d}");
    for partner in [acme(), acme_windows_1252()] {
        for ctype in [
            "text/csv; charset=windows-1252",
            "text/csv; charset=iso-8859-1",
        ] {
            for encoding in ["8bit", "quoted-printable", "base64"] {
                assert_eq!(
                    decode_one_as(&partner, ctype, encoding, "inv.csv", &csv_1252()),
                    want,
                    "{ctype}, {encoding}, csv.charset {:?}",
                    partner.csv.as_ref().and_then(|c| c.charset)
                );
            }
        }
    }
    // Without a charset parameter the profile decides, as before: Windows-1252 throughout.
    assert_eq!(
        decode_one_as(
            &acme_windows_1252(),
            "text/csv",
            "8bit",
            "inv.csv",
            &csv_1252()
        ),
        want
    );
}

/// Shift_JIS declared on the part, under a Windows-1252 profile: converted once, not read
/// again byte by byte.
#[test]
fn a_csv_in_a_declared_multi_byte_charset_is_read_once() {
    // "Invoice Number,Supplier Name,Supplier Number,Description", then "INV-7,株式会社アクメ,
    // ACME-1,安全手袋（ニトリル）", as Python's shift_jis codec writes them.
    let mut body = b"Invoice Number,Supplier Name,Supplier Number,Description\nINV-7,".to_vec();
    body.extend_from_slice(b"\x8a\x94\x8e\xae\x89\xef\x8e\xd0\x83\x41\x83\x4e\x83\x81,ACME-1,");
    body.extend_from_slice(
        b"\x88\xc0\x91\x53\x8e\xe8\x91\xdc\x81\x69\x83\x6a\x83\x67\x83\x8a\x83\x8b\x81\x6a\n",
    );
    assert_eq!(
        decode_one_as(
            &acme_windows_1252(),
            "text/csv; charset=Shift_JIS",
            "base64",
            "inv.csv",
            &body
        ),
        "安全手袋（ニトリル）"
    );
}

/// The same for X12 under a profile with `x12.charset = "windows-1252"`.
#[test]
fn an_x12_part_declared_windows_1252_is_read_once() {
    let text = format!(
        "ISA*00*          *00*          *ZZ*ACME           *ZZ*GLOBEX         *260315*0930*U*00401*000000042*0*P*>~\
         BIG*20260315*INV-42~N1*SU*Müller Arbeitsschutz GmbH~PID*F****{TEXT}~"
    );
    let body: Vec<u8> = text
        .chars()
        .map(|c| gateway_model::charset::windows_1252_byte(c).unwrap_or(b'?'))
        .collect();
    for partner in [acme(), acme_windows_1252()] {
        assert_eq!(
            decode_one_as(
                &partner,
                "text/plain; charset=windows-1252",
                "quoted-printable",
                "inv.edi",
                &body
            ),
            TEXT
        );
    }
}

/// A charset nobody knows still refuses a CSV part with the reason (no guessing), as before.
#[test]
fn a_csv_in_an_unknown_charset_is_still_refused_with_the_reason() {
    let raw = mail(
        "billing@acme.example",
        "m2@acme.example",
        &[Part {
            name: "inv.csv",
            content_type: "text/csv; charset=x-martian",
            encoding: "8bit",
            body: &csv_1252(),
        }],
    );
    let d = codec().decode(&raw, &acme());
    assert!(d.documents.is_empty());
    assert_eq!(d.rejects.len(), 1, "{:?}", d.rejects);
    assert!(
        d.rejects[0].message.contains("charset \"x-martian\""),
        "{}",
        d.rejects[0].message
    );
}
