//! `gateway documents`: what the ledger knows of every document, for operators. It answers
//! "what happened to invoice X?" and "which POs did suppliers refuse?" from the ledger file the
//! running gateway writes (SQLite in WAL mode, so reading it beside the service is safe).

use std::io::Write;

use crate::ledger::Entry;

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
    }
    Ok(())
}
