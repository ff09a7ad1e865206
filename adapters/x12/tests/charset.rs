//! Character sets: X12 names none, and many suppliers' systems write Windows-1252. Names and
//! descriptions in it arrive as written (not as `M�ller`), the document's notes say where, and
//! a partner whose profile says it uses Windows-1252 is read and written in that set.

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::X12Codec;
use gateway_core::{Decode, DecodedDocument, Encode, EncodeError, PartnerProfile};
use gateway_model::Document;

/// An 810 with `name` as N102 and `description` as the line's PID05, in whatever bytes given.
fn invoice_810(name: &[u8], description: &[u8]) -> Vec<u8> {
    let mut x = Vec::new();
    x.extend_from_slice(b"ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*GLOBEXCORP     *260315*1030*U*00401*000000042*0*P*>~\n");
    x.extend_from_slice(b"GS*IN*ACME*GLOBEX*20260315*1030*7*X*004010~\n");
    x.extend_from_slice(b"ST*810*0001~\nBIG*20260315*INV-1252*20260301*PO-9~\nN1*SU*");
    x.extend_from_slice(name);
    x.extend_from_slice(b"*92*SUP1~\nIT1*1*2*EA*10.50**VP*P-1~\nPID*F****");
    x.extend_from_slice(description);
    x.extend_from_slice(b"~\nTDS*2100~\nCTT*1~\nSE*8*0001~\nGE*1*7~\nIEA*1*000000042~\n");
    x
}

/// `raw` with the first `from` replaced by `to`.
fn replace_once(raw: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = raw.windows(from.len()).position(|w| w == from).unwrap();
    [&raw[..at], to, &raw[at + from.len()..]].concat()
}

fn decode_one(raw: &[u8], partner: &PartnerProfile) -> DecodedDocument {
    let decoded = X12Codec::new().decode(raw, partner);
    assert!(decoded.rejects.is_empty(), "{:?}", decoded.rejects);
    assert_eq!(decoded.documents.len(), 1);
    decoded.documents.into_iter().next().unwrap()
}

fn supplier_and_description(d: &Document) -> (String, String) {
    let Document::Invoice(inv) = d else {
        panic!("not an invoice: {d:?}")
    };
    let name = inv.supplier.as_ref().and_then(|s| s.name.clone()).unwrap();
    let description = inv.lines[0].description.clone().unwrap();
    (name.to_string(), description.to_string())
}

fn partner(charset: &str) -> PartnerProfile {
    PartnerProfile::from_toml(
        &format!("id = \"acme\"\n[x12]\npartner_id = \"ACMESUPPLY\"\ncharset = \"{charset}\"\n"),
        "acme.toml",
    )
    .unwrap()
}

#[test]
fn windows_1252_names_and_descriptions_arrive_as_written_and_the_notes_say_where() {
    // "Société Générale Müller" and "Men’s “best” – 5 €" as a Windows-1252 system writes them.
    let raw = invoice_810(
        b"Soci\xe9t\xe9 G\xe9n\xe9rale M\xfcller",
        b"Men\x92s \x93best\x94 \x96 5 \x80",
    );
    let doc = decode_one(&raw, &PartnerProfile::anonymous());
    assert_eq!(
        supplier_and_description(&doc.document),
        (
            "Société Générale Müller".to_string(),
            "Men’s “best” – 5 €".to_string()
        )
    );
    let notes: Vec<&str> = doc.meta.notes().collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("read as Windows-1252 in N1 at line 5 (segment 3 of the set), PID at line 7 (segment 5 of the set)"),
        "{notes:?}"
    );
    // X12 leaves the character set to the partners: the set is accepted, not "with errors".
    let ack =
        String::from_utf8(adapter_x12::acknowledge(&raw, &PartnerProfile::anonymous())).unwrap();
    assert!(ack.contains("AK5*A~"), "{ack}");
    assert!(ack.contains("AK9*A*1*1*1~"), "{ack}");
}

#[test]
fn utf8_is_read_as_utf8_and_needs_no_note() {
    let raw = invoice_810(
        "Société Générale Müller".as_bytes(),
        "Men’s “best” – 5 €".as_bytes(),
    );
    let doc = decode_one(&raw, &PartnerProfile::anonymous());
    assert_eq!(
        supplier_and_description(&doc.document),
        (
            "Société Générale Müller".to_string(),
            "Men’s “best” – 5 €".to_string()
        )
    );
    assert_eq!(doc.meta.notes().count(), 0);
}

#[test]
fn a_partner_that_reads_windows_1252_gets_it_and_reading_it_back_gives_the_same_document() {
    let raw = invoice_810("Société Müller".as_bytes(), "Men’s “best” – 5 €".as_bytes());
    let doc = decode_one(&raw, &PartnerProfile::anonymous()).document;
    let acme = partner("windows-1252");
    let written = X12Codec::new()
        .encode(std::slice::from_ref(&doc), &acme)
        .unwrap();
    let find = |needle: &[u8]| written.windows(needle.len()).any(|w| w == needle);
    assert!(find(b"N1*SU*Soci\xe9t\xe9 M\xfcller*"), "{written:?}");
    assert!(find(b"Men\x92s \x93best\x94 \x96 5 \x80"), "{written:?}");
    assert!(std::str::from_utf8(&written).is_err(), "written as UTF-8");
    let again = decode_one(&written, &acme).document;
    assert_eq!(again, doc);

    // The default stays UTF-8.
    let utf8 = X12Codec::new()
        .encode(std::slice::from_ref(&doc), &partner("utf-8"))
        .unwrap();
    assert!(
        String::from_utf8(utf8)
            .unwrap()
            .contains("N1*SU*Société Müller*")
    );
}

#[test]
fn a_character_windows_1252_lacks_is_refused_with_its_field_not_sent_changed() {
    let raw = invoice_810("Tick ✓ Supplies".as_bytes(), b"plain");
    let doc = decode_one(&raw, &PartnerProfile::anonymous()).document;
    let err = X12Codec::new()
        .encode(std::slice::from_ref(&doc), &partner("windows-1252"))
        .unwrap_err();
    let EncodeError::Invalid { path, message } = &err else {
        panic!("{err:?}")
    };
    assert!(path.contains("supplier"), "{path}");
    assert!(message.contains("N102"), "{message}");
    assert!(message.contains("U+2713"), "{message}");
    assert!(message.contains("x12.charset"), "{message}");
}

/// `Ö€` written by a Windows-1252 system is the two bytes of U+0580 in UTF-8: by default they
/// read as that (they are valid UTF-8), from a partner whose profile says it writes
/// Windows-1252 they read as written, with nothing to note.
#[test]
fn a_partner_that_writes_windows_1252_is_read_so_even_where_the_bytes_are_utf8() {
    let raw = invoice_810(b"M\xfcller GmbH", b"Gr\xd6\x80e 5");
    let guessed = decode_one(&raw, &PartnerProfile::anonymous());
    let (name, description) = supplier_and_description(&guessed.document);
    assert_eq!(name, "Müller GmbH");
    assert_eq!(description, "Gr\u{580}e 5", "valid UTF-8 is read as UTF-8");
    let declared = decode_one(&raw, &partner("windows-1252"));
    assert_eq!(
        supplier_and_description(&declared.document),
        ("Müller GmbH".to_string(), "GrÖ€e 5".to_string())
    );
    assert_eq!(
        declared.meta.notes().count(),
        0,
        "the profile says so: no note"
    );
    // The 997 for that partner says accepted too (given the currency an invoice bound for
    // Coupa needs).
    let raw = replace_once(&raw, b"~\nN1*SU*", b"~\nCUR*SE*USD~\nN1*SU*");
    let raw = replace_once(&raw, b"SE*8*", b"SE*9*");
    let ack = String::from_utf8(adapter_x12::acknowledge(&raw, &partner("windows-1252"))).unwrap();
    assert!(ack.contains("AK5*A~"), "{ack}");
}

/// Element lengths count characters as the partner's set reads them: 59 letters and `Ö€` are
/// 61 characters in Windows-1252 (over N102's 60, accepted with errors) and 60 in UTF-8.
#[test]
fn lengths_are_counted_in_the_partners_characters() {
    let mut name = vec![b'A'; 59];
    name.extend_from_slice(b"\xd6\x80");
    let raw = invoice_810(&name, b"plain");
    let over_long = |partner: &PartnerProfile| {
        decode_one(&raw, partner)
            .meta
            .notes()
            .any(|n| n.contains("N102 is 61 characters, longer than the 60"))
    };
    assert!(over_long(&partner("windows-1252")));
    assert!(!over_long(&partner("utf-8")));
    // The 997's AK4 copies the element back as the partner wrote it, byte for byte.
    let ack = adapter_x12::acknowledge(&raw, &partner("windows-1252"));
    let mut copy = b"AK4*2**5*".to_vec();
    copy.extend_from_slice(&name);
    copy.push(b'~');
    assert!(
        ack.windows(copy.len()).any(|w| w == copy.as_slice()),
        "{}",
        String::from_utf8_lossy(&ack)
    );
}

#[test]
fn an_unknown_charset_in_a_profile_is_refused() {
    let err =
        PartnerProfile::from_toml("id = \"acme\"\n[x12]\ncharset = \"ebcdic\"\n", "acme.toml")
            .unwrap_err()
            .to_string();
    assert!(err.contains("ebcdic"), "{err}");
    assert!(err.contains("windows-1252"), "{err}");
}
