//! Whose an X12 input is, by its interchanges' ISA senders (`ISA05:ISA06`): the one rule every
//! entry point applies before it takes anything. `POST /x12` answers one partner per request
//! and refuses a sender no profile names; the file drop takes from a partner's folder only the
//! interchanges that partner's profile names (another partner's, or nobody's, would be
//! delivered and acknowledged as the folder owner's).

use gateway_core::{Format, PartnerProfile};

use crate::partners::Partners;

/// Most interchange control numbers named in one log line or reason.
const MAX_NAMED: usize = 10;

/// Whose the interchanges of an X12 input are.
#[derive(Debug, Clone)]
pub enum X12Senders<'p> {
    /// No readable ISA header: nothing to attribute (the decoder says what is wrong).
    NoInterchange,
    /// Every interchange names this partner.
    One(&'p PartnerProfile),
    /// Senders (`ISA05:ISA06`) no partner profile names.
    Unknown(Vec<String>),
    /// Interchanges of several partners: every sender, in order.
    Several(Vec<String>),
}

/// Whose the interchanges in `raw` are, by their ISA senders. An input with an unknown sender
/// is `Unknown` even when other interchanges name a partner.
pub fn x12_senders<'p>(partners: &'p Partners, raw: &[u8]) -> X12Senders<'p> {
    let senders = adapter_x12::envelope::interchange_senders(raw);
    let found: Vec<Option<&'p PartnerProfile>> = senders
        .iter()
        .map(|s| partners.by_sender(Format::X12, s))
        .collect();
    let unknown: Vec<String> = senders
        .iter()
        .zip(&found)
        .filter(|(_, p)| p.is_none())
        .map(|(s, _)| s.clone())
        .collect();
    if !unknown.is_empty() {
        return X12Senders::Unknown(unknown);
    }
    let mut known = found.into_iter().flatten();
    let Some(first) = known.next() else {
        return X12Senders::NoInterchange;
    };
    if known.any(|p| p.id != first.id) {
        return X12Senders::Several(senders);
    }
    X12Senders::One(first)
}

/// Why X12 `raw` found in `owner`'s folder is not `owner`'s to send, for the operator and the
/// partner (which sender was found, which was expected); `None` when every interchange names
/// `owner` or none can be read (the decoder then rejects the input with its own reasons).
pub fn not_from_owner(owner: &PartnerProfile, partners: &Partners, raw: &[u8]) -> Option<String> {
    let found = match x12_senders(partners, raw) {
        X12Senders::NoInterchange => return None,
        X12Senders::One(p) if p.id == owner.id => return None,
        X12Senders::One(p) => format!(
            "ISA sender {} is partner {}'s",
            adapter_x12::envelope::interchange_senders(raw).join(", "),
            p.id
        ),
        X12Senders::Unknown(senders) => format!(
            "ISA sender {} is named by no partner profile",
            senders.join(", ")
        ),
        X12Senders::Several(senders) => format!(
            "the interchanges come from several partners ({})",
            senders.join(", ")
        ),
    };
    let expected = match expected_sender(owner) {
        Some(id) => format!(
            "partner {}'s folder takes only interchanges from ISA05:ISA06 {id} ([partners.x12] \
             partner_qualifier and partner_id); nothing was taken. The sender uses its own \
             folder, or the interchange ids agreed with the buyer",
            owner.id
        ),
        None => format!(
            "partner {} has no [partners.x12] partner_id, so no X12 is taken from its folder; \
             nothing was taken. Add its interchange ids (partner_qualifier, partner_id) to its \
             profile, or have the sender use its own folder",
            owner.id
        ),
    };
    Some(format!("{found}; {expected}"))
}

/// The `ISA05:ISA06` a partner's profile names (`*` for a qualifier it leaves open).
fn expected_sender(p: &PartnerProfile) -> Option<String> {
    let x = p.x12.as_ref()?;
    let id = x.partner_id.as_deref()?.trim();
    let qualifier = x.partner_qualifier.as_deref().map_or("*", str::trim);
    Some(format!("{qualifier}:{id}"))
}

/// The interchanges in `raw` for logs: `ISA05:ISA06 ISA13` each, the first few and how many
/// more.
pub fn interchange_names(raw: &[u8]) -> String {
    let mut names = Vec::new();
    let mut more = 0usize;
    for (sender, control) in adapter_x12::envelope::interchange_ids(raw) {
        if names.len() == MAX_NAMED {
            more += 1;
            continue;
        }
        names.push(format!("{sender} {control}"));
    }
    if names.is_empty() {
        return "(no ISA header)".into();
    }
    let mut text = names.join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partners() -> Partners {
        let p = |text: &str| PartnerProfile::from_toml(text, "t").ok();
        Partners::new(
            [
                p("id = \"acme\"\n[x12]\npartner_qualifier = \"ZZ\"\npartner_id = \"ACME\"\n"),
                p("id = \"beta\"\n[x12]\npartner_qualifier = \"ZZ\"\npartner_id = \"BETA\"\n"),
                p("id = \"gamma\"\n"),
            ]
            .into_iter()
            .flatten()
            .collect(),
        )
    }

    fn isa(sender: &str, control: &str) -> String {
        format!(
            "ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*BUYER          *260315*1030*U*00401*{control}*0*P*>~IEA*0*{control}~"
        )
    }

    #[test]
    fn each_folder_takes_only_its_own_senders() {
        let ps = partners();
        let [acme, _, gamma] = ps.all() else {
            panic!("three partners")
        };
        let own = isa("ACME", "000000001");
        assert!(matches!(x12_senders(&ps, own.as_bytes()), X12Senders::One(p) if p.id == acme.id));
        assert_eq!(not_from_owner(acme, &ps, own.as_bytes()), None);

        let beta = isa("BETA", "000000002");
        let why = not_from_owner(acme, &ps, beta.as_bytes()).unwrap_or_default();
        assert!(why.contains("ZZ:BETA is partner beta's"), "{why}");
        assert!(why.contains("ZZ:ACME"), "{why}");

        let stranger = isa("NOBODY", "000000003");
        let why = not_from_owner(acme, &ps, stranger.as_bytes()).unwrap_or_default();
        assert!(why.contains("ZZ:NOBODY is named by no partner"), "{why}");

        let mixed = format!("{own}{beta}");
        assert!(matches!(
            x12_senders(&ps, mixed.as_bytes()),
            X12Senders::Several(_)
        ));
        assert!(not_from_owner(acme, &ps, mixed.as_bytes()).is_some());

        // A partner without [x12] takes no X12, whoever sent it.
        let why = not_from_owner(gamma, &ps, own.as_bytes()).unwrap_or_default();
        assert!(why.contains("gamma has no [partners.x12]"), "{why}");

        // Nothing readable as an interchange is left to the decoder.
        assert_eq!(not_from_owner(acme, &ps, b"GS*IN~"), None);
        assert_eq!(
            interchange_names(mixed.as_bytes()),
            "ZZ:ACME 000000001, ZZ:BETA 000000002"
        );
    }
}
