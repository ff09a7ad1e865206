//! `gateway documents`: what the ledger knows of every document, for operators. It answers
//! "what happened to invoice X?" and "which POs did suppliers refuse?" from the ledger file the
//! running gateway writes (SQLite in WAL mode, so reading it beside the service is safe).

use std::io::Write;
use std::sync::Arc;

use gateway_core::{AttachmentStore, Broker, PartnerProfile};

use crate::config::Config;
use crate::ledger::{Entry, Ledger, LedgerError, PartnerSummary, Status, recorded_sha256};
use crate::partners::Partners;
use crate::po_keys::PoKey;
use crate::po_poller::{PoPoller, Resent};

/// `gateway resend`: the PO with doc id or key `doc` read from Coupa again and queued for its
/// supplier under a new key ([`PoPoller::resend`] says when and why); the running gateway
/// delivers it.
pub async fn resend(
    config: &Config,
    ledger: Arc<Ledger>,
    bus: Arc<dyn Broker>,
    doc: &str,
) -> anyhow::Result<Resent> {
    let entry = resendable_entry(config, &ledger, doc)?;
    let coupa = crate::coupa_link::parts(config)?;
    PoPoller::new(
        coupa.po_source,
        Partners::new(config.partners.clone()),
        ledger,
        bus,
    )
    .with_coupa_suppliers(coupa.suppliers)
    .resend(&entry)
    .await
}

/// The ledger entry of `doc` when it is a purchase order, which `gateway resend` may send
/// again; else what the operator can do instead. Checked before the bus is opened.
pub fn resendable_entry(config: &Config, ledger: &Ledger, doc: &str) -> anyhow::Result<Entry> {
    let Some(entry) = ledger.entry(doc)? else {
        anyhow::bail!(
            "no document {doc} in the ledger at {}; `gateway documents --status \
             partner_rejected` lists the refused ones with their doc ids",
            config.ledger.path.display()
        );
    };
    if entry.kind != gateway_model::DocumentKind::PurchaseOrder.as_str() {
        let what = match entry.kind.as_str() {
            "invoice" => "an invoice",
            "unknown" => "an input that could not be read as a document (kind unknown)",
            _ => "not a purchase order",
        };
        anyhow::bail!(
            "{doc} is {what} from {}, not a purchase order sent to a supplier; only those are \
             resent (a dead invoice is replayed with `gateway dlq replay {}`, one refused on \
             arrival is sent again by its partner)",
            entry.adapter,
            entry.doc_id
        );
    }
    Ok(entry)
}

/// Whether `partner` may be asked about: a partner of the configuration, or one the ledger
/// holds documents for (a partner since removed from the configuration). Else why not, naming
/// the configured ones, so a typo is not answered "0 document(s)".
pub fn check_partner(config: &Config, ledger: &Ledger, partner: &str) -> anyhow::Result<()> {
    if known_partner(config, ledger, partner)? {
        return Ok(());
    }
    anyhow::bail!(
        "no partner {partner:?} in the configuration nor in the ledger; the configured partners \
         are {} (`gateway partners` lists them with their documents)",
        configured_partners(config)
    )
}

/// Whether `partner` is one of the configuration's or one the ledger holds documents for:
/// what an operator's `--partner` may name besides a typo.
pub fn known_partner(config: &Config, ledger: &Ledger, partner: &str) -> anyhow::Result<bool> {
    if config.partner(partner).is_some() {
        return Ok(true);
    }
    let known = ledger.search(&crate::ledger::DocumentFilter {
        partner: Some(partner),
        limit: 1,
        ..crate::ledger::DocumentFilter::default()
    })?;
    Ok(!known.is_empty())
}

/// The configuration's partner ids for a message (`acme, globex`, or `none`).
pub fn configured_partners(config: &Config) -> String {
    let ids: Vec<&str> = config.partners.iter().map(|p| p.id.as_str()).collect();
    if ids.is_empty() {
        "none".to_string()
    } else {
        ids.join(", ")
    }
}

/// One partner's line of `gateway partners`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PartnerRow {
    #[serde(flatten)]
    pub summary: PartnerSummary,
    /// Documents sent to it over X12 that no 997/999 answered within `ack_within_hours`.
    pub overdue_acks: u64,
    pub ack_within_hours: u32,
    /// What the operator may want to change in the partner's profile, in words.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
}

/// Every partner the configuration or the ledger knows, with its documents by fate and its
/// overdue acknowledgments: the first place to look when a partner calls.
pub fn partner_rows(ledger: &Ledger, partners: &Partners) -> Result<Vec<PartnerRow>, LedgerError> {
    let mut summaries = ledger.partner_summaries()?;
    for p in partners.all() {
        if !summaries.iter().any(|s| s.partner == p.id) {
            summaries.push(PartnerSummary {
                partner: p.id.clone(),
                ..PartnerSummary::default()
            });
        }
    }
    summaries.sort_by(|a, b| a.partner.cmp(&b.partner));
    let mut rows = Vec::with_capacity(summaries.len());
    for summary in summaries {
        let hours = crate::ack_watch::ack_within_hours(partners, &summary.partner);
        let overdue_acks = if hours == 0 {
            0
        } else {
            ledger
                .overdue_acknowledgments(&summary.partner, hours)?
                .documents
        };
        let hints = charset_hint(partners.by_id(&summary.partner), &summary)
            .into_iter()
            .chain(habit_hints(&summary))
            .chain(waiting_hint(&summary))
            .collect();
        rows.push(PartnerRow {
            summary,
            overdue_acks,
            ack_within_hours: hours,
            hints,
        });
    }
    Ok(rows)
}

/// A partner some of whose documents had text read as Windows-1252, and whose profile does
/// not say it writes that set: declaring it makes reading exact (a Windows-1252 byte pair that
/// is also UTF-8 is not misread), stops the notes, and writes what it is sent in that set.
fn charset_hint(profile: Option<&PartnerProfile>, summary: &PartnerSummary) -> Option<String> {
    use gateway_model::charset::Charset;
    let profile = profile?;
    let declared = |c: Option<Charset>| c == Some(Charset::Windows1252);
    if summary.read_as_windows_1252 == 0
        || declared(profile.x12.as_ref().and_then(|x| x.charset))
        || declared(profile.csv.as_ref().and_then(|c| c.charset))
    {
        return None;
    }
    Some(format!(
        "{} document(s) had text that is not UTF-8, read as Windows-1252; if its system writes Windows-1252, set charset = \"windows-1252\" in its [partners.x12] or [partners.csv] (then it is read exactly, the notes stop, and what it is sent is written in that set)",
        summary.read_as_windows_1252
    ))
}

/// What a partner's documents show of its system's habits that its people should fix: a
/// counter that started again, test data sent to a production gateway.
fn habit_hints(summary: &PartnerSummary) -> Vec<String> {
    let mut hints = Vec::new();
    if summary.reused_keys > 0 {
        hints.push(format!(
            "{} document(s) came under control numbers or a payloadID it had used for another document (accepted as new, and noted); its counter may have started again: ask it to keep ISA13/GS06 and payloadIDs unique, or a true resend cannot be told from a new document",
            summary.reused_keys
        ));
    }
    if summary.interrupted > 0 {
        hints.push(format!(
            "{} document(s) were interrupted by a gateway stop before it was told they were accepted (gateway documents --partner {} --status interrupted): ask it to send them again if it has not",
            summary.interrupted, summary.partner
        ));
    }
    if summary.acks_not_mailed > 0 {
        hints.push(format!(
            "{} document(s) came by mail and were taken, but the 997/999/TA1 they are owed was never mailed (the relay refused it after every retry; gateway documents --partner {}, their notes say where the acknowledgment is kept and how to send it again)",
            summary.acks_not_mailed, summary.partner
        ));
    }
    if summary.test_documents > 0 {
        hints.push(format!(
            "{} test document(s) (ISA15 T, deploymentMode=\"test\") were kept back, not delivered; ask it to send production data, or set [coupa] test_instance = true if this gateway's Coupa is a test instance",
            summary.test_documents
        ));
    }
    hints
}

/// POs that wait for the operator: nothing sends them until someone acts, so the table's count
/// comes with where to read why and what sends each.
fn waiting_hint(summary: &PartnerSummary) -> Option<String> {
    (summary.awaiting_operator > 0).then(|| {
        format!(
            "{} purchase order(s) wait for the operator, not sent: left to Coupa by its Coupa supplier record (po-method prompt, ...) or by a profile without [partners.outbound] (gateway documents --partner {} --status awaiting_operator says why and what sends each)",
            summary.awaiting_operator, summary.partner
        )
    })
}

/// Prints `rows` as a table or, with `json`, as JSON Lines.
pub fn print_partners(rows: &[PartnerRow], json: bool, out: &mut dyn Write) -> std::io::Result<()> {
    if json {
        return print_json_lines(rows, out);
    }
    writeln!(
        out,
        "{:<16} {:>9} {:>9} {:>7} {:>5} {:>6} {:>8} {:>16} {:>17} {:>16} {:>6} {:>11}  last activity",
        "partner",
        "documents",
        "delivered",
        "on way",
        "dead",
        "purged",
        "rejected",
        "partner_rejected",
        "awaiting_operator",
        "cancelled_unsent",
        "noted",
        "overdue 997"
    )?;
    for r in rows {
        let s = &r.summary;
        let last = if s.last_activity.is_empty() {
            "never"
        } else {
            &s.last_activity
        };
        writeln!(
            out,
            "{:<16} {:>9} {:>9} {:>7} {:>5} {:>6} {:>8} {:>16} {:>17} {:>16} {:>6} {:>11}  {last}",
            s.partner,
            s.documents,
            s.delivered,
            s.on_the_way,
            s.dead,
            s.purged,
            s.rejected,
            s.partner_rejected,
            s.awaiting_operator,
            s.cancelled_unsent,
            s.noted,
            r.overdue_acks
        )?;
    }
    for r in rows {
        for hint in &r.hints {
            writeln!(out, "hint: {}: {hint}", r.summary.partner)?;
        }
    }
    Ok(())
}

/// One JSON object per line, for scripts (`--json`).
fn print_json_lines<T: serde::Serialize>(items: &[T], out: &mut dyn Write) -> std::io::Result<()> {
    for item in items {
        writeln!(
            out,
            "{}",
            serde_json::to_string(item).map_err(std::io::Error::other)?
        )?;
    }
    Ok(())
}

/// The files a document names that `store` no longer holds. Retention removes a done
/// document's files after `attachment_days`; the ledger keeps naming them (it is the record of
/// what was received), so the listing says which are gone rather than send an operator looking.
fn files_not_stored<'e>(e: &'e Entry, store: &AttachmentStore) -> Vec<&'e str> {
    e.attachments
        .lines()
        .filter(|line| recorded_sha256(line).is_some_and(|sha| !store.holds(&sha)))
        .collect()
}

/// Why a file a document names is not in the store, and what that means for the operator.
fn not_stored_reason(status: &str) -> &'static str {
    if Status::parse(status).is_done() {
        "removed from the attachment store by retention after the document was done"
    } else {
        "MISSING from the attachment store: its delivery stops as a dead letter that says so; resend the document with its file"
    }
}

/// The first line of `gateway documents` in text: what each line shows, and the order.
pub const TEXT_HEADER: &str = "received (last received first)  status  partner  kind  number  [a PO's version: order, change or cancellation]  (doc, channel, last change)";

/// Prints `entries` as text (one block per document) or, with `json`, as JSON Lines. A
/// purchase order sent to a supplier says which version it is and whether it is the order, a
/// change or the cancellation (`version 2: change`; in JSON `purchase_order`,
/// [`PoKey::describe`]): its rows share one number and, once sent, one status. With `store`,
/// files it no longer holds are marked (text) or listed in `attachments_not_stored` (JSON).
pub fn print(
    entries: &[Entry],
    json: bool,
    store: Option<&AttachmentStore>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if json {
        for e in entries {
            let mut value = serde_json::to_value(e).map_err(std::io::Error::other)?;
            if let Some(object) = value.as_object_mut() {
                if let Some(po) = PoKey::describe(&e.idempotency_key) {
                    object.insert("purchase_order".into(), serde_json::json!(po));
                }
                let gone = store.map(|s| files_not_stored(e, s)).unwrap_or_default();
                if !gone.is_empty() {
                    object.insert("attachments_not_stored".into(), serde_json::json!(gone));
                }
            }
            writeln!(out, "{value}")?;
        }
        return Ok(());
    }
    if !entries.is_empty() {
        writeln!(out, "{TEXT_HEADER}")?;
    }
    for e in entries {
        // Listed by when each document was received (the ledger's order), so that is the time
        // each line starts with; its last change is at the end.
        let po = PoKey::describe(&e.idempotency_key)
            .map(|v| format!("{v}  "))
            .unwrap_or_default();
        writeln!(
            out,
            "{}  {:<16}  {}  {}  {}  {po}(doc {}, via {}, last change {})",
            e.received_at, e.status, e.partner, e.kind, e.number, e.doc_id, e.adapter, e.updated_at
        )?;
        if !e.source.is_empty() {
            writeln!(out, "    from: {}", e.source)?;
        }
        if !e.detail.is_empty() {
            writeln!(out, "    {}", e.detail)?;
        }
        // What the status no longer says: it died, and an operator replayed it.
        for event in e.history.lines() {
            writeln!(out, "    earlier: {event}")?;
        }
        if !e.partner_ack.is_empty() {
            writeln!(out, "    partner said: {}", e.partner_ack)?;
        }
        for note in e.notes.lines() {
            writeln!(out, "    noted: {note}")?;
        }
        let gone = store.map(|s| files_not_stored(e, s)).unwrap_or_default();
        for file in e.attachments.lines() {
            if gone.contains(&file) {
                writeln!(out, "    file: {file}: {}", not_stored_reason(&e.status))?;
            } else {
                writeln!(out, "    file: {file}")?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reused_keys_and_test_data_are_hinted_with_their_counts() {
        let quiet = PartnerSummary {
            partner: "acme".into(),
            documents: 9,
            ..PartnerSummary::default()
        };
        assert!(habit_hints(&quiet).is_empty());
        let hints = habit_hints(&PartnerSummary {
            reused_keys: 2,
            test_documents: 3,
            ..quiet
        });
        assert_eq!(hints.len(), 2, "{hints:?}");
        assert!(hints[0].starts_with("2 document(s) came under control numbers"));
        assert!(hints[1].starts_with("3 test document(s)"));
    }

    #[test]
    fn the_charset_hint_is_for_partners_that_have_not_declared_theirs() {
        let summary = |n| PartnerSummary {
            partner: "acme".into(),
            read_as_windows_1252: n,
            ..PartnerSummary::default()
        };
        let profile = |section: &str| {
            PartnerProfile::from_toml(&format!("id = \"acme\"\n{section}"), "acme.toml")
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let silent = profile("");
        let hint = charset_hint(Some(&silent), &summary(3)).unwrap_or_default();
        assert!(hint.starts_with("3 document(s) had text"), "{hint}");
        assert_eq!(charset_hint(Some(&silent), &summary(0)), None);
        assert_eq!(
            charset_hint(None, &summary(3)),
            None,
            "no profile to change"
        );
        for declared in [
            "[x12]\ncharset = \"windows-1252\"\n",
            "[csv]\ncharset = \"windows-1252\"\n",
        ] {
            assert_eq!(charset_hint(Some(&profile(declared)), &summary(3)), None);
        }
        let utf8 = profile("[x12]\ncharset = \"utf-8\"\n");
        assert!(charset_hint(Some(&utf8), &summary(3)).is_some());
    }
}
