//! The consumer loop: manual acks, bounded prefetch, up to `prefetch` handlers at once, and a
//! reconnect loop with backoff that logs every attempt. A message is acked only after its
//! retry or dead-letter copy was confirmed, so a crash in between redelivers it, never loses it.

use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use gateway_core::bus::Settled;
use gateway_core::{BusError, Delivered, Handler, Message, Outcome, Stop};
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions};
use lapin::types::{FieldTable, ShortString};
use lapin::{BasicProperties, Channel};
use tokio::task::JoinSet;
use tracing::Instrument;

use super::headers::{self, History};
use super::{RabbitBroker, publish_confirmed, short, unavailable};
use crate::names;
use crate::settle::{Decision, decide, delivery_limit_reason, tell};

const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How often a consumer checks that its channel is still open.
const CHANNEL_CHECK: Duration = Duration::from_secs(1);
/// How long handlers in flight may go on after the channel died before they are dropped.
const IN_FLIGHT_GRACE: Duration = Duration::from_secs(10);

enum Ended {
    Stopped,
}

pub async fn run(
    broker: &RabbitBroker,
    consumer: &str,
    handler: Arc<dyn Handler>,
    mut stop: Stop,
) -> Result<(), BusError> {
    if broker.topology.consumer(consumer).is_none() {
        return Err(BusError::UnknownConsumer(consumer.to_string()));
    }
    let mut backoff = Duration::from_millis(200);
    let mut attempt: u32 = 0;
    loop {
        match consume_once(broker, consumer, &handler, &mut stop, &mut backoff).await {
            Ok(Ended::Stopped) => return Ok(()),
            Err(e @ (BusError::Topology(_) | BusError::UnknownConsumer(_))) => return Err(e),
            Err(e) => {
                attempt = attempt.saturating_add(1);
                tracing::warn!(
                    consumer,
                    attempt,
                    retry_in_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
                    error = %e,
                    "bus consumer lost the broker; reconnecting"
                );
                tokio::select! {
                    _ = &mut stop => return Ok(()),
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

async fn consume_once(
    broker: &RabbitBroker,
    consumer: &str,
    handler: &Arc<dyn Handler>,
    stop: &mut Stop,
    backoff: &mut Duration,
) -> Result<Ended, BusError> {
    let ns = broker.topology.namespace.clone();
    let prefetch = broker.topology.prefetch.max(1);
    let ch = broker.confirm_channel().await?;
    ch.basic_qos(prefetch, BasicQosOptions::default())
        .await
        .map_err(|e| unavailable("basic.qos", e))?;
    let tag = format!("{consumer}-{}", uuid::Uuid::new_v4().simple());
    let mut deliveries = ch
        .basic_consume(
            short(&names::work_queue(&ns, consumer))?,
            short(&tag)?,
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(|e| unavailable("basic.consume", e))?;
    tracing::info!(consumer, "bus consumer attached");
    *backoff = Duration::from_millis(200);

    let ctx = Arc::new(Ctx {
        topology: Arc::clone(&broker.topology),
        delivery_limit: broker.delivery_limit(consumer),
        consumer: consumer.to_string(),
        channel: ch.clone(),
        connection: broker.connection().await?,
    });
    let mut tasks = JoinSet::new();
    // lapin does not always end the delivery stream when the connection dies (a reset by a
    // broker restarting was seen to leave it pending for ever, so the consumer never came
    // back): look at the channel's state as well, and reconnect when it is gone.
    let mut health = tokio::time::interval(CHANNEL_CHECK);
    health.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let closed = || BusError::Unavailable("the channel to the broker closed".into());
    let result = loop {
        if tasks.len() >= usize::from(prefetch) {
            // Every slot is busy: wait for one, but keep watching the channel (an ack on a
            // dead connection may never finish).
            tokio::select! {
                _ = tasks.join_next() => {}
                _ = health.tick() => {
                    if !ch.status().connected() {
                        break Err(closed());
                    }
                }
            }
            continue;
        }
        tokio::select! {
            _ = &mut *stop => break Ok(Ended::Stopped),
            _ = health.tick() => {
                if !ch.status().connected() {
                    break Err(closed());
                }
            }
            next = deliveries.next() => match next {
                Some(Ok(delivery)) => {
                    let ctx = Arc::clone(&ctx);
                    let handler = Arc::clone(handler);
                    tasks.spawn(async move { ctx.handle(delivery, handler).await });
                }
                Some(Err(e)) => break Err(unavailable("consumer stream", e)),
                None => break Err(BusError::Unavailable("the broker cancelled the consumer".into())),
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    };
    if result.is_ok() {
        // Let handlers in flight finish and settle before the channel goes away.
        while tasks.join_next().await.is_some() {}
    } else {
        // The channel is gone: nothing in flight can be acked any more, and the broker
        // redelivers every unacked message once we reconnect. Give the handlers a moment to
        // finish what they were doing, then stop waiting for acks that may never complete.
        let settle = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(IN_FLIGHT_GRACE, settle).await.is_err() {
            tasks.abort_all();
        }
    }
    if matches!(result, Ok(Ended::Stopped)) {
        let _ = ch.close(200, ShortString::from("consumer stopped")).await;
    }
    result
}

struct Ctx {
    topology: Arc<gateway_core::Topology>,
    /// The delivery limit in force on this consumer's work queue
    /// ([`RabbitBroker::delivery_limit`]).
    delivery_limit: u32,
    consumer: String,
    channel: Channel,
    /// For declaring the topology again when a queue it forwards to was deleted.
    connection: Arc<lapin::Connection>,
}

impl Ctx {
    async fn handle(&self, delivery: Delivery, handler: Arc<dyn Handler>) {
        let history = headers::history(&delivery.properties);
        let redeliveries = headers::redeliveries(&delivery.properties);
        let attempt = history
            .attempts
            .saturating_add(redeliveries)
            .saturating_add(1);
        let envelope = match headers::envelope(&delivery.properties) {
            Ok(e) => e,
            Err(reason) => {
                // Not ours: park it untouched so nothing is lost, with the reason.
                self.park_foreign(&delivery, &reason).await;
                return;
            }
        };
        let span = tracing::info_span!(
            "bus.deliver",
            consumer = %self.consumer,
            doc_id = %envelope.doc_id,
            partner = envelope.partner.as_deref().unwrap_or("-"),
            adapter = %envelope.adapter,
            attempt,
        );
        let delivered = Delivered {
            envelope,
            body: delivery.data.clone(),
            attempt,
            first_error: history.first_error.clone(),
        };
        let limit = self.delivery_limit;
        let outcome = if redeliveries > 0 && redeliveries >= limit {
            // The last delivery the work queue allows: if this one were not settled either,
            // RabbitMQ would dead-letter it itself, where the handler never hears of it. Park
            // it here instead, unhandled, as the embedded bus does past its limit.
            Outcome::Dead {
                reason: delivery_limit_reason(limit),
            }
        } else {
            std::panic::AssertUnwindSafe(handler.handle(&delivered).instrument(span.clone()))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Outcome::Retry {
                    reason: "the handler panicked".into(),
                    after: None,
                })
        };
        if let Some(settled) = self
            .settle(&delivery, &delivered, history, attempt, outcome)
            .await
        {
            tell(handler.as_ref(), &self.consumer, &delivered, &settled)
                .instrument(span)
                .await;
        }
    }

    /// Makes the decision durable: acks, or forwards a confirmed copy to the retry or
    /// dead-letter queue and then acks. Returns what was done, or `None` when the copy could
    /// not be confirmed and the message went back to its queue (or the ack of a plain
    /// acknowledgment failed), so the handler is told only what really happened.
    async fn settle(
        &self,
        delivery: &Delivery,
        delivered: &Delivered,
        history: History,
        attempt: u32,
        outcome: Outcome,
    ) -> Option<Settled> {
        let ns = &self.topology.namespace;
        let (queue, new_history, settled) = match decide(&self.topology, attempt, outcome) {
            Decision::Ack => {
                if let Err(e) = delivery.ack(BasicAckOptions::default()).await {
                    tracing::warn!(doc_id = %delivered.envelope.doc_id, error = %e, "ack failed; the broker will redeliver");
                    return None;
                }
                return Some(Settled::Acked);
            }
            Decision::Retry { delay, reason } => {
                let tier = self.tier_for(delay);
                (
                    names::retry_queue(ns, &self.consumer, tier.as_millis()),
                    History {
                        attempts: attempt,
                        first_error: history.first_error.or_else(|| Some(reason.clone())),
                        last_error: Some(reason.clone()),
                        dead_at: None,
                        replayed: history.replayed,
                    },
                    Settled::Retrying {
                        delay: tier,
                        reason,
                    },
                )
            }
            Decision::Dead { reason } => (
                names::dead_queue(ns, &self.consumer),
                History {
                    attempts: attempt,
                    first_error: history.first_error.or_else(|| Some(reason.clone())),
                    last_error: Some(reason.clone()),
                    dead_at: Some(chrono::Utc::now().timestamp_millis()),
                    replayed: history.replayed,
                },
                Settled::Dead { reason },
            ),
        };
        let props = headers::properties(&delivered.envelope, &new_history);
        let message = Message {
            envelope: delivered.envelope.clone(),
            body: delivered.body.clone(),
        };
        if self
            .forward_then_ack(delivery, &queue, props, message)
            .await
        {
            if let Settled::Dead { reason } = &settled {
                tracing::debug!(doc_id = %delivered.envelope.doc_id, consumer = %self.consumer,
                    attempts = attempt, %reason, "parked in the dead-letter queue");
            }
            Some(settled)
        } else {
            None
        }
    }

    /// The smallest tier at least `delay` long, else the longest tier.
    fn tier_for(&self, delay: Duration) -> Duration {
        let tiers = &self.topology.retry_tiers;
        tiers
            .iter()
            .copied()
            .filter(|t| *t >= delay)
            .min()
            .or_else(|| tiers.iter().copied().max())
            .unwrap_or(delay)
    }

    /// Publishes a confirmed copy to `queue` (default exchange), then acks the original; if the
    /// copy could not be confirmed the original is returned to the queue instead. Returns
    /// whether the copy was confirmed (it then exists, even if the ack of the original failed).
    async fn forward_then_ack(
        &self,
        delivery: &Delivery,
        queue: &str,
        props: BasicProperties,
        message: Message,
    ) -> bool {
        let doc_id = &message.envelope.doc_id;
        let mut forwarded = self.forward(queue, &props, &message).await;
        if let Err(BusError::Unroutable(why)) = &forwarded {
            // The retry or dead-letter queue is gone (an operator or a policy deleted it).
            // Returning the message would only bring it back here until RabbitMQ's delivery
            // limit parks it where no one sees it: declare the topology again and forward once
            // more.
            tracing::error!(%doc_id, queue, %why, "queue missing; declaring the bus topology again");
            forwarded = match super::topology::declare(&self.connection, &self.topology).await {
                Ok(_) => self.forward(queue, &props, &message).await,
                Err(e) => Err(e),
            };
        }
        match forwarded {
            Ok(()) => {
                if let Err(e) = delivery.ack(BasicAckOptions::default()).await {
                    tracing::warn!(%doc_id, error = %e, "ack after forwarding failed; the message may be delivered again");
                }
                true
            }
            Err(e) => {
                tracing::error!(%doc_id, queue, error = %e, "could not forward; returning the message to its queue");
                let _ = delivery
                    .nack(BasicNackOptions {
                        requeue: true,
                        ..Default::default()
                    })
                    .await;
                false
            }
        }
    }

    /// One confirmed publish of `message` to `queue` through the default exchange.
    async fn forward(
        &self,
        queue: &str,
        props: &BasicProperties,
        message: &Message,
    ) -> Result<(), BusError> {
        publish_confirmed(
            &self.channel,
            &ShortString::from(""),
            vec![(short(queue)?, props.clone(), message)],
        )
        .await
    }

    async fn park_foreign(&self, delivery: &Delivery, reason: &str) {
        tracing::error!(consumer = %self.consumer, %reason, "message without an envelope; dead-lettering it");
        // Reject without requeue: the work queue's dead-letter exchange parks it as it is.
        let _ = delivery
            .nack(BasicNackOptions {
                requeue: false,
                ..Default::default()
            })
            .await;
    }
}
