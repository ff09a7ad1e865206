//! Where documents for a partner go (owned by the server wiring).

use serde::Deserialize;

/// The channel a partner receives purchase orders on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum OutboundChannel {
    /// cXML OrderRequest POSTed to the partner's URL.
    Cxml { url: String },
    /// X12 850 written to a folder (the partner's SFTP `Outgoing`).
    X12File { dir: String },
    /// CSV written to a folder.
    CsvFile { dir: String },
    /// Rendered document attached to an e-mail.
    Email { to: String },
}

impl OutboundChannel {
    /// Every channel's `type`, as a profile names it: what a message asking for a
    /// `[partners.outbound]` lists, so none is left out of it.
    pub const TYPES: &'static str = "cxml, x12_file, csv_file or email";
}
