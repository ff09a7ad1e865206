//! Bus consumers: each takes a document off its queue, hands it to an [`Outbound`] target and
//! turns the target's answer into the bus outcome (ack, retry later, dead letter), recording
//! the document's fate in the ledger and the metrics. A dead letter is recorded when the bus
//! says it parked one ([`Handler::settled`]), so one the bus made (retries run out, delivery
//! limit) is recorded like one the target asked for.

use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use gateway_core::bus::Settled;
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
        if let Ok(gateway_core::Receipt {
            superseded_by: Some(later),
            ..
        }) = &result
        {
            tracing::info!(
                doc_id = %env.doc_id,
                partner = env.partner.as_deref().unwrap_or("-"),
                adapter = %env.adapter,
                later = %later,
                target = self.target.name(),
                "not sent: a later version stands for it (sent, being sent, or dead until replayed)"
            );
            if let Err(e) = self.ledger.set_status(
                &env.idempotency_key,
                Status::Superseded,
                &format!(
                    "not sent: {later} of the same purchase order stands for it (sent or being sent to the supplier, or dead until an operator replays it), and this older one would undo it"
                ),
            ) {
                tracing::warn!(doc_id = %env.doc_id, error = %e,
                    "superseded, but the ledger could not record it");
            }
            return Outcome::Ack;
        }
        if let Ok(
            receipt @ gateway_core::Receipt {
                nothing_to_cancel: true,
                ..
            },
        ) = &result
        {
            // Not delivered: the supplier never had the order. Counted as delivered, `gateway
            // documents` and `gateway partners` told operators it had been sent.
            tracing::info!(
                doc_id = %env.doc_id,
                partner = env.partner.as_deref().unwrap_or("-"),
                adapter = %env.adapter,
                target = self.target.name(),
                "not sent: cancelled before any version went to the supplier"
            );
            if let Err(e) = self.ledger.set_status(
                &env.idempotency_key,
                Status::CancelledUnsent,
                &receipt.reference,
            ) {
                tracing::warn!(doc_id = %env.doc_id, error = %e,
                    "cancelled before it was sent, but the ledger could not record it");
            }
            return Outcome::Ack;
        }
        if let Ok(receipt) = &result {
            let seconds = (chrono::Utc::now() - env.received_at)
                .to_std()
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0);
            metrics::observe_delivery(&env.adapter, kind, seconds);
            tracing::info!(
                doc_id = %env.doc_id,
                partner = env.partner.as_deref().unwrap_or("-"),
                adapter = %env.adapter,
                reference = %receipt.reference,
                already_present = receipt.already_present,
                target = self.target.name(),
                "delivered"
            );
            if let Err(e) = self.ledger.set_status(
                &env.idempotency_key,
                Status::Delivered,
                &delivered_detail(self.target.name(), receipt),
            ) {
                // Delivered all the same; only the operator's view is behind.
                tracing::warn!(doc_id = %env.doc_id, partner = env.partner.as_deref().unwrap_or("-"),
                    adapter = %env.adapter, error = %e, reference = %receipt.reference,
                    "delivered, but the ledger could not record it: `gateway documents` shows it as not yet delivered");
            }
        }
        self.record(m, Outcome::from(result))
    }

    /// Counts what the delivery attempt came to. What the bus then does with it (a retry, a
    /// dead letter) is recorded in [`DeliveryHandler::record_settled`], once the bus made it
    /// durable: a retry past the last tier becomes a dead letter there, not here.
    fn record(&self, m: &Delivered, outcome: Outcome) -> Outcome {
        let env = &m.envelope;
        let kind = env.kind.as_str();
        match &outcome {
            Outcome::Ack => metrics::count(Counter::Delivered, &env.adapter, kind, 1),
            Outcome::Retry { .. } | Outcome::Dead { .. } => {
                metrics::count(Counter::Failed, &env.adapter, kind, 1);
            }
        }
        outcome
    }

    /// Records what the bus did with a message: every dead letter, whether the target refused
    /// the document for good, the retries ran out or the delivery limit was reached, becomes
    /// `dead` in the ledger with the reason `gateway dlq list` shows, is counted in
    /// `gateway_documents_dead_total` and logged once.
    async fn record_settled(&self, consumer: &str, m: &Delivered, settled: &Settled) {
        let env = &m.envelope;
        let kind = env.kind.as_str();
        let partner = env.partner.as_deref().unwrap_or("-");
        match settled {
            Settled::Acked => {}
            Settled::Retrying { delay, reason } => {
                tracing::warn!(
                    doc_id = %env.doc_id,
                    partner,
                    consumer,
                    adapter = %env.adapter,
                    attempt = m.attempt,
                    retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    %reason,
                    "delivery failed; will retry"
                );
            }
            Settled::Dead { reason } => {
                metrics::count(Counter::Dead, &env.adapter, kind, 1);
                tracing::warn!(
                    doc_id = %env.doc_id,
                    partner,
                    consumer,
                    adapter = %env.adapter,
                    kind,
                    attempts = m.attempt,
                    %reason,
                    "dead-lettered"
                );
                if let Err(e) = self
                    .ledger
                    .set_status(&env.idempotency_key, Status::Dead, reason)
                {
                    // The dead letter itself is on the bus; only the ledger's view is behind.
                    tracing::warn!(
                        doc_id = %env.doc_id,
                        partner,
                        consumer,
                        adapter = %env.adapter,
                        error = %e,
                        "the ledger could not record this dead letter: `gateway documents` shows it as on its way; `gateway dlq list` shows it"
                    );
                }
            }
        }
    }
}

impl Handler for DeliveryHandler {
    fn handle<'a>(&'a self, message: &'a Delivered) -> BoxFuture<'a, Outcome> {
        self.deliver(message).boxed()
    }

    fn settled<'a>(
        &'a self,
        consumer: &'a str,
        message: &'a Delivered,
        settled: &'a Settled,
    ) -> BoxFuture<'a, ()> {
        self.record_settled(consumer, message, settled).boxed()
    }
}

/// The ledger's word on a delivery: the target's reference, and when the target had the
/// document already (an invoice sent again in another file, a redelivery) that nothing was
/// created: otherwise a file dropped again showed its invoices delivered twice. What the target
/// was not sent follows (`; not sent: ...`): payment terms Coupa cannot take were dropped
/// with no word in `gateway documents`.
fn delivered_detail(target: &str, receipt: &gateway_core::Receipt) -> String {
    let mut detail = if receipt.already_present {
        format!(
            "{target}: {} (already there: delivered before, nothing created again)",
            receipt.reference
        )
    } else {
        format!("{target}: {}", receipt.reference)
    };
    if !receipt.not_sent.is_empty() {
        detail.push_str(&format!("; not sent: {}", receipt.not_sent.join("; ")));
    }
    detail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_the_target_had_already_says_nothing_was_created() {
        let mut receipt = gateway_core::Receipt {
            reference: "20".into(),
            ..gateway_core::Receipt::default()
        };
        assert_eq!(delivered_detail("coupa", &receipt), "coupa: 20");
        receipt.already_present = true;
        assert_eq!(
            delivered_detail("coupa", &receipt),
            "coupa: 20 (already there: delivered before, nothing created again)"
        );
    }

    /// QA (qaC f5 item 3): what Coupa was not sent (payment terms it cannot take as a code)
    /// was only a log line; the ledger's detail says it now, after the reference.
    #[test]
    fn what_the_target_was_not_sent_follows_the_reference() {
        let receipt = gateway_core::Receipt {
            reference: "35".into(),
            not_sent: vec!["the payment terms (2% in 10 days) give no net days".into()],
            ..gateway_core::Receipt::default()
        };
        let detail = delivered_detail("coupa", &receipt);
        assert_eq!(
            detail,
            "coupa: 35; not sent: the payment terms (2% in 10 days) give no net days"
        );
        assert_eq!(crate::coupa_link::coupa_id_in(&detail), Some(35));
    }
}
