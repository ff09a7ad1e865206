//! Operator verbs on dead letters. RabbitMQ has no "browse": a dead-letter queue is read by
//! fetching its messages on a private channel without acking them and returning the rest at the
//! end (classic queues put them back in their places). A letter one reader holds is invisible
//! to every other, so readers take turns ([`crate::turns`]): a walk first takes the queue's lock
//! on a connection of its own, reads until the queue is empty, puts back what it left, and only
//! then lets the next reader in.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use gateway_core::{BusError, DeadFilter, DeadLetter, Message, QueueDepth};
use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicRecoverOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{Channel, Connection, message::Delivery};

use super::headers::{self, History};
use super::{RabbitBroker, publish_confirmed, short, unavailable};
use crate::{names, turns};

fn known(broker: &RabbitBroker, consumer: &str) -> Result<(), BusError> {
    broker
        .topology
        .consumer(consumer)
        .map(|_| ())
        .ok_or_else(|| BusError::UnknownConsumer(consumer.to_string()))
}

/// The ready messages of `queue`. RabbitMQ answers this ahead of acks and returns still on
/// their way to the queue, so it is a count for messages, not a bound for a walk.
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
        replayed: h.replayed,
        envelope,
        body: delivery.data.clone(),
    })
}

/// Whether `e` is RabbitMQ refusing an exclusive queue another connection holds.
fn locked(e: &lapin::Error) -> bool {
    matches!(e.kind(), lapin::ErrorKind::ProtocolError(p) if p.get_id() == 405)
}

/// The first pause between two tries at a lock another reader holds, and the longest.
const FIRST_PAUSE: Duration = Duration::from_millis(20);
const LONGEST_PAUSE: Duration = Duration::from_millis(500);

/// A reader's turn at a consumer's dead letters: a connection of its own holding the queue's
/// lock ([`names::dead_walk_lock`]), and the channel that reads. Should the process die or the
/// future be dropped, closing the connection releases both the lock and every letter held.
struct Turn {
    conn: Connection,
    ch: Channel,
    lock: ShortString,
}

impl Turn {
    /// Takes the lock, waiting for another reader to finish at most the wait in force
    /// ([`turns::with_dead_letter_wait`]); after that, a busy error.
    async fn take(broker: &RabbitBroker, consumer: &str, dead: &str) -> Result<Turn, BusError> {
        let wait = turns::dead_letter_wait();
        let lock = short(&names::dead_walk_lock(&broker.topology.namespace, consumer))?;
        let conn = broker
            .own_connection(&format!("gateway: reading the dead letters in {dead}"))
            .await?;
        let mut args = FieldTable::default();
        // Exclusive queues are classic anyway; saying so keeps a vhost whose default queue
        // type is quorum from refusing it.
        args.insert(
            short("x-queue-type")?,
            AMQPValue::LongString("classic".into()),
        );
        let started = Instant::now();
        let mut pause = FIRST_PAUSE;
        let mut told = false;
        loop {
            // A refused declare closes its channel: each try gets a fresh one.
            let ch = match conn.create_channel().await {
                Ok(ch) => ch,
                Err(e) => {
                    let _ = conn.close(200, ShortString::from("done")).await;
                    return Err(unavailable("cannot open a channel", e));
                }
            };
            let options = QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..Default::default()
            };
            match ch.queue_declare(lock.clone(), options, args.clone()).await {
                Ok(_) => return Ok(Turn { conn, ch, lock }),
                Err(e) if locked(&e) => {}
                Err(e) => {
                    let _ = conn.close(200, ShortString::from("done")).await;
                    return Err(unavailable(&format!("queue {lock}"), e));
                }
            }
            let waited = started.elapsed();
            if waited >= wait {
                let _ = conn.close(200, ShortString::from("busy")).await;
                return Err(turns::busy(consumer, wait));
            }
            if !told {
                turns::waiting(consumer);
                told = true;
            }
            // Jittered, so readers waiting together do not knock together.
            let jitter = Duration::from_millis(fastrand::u64(0..=pause.as_millis() as u64 / 2));
            tokio::time::sleep((pause + jitter).min(wait - waited)).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
    }

    /// Puts back every letter not taken, then releases the lock. When RabbitMQ confirms the
    /// recover, the letters are on their way back to the queue, ahead of every fetch of the
    /// next reader (though not always of its count: RabbitMQ answers counts first, which is
    /// why a walk reads until the queue is empty rather than as many as it counted).
    async fn end(self) {
        let back = self
            .ch
            .basic_recover(BasicRecoverOptions { requeue: true })
            .await;
        if back.is_ok() {
            let _ = self
                .ch
                .queue_delete(self.lock.clone(), QueueDeleteOptions::default())
                .await;
        }
        // Closing the connection releases whatever the steps above could not.
        let _ = self.conn.close(200, ShortString::from("done")).await;
    }
}

/// What a visit decides about the letter it was shown.
enum Step {
    /// Leave it in the queue.
    Leave,
    /// Take it out of the queue (ack it): replayed or purged.
    Take,
    /// Leave it and stop reading: the caller has what it asked for.
    Enough,
}

/// What a walk saw.
#[derive(Debug)]
struct Walked {
    /// Letters taken out of the queue.
    taken: usize,
    /// Letters that were in the queue when the walk started but it never saw: they went
    /// while it read, taken by a reader that does not take turns (an older gateway, a
    /// RabbitMQ tool) or deleted. Always 0 when the walk stopped early.
    missed: u32,
    /// Ready letters RabbitMQ counted when the walk started.
    counted: u32,
}

/// Takes the turn at the dead letters of `consumer`, shows `visit` each of them, oldest first,
/// until the queue is empty (or `visit` says [`Step::Enough`]), acks those it takes, and puts
/// the rest back. Stops at the first failure and returns it.
///
/// Letters that arrive while it reads are shown too, except one whose doc id this walk took
/// already, past the letters counted at the start: a replayed letter that died again, left for
/// the next walk rather than replayed twice in one.
async fn walk<F, Fut>(
    broker: &RabbitBroker,
    consumer: &str,
    mut visit: F,
) -> Result<Walked, BusError>
where
    F: FnMut(Option<DeadLetter>) -> Fut,
    Fut: std::future::Future<Output = Result<Step, BusError>>,
{
    known(broker, consumer)?;
    let dead = names::dead_queue(&broker.topology.namespace, consumer);
    let turn = Turn::take(broker, consumer, &dead).await?;
    let result = read(&turn.ch, broker, consumer, &dead, &mut visit).await;
    turn.end().await;
    result
}

async fn read<F, Fut>(
    ch: &Channel,
    broker: &RabbitBroker,
    consumer: &str,
    dead: &str,
    visit: &mut F,
) -> Result<Walked, BusError>
where
    F: FnMut(Option<DeadLetter>) -> Fut,
    Fut: std::future::Future<Output = Result<Step, BusError>>,
{
    let counted = message_count(ch, dead).await?;
    let limit = broker.delivery_limit(consumer);
    let queue = short(dead)?;
    let mut seen = 0u64;
    let mut taken_ids = HashSet::new();
    let mut taken = 0usize;
    loop {
        let got = ch
            .basic_get(queue.clone(), BasicGetOptions { no_ack: false })
            .await
            .map_err(|e| unavailable("basic.get", e))?;
        let Some(msg) = got else {
            // Empty: every letter not held by a reader outside the turns was shown.
            let missed = u64::from(counted).saturating_sub(seen);
            return Ok(Walked {
                taken,
                missed: u32::try_from(missed).unwrap_or(u32::MAX),
                counted,
            });
        };
        seen += 1;
        let delivery = msg.delivery;
        let dl = letter(consumer, &delivery, limit);
        let doc_id = dl.as_ref().map(|dl| dl.doc_id.clone());
        if seen > u64::from(counted) && doc_id.as_ref().is_some_and(|id| taken_ids.contains(id)) {
            continue;
        }
        match visit(dl).await? {
            Step::Leave => {}
            Step::Take => {
                delivery
                    .acker
                    .ack(BasicAckOptions::default())
                    .await
                    .map_err(|e| unavailable("ack", e))?;
                taken += 1;
                taken_ids.extend(doc_id);
            }
            Step::Enough => {
                return Ok(Walked {
                    taken,
                    missed: 0,
                    counted,
                });
            }
        }
    }
}

/// What to say when letters went while a walk read: who may have them and what to do.
fn went(missed: u32, counted: u32, consumer: &str) -> String {
    format!(
        "{missed} of the {counted} dead letters of {consumer} went while they were read: a \
         reader that does not take turns (an older gateway, a RabbitMQ tool such as the \
         management UI's \"get messages\") held them, or they were deleted"
    )
}

/// The first `limit` matching dead letters, oldest first. Complete, or an error: letters another
/// reader held are waited for, never left out.
pub async fn dead_letters(
    broker: &RabbitBroker,
    consumer: &str,
    filter: &DeadFilter,
    limit: usize,
) -> Result<Vec<DeadLetter>, BusError> {
    let mut out = Vec::new();
    let walked = walk(broker, consumer, |dl| {
        if let Some(dl) = dl
            && out.len() < limit
            && filter.matches(&dl.envelope, &dl.reason)
        {
            out.push(dl);
        }
        let step = if out.len() >= limit {
            Step::Enough
        } else {
            Step::Leave
        };
        async { Ok(step) }
    })
    .await?;
    if walked.missed > 0 {
        return Err(BusError::Unavailable(format!(
            "{}; the list would be incomplete; try again",
            went(walked.missed, walked.counted, consumer)
        )));
    }
    Ok(out)
}

/// Replays every matching dead letter, or fails saying how many it replayed before it could not
/// go on; never a count of part of them as if it were all.
pub async fn replay(
    broker: &RabbitBroker,
    consumer: &str,
    filter: &DeadFilter,
) -> Result<usize, BusError> {
    let publisher = broker.confirm_channel().await?;
    let work = short(&names::work_queue(&broker.topology.namespace, consumer))?;
    let walked = walk(broker, consumer, |dl| {
        let selected = dl.filter(|dl| filter.matches(&dl.envelope, &dl.reason));
        let publisher = publisher.clone();
        let work = work.clone();
        async move {
            let Some(dl) = selected else {
                return Ok(Step::Leave);
            };
            // A fresh attempt count; the first error stays for the record.
            let history = History {
                attempts: 0,
                first_error: dl.first_error.clone(),
                last_error: None,
                dead_at: None,
                replayed: dl.replayed.replayed_after(dl.attempts),
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
            Ok(Step::Take)
        }
    })
    .await;
    let _ = publisher.close(200, ShortString::from("done")).await;
    let walked = walked?;
    if walked.missed > 0 {
        return Err(BusError::Unavailable(format!(
            "replayed {} dead letter(s) of {consumer}, not all: {}; run the replay again for the \
             rest",
            walked.taken,
            went(walked.missed, walked.counted, consumer)
        )));
    }
    Ok(walked.taken)
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
    let walked = walk(broker, consumer, |dl| {
        let hit = dl
            .as_ref()
            .is_some_and(|dl| filter.matches(&dl.envelope, &dl.reason))
            || (*filter == DeadFilter::default());
        if hit {
            taken.push(dl.map(|dl| dl.doc_id));
        }
        async move { Ok(if hit { Step::Take } else { Step::Leave }) }
    })
    .await?;
    if walked.missed > 0 {
        // What was deleted must reach the ledger, so this is no error; the rest stay dead
        // letters for the next purge.
        tracing::warn!(
            consumer,
            purged = walked.taken,
            "{}; they were not purged",
            went(walked.missed, walked.counted, consumer)
        );
    }
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
