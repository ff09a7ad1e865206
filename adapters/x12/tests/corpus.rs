//! Every X12 file of the shared corpus (documents written by others) through the decoder: no
//! panic, documents or located rejects, and for every 810/850 the numbers, dates, quantities,
//! UOMs, prices and totals checked by hand against the files.

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use adapter_x12::X12Codec;
use gateway_core::testkit::{corpus_or_skip, files_under};
use gateway_core::{Decode, Decoded, PartnerProfile};
use gateway_model::{Document, Invoice, InvoicePurpose, OrderPurpose, PurchaseOrder};
use rust_decimal::Decimal;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn decode_file(path: &Path) -> Decoded {
    let raw = std::fs::read(path).unwrap();
    let decoded =
        std::panic::catch_unwind(|| X12Codec::new().decode(&raw, &PartnerProfile::anonymous()))
            .unwrap_or_else(|_| panic!("{}: decoder panicked", path.display()));
    // The streaming decoder gives the same items.
    let mut streamed = Vec::new();
    let mut reader = std::io::BufReader::with_capacity(7, raw.as_slice());
    adapter_x12::decode_stream(&mut reader, &mut |i| streamed.push(i)).unwrap();
    assert_eq!(
        streamed.len(),
        decoded.documents.len() + decoded.rejects.len(),
        "{}: streaming decode differs",
        path.display()
    );
    for r in &decoded.rejects {
        assert!(
            r.location.contains("line "),
            "{}: unlocated reject {r:?}",
            path.display()
        );
        assert!(!r.message.trim().is_empty());
    }
    decoded
}

fn folder(name: &str) -> Option<Vec<PathBuf>> {
    let dir = corpus_or_skip(name, "x12 corpus").unwrap()?;
    Some(files_under(&dir))
}

fn file(name: &str, folder_name: &str) -> Option<PathBuf> {
    let files = folder(folder_name)?;
    Some(
        files
            .into_iter()
            .find(|f| f.file_name().unwrap().to_string_lossy() == name)
            .unwrap_or_else(|| panic!("{name} missing from corpus")),
    )
}

fn invoices(d: &Decoded) -> Vec<&Invoice> {
    d.documents
        .iter()
        .filter_map(|d| match &d.document {
            Document::Invoice(i) => Some(i),
            _ => None,
        })
        .collect()
}

fn orders(d: &Decoded) -> Vec<&PurchaseOrder> {
    d.documents
        .iter()
        .filter_map(|d| match &d.document {
            Document::PurchaseOrder(p) => Some(p),
            _ => None,
        })
        .collect()
}

/// Hand-checked facts of one document.
struct Expect {
    number: &'static str,
    date: &'static str,
    quantities: &'static [&'static str],
    uom: &'static str,
    prices: &'static [&'static str],
    total: &'static str,
}

fn check_invoice(inv: &Invoice, e: &Expect, what: &str) {
    assert_eq!(inv.invoice_number.as_deref(), Some(e.number), "{what}");
    assert_eq!(inv.invoice_date.unwrap().to_string(), e.date, "{what}");
    let q: Vec<Decimal> = inv.lines.iter().map(|l| l.quantity.unwrap()).collect();
    let want: Vec<Decimal> = e.quantities.iter().map(|s| dec(s)).collect();
    assert_eq!(q, want, "{what}: quantities");
    assert!(
        inv.lines.iter().all(|l| l.uom.as_deref() == Some(e.uom)),
        "{what}: uom"
    );
    let p: Vec<Decimal> = inv.lines.iter().map(|l| l.unit_price.unwrap()).collect();
    let want: Vec<Decimal> = e.prices.iter().map(|s| dec(s)).collect();
    assert_eq!(p, want, "{what}: prices");
    assert_eq!(inv.total, Some(dec(e.total)), "{what}: total");
}

fn check_order(po: &PurchaseOrder, e: &Expect, what: &str) {
    assert_eq!(po.po_number.as_deref(), Some(e.number), "{what}");
    assert_eq!(po.order_date.unwrap().to_string(), e.date, "{what}");
    let q: Vec<Decimal> = po.lines.iter().map(|l| l.quantity.unwrap()).collect();
    let want: Vec<Decimal> = e.quantities.iter().map(|s| dec(s)).collect();
    assert_eq!(q, want, "{what}: quantities");
    assert!(
        po.lines.iter().all(|l| l.uom.as_deref() == Some(e.uom)),
        "{what}: uom"
    );
    let p: Vec<Decimal> = po.lines.iter().map(|l| l.unit_price.unwrap()).collect();
    let want: Vec<Decimal> = e.prices.iter().map(|s| dec(s)).collect();
    assert_eq!(p, want, "{what}: prices");
    assert_eq!(po.total, Some(dec(e.total)), "{what}: total");
}

#[test]
fn every_x12_corpus_file_decodes_without_panic() {
    let mut seen = 0;
    for name in common::X12_FOLDERS {
        let Some(files) = folder(name) else { return };
        for f in files {
            let raw = std::fs::read(&f).unwrap();
            if gateway_core::detect_format(&raw) != gateway_core::Format::X12 {
                continue;
            }
            let d = decode_file(&f);
            assert!(
                !d.documents.is_empty()
                    || !d.rejects.is_empty()
                    || !adapter_x12::read_acknowledgments(&raw).is_empty(),
                "{}: neither documents nor rejects nor acknowledgments",
                f.display()
            );
            match name {
                "x12-810" => assert!(!invoices(&d).is_empty(), "{}: {:?}", f.display(), d.rejects),
                "x12-850" => assert!(!orders(&d).is_empty(), "{}: {:?}", f.display(), d.rejects),
                // A partner's 997/999 is neither a document nor an error (read_acknowledgments).
                "x12-997" => assert!(
                    d.documents.is_empty() && d.rejects.is_empty(),
                    "{}: {:?}",
                    f.display(),
                    d.rejects
                ),
                "x12-855" | "x12-856" => {
                    assert!(d.documents.is_empty());
                    assert!(
                        d.rejects.iter().any(|r| r.message.contains("not mapped")),
                        "{}: {:?}",
                        f.display(),
                        d.rejects
                    );
                }
                _ => {}
            }
            for doc in &d.documents {
                let key = doc.meta.source_key.as_deref().unwrap();
                assert_eq!(key.split('/').count(), 3, "{key}");
                assert!(doc.meta.sender.as_deref().unwrap().contains(':'));
            }
            seen += 1;
        }
    }
    assert!(seen >= 25, "only {seen} X12 corpus files");
}

#[test]
fn x12_810_corpus_maps_by_hand_checked_values() {
    let Some(f) = file("Inteligenz__X12Parser__2011110815164104.txt", "x12-810") else {
        return;
    };
    let d = decode_file(&f);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let inv = invoices(&d)[0];
    check_invoice(
        inv,
        &Expect {
            number: "3323399",
            date: "2011-10-31",
            quantities: &["11", "8", "12", "6", "8", "20", "5"],
            uom: "EA",
            prices: &["1305", "767", "1196", "1800", "930", "120", "175"],
            total: "56358.00",
        },
        "2011110815164104",
    );
    assert_eq!(inv.po_number.as_deref(), Some("981903"));
    assert_eq!(inv.lines[0].supplier_part_id.as_deref(), Some("10190150"));
    assert_eq!(
        inv.ship_to.as_ref().unwrap().name.as_deref(),
        Some("SLEEP COUNTRY - KENT-edi")
    );
    assert_eq!(
        inv.ship_to
            .as_ref()
            .unwrap()
            .address
            .as_ref()
            .unwrap()
            .lines,
        vec!["LOC 334 - KENT", "6705 SOUTH 209TH ST"]
    );
    assert_eq!(
        inv.remit_to.as_ref().unwrap().name.as_deref(),
        Some("Tempur-Pedic")
    );
    assert_eq!(inv.charges[0].code.as_deref(), Some("D240"));
    assert_eq!(inv.lines[6].amount, Some(dec("875")));
    assert_eq!(
        d.documents[0].meta.source_key.as_deref(),
        Some("810000163/163/0163")
    );
    assert_eq!(d.documents[0].meta.sender.as_deref(), Some("ZZ:XXXXXXXX4T"));
    assert_eq!(
        d.documents[0].meta.receiver.as_deref(),
        Some("12:XXXXXXXXXFTP")
    );

    let Some(f) = file("Inteligenz__X12Parser__Example4_Adobe.txt", "x12-810") else {
        return;
    };
    let d = decode_file(&f);
    let inv = invoices(&d)[0];
    check_invoice(
        inv,
        &Expect {
            number: "0013833070",
            date: "2007-01-29",
            quantities: &["1"],
            uom: "EA",
            prices: &["160"],
            total: "160.00",
        },
        "Example4_Adobe",
    );
    assert_eq!(inv.purpose, Some(InvoicePurpose::DebitMemo));
    assert_eq!(inv.currency.as_deref(), Some("USD"));
    assert_eq!(inv.lines[0].line_number, 10);
    assert_eq!(
        inv.lines[0].supplier_part_id.as_deref(),
        Some("65008841AB02A00")
    );
    assert_eq!(inv.lines[0].buyer_part_id.as_deref(), Some("7167946"));
    assert_eq!(
        inv.lines[0].description.as_deref(),
        Some("ACRO,8.0,WIN,AOO,UE,1PK,N/A")
    );
    assert_eq!(inv.payment_terms.as_ref().unwrap().net_days, Some(35));
    assert_eq!(
        inv.supplier.as_ref().unwrap().name.as_deref(),
        Some("ADOBE SYSTEMS INCORPORATED")
    );
    assert!(inv.comments.as_deref().unwrap().starts_with("If 0% VAT"));
    // TXI*ST, State Sales Tax: the category cXML gives the same tax.
    assert_eq!(inv.taxes[0].category.as_deref(), Some("sales"));

    let bots = [
        (
            "bots-edi__bots-plugins__810_1.x12",
            "95018017",
            "2007-09-29",
            &["4"][..],
            &["330"][..],
        ),
        (
            "bots-edi__bots-plugins__810_2.x12",
            "2619003",
            "2002-02-22",
            &["26", "27", "28", "29", "30", "30"][..],
            &["21.1"; 6][..],
        ),
        (
            "bots-edi__bots-plugins__810_7.x12",
            "548177",
            "2003-06-27",
            &["10", "20", "30", "40", "50"][..],
            &["12.5"; 5][..],
        ),
    ];
    for (name, number, date, quantities, prices) in bots {
        let Some(f) = file(name, "x12-810") else {
            return;
        };
        let d = decode_file(&f);
        assert!(d.rejects.is_empty(), "{name}: {:?}", d.rejects);
        let inv = invoices(&d)[0];
        check_invoice(
            inv,
            &Expect {
                number,
                date,
                quantities,
                uom: "EA",
                prices,
                total: "12345.79",
            },
            name,
        );
        assert_eq!(
            inv.purpose,
            Some(InvoicePurpose::DebitMemo),
            "{name}: BIG07 DR"
        );
        assert_eq!(inv.po_number.as_deref(), Some("ordernumber"));
    }
    let Some(f) = file("bots-edi__bots-plugins__810_1.x12", "x12-810") else {
        return;
    };
    let d = decode_file(&f);
    let inv = invoices(&d)[0];
    assert_eq!(inv.lines[0].supplier_part_id.as_deref(), Some("X357-W2"));
    assert_eq!(inv.lines[0].buyer_part_id.as_deref(), Some("525"));
    assert_eq!(
        inv.ship_to
            .as_ref()
            .unwrap()
            .address
            .as_ref()
            .unwrap()
            .country
            .as_deref(),
        Some("MEX")
    );
    assert_eq!(
        inv.supplier.as_ref().unwrap().name.as_deref(),
        Some("UNIVERSAL WIDGETS")
    );
    assert_eq!(
        inv.payment_terms.as_ref().unwrap().discount_percent,
        Some(dec("2.5"))
    );
    assert_eq!(inv.payment_terms.as_ref().unwrap().discount_days, Some(30));

    let Some(f) = file("xlate__staedi__simple810.edi", "x12-810") else {
        return;
    };
    let d = decode_file(&f);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let inv = invoices(&d);
    assert_eq!(inv.len(), 2);
    check_invoice(
        inv[0],
        &Expect {
            number: "00001",
            date: "1997-12-11",
            quantities: &["16", "13", "32", "51", "9", "85", "1"],
            uom: "CA",
            prices: &["12.34"; 7],
            total: "2554.38",
        },
        "simple810 #1",
    );
    check_invoice(
        inv[1],
        &Expect {
            number: "00001",
            date: "1997-12-15",
            quantities: &["50", "100"],
            uom: "CA",
            prices: &["12.34"; 2],
            total: "2554.38",
        },
        "simple810 #2",
    );
    assert_eq!(inv[1].po_number.as_deref(), Some("A99999-04"));
    assert_eq!(
        inv[0].lines[0].description.as_deref(),
        Some("CRUNCHY CHIPS LSS")
    );
    assert_eq!(inv[0].lines[0].line_number, 1);
    assert_eq!(inv[0].lines[6].line_number, 7);
}

#[test]
fn x12_850_corpus_maps_by_hand_checked_values() {
    let Some(f) = file("Inteligenz__X12Parser__Example2_Adobe_TLP.txt", "x12-850") else {
        return;
    };
    let d = decode_file(&f);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let po = orders(&d)[0];
    check_order(
        po,
        &Expect {
            number: "TLP-X12",
            date: "2010-06-14",
            quantities: &["1"],
            uom: "EA",
            prices: &["665"],
            total: "12",
        },
        "Example2_Adobe_TLP",
    );
    assert_eq!(po.purpose, Some(OrderPurpose::New));
    assert_eq!(po.currency.as_deref(), Some("USD"));
    assert_eq!(po.lines[0].buyer_part_id.as_deref(), Some("12345678"));
    let ship_to = po.ship_to.as_ref().unwrap();
    assert_eq!(ship_to.name.as_deref(), Some("SHIP TO"));
    assert_eq!(ship_to.email.as_deref(), Some("john@doe.com"));
    assert_eq!(ship_to.phone.as_deref(), Some("8015551234"));
    assert_eq!(
        ship_to.address.as_ref().unwrap().city.as_deref(),
        Some("CEDAR RAPIDS")
    );

    let Some(f) = file(
        "Inteligenz__X12Parser__Example4_Adobe_ShrinkWrapped.txt",
        "x12-850",
    ) else {
        return;
    };
    let d = decode_file(&f);
    let po = orders(&d)[0];
    check_order(
        po,
        &Expect {
            number: "MH80312",
            date: "2009-04-21",
            quantities: &["11"],
            uom: "EA",
            prices: &["1499.95"],
            total: "12",
        },
        "ShrinkWrapped",
    );
    assert_eq!(
        po.ship_to
            .as_ref()
            .unwrap()
            .address
            .as_ref()
            .unwrap()
            .postal_code
            .as_deref(),
        Some("95110")
    );
    assert!(
        d.documents[0]
            .meta
            .extra
            .get("interchange_warnings")
            .is_some_and(|w| w.contains("ISA06")),
        "the 14-wide ISA06 is noted: {:?}",
        d.documents[0].meta.extra
    );

    let Some(f) = file("aaronhuggins__node-x12__850.edi", "x12-850") else {
        return;
    };
    let d = decode_file(&f);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let po = orders(&d)[0];
    check_order(
        po,
        &Expect {
            number: "08292233294",
            date: "2010-11-27",
            quantities: &["120", "220", "126", "76", "72", "696"],
            uom: "EA",
            prices: &["9.25", "13.79", "10.99", "4.35", "7.5", "9.55"],
            total: "13045.94",
        },
        "node-x12 850",
    );
    assert_eq!(po.lines[0].description.as_deref(), Some("SMALL WIDGET"));
    assert_eq!(po.lines[0].supplier_part_id.as_deref(), Some("AB3542"));
    let terms = po.payment_terms.as_ref().unwrap();
    assert_eq!(
        (terms.discount_percent, terms.discount_days, terms.net_days),
        (Some(dec("2")), Some(45), Some(46))
    );

    let Some(f) = file("aaronhuggins__node-x12__850_3.edi", "x12-850") else {
        return;
    };
    let d = decode_file(&f);
    let po = orders(&d)[0];
    check_order(
        po,
        &Expect {
            number: "----------",
            date: "2016-04-26",
            quantities: &["1"],
            uom: "KI",
            prices: &["225"],
            total: "225",
        },
        "node-x12 850_3",
    );
    assert_eq!(po.lines[0].supplier_part_id.as_deref(), Some("UNKNOWN"));
    assert_eq!(
        po.ship_to.as_ref().unwrap().name.as_deref(),
        Some("PETCO - CORPORATE")
    );

    let Some(f) = file("bots-edi__bots-plugins__850-004010-01.x12", "x12-850") else {
        return;
    };
    let d = decode_file(&f);
    assert!(d.rejects.is_empty(), "{:?}", d.rejects);
    let po = orders(&d)[0];
    check_order(
        po,
        &Expect {
            number: "91393058",
            date: "1997-11-07",
            quantities: &["6"; 8],
            uom: "EA",
            prices: &["12"; 8],
            total: "576",
        },
        "850-004010-01",
    );
    assert_eq!(
        po.lines[0].description.as_deref(),
        Some("KAK S/S PRINT CAMP")
    );
    assert_eq!(po.lines[7].line_number, 8);

    let Some(f) = file("bots-edi__bots-plugins__850-004010-ascii1.x12", "x12-850") else {
        return;
    };
    let d = decode_file(&f);
    let po = orders(&d)[0];
    check_order(
        po,
        &Expect {
            number: "12345678",
            date: "2007-08-31",
            quantities: &["1", "2", "1", "1"],
            uom: "CA",
            prices: &["23.52", "26.28", "23.52", "26.28"],
            total: "125.88",
        },
        "850-004010-ascii1",
    );
}

#[test]
fn malformed_corpus_gives_the_expected_mix() {
    let Some(files) = folder("malformed") else {
        return;
    };
    let by_name = |n: &str| {
        files
            .iter()
            .find(|f| f.to_string_lossy().contains(n))
            .unwrap()
            .clone()
    };
    // Newline-only terminator and '~' + CRLF give the same order as the single-line file.
    for n in [
        "850-004010-ascii-lf",
        "850-004010-ascii-st",
        "node-x12__850_2",
    ] {
        let d = decode_file(&by_name(n));
        assert_eq!(orders(&d).len(), 1, "{n}: {:?}", d.rejects);
        assert!(d.rejects.is_empty(), "{n}: {:?}", d.rejects);
    }
    // Two identical interchanges: the second (line 38) is rejected (TA1 R 025) with the
    // repeated control number, and its order is not handed on: one reject, the set's (line
    // 40), which says why; the interchange is not counted a second time.
    let d = decode_file(&by_name("850_fat"));
    assert_eq!(orders(&d).len(), 1, "{:?}", d.rejects);
    assert_eq!(d.rejects.len(), 1, "{:?}", d.rejects);
    assert!(
        d.rejects.iter().any(|r| r.message.contains("repeats")
            && r.message.contains("TA1 note 025")
            && r.location.starts_with("line 40, interchange 000003438")),
        "{:?}",
        d.rejects
    );
    // Repeated ST02 in a group: the second set of each group is rejected, the first kept.
    let d = decode_file(&by_name("850-004010-02"));
    assert_eq!(orders(&d).len(), 2, "{:?}", d.rejects);
    assert!(
        d.rejects.iter().any(|r| r.message.contains("ST02")),
        "{:?}",
        d.rejects
    );
    // Two 810s and an 850 in two groups of one interchange.
    let d = decode_file(&by_name("invoice810_po850_dual"));
    assert_eq!(
        (invoices(&d).len(), orders(&d).len()),
        (2, 1),
        "{:?}",
        d.rejects
    );
    // Sets this gateway does not map are located rejects.
    let d = decode_file(&by_name("mult_isa"));
    assert!(d.documents.is_empty());
    assert!(
        d.rejects
            .iter()
            .any(|r| r.message.contains("278 not mapped") && r.location.contains("set 11280001"))
    );
    let d = decode_file(&by_name("odd-separator"));
    assert!(
        d.rejects
            .iter()
            .any(|r| r.message.contains("837 not mapped")),
        "{:?}",
        d.rejects
    );
}

#[test]
fn truncated_and_mutated_corpus_files_never_panic() {
    let codec = X12Codec::new();
    let partner = PartnerProfile::anonymous();
    let numbers = adapter_x12::InMemoryControlNumbers::new();
    let now = chrono::Utc::now();
    let mut runs = 0;
    for name in ["x12-810", "x12-850", "malformed"] {
        let Some(files) = folder(name) else { return };
        for f in files {
            let raw = std::fs::read(&f).unwrap();
            if gateway_core::detect_format(&raw) != gateway_core::Format::X12 {
                continue;
            }
            let mut inputs: Vec<Vec<u8>> = (0..raw.len())
                .step_by(13)
                .map(|cut| raw[..cut].to_vec())
                .collect();
            for (k, i) in (0..raw.len()).step_by(29).enumerate() {
                let mut m = raw.clone();
                m[i] = [b'*', b'~', b'\n', b'>', b'^', 0, 0xff, b'S'][k % 8];
                inputs.push(m);
            }
            for input in inputs {
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let d = codec.decode(&input, &partner);
                    for r in &d.rejects {
                        assert!(!r.location.is_empty() && !r.message.is_empty());
                    }
                    adapter_x12::acknowledge_with(&input, &partner, &numbers, now)
                        .map(|a| a.bytes.len())
                }));
                assert!(outcome.is_ok(), "{}: panicked on a variant", f.display());
                runs += 1;
            }
        }
    }
    assert!(runs > 1000, "{runs}");
}

/// The partner acknowledgments in the corpus, read as the server reads them; the verdicts and
/// reasons were checked by hand against the files.
#[test]
fn corpus_acknowledgments_give_each_sets_verdict_and_reasons() {
    let Some(files) = folder("x12-997") else {
        return;
    };
    let read = |name: &str| {
        let f = files
            .iter()
            .find(|f| f.to_string_lossy().ends_with(name))
            .unwrap_or_else(|| panic!("{name} not in the corpus"));
        adapter_x12::read_acknowledgments(&std::fs::read(f).unwrap())
    };
    let acks = read("simple997.edi");
    assert_eq!(acks.len(), 1);
    let a = &acks[0];
    assert_eq!(
        (
            a.kind.as_str(),
            a.functional_id.as_str(),
            a.group_control.as_str()
        ),
        ("997", "HC", "000001")
    );
    let v = a.verdict("0021").unwrap();
    assert!(!v.accepted);
    assert!(
        v.summary
            .contains("segment NM1 at position 8: segment has data element errors (8)")
            && v.summary
                .contains("element 8 (data element 66): invalid code value (7), value \"MI\""),
        "{}",
        v.summary
    );
    for name in ["simple999.edi", "DHS_Wisconsin_Sample.txt"] {
        let acks = read(name);
        assert_eq!(acks.len(), 1, "{name}");
        let a = &acks[0];
        assert_eq!(
            (a.kind.as_str(), a.group_control.as_str()),
            ("999", "17456"),
            "{name}"
        );
        assert_eq!(a.group_status.as_deref(), Some("P"), "{name}");
        assert_eq!(a.sets.len(), 3, "{name}");
        assert!(a.verdict("0001").unwrap().accepted, "{name}");
        let third = a.verdict("0003").unwrap();
        assert!(!third.accepted, "{name}");
        assert!(
            third
                .summary
                .contains("segment REF at position 57: required segment missing (3)"),
            "{name}: {}",
            third.summary
        );
    }
    // The second set's control number is 002 in one file and 0002 in the other.
    let v = read("simple999.edi")[0].verdict("0002").unwrap();
    assert!(
        !v.accepted
            && v.summary
                .contains("element 2 (data element 782): required data element missing (1)"),
        "{}",
        v.summary
    );
}

/// The 997/999 the gateway sends rejects exactly the sets whose documents the pipeline
/// refuses (their canonical validation fails), and accepts the others: a supplier is never
/// told "accepted" about an invoice that is not delivered. Every 810/850 of the corpus.
#[test]
fn corpus_acknowledgments_reject_exactly_what_validation_refuses() {
    let (Some(invoices), Some(orders)) = (folder("x12-810"), folder("x12-850")) else {
        return;
    };
    let (mut refused, mut passed) = (0, 0);
    for path in invoices.iter().chain(&orders) {
        let raw = std::fs::read(path).unwrap();
        let decoded = X12Codec::new().decode(&raw, &PartnerProfile::anonymous());
        let ack = adapter_x12::acknowledge_with(
            &raw,
            &PartnerProfile::anonymous(),
            &adapter_x12::InMemoryControlNumbers::new(),
            chrono::Utc::now(),
        )
        .unwrap();
        for d in &decoded.documents {
            // `interchange/group/set` control numbers.
            let key = d.meta.source_key.as_deref().unwrap();
            let verdict = ack
                .interchanges
                .iter()
                .flat_map(|i| {
                    i.groups.iter().flat_map(move |g| {
                        g.sets.iter().map(move |s| {
                            let k = format!(
                                "{}/{}/{}",
                                i.interchange.control(),
                                g.group.control(),
                                s.control
                            );
                            (k, s)
                        })
                    })
                })
                .find(|(k, _)| k == key)
                .map(|(_, s)| s)
                .unwrap_or_else(|| panic!("{}: no verdict for set {key}", path.display()));
            let validation = d.document.validate();
            let rejected = verdict.status == adapter_x12::AckStatus::Rejected;
            assert_eq!(
                rejected,
                validation.has_errors(),
                "{}: set {key}: {:?} / {:?}",
                path.display(),
                verdict.issues,
                validation.errors().collect::<Vec<_>>()
            );
            for p in validation.errors() {
                let said = format!("{}: {}", p.path, p.message);
                assert!(
                    verdict.issues.iter().any(|i| i.message == said),
                    "{}: {said} not in {:?}",
                    path.display(),
                    verdict.issues
                );
            }
            if rejected {
                refused += 1;
            } else {
                passed += 1;
            }
        }
    }
    // The corpus holds both: 810s without a supplier party, and sound sets.
    assert!(
        refused > 0 && passed > 0,
        "refused {refused}, passed {passed}"
    );
}
