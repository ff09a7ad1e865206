//! The envelope: transport facts that travel beside a document on the bus (never inside it).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use gateway_model::{DocumentKind, Text};
use serde::{Deserialize, Serialize};

use crate::codec::SourceMeta;

/// Whether a document is coming in from a partner or going out to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// Transport facts about one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Our id for this document, unique, assigned on receipt.
    pub doc_id: String,
    /// Same for every delivery of the same business document from the same sender: redelivery
    /// and replay use it so nothing is created twice downstream.
    pub idempotency_key: String,
    pub direction: Direction,
    pub kind: DocumentKind,
    /// Partner profile id, when the sender or receiver is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
    /// The adapter that received it (`cxml-http`, `x12-file`, ...).
    pub adapter: String,
    pub received_at: DateTime<Utc>,
    #[serde(default)]
    pub source: SourceMetaWire,
    /// Where the raw bytes were kept, when they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_ref: Option<String>,
    /// Files sent with the document (its PDF copy), in the attachment store, to be attached
    /// where it is delivered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::AttachmentRef>,
    /// Keys the same document was known by in the ledger under an earlier release of the
    /// gateway (from [`EARLIER_KEY`]), looked up beside [`Envelope::idempotency_key`] when it
    /// is claimed, so a document received before a key changed form is still a duplicate
    /// when it is sent again. Only the claim needs them: they do not travel on the bus.
    #[serde(skip)]
    pub earlier_keys: Vec<String>,
}

/// The [`SourceMeta::extra`] entry in which a decoder names the idempotency key a document
/// had under an earlier release of the gateway, when that differs from the key it has now
/// (a mailed cXML or X12 document was keyed by its message and attachment, not by its own
/// sender and payloadID or control numbers). [`Envelope::inbound`] moves it to
/// [`Envelope::earlier_keys`]; it is not kept among the envelope's facts.
pub const EARLIER_KEY: &str = "earlier_idempotency_key";

/// A document's idempotency key from its sender and its key in the source: the sender
/// (`domain:identity`, `qualifier:id`), else the partner, else `-`, then the source key.
/// The same document gets the same key whatever channel brought it, as long as the channel
/// hands the pipeline the document's own sender and key (see [`Envelope::inbound`]).
pub fn idempotency_key(sender: Option<&str>, partner: Option<&str>, source_key: &str) -> String {
    format!("{}:{source_key}", sender.or(partner).unwrap_or("-"))
}

/// [`SourceMeta`] as it travels in an envelope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceMetaWire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

impl From<SourceMeta> for SourceMetaWire {
    fn from(m: SourceMeta) -> Self {
        SourceMetaWire {
            sender: m.sender.map(Text::into_string),
            receiver: m.receiver.map(Text::into_string),
            source_key: m.source_key.map(Text::into_string),
            location: m.location.map(Text::into_string),
            extra: m
                .extra
                .into_iter()
                .map(|(k, v)| (k.into_string(), v.into_string()))
                .collect(),
        }
    }
}

impl Envelope {
    /// A new envelope for a document just received. The idempotency key is
    /// `<sender>:<source key>` ([`idempotency_key`]) when the source has a key, else the doc
    /// id. It is made of the document's own identity, never of the channel it came by: a
    /// cXML's From and payloadID, an X12 set's ISA sender and ISA13/GS06/ST02, whether it was
    /// posted, dropped as a file or mailed (the mail adapter hands over the attachment's own
    /// sender and key), so the same document through another channel is a duplicate. Only a
    /// key no document carries (a CSV file's rows, scoped by the file) is the channel's.
    pub fn inbound(
        kind: DocumentKind,
        adapter: impl Into<String>,
        partner: Option<String>,
        mut meta: SourceMeta,
    ) -> Self {
        let doc_id = uuid::Uuid::new_v4().to_string();
        let idempotency_key = match &meta.source_key {
            Some(key) => idempotency_key(meta.sender.as_deref(), partner.as_deref(), key),
            None => doc_id.clone(),
        };
        let earlier_keys = meta
            .extra
            .remove(EARLIER_KEY)
            .map(Text::into_string)
            .filter(|k| *k != idempotency_key)
            .into_iter()
            .collect();
        Envelope {
            doc_id,
            idempotency_key,
            direction: Direction::In,
            kind,
            partner,
            adapter: adapter.into(),
            received_at: Utc::now(),
            source: meta.into(),
            raw_ref: None,
            attachments: Vec::new(),
            earlier_keys,
        }
    }

    /// Routing key on the topic exchange: `<direction>.<kind>.<partner>`.
    pub fn routing_key(&self) -> String {
        format!(
            "{}.{}.{}",
            self.direction.as_str(),
            self.kind.as_str(),
            self.partner.as_deref().unwrap_or("unknown")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(sender: Option<&str>, key: Option<&str>) -> SourceMeta {
        SourceMeta {
            sender: sender.map(Text::from),
            source_key: key.map(Text::from),
            ..SourceMeta::default()
        }
    }

    #[test]
    fn the_key_is_the_documents_own_sender_and_key_else_the_partner_else_the_doc_id() {
        let e = Envelope::inbound(
            DocumentKind::Invoice,
            "cxml",
            Some("acme".into()),
            meta(Some("DUNS:123456789"), Some("p1@acme")),
        );
        assert_eq!(e.idempotency_key, "DUNS:123456789:p1@acme");
        let e = Envelope::inbound(
            DocumentKind::Invoice,
            "file-drop",
            Some("acme".into()),
            meta(None, Some("rows 2-3")),
        );
        assert_eq!(e.idempotency_key, "acme:rows 2-3");
        let e = Envelope::inbound(DocumentKind::Invoice, "rest", None, meta(None, None));
        assert_eq!(e.idempotency_key, e.doc_id);
        assert!(e.earlier_keys.is_empty());
    }

    #[test]
    fn an_earlier_key_is_kept_for_the_claim_and_does_not_travel() {
        let mut m = meta(Some("DUNS:123456789"), Some("p1@acme"));
        m.extra.insert(
            EARLIER_KEY.into(),
            "billing@acme.example:<m1@acme>/abc/p1@acme".into(),
        );
        m.extra.insert("timestamp".into(), "2026-01-01".into());
        let e = Envelope::inbound(DocumentKind::Invoice, "email", Some("acme".into()), m);
        assert_eq!(e.idempotency_key, "DUNS:123456789:p1@acme");
        assert_eq!(
            e.earlier_keys,
            vec!["billing@acme.example:<m1@acme>/abc/p1@acme".to_string()]
        );
        assert!(!e.source.extra.contains_key(EARLIER_KEY));
        assert!(e.source.extra.contains_key("timestamp"));
        let wire = serde_json::to_string(&e).unwrap_or_default();
        assert!(!wire.contains("billing@acme.example"), "{wire}");
        // the same key as now is no earlier key
        let mut m = meta(Some("DUNS:1"), Some("p2"));
        m.extra.insert(EARLIER_KEY.into(), "DUNS:1:p2".into());
        let e = Envelope::inbound(DocumentKind::Invoice, "email", None, m);
        assert!(e.earlier_keys.is_empty());
    }
}
