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
    /// `<adapter family>:<sender>:<source key>` when the source has a key, else the doc id.
    pub fn inbound(
        kind: DocumentKind,
        adapter: impl Into<String>,
        partner: Option<String>,
        meta: SourceMeta,
    ) -> Self {
        let doc_id = uuid::Uuid::new_v4().to_string();
        let idempotency_key = match &meta.source_key {
            Some(key) => format!(
                "{}:{}",
                meta.sender.as_deref().or(partner.as_deref()).unwrap_or("-"),
                key
            ),
            None => doc_id.clone(),
        };
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
