//! A party's ids in an N1 loop, both ways.
//!
//! N1 holds one id, and N103 must be an X12 identification code qualifier (one or two
//! characters from a code list: `1` DUNS, `92` assigned by the buyer, `ZZ` mutually defined…).
//! Canonical ids from cXML, CSV or Coupa have free-text domains (`coupa`, `NetworkID`), and a
//! party may have several. Writing `N1*SU*Acme*coupa*17` would make the partner's translator
//! reject the 850 (N103 too long, not in the code list), and keeping only the first id would drop
//! the rest. So:
//!
//! - N103/N104 get the first id, its domain written as itself when it already is an X12 code
//!   (what an X12 decode gives) and otherwise as the code [`n103_code`] picks for it;
//! - every id the N1 cannot hold exactly, that is the first when its domain was translated and
//!   all after it, follows in the loop as `REF*ZZ*<value>*<domain>` (REF03, the description,
//!   holds the domain);
//! - reading, such REFs become ids again, and when the first one is the N1's id in translated
//!   form (same value, domain translating to N103) it replaces it.
//!
//! A supplier's N1 loop without `REF*ZZ` reads as before. A `REF*ZZ` without REF03, or with
//! REF04, is not an id and stays in `extensions`.
//!
//! The supplier's loop (N101 `SU` or `VN`) may also name the supplier by the number the buyer
//! knows it by, `REF*VN*<number>`: that is its Coupa supplier number, which validation compares
//! with the partner profile's, so it is read as an id in [`VENDOR_NUMBER`] (kept as an opaque
//! segment, `REF*VN*RIVAL-1` went through as the partner's own supplier). Such ids come after
//! the others, and the writer writes the ids in that domain ending the list back as
//! `REF*VN*<number>` ([`split_vendor_numbers`]), so an 810 reads and writes the same; one
//! before another id goes as a carrier REF like any other domain.
//!
//! A supplier number in any other X12 spelling is read too ([`kept_supplier_numbers`]), since
//! an invoice naming another supplier's number must be refused whichever way it spells it:
//! a `REF*VN` in the supplier's loop with a REF03 description (`REF*VN*RIVAL-1*Vendor number`)
//! or spaces around its number, and `REF*IA` ("internal vendor number", the buyer's number for
//! the vendor, that is its Coupa supplier number too), in the loop or the heading. A
//! heading-level `REF*VN` is not a supplier number: there X12's code list names VN the "vendor
//! order number", the supplier's own order reference, which differs from its Coupa number on
//! most real invoices (reading it as one would refuse them). Such a segment stays kept as it came (`party_segments.supplier`, or the
//! heading's `segments`), so it is written back as it was, REF03 included; the supplier also
//! gets its number as an id, `REF*VN` in [`VENDOR_NUMBER`] and `REF*IA` in
//! [`INTERNAL_VENDOR_NUMBER`], after all the others (a heading number makes a supplier of an
//! 810 without `N1*SU`; a bare `N1*SU` beside them is marked `extensions.x12.bare_supplier_loop`
//! so it is written back). The writer leaves those ids out of the loop when they end the list
//! as the kept segments give them ([`without_kept_numbers`]), so no segment is written twice.

use gateway_model::{Extensions, Party, PartyId};
use serde_json::Value;

use crate::fields::Fields;

/// REF01 of the loop REF that carries an id (mutually defined).
pub const CARRIER_QUALIFIER: &str = "ZZ";

/// REF01 of a supplier's vendor number (`REF*VN*<number>`).
pub const VENDOR_QUALIFIER: &str = "VN";

/// The domain of a supplier's `REF*VN` number: the one `gateway_model`'s supplier check
/// compares with the partner's Coupa supplier number (it spells it too).
pub const VENDOR_NUMBER: &str = "vendor-number";

/// REF01 of a supplier's internal vendor number (`REF*IA*<number>`): the buyer's number for
/// the vendor.
pub const INTERNAL_VENDOR_QUALIFIER: &str = "IA";

/// The domain of a supplier's `REF*IA` number, which the supplier check compares with the
/// partner's Coupa supplier number as it does a [`VENDOR_NUMBER`] (`gateway_model`'s
/// `Party::coupa_supplier_number_ids` spells it too). A domain of its own, not
/// [`VENDOR_NUMBER`], so another format's writer keeps what X12 said.
pub const INTERNAL_VENDOR_NUMBER: &str = "internal-vendor-number";

/// Where the supplier's loop segments are kept (`extensions.x12.party_segments.<field>`).
const SUPPLIER_FIELD: &str = "supplier";

/// The supplier numbers the segments an 810 kept as they came spell (see the module docs):
/// the `REF*VN`/`REF*IA` of the supplier's loop (`party_segments.supplier`), then those of the
/// heading (`segments`, outside the N1 loops kept whole there), each in its domain with REF02
/// trimmed, in the order kept. Reading appends them to the supplier's ids; writing takes them
/// off again ([`without_kept_numbers`]).
pub fn kept_supplier_numbers(ext: &Extensions) -> Vec<PartyId> {
    let Some(x12) = ext.get("x12").and_then(Value::as_object) else {
        return Vec::new();
    };
    let in_loop = list(
        x12.get("party_segments")
            .and_then(|p| p.get(SUPPLIER_FIELD)),
    );
    let mut found: Vec<PartyId> = in_loop
        .iter()
        .filter_map(|s| kept_number(s, true))
        .collect();
    // A REF right after a kept N1 (or its N2..PER) is that loop's, not the heading's.
    let mut in_kept_loop = false;
    for seg in list(x12.get("segments")) {
        let id = seg.get(0).and_then(Value::as_str).unwrap_or_default();
        if id == "N1" {
            in_kept_loop = true;
        } else if !crate::common::is_n1_child(id.as_bytes()) {
            in_kept_loop = false;
        }
        if !in_kept_loop {
            found.extend(kept_number(seg, false));
        }
    }
    found
}

/// The segments of a kept list (`[]` when absent).
fn list(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// The number a kept `REF*VN`/`REF*IA` segment (`["REF", "VN", "RIVAL-1", ...]`) spells;
/// outside the supplier's loop (`in_loop` false) only `REF*IA`, a heading `REF*VN` being the
/// vendor's order number (see the module docs).
fn kept_number(seg: &Value, in_loop: bool) -> Option<PartyId> {
    let el = |n: usize| seg.get(n).and_then(Value::as_str);
    if el(0) != Some("REF") {
        return None;
    }
    let domain = match el(1)?.trim() {
        VENDOR_QUALIFIER if in_loop => VENDOR_NUMBER,
        INTERNAL_VENDOR_QUALIFIER => INTERNAL_VENDOR_NUMBER,
        _ => return None,
    };
    let value = el(2)?.trim();
    (!value.is_empty()).then(|| PartyId {
        domain: domain.into(),
        value: value.into(),
    })
}

/// The key of `extensions.x12` saying an 810 had a supplier loop holding nothing the model
/// holds (a bare `N1*SU`) beside supplier numbers kept as segments: the writer otherwise
/// takes such a supplier, nothing but those numbers, for one the numbers alone made.
const BARE_SUPPLIER_LOOP: &str = "bare_supplier_loop";

/// An 810's supplier with the numbers [`kept_supplier_numbers`] gives appended to its ids
/// (made when the 810 has no supplier loop), as reading leaves it.
pub fn add_kept_numbers(supplier: &mut Option<Party>, ext: &mut Extensions) {
    let kept = kept_supplier_numbers(ext);
    if kept.is_empty() {
        return;
    }
    if supplier.as_ref() == Some(&Party::default())
        && let Some(x12) = ext.get_mut("x12").and_then(Value::as_object_mut)
    {
        x12.insert(BARE_SUPPLIER_LOOP.into(), Value::Bool(true));
    }
    supplier.get_or_insert_with(Party::default).ids.extend(kept);
}

/// The supplier to write in the N1 loop: `supplier` without the ids [`kept_supplier_numbers`]
/// gives for `ext`, when its ids end with them (what reading made), since those segments are
/// written back as kept; the supplier as it is otherwise (its ids edited). `None` when nothing
/// but those ids is left of a supplier that had no N1 loop (a heading number alone).
pub fn without_kept_numbers<'p>(
    supplier: &'p Option<Party>,
    ext: &Extensions,
) -> std::borrow::Cow<'p, Option<Party>> {
    use std::borrow::Cow;
    let Some(party) = supplier else {
        return Cow::Borrowed(supplier);
    };
    let kept = kept_supplier_numbers(ext);
    if kept.is_empty() || !party.ids.ends_with(&kept) {
        return Cow::Borrowed(supplier);
    }
    let mut stripped = party.clone();
    stripped.ids.truncate(party.ids.len() - kept.len());
    let x12 = ext.get("x12");
    let had_loop = x12.and_then(|x| x.get(BARE_SUPPLIER_LOOP)) == Some(&Value::Bool(true))
        || ["party_segments", "field_elements"].iter().any(|k| {
            x12.and_then(|x| x.get(k))
                .and_then(|m| m.get(SUPPLIER_FIELD))
                .is_some()
        });
    if stripped == Party::default() && !had_loop {
        return Cow::Owned(None);
    }
    Cow::Owned(Some(stripped))
}

/// Whether an N1 loop of entity code `n101` is the supplier's, whose `REF*VN` is an id.
pub fn reads_vendor_numbers(n101: &[u8]) -> bool {
    matches!(n101.trim_ascii(), b"SU" | b"VN")
}

/// The number a supplier's loop `REF*VN*<number>` gives, if the segment is one that reads and
/// writes back the same: REF02 without surrounding spaces, no REF03 or REF04. Another shape
/// stays an opaque segment of the loop.
pub fn vendor_number(seg: &Fields<'_, '_>) -> Option<PartyId> {
    let later = |n: usize| seg.element(n).is_some_and(|e| !e.is_empty());
    if seg.id() != b"REF"
        || seg.str_at(1).as_deref() != Some(VENDOR_QUALIFIER)
        || later(3)
        || later(4)
    {
        return None;
    }
    let value = seg.trimmed(2)?;
    // ` V1 ` would be written back as `V1`: not an id then, kept as it came.
    if seg
        .element(2)
        .is_none_or(|raw| raw.trim_ascii().len() != raw.len())
    {
        return None;
    }
    Some(PartyId {
        domain: VENDOR_NUMBER.into(),
        value,
    })
}

/// A supplier's ids split where the run of [`VENDOR_NUMBER`] ids ending the list begins: the
/// ids the N1 and carrier REFs hold ([`plan`]) and the numbers written as `REF*VN`, which
/// reading puts back at the end.
pub fn split_vendor_numbers(ids: &[PartyId]) -> (&[PartyId], &[PartyId]) {
    let at = ids
        .iter()
        .rposition(|i| i.domain != VENDOR_NUMBER)
        .map_or(0, |k| k + 1);
    ids.split_at(at)
}

/// Whether `domain` can stand in N103 as it is: one or two upper-case letters or digits, the
/// shape of every code in the N103 code list.
pub fn is_x12_code(domain: &str) -> bool {
    (1..=2).contains(&domain.len())
        && domain
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// The N103 code for a canonical domain: the domain itself when it is a code already, the code
/// list's entry for the names other formats use, and `ZZ` (mutually defined) for the rest.
/// Coupa's ids (`coupa`, `coupa-number`) and cXML's `addressID` are assigned by the buyer: 92.
/// An empty domain stays empty: it is what an X12 input with N104 but no N103 reads as, and
/// writing it back as it came is the only way to read it back the same.
pub fn n103_code(domain: &str) -> &str {
    if domain.is_empty() || is_x12_code(domain) {
        return domain;
    }
    match domain.to_ascii_lowercase().as_str() {
        "duns" => "1",
        "duns+4" | "duns4" => "9",
        "gln" => "UL",
        "coupa"
        | "coupa-number"
        | "vendor-number"
        | "internal-vendor-number"
        | "addressid"
        | "buyerid"
        | "buyer" => "92",
        "supplierid" | "supplier" | "vendorid" => "91",
        _ => "ZZ",
    }
}

/// How a party's ids are written: the N1's id (N103 code, N104 value) and the ids that follow
/// as carrier REFs, in order.
#[derive(Debug, PartialEq, Eq)]
pub struct IdPlan<'a> {
    pub n1: Option<(&'a str, &'a str)>,
    pub carried: &'a [PartyId],
}

/// Plans the writing of `ids` so that [`ids_from_loop`] reads the same list back.
pub fn plan(ids: &[PartyId]) -> IdPlan<'_> {
    let Some(first) = ids.first() else {
        return IdPlan {
            n1: None,
            carried: &[],
        };
    };
    let code = n103_code(&first.domain);
    let n1 = Some((code, first.value.as_str()));
    // The first id is carried too when N103 cannot hold its domain, or when the second would
    // otherwise be taken for the first in translated form.
    let second_looks_like_twin = ids
        .get(1)
        .is_some_and(|s| s.value == first.value && n103_code(&s.domain) == code);
    if code != first.domain.as_str() || second_looks_like_twin {
        IdPlan { n1, carried: ids }
    } else {
        IdPlan {
            n1,
            carried: ids.get(1..).unwrap_or_default(),
        }
    }
}

/// The id a loop `REF*ZZ*<value>*<domain>` carries, if the segment is one.
pub fn carried_id(seg: &Fields<'_, '_>) -> Option<PartyId> {
    if seg.id() != b"REF"
        || seg.str_at(1).as_deref() != Some(CARRIER_QUALIFIER)
        || seg.element(4).is_some_and(|e| !e.is_empty())
    {
        return None;
    }
    Some(PartyId {
        value: seg.trimmed(2)?,
        domain: seg.trimmed(3)?,
    })
}

/// A party's ids from its N1 id and the ids its loop carried (see the module docs).
pub fn ids_from_loop(n1: Option<PartyId>, mut carried: Vec<PartyId>) -> Vec<PartyId> {
    let Some(n1) = n1 else {
        return carried;
    };
    let twin = carried
        .first()
        .is_some_and(|c| c.value == n1.value && n103_code(&c.domain) == n1.domain.as_str());
    if !twin {
        carried.insert(0, n1);
    }
    carried
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(domain: &str, value: &str) -> PartyId {
        PartyId {
            domain: domain.into(),
            value: value.into(),
        }
    }

    /// What a reader gets back from a plan, as `ids_from_loop` sees it.
    fn read_back(ids: &[PartyId]) -> Vec<PartyId> {
        let p = plan(ids);
        ids_from_loop(p.n1.map(|(d, v)| id(d, v)), p.carried.to_vec())
    }

    /// What a reader of a supplier's loop gets back: the vendor numbers ending the list
    /// written as `REF*VN` and appended again.
    fn supplier_read_back(ids: &[PartyId]) -> Vec<PartyId> {
        let (held, vendor) = split_vendor_numbers(ids);
        let mut back = read_back(held);
        back.extend(vendor.iter().cloned());
        back
    }

    #[test]
    fn a_supplier_vendor_number_reads_back_the_same_wherever_it_is() {
        let vn = |v: &str| id(VENDOR_NUMBER, v);
        let cases: Vec<Vec<PartyId>> = vec![
            vec![vn("RIVAL-1")],
            vec![id("92", "A"), vn("V")],
            vec![id("coupa", "17"), vn("V"), vn("W")],
            vec![vn("V"), id("DUNS", "1")],
            vec![vn("V"), id("92", "V")],
            vec![vn("V"), id("92", "V"), vn("V")],
        ];
        for ids in cases {
            assert_eq!(supplier_read_back(&ids), ids, "{ids:?}");
        }
        let ids = [id("1", "9"), vn("V")];
        assert_eq!(split_vendor_numbers(&ids), (&ids[..1], &ids[1..]));
    }

    #[test]
    fn every_shape_of_id_list_reads_back_the_same() {
        let cases: Vec<Vec<PartyId>> = vec![
            vec![],
            vec![id("92", "A")],
            vec![id("coupa", "17")],
            vec![id("coupa", "17"), id("coupa-number", "SUP-1")],
            vec![id("92", "A"), id("DUNS", "B")],
            vec![id("92", "17"), id("coupa", "17")],
            vec![id("ZZ", "17"), id("NetworkID", "17")],
            vec![id("NetworkID", "AN01"), id("ZZ", "AN01")],
            vec![id("1", "123456789"), id("1", "123456789")],
            vec![id("duns", "1"), id("DUNS", "1"), id("1", "1")],
            vec![id("", "T9")],
            vec![id("", "T9"), id("coupa", "T9")],
            vec![id("coupa", "T9"), id("", "T9")],
        ];
        for ids in cases {
            assert_eq!(read_back(&ids), ids, "{ids:?}");
        }
    }

    #[test]
    fn n103_is_always_a_code() {
        for d in ["coupa", "NetworkID", "DUNS", "gln", "a", "92", "ZZZ", "é"] {
            let c = n103_code(d);
            assert!(is_x12_code(c), "{d:?} gave {c:?}");
        }
        assert_eq!(n103_code("coupa"), "92");
        assert_eq!(n103_code("DUNS"), "1");
        assert_eq!(n103_code("NetworkID"), "ZZ");
        assert_eq!(n103_code("9"), "9");
        assert_eq!(n103_code(""), "", "an X12 N1 with N104 and no N103");
    }

    #[test]
    fn an_x12_first_id_is_not_repeated() {
        let ids = [id("92", "A"), id("coupa", "B")];
        let p = plan(&ids);
        assert_eq!(p.n1, Some(("92", "A")));
        assert_eq!(p.carried, &ids[1..]);
    }
}
