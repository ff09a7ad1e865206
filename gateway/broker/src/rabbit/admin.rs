//! Operator verbs on dead letters. RabbitMQ has no "browse": a dead-letter queue is read by
//! fetching its messages on a private channel without acking them; closing the channel returns
//! every message not explicitly acked to the queue (classic queues keep their order).

use gateway_core::{BusError, DeadFilter, DeadLetter, Message, QueueDepth};
use lapin::options::{BasicAckOptions, BasicGetOptions, QueueDeclareOptions};
use lapin::types::{FieldTable, ShortString};
use lapin::{Channel, message::Delivery};

use super::headers::{self, History};
use super::{RabbitBroker, publish_confirmed, short, unavailable};
use crate::names;

fn known(broker: &RabbitBroker, consumer: &str) -> Result<(), BusError> {
    broker
        .topology
        .consumer(consumer)
        .map(|_| ())
        .ok_or_else(|| BusError::UnknownConsumer(consumer.to_string()))
}

async fn message_count(ch: &Channel, queue: &str) -> Result<u32, BusError> {
    let q = ch
        .queue_declare(
            short(queue)?,
            QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(|e| unavailable(&format!("queue {queue}"), e))?;
    Ok(q.message_count())
}

fn letter(consumer: &str, delivery: &Delivery, limit: u32) -> Option<DeadLetter> {
    let envelope = headers::envelope(&delivery.properties).ok()?;
    let h = headers::history(&delivery.properties);
    let reason = if headers::died_in_broker(&delivery.properties) {
        let last = h
            .last_error
            .as_deref()
            .map(|e| format!("; last error: {e}"))
            .unwrap_or_default();
        format!("{}{last}", crate::settle::delivery_limit_reason(limit))
    } else {
        h.last_error.clone().unwrap_or_default()
    };
    Some(DeadLetter {
        consumer: consumer.to_string(),
        doc_id: envelope.doc_id.clone(),
        idempotency_key: envelope.idempotency_key.clone(),
        partner: envelope.partner.clone(),
        kind: envelope.kind,
        attempts: h.attempts,
        reason,
        first_error: h.first_error,
        dead_at: h.dead_at.and_then(chrono::DateTime::from_timestamp_millis),
        envelope,
        body: delivery.data.clone(),
    })
}

/// Fetches the dead letters of `consumer` one by one (unacked) and calls `visit` with each;
/// `visit` returns whether to ack it. The channel is closed at the end, returning the rest.
/// Returns how many were acked.
async fn walk<F, Fut>(
    broker: &RabbitBroker,
    consumer: &str,
    mut visit: F,
) -> Result<usize, BusError>
where
    F: FnMut(Delivery, Option<DeadLetter>) -> Fut,
    Fut: std::future::Future<Output = Result<bool, BusError>>,
{
    known(broker, consumer)?;
    let dead = names::dead_queue(&broker.topology.namespace, consumer);
    let conn = broker.connection().await?;
    let ch = conn
        .create_channel()
        .await
        .map_err(|e| unavailable("cannot open a channel", e))?;
    let total = message_count(&ch, &dead).await?;
    let limit = broker.topology.delivery_limit;
    let mut result = Ok(());
    let mut acked = 0usize;
    for _ in 0..total {
        let got = ch
            .basic_get(short(&dead)?, BasicGetOptions { no_ack: false })
            .await
            .map_err(|e| unavailable("basic.get", e));
        let msg = match got {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        let delivery = msg.delivery;
        let dl = letter(consumer, &delivery, limit);
        let tag_holder = delivery.acker.clone();
        match visit(delivery, dl).await {
            Ok(true) => {
                if let Err(e) = tag_holder.ack(BasicAckOptions::default()).await {
                    result = Err(unavailable("ack", e));
                    break;
                }
                acked += 1;
            }
            Ok(false) => {}
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    let _ = ch.close(200, ShortString::from("done")).await;
    result.map(|()| acked)
}

pub async fn dead_letters(
    broker: &RabbitBroker,
    consumer: &str,
    filter: &DeadFilter,
    limit: usize,
) -> Result<Vec<DeadLetter>, BusError> {
    let mut out = Vec::new();
    walk(broker, consumer, |_, dl| {
        if let Some(dl) = dl
            && out.len() < limit
            && filter.matches(&dl.envelope, &dl.reason)
        {
            out.push(dl);
        }
        async { Ok(false) }
    })
    .await?;
    Ok(out)
}

pub async fn replay(
    broker: &RabbitBroker,
    consumer: &str,
    filter: &DeadFilter,
) -> Result<usize, BusError> {
    let publisher = broker.confirm_channel().await?;
    let work = short(&names::work_queue(&broker.topology.namespace, consumer))?;
    let replayed = walk(broker, consumer, |_, dl| {
        let selected = dl.filter(|dl| filter.matches(&dl.envelope, &dl.reason));
        let publisher = publisher.clone();
        let work = work.clone();
        async move {
            let Some(dl) = selected else {
                return Ok(false);
            };
            // A fresh attempt count; the first error stays for the record.
            let history = History {
                attempts: 0,
                first_error: dl.first_error.clone(),
                last_error: None,
                dead_at: None,
            };
            let message = Message {
                envelope: dl.envelope,
                body: dl.body,
            };
            let props = headers::properties(&message.envelope, &history);
            publish_confirmed(
                &publisher,
                &ShortString::from(""),
                vec![(work, props, &message)],
            )
            .await?;
            Ok(true)
        }
    })
    .await?;
    let _ = publisher.close(200, ShortString::from("done")).await;
    Ok(replayed)
}

/// Deletes the matching dead letters; their doc ids, in the order taken. A letter whose
/// envelope cannot be read matches only the empty filter (`--all`).
pub async fn purge(
    broker: &RabbitBroker,
    consumer: &str,
    filter: &DeadFilter,
) -> Result<Vec<Option<String>>, BusError> {
    let mut taken = Vec::new();
    // The walk acknowledges each hit after its visit and stops at the first failure, which
    // it returns: when it succeeds, every letter in `taken` was deleted.
    walk(broker, consumer, |_, dl| {
        let hit = dl
            .as_ref()
            .is_some_and(|dl| filter.matches(&dl.envelope, &dl.reason))
            || (*filter == DeadFilter::default());
        if hit {
            taken.push(dl.map(|dl| dl.doc_id));
        }
        async move { Ok(hit) }
    })
    .await?;
    Ok(taken)
}

pub async fn depth(broker: &RabbitBroker, consumer: &str) -> Result<QueueDepth, BusError> {
    known(broker, consumer)?;
    let ns = &broker.topology.namespace;
    let conn = broker.connection().await?;
    let ch = conn
        .create_channel()
        .await
        .map_err(|e| unavailable("cannot open a channel", e))?;
    let ready = message_count(&ch, &names::work_queue(ns, consumer)).await?;
    let dead = message_count(&ch, &names::dead_queue(ns, consumer)).await?;
    let mut retrying = 0u64;
    for tier in &broker.topology.retry_tiers {
        let queue = names::retry_queue(ns, consumer, tier.as_millis());
        retrying += u64::from(message_count(&ch, &queue).await?);
    }
    let _ = ch.close(200, ShortString::from("done")).await;
    Ok(QueueDepth {
        ready: u64::from(ready),
        dead: u64::from(dead),
        retrying,
    })
}
