//! What to do with a handled message, decided once for both backends: ack, retry after which
//! delay, or dead-letter with which reason.

use std::time::Duration;

use gateway_core::{Outcome, Topology};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Ack,
    Retry { delay: Duration, reason: String },
    Dead { reason: String },
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
