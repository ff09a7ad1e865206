//! Partners that stay silent. A 997/999 that never comes is the only sign that an 850 never
//! reached the partner's translator (a file left in an SFTP folder nobody polls, a mail caught
//! by a filter): the delivery itself succeeded. Every few minutes the service counts, per
//! partner, the documents it sent over X12 that no acknowledgment has answered within the
//! partner's `ack_within_hours`; the count is the `gateway_x12_acknowledgments_overdue` gauge
//! (for an alert rule), and a warning names the partner whenever its count grows.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use gateway_core::profile::X12Profile;

use crate::ledger::{Ledger, LedgerError, OverdueAcks};
use crate::partners::Partners;

/// How often the service looks: overdue is measured in hours, so minutes are plenty.
pub const CHECK_EVERY: Duration = Duration::from_secs(300);

/// The hours `partner` has to answer what it is sent; 0 when it sends no acknowledgments.
pub fn ack_within_hours(partners: &Partners, partner: &str) -> u32 {
    partners
        .by_id(partner)
        .and_then(|p| p.x12.as_ref())
        .and_then(|x| x.ack_within_hours)
        .unwrap_or(X12Profile::DEFAULT_ACK_WITHIN_HOURS)
}

/// One partner's overdue documents, as the last check found them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverduePartner {
    pub partner: String,
    /// The partner's `ack_within_hours`.
    pub hours: u32,
    pub overdue: OverdueAcks,
}

/// Counts overdue acknowledgments and remembers what it reported, so a partner is warned
/// about when its count grows, not on every check.
#[derive(Debug)]
pub struct AckWatch {
    ledger: Arc<Ledger>,
    partners: Partners,
    reported: HashMap<String, u64>,
}

impl AckWatch {
    pub fn new(ledger: Arc<Ledger>, partners: Partners) -> Self {
        AckWatch {
            ledger,
            partners,
            reported: HashMap::new(),
        }
    }

    /// One look at every partner X12 was sent to (except those that send no
    /// acknowledgments): sets the gauge, warns about a grown count, returns what it found.
    pub fn check(&mut self) -> Result<Vec<OverduePartner>, LedgerError> {
        let mut found = Vec::new();
        for partner in self.ledger.x12_partners()? {
            let hours = ack_within_hours(&self.partners, &partner);
            if hours == 0 {
                continue;
            }
            let overdue = self.ledger.overdue_acknowledgments(&partner, hours)?;
            gateway_core::metrics::set_overdue_acknowledgments(&partner, overdue.documents);
            let before = self
                .reported
                .insert(partner.clone(), overdue.documents)
                .unwrap_or(0);
            if overdue.documents > before {
                tracing::warn!(
                    adapter = "x12",
                    partner = %partner,
                    overdue = overdue.documents,
                    oldest_sent_at = overdue.oldest_sent_at.as_deref().unwrap_or(""),
                    "{} document(s) sent to {partner} have had no 997/999 for more than {hours} \
                     hours; the partner may never have received them. List them with `gateway \
                     documents --partner {partner} --unacknowledged-hours {hours}` and ask the \
                     partner, or set ack_within_hours in its [partners.x12] profile",
                    overdue.documents
                );
            }
            found.push(OverduePartner {
                partner,
                hours,
                overdue,
            });
        }
        Ok(found)
    }

    /// Checks every `every` until `stop`; a ledger error is logged and the next check tries
    /// again.
    pub async fn run(mut self, every: Duration, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            if let Err(e) = self.check() {
                tracing::warn!(adapter = "x12", error = %e,
                    "cannot count overdue partner acknowledgments; will try again");
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::NewDocument;
    use gateway_core::PartnerProfile;

    fn partner(id: &str, ack_within_hours: Option<u32>) -> PartnerProfile {
        PartnerProfile {
            id: id.into(),
            x12: Some(X12Profile {
                ack_within_hours,
                ..X12Profile::default()
            }),
            ..PartnerProfile::default()
        }
    }

    fn send(ledger: &Ledger, partner: &str, key: &str) {
        ledger
            .claim(&NewDocument {
                idempotency_key: key,
                doc_id: key,
                adapter: "coupa-po",
                partner,
                kind: "purchase_order",
                number: key,
                business_key: None,
            })
            .unwrap();
        ledger
            .record_x12_sent(
                partner,
                key,
                &[adapter_x12::SentSet {
                    interchange: "000000001".into(),
                    group: key.into(),
                    set: "0001".into(),
                }],
            )
            .unwrap();
    }

    #[test]
    fn counts_each_partners_unanswered_documents_against_its_own_hours() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        let ledger = Arc::new(Ledger::open(&path).unwrap());
        // globex answers within a day (the default), initech within 48 hours, hooli never.
        send(&ledger, "globex", "po-1");
        send(&ledger, "globex", "po-2");
        send(&ledger, "initech", "po-3");
        send(&ledger, "hooli", "po-4");
        // Everything but po-2 went out 30 hours ago.
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute(
                "UPDATE x12_sent SET sent_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-30 hours')
                 WHERE idempotency_key <> 'po-2'",
                [],
            )
            .unwrap();
        let partners = Partners::new(vec![
            partner("initech", Some(48)),
            partner("hooli", Some(0)),
        ]);
        let mut watch = AckWatch::new(Arc::clone(&ledger), partners);
        let found = watch.check().unwrap();
        let counts: Vec<(&str, u32, u64)> = found
            .iter()
            .map(|p| (p.partner.as_str(), p.hours, p.overdue.documents))
            .collect();
        assert_eq!(counts, [("globex", 24, 1), ("initech", 48, 0)]);
        assert!(
            gateway_core::metrics::render()
                .contains("gateway_x12_acknowledgments_overdue{partner=\"globex\"} 1")
        );
        // The partner's 997 arrives: the gauge goes back to 0.
        ledger
            .record_partner_ack("po-1", true, "accepted (A) in 997 0001")
            .unwrap();
        let found = watch.check().unwrap();
        assert_eq!(found[0].overdue.documents, 0);
        assert!(
            gateway_core::metrics::render()
                .contains("gateway_x12_acknowledgments_overdue{partner=\"globex\"} 0")
        );
    }
}
