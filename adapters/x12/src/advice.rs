//! The 824 Application Advice that tells an EDI supplier the buyer's side gave up one of its
//! invoices, and why.
//!
//! When the gateway takes a supplier's 810 it answers with a 997 "accepted": the set was
//! sound and mapped. That says nothing of what happens next, and when the invoice is later
//! given up for good (Coupa refused it, and `gateway dlq purge --tell-supplier` purges it),
//! the supplier's system would otherwise go on believing it was delivered. The 824 closes
//! that gap: it names the invoice (OTI03) and, when known, the 810's functional group and
//! transaction set (GS02/GS03/GS06/ST02 in OTI04/OTI05/OTI08/OTI09), so the supplier's
//! translator can match the advice to the set it sent, and says why in words (TED02, NTE).
//!
//! The set, in a group of its own (GS01 `AG`, the partner's version) in one interchange to
//! the partner, numbered from the same [`ControlNumbers`] as its POs and acknowledgments:
//!
//! ```text
//! BGN*00*REJ-<invoice>*<CCYYMMDD>
//! OTI*TR*IV*<invoice>*<810 GS02>*<810 GS03>*<CCYYMMDD>*<HHMM>*<810 GS06>*<810 ST02>*810
//! TED*848*<reason, first part>
//! NTE*GEN*<reason, continued>        (as many as needed, at most ten)
//! ```
//!
//! - BGN01 `00`: original. BGN02: the invoice number prefixed `REJ-`, cut to BGN02's maximum
//!   (30 characters in 004010); BGN03: the advice's date.
//! - OTI01 `TR`: transaction set reject. OTI02 `IV`: OTI03 is the seller's invoice number
//!   (BIG02 of the 810). OTI06/OTI07 are the date and time of this advice, not of the 810
//!   (which the gateway does not keep): when the gateway gave the invoice up. OTI10 `810`. The
//!   810's envelope elements that are not known are left empty.
//! - TED01 `848`, Incorrect Data (code list 647): a general code, since a refusal by the
//!   buyer's application (Coupa) is not one of the specific syntax errors the list names; the
//!   reason itself is in words.
//! - The reason is written as the writer's `Out::free_text` makes it: each line break and each
//!   character that is one of the partner's delimiters becomes a space (X12 cannot escape them, and the
//!   reason must get through rather than be refused), runs of spaces become one and the whole
//!   is trimmed. Its first words go in TED02 (60 characters in 004010), the rest in `NTE*GEN`
//!   segments of up to 80 (NTE02) each. The pieces are cut between words, the space there
//!   dropped, so that each piece reads on its own and the pieces put together with a space
//!   between them give the text back: a supplier read `invoice ST-` in the TED and `INV-1`
//!   in the next NTE. Only a word longer than an element is cut inside (never inside a UTF-8
//!   character), that piece then filling its element and the word going on in the next. At
//!   most ten NTE segments are written, the tenth ending in `…` when the reason goes on: the
//!   advice stays a short message a translator and the people reading it take in (a reason
//!   that is a whole error page would otherwise make a set of any size).

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use gateway_core::{EncodeError, PartnerProfile};

use crate::codec::X12Codec;
use crate::control::ControlNumbers;
use crate::encode::{group, interchange, outbound_identities};
use crate::writer::{Out, o, t};

/// TED01: Incorrect Data (code list 647), the general code for "the data was not accepted".
pub const INCORRECT_DATA: &str = "848";
/// Most NTE segments the reason continues in.
pub const MAX_NOTES: usize = 10;
/// TED02, NTE02 and BGN02 maximums when the length table has none (X12 004010).
const TED02_MAX: usize = 60;
const NTE02_MAX: usize = 80;
const BGN02_MAX: usize = 30;

/// One invoice an EDI supplier sent that the buyer's side gave up, for an 824.
#[derive(Debug, Clone, Default)]
pub struct InvoiceAdvice<'a> {
    /// The supplier's invoice number (BIG02 of its 810) — OTI03 with qualifier OTI02 = "IV".
    pub invoice_number: &'a str,
    /// The 810's GS02 / GS03 (OTI04, OTI05), GS06 (OTI08) and ST02 (OTI09), when known; the 824
    /// names the set it answers by them.
    pub original_gs_sender: Option<&'a str>,
    pub original_gs_receiver: Option<&'a str>,
    pub original_group_control: Option<&'a str>,
    pub original_set_control: Option<&'a str>,
    /// Why, in words (e.g. the reason Coupa gave).
    pub reason: &'a str,
}

impl X12Codec {
    /// The 824 for `advice`, in one interchange to `partner` numbered from this codec's control
    /// numbers (so it never shares an ISA13/GS06 with the partner's POs and acknowledgments).
    pub fn application_advice(
        &self,
        advice: &InvoiceAdvice<'_>,
        partner: &PartnerProfile,
    ) -> Result<Vec<u8>, EncodeError> {
        encode_application_advice(
            advice,
            partner,
            self.control_numbers().as_ref(),
            chrono::Utc::now(),
        )
    }
}

/// The 824 for `advice` (see the module documentation), in one interchange to `partner` with
/// its ids, version and delimiters, ISA13 and GS06 drawn from `numbers` under the partner's id
/// (the counters its POs and acknowledgments use), dated `now`.
///
/// Refused, with the field's name as path: an empty invoice number; an invoice number or an
/// 810 envelope value longer than its OTI element allows or holding one of the partner's
/// delimiters (each is an id the supplier's system matches, so it is not altered); an 810
/// group control number that is not a number (GS06 is one).
pub fn encode_application_advice(
    advice: &InvoiceAdvice<'_>,
    partner: &PartnerProfile,
    numbers: &dyn ControlNumbers,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, EncodeError> {
    let invoice = advice.invoice_number.trim();
    if invoice.is_empty() {
        return Err(EncodeError::Invalid {
            path: "invoice_number".into(),
            message: "the supplier's invoice number (BIG02 of its 810) is needed: the 824 names the invoice it rejects by it (OTI03)".into(),
        });
    }
    if let Some(gs06) = known(advice.original_group_control)
        && !gs06.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(EncodeError::Invalid {
            path: "original_group_control".into(),
            message: format!(
                "{gs06:?} is not a group control number: OTI08 holds the 810's GS06, which is digits only"
            ),
        });
    }
    let ids = outbound_identities(partner);
    let key = partner.id.as_str();
    interchange(&ids, numbers, key, now, |out| {
        group(out, &ids, numbers, key, now, "AG", "824", 1, |out, _| {
            write_advice(out, advice, invoice, now)
        })?;
        Ok(1)
    })
}

/// `value` trimmed, `None` when absent or blank.
fn known(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// BGN, OTI, TED and the NTE segments of one advice (between ST and SE).
fn write_advice(
    out: &mut Out,
    advice: &InvoiceAdvice<'_>,
    invoice: &str,
    now: DateTime<Utc>,
) -> Result<(), EncodeError> {
    let gs_sender = known(advice.original_gs_sender);
    let gs_receiver = known(advice.original_gs_receiver);
    let group_control = known(advice.original_group_control);
    let set_control = known(advice.original_set_control);
    // Each value of the OTI checked under its own name before anything of the set is written.
    out.check_value("invoice_number", "OTI", 3, invoice)?;
    for (pos, path, value) in [
        (4, "original_gs_sender", gs_sender),
        (5, "original_gs_receiver", gs_receiver),
        (8, "original_group_control", group_control),
        (9, "original_set_control", set_control),
    ] {
        if let Some(value) = value {
            out.check_value(path, "OTI", pos, value)?;
        }
    }
    let date = now.format("%Y%m%d").to_string();
    let time = now.format("%H%M").to_string();
    let reference_max = out.max_len("BGN", 2).unwrap_or(BGN02_MAX);
    let reference: String = format!("REJ-{invoice}")
        .chars()
        .take(reference_max)
        .collect();
    out.segment(
        "invoice_number",
        "BGN",
        &[t("00"), t(reference), t(date.as_str())],
    )?;
    out.segment(
        "invoice_number",
        "OTI",
        &[
            t("TR"),
            t("IV"),
            t(invoice),
            o(gs_sender),
            o(gs_receiver),
            t(date.as_str()),
            t(time),
            o(group_control),
            o(set_control),
            t("810"),
        ],
    )?;
    let reason = out.free_text(advice.reason);
    let reason = reason
        .trim()
        .split(' ')
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let (first, notes) = split_reason(
        &reason,
        out.max_len("TED", 2).unwrap_or(TED02_MAX),
        out.max_len("NTE", 2).unwrap_or(NTE02_MAX),
    );
    out.segment("reason", "TED", &[t(INCORRECT_DATA), t(first)])?;
    for note in notes {
        out.segment("reason", "NTE", &[t("GEN"), t(note)])?;
    }
    Ok(())
}

/// `text` (words between single spaces, none at either end) cut into the TED02 piece (at most
/// `first_max` characters) and the NTE02 pieces that continue it (at most `note_max` each, at
/// most [`MAX_NOTES`], the last ending in `…` when the text goes on past them), each cut by
/// [`cut`]. Without that mark, the pieces put together, with a space between two where a word
/// ended, give `text`.
fn split_reason(text: &str, first_max: usize, note_max: usize) -> (&str, Vec<Cow<'_, str>>) {
    let (first, mut rest) = cut(text, first_max);
    let mut notes = Vec::new();
    while !rest.is_empty() && notes.len() < MAX_NOTES {
        if notes.len() + 1 == MAX_NOTES && rest.chars().count() > note_max {
            let (head, _) = cut(rest, note_max.saturating_sub(1));
            notes.push(Cow::Owned(format!("{head}…")));
            break;
        }
        let (piece, tail) = cut(rest, note_max);
        notes.push(Cow::Borrowed(piece));
        rest = tail;
    }
    (first, notes)
}

/// `text` (words between single spaces, none at either end) split into a piece of at most
/// `max` characters and the rest: after the last word that fits, the space between them
/// dropped, so neither side starts or ends with one. A first word longer than `max` is the
/// only one cut inside, after `max` characters (on a character boundary).
fn cut(text: &str, max: usize) -> (&str, &str) {
    let Some((end, after)) = text.char_indices().nth(max) else {
        return (text, "");
    };
    let at_space = |space: usize| {
        let (piece, rest) = text.split_at_checked(space).unwrap_or((text, ""));
        (piece, rest.strip_prefix(' ').unwrap_or(rest))
    };
    if after == ' ' {
        return at_space(end);
    }
    match text.get(..end).and_then(|window| window.rfind(' ')) {
        Some(space) if space > 0 => at_space(space),
        _ => text.split_at_checked(end).unwrap_or((text, "")),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::control::InMemoryControlNumbers;
    use crate::tokenizer::Tokenizer;

    fn profile(version: &str) -> PartnerProfile {
        PartnerProfile::from_toml(
            &format!(
                "id = \"acme\"\n[x12]\npartner_qualifier = \"ZZ\"\npartner_id = \"ACMESUPPLY\"\n\
                 our_qualifier = \"ZZ\"\nour_id = \"COUPABUYER\"\nversion = \"{version}\"\n"
            ),
            "acme.toml",
        )
        .unwrap()
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 15, 10, 30, 0).unwrap()
    }

    fn advice(reason: &str) -> InvoiceAdvice<'_> {
        InvoiceAdvice {
            invoice_number: "INV-1001",
            original_gs_sender: Some("ACMEGS"),
            original_gs_receiver: Some("COUPAGS"),
            original_group_control: Some("1234"),
            original_set_control: Some("0007"),
            reason,
        }
    }

    fn encode(a: &InvoiceAdvice<'_>, partner: &PartnerProfile) -> Result<Vec<u8>, EncodeError> {
        encode_application_advice(a, partner, &InMemoryControlNumbers::new(), now())
    }

    /// Every segment as read back by the tokenizer: the id, then the elements as written.
    fn segments(raw: &[u8]) -> Vec<Vec<String>> {
        let segs: Vec<Vec<String>> = Tokenizer::new(raw)
            .map(|s| {
                let s = s.expect("tokenizes");
                s.elements()
                    .map(|e| String::from_utf8(e.to_vec()).expect("UTF-8"))
                    .collect()
            })
            .collect();
        assert!(!segs.is_empty());
        segs
    }

    fn the<'s>(segs: &'s [Vec<String>], id: &str) -> &'s [String] {
        let found: Vec<&Vec<String>> = segs.iter().filter(|s| s[0] == id).collect();
        assert_eq!(found.len(), 1, "one {id} in {segs:?}");
        found[0]
    }

    /// One interchange of one AG group of one 824, its control numbers and counts sound both
    /// to the crate's envelope walker and counted here from the tokenized segments.
    fn assert_sound_envelope(raw: &[u8]) {
        let f = crate::envelope::tests::walk_bytes(raw);
        assert!(f.strays.is_empty(), "{:?}", f.strays);
        assert_eq!(f.interchanges.len(), 1);
        assert!(
            f.interchanges[0].issues.is_empty(),
            "{:?}",
            f.interchanges[0].issues
        );
        assert_eq!(f.groups.len(), 1);
        assert!(f.groups[0].1.is_empty(), "{:?}", f.groups);
        assert_eq!(f.sets.len(), 1);
        assert!(f.sets[0].2.is_empty(), "{:?}", f.sets);

        let segs = segments(raw);
        let ids: Vec<&str> = segs.iter().map(|s| s[0].as_str()).collect();
        assert_eq!(ids.first(), Some(&"ISA"));
        assert_eq!(ids.get(1), Some(&"GS"));
        assert_eq!(ids.get(2), Some(&"ST"));
        assert_eq!(&ids[ids.len() - 3..], ["SE", "GE", "IEA"]);
        let (isa, iea) = (the(&segs, "ISA"), the(&segs, "IEA"));
        let (gs, ge) = (the(&segs, "GS"), the(&segs, "GE"));
        let (st, se) = (the(&segs, "ST"), the(&segs, "SE"));
        assert_eq!((gs[1].as_str(), st[1].as_str()), ("AG", "824"));
        assert_eq!(isa[13], iea[2], "ISA13 = IEA02");
        assert_eq!(iea[1], "1");
        assert_eq!(gs[6], ge[2], "GS06 = GE02");
        assert_eq!(ge[1], "1");
        assert_eq!(st[2], se[2], "ST02 = SE02");
        // SE01 counts ST through SE.
        assert_eq!(se[1], (ids.len() - 4).to_string());
    }

    #[test]
    fn an_advice_names_the_invoice_its_810_and_the_reason_in_a_sound_interchange() {
        let partner = profile("004010");
        let raw = encode(&advice("Duplicate invoice number"), &partner).unwrap();
        assert_sound_envelope(&raw);
        let segs = segments(&raw);
        let ids: Vec<&str> = segs.iter().map(|s| s[0].as_str()).collect();
        assert_eq!(
            ids,
            ["ISA", "GS", "ST", "BGN", "OTI", "TED", "SE", "GE", "IEA"]
        );
        let isa = the(&segs, "ISA");
        assert_eq!(isa[6].trim(), "COUPABUYER");
        assert_eq!(isa[8].trim(), "ACMESUPPLY");
        assert_eq!(isa[12], "00401");
        let gs = the(&segs, "GS");
        assert_eq!(gs[1], "AG");
        assert_eq!(
            (gs[2].as_str(), gs[3].as_str()),
            ("COUPABUYER", "ACMESUPPLY")
        );
        assert_eq!(gs[8], "004010");
        assert_eq!(the(&segs, "ST")[1], "824");
        assert_eq!(the(&segs, "BGN"), ["BGN", "00", "REJ-INV-1001", "20260315"]);
        assert_eq!(
            the(&segs, "OTI"),
            [
                "OTI", "TR", "IV", "INV-1001", "ACMEGS", "COUPAGS", "20260315", "1030", "1234",
                "0007", "810"
            ]
        );
        assert_eq!(
            the(&segs, "TED"),
            ["TED", "848", "Duplicate invoice number"]
        );

        // The 810's envelope values that are not known are empty elements before OTI10.
        let bare = InvoiceAdvice {
            invoice_number: "INV-1001",
            reason: "r",
            ..InvoiceAdvice::default()
        };
        let segs = segments(&encode(&bare, &partner).unwrap());
        assert_eq!(
            the(&segs, "OTI"),
            [
                "OTI", "TR", "IV", "INV-1001", "", "", "20260315", "1030", "", "", "810"
            ]
        );
    }

    #[test]
    fn a_long_reason_continues_in_notes_without_breaking_a_segment() {
        // 300 characters: the partner's element separator, a line break, and two-byte
        // characters across the place TED02 ends.
        let head = "Coupa refused: price*quantity mismatch on line 3.\nD";
        let mut reason = format!("{head}{}", "é".repeat(20));
        let mut n = 0;
        while reason.chars().count() < 300 {
            reason.push(if n % 7 == 6 { ' ' } else { 'a' });
            n += 1;
        }
        assert_eq!(reason.chars().count(), 300);
        assert!((51..=70).all(|i| reason.chars().nth(i) == Some('é')));

        let raw = encode(&advice(&reason), &profile("004010")).unwrap();
        assert_sound_envelope(&raw);
        let segs = segments(&raw);
        let body: Vec<&Vec<String>> = segs[3..segs.len() - 3].iter().collect();
        let ids: Vec<&str> = body.iter().map(|s| s[0].as_str()).collect();
        assert_eq!(&ids[..3], ["BGN", "OTI", "TED"]);
        let notes = &body[3..];
        assert!(notes.iter().all(|s| s[0] == "NTE"), "{ids:?}");
        // 60 + 3 × 80 = 300: at least three notes, fewer than the limit.
        assert!((3..MAX_NOTES).contains(&notes.len()), "{ids:?}");

        let ted = the(&segs, "TED");
        assert_eq!(ted.len(), 3, "{ted:?}");
        assert_eq!(ted[1], "848");
        assert!((1..=60).contains(&ted[2].chars().count()), "{ted:?}");
        let mut pieces = vec![(ted[2].clone(), 60)];
        for note in notes {
            assert_eq!(note.len(), 3, "{note:?}");
            assert_eq!(note[1], "GEN");
            assert!(!note[2].is_empty(), "{note:?}");
            pieces.push((note[2].clone(), 80));
        }
        // The writer's substitutions: a line break and a delimiter each become a space.
        assert_pieces_give(&pieces, &words(&reason.replace(['\n', '*'], " ")));
    }

    /// `text`'s words between single spaces, as the 824 carries a reason.
    fn words(text: &str) -> String {
        text.split(' ')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Checks `pieces` (each with its element's limit) against `text` as the 824 carries it
    /// (words between single spaces): each within its limit, none starting or ending with a
    /// space, each cut where a word ends and the next word would not have fitted, or inside
    /// a word only when that word fills the piece alone; together they are `text`, or its
    /// start when the last piece ends in `…`.
    fn assert_pieces_give(pieces: &[(String, usize)], text: &str) {
        let mut rest = text;
        for (n, (piece, max)) in pieces.iter().enumerate() {
            let length = piece.chars().count();
            assert!(length <= *max, "{piece:?} over {max}");
            assert_eq!(
                piece.trim_matches(' '),
                piece,
                "no piece starts or ends with a space"
            );
            if n + 1 == pieces.len()
                && let Some(kept) = piece.strip_suffix('…')
                && !rest.starts_with(piece.as_str())
            {
                assert!(
                    rest.starts_with(kept) && rest.len() > kept.len(),
                    "{piece:?} is not the start of {rest:?}"
                );
                return;
            }
            let after = rest
                .strip_prefix(piece.as_str())
                .unwrap_or_else(|| panic!("{piece:?} does not come next in {rest:?}"));
            rest = match after.strip_prefix(' ') {
                Some(next) => {
                    let word = next.split(' ').next().unwrap_or("");
                    assert!(
                        length + 1 + word.chars().count() > *max,
                        "{piece:?} had room for {word:?}"
                    );
                    next
                }
                None => {
                    assert!(
                        after.is_empty() || (length == *max && !piece.contains(' ')),
                        "{piece:?} is cut inside a word that fits in an element"
                    );
                    after
                }
            };
        }
        assert_eq!(rest, "", "the pieces hold the whole text");
    }

    /// QA: the 824 cut `invoice ST-` / `INV-1 of supplier` and `it i` / `s not this one`
    /// mid-word. Each piece now ends at a word; a word longer than an element alone is cut.
    #[test]
    fn a_reason_is_cut_between_words() {
        let reason = "Rejected by the buyer's Coupa: Coupa already has invoice ST-INV-1 of \
                      supplier EDI Steel Inc (Coupa invoice id 31, pending_approval) and it is \
                      not this one: line 1 price 12.5, this one says 12.6; line 1 total 125.0, \
                      this one says 126.0. Please correct it and send it again as a new invoice.";
        let segs = segments(&encode(&advice(reason), &profile("004010")).unwrap());
        assert_eq!(
            the(&segs, "TED")[2],
            "Rejected by the buyer's Coupa: Coupa already has invoice"
        );
        let notes: Vec<String> = segs
            .iter()
            .filter(|s| s[0] == "NTE")
            .map(|s| s[2].clone())
            .collect();
        assert!(notes[0].starts_with("ST-INV-1 of supplier"), "{notes:?}");
        let mut pieces = vec![(the(&segs, "TED")[2].clone(), 60)];
        pieces.extend(notes.iter().map(|n| (n.clone(), 80)));
        assert_pieces_give(&pieces, reason);

        let long = format!("{} end", "x".repeat(100));
        let segs = segments(&encode(&advice(&long), &profile("004010")).unwrap());
        assert_eq!(the(&segs, "TED")[2], "x".repeat(60));
        assert_eq!(the(&segs, "NTE")[2], format!("{} end", "x".repeat(40)));
    }

    /// The reason as the 824 carries it: line breaks, the partner's delimiters (here `*`,
    /// `~`, `>`) and other control characters as spaces, trimmed.
    fn as_carried(reason: &str) -> String {
        reason
            .replace("\r\n", " ")
            .chars()
            .map(|c| {
                if c.is_control() || matches!(c, '*' | '~' | '>' | '\u{2028}' | '\u{2029}') {
                    ' '
                } else {
                    c
                }
            })
            .collect::<String>()
            .trim()
            .to_string()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Whatever words another system gives as the reason (any characters, runs of spaces,
        /// delimiters, line breaks), the 824 is written, its envelope is sound, every piece is
        /// within its element's limit, and the pieces put together are the reason as carried
        /// (or its start and `…` when it is longer than the notes hold).
        #[test]
        fn any_reason_gives_a_sound_advice_that_keeps_its_words(
            reason in "(\\PC|[ *~>\r\n]){0,300}|[a *\n]{0,1200}|[\\x00-\\x1f a-z]{0,80}"
        ) {
            let raw = encode(&advice(&reason), &profile("004010")).unwrap();
            assert_sound_envelope(&raw);
            let segs = segments(&raw);
            let ted = the(&segs, "TED");
            let mut pieces = vec![(ted.get(2).cloned().unwrap_or_default(), 60)];
            let notes: Vec<&Vec<String>> = segs.iter().filter(|s| s[0] == "NTE").collect();
            proptest::prop_assert!(notes.len() <= MAX_NOTES);
            pieces.extend(notes.iter().map(|n| (n.get(2).cloned().unwrap_or_default(), 80)));
            // Cuts at words hold a little less than 60 + 10 × 80 characters, so a reason near
            // that length may already end in `…`: then what is there is its start.
            assert_pieces_give(&pieces, &words(&as_carried(&reason)));
        }
    }

    #[test]
    fn a_reason_past_the_notes_is_cut_with_an_ellipsis() {
        let reason = "0123456789".repeat(200);
        let segs = segments(&encode(&advice(&reason), &profile("004010")).unwrap());
        let notes: Vec<&Vec<String>> = segs.iter().filter(|s| s[0] == "NTE").collect();
        assert_eq!(notes.len(), MAX_NOTES);
        let last = &notes[MAX_NOTES - 1][2];
        assert!(last.ends_with('…') && last.chars().count() == 80, "{last}");
        let mut joined = the(&segs, "TED")[2].clone();
        notes.iter().for_each(|n| joined.push_str(&n[2]));
        let kept = joined.trim_end_matches('…');
        assert_eq!(kept.chars().count(), 60 + 9 * 80 + 79);
        assert!(reason.starts_with(kept));
    }

    #[test]
    fn a_5010_partner_gets_5010_envelopes() {
        let raw = encode(&advice("Refused"), &profile("005010")).unwrap();
        assert_sound_envelope(&raw);
        let segs = segments(&raw);
        assert_eq!(the(&segs, "GS")[8], "005010");
        assert_eq!(the(&segs, "ISA")[12], "00501");
    }

    #[test]
    fn advices_from_one_codec_never_share_control_numbers() {
        let codec = X12Codec::new();
        let partner = profile("004010");
        let numbers = |raw: &[u8]| {
            let segs = segments(raw);
            let isa13: u64 = the(&segs, "ISA")[13].parse().unwrap();
            let gs06: u64 = the(&segs, "GS")[6].parse().unwrap();
            (isa13, gs06)
        };
        let first = numbers(&codec.application_advice(&advice("a"), &partner).unwrap());
        let second = numbers(&codec.application_advice(&advice("b"), &partner).unwrap());
        assert!(second.0 > first.0, "ISA13 {first:?} then {second:?}");
        assert!(second.1 > first.1, "GS06 {first:?} then {second:?}");
    }

    #[test]
    fn what_cannot_be_written_is_refused_with_its_field() {
        let partner = profile("004010");
        let path_of = |a: &InvoiceAdvice<'_>| match encode(a, &partner) {
            Err(EncodeError::Invalid { path, message }) => (path, message),
            other => panic!("expected a refusal, got {other:?}"),
        };
        for empty in ["", "   "] {
            let (path, message) = path_of(&InvoiceAdvice {
                invoice_number: empty,
                ..advice("r")
            });
            assert_eq!(path, "invoice_number");
            assert!(message.contains("invoice number"), "{message}");
        }
        // OTI03 allows 30 characters in 004010.
        let long = "X".repeat(31);
        let (path, message) = path_of(&InvoiceAdvice {
            invoice_number: &long,
            ..advice("r")
        });
        assert_eq!(path, "invoice_number");
        assert!(message.contains("OTI03"), "{message}");
        // An id the supplier matches is not altered: a delimiter in it is refused.
        let (path, message) = path_of(&InvoiceAdvice {
            original_set_control: Some("00*1"),
            ..advice("r")
        });
        assert_eq!(path, "original_set_control");
        assert!(message.contains("OTI09"), "{message}");
        let (path, _) = path_of(&InvoiceAdvice {
            original_gs_sender: Some("SIXTEEN-CHARS-ID"),
            ..advice("r")
        });
        assert_eq!(path, "original_gs_sender");
        let (path, _) = path_of(&InvoiceAdvice {
            original_group_control: Some("12A"),
            ..advice("r")
        });
        assert_eq!(path, "original_group_control");
    }

    #[test]
    fn cuts_fall_between_words_and_keep_characters_whole() {
        assert_eq!(cut("abc", 5), ("abc", ""));
        assert_eq!(cut("ééé", 2), ("éé", "é"));
        // After the last word that fits, the space between dropped.
        assert_eq!(cut("ab cd", 3), ("ab", "cd"));
        assert_eq!(cut("ab cd", 2), ("ab", "cd"));
        assert_eq!(cut("abc de", 4), ("abc", "de"));
        assert_eq!(cut("a bc de", 5), ("a bc", "de"));
        // A word longer than the limit is the only one cut inside.
        assert_eq!(cut("abcdef gh", 3), ("abc", "def gh"));
        assert_eq!(cut("éééé b", 2), ("éé", "éé b"));
        let (first, notes) = split_reason("short", 60, 80);
        assert_eq!((first, notes.len()), ("short", 0));
    }
}
