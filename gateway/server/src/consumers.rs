//! Bus consumers: each takes a document off its queue, hands it to an [`Outbound`] target and
//! turns the target's answer into the bus outcome (ack, retry later, dead letter), recording
//! the document's fate in the ledger and the metrics.

use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use gateway_core::metrics::{self, Counter};
use gateway_core::{Delivered, Handler, Outbound, Outcome};

use crate::ledger::{Ledger, Status};

/// Delivers each message to `target`.
pub struct DeliveryHandler {
    target: Arc<dyn Outbound>,
    ledger: Arc<Ledger>,
}

impl std::fmt::Debug for DeliveryHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryHandler")
            .field("target", &self.target.name())
            .finish_non_exhaustive()
    }
}

impl DeliveryHandler {
    pub fn new(target: Arc<dyn Outbound>, ledger: Arc<Ledger>) -> Self {
        DeliveryHandler { target, ledger }
    }

    async fn deliver(&self, m: &Delivered) -> Outcome {
        let env = &m.envelope;
        let kind = env.kind.as_str();
        let document = match gateway_model::from_json(&m.body) {
            Ok(d) => d,
            Err(e) => {
                return self.record(
                    m,
                    Outcome::Dead {
                        reason: format!("message body is not a canonical document: {e}"),
                    },
                );
            }
        };
        let result = self.target.deliver(env, &document).await;
        if let Ok(receipt) = &result {
            let seconds = (chrono::Utc::now() - env.received_at)
                .to_std()
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0);
            metrics::observe_delivery(&env.adapter, kind, seconds);
            tracing::info!(
                reference = %receipt.reference,
                already_present = receipt.already_present,
                target = self.target.name(),
                "delivered"
            );
            if let Err(e) = self.ledger.set_status(
                &env.idempotency_key,
                Status::Delivered,
                &format!("{}: {}", self.target.name(), receipt.reference),
            ) {
                // Delivered all the same; only the operator's view is behind.
                tracing::warn!(error = %e, reference = %receipt.reference,
                    "delivered, but the ledger could not record it: `gateway documents` shows it as not yet delivered");
            }
        }
        self.record(m, Outcome::from(result))
    }

    /// Counts the outcome and, for a dead letter, writes the reason to the ledger.
    fn record(&self, m: &Delivered, outcome: Outcome) -> Outcome {
        let env = &m.envelope;
        let kind = env.kind.as_str();
        match &outcome {
            Outcome::Ack => metrics::count(Counter::Delivered, &env.adapter, kind, 1),
            Outcome::Retry { reason, .. } => {
                metrics::count(Counter::Failed, &env.adapter, kind, 1);
                tracing::warn!(%reason, attempt = m.attempt, "delivery failed; will retry");
            }
            Outcome::Dead { reason } => {
                metrics::count(Counter::Failed, &env.adapter, kind, 1);
                metrics::count(Counter::Dead, &env.adapter, kind, 1);
                tracing::error!(%reason, attempt = m.attempt, "delivery failed for good; dead-lettered");
                if let Err(e) = self
                    .ledger
                    .set_status(&env.idempotency_key, Status::Dead, reason)
                {
                    // The dead letter itself is on the bus; only the ledger's view is behind.
                    tracing::warn!(error = %e, "the ledger could not record this dead letter: `gateway dlq list` still shows it");
                }
            }
        }
        outcome
    }
}

impl Handler for DeliveryHandler {
    fn handle<'a>(&'a self, message: &'a Delivered) -> BoxFuture<'a, Outcome> {
        self.deliver(message).boxed()
    }
}
