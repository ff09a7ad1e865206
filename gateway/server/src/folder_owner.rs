//! Whose a file dropped into a partner's folder is, by the sender identity its documents carry
//! themselves: the X12 ISA sender, the cXML `From` credential, the CSV Coupa supplier. One
//! rule for every format, so the channels agree: a document that names another configured
//! partner is never taken as the folder owner's (it would be delivered under the owner's
//! Coupa supplier, and that partner's own copy then swallowed as a duplicate), and an identity
//! no profile names is refused where the format's rule says so. Nothing of a refused file is
//! taken; the file drop moves it to `error/` with the reason this module words, for the
//! operator and the partner: what was found, what the folder expects, what to do.
//!
//! Where the formats differ, it is in what counts as unknown:
//! - X12: every interchange names its sender; one no profile names is refused, and a folder
//!   whose owner has no X12 ids takes no X12 at all (the rule `POST /x12` applies).
//! - cXML: the From credential names the sender; one no profile names is refused when the owner
//!   has a From identity configured (`POST /cxml` refuses it always; a folder is already its
//!   owner's by its SFTP login, so an owner without cXML ids may still drop cXML).
//! - CSV: a supplier column is optional and often holds the supplier's own spelling of its
//!   name, so only a supplier that is another partner's configured Coupa supplier is refused.

use gateway_core::{Format, PartnerProfile};
use gateway_model::{Document, Party};

use crate::partners::Partners;

/// Most identities named in one reason, so a hostile file cannot make it grow without bound.
const MAX_NAMED: usize = 10;
/// Most document numbers named beside one CSV supplier.
const MAX_DOCUMENTS_NAMED: usize = 5;

/// Whose a file's documents are, by the identities they carry.
#[derive(Debug, Clone)]
pub enum Found<'p> {
    /// No identity that decides anything (no readable header, no supplier column): the
    /// decoder, and the folder, decide.
    Nothing,
    /// Every identity (as shown) names this partner.
    One(&'p PartnerProfile, Vec<String>),
    /// Identities no partner profile names (empty: the document carries none).
    Unknown(Vec<String>),
    /// Identities of several partners: every one found, in order.
    Several(Vec<String>),
}

/// Classifies identities found in a file (each as shown, with the partner it names): any
/// unknown one makes the file `Unknown`; otherwise one partner or several.
pub fn classify<'p>(named: Vec<(String, Option<&'p PartnerProfile>)>) -> Found<'p> {
    let unknown: Vec<String> = named
        .iter()
        .filter(|(_, p)| p.is_none())
        .map(|(s, _)| s.clone())
        .collect();
    if !unknown.is_empty() {
        return Found::Unknown(unknown);
    }
    let mut known = named.iter().filter_map(|(_, p)| *p);
    let Some(first) = known.next() else {
        return Found::Nothing;
    };
    let values = named.iter().map(|(s, _)| s.clone()).collect();
    if known.any(|p| p.id != first.id) {
        return Found::Several(values);
    }
    Found::One(first, values)
}

/// Whether an identity no profile names is refused from a partner's folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownSender {
    /// Always (X12: and an owner without ids takes none of the format).
    Refused,
    /// Only when the folder owner's profile names its own identity in this format.
    RefusedWhenOwnerNamed,
    /// Never (only another partner's identity is refused).
    Taken,
}

/// How one format names its sender, for the rule and its words.
#[derive(Debug, Clone, Copy)]
pub struct Channel {
    /// The format, as partners know it (`X12`).
    pub format: &'static str,
    /// What the identity is called in the document (`ISA sender`).
    pub identity: &'static str,
    /// What the file holds (`interchanges`).
    pub units: &'static str,
    /// Where a profile names it (`[partners.x12] partner_qualifier and partner_id`).
    pub profile_keys: &'static str,
    /// The identity `p`'s profile names, as shown (`ZZ:ACME`), if any.
    pub expected: fn(&PartnerProfile) -> Option<String>,
    pub unknown: UnknownSender,
}

/// X12: the interchanges' ISA senders (`ISA05:ISA06`).
pub const X12: Channel = Channel {
    format: "X12",
    identity: "ISA sender",
    units: "interchanges",
    profile_keys: "[partners.x12] partner_qualifier and partner_id",
    expected: expected_x12,
    unknown: UnknownSender::Refused,
};

/// cXML: the `Header/From` credential (`domain:identity`).
pub const CXML: Channel = Channel {
    format: "cXML",
    identity: "From credential",
    units: "documents",
    profile_keys: "[partners.cxml] from_domain and from_identity",
    expected: expected_cxml,
    unknown: UnknownSender::RefusedWhenOwnerNamed,
};

/// CSV: each document's supplier, as Coupa knows it (id, number, name).
pub const CSV: Channel = Channel {
    format: "CSV",
    identity: "Coupa supplier",
    units: "documents",
    profile_keys: "[partners.coupa_supplier] id, number or name",
    expected: expected_supplier,
    unknown: UnknownSender::Taken,
};

/// Why the documents `found` in `owner`'s folder are not `owner`'s to send, naming both
/// partners and what to do; `None` when they may be taken as the owner's.
pub fn refusal(owner: &PartnerProfile, found: &Found<'_>, channel: &Channel) -> Option<String> {
    let expected = (channel.expected)(owner);
    let what = match found {
        Found::Nothing => return None,
        Found::One(p, _) if p.id == owner.id => return None,
        Found::One(p, _) => format!("{} is partner {}'s", identities(channel, found), p.id),
        Found::Unknown(_) => match (channel.unknown, &expected) {
            (UnknownSender::Taken, _) | (UnknownSender::RefusedWhenOwnerNamed, None) => {
                return None;
            }
            _ => format!(
                "{} is named by no partner profile",
                identities(channel, found)
            ),
        },
        Found::Several(values) => format!(
            "the {} come from several partners ({})",
            channel.units,
            shown(values)
        ),
    };
    let expects = match &expected {
        Some(id) => format!(
            "partner {}'s folder takes only {} whose {} is {id} ({})",
            owner.id, channel.units, channel.identity, channel.profile_keys
        ),
        None if channel.unknown == UnknownSender::Refused => format!(
            "partner {} has no {}, so no {} is taken from its folder",
            owner.id, channel.profile_keys, channel.format
        ),
        None => format!(
            "partner {}'s profile names no {} of its own ({})",
            owner.id, channel.identity, channel.profile_keys
        ),
    };
    let todo = match found {
        Found::One(p, _) => format!(
            "Partner {other}'s {units} go into {other}'s own folder ({other}/Incoming). If \
             they are {owner}'s, send them with {owner}'s own {identity}{named}",
            other = p.id,
            units = channel.units,
            owner = owner.id,
            identity = channel.identity,
            named = match &expected {
                Some(id) => format!(" ({id})"),
                None => format!(", and add it to its profile ({})", channel.profile_keys),
            },
        ),
        Found::Several(_) => format!(
            "Send each partner's {} in a file of its own, into that partner's folder",
            channel.units
        ),
        _ => format!(
            "A sender drops into its own folder; if these are {owner}'s, send them with the \
             {identity} agreed with the buyer, or add theirs to {owner}'s profile ({keys})",
            owner = owner.id,
            identity = channel.identity,
            keys = channel.profile_keys
        ),
    };
    Some(format!("{what}; {expects}; nothing was taken. {todo}"))
}

/// `ISA sender ZZ:BETA`, `From credential DUNS:123, NetworkID:AN01`, or that none is there.
fn identities(channel: &Channel, found: &Found<'_>) -> String {
    let values = match found {
        Found::Nothing => return channel.identity.to_string(),
        Found::One(_, v) | Found::Unknown(v) | Found::Several(v) => v,
    };
    if values.is_empty() {
        return format!("the missing {}", channel.identity);
    }
    format!("{} {}", channel.identity, shown(values))
}

/// The distinct values, the first few and how many more.
fn shown(values: &[String]) -> String {
    let mut distinct: Vec<&str> = Vec::new();
    for v in values {
        if !distinct.contains(&v.as_str()) {
            distinct.push(v);
        }
    }
    let more = distinct.len().saturating_sub(MAX_NAMED);
    let mut text = distinct
        .iter()
        .take(MAX_NAMED)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

/// Why `raw` (of `format`) found in `owner`'s folder is not `owner`'s to send; `None` when it
/// may be taken (or the format names no sender). `decoder` reads CSV documents' suppliers.
pub fn not_from_owner(
    owner: &PartnerProfile,
    partners: &Partners,
    format: Format,
    raw: &[u8],
    decoder: Option<&dyn gateway_core::Decode>,
) -> Option<String> {
    match format {
        Format::X12 => crate::x12_senders::not_from_owner(owner, partners, raw),
        Format::Cxml => refusal(owner, &cxml_senders(partners, raw), &CXML),
        // Only another partner's Coupa supplier refuses a CSV file, so without one configured
        // the file is not read twice (here, then to be taken).
        Format::Csv
            if partners
                .all()
                .iter()
                .any(|p| p.id != owner.id && p.coupa_supplier.is_some()) =>
        {
            let decoder = decoder?;
            refusal(owner, &csv_suppliers(partners, owner, raw, decoder), &CSV)
        }
        _ => None,
    }
}

/// Whose a cXML document is, by its `From` credentials: a From may carry several (DUNS and a
/// network id), any of which may be the one a profile names, so the ones no profile names are
/// only reported when none names a partner.
pub fn cxml_senders<'p>(partners: &'p Partners, raw: &[u8]) -> Found<'p> {
    // Unreadable: the decoder rejects it with its own reasons.
    let Ok(header) = adapter_cxml::header(raw) else {
        return Found::Nothing;
    };
    let named: Vec<(String, Option<&'p PartnerProfile>)> = header
        .from
        .iter()
        .map(|c| {
            let key = c.key();
            let partner = partners.by_sender(Format::Cxml, &key);
            (key, partner)
        })
        .collect();
    if named.iter().any(|(_, p)| p.is_some()) {
        classify(named.into_iter().filter(|(_, p)| p.is_some()).collect())
    } else {
        // No From at all is as unknown as a From nobody's profile names.
        Found::Unknown(named.into_iter().map(|(k, _)| k).collect())
    }
}

/// Whose the documents of a CSV file are, by the Coupa supplier each names (only suppliers a
/// profile names count: see the module's doc).
pub fn csv_suppliers<'p>(
    partners: &'p Partners,
    owner: &PartnerProfile,
    raw: &[u8],
    decoder: &dyn gateway_core::Decode,
) -> Found<'p> {
    // One entry per distinct supplier found, with the partner it names and a few documents.
    let mut found: Vec<(String, &'p PartnerProfile, Vec<String>, usize)> = Vec::new();
    let mut sink = |item: gateway_core::DecodeItem| {
        let gateway_core::DecodeItem::Document(d) = item else {
            return;
        };
        let Some(party) = supplier_of(&d.document) else {
            return;
        };
        let Some((shown, partner)) = named_supplier(partners, party) else {
            return;
        };
        let number = d.document.number().to_string();
        // As the profile spells it, so at most three entries per partner.
        match found.iter_mut().find(|(s, ..)| *s == shown) {
            Some((_, _, numbers, count)) => {
                *count += 1;
                if numbers.len() < MAX_DOCUMENTS_NAMED {
                    numbers.push(number);
                }
            }
            None => found.push((shown, partner, vec![number], 1)),
        }
    };
    let mut reader = raw;
    // Reading from memory does not fail; a decode problem is the decoder's reject, not ours.
    if decoder
        .decode_reader(&mut reader, owner, &mut sink)
        .is_err()
    {
        return Found::Nothing;
    }
    classify(
        found
            .into_iter()
            .map(|(shown, partner, numbers, count)| {
                let more = count.saturating_sub(numbers.len());
                let mut docs = numbers.join(", ");
                if more > 0 {
                    docs.push_str(&format!(" and {more} more"));
                }
                (format!("{shown} ({docs})"), Some(partner))
            })
            .collect(),
    )
}

fn supplier_of(d: &Document) -> Option<&Party> {
    match d {
        Document::Invoice(i) => i.supplier.as_ref(),
        Document::PurchaseOrder(p) => p.supplier.as_ref(),
    }
}

/// The partner whose configured Coupa supplier `party` names, and how (as the profile spells
/// it): by id first, then number, then name (the most specific the document gives decides,
/// so a row with the owner's number and a look-alike name stays the owner's).
fn named_supplier<'p>(
    partners: &'p Partners,
    party: &Party,
) -> Option<(String, &'p PartnerProfile)> {
    let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    // The readers write Coupa's id of a supplier in domain `coupa` (all digits); this looked
    // for a `coupa_id` domain no reader writes, so a row naming another partner's id was
    // never told apart.
    if let Some(id) = party.coupa_supplier_id()
        && let Some(p) = partners
            .all()
            .iter()
            .find(|p| p.coupa_supplier.as_ref().is_some_and(|s| s.id == Some(id)))
    {
        return Some((format!("id {id}"), p));
    }
    if let Some(n) = party.coupa_supplier_number() {
        let found = partners.all().iter().find_map(|p| {
            let number = p.coupa_supplier.as_ref()?.number.as_deref()?;
            same(number, n).then(|| (format!("number {}", number.trim()), p))
        });
        if found.is_some() {
            return found;
        }
    }
    let name = party.name.as_deref().filter(|n| !n.trim().is_empty())?;
    partners.all().iter().find_map(|p| {
        let configured = p.coupa_supplier.as_ref()?.name.as_deref()?;
        same(configured, name).then(|| (format!("name \"{}\"", configured.trim()), p))
    })
}

/// The `ISA05:ISA06` a partner's profile names (`*` for a qualifier it leaves open).
fn expected_x12(p: &PartnerProfile) -> Option<String> {
    let x = p.x12.as_ref()?;
    let id = x.partner_id.as_deref()?.trim();
    let qualifier = x.partner_qualifier.as_deref().map_or("*", str::trim);
    Some(format!("{qualifier}:{id}"))
}

/// The From `domain:identity` a partner's profile names (`*` for a domain it leaves open).
fn expected_cxml(p: &PartnerProfile) -> Option<String> {
    let c = p.cxml.as_ref()?;
    let id = c.from_identity.as_deref().map(str::trim)?;
    if id.is_empty() {
        return None;
    }
    let domain = c.from_domain.as_deref().map_or("*", str::trim);
    Some(format!("{domain}:{id}"))
}

/// The Coupa supplier a partner's profile names (`number ACME-1`).
fn expected_supplier(p: &PartnerProfile) -> Option<String> {
    let s = p.coupa_supplier.as_ref()?;
    let mut names = Vec::new();
    if let Some(id) = s.id {
        names.push(format!("id {id}"));
    }
    if let Some(n) = &s.number {
        names.push(format!("number {n}"));
    }
    if let Some(n) = &s.name {
        names.push(format!("name \"{n}\""));
    }
    (!names.is_empty()).then(|| names.join(" or "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partners() -> Partners {
        let p = |text: &str| PartnerProfile::from_toml(text, "t").ok();
        Partners::new(
            [
                p("id = \"acme\"\n[coupa_supplier]\nnumber = \"ACME-1\"\n\
                   [cxml]\nfrom_domain = \"DUNS\"\nfrom_identity = \"111\"\n"),
                p("id = \"globex\"\n[coupa_supplier]\nid = 77\nnumber = \"GLOBEX-7\"\nname = \"Globex Corp\"\n"),
            ]
            .into_iter()
            .flatten()
            .collect(),
        )
    }

    fn cxml_from(domain: &str, identity: &str) -> String {
        format!(
            "<cXML payloadID=\"1@x\" timestamp=\"2026-03-15T09:30:00Z\"><Header><From>\
             <Credential domain=\"{domain}\"><Identity>{identity}</Identity></Credential></From>\
             <To><Credential domain=\"NetworkID\"><Identity>BUYER</Identity></Credential></To>\
             <Sender><Credential domain=\"{domain}\"><Identity>{identity}</Identity>\
             <SharedSecret>wrong</SharedSecret></Credential></Sender></Header>\
             <Request><InvoiceDetailRequest/></Request></cXML>"
        )
    }

    #[test]
    fn a_cxml_from_names_its_partner_and_the_folder_must_be_its_own() {
        let ps = partners();
        let [acme, globex] = ps.all() else {
            panic!("two partners")
        };
        let acmes = cxml_from("DUNS", "111");
        assert_eq!(
            refusal(acme, &cxml_senders(&ps, acmes.as_bytes()), &CXML),
            None
        );
        let why = refusal(globex, &cxml_senders(&ps, acmes.as_bytes()), &CXML).unwrap_or_default();
        assert!(
            why.contains("From credential DUNS:111 is partner acme's")
                && why.contains("globex's profile names no From credential")
                && why.contains("acme/Incoming"),
            "{why}"
        );
        // acme's folder has a From identity: a stranger's is refused there.
        let strangers = cxml_from("DUNS", "999");
        let why =
            refusal(acme, &cxml_senders(&ps, strangers.as_bytes()), &CXML).unwrap_or_default();
        assert!(
            why.contains("From credential DUNS:999 is named by no partner profile")
                && why.contains("DUNS:111"),
            "{why}"
        );
        // globex names no From identity of its own: its folder decides.
        assert_eq!(
            refusal(globex, &cxml_senders(&ps, strangers.as_bytes()), &CXML),
            None
        );
        // Not cXML at all: left to the decoder.
        assert!(matches!(cxml_senders(&ps, b"not xml"), Found::Nothing));
    }

    #[test]
    fn a_supplier_is_named_by_id_then_number_then_name() {
        let ps = partners();
        let party = |number: Option<&str>, name: Option<&str>| Party {
            name: name.map(Into::into),
            ids: number
                .map(|n| gateway_model::PartyId {
                    domain: "coupa".into(),
                    value: n.into(),
                })
                .into_iter()
                .collect(),
            ..Party::default()
        };
        let named = |p: Party| named_supplier(&ps, &p).map(|(s, p)| (s, p.id.clone()));
        assert_eq!(
            named(party(Some("acme-1 "), None)),
            Some(("number ACME-1".into(), "acme".into()))
        );
        assert_eq!(
            named(party(Some("SUP-9"), Some("GLOBEX CORP"))),
            Some(("name \"Globex Corp\"".into(), "globex".into()))
        );
        // The number decides over a look-alike name.
        assert_eq!(
            named(party(Some("ACME-1"), Some("Globex Corp"))).map(|(_, p)| p),
            Some("acme".into())
        );
        assert_eq!(named(party(Some("SUP-9"), Some("Someone"))), None);
        // Coupa's id of a supplier, in domain `coupa` as every reader writes it (this looked
        // for a `coupa_id` domain no reader writes, and never found globex by its id).
        assert_eq!(
            named(party(Some("77"), None)),
            Some(("id 77".into(), "globex".into()))
        );
    }

    #[test]
    fn several_partners_in_one_file_are_refused_and_long_lists_are_bounded() {
        let ps = partners();
        let [acme, globex] = ps.all() else {
            panic!("two partners")
        };
        let found = classify(vec![
            ("number ACME-1".into(), Some(acme)),
            ("number GLOBEX-7".into(), Some(globex)),
        ]);
        let why = refusal(globex, &found, &CSV).unwrap_or_default();
        assert!(
            why.contains("several partners (number ACME-1, number GLOBEX-7)"),
            "{why}"
        );
        let many: Vec<String> = (0..25).map(|k| format!("DUNS:{k}")).collect();
        let why = refusal(acme, &Found::Unknown(many), &CXML).unwrap_or_default();
        assert!(why.contains("DUNS:9 and 15 more"), "{why}");
        // An unknown supplier is not refused: only another partner's is.
        assert_eq!(
            refusal(globex, &Found::Unknown(vec!["x".into()]), &CSV),
            None
        );
    }
}
