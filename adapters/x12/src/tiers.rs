//! Payment terms of several tiers (3% in 10 days, 1% in 20, net 45): one ITD each.
//!
//! The model holds one set of terms, the primary (`payment_terms`): a discount tier and the
//! net term, which one ITD carries together (ITD03 percent, ITD05 its days, ITD07 net days,
//! ITD12 description). cXML keeps the tiers beyond it in `extensions.cxml.payment_terms`
//! (adapter-cxml's `decode::common::payment_terms`: its first whole discount tier and first
//! net term are the model's, and the others are kept as element JSON in their places, with
//! `"discount"` and `"net"` marking the model's).
//!
//! Reading, the heading's first ITD that gives terms is the document's `payment_terms`, as
//! cXML's first tier is; each later heading ITD that gives terms is a further tier, in the
//! model's words in `extensions.x12.payment_terms` (the elements the terms do not hold in
//! `extensions.x12.field_elements["payment_terms[<k>]"]`); an ITD that gives none (only
//! ITD01/ITD02 codes) is kept whole, as before. The reader used to take the heading's *last*
//! ITD, so a document of several tiers took its last tier, where cXML takes its first.
//!
//! Writing, the primary ITD goes first (before the kept segments, so a kept ITD never comes
//! before it and reads back as the terms), then one ITD per further tier: those read from
//! X12, else the `PaymentTerm`s cXML kept. A cXML tier's ITD: `Discount/DiscountPercent@percent`
//! → ITD03; its days (`Discount/DiscountDueDays`, else `@payInNumberOfDays`) → ITD05;
//! `NetDueDays` → ITD07 (for a term without `Discount`, `NetDueDays` else
//! `@payInNumberOfDays`); `Discount/DiscountAmount/Money` → ITD08, the terms discount amount
//! (two implied decimals; in the document's currency, X12 names none there); the
//! `description` Extrinsic → ITD12. What else a `PaymentTerm` holds has no ITD element: it is
//! left out of the ITD and named by [`crate::left_out()`].

use gateway_core::EncodeError;
use gateway_model::{Decimal, Extensions, PaymentTerms};
use serde_json::Value;

use crate::common::{self, ExtBuilder, Kept, MapCx, x12_ext};
use crate::fields::Fields;
use crate::writer::{El, Out, t};

/// The key of the further tiers, in `extensions.x12` as in `extensions.cxml`.
pub(crate) const TIERS: &str = "payment_terms";

/// Reads heading ITD `seg` (body segment `i`): the document's `terms` when it has none yet,
/// else a further tier in `ext`'s `payment_terms`; an ITD that gives no terms is kept whole.
pub(crate) fn read_itd(
    cx: &mut MapCx,
    seg: &Fields<'_, '_>,
    i: usize,
    ext: &mut ExtBuilder,
    terms: &mut Option<PaymentTerms>,
) {
    if terms.is_none() {
        match common::read_terms(cx, seg, i, ext) {
            Some(read) => *terms = Some(read),
            None => ext.keep(seg),
        }
        return;
    }
    let mut own = ExtBuilder::default();
    let tier = common::read_terms(cx, seg, i, &mut own).and_then(|t| serde_json::to_value(t).ok());
    let Some(tier) = tier else {
        ext.keep(seg);
        return;
    };
    let list = ext
        .mapped
        .entry(TIERS)
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(list) = list else {
        // Only this function puts the key there, always as a list.
        ext.keep(seg);
        return;
    };
    let k = list.len();
    list.push(tier);
    ext.keep_field_map(&format!("{TIERS}[{k}]"), own.elements);
}

/// Writes one ITD per further tier of `ext` (the document's extensions), after the primary's:
/// those read from X12 (`x12.payment_terms`), else those cXML kept (`cxml.payment_terms`).
/// A tier that is not payment terms is refused with its path.
pub(crate) fn write_tiers(out: &mut Out, ext: &Extensions) -> Result<(), EncodeError> {
    if let Some(list) = x12_ext(ext).and_then(|x| x.get(TIERS)) {
        let Some(list) = list.as_array() else {
            return Err(EncodeError::Invalid {
                path: format!("$.extensions.x12.{TIERS}"),
                message: "expected a list of payment terms (further ITDs)".into(),
            });
        };
        for (k, v) in list.iter().enumerate() {
            let path = format!("$.extensions.x12.{TIERS}[{k}]");
            let terms: PaymentTerms =
                serde_json::from_value(v.clone()).map_err(|e| EncodeError::Invalid {
                    path: path.clone(),
                    message: format!("not payment terms: {e}"),
                })?;
            let els = common::terms_elements(&terms, Kept::field(ext, &format!("{TIERS}[{k}]")))?;
            write_itd(out, &path, &els)?;
        }
        return Ok(());
    }
    for tier in cxml_tiers(ext) {
        let path = format!("$.extensions.cxml.{TIERS}[{}]", tier.index);
        let mut els = common::terms_elements(&tier.terms, Kept::none())?;
        if let Some(v) = tier.amount.and_then(crate::values::to_implied2)
            && let Some(slot) = els.get_mut(7)
        {
            *slot = t(v);
        }
        write_itd(out, &path, &els)?;
    }
    Ok(())
}

/// An ITD of `els`; none when they are all empty (a tier that gives nothing an ITD holds).
fn write_itd(out: &mut Out, path: &str, els: &[El<'_>]) -> Result<(), EncodeError> {
    if els.iter().all(El::is_empty) {
        return Ok(());
    }
    out.segment(path, "ITD", els)
}

/// A `PaymentTerm` cXML kept, in ITD terms (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct CxmlTier {
    /// Its place in `extensions.cxml.payment_terms`.
    pub index: usize,
    pub terms: PaymentTerms,
    /// ITD08: a discount of an amount (`DiscountAmount`), which the model has no field for.
    pub amount: Option<Decimal>,
    /// What of it no ITD element holds, in words.
    pub left: Vec<String>,
}

/// The further tiers cXML kept in `ext` (`cxml.payment_terms`, the placeholders of the
/// model's own aside), in order; none when X12 tiers are there, which the writer writes
/// instead.
pub(crate) fn cxml_tiers(ext: &Extensions) -> Vec<CxmlTier> {
    if x12_ext(ext).is_some_and(|x| x.contains_key(TIERS)) {
        return Vec::new();
    }
    let Some(list) = ext
        .get("cxml")
        .and_then(|c| c.get(TIERS))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .enumerate()
        .filter(|(_, v)| !v.is_string())
        .map(|(index, v)| cxml_tier(index, v))
        .collect()
}

/// The element JSON's name (`"element"`).
fn name(v: &Value) -> &str {
    v.get("element").and_then(Value::as_str).unwrap_or_default()
}

/// The element JSON's children, in order.
fn children(v: &Value) -> &[Value] {
    v.get("children")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn attr<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get("attributes")?.get(key)?.as_str()
}

fn text(v: &Value) -> Option<&str> {
    v.get("text").and_then(Value::as_str).map(str::trim)
}

fn days(s: Option<&str>) -> Option<u32> {
    s?.trim().parse().ok()
}

/// One kept `PaymentTerm` (element JSON) as ITD terms.
fn cxml_tier(index: usize, v: &Value) -> CxmlTier {
    let mut tier = CxmlTier {
        index,
        ..CxmlTier::default()
    };
    if name(v) != "PaymentTerm" {
        tier.left.push(format!("a {:?} element", name(v)));
        return tier;
    }
    let mut pay_in = None;
    for (key, value) in v
        .get("attributes")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        match (key.as_str(), days(value.as_str())) {
            ("payInNumberOfDays", Some(d)) => pay_in = Some(d),
            _ => tier.left.push(format!("@{key}")),
        }
    }
    let mut discount = false;
    let (mut discount_days, mut net_due) = (None, None);
    for child in children(v) {
        match name(child) {
            "Discount" => {
                discount = true;
                for d in children(child) {
                    let read = match name(d) {
                        "DiscountPercent" => attr(d, "percent")
                            .and_then(gateway_model::parse_plain_decimal)
                            .map(|p| tier.terms.discount_percent = Some(p)),
                        "DiscountAmount" => children(d)
                            .iter()
                            .find(|m| name(m) == "Money")
                            .and_then(text)
                            .and_then(gateway_model::parse_plain_decimal)
                            .map(|a| tier.amount = Some(a)),
                        "DiscountDueDays" => days(text(d)).map(|n| discount_days = Some(n)),
                        _ => None,
                    };
                    if read.is_none() {
                        tier.left.push(format!("Discount/{}", name(d)));
                    }
                }
            }
            "NetDueDays" => match days(text(child)) {
                Some(n) => net_due = Some(n),
                None => tier.left.push("NetDueDays".into()),
            },
            "Extrinsic" if attr(child, "name") == Some("description") => match text(child) {
                Some(d) if !d.is_empty() => tier.terms.description = Some(d.into()),
                _ => tier.left.push("the description Extrinsic".into()),
            },
            "Extrinsic" => tier.left.push(format!(
                "Extrinsic {:?}",
                attr(child, "name").unwrap_or_default()
            )),
            other => tier.left.push(other.to_string()),
        }
    }
    if discount {
        tier.terms.discount_days = discount_days.or(pay_in);
        tier.terms.net_days = net_due;
    } else {
        tier.terms.net_days = net_due.or(pay_in);
    }
    if let Some(a) = tier.amount
        && crate::values::to_implied2(a).is_none()
    {
        tier.left
            .push(format!("the discount amount {a} (ITD08 carries cents)"));
    }
    tier
}

/// What of cXML's further tiers in `ext` no ITD holds (see [`cxml_tier`]), for
/// [`crate::left_out()`].
pub(crate) fn left_out(ext: &Extensions, out: &mut Vec<crate::left_out::LeftOut>) {
    for tier in cxml_tiers(ext) {
        if tier.left.is_empty() {
            continue;
        }
        out.push(crate::left_out::LeftOut {
            path: format!("$.extensions.cxml.{TIERS}[{}]", tier.index),
            reason: format!(
                "{} of this payment term has no element in an ITD (ITD03 discount percent, ITD05 its days, ITD07 net days, ITD08 discount amount, ITD12 description); the rest of the term is written",
                tier.left.join(", ")
            ),
        });
    }
}
