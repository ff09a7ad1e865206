//! What the model does not hold of a segment it maps (a fax number beside the phone, a PER01
//! other than `IC`, TXI04 on, SAC04, CUR03 on, N405/N406, TDS02 on, CTT02 on, an N101 or CUR01
//! other than the writer's) is kept in `extensions` and written back: X12 → canonical → X12
//! gives the same segments, and the canonical fields read are those the elements map to.
//! Also: the writer refuses an IT1/PO1 that would break X12's paired rule P020304.

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::X12Codec;
use gateway_core::{Decode, Encode, EncodeError, PartnerProfile};
use gateway_model::{ChargeKind, Document, Invoice, PurchaseOrder};
use rust_decimal::Decimal;

#[derive(Clone, Copy, Debug)]
enum Set {
    Invoice,
    Order,
}

/// One case: segments of the set (beside a fixed beginning segment and one line), the ones
/// the case is about, and what the canonical document must say of them.
struct Case {
    name: &'static str,
    set: Set,
    heading: &'static [&'static str],
    /// After the line item segment and its PID.
    line: &'static [&'static str],
    /// The summary; empty for the set's usual (`TDS*12500`, `CTT*1` / `CTT*1`, `AMT*TT*125`).
    summary: &'static [&'static str],
    /// The segments that must come back exactly.
    kept: &'static [&'static str],
    check: fn(&Document),
}

fn inv(d: &Document) -> &Invoice {
    match d {
        Document::Invoice(i) => i,
        other => panic!("not an invoice: {other:?}"),
    }
}

fn po(d: &Document) -> &PurchaseOrder {
    match d {
        Document::PurchaseOrder(p) => p,
        other => panic!("not an order: {other:?}"),
    }
}

fn dec(s: &str) -> Option<Decimal> {
    Some(s.parse().unwrap())
}

const CASES: &[Case] = &[
    Case {
        name: "a: PER keeps the fax number between the phone and the email",
        set: Set::Order,
        heading: &[
            "N1*SU*Adobe",
            "PER*IC*John Doe*TE*8015551234*FX*8015554321*EM*x@y",
        ],
        line: &[],
        summary: &[],
        kept: &["PER*IC*John Doe*TE*8015551234*FX*8015554321*EM*x@y"],
        check: |d| {
            let s = po(d).supplier.as_ref().unwrap();
            assert_eq!(s.contact.as_deref(), Some("John Doe"));
            assert_eq!(s.phone.as_deref(), Some("8015551234"));
            assert_eq!(s.email.as_deref(), Some("x@y"));
        },
    },
    Case {
        name: "a: a fax first, the phone in the next free pair",
        set: Set::Invoice,
        heading: &["N1*ST*Dock", "PER*IC*Bob*FX*999*TE*888*EM*b@x"],
        line: &[],
        summary: &[],
        kept: &["PER*IC*Bob*FX*999*TE*888*EM*b@x"],
        check: |d| {
            let s = inv(d).ship_to.as_ref().unwrap();
            assert_eq!(s.contact.as_deref(), Some("Bob"));
            assert_eq!(s.phone.as_deref(), Some("888"));
            assert_eq!(s.email.as_deref(), Some("b@x"));
        },
    },
    Case {
        name: "b: PER01 BD stays BD",
        set: Set::Order,
        heading: &[
            "N1*BY*Globex",
            "PER*BD*Sam Buyer*TE*555-0101*EM*sam@globex.example",
        ],
        line: &[],
        summary: &[],
        kept: &["PER*BD*Sam Buyer*TE*555-0101*EM*sam@globex.example"],
        check: |d| {
            let b = po(d).buyer.as_ref().unwrap();
            assert_eq!(b.contact.as_deref(), Some("Sam Buyer"));
            assert_eq!(b.phone.as_deref(), Some("555-0101"));
            assert_eq!(b.email.as_deref(), Some("sam@globex.example"));
        },
    },
    Case {
        name: "b: PER01 CN stays CN",
        set: Set::Invoice,
        heading: &["N1*BY*Globex", "PER*CN*Jane"],
        line: &[],
        summary: &[],
        kept: &["PER*CN*Jane"],
        check: |d| {
            let b = inv(d).buyer.as_ref().unwrap();
            assert_eq!(b.contact.as_deref(), Some("Jane"));
            assert_eq!((b.phone.as_deref(), b.email.as_deref()), (None, None));
        },
    },
    Case {
        name: "b: a PER the party holds nothing of",
        set: Set::Invoice,
        heading: &["N1*BY*Globex", "PER*AC**FX*999"],
        line: &[],
        summary: &[],
        kept: &["PER*AC**FX*999"],
        check: |d| {
            let b = inv(d).buyer.as_ref().unwrap();
            assert_eq!(b.contact, None);
            assert_eq!((b.phone.as_deref(), b.email.as_deref()), (None, None));
        },
    },
    Case {
        name: "c: TXI09 and TXI10 of a summary tax",
        set: Set::Invoice,
        heading: &[],
        line: &[],
        summary: &[
            "TDS*12500",
            "TXI*ST*0*0******noval*Customer VAT Number",
            "CTT*1",
        ],
        kept: &["TXI*ST*0*0******noval*Customer VAT Number"],
        check: |d| {
            let t = &inv(d).taxes;
            assert_eq!(t.len(), 1);
            assert_eq!(t[0].category.as_deref(), Some("sales"));
            assert_eq!((t[0].amount, t[0].rate), (dec("0"), dec("0")));
        },
    },
    Case {
        name: "c: TXI04, TXI05 and TXI08 of a line's tax",
        set: Set::Invoice,
        heading: &[],
        line: &["TXI*LS*1.23*7*VD*CA***1000"],
        summary: &[],
        kept: &["TXI*LS*1.23*7*VD*CA***1000"],
        check: |d| {
            let t = &inv(d).lines[0].taxes;
            assert_eq!(t.len(), 1);
            assert_eq!(t[0].category.as_deref(), Some("LS"));
            assert_eq!((t[0].amount, t[0].rate), (dec("1.23"), dec("7")));
            // TXI08, dollar basis for percent, beside the rate: the taxable amount.
            assert_eq!(t[0].taxable_amount, dec("1000"));
        },
    },
    Case {
        name: "c: a heading tax of an order, the second of two",
        set: Set::Order,
        heading: &["TXI*ST*1", "TXI*VA*2*20*VD*FR"],
        line: &[],
        summary: &[],
        kept: &["TXI*ST*1", "TXI*VA*2*20*VD*FR"],
        check: |d| {
            let t = &po(d).taxes;
            assert_eq!(t.len(), 2);
            assert_eq!((t[1].amount, t[1].rate), (dec("2"), dec("20")));
        },
    },
    Case {
        name: "d: SAC04 of a line's allowance",
        set: Set::Invoice,
        heading: &[],
        line: &["SAC*A*C310**Z*250*3*2.5"],
        summary: &[],
        kept: &["SAC*A*C310**Z*250*3*2.5"],
        check: |d| {
            let c = &inv(d).lines[0].charges;
            assert_eq!(c.len(), 1);
            assert_eq!(c[0].kind, ChargeKind::Discount);
            assert_eq!(c[0].code.as_deref(), Some("C310"));
            assert_eq!((c[0].amount, c[0].rate), (dec("2.50"), dec("2.5")));
        },
    },
    Case {
        name: "d: SAC03/SAC04, SAC06 not percent and SAC08 of an order's charge",
        set: Set::Order,
        heading: &["SAC*C*D240*AB*Z*1500*1*4**EA*3"],
        line: &[],
        summary: &[],
        kept: &["SAC*C*D240*AB*Z*1500*1*4**EA*3"],
        check: |d| {
            let c = &po(d).charges;
            assert_eq!(c.len(), 1);
            assert_eq!(c[0].kind, ChargeKind::Shipping);
            assert_eq!((c[0].amount, c[0].rate), (dec("15.00"), dec("4")));
        },
    },
    Case {
        name: "e: CUR03 to CUR05",
        set: Set::Invoice,
        heading: &["CUR*SE*EUR*1.1*BY*USD"],
        line: &[],
        summary: &[],
        kept: &["CUR*SE*EUR*1.1*BY*USD"],
        check: |d| assert_eq!(inv(d).currency.as_deref(), Some("EUR")),
    },
    Case {
        name: "f: N405 and N406",
        set: Set::Invoice,
        heading: &["N1*ST*Dock", "N3*1 Rue", "N4*Paris**75001*FR*SP*IDF"],
        line: &[],
        summary: &[],
        kept: &["N4*Paris**75001*FR*SP*IDF"],
        check: |d| {
            let a = inv(d).ship_to.as_ref().unwrap().address.as_ref().unwrap();
            assert_eq!(a.lines, ["1 Rue"]);
            assert_eq!(a.city.as_deref(), Some("Paris"));
            assert_eq!(a.region, None);
            assert_eq!(a.postal_code.as_deref(), Some("75001"));
            assert_eq!(a.country.as_deref(), Some("FR"));
        },
    },
    Case {
        name: "f: an N4 with only a location",
        set: Set::Order,
        heading: &["N1*ST*Dock", "N4*****SP*IDF"],
        line: &[],
        summary: &[],
        kept: &["N4*****SP*IDF"],
        check: |d| assert_eq!(po(d).ship_to.as_ref().unwrap().address, None),
    },
    Case {
        name: "g: TDS02 and TDS03",
        set: Set::Invoice,
        heading: &[],
        line: &[],
        summary: &["TDS*13000*13000*12800", "CTT*1"],
        kept: &["TDS*13000*13000*12800"],
        check: |d| assert_eq!(inv(d).total, dec("130.00")),
    },
    Case {
        name: "h: CTT02 to CTT04 of an invoice",
        set: Set::Invoice,
        heading: &[],
        line: &[],
        summary: &["TDS*12500", "CTT*1*10*25.5*LB"],
        kept: &["CTT*1*10*25.5*LB"],
        check: |d| assert_eq!(inv(d).lines.len(), 1),
    },
    Case {
        name: "h: CTT02 to CTT04 of an order, and AMT03",
        set: Set::Order,
        heading: &[],
        line: &[],
        summary: &["CTT*1*10*25.5*LB", "AMT*TT*125*C"],
        kept: &["CTT*1*10*25.5*LB", "AMT*TT*125*C"],
        check: |d| assert_eq!(po(d).total, dec("125")),
    },
    Case {
        name: "j: N1*VN stays VN",
        set: Set::Invoice,
        heading: &["N1*VN*Acme*92*17"],
        line: &[],
        summary: &[],
        kept: &["N1*VN*Acme*92*17"],
        check: |d| {
            let s = inv(d).supplier.as_ref().unwrap();
            assert_eq!(s.name.as_deref(), Some("Acme"));
            assert_eq!(s.ids.len(), 1);
            assert_eq!(
                (s.ids[0].domain.as_str(), s.ids[0].value.as_str()),
                ("92", "17")
            );
        },
    },
    Case {
        name: "j: N1*SE and CUR*SE stay SE in an order",
        set: Set::Order,
        heading: &["CUR*SE*EUR", "N1*SE*Acme"],
        line: &[],
        summary: &[],
        kept: &["CUR*SE*EUR", "N1*SE*Acme"],
        check: |d| {
            let p = po(d);
            assert_eq!(p.currency.as_deref(), Some("EUR"));
            assert_eq!(p.supplier.as_ref().unwrap().name.as_deref(), Some("Acme"));
        },
    },
];

/// The body segments (ST to SE excluded) of `case` as a set.
fn body(case: &Case) -> Vec<String> {
    let (begin, item, summary): (&str, &str, &[&str]) = match case.set {
        Set::Invoice => (
            "BIG*20260315*INV-1**PO-1",
            "IT1*1*10*EA*12.5**VP*P1",
            &["TDS*12500", "CTT*1"],
        ),
        Set::Order => (
            "BEG*00*SA*PO-1**20260301",
            "PO1*1*10*EA*12.5**VP*P1",
            &["CTT*1", "AMT*TT*125"],
        ),
    };
    let summary = if case.summary.is_empty() {
        summary
    } else {
        case.summary
    };
    std::iter::once(begin)
        .chain(case.heading.iter().copied())
        .chain([item, "PID*F****Gloves"])
        .chain(case.line.iter().copied())
        .chain(summary.iter().copied())
        .map(String::from)
        .collect()
}

fn interchange(set: Set, body: &[String]) -> String {
    let (gs01, st01) = match set {
        Set::Invoice => ("IN", "810"),
        Set::Order => ("PO", "850"),
    };
    format!(
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260101*1200*U*00401*000000001*0*P*>~\n\
         GS*{gs01}*SENDER*RECEIVER*20260101*1200*1*X*004010~\nST*{st01}*0001~\n{}~\nSE*{}*0001~\nGE*1*1~\nIEA*1*000000001~\n",
        body.join("~\n"),
        body.len() + 2
    )
}

/// The body segments of the one set in `x12`, without line breaks.
fn body_of(x12: &str) -> Vec<String> {
    x12.split('~')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter(|s| {
            !["ISA*", "GS*", "ST*", "SE*", "GE*", "IEA*"]
                .iter()
                .any(|e| s.starts_with(e))
        })
        .map(String::from)
        .collect()
}

fn decode(raw: &[u8]) -> Vec<Document> {
    let d = X12Codec::new().decode(raw, &PartnerProfile::anonymous());
    assert!(d.rejects.is_empty(), "rejects {:?}", d.rejects);
    d.documents.into_iter().map(|d| d.document).collect()
}

fn encode(docs: &[Document]) -> Result<String, EncodeError> {
    let bytes = X12Codec::new().encode(docs, &PartnerProfile::anonymous())?;
    Ok(String::from_utf8(bytes).unwrap())
}

#[test]
fn elements_the_model_does_not_hold_survive_x12_to_canonical_to_x12() {
    for case in CASES {
        let name = case.name;
        let sent = body(case);
        let docs = decode(interchange(case.set, &sent).as_bytes());
        let [doc] = docs.as_slice() else {
            panic!("{name}: {} documents", docs.len());
        };
        (case.check)(doc);
        let written = encode(&docs).unwrap_or_else(|e| panic!("{name}: {e}"));
        let back = body_of(&written);
        for seg in case.kept {
            assert!(
                back.iter().any(|s| s == seg),
                "{name}: {seg} is not written back:\n{written}"
            );
        }
        // The same segments (the writer puts them in the table's order).
        let (mut sent, mut back) = (sent, back);
        sent.sort();
        back.sort();
        assert_eq!(back, sent, "{name}");
        // And the canonical JSON reads back the same, kept elements included.
        let json = gateway_model::to_json_line(doc);
        let from_json = from_json(json.as_bytes());
        let again = decode(encode(&from_json).unwrap().as_bytes());
        assert_eq!(again, docs, "{name}");
    }
}

/// An order line as canonical JSON with `fields` beside its number.
fn order_with_line(fields: &str) -> Vec<Document> {
    let json = format!(
        r#"{{"schema_version":1,"kind":"purchase_order","po_number":"PO-1","order_date":"2026-03-01","lines":[{{"line_number":1,"quantity":"1","uom":"EA","unit_price":"1"}},{{"line_number":2{fields}}}]}}"#
    );
    from_json(json.as_bytes())
}

fn from_json(json: &[u8]) -> Vec<Document> {
    gateway_model::from_json_lines(json)
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_line_breaking_the_paired_rule_p020304_is_refused_with_its_path() {
    for (fields, path, lacks) in [
        (
            r#","uom":"EA","unit_price":"12.5""#,
            "$.lines[1].quantity",
            "quantity",
        ),
        (
            r#","quantity":"2","unit_price":"12.5""#,
            "$.lines[1].uom",
            "uom",
        ),
        (r#","quantity":"2""#, "$.lines[1].uom", "uom and unit_price"),
        (
            r#","quantity":"2","uom":" ","unit_price":"1""#,
            "$.lines[1].uom",
            "uom",
        ),
    ] {
        match encode(&order_with_line(fields)) {
            Err(EncodeError::Invalid { path: p, message }) => {
                assert_eq!(p, path, "{fields}");
                assert!(message.contains("P020304"), "{message}");
                assert!(message.contains(&format!("no {lacks};")), "{message}");
            }
            other => panic!("{fields}: {other:?}"),
        }
    }
    // All three, or none of them, is written.
    let all = encode(&order_with_line(
        r#","quantity":"2","uom":"EA","unit_price":"12.5""#,
    ));
    assert!(all.unwrap().contains("PO1*2*2*EA*12.5~"));
    let none = encode(&order_with_line(r#","supplier_part_id":"X""#)).unwrap();
    assert!(none.contains("PO1*2*****VP*X~"), "{none}");
    // The same for an invoice's IT1; in a batch the path names the document.
    let mut docs = order_with_line("");
    docs.push(Document::Invoice(Invoice {
        invoice_number: Some("INV-1".into()),
        invoice_date: chrono::NaiveDate::from_ymd_opt(2026, 3, 15),
        lines: vec![gateway_model::InvoiceLine {
            line_number: 1,
            uom: Some("EA".into()),
            unit_price: dec("12.5"),
            ..Default::default()
        }],
        ..Default::default()
    }));
    match encode(&docs) {
        Err(EncodeError::Invalid { path, .. }) => {
            assert_eq!(path, "document 2: $.lines[0].quantity");
        }
        other => panic!("{other:?}"),
    }
}
