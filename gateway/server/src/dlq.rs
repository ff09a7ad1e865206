//! `gateway dlq`: what operators do with dead letters: list them with their reasons, replay
//! them after fixing the cause (each exactly once), or purge them (the ledger then says so).
//! Before a replay, `show` and `replay --dry-run` ask Coupa what replaying each invoice would
//! do now: create it, take the one Coupa already has, or fail again and why.

use std::collections::BTreeMap;
use std::io::Write;

use adapter_coupa::CoupaInvoiceDelivery;
use gateway_core::{Broker, DeadFilter, DeadLetter};
use gateway_model::Document;

use crate::bus::COUPA_INVOICES;
use crate::ledger::Ledger;
use crate::supplier_notice::SupplierNotices;

/// One operator request.
#[derive(Debug, Clone)]
pub enum DlqAction {
    List {
        limit: usize,
        json: bool,
    },
    /// Every fact of the matching dead letters: envelope, history and the original body.
    Show {
        limit: usize,
    },
    Replay,
    /// Deletes the matching dead letters and marks each `purged` in the ledger, with `note`.
    /// With `tell_supplier`, each matching invoice's supplier is first told it was given up
    /// ([`crate::supplier_notice`]) and only those told are purged (the ledger says where the
    /// notice went); an invoice whose supplier could not be told stays a dead letter.
    Purge {
        note: String,
        tell_supplier: bool,
    },
    /// What `replay` or `purge` (the `verb`) would take: the matching dead letters, listed;
    /// nothing changes. With `tell_supplier` (purge), also how each invoice's supplier would
    /// be told, or why it could not be (it would stay a dead letter).
    Preview {
        verb: &'static str,
        limit: usize,
        tell_supplier: bool,
    },
}

/// Most dead letters told and purged per consumer in one `purge --tell-supplier`; the rest
/// stay for the next run.
pub const MAX_TOLD: usize = 10_000;

/// What the verbs use beyond the bus. Each is optional: without the ledger (a bus shared by
/// another host's gateway) purges and replays are only reported, without Coupa previews say
/// nothing of what a replay would do.
#[derive(Debug, Default, Clone, Copy)]
pub struct DlqContext<'a> {
    /// Records purges and replays.
    pub ledger: Option<&'a Ledger>,
    /// Sends what `tell_supplier` asks for.
    pub notices: Option<&'a SupplierNotices>,
    /// Asked what replaying an invoice would do (`show`, `replay --dry-run`).
    pub coupa: Option<&'a CoupaInvoiceDelivery>,
}

/// A dead letter as `dlq list --json` prints it: its fields, and the document's number.
#[derive(serde::Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    letter: &'a DeadLetter,
    /// The number the partner knows it by; the text form printed it (`invoice G-00002`) and
    /// the JSON had none, so a script could not join a letter to the partner's document.
    number: Option<String>,
}

/// The number the partner knows a dead letter's document by (a key such as
/// `DUNS:123456789:D1@acme.example` says little to an operator); `None` when its body does not
/// read as a document or has no number.
fn number_of(letter: &DeadLetter) -> Option<String> {
    gateway_model::from_json(&letter.body)
        .ok()
        .map(|d| d.number().to_string())
        .filter(|n| !n.is_empty())
}

/// Runs `action` on `consumers` and writes what happened to `out`. Returns how many dead
/// letters were listed, replayed or purged.
pub async fn run(
    bus: &dyn Broker,
    cx: DlqContext<'_>,
    consumers: &[&str],
    filter: &DeadFilter,
    action: &DlqAction,
    out: &mut dyn Write,
) -> anyhow::Result<usize> {
    let DlqContext {
        ledger,
        notices,
        coupa,
    } = cx;
    // Only the invoices to Coupa can be checked against Coupa.
    let mut asker = coupa.map(CoupaAsker::new);
    let mut total = 0;
    for consumer in consumers {
        match action {
            DlqAction::List { limit, json } => {
                let letters = bus.dead_letters(consumer, filter, *limit).await?;
                if *json {
                    for l in &letters {
                        let listed = Listed {
                            letter: l,
                            number: number_of(l),
                        };
                        writeln!(out, "{}", serde_json::to_string(&listed)?)?;
                    }
                } else {
                    writeln!(out, "{consumer}: {} dead letter(s)", letters.len())?;
                    for l in &letters {
                        let number = number_of(l).unwrap_or_else(|| "-".into());
                        writeln!(
                            out,
                            "  {}  {} {number}  key={}  partner={}  attempts={}{}  dead_at={}\n    reason: {}",
                            l.doc_id,
                            l.kind,
                            l.idempotency_key,
                            l.partner.as_deref().unwrap_or("-"),
                            l.attempts,
                            l.replayed.describe(l.attempts),
                            l.dead_at
                                .map(|t| t.to_rfc3339())
                                .unwrap_or_else(|| "-".into()),
                            l.reason
                        )?;
                        if let Some(first) = l.first_error.as_deref().filter(|f| *f != l.reason) {
                            writeln!(out, "    first error: {first}")?;
                        }
                    }
                }
                total += letters.len();
            }
            DlqAction::Show { limit } => {
                let letters = bus.dead_letters(consumer, filter, *limit).await?;
                for l in &letters {
                    writeln!(out, "consumer:    {consumer}")?;
                    writeln!(out, "doc id:      {}", l.doc_id)?;
                    writeln!(out, "reason:      {}", l.reason)?;
                    if let Some(first) = &l.first_error {
                        writeln!(out, "first error: {first}")?;
                    }
                    writeln!(
                        out,
                        "attempts:    {}{}",
                        l.attempts,
                        l.replayed.describe(l.attempts)
                    )?;
                    writeln!(
                        out,
                        "envelope:    {}",
                        serde_json::to_string_pretty(&l.envelope)?
                    )?;
                    writeln!(out, "body:\n{}\n", String::from_utf8_lossy(&l.body))?;
                    if let Some(coupa) = asker.as_mut().filter(|_| *consumer == COUPA_INVOICES) {
                        let (now, request) = coupa.ask(l).await;
                        writeln!(out, "coupa now:   {now}")?;
                        if let Some(r) = request {
                            writeln!(
                                out,
                                "coupa request (what a replay would send):\n{}\n",
                                serde_json::to_string_pretty(&r)?
                            )?;
                        }
                    }
                }
                total += letters.len();
            }
            DlqAction::Preview {
                verb,
                limit,
                tell_supplier,
            } => {
                let letters = bus.dead_letters(consumer, filter, *limit).await?;
                let at_least = if letters.len() >= *limit {
                    "at least "
                } else {
                    ""
                };
                writeln!(
                    out,
                    "{consumer}: would {verb} {at_least}{} dead letter(s)",
                    letters.len()
                )?;
                for l in &letters {
                    writeln!(
                        out,
                        "  {}  {}  partner={}  reason: {}",
                        l.doc_id,
                        l.kind,
                        l.partner.as_deref().unwrap_or("-"),
                        l.reason
                    )?;
                    if let Some(coupa) = asker
                        .as_mut()
                        .filter(|_| *consumer == COUPA_INVOICES && *verb == "replay")
                    {
                        writeln!(out, "    Coupa now: {}", coupa.ask(l).await.0)?;
                    }
                    if let Some(n) =
                        notices.filter(|_| *tell_supplier && consumer == &COUPA_INVOICES)
                    {
                        match n.plan(l) {
                            Ok(plan) => writeln!(out, "    supplier would be told by {plan}")?,
                            Err(why) => writeln!(
                                out,
                                "    supplier could not be told, so it would stay a dead letter: {why}"
                            )?,
                        }
                    }
                }
                total += letters.len();
            }
            DlqAction::Replay => {
                let n = match ledger {
                    Some(ledger) => replay_noted(bus, ledger, consumer, filter, out).await?,
                    None => bus.replay(consumer, filter).await?,
                };
                writeln!(out, "{consumer}: replayed {n} dead letter(s)")?;
                if n > 0 {
                    // `--dry-run` reads the configuration file; the service delivers with the
                    // profiles it loaded when it started.
                    writeln!(
                        out,
                        "  note: the running service delivers them with the partner profiles it loaded when it started; if you changed a profile to fix the cause, restart it"
                    )?;
                }
                total += n;
            }
            DlqAction::Purge {
                note,
                tell_supplier,
            } => {
                // Only invoices have a supplier to tell. Each is told first and purged only
                // when that worked, so an invoice whose supplier could not be told stays a
                // dead letter to tell again, or to purge without telling.
                let (selection, notes) = match notices
                    .filter(|_| *tell_supplier && *consumer == COUPA_INVOICES)
                {
                    Some(n) => {
                        let letters = bus.dead_letters(consumer, filter, MAX_TOLD).await?;
                        let told = tell(n, ledger, &letters, note, out).await?;
                        if letters.len() == MAX_TOLD {
                            writeln!(
                                out,
                                "  at most {MAX_TOLD} are told per run; run it again for the rest"
                            )?;
                        }
                        let selection = DeadFilter {
                            doc_ids: Some(told.keys().cloned().collect()),
                            ..filter.clone()
                        };
                        (selection, Some(told))
                    }
                    None => (filter.clone(), None),
                };
                let purged = bus.purge(consumer, &selection).await?;
                writeln!(out, "{consumer}: purged {} dead letter(s)", purged.len())?;
                if *tell_supplier && notes.is_none() && !purged.is_empty() {
                    writeln!(
                        out,
                        "  --tell-supplier applies to invoices from suppliers: these went without a notice"
                    )?;
                }
                let ids: Vec<&str> = purged.iter().flatten().map(String::as_str).collect();
                if let Some(told) = &notes {
                    let gone: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
                    for id in told.keys().filter(|id| !gone.contains(id.as_str())) {
                        writeln!(
                            out,
                            "  {id}: its supplier was told, but it had left the dead letters before the purge (replayed meanwhile?); check it with gateway documents --doc {id}"
                        )?;
                    }
                }
                if let Some(ledger) = ledger
                    && !ids.is_empty()
                {
                    // They are gone from the bus already: a ledger failure is reported, not
                    // fatal, and names what it could not mark.
                    let marked = ids.iter().try_for_each(|id| {
                        let n = notes
                            .as_ref()
                            .and_then(|told| told.get(*id))
                            .unwrap_or(note);
                        ledger.mark_purged(&[id], n).map(|_| ())
                    });
                    if let Err(e) = marked {
                        writeln!(
                            out,
                            "  the ledger could not record it ({e}); these stay `dead` there: {}",
                            ids.join(", ")
                        )?;
                    }
                }
                total += purged.len();
            }
        }
    }
    Ok(total)
}

/// Most dead letters replayed per consumer in one `replay` with the ledger: each is read first
/// (its reason goes into the ledger), and the rest stay for the next run.
pub const MAX_REPLAYED: usize = 10_000;

/// Replays the dead letters of `consumer` that `filter` matches, as read before, with the
/// ledger told first: after a replay, `gateway documents` and `gateway partners` still said
/// `dead` (the old reason and time) until the redelivery ended, and once delivered nothing
/// said the document had died. Each row becomes `published` with when it was replayed and
/// what it had died of, and its history keeps that ([`Ledger::mark_replayed`]); marked
/// before the bus has it again, so the consumer's outcome is the last word. Letters the
/// replay did not take (it failed part way) are marked dead again. Returns how many were
/// replayed.
async fn replay_noted(
    bus: &dyn Broker,
    ledger: &Ledger,
    consumer: &str,
    filter: &DeadFilter,
    out: &mut dyn Write,
) -> anyhow::Result<usize> {
    let letters = bus.dead_letters(consumer, filter, MAX_REPLAYED).await?;
    if letters.is_empty() {
        return Ok(0);
    }
    if let Err(e) = ledger.mark_replayed(&reasons(&letters)) {
        // Replayed all the same: their delivery moves the rows on.
        writeln!(
            out,
            "  the ledger could not record the replay ({e}); their rows say `dead` until the redelivery ends"
        )?;
    }
    let only = DeadFilter {
        doc_ids: Some(letters.iter().map(|l| l.doc_id.clone()).collect()),
        ..filter.clone()
    };
    let replayed = bus.replay(consumer, &only).await;
    if !matches!(replayed, Ok(n) if n == letters.len()) {
        // What is still a dead letter was not replayed (or died again already, which the
        // ledger says alike): `dead` again, with the reason it shows.
        match bus.dead_letters(consumer, &only, MAX_REPLAYED).await {
            Ok(left) => {
                if let Err(e) = ledger.unmark_replayed(&reasons(&left)) {
                    writeln!(
                        out,
                        "  the ledger could not mark dead again those not replayed ({e}); `gateway dlq list` shows them"
                    )?;
                }
            }
            Err(e) => writeln!(
                out,
                "  cannot tell which were not replayed ({e}); the ledger may show them on their way: `gateway dlq list` shows them"
            )?,
        }
    }
    if letters.len() == MAX_REPLAYED {
        writeln!(
            out,
            "  at most {MAX_REPLAYED} are replayed per run; run it again for the rest"
        )?;
    }
    Ok(replayed?)
}

/// Each letter's doc id and the reason it died, as the ledger records them.
fn reasons(letters: &[DeadLetter]) -> Vec<(&str, &str)> {
    letters
        .iter()
        .map(|l| (l.doc_id.as_str(), l.reason.as_str()))
        .collect()
}

/// Why `filter` cannot be used as an operator gave it: a `DOC_ID`, `--doc`, `--partner` or
/// `--reason` that is empty (or only spaces). An operator script whose variable was empty
/// (`--reason "$R"`) passed the "refusing to take every dead letter without --all" guard with a
/// filter that matches everything (every reason contains ""), and purged every dead letter
/// without asking. Refused, naming the option, for every verb.
pub fn check_filter(filter: &DeadFilter) -> Result<(), String> {
    let blank = [
        ("DOC_ID/--doc", filter.doc_id.as_deref()),
        ("--partner", filter.partner.as_deref()),
        ("--reason", filter.reason_contains.as_deref()),
    ]
    .into_iter()
    .filter(|(_, v)| v.is_some_and(|v| v.trim().is_empty()))
    .map(|(name, _)| name)
    .collect::<Vec<_>>();
    if blank.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} {} empty: an empty filter would match every dead letter; give the text or id to \
         match, or leave it out (replay and purge then need --all to take every dead letter)",
        blank.join(", "),
        if blank.len() == 1 { "is" } else { "are" }
    ))
}

/// Why `--partner partner` is refused, or `None` when it names a partner: one in the
/// configuration, in the ledger (a partner the configuration no longer names), or on a dead
/// letter of `consumers` (a Coupa supplier without a profile). A typo such as `nosuchpartner`
/// replayed nothing and said "replayed 0" with success, as if there were nothing to do;
/// `gateway documents --partner` refuses it the same way.
pub async fn unknown_partner(
    bus: &dyn Broker,
    consumers: &[&str],
    config: &crate::config::Config,
    partner: &str,
) -> anyhow::Result<Option<String>> {
    if config.partner(partner).is_some() {
        return Ok(None);
    }
    if config.ledger.path.exists() {
        let ledger = Ledger::open(&config.ledger.path).map_err(|e| {
            anyhow::anyhow!(
                "opening the ledger at {}: {e}",
                config.ledger.path.display()
            )
        })?;
        if crate::documents::known_partner(config, &ledger, partner)? {
            return Ok(None);
        }
    }
    let theirs = DeadFilter {
        partner: Some(partner.to_string()),
        ..DeadFilter::default()
    };
    for consumer in consumers {
        if !bus.dead_letters(consumer, &theirs, 1).await?.is_empty() {
            return Ok(None);
        }
    }
    Ok(Some(format!(
        "no partner {partner:?} in the configuration, the ledger or the dead letters; the \
         configured partners are {} (`gateway partners` lists them with their documents)",
        crate::documents::configured_partners(config)
    )))
}

/// The doc ids an operator named (`DOC_ID`, `--doc`) that match no dead letter of
/// `consumers`, each with why and what to do: none with that id, or one whose `--partner`,
/// `--kind` or `--reason` the filter excludes. Empty when every named id matches, or none was
/// named. A typo must not read as "nothing to do": `gateway dlq` exits 1 on these.
pub async fn unmatched_ids(
    bus: &dyn Broker,
    consumers: &[&str],
    filter: &DeadFilter,
) -> anyhow::Result<Vec<String>> {
    let ids: std::collections::BTreeSet<&String> = filter
        .doc_id
        .iter()
        .chain(filter.doc_ids.iter().flatten())
        .collect();
    let mut unmatched = Vec::new();
    for id in ids {
        let alone = DeadFilter {
            doc_id: Some(id.clone()),
            ..DeadFilter::default()
        };
        let mut holder = None;
        for consumer in consumers {
            if !bus.dead_letters(consumer, &alone, 1).await?.is_empty() {
                holder = Some(*consumer);
                break;
            }
        }
        let Some(consumer) = holder else {
            unmatched.push(format!(
                "no dead letter with id {id} in {}; `gateway dlq list` shows them",
                consumers.join(", ")
            ));
            continue;
        };
        let narrowed = DeadFilter {
            doc_id: Some(id.clone()),
            doc_ids: None,
            ..filter.clone()
        };
        if bus.dead_letters(consumer, &narrowed, 1).await?.is_empty() {
            unmatched.push(format!(
                "dead letter {id} (in {consumer}) does not match the --partner, --kind or \
                 --reason given; `gateway dlq show {id}` shows it"
            ));
        }
    }
    Ok(unmatched)
}

/// Tells the supplier of each invoice in `letters` and says so in `out`. Returns the ledger
/// note (the operator's `note` and where the notice went) of each invoice whose supplier was
/// told, by doc id; the others are named with why, and stay dead letters. An 824's control
/// numbers are recorded against its invoice, so the supplier's 997 for it is matched there
/// (`partner_ack`).
async fn tell(
    notices: &SupplierNotices,
    ledger: Option<&Ledger>,
    letters: &[DeadLetter],
    note: &str,
    out: &mut dyn Write,
) -> anyhow::Result<BTreeMap<String, String>> {
    use futures::StreamExt;
    let mut told = BTreeMap::new();
    let mut answers = std::pin::pin!(notices.tell_all(letters));
    while let Some((letter, answer)) = answers.next().await {
        let id = &letter.doc_id;
        match answer {
            Ok(sent) => {
                if let (Some(body), Some(ledger)) = (&sent.x12, ledger) {
                    crate::partner_acks::remember_sent(
                        ledger,
                        letter.partner.as_deref().unwrap_or_default(),
                        &letter.idempotency_key,
                        body,
                    );
                }
                writeln!(out, "  {id}: supplier told: {}", sent.said)?;
                let said = format!("supplier told: {}", sent.said);
                told.insert(
                    id.clone(),
                    match note {
                        "" => said,
                        n => format!("{n}; {said}"),
                    },
                );
            }
            Err(why) => writeln!(
                out,
                "  {id}: kept in the dead letters, supplier not told: {why} (purge it without --tell-supplier to give it up anyway)"
            )?,
        }
    }
    Ok(told)
}

/// Asks Coupa what replaying each letter would do, until Coupa does not answer: then the
/// rest are not asked, so an operator's question over a hundred letters does not wait out a
/// timeout for each.
struct CoupaAsker<'a> {
    coupa: &'a CoupaInvoiceDelivery,
    unanswered: bool,
}

impl<'a> CoupaAsker<'a> {
    fn new(coupa: &'a CoupaInvoiceDelivery) -> Self {
        CoupaAsker {
            coupa,
            unanswered: false,
        }
    }

    /// [`coupa_now`], or "not asked" once Coupa has not answered.
    async fn ask(&mut self, letter: &DeadLetter) -> (String, Option<serde_json::Value>) {
        if self.unanswered {
            return (
                "not asked: Coupa did not answer for an earlier letter; ask again later".into(),
                None,
            );
        }
        let (said, request, answered) = coupa_now(self.coupa, letter).await;
        self.unanswered = !answered;
        (said, request)
    }
}

/// What to add to "a replay would create it" when Coupa refused this very request before
/// (the letter's reason): the replay sends the same body, so unless what Coupa named was
/// fixed in Coupa, it is refused again (a preview said only "would create", and the replay
/// died again with the same 400).
fn refused_before(reason: &str) -> String {
    const REFUSED: &str = "Coupa refused the invoice (";
    match reason.find(REFUSED) {
        Some(at) => format!(
            "; but Coupa refused this same request before ({}): a replay sends it unchanged, so it is refused again unless that was fixed in Coupa; a fault in the document itself needs the sender to send it corrected",
            reason.get(at..).unwrap_or(reason)
        ),
        None => String::new(),
    }
}

/// What replaying `letter` would do in Coupa now, in words, the request it would send when the
/// invoice resolves to a supplier, and whether Coupa answered.
async fn coupa_now(
    coupa: &CoupaInvoiceDelivery,
    letter: &DeadLetter,
) -> (String, Option<serde_json::Value>, bool) {
    let inv = match gateway_model::from_json(&letter.body) {
        Ok(Document::Invoice(inv)) => inv,
        Ok(other) => {
            return (
                format!(
                    "not an invoice but {}",
                    crate::supplier_notice::a_kind(other.kind())
                ),
                None,
                true,
            );
        }
        Err(e) => {
            return (
                format!("the body is not a canonical invoice: {e}"),
                None,
                true,
            );
        }
    };
    match coupa.preview(&letter.envelope, &inv).await {
        Ok(p) => {
            let supplier = match (&p.supplier.number, &p.supplier.name) {
                (Some(number), _) => format!("{number} (id {})", p.supplier.id),
                (None, Some(name)) => format!("{name} (id {})", p.supplier.id),
                (None, None) => format!("id {}", p.supplier.id),
            };
            let conflict = p
                .existing
                .as_ref()
                .and_then(|f| f.conflict_with(&p.request));
            let said = match (&p.existing, conflict) {
                (Some(_), Some(why)) => format!("a replay would fail again: {why}"),
                (Some(found), None) => format!(
                    "already there as invoice {} ({}) of supplier {supplier}: a replay creates nothing and takes it",
                    found.id,
                    found.status.as_deref().unwrap_or("no status")
                ),
                // The number as the request sends it (trimmed), not as received.
                (None, _) => format!(
                    "not there: a replay would create invoice {} for supplier {supplier}{}",
                    p.request
                        .get("invoice-number")
                        .and_then(serde_json::Value::as_str)
                        .or(inv.invoice_number.as_deref())
                        .unwrap_or("(no number)"),
                    refused_before(&letter.reason)
                ),
            };
            (said, Some(p.request), true)
        }
        Err(e) if e.is_retryable() => (
            format!("cannot tell now ({e}); ask again later"),
            None,
            false,
        ),
        // What to do about it, as the dead letter's reason says.
        Err(adapter_coupa::CoupaError::SupplierNotFound(what)) => (
            format!(
                "a replay would fail again: {}",
                adapter_coupa::error::supplier_not_found(&what, letter.partner.as_deref())
            ),
            None,
            true,
        ),
        Err(e) => (format!("a replay would fail again: {e}"), None, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--reason "$R"` with `R` empty matched every dead letter and purged them all without
    /// asking; a blank `--partner` or `--doc` is the same mistake.
    #[test]
    fn an_empty_filter_is_refused_naming_it() {
        let with = |f: DeadFilter| check_filter(&f);
        assert_eq!(with(DeadFilter::default()), Ok(()));
        assert_eq!(
            with(DeadFilter {
                reason_contains: Some("supplier not found".into()),
                partner: Some("acme".into()),
                ..DeadFilter::default()
            }),
            Ok(())
        );
        let why = with(DeadFilter {
            reason_contains: Some(String::new()),
            ..DeadFilter::default()
        })
        .err()
        .unwrap_or_default();
        assert!(
            why.starts_with("--reason is empty: an empty filter would match every dead letter"),
            "{why}"
        );
        let why = with(DeadFilter {
            doc_id: Some(String::new()),
            partner: Some("  ".into()),
            ..DeadFilter::default()
        })
        .err()
        .unwrap_or_default();
        assert!(
            why.starts_with("DOC_ID/--doc, --partner are empty"),
            "{why}"
        );
    }

    #[test]
    fn a_preview_of_a_request_coupa_refused_before_says_it_will_be_refused_again() {
        let said = refused_before(
            "Coupa refused the invoice (400): {\"errors\":{\"invoice\":[\"Currency can't be blank\"]}}",
        );
        assert!(
            said.contains(
                "Coupa refused this same request before (Coupa refused the invoice (400)"
            ) && said.contains("Currency can't be blank")
                && said.contains("refused again unless that was fixed in Coupa")
                && said.contains("send it corrected"),
            "{said}"
        );
        // After retries, the reason says how many; the refusal is still found.
        assert!(
            refused_before("gave up after 4 attempts: Coupa refused the invoice (422): x")
                .contains("(Coupa refused the invoice (422): x)")
        );
        assert_eq!(
            refused_before("supplier not found in Coupa: number \"NOT-IN-COUPA\""),
            ""
        );
    }
}
