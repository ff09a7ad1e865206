//! Documents that did not come from X12 (the golden canonical JSON of every other format, and
//! Coupa-shaped orders) written as X12: every N1 has an X12 code in N103, and the parties and
//! the PO version come back exactly when the X12 is read again.

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_x12::X12Codec;
use adapter_x12::tokenizer::Tokenizer;
use gateway_core::testkit::{files_under, repo_root};
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::{Document, OrderPurpose, Party, PartyId, PurchaseOrder, Tax, from_json_lines};
use rust_decimal::Decimal;

fn id(domain: &str, value: &str) -> PartyId {
    PartyId {
        domain: domain.into(),
        value: value.into(),
    }
}

/// The parties of a document, in a fixed order, for comparison.
fn parties(d: &Document) -> Vec<Option<Party>> {
    match d {
        Document::Invoice(i) => vec![
            i.supplier.clone(),
            i.buyer.clone(),
            i.bill_to.clone(),
            i.remit_to.clone(),
            i.ship_to.clone(),
        ],
        Document::PurchaseOrder(p) => vec![
            p.supplier.clone(),
            p.buyer.clone(),
            p.bill_to.clone(),
            p.ship_to.clone(),
        ],
    }
}

/// Every tax's amount and rate, header and lines, compared numerically.
fn amounts(d: &Document) -> Vec<(Option<Decimal>, Option<Decimal>)> {
    let (header, lines): (&[Tax], Vec<&[Tax]>) = match d {
        Document::Invoice(i) => (&i.taxes, i.lines.iter().map(|l| &l.taxes[..]).collect()),
        Document::PurchaseOrder(p) => (&p.taxes, p.lines.iter().map(|l| &l.taxes[..]).collect()),
    };
    std::iter::once(header)
        .chain(lines)
        .flatten()
        .map(|t| {
            (
                t.amount.map(|a| a.normalize()),
                t.rate.map(|r| r.normalize()),
            )
        })
        .collect()
}

/// [`amounts`] as X12 carries them: an invoice's `tax_total` that no tax carries (a cXML
/// header `<Tax>` without `<TaxDetail>`) becomes one tax of that amount.
fn amounts_written(d: &Document) -> Vec<(Option<Decimal>, Option<Decimal>)> {
    let taxes = amounts(d);
    match d {
        Document::Invoice(i) if taxes.is_empty() => i
            .tax_total
            .filter(|t| !t.is_zero())
            .map(|t| (Some(t.normalize()), None))
            .into_iter()
            .collect(),
        _ => taxes,
    }
}

/// What X12 makes of free text: each line break (CRLF, CR or LF) one space.
fn one_line(parties: Vec<Option<Party>>) -> Vec<Option<Party>> {
    let flat = |t: &mut gateway_model::Text| {
        *t = t.replace("\r\n", " ").replace(['\r', '\n'], " ").into();
    };
    parties
        .into_iter()
        .map(|p| {
            p.map(|mut p| {
                p.name.as_mut().map(flat);
                p.contact.as_mut().map(flat);
                if let Some(a) = p.address.as_mut() {
                    a.lines.iter_mut().for_each(flat);
                    a.city.as_mut().map(flat);
                }
                p
            })
        })
        .collect()
}

fn version(d: &Document) -> Option<u32> {
    match d {
        Document::PurchaseOrder(p) => p.version,
        _ => None,
    }
}

/// Every `id` segment of `x12`, split into elements.
fn segments(x12: &[u8], id: &[u8]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for seg in Tokenizer::new(x12) {
        let seg = seg.unwrap();
        if seg.id() == id {
            out.push(
                seg.elements()
                    .map(|e| String::from_utf8_lossy(e).into_owned())
                    .collect(),
            );
        }
    }
    out
}

/// The documents of `x12`, read for the anonymous partner; a rejected set fails the test.
fn read_x12(x12: &[u8], what: &str) -> Vec<Document> {
    let d = X12Codec::new().decode(x12, &PartnerProfile::anonymous());
    assert!(d.rejects.is_empty(), "{what}: {:?}", d.rejects);
    d.documents.into_iter().map(|d| d.document).collect()
}

/// The purchase order `d` must be.
fn po(d: &Document) -> &PurchaseOrder {
    match d {
        Document::PurchaseOrder(po) => po,
        other => panic!("not a PO: {other:?}"),
    }
}

fn try_through_x12(
    docs: &[Document],
    what: &str,
) -> Result<(Vec<u8>, Vec<Document>), gateway_core::EncodeError> {
    let bytes = X12Codec::new().encode(docs, &PartnerProfile::anonymous())?;
    let back = read_x12(&bytes, what);
    Ok((bytes, back))
}

fn through_x12(docs: &[Document], what: &str) -> (Vec<u8>, Vec<Document>) {
    try_through_x12(docs, what).unwrap_or_else(|e| panic!("{what}: encode: {e}"))
}

fn is_code(code: &str) -> bool {
    (1..=2).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// N103 and TXI01 hold X12 codes, never a domain or category name.
fn assert_codes(bytes: &[u8], what: &str) {
    for txi in segments(bytes, b"TXI") {
        assert!(is_code(&txi[1]), "{what}: TXI01 in {txi:?}");
    }
    for n1 in segments(bytes, b"N1") {
        if let Some(code) = n1.get(3) {
            assert!(is_code(code), "{what}: N103 {code:?} in {n1:?}");
        }
    }
}

#[test]
fn golden_documents_of_every_format_keep_parties_and_version_through_x12() {
    let mut checked = 0;
    for f in files_under(&repo_root().join("samples")) {
        let name = f.to_string_lossy();
        if !name.ends_with(".canonical.json") || name.contains("/x12/") {
            continue;
        }
        let docs: Vec<Document> = from_json_lines(&std::fs::read(&f).unwrap())
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        let (bytes, back) = through_x12(&docs, &name);
        assert_codes(&bytes, &name);
        assert_eq!(back.len(), docs.len(), "{name}");
        for (a, b) in docs.iter().zip(&back) {
            // A line break in a name, address or contact is written as a space.
            assert_eq!(parties(b), one_line(parties(a)), "{name}: parties changed");
            assert_eq!(version(b), version(a), "{name}: version changed");
            assert_eq!(
                amounts(b),
                amounts_written(a),
                "{name}: tax amounts or rates changed"
            );
        }
        checked += 1;
    }
    // json, cxml, csv and e-mail goldens (21 files less the two X12 ones, at the time of writing).
    assert!(checked >= 17, "{checked}");
}

#[test]
fn a_coupa_order_with_several_ids_per_party_round_trips_exactly() {
    let po = PurchaseOrder {
        po_number: Some("6112".into()),
        order_date: Some("2026-04-01".parse().unwrap()),
        purpose: Some(OrderPurpose::New),
        version: Some(3),
        currency: Some("USD".into()),
        supplier: Some(Party {
            name: Some("Acme Industrial Supply".into()),
            ids: vec![id("coupa", "17"), id("coupa-number", "SUP-001")],
            ..Party::default()
        }),
        buyer: Some(Party {
            name: Some("Globex".into()),
            ids: vec![id("92", "GLOBEX"), id("DUNS", "123456789"), id("1", "987")],
            ..Party::default()
        }),
        ship_to: Some(Party {
            name: Some("Dock 4".into()),
            ids: vec![id("addressID", "ST-4")],
            ..Party::default()
        }),
        ..PurchaseOrder::default()
    };
    let docs = vec![Document::PurchaseOrder(po)];
    let (bytes, back) = through_x12(&docs, "coupa order");
    assert_codes(&bytes, "coupa order");
    assert_eq!(back, docs);
    let text = String::from_utf8(bytes).unwrap();
    // What a supplier's translator sees: codes it knows, the Coupa ids as buyer-assigned (92),
    // the revision in REF*PP, and the names of the other ids in REF*ZZ.
    for want in [
        "N1*SU*Acme Industrial Supply*92*17~",
        "REF*ZZ*17*coupa~",
        "REF*ZZ*SUP-001*coupa-number~",
        "N1*BY*Globex*92*GLOBEX~",
        "REF*ZZ*123456789*DUNS~",
        "REF*ZZ*987*1~",
        "N1*ST*Dock 4*92*ST-4~",
        "REF*ZZ*ST-4*addressID~",
        "REF*PP*3~",
    ] {
        assert!(text.contains(want), "{want} missing in\n{text}");
    }
    assert!(
        !text.contains("REF*ZZ*GLOBEX"),
        "an X12 first id is repeated:\n{text}"
    );
}

/// The writer's error for a PO whose supplier has `ids`.
fn supplier_ids_error(ids: Vec<PartyId>) -> String {
    let po = PurchaseOrder {
        po_number: Some("1".into()),
        order_date: Some("2026-04-01".parse().unwrap()),
        supplier: Some(Party {
            ids,
            ..Party::default()
        }),
        ..PurchaseOrder::default()
    };
    X12Codec::new()
        .encode(&[Document::PurchaseOrder(po)], &PartnerProfile::anonymous())
        .unwrap_err()
        .to_string()
}

#[test]
fn a_party_id_without_a_value_is_refused_with_its_path() {
    let err = supplier_ids_error(vec![id("coupa", "17"), id("coupa-number", " ")]);
    assert!(err.contains("$.supplier.ids[1].value"), "{err}");
    // An id after the first without a domain has nowhere to keep it (REF03).
    let err = supplier_ids_error(vec![id("92", "17"), id("", "18")]);
    assert!(err.contains("$.supplier.ids[1].domain"), "{err}");
}

#[test]
fn a_loop_ref_that_is_not_an_id_is_kept_with_its_party() {
    // REF*ZZ without a description and REF*DP with one are the partner's, not ids.
    let x12 = "ISA*00*          *00*          *ZZ*ACME           *ZZ*GLOBEX         *260301*1200*U*00401*000000001*0*P*>~\
GS*PO*ACME*GLOBEX*20260301*1200*1*X*004010~ST*850*0001~BEG*00*SA*PO1**20260301~\
N1*ST*Dock*92*D4~REF*ZZ*X1~REF*DP*DP*DEPARTMENT 100~PO1*1*1*EA*1.00~CTT*1~SE*8*0001~GE*1*1~IEA*1*000000001~";
    let docs = read_x12(x12.as_bytes(), "loop REFs");
    let po = po(&docs[0]);
    assert_eq!(po.ship_to.as_ref().unwrap().ids, vec![id("92", "D4")]);
    assert_eq!(
        po.extensions["x12"]["party_segments"]["ship_to"],
        serde_json::json!([["REF", "ZZ", "X1"], ["REF", "DP", "DP", "DEPARTMENT 100"]])
    );
    assert_eq!(po.version, None);
}

fn order_with(name: &str, description: &str, uom: &str) -> Vec<Document> {
    vec![Document::PurchaseOrder(PurchaseOrder {
        po_number: Some("7001".into()),
        order_date: Some("2026-04-01".parse().unwrap()),
        purpose: Some(OrderPurpose::New),
        supplier: Some(Party {
            name: Some(name.into()),
            ..Party::default()
        }),
        lines: vec![gateway_model::OrderLine {
            line_number: 1,
            quantity: Some(Decimal::from(2)),
            uom: Some(uom.into()),
            unit_price: Some(Decimal::new(1250, 2)),
            description: Some(description.into()),
            ..gateway_model::OrderLine::default()
        }],
        ..PurchaseOrder::default()
    })]
}

fn encode_for(docs: &[Document], profile_x12: &str) -> Result<Vec<u8>, String> {
    let partner =
        PartnerProfile::from_toml(&format!("id = \"p\"\n[x12]\n{profile_x12}\n"), "p.toml")
            .unwrap();
    X12Codec::new()
        .encode(docs, &partner)
        .map_err(|e| e.to_string())
}

#[test]
fn a_long_description_continues_in_pid_segments_and_reads_back_whole() {
    let description = "Nitrile examination gloves, powder free, textured fingertips, \
                       ambidextrous, size large, box of one hundred, for laboratory and \
                       food handling use (meets EN 455 and ASTM D6319)";
    assert!(description.chars().count() > 160);
    let docs = order_with("Acme", description, "HUR");
    let (bytes, back) = through_x12(&docs, "long description");
    let pids = segments(&bytes, b"PID");
    assert!(pids.len() >= 3, "{pids:?}");
    for pid in &pids {
        assert!(pid[5].chars().count() <= 80, "{pid:?}");
        assert_eq!(&pid[1..5], ["F", "", "", ""], "{pid:?}");
    }
    let Document::PurchaseOrder(po) = &back[0] else {
        panic!("not a PO")
    };
    assert_eq!(po.lines[0].description.as_deref(), Some(description));
    // The cXML/Coupa unit for hours is written as X12's.
    assert_eq!(segments(&bytes, b"PO1")[0][3], "HR");
    assert_eq!(po.lines[0].uom.as_deref(), Some("HR"));
}

#[test]
fn a_value_longer_than_the_partner_accepts_is_refused_with_its_path_and_limit() {
    let long_name = "Acme Industrial Supply and Safety Equipment Distribution Company of Illinois";
    assert!(long_name.chars().count() > 60);
    let err = encode_for(&order_with(long_name, "Gloves", "EA"), "").unwrap_err();
    assert!(
        err.contains("$.supplier") && err.contains("N102") && err.contains("at most 60"),
        "{err}"
    );
    // The partner's guide allows more: the profile says so and the name goes out whole.
    let ok = encode_for(
        &order_with(long_name, "Gloves", "EA"),
        "max_lengths = { N102 = 80 }",
    )
    .unwrap();
    assert!(String::from_utf8(ok).unwrap().contains(long_name));
    // A partner that allows less than the dictionary.
    let err = encode_for(
        &order_with("Acme Industrial Supply", "Gloves", "EA"),
        "max_lengths = { N102 = 10 }",
    )
    .unwrap_err();
    assert!(
        err.contains("partner profile") && err.contains("at most 10"),
        "{err}"
    );
    // A unit X12 has no code for, and a description that cannot be cut at spaces.
    let err = encode_for(&order_with("Acme", "Gloves", "XYZ"), "").unwrap_err();
    assert!(err.contains("$.lines[0]") && err.contains("PO103"), "{err}");
    // A line break: a space in a description, refused in an id.
    let ok = encode_for(&order_with("Acme", "Gloves,\r\nsize L", "EA"), "").unwrap();
    assert!(
        String::from_utf8(ok)
            .unwrap()
            .contains("PID*F****Gloves, size L~")
    );
    let mut docs = order_with("Acme", "Gloves", "EA");
    if let Document::PurchaseOrder(po) = &mut docs[0] {
        po.po_number = Some("7001\n2".into());
    }
    let err = encode_for(&docs, "").unwrap_err();
    assert!(err.contains("BEG03"), "{err}");
    let word = "x".repeat(90);
    let err = encode_for(&order_with("Acme", &word, "EA"), "").unwrap_err();
    assert!(
        err.contains("$.lines[0].description") && err.contains("PID05"),
        "{err}"
    );
    let err = encode_for(&order_with("Acme", "G", "EA"), "max_lengths = { name = 3 }").unwrap_err();
    assert!(err.contains("x12.max_lengths.name"), "{err}");
}

#[test]
fn a_005010_partner_gets_the_5010_limits() {
    let id50 = "R".repeat(45);
    let mut docs = order_with("Acme", "Gloves", "EA");
    if let Document::PurchaseOrder(po) = &mut docs[0] {
        po.supplier.as_mut().unwrap().ids = vec![id("coupa-number", &id50)];
    }
    // REF02 carries the id: 30 characters in 004010, 50 in 005010.
    let err = encode_for(&docs, "version = \"004010\"").unwrap_err();
    assert!(err.contains("REF02") && err.contains("004010"), "{err}");
    encode_for(&docs, "version = \"005010\"").unwrap();
}

#[test]
fn quantities_and_amounts_are_counted_in_digits_against_the_partners_version() {
    // PO102 (Quantity Ordered) holds 15 digits; a sign and a decimal point do not count. (The
    // unit and a unit price stay: PO102-PO104 go together, X12's paired rule P020304.)
    let mut docs = order_with("Acme", "Gloves", "EA");
    let set_quantity = |docs: &mut Vec<Document>, q: &str| {
        if let Document::PurchaseOrder(po) = &mut docs[0] {
            po.lines[0].quantity = Some(q.parse().unwrap());
            po.lines[0].unit_price = Some(Decimal::ONE);
        }
    };
    set_quantity(&mut docs, "-1234567.12345678");
    encode_for(&docs, "version = \"004010\"").unwrap();
    set_quantity(&mut docs, "12345678.12345678");
    let err = encode_for(&docs, "version = \"004010\"").unwrap_err();
    assert!(
        err.contains("$.lines[0]") && err.contains("PO102 would be 16 digits"),
        "{err}"
    );
    // IT102 (Quantity Invoiced) grew from 10 digits in 004010 to 15 in 005010.
    let invoice = vec![Document::Invoice(gateway_model::Invoice {
        invoice_number: Some("INV-1".into()),
        invoice_date: Some("2026-04-01".parse().unwrap()),
        lines: vec![gateway_model::InvoiceLine {
            line_number: 1,
            quantity: Some("123456789.01".parse().unwrap()),
            uom: Some("EA".into()),
            unit_price: Some(Decimal::ONE),
            ..gateway_model::InvoiceLine::default()
        }],
        ..gateway_model::Invoice::default()
    })];
    let err = encode_for(&invoice, "version = \"004010\"").unwrap_err();
    assert!(
        err.contains("IT102 would be 11 digits") && err.contains("004010"),
        "{err}"
    );
    encode_for(&invoice, "version = \"005010\"").unwrap();
}

#[test]
fn the_last_header_ref_pp_is_the_version_and_survives_a_round_trip() {
    let x12 = "ISA*00*          *00*          *ZZ*ACME           *ZZ*GLOBEX         *260301*1200*U*00401*000000001*0*P*>~\
GS*PO*ACME*GLOBEX*20260301*1200*1*X*004010~ST*850*0001~BEG*00*SA*PO1**20260301~\
REF*PP*2~CUR*BY*USD~REF*PP*3~REF*PP*007~N1*ST*Dock*92*D4~REF*PP*9~PO1*1*1*EA*1.00~CTT*1~SE*11*0001~GE*1*1~IEA*1*000000001~";
    let docs = read_x12(x12.as_bytes(), "REF*PP kept");
    // REF*PP*007 is last but not written the way the version would be: it stays kept, and so
    // do the earlier REF*PP*2 and the ship-to loop's REF*PP*9.
    assert_eq!(po(&docs[0]).version, None);
    let kept = serde_json::to_string(&po(&docs[0]).extensions).unwrap();
    for want in [
        r#"["REF","PP","2"]"#,
        r#"["REF","PP","007"]"#,
        r#"["REF","PP","9"]"#,
    ] {
        assert!(kept.contains(want), "{want} in {kept}");
    }
    let (bytes, back) = through_x12(&docs, "REF*PP kept");
    assert_eq!(back, docs, "{}", String::from_utf8_lossy(&bytes));
    // The ship-to loop's own REF is written back inside that loop.
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("N1*ST*Dock*92*D4~\nREF*PP*9~"), "{text}");

    let without_007 = x12.replace("REF*PP*007~", "").replace("SE*11", "SE*10");
    let docs = read_x12(without_007.as_bytes(), "REF*PP version");
    assert_eq!(po(&docs[0]).version, Some(3));
    let (bytes, back) = through_x12(&docs, "REF*PP version");
    assert_eq!(back, docs, "{}", String::from_utf8_lossy(&bytes));
    let text = String::from_utf8(bytes).unwrap();
    let (cur, pp) = (
        text.find("CUR*BY*USD").unwrap(),
        text.find("REF*PP*3").unwrap(),
    );
    assert!(cur < pp, "REF follows CUR in an 850:\n{text}");
}

#[test]
fn kept_segments_with_trailing_empty_components_or_elements_round_trip() {
    // Found by the fuzzer: `5:` (a composite with an empty last component) was kept as
    // ["5", ""], written as `5` and read back as "5".
    let x12 = "ISA*00*          *00*          *ZZ*ACME           *ZZ*GLOBEX         *260301*1200*^*00501*000000001*0*P*:~\
GS*PO*ACME*GLOBEX*20260301*1200*1*X*005010~ST*850*0001~BEG*00*SA*PO1**20260301~\
REF*DP*042*~PO1*1*1*EA*1.00~PO4*5:*1*BX~PO4*:*2~CTT*1~SE*8*0001~GE*1*1~IEA*1*000000001~";
    let docs = read_x12(x12.as_bytes(), "kept segments");
    let po = po(&docs[0]);
    assert_eq!(
        po.lines[0].extensions["x12"]["segments"],
        serde_json::json!([["PO4", "5", "1", "BX"], ["PO4", "", "2"]])
    );
    assert_eq!(
        po.extensions["x12"]["segments"],
        serde_json::json!([["REF", "DP", "042"]])
    );
    let (bytes, back) = through_x12(&docs, "trailing empties");
    assert_eq!(back, docs, "{}", String::from_utf8_lossy(&bytes));
}

#[test]
fn kept_beginning_segment_elements_past_the_twelfth_are_written_back() {
    // Found by the fuzzer: BIG33 was kept on reading and dropped on writing.
    let x12 = format!(
        "ISA*00*          *00*          *ZZ*ACME           *ZZ*GLOBEX         *260301*1200*U*00401*000000001*0*P*>~\
GS*IN*ACME*GLOBEX*20260301*1200*1*X*004010~ST*810*0001~BIG*20260301*INV1*20260301*PO1{}*X33~\
IT1*1*1*EA*1.00~TDS*100~CTT*1~SE*6*0001~GE*1*1~IEA*1*000000001~",
        "*".repeat(28)
    );
    let docs = read_x12(x12.as_bytes(), "BIG33");
    let Document::Invoice(inv) = &docs[0] else {
        panic!("not an invoice");
    };
    assert_eq!(inv.extensions["x12"]["elements"]["BIG33"], "X33");
    let (bytes, back) = through_x12(&docs, "BIG33");
    assert_eq!(back, docs, "{}", String::from_utf8_lossy(&bytes));
    // A hand-made document cannot make the writer loop to an absurd position.
    let mut big = docs[0].clone();
    if let Document::Invoice(i) = &mut big
        && let Some(e) = i.extensions.get_mut("x12")
    {
        e["elements"]["BIG100000"] = "x".into();
    }
    let err = X12Codec::new()
        .encode(&[big], &PartnerProfile::anonymous())
        .unwrap_err()
        .to_string();
    assert!(err.contains("BIG100000"), "{err}");
}

#[test]
fn an_itd_without_terms_the_model_holds_is_kept_not_dropped() {
    // Found by the fuzzer: the last ITD (`ITD*01*3`, codes only) was dropped, and an earlier,
    // kept ITD became the payment terms once written again. The first ITD that gives terms is
    // the document's now (as cXML's first tier is), and one of codes only is kept whole.
    let x12 = "ISA*00*          *00*          *ZZ*ACME           *ZZ*GLOBEX         *260301*1200*U*00401*000000001*0*P*>~\
GS*PO*ACME*GLOBEX*20260301*1200*1*X*004010~ST*850*0001~BEG*00*SA*PO1**20260301~\
ITD*01*3~ITD*14*3*2**45**46~ITD*01*3~PO1*1*1*EA*1.00~CTT*1~SE*8*0001~GE*1*1~IEA*1*000000001~";
    let docs = read_x12(x12.as_bytes(), "kept segments");
    let po = po(&docs[0]);
    assert_eq!(
        po.payment_terms
            .as_ref()
            .map(|t| (t.discount_days, t.net_days)),
        Some((Some(45), Some(46)))
    );
    assert_eq!(
        po.extensions["x12"]["segments"],
        serde_json::json!([["ITD", "01", "3"], ["ITD", "01", "3"]])
    );
    let (bytes, back) = through_x12(&docs, "ITD codes only");
    assert_eq!(back, docs, "{}", String::from_utf8_lossy(&bytes));
}

#[test]
fn a_cur_without_a_currency_is_kept_and_never_becomes_the_currency() {
    // Found by the fuzzer: the last CUR had no CUR02, so the document had no currency and an
    // earlier CUR*SE*USD was kept; written again, that kept CUR was the only one, and read back
    // as the currency. The currency now comes from the last CUR that names one.
    let x12 = "ISA*00*          *00*          *ZZ*ACME           *ZZ*GLOBEX         *260301*1200*U*00401*000000001*0*P*>~\
GS*PO*ACME*GLOBEX*20260301*1200*1*X*004010~ST*850*0001~BEG*00*SA*PO1**20260301~\
CUR*BY*USD~CUR*BY~PO1*1*1*EA*1.00~CTT*1~SE*7*0001~GE*1*1~IEA*1*000000001~";
    let docs = read_x12(x12.as_bytes(), "two CURs");
    let po = po(&docs[0]);
    assert_eq!(po.currency.as_deref(), Some("USD"));
    assert_eq!(
        po.extensions["x12"]["segments"],
        serde_json::json!([["CUR", "BY"]])
    );
    let (bytes, back) = through_x12(&docs, "CUR without CUR02");
    assert_eq!(back, docs, "{}", String::from_utf8_lossy(&bytes));
}

#[test]
fn a_unit_read_from_x12_goes_back_as_it_came() {
    // Found by the fuzzer: `Ea` read from an 850 was written as `EA` (the unit table compares
    // without case), and `CS` would have gone back as `CA` (the table's Recommendation 20
    // case). A unit the table would change is now kept as read; one from elsewhere is still
    // translated.
    let x12 = "ISA*00*          *00*          *ZZ*ACME           *ZZ*GLOBEX         *260301*1200*U*00401*000000001*0*P*>~\
GS*PO*ACME*GLOBEX*20260301*1200*1*X*004010~ST*850*0001~BEG*00*SA*PO1**20260301~\
PO1*1*1*Ea*1.00~PO1*2*1*CS*1.00~PO1*3*1*EA*1.00~CTT*3~SE*7*0001~GE*1*1~IEA*1*000000001~";
    let docs = read_x12(x12.as_bytes(), "units");
    let units: Vec<_> = po(&docs[0]).lines.iter().map(|l| l.uom.clone()).collect();
    assert_eq!(
        units,
        [Some("Ea".into()), Some("CS".into()), Some("EA".into())]
    );
    let (bytes, back) = through_x12(&docs, "units as read");
    assert_eq!(back, docs, "{}", String::from_utf8_lossy(&bytes));
    let written: Vec<String> = segments(&bytes, b"PO1")
        .iter()
        .map(|s| s[3].clone())
        .collect();
    assert_eq!(written, ["Ea", "CS", "EA"]);
    // The same units from a document that was never X12 are written as X12 codes.
    let mut fresh = order_with("Acme", "Gloves", "CS");
    let (bytes, _) = through_x12(&fresh, "Recommendation 20 case");
    assert_eq!(segments(&bytes, b"PO1")[0][3], "CA");
    if let Document::PurchaseOrder(po) = &mut fresh[0] {
        po.lines[0].uom = Some("ea".into());
    }
    let (bytes, _) = through_x12(&fresh, "lower case each");
    assert_eq!(segments(&bytes, b"PO1")[0][3], "EA");
}

#[test]
fn a_description_pid_with_an_element_past_99_is_refused_on_writing_not_dropped() {
    // Found by the fuzzer: PID132 of a malformed input was kept on reading and silently left
    // out on writing (only two-digit positions were looked at there).
    let pid = format!("PID*F****Gloves{}X", "*".repeat(127));
    let x12 = format!(
        "ISA*00*          *00*          *ZZ*ACME           *ZZ*GLOBEX         *260301*1200*U*00401*000000001*0*P*>~\
GS*PO*ACME*GLOBEX*20260301*1200*1*X*004010~ST*850*0001~BEG*00*SA*PO1**20260301~\
PO1*1*1*EA*1.00~{pid}~CTT*1~SE*6*0001~GE*1*1~IEA*1*000000001~"
    );
    let docs = read_x12(x12.as_bytes(), "PID132");
    assert_eq!(po(&docs[0]).lines[0].description.as_deref(), Some("Gloves"));
    let err = encode_for(&docs, "").unwrap_err();
    assert!(
        err.contains("PID132") && err.contains("positions end at 99"),
        "{err}"
    );
}

#[test]
fn the_terms_and_currency_are_the_headings_and_a_lines_own_stay_with_the_line() {
    // Found by the fuzzer: the last ITD anywhere was the document's terms, so a line's ITD
    // took the place of the heading's, and which ITD was last changed once the line loop was
    // written in table order. The heading's last ITD and CUR are the document's now.
    let x12 = "ISA*00*          *00*          *ZZ*ACME           *ZZ*GLOBEX         *260301*1200*U*00401*000000001*0*P*>~\
GS*PO*ACME*GLOBEX*20260301*1200*1*X*004010~ST*850*0001~BEG*00*SA*PO1**20260301~CUR*BY*USD~\
ITD*14*3*2**45**46~PO1*1*1*EA*1.00~CUR*BY*EUR~ITD*01*3*1**10~CTT*1~SE*9*0001~GE*1*1~IEA*1*000000001~";
    let docs = read_x12(x12.as_bytes(), "line terms");
    let po = po(&docs[0]);
    assert_eq!(po.currency.as_deref(), Some("USD"));
    assert_eq!(po.payment_terms.as_ref().and_then(|t| t.net_days), Some(46));
    assert_eq!(
        po.lines[0].extensions["x12"]["segments"],
        serde_json::json!([["CUR", "BY", "EUR"], ["ITD", "01", "3", "1", "", "10"]])
    );
    let (bytes, back) = through_x12(&docs, "line terms");
    assert_eq!(back, docs, "{}", String::from_utf8_lossy(&bytes));
}

#[test]
fn a_string_shorter_than_its_minimum_is_padded_and_a_short_code_is_refused() {
    // A Coupa supplier number of one digit: N104 is AN 2/80, so it goes out padded with a
    // trailing space (X12.6), the way a partner's translator accepts it, and reads back as it
    // was. N401 (city, AN 2/30) likewise.
    let mut docs = order_with("Acme", "Gloves", "EA");
    if let Document::PurchaseOrder(po) = &mut docs[0] {
        let supplier = po.supplier.as_mut().unwrap();
        supplier.ids = vec![id("coupa", "7")];
        supplier.address = Some(gateway_model::Address {
            city: Some("Y".into()),
            region: Some("IL".into()),
            postal_code: Some("62701".into()),
            ..gateway_model::Address::default()
        });
    }
    let (bytes, back) = through_x12(&docs, "short id");
    assert_eq!(segments(&bytes, b"N1")[0], ["N1", "SU", "Acme", "92", "7 "]);
    assert_eq!(segments(&bytes, b"N4")[0], ["N4", "Y ", "IL", "62701"]);
    assert_eq!(parties(&back[0]), parties(&docs[0]));
    // A state code of one letter is no code at all: refused with its path, not padded.
    if let Document::PurchaseOrder(po) = &mut docs[0] {
        let address = po.supplier.as_mut().unwrap().address.as_mut().unwrap();
        address.region = Some("I".into());
    }
    let err = encode_for(&docs, "").unwrap_err();
    assert!(
        err.contains("$.supplier") && err.contains("N402") && err.contains("at least 2"),
        "{err}"
    );
}

#[test]
fn the_payment_terms_itd_and_the_description_pid_come_back_whole() {
    // ITD01/ITD02 (terms type, basis date), the due dates and a value that does not parse, and
    // the description PID's own codes, are not in the model: they are kept with the document
    // and its line, and a partner gets its segments back as they were.
    let itd = "ITD*05*3*2*20260310*10*20260330*30*****2% 10 Net 30";
    let pid = "PID*S*08*VI*GL1*Nitrile gloves*****EN";
    let x12 = format!(
        "ISA*00*          *00*          *ZZ*ACME           *ZZ*GLOBEX         *260301*1200*U*00401*000000001*0*P*>~\
GS*PO*ACME*GLOBEX*20260301*1200*1*X*004010~ST*850*0001~BEG*00*SA*PO1**20260301~\
{itd}~PO1*1*1*EA*1.00~{pid}~CTT*1~SE*7*0001~GE*1*1~IEA*1*000000001~"
    );
    let docs = read_x12(x12.as_bytes(), "ITD and PID");
    let terms = po(&docs[0]).payment_terms.as_ref().unwrap();
    assert_eq!(terms.net_days, Some(30));
    assert_eq!(terms.description.as_deref(), Some("2% 10 Net 30"));
    assert_eq!(
        po(&docs[0]).lines[0].description.as_deref(),
        Some("Nitrile gloves")
    );
    let (bytes, back) = through_x12(&docs, "ITD and PID");
    assert_eq!(back, docs);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains(&format!("{itd}~")), "{text}");
    assert!(text.contains(&format!("{pid}~")), "{text}");

    // Terms and a description from elsewhere go out as before: no codes invented.
    let docs = order_with("Acme", "Gloves", "EA");
    let (bytes, _) = through_x12(&docs, "plain");
    assert_eq!(
        segments(&bytes, b"PID")[0],
        ["PID", "F", "", "", "", "Gloves"]
    );
}
