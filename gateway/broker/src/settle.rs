//! What to do with a handled message, decided once for both backends: ack, retry after which
//! delay, or dead-letter with which reason. Once a backend made the decision durable it tells
//! the handler ([`gateway_core::Handler::settled`]), so a dead letter this module made out of
//! a retry is recorded like one the handler asked for.

use std::time::Duration;

use futures::FutureExt;
use gateway_core::bus::Settled;
use gateway_core::{Delivered, Handler, Outcome, Topology};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Ack,
    Retry { delay: Duration, reason: String },
    Dead { reason: String },
}

impl From<Decision> for Settled {
    fn from(d: Decision) -> Self {
        match d {
            Decision::Ack => Settled::Acked,
            Decision::Retry { delay, reason } => Settled::Retrying { delay, reason },
            Decision::Dead { reason } => Settled::Dead { reason },
        }
    }
}

/// The reason of a message parked because it reached the delivery limit: its consumer
/// stopped (crashed, lost its channel) while handling it every time. The same words on both
/// backends; `gateway dlq list` and the ledger show them.
pub fn delivery_limit_reason(limit: u32) -> String {
    format!("delivery limit {limit} exceeded (the consumer stopped while handling it each time)")
}

/// Tells `handler` what became of `message`. A handler that panics while recording is logged,
/// never allowed to take the consumer down: the message is already settled.
pub async fn tell(handler: &dyn Handler, consumer: &str, message: &Delivered, settled: &Settled) {
    let told = std::panic::AssertUnwindSafe(handler.settled(consumer, message, settled))
        .catch_unwind()
        .await;
    if told.is_err() {
        tracing::error!(
            consumer,
            doc_id = %message.envelope.doc_id,
            partner = message.envelope.partner.as_deref().unwrap_or("-"),
            adapter = %message.envelope.adapter,
            ?settled,
            "the handler panicked while recording what became of the message; the bus settled it all the same"
        );
    }
}

/// `attempt` is the delivery that just ended (1 = first). A retry past the last tier becomes a
/// dead letter whose reason says so and keeps the handler's last reason.
pub fn decide(topology: &Topology, attempt: u32, outcome: Outcome) -> Decision {
    match outcome {
        Outcome::Ack => Decision::Ack,
        Outcome::Dead { reason } => Decision::Dead { reason },
        Outcome::Retry { reason, after } => match topology.retry_delay(attempt) {
            Some(tier) => Decision::Retry {
                delay: after.map_or(tier, |a| a.max(tier)),
                reason,
            },
            None => Decision::Dead {
                reason: format!("gave up after {attempt} attempts: {reason}"),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topo() -> Topology {
        Topology {
            namespace: "t".into(),
            consumers: vec![],
            retry_tiers: vec![Duration::from_secs(5), Duration::from_secs(60)],
            delivery_limit: 5,
            prefetch: 1,
        }
    }

    #[test]
    fn retries_follow_tiers_then_dead() {
        let r = |after| Outcome::Retry {
            reason: "503".into(),
            after,
        };
        assert_eq!(
            decide(&topo(), 1, r(None)),
            Decision::Retry {
                delay: Duration::from_secs(5),
                reason: "503".into()
            }
        );
        assert_eq!(
            decide(&topo(), 2, r(Some(Duration::from_secs(90)))),
            Decision::Retry {
                delay: Duration::from_secs(90),
                reason: "503".into()
            }
        );
        assert!(
            matches!(decide(&topo(), 3, r(None)), Decision::Dead { reason } if reason.contains("gave up after 3 attempts: 503"))
        );
    }
}
