//! An invoice's own supplier against the one its sender's partner profile names.
//!
//! Delivery books an invoice to its partner's Coupa supplier (`[partners.coupa_supplier]`),
//! whatever the document names: a CSV row of partner acme saying `Supplier Number: RIVAL-1`
//! was booked to acme's supplier without a word. A document that contradicts its sender
//! about who the supplier is is refused instead, where the sender reads it (997, cXML
//! answer, REST reject, file report). Only what can be compared decides: a Coupa supplier id
//! against the profile's id, a supplier number against its number. A name differing alone
//! is a note, since trading names vary (`Acme Industrial Supply Inc` for `Acme Corp`).

use super::ValidationReport;
use crate::document::Invoice;

/// The domain of a party id holding Coupa's id of a supplier (all digits) or, when it is not
/// all digits, its supplier number: the domain every reader and the Coupa adapter use.
const COUPA_ID: &str = "coupa";
/// The domain of a party id holding a Coupa supplier number.
const COUPA_NUMBER: &str = "coupa-number";
/// X12's N103 code for an id assigned by the buyer: the gateway's own X12 writer puts a Coupa
/// supplier number (or id) of an N1*SU there, so reading the supplier's `92` id back must
/// compare it the same way, or `N1*SU*Rival Co*92*RIVAL-1` went through as the partner's.
const X12_BUYER_ASSIGNED: &str = "92";
/// The domain the X12 reader gives a `REF*VN` (vendor number) of the supplier's N1 loop:
/// the number the buyer knows its supplier by, that is its Coupa supplier number
/// (`adapter_x12::party_ids::VENDOR_NUMBER` spells it too).
const VENDOR_NUMBER: &str = "vendor-number";
/// The domain the X12 reader gives a supplier's `REF*IA` (internal vendor number: the buyer's
/// number for the vendor), in its loop or the 810's heading: a Coupa supplier number as well
/// (`adapter_x12::party_ids::INTERNAL_VENDOR_NUMBER`).
const INTERNAL_VENDOR_NUMBER: &str = "internal-vendor-number";
/// Longest value of the document quoted in a message.
const MAX_SHOWN: usize = 80;

/// The Coupa supplier a sender's partner profile names (`[partners.coupa_supplier]`), which
/// delivery books the sender's invoices to ([`super::Context::partner_supplier`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartnerSupplier<'a> {
    /// The partner's id, to name it in a refusal.
    pub partner: &'a str,
    /// Coupa's id of the supplier.
    pub id: Option<u64>,
    /// Its Coupa supplier number.
    pub number: Option<&'a str>,
    /// Its name.
    pub name: Option<&'a str>,
}

impl PartnerSupplier<'_> {
    /// `number "ACME-1"`, `id 17 or number "ACME-1"`: how the profile names the supplier.
    fn named(&self) -> String {
        let mut names = Vec::new();
        if let Some(id) = self.id {
            names.push(format!("id {id}"));
        }
        if let Some(n) = self.number {
            names.push(format!("number {}", shown(n)));
        }
        if let Some(n) = self.name {
            names.push(format!("name {}", shown(n)));
        }
        names.join(" or ")
    }
}

/// `value` quoted, clipped to [`MAX_SHOWN`] characters.
fn shown(value: &str) -> String {
    let value = value.trim();
    let clipped: String = value.chars().take(MAX_SHOWN).collect();
    if clipped.len() < value.len() {
        format!("{clipped:?}…")
    } else {
        format!("{clipped:?}")
    }
}

fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Refuses `inv` when its supplier names another Coupa supplier than `wanted` by a
/// comparable key (an id against the profile's id, a number against its number), naming
/// both; notes a name that differs when nothing comparable agreed.
pub(super) fn check_partner_supplier(
    inv: &Invoice,
    wanted: &PartnerSupplier<'_>,
    r: &mut ValidationReport,
) {
    let Some(party) = &inv.supplier else {
        return;
    };
    let mut other = Vec::new();
    let mut agreed = false;
    for pid in &party.ids {
        let value = pid.value.trim();
        let domain = pid.domain.trim();
        if value.is_empty() {
            continue;
        }
        let coupa = domain.eq_ignore_ascii_case(COUPA_ID);
        let x12 = domain == X12_BUYER_ASSIGNED;
        if let (true, Ok(id)) = (coupa, value.parse::<u64>()) {
            match wanted.id {
                Some(w) if w == id => agreed = true,
                Some(_) => other.push(format!("Coupa supplier id {id}")),
                None => {}
            }
        } else if x12 && wanted.id.is_some() && value.parse::<u64>().ok() == wanted.id {
            // The gateway writes a Coupa id in N1*SU qualifier 92 as well: the partner's own.
            agreed = true;
        } else if coupa
            || x12
            || domain.eq_ignore_ascii_case(COUPA_NUMBER)
            || domain.eq_ignore_ascii_case(VENDOR_NUMBER)
            || domain.eq_ignore_ascii_case(INTERNAL_VENDOR_NUMBER)
        {
            match wanted.number {
                Some(w) if same(w, value) => agreed = true,
                Some(_) => other.push(format!("supplier number {}", shown(value))),
                None => {}
            }
        }
    }
    let name = party.name.as_deref().filter(|n| !n.trim().is_empty());
    if !other.is_empty() {
        let called = name.map(|n| format!(" ({})", shown(n))).unwrap_or_default();
        r.error(
            "$.supplier",
            format!(
                "the invoice names its supplier as {}{called}, but it came from partner {}, whose Coupa supplier is {} ([partners.coupa_supplier] in its profile), and it would be booked to that supplier: send it from the partner it belongs to, or correct the supplier it names",
                other.join(" and "),
                wanted.partner,
                wanted.named(),
            ),
        );
        return;
    }
    if let (false, Some(n), Some(w)) = (agreed, name, wanted.name)
        && !same(n, w)
    {
        r.warning(
            "$.supplier",
            format!(
                "the invoice names its supplier {}, and partner {} is Coupa supplier {} ([partners.coupa_supplier]); names vary, so it is delivered to the partner's supplier",
                shown(n),
                wanted.partner,
                shown(w),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Party, PartyId};

    fn invoice(name: Option<&str>, ids: &[(&str, &str)]) -> Invoice {
        Invoice {
            supplier: Some(Party {
                name: name.map(Into::into),
                ids: ids
                    .iter()
                    .map(|(d, v)| PartyId {
                        domain: (*d).into(),
                        value: (*v).into(),
                    })
                    .collect(),
                ..Party::default()
            }),
            ..Invoice::default()
        }
    }

    fn check(inv: &Invoice, wanted: &PartnerSupplier<'_>) -> ValidationReport {
        let mut r = ValidationReport::default();
        check_partner_supplier(inv, wanted, &mut r);
        r
    }

    const ACME: PartnerSupplier<'static> = PartnerSupplier {
        partner: "acme",
        id: None,
        number: Some("ACME-1"),
        name: Some("Acme Corp"),
    };

    #[test]
    fn another_number_is_refused_naming_both_suppliers() {
        let r = check(
            &invoice(Some("Rival Corp"), &[("coupa-number", "RIVAL-1")]),
            &ACME,
        );
        let errors: Vec<_> = r.errors().collect();
        assert_eq!(errors.len(), 1, "{:?}", r.problems);
        assert_eq!(errors[0].path, "$.supplier");
        let m = &errors[0].message;
        assert!(
            m.contains("supplier number \"RIVAL-1\" (\"Rival Corp\")")
                && m.contains("partner acme")
                && m.contains("number \"ACME-1\" or name \"Acme Corp\""),
            "{m}"
        );
        // A supplier number kept in `coupa` (not all digits) is a number too.
        assert!(check(&invoice(None, &[("coupa", "RIVAL-1")]), &ACME).has_errors());
    }

    #[test]
    fn the_same_supplier_or_nothing_comparable_passes() {
        // The number agrees, in another letter case: a differing name is no matter.
        let r = check(
            &invoice(Some("Acme Industrial"), &[("coupa-number", " acme-1 ")]),
            &ACME,
        );
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        // A Coupa id against a profile naming only a number: not comparable.
        let r = check(&invoice(None, &[("coupa", "17"), ("DUNS", "9")]), &ACME);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        // ...but against the profile's id it is.
        let by_id = PartnerSupplier {
            id: Some(17),
            ..ACME
        };
        assert!(!check(&invoice(None, &[("coupa", "17")]), &by_id).has_errors());
        let r = check(&invoice(None, &[("coupa", "18")]), &by_id);
        assert!(
            r.errors()
                .any(|p| p.message.contains("Coupa supplier id 18")),
            "{:?}",
            r.problems
        );
    }

    /// QA R-X3/R-X4: an 810's `N1*SU*Rival Co*92*RIVAL-1`, or `REF*VN*RIVAL-1` in its SU
    /// loop, was booked to partner acme's ACME-1 without a word.
    #[test]
    fn an_x12_buyer_assigned_id_or_vendor_number_is_a_supplier_number() {
        for domain in ["92", "vendor-number", "internal-vendor-number"] {
            let r = check(&invoice(Some("Rival Co"), &[(domain, "RIVAL-1")]), &ACME);
            let errors: Vec<_> = r.errors().collect();
            assert_eq!(errors.len(), 1, "{domain}: {:?}", r.problems);
            assert!(
                errors[0]
                    .message
                    .contains("supplier number \"RIVAL-1\" (\"Rival Co\")"),
                "{}",
                errors[0].message
            );
            let r = check(&invoice(Some("Acme"), &[(domain, "acme-1")]), &ACME);
            assert!(r.problems.is_empty(), "{domain}: {:?}", r.problems);
        }
        // A Coupa id the gateway wrote in qualifier 92 is the profile's id, not a number.
        let by_id = PartnerSupplier {
            id: Some(17),
            ..ACME
        };
        assert!(
            check(&invoice(None, &[("92", "17")]), &by_id)
                .problems
                .is_empty()
        );
        assert!(check(&invoice(None, &[("92", "18")]), &by_id).has_errors());
        // Another role's qualifier (DUNS) is not compared.
        assert!(!check(&invoice(None, &[("1", "RIVAL-1")]), &ACME).has_errors());
    }

    #[test]
    fn a_name_alone_differing_is_a_note() {
        let r = check(&invoice(Some("Rival Corp"), &[]), &ACME);
        assert!(!r.has_errors(), "{:?}", r.problems);
        let notes: Vec<_> = r.warnings().collect();
        assert_eq!(notes.len(), 1, "{:?}", r.problems);
        assert!(notes[0].message.contains("\"Rival Corp\""), "{}", notes[0]);
        assert!(
            check(&invoice(Some(" acme corp"), &[]), &ACME)
                .problems
                .is_empty()
        );
    }
}
