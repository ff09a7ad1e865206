//! Declares the exchanges and queues of a [`Topology`] and turns an argument mismatch with an
//! existing queue into an error that says what to do, or, for a work queue's delivery limit
//! alone, into the limit the gateway goes on with ([`KeptLimit`]).
//!
//! RabbitMQ keeps a quorum queue's arguments for the queue's life, so a changed `[bus]
//! delivery_limit` cannot be applied to a queue declared before. Nothing over AMQP changes
//! it: a policy's `delivery-limit` can only lower it (RabbitMQ takes the lower of argument and
//! policy), policies are not set over AMQP, and the queue cannot be deleted safely from here
//! (quorum queues refuse `queue.delete` with `if-empty`, so a message arriving between a check
//! and the delete would be lost). Refusing to start over it stopped the whole service and every
//! `gateway dlq` command; the queue is taken as it is instead, and its limit logged with how
//! to apply the new one.

use gateway_core::{BusError, Topology};
use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Connection, ExchangeKind};

use super::{short, unavailable};
use crate::names;

fn text(s: &str) -> AMQPValue {
    AMQPValue::LongString(s.into())
}

fn arg(table: &mut FieldTable, k: &str, v: AMQPValue) -> Result<(), BusError> {
    table.insert(short(k)?, v);
    Ok(())
}

fn declare_error(what: &str, e: lapin::Error) -> BusError {
    let msg = e.to_string();
    if msg.contains("PRECONDITION_FAILED") || msg.contains("inequivalent") {
        BusError::Topology(format!(
            "{what} already exists with other arguments than this gateway declares ({msg}). \
             RabbitMQ keeps them for its life, and deleting it deletes the documents it holds: \
             move them to another queue first (README, 'Changing [bus] delivery_limit on \
             RabbitMQ', shows how), or give this gateway another [bus] namespace, leaving what \
             this one holds where no one reads it"
        ))
    } else {
        unavailable(&format!("declaring {what}"), e)
    }
}

/// A work queue RabbitMQ already holds with another `x-delivery-limit` than the configured
/// one: the gateway uses it as it is, with [`KeptLimit::in_force`] deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptLimit {
    pub consumer: String,
    pub queue: String,
    /// `[bus] delivery_limit`.
    pub configured: u32,
    /// The queue's own `x-delivery-limit`; `None` when it has none, or the broker's words
    /// did not say.
    pub existing: Option<u32>,
}

impl KeptLimit {
    /// The deliveries after which a message of this queue is parked. The consumer parks a
    /// message at the configured limit itself (before handling it once more), so a lower
    /// configured limit applies; a higher one does not, since RabbitMQ parks it at the
    /// queue's own limit first.
    pub fn in_force(&self) -> u32 {
        self.existing
            .map_or(self.configured, |n| n.min(self.configured))
    }

    /// Says, once per declare, which limit the queue goes on with and, when the configured
    /// one is not in force, how to apply it without losing a message.
    fn log(&self) {
        let (queue, configured) = (&self.queue, self.configured);
        match self.existing {
            None => tracing::info!(queue = %queue, configured,
                "queue {queue} was declared without an x-delivery-limit: the gateway's consumer \
                 applies [bus] delivery_limit {configured} (RabbitMQ 4 adds its default of 20)"),
            Some(existing) if existing > configured => tracing::info!(queue = %queue,
                configured, queue_limit = existing,
                "[bus] delivery_limit {configured} is applied by the gateway's consumer: queue \
                 {queue} was declared with x-delivery-limit {existing}, which RabbitMQ keeps as \
                 a backstop"),
            Some(existing) => tracing::warn!(queue = %queue, configured, queue_limit = existing,
                "[bus] delivery_limit {configured} is not in force on queue {queue}: RabbitMQ \
                 keeps the x-delivery-limit {existing} it was declared with for the queue's \
                 life, and a policy can only lower it, so the gateway goes on with {existing}. \
                 To apply {configured}, the queue must be declared again: stop every `gateway \
                 serve` of this namespace, move the queue's messages to another queue (a \
                 shovel), delete it, start the gateway, which declares it with {configured}, \
                 and move the messages back (README, 'Changing [bus] delivery_limit on \
                 RabbitMQ'). Deleting it with messages in it deletes those documents"),
        }
    }
}

/// Whether `e` is RabbitMQ refusing a queue's declaration for its `x-delivery-limit` alone
/// (it names the first argument that differs; the others are the gateway's own and fixed),
/// and if so the queue's own limit as the broker's words give it: `... but current is '5'`
/// (RabbitMQ 3), `... but current is the value '5' of type 'signedint'` (later), `... but
/// current is none`.
fn delivery_limit_mismatch(e: &lapin::Error) -> Option<Option<u32>> {
    let msg = e.to_string();
    if !msg.contains("PRECONDITION_FAILED") || !msg.contains("inequivalent arg 'x-delivery-limit'")
    {
        return None;
    }
    let current = msg.rsplit_once("but current is ").map(|(_, c)| c)?;
    let current = current.strip_prefix("the value ").unwrap_or(current);
    Some(
        current
            .strip_prefix('\'')
            .and_then(|c| c.split('\'').next())
            .and_then(|n| n.parse().ok()),
    )
}

fn durable() -> QueueDeclareOptions {
    QueueDeclareOptions {
        durable: true,
        ..Default::default()
    }
}

/// Declares every exchange and queue of `t`, and returns the work queues taken as they are
/// with another delivery limit than configured (each logged, see [`KeptLimit`]).
pub async fn declare(conn: &Connection, t: &Topology) -> Result<Vec<KeptLimit>, BusError> {
    let ns = &t.namespace;
    let mut kept = Vec::new();
    // A failed declare closes the channel: the one that may fail and go on gets a fresh one.
    let mut ch = conn
        .create_channel()
        .await
        .map_err(|e| unavailable("cannot open a channel", e))?;
    let exchange = names::exchange(ns);
    let dlx = names::dead_letter_exchange(ns);
    ch.exchange_declare(
        short(&exchange)?,
        ExchangeKind::Topic,
        ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await
    .map_err(|e| declare_error(&format!("exchange {exchange}"), e))?;
    ch.exchange_declare(
        short(&dlx)?,
        ExchangeKind::Direct,
        ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await
    .map_err(|e| declare_error(&format!("exchange {dlx}"), e))?;

    for c in &t.consumers {
        let work = names::work_queue(ns, &c.name);
        let dead = names::dead_queue(ns, &c.name);

        let mut args = FieldTable::default();
        arg(&mut args, "x-queue-type", text("quorum"))?;
        arg(
            &mut args,
            "x-delivery-limit",
            AMQPValue::LongInt(i32::try_from(t.delivery_limit).unwrap_or(i32::MAX)),
        )?;
        arg(&mut args, "x-dead-letter-exchange", text(&dlx))?;
        arg(&mut args, "x-dead-letter-routing-key", text(&c.name))?;
        arg(&mut args, "x-dead-letter-strategy", text("at-least-once"))?;
        arg(&mut args, "x-overflow", text("reject-publish"))?;
        if let Err(e) = ch.queue_declare(short(&work)?, durable(), args).await {
            let Some(existing) = delivery_limit_mismatch(&e) else {
                return Err(declare_error(&format!("queue {work}"), e));
            };
            ch = conn
                .create_channel()
                .await
                .map_err(|e| unavailable("cannot open a channel", e))?;
            let limit = KeptLimit {
                consumer: c.name.clone(),
                queue: work.clone(),
                configured: t.delivery_limit,
                existing,
            };
            limit.log();
            kept.push(limit);
        }
        for pattern in &c.bindings {
            ch.queue_bind(
                short(&work)?,
                short(&exchange)?,
                short(pattern)?,
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| declare_error(&format!("binding {work} to {pattern}"), e))?;
        }

        // Classic, not quorum: operators list dead letters by fetching and returning them,
        // and a quorum queue would count each look as a delivery (and drop at its limit).
        ch.queue_declare(short(&dead)?, durable(), FieldTable::default())
            .await
            .map_err(|e| declare_error(&format!("queue {dead}"), e))?;
        ch.queue_bind(
            short(&dead)?,
            short(&dlx)?,
            short(&c.name)?,
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(|e| declare_error(&format!("binding {dead}"), e))?;

        for tier in &t.retry_tiers {
            let ms = tier.as_millis();
            let retry = names::retry_queue(ns, &c.name, ms);
            let mut retry_args = FieldTable::default();
            arg(
                &mut retry_args,
                "x-message-ttl",
                AMQPValue::LongLongInt(i64::try_from(ms).unwrap_or(i64::MAX)),
            )?;
            arg(&mut retry_args, "x-dead-letter-exchange", text(""))?;
            arg(&mut retry_args, "x-dead-letter-routing-key", text(&work))?;
            ch.queue_declare(short(&retry)?, durable(), retry_args)
                .await
                .map_err(|e| declare_error(&format!("queue {retry}"), e))?;
        }
    }
    let _ = ch.close(200, short("topology declared")?).await;
    Ok(kept)
}

/// Deletes every queue and exchange of the topology (tests, and tearing down a namespace).
pub async fn delete(conn: &Connection, t: &Topology) -> Result<(), BusError> {
    use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
    let ns = &t.namespace;
    let ch = conn
        .create_channel()
        .await
        .map_err(|e| unavailable("cannot open a channel", e))?;
    for c in &t.consumers {
        let mut queues = vec![
            names::work_queue(ns, &c.name),
            names::dead_queue(ns, &c.name),
        ];
        queues.extend(
            t.retry_tiers
                .iter()
                .map(|tier| names::retry_queue(ns, &c.name, tier.as_millis())),
        );
        for q in queues {
            ch.queue_delete(short(&q)?, QueueDeleteOptions::default())
                .await
                .map_err(|e| unavailable(&format!("deleting {q}"), e))?;
        }
    }
    for x in [names::exchange(ns), names::dead_letter_exchange(ns)] {
        ch.exchange_delete(short(&x)?, ExchangeDeleteOptions::default())
            .await
            .map_err(|e| unavailable(&format!("deleting {x}"), e))?;
    }
    let _ = ch.close(200, short("topology deleted")?).await;
    Ok(())
}
