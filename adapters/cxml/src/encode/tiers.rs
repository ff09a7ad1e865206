//! Payment-term tiers read from X12 (`extensions.x12.payment_terms`: every heading ITD after
//! the first that gives terms, each a canonical [`PaymentTerms`]; see adapter-x12's `tiers`)
//! as further `PaymentTerm` elements, for a document whose terms cXML did not keep itself
//! (no `extensions.cxml.payment_terms`: those, read from cXML, are written in their places
//! instead, see [`super::order::payment_terms`]).
//!
//! cXML.dtd and InvoiceDetail.dtd (1.2.050) give a `PaymentTerm` `(Discount?, Extrinsic*)`
//! with `payInNumberOfDays` required, and `Discount (DiscountPercent | DiscountAmount)`. So a
//! tier is written as cXML writes the model's own terms:
//! - its discount, when it has both its percent and its days: `<PaymentTerm
//!   payInNumberOfDays="{discount_days}"><Discount><DiscountPercent percent="{percent}"/>`;
//! - its net days: `<PaymentTerm payInNumberOfDays="{net_days}"/>`, unless its discount was
//!   written and a `PaymentTerm` of those net days already was (the document's own net term,
//!   an earlier tier's): cXML's terms are a list, not tiers, and the same net term twice says
//!   nothing more;
//! - its description as the `description` Extrinsic of the first of them (what the reader
//!   takes a term's description from).
//!
//! Read back, cXML's reader keeps them as it keeps any `PaymentTerm` that is not the model's
//! (`extensions.cxml.payment_terms`), which X12's writer writes as ITDs again. A tier's whole
//! discount reads back as the document's own when the document has none (cXML's terms are not
//! grouped in tiers: its reader takes the first whole discount for the model), as its net
//! term does when the document has no net days.
//!
//! What of a tier no valid `PaymentTerm` holds (a percent without its days, days without a
//! percent, a description of a tier without any days) is not written, and [`left_out`] names
//! it.

use gateway_core::EncodeError;
use gateway_model::{Extensions, PaymentTerms};
use serde_json::Value;

use super::writer::Xml;

/// The key of the further tiers, in `extensions.x12` as in `extensions.cxml`.
const TIERS: &str = "payment_terms";

/// `extensions.x12.payment_terms` of `e`, when it is there (a `null` is none).
fn x12_tiers(e: &Extensions) -> Option<&Value> {
    e.get("x12")
        .and_then(|x| x.get(TIERS))
        .filter(|v| !v.is_null())
}

/// Whether cXML kept terms of its own in `e` (`extensions.cxml.payment_terms`), which are
/// written instead of X12's tiers.
fn cxml_kept(e: &Extensions) -> bool {
    super::cxml_ext(e).is_some_and(|c| c.get(TIERS).is_some_and(|v| !v.is_null()))
}

/// The tiers X12 read, each with its path; `None` when there are none to write (cXML kept
/// its own, or X12 read none). Something that is no list of payment terms is refused with its
/// path: it is malformed, not something cXML has no place for.
fn tiers(e: &Extensions) -> Result<Option<Vec<(String, PaymentTerms)>>, EncodeError> {
    if cxml_kept(e) {
        return Ok(None);
    }
    let Some(list) = x12_tiers(e) else {
        return Ok(None);
    };
    let Some(list) = list.as_array() else {
        return Err(EncodeError::Invalid {
            path: format!("$.extensions.x12.{TIERS}"),
            message: "expected a list of payment terms (the further ITDs)".into(),
        });
    };
    list.iter()
        .enumerate()
        .map(|(k, v)| {
            let path = format!("$.extensions.x12.{TIERS}[{k}]");
            match serde_json::from_value::<PaymentTerms>(v.clone()) {
                Ok(t) => Ok((path, t)),
                Err(err) => Err(EncodeError::Invalid {
                    path,
                    message: format!("not payment terms: {err}"),
                }),
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The `PaymentTerm`s one tier is written as (see the module docs), and what of it none holds.
#[derive(Debug, Default)]
struct TierTerms {
    /// `(payInNumberOfDays, DiscountPercent@percent)`.
    discount: Option<(u32, String)>,
    /// `payInNumberOfDays` of its net term.
    net: Option<u32>,
    /// What no `PaymentTerm` holds, in words.
    left: Vec<&'static str>,
}

/// How tier `t` is written, `net_written` holding the net days already written.
fn tier_terms(t: &PaymentTerms, net_written: &[u32]) -> TierTerms {
    let mut out = TierTerms::default();
    match (t.discount_percent, t.discount_days) {
        (Some(p), Some(d)) => out.discount = Some((d, p.to_string())),
        (Some(_), None) => out.left.push(
            "its discount percent (a PaymentTerm's Discount is paid in payInNumberOfDays, which \
             is required, and the tier has no discount days)",
        ),
        (None, Some(_)) => out.left.push(
            "its discount days (a PaymentTerm's Discount needs a DiscountPercent or \
             DiscountAmount, and the tier has no discount percent)",
        ),
        (None, None) => {}
    }
    out.net = t
        .net_days
        .filter(|n| out.discount.is_none() || !net_written.contains(n));
    if t.description.is_some() && out.discount.is_none() && out.net.is_none() {
        out.left.push(
            "its description (a PaymentTerm needs its payInNumberOfDays, and the tier has no \
             days)",
        );
    }
    out
}

/// The net days the document's own net term is written with (`order::net_term`: its net
/// days, else those its description names).
fn own_net_days(t: Option<&PaymentTerms>) -> Option<u32> {
    let t = t?;
    t.net_days.or_else(|| {
        t.description
            .as_deref()
            .and_then(crate::carried::net_days_of)
    })
}

/// Writes X12's further tiers of `e` (the document's extensions) after the document's own
/// terms `own`, when cXML kept none (see the module docs).
pub(crate) fn write(
    x: &mut Xml,
    own: Option<&PaymentTerms>,
    e: &Extensions,
) -> Result<(), EncodeError> {
    let Some(tiers) = tiers(e)? else {
        return Ok(());
    };
    let mut net_written: Vec<u32> = own_net_days(own).into_iter().collect();
    for (_, t) in &tiers {
        let terms = tier_terms(t, &net_written);
        let mut description = t.description.as_deref();
        if let Some((days, percent)) = &terms.discount {
            let days = days.to_string();
            x.open("PaymentTerm", &[("payInNumberOfDays", Some(days.as_str()))]);
            x.open("Discount", &[]);
            x.empty("DiscountPercent", &[("percent", Some(percent.as_str()))]);
            x.close("Discount");
            if let Some(d) = description.take() {
                x.leaf("Extrinsic", &[("name", Some("description"))], d);
            }
            x.close("PaymentTerm");
        }
        if let Some(n) = terms.net {
            let days = n.to_string();
            let attrs = [("payInNumberOfDays", Some(days.as_str()))];
            match description.take() {
                Some(d) => {
                    x.open("PaymentTerm", &attrs);
                    x.leaf("Extrinsic", &[("name", Some("description"))], d);
                    x.close("PaymentTerm");
                }
                None => x.empty("PaymentTerm", &attrs),
            }
            net_written.push(n);
        }
    }
    Ok(())
}

/// What of X12's further tiers in the document `own`/`e` no `PaymentTerm` holds, as
/// `path: why` (for [`crate::CxmlCodec`]'s `left_out`). Tiers that are malformed are the
/// writer's to refuse, not named here.
pub(crate) fn left_out(own: Option<&PaymentTerms>, e: &Extensions, out: &mut Vec<String>) {
    let Ok(Some(tiers)) = tiers(e) else {
        return;
    };
    let mut net_written: Vec<u32> = own_net_days(own).into_iter().collect();
    for (path, t) in &tiers {
        let terms = tier_terms(t, &net_written);
        net_written.extend(terms.net);
        if !terms.left.is_empty() {
            out.push(format!(
                "{path}: {} has no place in a cXML PaymentTerm and is not written; what \
                 else the tier gives is written as PaymentTerms",
                terms.left.join(" and ")
            ));
        }
    }
}
