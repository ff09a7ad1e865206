//! Declares the exchanges and queues of a [`Topology`] and turns an argument mismatch with an
//! existing queue into an error that says what to do.

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
            "{what} already exists with other arguments ({msg}); delete it in RabbitMQ or use \
             another bus.namespace"
        ))
    } else {
        unavailable(&format!("declaring {what}"), e)
    }
}

fn durable() -> QueueDeclareOptions {
    QueueDeclareOptions {
        durable: true,
        ..Default::default()
    }
}

pub async fn declare(conn: &Connection, t: &Topology) -> Result<(), BusError> {
    let ns = &t.namespace;
    // A failed declare closes the channel, so each step that may fail gets a fresh one.
    let ch = conn
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
        ch.queue_declare(short(&work)?, durable(), args)
            .await
            .map_err(|e| declare_error(&format!("queue {work}"), e))?;
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
    Ok(())
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
