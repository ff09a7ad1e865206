//! What a message carries in its AMQP headers: the whole envelope (so a dead letter can be
//! replayed without the ledger), a few flat copies for people reading the management UI, and
//! the delivery history (attempts, first and last error).

use gateway_core::{Envelope, ReplayHistory};
use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable, ShortString};

pub const ENVELOPE: &str = "x-gw-envelope";
pub const DOC_ID: &str = "x-gw-doc-id";
pub const IDEMPOTENCY_KEY: &str = "x-gw-idempotency-key";
pub const PARTNER: &str = "x-gw-partner";
pub const KIND: &str = "x-gw-kind";
/// Deliveries completed before this copy was published (0 for a fresh message).
pub const ATTEMPTS: &str = "x-gw-attempts";
pub const FIRST_ERROR: &str = "x-gw-first-error";
pub const LAST_ERROR: &str = "x-gw-last-error";
pub const DEAD_AT: &str = "x-gw-dead-at";
/// How often an operator replayed the message ([`ReplayHistory`]).
pub const REPLAYS: &str = "x-gw-replays";
/// Deliveries before the last replay.
pub const EARLIER_ATTEMPTS: &str = "x-gw-earlier-attempts";
/// Set by quorum queues on redelivery (consumer crashed, channel closed before the ack).
pub const DELIVERY_COUNT: &str = "x-delivery-count";
/// Set by the broker when it dead-lettered the message itself (delivery limit).
pub const DEATH: &str = "x-death";

/// The history that travels with a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    pub attempts: u32,
    pub first_error: Option<String>,
    pub last_error: Option<String>,
    pub dead_at: Option<i64>,
    pub replayed: ReplayHistory,
}

fn text(s: &str) -> AMQPValue {
    AMQPValue::LongString(s.into())
}

fn key(k: &str) -> ShortString {
    // Header names are the constants above, all far below the 255-byte limit.
    ShortString::try_new(k).unwrap_or_default()
}

/// Properties for a persistent message carrying `envelope` and `history`.
pub fn properties(envelope: &Envelope, history: &History) -> BasicProperties {
    let mut h = FieldTable::default();
    let json = serde_json::to_string(envelope).unwrap_or_default();
    h.insert(key(ENVELOPE), text(&json));
    h.insert(key(DOC_ID), text(&envelope.doc_id));
    h.insert(key(IDEMPOTENCY_KEY), text(&envelope.idempotency_key));
    if let Some(p) = &envelope.partner {
        h.insert(key(PARTNER), text(p));
    }
    h.insert(key(KIND), text(envelope.kind.as_str()));
    h.insert(
        key(ATTEMPTS),
        AMQPValue::LongLongInt(i64::from(history.attempts)),
    );
    if let Some(e) = &history.first_error {
        h.insert(key(FIRST_ERROR), text(e));
    }
    if let Some(e) = &history.last_error {
        h.insert(key(LAST_ERROR), text(e));
    }
    if let Some(t) = history.dead_at {
        h.insert(key(DEAD_AT), AMQPValue::LongLongInt(t));
    }
    if history.replayed.replays > 0 {
        for (name, n) in [
            (REPLAYS, history.replayed.replays),
            (EARLIER_ATTEMPTS, history.replayed.earlier_attempts),
        ] {
            h.insert(key(name), AMQPValue::LongLongInt(i64::from(n)));
        }
    }
    let mut props = BasicProperties::default()
        .with_delivery_mode(2)
        .with_content_type(key("application/json"))
        .with_headers(h);
    if let Ok(id) = ShortString::try_new(envelope.doc_id.clone()) {
        props = props.with_message_id(id);
    }
    props
}

fn get<'a>(props: &'a BasicProperties, name: &str) -> Option<&'a AMQPValue> {
    props.headers().as_ref()?.inner().get(name)
}

fn as_string(v: &AMQPValue) -> Option<String> {
    match v {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_string()),
        _ => None,
    }
}

fn as_i64(v: &AMQPValue) -> Option<i64> {
    match *v {
        AMQPValue::ShortShortInt(n) => Some(i64::from(n)),
        AMQPValue::ShortShortUInt(n) => Some(i64::from(n)),
        AMQPValue::ShortInt(n) => Some(i64::from(n)),
        AMQPValue::ShortUInt(n) => Some(i64::from(n)),
        AMQPValue::LongInt(n) => Some(i64::from(n)),
        AMQPValue::LongUInt(n) => Some(i64::from(n)),
        AMQPValue::LongLongInt(n) => Some(n),
        _ => None,
    }
}

/// The envelope a message carries, or why it has none (a message not published by us).
pub fn envelope(props: &BasicProperties) -> Result<Envelope, String> {
    let json = get(props, ENVELOPE)
        .and_then(as_string)
        .ok_or_else(|| format!("message has no {ENVELOPE} header: not published by the gateway"))?;
    serde_json::from_str(&json).map_err(|e| format!("{ENVELOPE} header is not an envelope: {e}"))
}

pub fn history(props: &BasicProperties) -> History {
    let count = |name| {
        get(props, name)
            .and_then(as_i64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0)
    };
    History {
        attempts: count(ATTEMPTS),
        first_error: get(props, FIRST_ERROR).and_then(as_string),
        last_error: get(props, LAST_ERROR).and_then(as_string),
        dead_at: get(props, DEAD_AT).and_then(as_i64),
        replayed: ReplayHistory {
            replays: count(REPLAYS),
            earlier_attempts: count(EARLIER_ATTEMPTS),
        },
    }
}

/// Redeliveries of this copy by the broker (quorum queues count them).
pub fn redeliveries(props: &BasicProperties) -> u32 {
    get(props, DELIVERY_COUNT)
        .and_then(as_i64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0)
}

/// Whether the broker dead-lettered this message itself (delivery limit reached).
pub fn died_in_broker(props: &BasicProperties) -> bool {
    get(props, DEATH).is_some() && get(props, DEAD_AT).is_none()
}
