//! X12 850 (purchase order) ↔ canonical [`PurchaseOrder`], per the X12 column of CANONICAL.md.
//!
//! Header: BEG (BEG01 purpose, BEG03 number, BEG05 date), NTE → comments, CUR02, TXI, SAC,
//! N1 loops (SU/SE/VN supplier, BY buyer, BT bill-to, ST ship-to), ITD. Lines: PO1 (number,
//! quantity, UOM, price, qualifier pairs), PID05 → description, DTM*002 → need-by, TXI, SAC.
//! Summary: CTT (checked), AMT*TT → total (computed from the lines when absent). Everything else
//! goes to `extensions.x12` (see [`crate::common`]).

use gateway_core::EncodeError;
use gateway_model::{ChargeKind, OrderLine, OrderPurpose, Party, PurchaseOrder};
use rust_decimal::Decimal;

use crate::common::{self, ExtBuilder, MapCx, PartIds, SetShape};
use crate::envelope::{SetIssue, Severity};
use crate::fields::Fields;
use crate::line_loop::OpenLine;
use crate::map810::{body, check_ctt};
use crate::tokenizer::Segment;
use crate::values;
use crate::writer::{El, Out, o, t};

fn role(code: &str) -> Option<usize> {
    match code {
        "SU" | "SE" | "VN" => Some(0),
        "BY" => Some(1),
        "BT" => Some(2),
        "ST" => Some(3),
        _ => None,
    }
}

const ROLE_CODES: [&str; 4] = ["SU", "BY", "BT", "ST"];

#[derive(PartialEq, Clone, Copy)]
enum Scope {
    Header,
    Line,
    Summary,
}

fn is_amt_tt(seg: &Segment<'_>) -> bool {
    seg.id() == b"AMT" && Fields::new(seg).str_at(1).as_deref() == Some("TT")
}

const SHAPE: SetShape = SetShape {
    begin: *b"BEG",
    line: *b"PO1",
    is_total: is_amt_tt,
    role,
};

/// Maps one 850 set (ST..SE). Returns the order unless a problem is an error.
pub fn to_order(segments: &[Segment<'_>]) -> (Option<PurchaseOrder>, Vec<SetIssue>) {
    let body = body(segments);
    let mut cx = MapCx::default();
    let mut po = PurchaseOrder::default();
    let mut ext = ExtBuilder::default();
    let survey = common::survey(body, &SHAPE);
    let Some(beg_i) = survey.begin else {
        let line = segments.first().map(|s| s.line).unwrap_or(1);
        cx.issues.push(SetIssue::segment(
            Severity::Error,
            "BEG",
            2,
            line,
            "3",
            "mandatory segment BEG (beginning segment for purchase order) is missing".into(),
        ));
        return (None, cx.issues);
    };
    let mut slots: [Option<Party>; 4] = Default::default();
    let mut comments: Vec<String> = Vec::new();
    po.lines.reserve_exact(survey.lines);
    let mut open = OpenLine::default();
    let mut scope = Scope::Header;
    let mut i = 0;
    while let Some(seg) = body.get(i) {
        let seg = &Fields::new(seg);
        match (scope, seg.id()) {
            (_, b"BEG") if i == beg_i => read_beg(&mut cx, &mut po, &mut ext, seg, i),
            (Scope::Header | Scope::Summary, b"NTE") if seg.text(2).is_some() => {
                comments.extend(seg.text(2));
            }
            (_, b"CUR") if Some(i) == survey.last_cur => po.currency = seg.trimmed(2),
            (Scope::Header | Scope::Summary, b"N1") => {
                i = common::read_party_into(seg, body, i, &survey, role, &mut slots, &mut ext);
                continue;
            }
            (_, b"ITD") if Some(i) == survey.last_itd => {
                po.payment_terms = common::read_terms(&mut cx, seg, i)
            }
            (_, b"PO1") => {
                scope = Scope::Line;
                let ordinal = po.lines.len();
                let line_ext = open.start(&mut po.lines);
                let item = common::read_line_item(&mut cx, seg, i, ordinal, line_ext);
                po.lines.push(OrderLine {
                    line_number: item.number,
                    quantity: item.quantity,
                    uom: item.uom,
                    unit_price: item.unit_price,
                    amount: item.amount,
                    supplier_part_id: item.ids.supplier,
                    buyer_part_id: item.ids.buyer,
                    ..OrderLine::default()
                });
                if let Some(pl) = item.ids.po_line {
                    // The PO model has no PO line number: a PL pair stays in extensions.
                    line_ext.ids.push(serde_json::json!(["PL", pl.as_str()]));
                }
            }
            (Scope::Line, b"DTM")
                if seg.str_at(1).as_deref() == Some("002")
                    && po.lines.last().is_some_and(|l| l.need_by.is_none()) =>
            {
                match (cx.opt_date(seg, i, 2, Severity::Error), po.lines.last_mut()) {
                    (Some(d), Some(l)) => l.need_by = Some(d),
                    (None, Some(_)) => open.keep(seg),
                    _ => {}
                }
            }
            (Scope::Header | Scope::Summary, b"TXI") => match common::read_tax(&mut cx, seg, i) {
                Some(tax) => po.taxes.push(tax),
                None => ext.keep(seg),
            },
            (Scope::Header | Scope::Summary, b"SAC") => {
                match common::read_charge(&mut cx, seg, i) {
                    Some(c) => po.charges.push(c),
                    None => ext.keep(seg),
                }
            }
            (_, b"CTT") => {
                check_ctt(&mut cx, seg, i, po.lines.len());
                scope = Scope::Summary;
            }
            (_, b"AMT") if Some(i) == survey.last_total => {
                scope = Scope::Summary;
                po.total = cx.opt_decimal(seg, i, 2, Severity::Error);
            }
            (Scope::Line, _) => open.segment(&mut cx, seg, i, &mut po.lines),
            _ => ext.keep(seg),
        }
        i += 1;
    }
    open.close(&mut po.lines);
    let [supplier, buyer, bill_to, ship_to] = slots;
    po.supplier = supplier;
    po.buyer = buyer;
    po.bill_to = bill_to;
    po.ship_to = ship_to;
    if !comments.is_empty() {
        po.comments = Some(comments.join("\n").into());
    }
    if po.total.is_none() {
        po.total = computed_total(&po);
    }
    ext.into_extensions(&mut po.extensions);
    if cx.has_errors() {
        return (None, cx.issues);
    }
    (Some(po), cx.issues)
}

/// Lines + taxes + charges (discounts subtract), when every line has an amount.
fn computed_total(po: &PurchaseOrder) -> Option<Decimal> {
    if po.lines.is_empty() {
        return None;
    }
    let mut sum = Decimal::ZERO;
    let charges = |cs: &[gateway_model::Charge]| -> Decimal {
        cs.iter()
            .filter_map(|c| {
                c.amount.map(|a| match c.kind {
                    ChargeKind::Discount => -a.abs(),
                    _ => a,
                })
            })
            .sum()
    };
    for l in &po.lines {
        sum = sum.checked_add(l.amount?)?;
        sum = sum.checked_add(l.taxes.iter().filter_map(|t| t.amount).sum())?;
        sum = sum.checked_add(charges(&l.charges))?;
    }
    sum = sum.checked_add(po.taxes.iter().filter_map(|t| t.amount).sum())?;
    sum.checked_add(charges(&po.charges))
}

fn read_beg(
    cx: &mut MapCx,
    po: &mut PurchaseOrder,
    ext: &mut ExtBuilder,
    seg: &Fields<'_, '_>,
    i: usize,
) {
    let beg01 = seg.str_at(1);
    po.purpose = match beg01.as_deref() {
        Some("00") => Some(OrderPurpose::New),
        Some("01") => Some(OrderPurpose::Cancel),
        Some("04" | "05") => Some(OrderPurpose::Update),
        _ => None,
    };
    po.po_number = seg.trimmed(3);
    if po.po_number.is_none() {
        cx.element(
            Severity::Error,
            seg,
            i,
            3,
            "1",
            "BEG03 purchase order number is required".into(),
        );
    }
    po.order_date = cx.opt_date(seg, i, 5, Severity::Error);
    if seg.str_at(5).is_none() {
        cx.element(
            Severity::Error,
            seg,
            i,
            5,
            "1",
            "BEG05 purchase order date is required".into(),
        );
    }
    // Positions read into the model; `usize::MAX` is no position.
    let mut mapped = [3, 5, usize::MAX, usize::MAX];
    if matches!(beg01.as_deref(), Some("00" | "01" | "04")) {
        mapped[2] = 1;
    }
    if seg.str_at(2).as_deref() == Some("SA") {
        mapped[3] = 2;
    }
    ext.keep_elements(seg, &mapped);
}

fn kept<'a>(ext: &'a gateway_model::Extensions, key: &str) -> El<'a> {
    o(common::kept_element(ext, key))
}

/// Writes the body of an 850 (BEG through AMT; the caller writes ST and SE).
pub fn write_order(out: &mut Out, po: &PurchaseOrder) -> Result<(), EncodeError> {
    let date = po.order_date.ok_or_else(|| EncodeError::Invalid {
        path: "$.order_date".into(),
        message: "an 850 needs the order date (BEG05)".into(),
    })?;
    let number = po
        .po_number
        .clone()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| EncodeError::Invalid {
            path: "$.po_number".into(),
            message: "an 850 needs the PO number (BEG03)".into(),
        })?;
    let e = &po.extensions;
    let kept01 = common::kept_element(e, "BEG01");
    let beg01 = match (po.purpose, kept01) {
        (Some(OrderPurpose::Update), Some(k)) if k == "05" => k,
        (None, Some(k)) => k,
        (Some(OrderPurpose::New) | None, _) => "00",
        (Some(OrderPurpose::Cancel), _) => "01",
        (Some(OrderPurpose::Update), _) => "04",
    };
    let beg02 = common::kept_element(e, "BEG02").unwrap_or("SA");
    let mut beg = vec![
        t(beg01),
        t(beg02),
        t(number),
        kept(e, "BEG04"),
        t(values::to_date(date)),
    ];
    for n in 6..=12 {
        beg.push(kept(e, &format!("BEG{n:02}")));
    }
    out.segment("$", "BEG", &beg)?;
    common::write_kept_segments(out, e, "$")?;
    if let Some(c) = &po.comments {
        for l in c.split('\n') {
            out.segment("$.comments", "NTE", &[t("GEN"), t(l)])?;
        }
    }
    if let Some(c) = &po.currency {
        out.segment("$.currency", "CUR", &[t("BY"), t(c.as_str())])?;
    }
    for (k, c) in po.charges.iter().enumerate() {
        common::write_charge(out, c, &format!("$.charges[{k}]"))?;
    }
    if let Some(terms) = &po.payment_terms {
        common::write_terms(out, terms)?;
    }
    for (k, tax) in po.taxes.iter().enumerate() {
        common::write_tax(out, tax, &format!("$.taxes[{k}]"))?;
    }
    for (k, (party, field)) in [
        (&po.supplier, "supplier"),
        (&po.buyer, "buyer"),
        (&po.bill_to, "bill_to"),
        (&po.ship_to, "ship_to"),
    ]
    .into_iter()
    .enumerate()
    {
        if let (Some(p), Some(code)) = (party, ROLE_CODES.get(k)) {
            common::write_party(out, code, p, &format!("$.{field}"))?;
        }
    }
    for (n, line) in po.lines.iter().enumerate() {
        let path = format!("$.lines[{n}]");
        let le = &line.extensions;
        let mut els = vec![
            match common::kept_element(le, "PO101") {
                Some(k) => t(k),
                None => t(line.line_number.to_string()),
            },
            o(line.quantity.map(values::to_decimal)),
            o(line.uom.as_deref()),
            o(line.unit_price.map(values::to_decimal)),
            kept(le, "PO105"),
        ];
        els.extend(common::write_part_ids(
            PartIds {
                supplier: line.supplier_part_id.as_deref(),
                buyer: line.buyer_part_id.as_deref(),
                po_line: None,
            },
            le,
        ));
        out.segment(&path, "PO1", &els)?;
        if let Some(d) = &line.description {
            out.segment(
                &format!("{path}.description"),
                "PID",
                &[t("F"), El::empty(), El::empty(), El::empty(), t(d.as_str())],
            )?;
        }
        if let Some(d) = line.need_by {
            out.segment(
                &format!("{path}.need_by"),
                "DTM",
                &[t("002"), t(values::to_date(d))],
            )?;
        }
        for (k, tax) in line.taxes.iter().enumerate() {
            common::write_tax(out, tax, &format!("{path}.taxes[{k}]"))?;
        }
        for (k, c) in line.charges.iter().enumerate() {
            common::write_charge(out, c, &format!("{path}.charges[{k}]"))?;
        }
        common::write_kept_segments(out, le, &path)?;
    }
    out.segment("$.lines", "CTT", &[t(po.lines.len().to_string())])?;
    if let Some(total) = po.total {
        out.segment("$.total", "AMT", &[t("TT"), t(values::to_decimal(total))])?;
    }
    Ok(())
}
