//! Property tests for every format decoder (X12, cXML, CSV, and the MIME path of e-mail), one
//! table of formats instead of a copy per adapter: arbitrary bytes (alone and after a valid
//! start of the format) and mutated golden samples never panic and never pass silently, and
//! generated invoices round-trip: decode(encode(doc)) == doc (the three document formats; mail
//! is only ever decoded). Bounded for CI (a few hundred cases): this is CI's fuzzing. The
//! coverage-guided long runs are the cargo-fuzz targets in `tests/fuzz` (`bash .ci/fuzz.sh`).
//!
//! Longer property runs: `PROPTEST_CASES=100000 cargo test -p gateway-tests --release prop::`.

use std::path::Path;

use gateway_core::{Decode, Encode, Format, PartnerProfile};
use gateway_model::{Document, Invoice, InvoiceLine, from_json_lines};
use gateway_server::codecs::Codecs;
use proptest::prelude::*;
use rust_decimal::Decimal;

use gateway_tests::{files_under, repo_root};

/// What differs between formats; everything else is shared.
struct Fmt {
    format: Format,
    /// `samples/<dir>`.
    dir: &'static str,
    /// The golden invoice case generated invoices start from.
    base_case: &'static str,
    /// The start of a valid document, for noise-after-a-valid-prefix.
    prefix: &'static [u8],
    /// Line descriptions the format must carry through unchanged.
    description: &'static str,
    /// The partner profile (under `samples/`) the noise is decoded for; none: anonymous.
    profile: Option<&'static str>,
}

const FORMATS: [Fmt; 4] = [
    Fmt {
        format: Format::X12,
        dir: "x12",
        base_case: "rich",
        prefix: b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260101*1200*U*00401*000000001*0*P*>~",
        description: r#"[A-Za-z0-9 .,/()#-]{1,40}"#,
        profile: None,
    },
    Fmt {
        format: Format::Cxml,
        dir: "cxml",
        base_case: "rich",
        prefix: b"<?xml version=\"1.0\"?><cXML payloadID=\"p@x\" timestamp=\"2026-01-01T00:00:00+00:00\">",
        description: r#"[A-Za-z0-9 .,/()#&<>"';:éü€-]{1,40}"#,
        profile: None,
    },
    Fmt {
        format: Format::Csv,
        dir: "csv",
        base_case: "coupa_import",
        prefix: b"Invoice,Invoice Number*,Supplier Name,Supplier Number,Invoice Date*,Currency\n",
        description: r#"[A-Za-z0-9 .,/()#&"';:éü€-]{1,40}"#,
        profile: None,
    },
    // The MIME path: a mail from a known sender (so parsing goes past the sender check) whose
    // attachments go to the decoders above. Not round-tripped: mail is only ever decoded.
    Fmt {
        format: Format::Email,
        dir: "email",
        base_case: "",
        prefix: b"Authentication-Results: mx.globex.example; dmarc=pass header.from=acme.example\r\nFrom: billing@acme.example\r\nMessage-ID: <p@acme.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: application/xml\r\nContent-Disposition: attachment; filename=\"i.xml\"\r\n\r\n",
        description: "",
        profile: Some("email/acme.partner.toml"),
    },
];

/// Free text with the characters beyond ASCII that Windows-1252 systems write.
const WINDOWS_1252_TEXT: &str = r#"[A-Za-z0-9 .,/()#éüÖßÄ€’“”–…°-]{1,40}"#;

/// The profile noise is decoded for.
fn fuzz_profile(f: &Fmt) -> PartnerProfile {
    match f.profile {
        Some(p) => profile(&repo_root().join("samples").join(p)),
        None => PartnerProfile::anonymous(),
    }
}

fn decoder(f: &Fmt) -> std::sync::Arc<dyn Decode> {
    Codecs::standard().decoder(f.format).unwrap()
}

fn encoder(f: &Fmt) -> std::sync::Arc<dyn Encode> {
    Codecs::standard().encoder(f.format).unwrap()
}

/// Every golden source file of a format.
fn sample_sources(f: &Fmt) -> Vec<Vec<u8>> {
    let dir = repo_root().join("samples").join(f.dir);
    let out: Vec<Vec<u8>> = files_under(&dir)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            !name.ends_with(".json")
                && !name.ends_with(".toml")
                && !name.starts_with("README")
                && !name.ends_with(".txt")
        })
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    assert!(!out.is_empty(), "no samples under {}", dir.display());
    out
}

fn profile(path: &Path) -> PartnerProfile {
    if path.is_file() {
        PartnerProfile::load(path).unwrap()
    } else {
        PartnerProfile::anonymous()
    }
}

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(prop::sample::Index, u8),
    Delete(prop::sample::Index, usize),
    Insert(prop::sample::Index, Vec<u8>),
    Duplicate(prop::sample::Index, usize),
    Truncate(prop::sample::Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<prop::sample::Index>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (
            any::<prop::sample::Index>(),
            prop::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<prop::sample::Index>(), 1usize..128).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        if bytes.is_empty() {
            break;
        }
        let len = bytes.len();
        match m {
            Mutation::Flip(i, b) => {
                let at = i.index(len);
                bytes[at] ^= b | 1;
            }
            Mutation::Delete(i, n) => {
                let at = i.index(len);
                let end = (at + n).min(len);
                bytes.drain(at..end);
            }
            Mutation::Insert(i, b) => {
                let at = i.index(len);
                bytes.splice(at..at, b.iter().copied());
            }
            Mutation::Duplicate(i, n) => {
                let at = i.index(len);
                let end = (at + n).min(len);
                let copy = bytes[at..end].to_vec();
                bytes.splice(end..end, copy);
            }
            Mutation::Truncate(i) => bytes.truncate(i.index(len)),
        }
    }
    bytes
}

/// The golden invoice generated ones start from, and the profile it round-trips with.
fn base(f: &Fmt) -> (Invoice, PartnerProfile) {
    let dir = repo_root().join("samples").join(f.dir).join("invoice");
    let raw = std::fs::read(dir.join(format!("{}.canonical.json", f.base_case))).unwrap();
    let Some(Ok(Document::Invoice(inv))) = from_json_lines(&raw).into_iter().next() else {
        panic!("{} does not start with an invoice", f.base_case)
    };
    (
        inv,
        profile(&dir.join(format!("{}.partner.toml", f.base_case))),
    )
}

/// One generated line: quantity (units, scale), unit price in cents, description.
type LineSpec = (u32, u32, u32, String);

fn line_spec(description: &'static str) -> impl Strategy<Value = LineSpec> {
    (1u32..100_000, 0u32..=2, 1u32..10_000_000, description)
}

fn build(base: &Invoice, number: &str, specs: &[LineSpec]) -> Invoice {
    let mut inv = base.clone();
    inv.invoice_number = Some(number.into());
    let template: InvoiceLine = base.lines[0].clone();
    inv.lines = specs
        .iter()
        .enumerate()
        .map(|(i, (q, scale, cents, desc))| {
            let mut l = template.clone();
            let quantity = Decimal::new(i64::from(*q), *scale);
            let price = Decimal::new(i64::from(*cents), 2);
            l.line_number = u32::try_from(i + 1).unwrap();
            l.quantity = Some(quantity);
            l.unit_price = Some(price);
            l.amount = Some(quantity * price);
            l.description = Some(gateway_model::Text::from(desc.trim()))
                .filter(|d| !d.is_empty())
                .or(Some("item".into()));
            l
        })
        .collect();
    inv
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        for f in &FORMATS {
            let d = decoder(f).decode(&bytes, &fuzz_profile(f));
            // Nothing may come out of noise silently: a document or a located reject, or
            // nothing at all for blank input.
            prop_assert!(bytes.iter().all(u8::is_ascii_whitespace) || !d.documents.is_empty() || !d.rejects.is_empty(), "{}", f.format);
        }
    }

    #[test]
    fn format_prefixed_noise_never_panics(tail in prop::collection::vec(any::<u8>(), 0..2048)) {
        for f in &FORMATS {
            let mut bytes = f.prefix.to_vec();
            bytes.extend_from_slice(&tail);
            let d = decoder(f).decode(&bytes, &fuzz_profile(f));
            prop_assert!(!d.documents.is_empty() || !d.rejects.is_empty(), "{}", f.format);
        }
    }

    /// Noise after a UTF-16 byte-order mark (CSV and cXML read UTF-16, X12 names it): never a
    /// panic, never silence.
    #[test]
    fn utf16_noise_never_panics(
        big_endian in any::<bool>(),
        tail in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut bytes = if big_endian { b"\xFE\xFF".to_vec() } else { b"\xFF\xFE".to_vec() };
        bytes.extend_from_slice(&tail);
        for f in &FORMATS {
            let d = decoder(f).decode(&bytes, &fuzz_profile(f));
            prop_assert!(!d.documents.is_empty() || !d.rejects.is_empty() || tail.len() < 2, "{}", f.format);
        }
    }

    #[test]
    fn mutated_samples_never_panic(
        which in any::<prop::sample::Index>(),
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        for f in &FORMATS {
            let sources = sample_sources(f);
            let src = sources[which.index(sources.len())].clone();
            let _ = decoder(f).decode(&apply(src, &muts), &fuzz_profile(f));
        }
    }

    /// A `multipart/related` body (a cXML POST with its files) of noisy parts, a `start` that
    /// may name no part, and noise after the end: never a panic; what comes out is the parts
    /// that went in (the root one of them, every other a file), or a reason.
    #[test]
    fn related_bodies_of_noise_never_panic(
        parts in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..512), 0..6),
        start in prop::option::of(0usize..8),
        tail in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        let mut body = Vec::new();
        for (n, p) in parts.iter().enumerate() {
            body.extend_from_slice(format!("--B0\r\nContent-ID: <p{n}>\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
            body.extend_from_slice(p);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--B0--\r\n");
        body.extend_from_slice(&tail);
        let content_type = match start {
            Some(n) => format!("multipart/related; boundary=B0; start=\"<p{n}>\""),
            None => "multipart/related; boundary=B0".to_string(),
        };
        match adapter_email::related::split_related(&content_type, &body, &adapter_email::Limits::default()) {
            Ok(split) => {
                prop_assert!(split.files.len() < parts.len().max(1));
                prop_assert!(split.files.iter().all(|f| !f.name.is_empty()));
            }
            Err(why) => prop_assert!(!why.is_empty()),
        }
    }
    /// A dropped "zip" of noise after the zip signature, and a real zip with bytes flipped:
    /// never a panic, and a refusal says why.
    #[test]
    fn zips_of_noise_never_panic(
        tail in prop::collection::vec(any::<u8>(), 0..2048),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let limits = gateway_server::zipdrop::ZipLimits::for_files_of(1 << 20);
        let mut noise = b"PK\x03\x04".to_vec();
        noise.extend_from_slice(&tail);
        match gateway_server::zipdrop::read_zip(&noise, limits) {
            // What comes out is one document entry and files, each with a name.
            Ok(z) => prop_assert!(
                !z.document_name.is_empty() && z.files.iter().all(|f| !f.name.is_empty())
            ),
            Err(why) => prop_assert!(!why.is_empty()),
        }
        let mut real = real_zip();
        for (at, b) in &flips {
            let i = at.index(real.len());
            real[i] ^= b | 1;
        }
        match gateway_server::zipdrop::read_zip(&real, limits) {
            // What comes out is one document entry and files, each with a name.
            Ok(z) => prop_assert!(
                !z.document_name.is_empty() && z.files.iter().all(|f| !f.name.is_empty())
            ),
            Err(why) => prop_assert!(!why.is_empty()),
        }
    }
}

/// A zip of a CSV and a PDF, as a partner would drop it.
fn real_zip() -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut out);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in [
        (
            "invoices.csv",
            &b"Invoice,Invoice Number*,Image Scan Filename\nInvoice,INV-1,a.pdf\n"[..],
        ),
        ("a.pdf", &b"%PDF-1.7 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"[..]),
    ] {
        z.start_file(name, opts).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
    out.into_inner()
}

fn round_trip(f: &Fmt, number: &str, specs: &[LineSpec]) -> Result<(), TestCaseError> {
    round_trip_for(f, number, specs, base(f).1)
}

/// [`round_trip`] written for and read from `partner`.
fn round_trip_for(
    f: &Fmt,
    number: &str,
    specs: &[LineSpec],
    partner: PartnerProfile,
) -> Result<(), TestCaseError> {
    let (base, _) = base(f);
    let doc = Document::Invoice(build(&base, number, specs));
    let bytes = encoder(f)
        .encode(std::slice::from_ref(&doc), &partner)
        .unwrap();
    let back = decoder(f).decode(&bytes, &partner);
    prop_assert!(
        back.rejects.is_empty(),
        "{}: {:?}\n{}",
        f.format,
        back.rejects,
        String::from_utf8_lossy(&bytes)
    );
    let docs: Vec<Document> = back.documents.into_iter().map(|d| d.document).collect();
    prop_assert_eq!(docs, vec![doc], "{}", f.format);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_x12_invoices_round_trip(
        number in "[A-Z][A-Z0-9-]{0,18}[A-Z0-9]",
        specs in prop::collection::vec(line_spec(FORMATS[0].description), 1..6),
    ) {
        round_trip(&FORMATS[0], &number, &specs)?;
    }

    /// Descriptions with what Windows-1252 systems write beyond ASCII (`Ö€` is also valid
    /// UTF-8), to a partner that reads UTF-8 and to one whose profile says Windows-1252.
    #[test]
    fn generated_x12_invoices_round_trip_in_either_character_set(
        number in "[A-Z][A-Z0-9-]{0,18}[A-Z0-9]",
        specs in prop::collection::vec(line_spec(WINDOWS_1252_TEXT), 1..6),
        windows_1252 in any::<bool>(),
    ) {
        let mut partner = base(&FORMATS[0]).1;
        if windows_1252 {
            partner.x12.get_or_insert_default().charset =
                Some(gateway_model::charset::Charset::Windows1252);
        }
        round_trip_for(&FORMATS[0], &number, &specs, partner)?;
    }

    #[test]
    fn generated_cxml_invoices_round_trip(
        number in "[A-Z][A-Z0-9-]{0,18}[A-Z0-9]",
        specs in prop::collection::vec(line_spec(FORMATS[1].description), 1..6),
    ) {
        round_trip(&FORMATS[1], &number, &specs)?;
    }

    #[test]
    fn generated_csv_invoices_round_trip(
        number in "[A-Z][A-Z0-9-]{0,18}[A-Z0-9]",
        specs in prop::collection::vec(line_spec(FORMATS[2].description), 1..6),
    ) {
        round_trip(&FORMATS[2], &number, &specs)?;
    }
}
