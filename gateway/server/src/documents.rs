//! `gateway documents`: what the ledger knows of every document, for operators. It answers
//! "what happened to invoice X?" and "which POs did suppliers refuse?" from the ledger file the
//! running gateway writes (SQLite in WAL mode, so reading it beside the service is safe).

use std::io::Write;
use std::sync::Arc;

use gateway_core::Broker;

use crate::config::Config;
use crate::ledger::{Entry, Ledger};
use crate::partners::Partners;
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
    let Some(entry) = ledger.entry(doc)? else {
        anyhow::bail!(
            "no document {doc} in the ledger at {}; `gateway documents --status \
             partner_rejected` lists the refused ones with their doc ids",
            config.ledger.path.display()
        );
    };
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

/// Prints `entries` as text (one block per document) or, with `json`, as JSON Lines.
pub fn print(entries: &[Entry], json: bool, out: &mut dyn Write) -> std::io::Result<()> {
    if json {
        for e in entries {
            writeln!(
                out,
                "{}",
                serde_json::to_string(e).map_err(std::io::Error::other)?
            )?;
        }
        return Ok(());
    }
    for e in entries {
        writeln!(
            out,
            "{}  {:<16}  {}  {}  {}  (doc {}, via {})",
            e.updated_at, e.status, e.partner, e.kind, e.number, e.doc_id, e.adapter
        )?;
        if !e.detail.is_empty() {
            writeln!(out, "    {}", e.detail)?;
        }
        if !e.partner_ack.is_empty() {
            writeln!(out, "    partner said: {}", e.partner_ack)?;
        }
        for note in e.notes.lines() {
            writeln!(out, "    noted: {note}")?;
        }
    }
    Ok(())
}
