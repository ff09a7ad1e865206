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

use gateway_model::PartyId;

use crate::fields::Fields;

/// REF01 of the loop REF that carries an id (mutually defined).
pub const CARRIER_QUALIFIER: &str = "ZZ";

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
        "coupa" | "coupa-number" | "addressid" | "buyerid" | "buyer" => "92",
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
