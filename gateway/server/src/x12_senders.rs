//! Whose an X12 input is, by its interchanges' ISA senders (`ISA05:ISA06`): the one rule every
//! entry point applies before it takes anything. `POST /x12` answers one partner per request
//! and refuses a sender no profile names; the file drop takes from a partner's folder only the
//! interchanges that partner's profile names (another partner's, or nobody's, would be
//! delivered and acknowledged as the folder owner's), by the rule the folder applies to every
//! format ([`crate::folder_owner`]).
//!
//! The sender names the partner; the rest of the addressing is checked against that partner's
//! profile by the decoder and the acknowledgment alike (`adapter_x12::envelope::Expected`): an
//! interchange whose ISA07/ISA08 is not `our_qualifier`/`our_id` is rejected whole (TA1 `R`,
//! note 007 or 008) and a group whose GS02/GS03 is not `partner_gs_id`/`our_gs_id` is rejected
//! (AK9 `R`, AK905 1), nothing of either delivered.

use gateway_core::{Format, PartnerProfile};

use crate::folder_owner::Found;
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
    match found(partners, raw) {
        Found::Nothing => X12Senders::NoInterchange,
        Found::One(p, _) => X12Senders::One(p),
        Found::Unknown(senders) => X12Senders::Unknown(senders),
        Found::Several(senders) => X12Senders::Several(senders),
    }
}

/// The ISA senders of `raw`, each with the partner it names, classified by the rule every
/// format's folder check shares ([`crate::folder_owner::classify`]).
fn found<'p>(partners: &'p Partners, raw: &[u8]) -> Found<'p> {
    crate::folder_owner::classify(
        adapter_x12::envelope::interchange_senders(raw)
            .into_iter()
            .map(|s| {
                let partner = partners.by_sender(Format::X12, &s);
                (s, partner)
            })
            .collect(),
    )
}

/// Why X12 `raw` found in `owner`'s folder is not `owner`'s to send, for the operator and the
/// partner (which sender was found, which was expected); `None` when every interchange names
/// `owner` or none can be read (the decoder then rejects the input with its own reasons). The
/// rule and its words are the ones every format's folder shares
/// ([`crate::folder_owner::refusal`]).
pub fn not_from_owner(owner: &PartnerProfile, partners: &Partners, raw: &[u8]) -> Option<String> {
    crate::folder_owner::refusal(owner, &found(partners, raw), &crate::folder_owner::X12)
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
