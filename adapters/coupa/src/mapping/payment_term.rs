//! Coupa's payment-term code both ways. Coupa takes an invoice's or order's payment terms as
//! a lookup by code (`"payment-term": {"code": "2/10 Net 30"}`; coupa-facts §2), and its usual
//! codes say the terms in one of two forms: `Net N` (due in N days) and `P/D Net N` (P percent
//! off when paid within D days, else due in N). A PO's code is read into the model's fields
//! ([`terms_of_code`]); an invoice's terms without a description of their own are sent as the
//! code of those forms their fields give ([`code_of_terms`]), or, when they give none, named
//! as not sent.

use gateway_model::{Decimal, PaymentTerms};

/// The Coupa payment-term code of `terms`: their description when they have one (the
/// sender's own words for them, which Coupa looks up as they are), else the code in Coupa's
/// usual form built from their fields: `Net 30` from net days alone, `2/10 Net 30` from a
/// discount percent with its days and the net days (the percent without trailing zeros, `1.5`,
/// `2`). A discount of zero percent is no discount, and discount days without a percent say
/// nothing, as when a PO's code is read. `Ok(None)` for terms that say nothing; `Err` with why,
/// in words, for terms no such code can say (a discount without its days, or no net days):
/// Coupa is then sent no payment term, and delivery names them as not sent.
pub(crate) fn code_of_terms(terms: &PaymentTerms) -> Result<Option<String>, String> {
    if let Some(d) = terms.description.as_ref().filter(|d| !d.trim().is_empty()) {
        return Ok(Some(d.to_string()));
    }
    let percent = terms.discount_percent.filter(|p| !p.is_zero());
    match (percent, terms.discount_days, terms.net_days) {
        (None, _, None) if terms.discount_days.is_none() => Ok(None),
        (None, _, Some(net)) => Ok(Some(format!("Net {net}"))),
        (Some(p), Some(days), Some(net)) if is_percent(p) => {
            Ok(Some(format!("{}/{days} Net {net}", p.normalize())))
        }
        _ => Err(format!(
            "payment terms ({}) without a description: Coupa takes payment terms as a code \
             (`Net 30`, `2/10 Net 30`) and these give none, so no payment-term was sent; set it \
             on the invoice in Coupa",
            in_words(terms)
        )),
    }
}

/// Above 0 and below 100: a percent a `P/D Net N` code can say.
fn is_percent(p: Decimal) -> bool {
    p > Decimal::ZERO && p < Decimal::ONE_HUNDRED
}

/// `discount 2% in 10 days, net 30 days`: the terms' fields as a note names them.
fn in_words(terms: &PaymentTerms) -> String {
    let mut parts = Vec::new();
    if let Some(p) = terms.discount_percent {
        parts.push(format!("discount {}%", p.normalize()));
    }
    if let Some(d) = terms.discount_days {
        parts.push(format!("discount days {d}"));
    }
    match terms.net_days {
        Some(n) => parts.push(format!("net {n} days")),
        None => parts.push("no net days".to_string()),
    }
    parts.join(", ")
}

/// The usual forms of a payment-term code, read into the model's fields: `Net 45` (also
/// `NET 45`, `Net45`, `Net-45`, `Net 45 days`) and `2/10 Net 45` (2 percent off when paid
/// within 10 days, else net in 45; also `2%/10 Net 45`, `1.5/15, Net 60`). `None` for any other
/// text (`Immediate`, `Net 30 EOM`, `2/10 EOM`, `2% 10th Prox Net 30`): those are kept as the
/// description only, days are not guessed. A percent must be above 0 and below 100.
pub(super) fn terms_of_code(code: &str) -> Option<PaymentTerms> {
    let lower = code.trim().to_ascii_lowercase();
    let (discount, net) = lower.split_once("net")?;
    let net = net.trim_start_matches([' ', '-']).trim_end();
    let net = net
        .strip_suffix("days")
        .or_else(|| net.strip_suffix("day"))
        .unwrap_or(net)
        .trim_end();
    let net_days = whole(net)?;
    let discount = discount.trim().trim_end_matches(',').trim_end();
    if discount.is_empty() {
        return Some(PaymentTerms {
            net_days: Some(net_days),
            ..PaymentTerms::default()
        });
    }
    let (percent, days) = discount.split_once('/')?;
    let percent = percent
        .trim()
        .strip_suffix('%')
        .unwrap_or(percent.trim())
        .trim_end();
    if percent.is_empty() || !percent.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let percent: Decimal = gateway_model::parse_plain_decimal(percent)?;
    if percent <= Decimal::ZERO || percent >= Decimal::ONE_HUNDRED {
        return None;
    }
    Some(PaymentTerms {
        net_days: Some(net_days),
        discount_percent: Some(percent),
        discount_days: Some(whole(days.trim())?),
        description: None,
    })
}

/// Digits only (no sign, no point), as a number of days.
fn whole(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(net: Option<u32>, percent: Option<&str>, days: Option<u32>) -> PaymentTerms {
        PaymentTerms {
            description: None,
            net_days: net,
            discount_percent: percent.map(|p| p.parse().unwrap()),
            discount_days: days,
        }
    }

    /// QA (qaC f5 item 3): X12 `ITD*01*3*2**10**30` and cXML's two `PaymentTerm`s (10 days
    /// at 2 %, then 30) read as net 30, 2 % in 10, without a description, and Coupa was sent
    /// no payment-term at all. They go as Coupa's usual code now, which reads back as the
    /// same terms.
    #[test]
    fn terms_without_a_description_go_as_coupas_usual_code() {
        for (t, code) in [
            (terms(Some(30), Some("2"), Some(10)), "2/10 Net 30"),
            (terms(Some(30), Some("2.00"), Some(10)), "2/10 Net 30"),
            (terms(Some(60), Some("1.5"), Some(15)), "1.5/15 Net 60"),
            (terms(Some(45), None, None), "Net 45"),
            (terms(Some(30), Some("0"), Some(10)), "Net 30"),
            (terms(Some(30), None, Some(10)), "Net 30"),
        ] {
            let built = code_of_terms(&t).unwrap();
            assert_eq!(built.as_deref(), Some(code), "{t:?}");
            let back = terms_of_code(code).unwrap();
            assert_eq!(back.net_days, t.net_days, "{code}");
            if t.discount_percent.is_some_and(|p| !p.is_zero()) {
                assert_eq!(
                    (back.discount_percent, back.discount_days),
                    (t.discount_percent, t.discount_days),
                    "{code}"
                );
            }
        }
        let described = PaymentTerms {
            description: Some("2% 10th Prox Net 30".into()),
            ..terms(Some(30), Some("2"), Some(10))
        };
        assert_eq!(
            code_of_terms(&described).unwrap().as_deref(),
            Some("2% 10th Prox Net 30")
        );
        assert_eq!(code_of_terms(&PaymentTerms::default()), Ok(None));
    }

    /// Terms no `Net N` or `P/D Net N` code can say are not guessed: why, for the note.
    #[test]
    fn terms_no_code_can_say_are_named() {
        for t in [
            terms(None, Some("2"), Some(10)),
            terms(Some(30), Some("2"), None),
            terms(None, None, Some(10)),
            terms(Some(30), Some("100"), Some(10)),
        ] {
            let why = code_of_terms(&t).unwrap_err();
            assert!(
                why.starts_with("payment terms (") && why.contains("no payment-term was sent"),
                "{why}"
            );
        }
        assert!(
            code_of_terms(&terms(None, Some("2"), Some(10)))
                .unwrap_err()
                .contains("discount 2%, discount days 10, no net days")
        );
    }
}
