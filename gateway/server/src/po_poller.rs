//! The Coupa PO poller: asks Coupa for purchase orders not yet exported, finds each one's
//! partner, and publishes it once per PO version (`out.purchase_order.<partner>`). A supplier
//! without a partner profile is sent what its Coupa record names (`po-method` cxml or email);
//! one whose record says the gateway must not send (`prompt`, `mark_as_sent`, ...) is left to
//! Coupa. The supplier consumer sends it and only then marks it exported, so a crash anywhere
//! in between sends it again at worst, never loses it.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use gateway_core::{Broker, DeliveryError, Direction, Envelope, Message, SourceMeta};
use gateway_model::{Document, DocumentKind, PurchaseOrder, to_json_line};

use crate::ledger::{Claim, Entry, Ledger, NewDocument, Status};
use crate::partners::Partners;
use crate::po_keys::PoKey;
use crate::supplier::{COUPA_PO_ID, COUPA_SUPPLIER_ID, CoupaSupplierProfiles};

/// A Coupa PO waiting to be exported.
#[derive(Debug, Clone)]
pub struct PendingPo {
    pub coupa_id: u64,
    pub version: Option<u32>,
    pub supplier_id: Option<u64>,
    pub supplier_number: Option<String>,
    pub supplier_name: Option<String>,
    /// Coupa's `status` (`issued`, `cancelled`, `draft`, `buyer_hold`, ...).
    pub status: Option<String>,
    pub document: PurchaseOrder,
}

impl PendingPo {
    /// Whether the supplier is to have it: issued, or cancelled (the cancellation). A draft,
    /// or one held by the buyer, the supplier or a currency check, is not an order yet; such
    /// POs went out as new orders. A PO without a status is taken as issued.
    pub fn is_for_the_supplier(&self) -> bool {
        matches!(
            self.status.as_deref(),
            None | Some("issued" | "cancelled" | "canceled")
        )
    }

    /// The key this PO, as Coupa holds it, is sent under: its version, and whether it is the
    /// cancellation.
    pub fn key(&self) -> PoKey {
        PoKey {
            coupa_id: self.coupa_id,
            version: self.version.unwrap_or(0),
            cancel: self.document.purpose == Some(gateway_model::OrderPurpose::Cancel),
        }
    }
}

/// Most resends of one PO version: a cause not fixed is not fixed by sending again.
pub const MAX_RESENDS: u32 = 20;

/// A PO published again by [`PoPoller::resend`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resent {
    pub key: String,
    pub partner: String,
    pub number: String,
}

/// The PO key and original key of a ledger entry that may be resent, or what to do instead.
fn resendable(entry: &Entry) -> anyhow::Result<(PoKey, &str)> {
    let key = entry.idempotency_key.as_str();
    let base = key.split(":resend-").next().unwrap_or(key);
    let parsed = PoKey::parse(base).map(|(k, _)| k);
    let Some(po) = parsed.filter(|_| entry.adapter == "coupa") else {
        anyhow::bail!(
            "{key} is {} from {}, not a Coupa purchase order sent to a supplier; only those \
             are resent",
            match entry.kind.as_str() {
                "invoice" => "an invoice",
                "purchase_order" => "a purchase order",
                other => other,
            },
            entry.adapter
        );
    };
    match entry.status.as_str() {
        "partner_rejected" | "delivered" => Ok((po, base)),
        "dead" => anyhow::bail!(
            "{key} is a dead letter, never delivered: replay it with `gateway dlq replay \
             --consumer supplier-orders {}`",
            entry.doc_id
        ),
        other => anyhow::bail!(
            "{key} is {other}, still on its way to the supplier; resend what was delivered \
             (delivered or partner_rejected)"
        ),
    }
}

/// A Coupa PO waiting to be exported that cannot be read as a purchase order (a price Coupa
/// should never hold, more lines than the gateway takes, no supplier): kept in the ledger as
/// `rejected` with why, so `gateway documents` shows it, not only a log line every poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadablePo {
    pub coupa_id: u64,
    pub version: Option<u32>,
    pub po_number: Option<String>,
    pub reason: String,
}

/// What one look at Coupa found.
#[derive(Debug, Clone, Default)]
pub struct Pending {
    pub pos: Vec<PendingPo>,
    pub unreadable: Vec<UnreadablePo>,
}

/// Where pending POs come from (the Coupa client in production and tests).
pub trait PoSource: Send + Sync {
    fn pending(&self) -> BoxFuture<'_, Result<Pending, DeliveryError>>;

    /// One PO as Coupa holds it now, exported or not (for resending it); `None` when Coupa
    /// has no PO with that id.
    fn by_id(&self, coupa_id: u64) -> BoxFuture<'_, Result<Option<PendingPo>, DeliveryError>>;
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    pub published: usize,
    pub in_flight: usize,
    pub unknown_supplier: usize,
    /// POs of suppliers whose Coupa record says the gateway must not send them.
    pub not_ours: usize,
    /// POs not issued (a draft, on hold): not sent until Coupa issues them.
    pub not_issued: usize,
    /// POs that cannot be read ([`UnreadablePo`]).
    pub unreadable: usize,
}

pub struct PoPoller {
    source: Arc<dyn PoSource>,
    partners: Partners,
    ledger: Arc<Ledger>,
    bus: Arc<dyn Broker>,
    coupa_suppliers: Option<Arc<dyn CoupaSupplierProfiles>>,
}

impl std::fmt::Debug for PoPoller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoPoller").finish_non_exhaustive()
    }
}

impl PoPoller {
    pub fn new(
        source: Arc<dyn PoSource>,
        partners: Partners,
        ledger: Arc<Ledger>,
        bus: Arc<dyn Broker>,
    ) -> Self {
        PoPoller {
            source,
            partners,
            ledger,
            bus,
            coupa_suppliers: None,
        }
    }

    /// Where channels come from for suppliers without a partner profile.
    pub fn with_coupa_suppliers(mut self, suppliers: Arc<dyn CoupaSupplierProfiles>) -> Self {
        self.coupa_suppliers = Some(suppliers);
        self
    }

    /// The partner id to publish `po` under, with the Coupa supplier id when the channel comes
    /// from Coupa's record; `None` when it is not to be sent (counted in `report`).
    async fn partner_of(
        &self,
        po: &PendingPo,
        report: &mut PollReport,
    ) -> Option<(String, Option<u64>)> {
        if let Some(p) = self.partners.by_coupa_supplier(
            po.supplier_id,
            po.supplier_number.as_deref(),
            po.supplier_name.as_deref(),
        ) {
            return Some((p.id.clone(), None));
        }
        let supplier = po.supplier_name.as_deref().unwrap_or("-");
        let (Some(id), Some(suppliers)) = (po.supplier_id, &self.coupa_suppliers) else {
            tracing::warn!(
                coupa_po_id = po.coupa_id,
                supplier,
                "purchase order for a supplier without a partner profile; add a [[partners]] entry with its coupa_supplier to send it"
            );
            report.unknown_supplier += 1;
            return None;
        };
        match suppliers.profile(id).await {
            Ok(Ok(profile)) => Some((profile.id, Some(id))),
            Ok(Err(reason)) => {
                tracing::info!(
                    coupa_po_id = po.coupa_id,
                    coupa_supplier_id = id,
                    supplier,
                    "purchase order left to Coupa: the supplier {reason}"
                );
                report.not_ours += 1;
                None
            }
            Err(e) => {
                tracing::warn!(
                    coupa_po_id = po.coupa_id,
                    coupa_supplier_id = id,
                    error = %e,
                    "cannot read the supplier's PO method from Coupa; the next poll tries again"
                );
                report.unknown_supplier += 1;
                None
            }
        }
    }

    /// One poll: publishes every pending PO version not yet on the bus.
    pub async fn poll(&self) -> anyhow::Result<PollReport> {
        let mut report = PollReport::default();
        let pending = self.source.pending().await?;
        self.keep_unreadable(&pending.unreadable, &mut report);
        for po in pending.pos {
            if !po.is_for_the_supplier() {
                report.not_issued += 1;
                continue;
            }
            let Some((partner, coupa_supplier)) = self.partner_of(&po, &mut report).await else {
                continue;
            };
            let key = po.key().key();
            if self.publish(po, &partner, coupa_supplier, &key).await? {
                report.published += 1;
            } else {
                report.in_flight += 1;
            }
        }
        Ok(report)
    }

    /// Keeps each unreadable PO as `rejected` under the key its version would be sent under,
    /// once: logged and counted the first time, and again only when the reason changes. Fixed
    /// in Coupa, the PO is a new version (a new key) or reads under the same key, which
    /// takes the rejected row over.
    fn keep_unreadable(&self, unreadable: &[UnreadablePo], report: &mut PollReport) {
        for po in unreadable {
            report.unreadable += 1;
            let key = PoKey {
                coupa_id: po.coupa_id,
                version: po.version.unwrap_or(0),
                cancel: false,
            }
            .key();
            let number = po.po_number.clone().unwrap_or_default();
            match self.ledger.record_refused_input(
                &key,
                "coupa",
                "(unknown)",
                DocumentKind::PurchaseOrder.as_str(),
                &number,
                &po.reason,
            ) {
                Ok(false) => {}
                Ok(true) => {
                    gateway_core::metrics::count(
                        gateway_core::metrics::Counter::Rejected,
                        "coupa",
                        DocumentKind::PurchaseOrder.as_str(),
                        1,
                    );
                    tracing::error!(coupa_po_id = po.coupa_id, po_number = %number,
                        idempotency_key = %key, reason = %po.reason,
                        "a Coupa purchase order cannot be sent: fix it in Coupa (`gateway documents --status rejected` lists it)");
                }
                Err(e) => tracing::error!(coupa_po_id = po.coupa_id, po_number = %number,
                    reason = %po.reason, error = %e,
                    "a Coupa purchase order cannot be sent, and the ledger could not keep it"),
            }
        }
    }

    /// Claims `key` and publishes `po` for `partner` under it; false when the key was claimed
    /// before (that version is on its way or sent).
    async fn publish(
        &self,
        po: PendingPo,
        partner: &str,
        coupa_supplier: Option<u64>,
        key: &str,
    ) -> anyhow::Result<bool> {
        let mut meta = SourceMeta {
            source_key: Some(key.into()),
            sender: Some("coupa".into()),
            ..SourceMeta::default()
        };
        meta.extra
            .insert(COUPA_PO_ID.into(), po.coupa_id.to_string().into());
        if let Some(id) = coupa_supplier {
            meta.extra
                .insert(COUPA_SUPPLIER_ID.into(), id.to_string().into());
        }
        let mut envelope = Envelope::inbound(
            DocumentKind::PurchaseOrder,
            "coupa",
            Some(partner.to_string()),
            meta,
        );
        envelope.direction = Direction::Out;
        envelope.idempotency_key = key.to_string();
        let number = po.document.po_number.clone().unwrap_or_default();
        match self.ledger.claim(&NewDocument {
            idempotency_key: key,
            doc_id: &envelope.doc_id,
            adapter: "coupa",
            partner,
            kind: DocumentKind::PurchaseOrder.as_str(),
            number: &number,
            business_key: None,
        })? {
            Claim::Duplicate { .. } | Claim::Reused { .. } => return Ok(false),
            Claim::New => {}
        }
        let body = to_json_line(&Document::PurchaseOrder(po.document)).into_bytes();
        let message = Message { envelope, body };
        if let Err(e) = self.bus.publish(std::slice::from_ref(&message)).await {
            let _ = self.ledger.release(key);
            return Err(e.into());
        }
        self.ledger.set_status(key, Status::Published, "")?;
        tracing::info!(coupa_po_id = po.coupa_id, partner = %partner, po_number = %number,
            idempotency_key = %key, "purchase order queued for the supplier");
        Ok(true)
    }

    /// Sends a PO again, after its supplier refused it (a 997/999 `partner_rejected` it) or
    /// never acknowledged it, and the operator fixed the cause (the partner profile, the
    /// supplier's translator). The same PO version is read from Coupa again and published
    /// under a new key, `<original key>:resend-N`, so the ledger tracks it as a document of
    /// its own and the supplier's acknowledgment of it is matched to it. A changed PO needs no
    /// resend: the poller sends each new version by itself.
    pub async fn resend(&self, entry: &Entry) -> anyhow::Result<Resent> {
        let (sent, base) = resendable(entry)?;
        let coupa_id = sent.coupa_id;
        let Some(po) = self.source.by_id(coupa_id).await? else {
            anyhow::bail!("Coupa has no purchase order {coupa_id} any more; nothing to resend");
        };
        let now = po.key();
        if now != sent {
            let what = |k: PoKey| {
                format!(
                    "version {}{}",
                    k.version,
                    if k.cancel { ", cancelled" } else { "" }
                )
            };
            anyhow::bail!(
                "Coupa holds {} of PO {} now, and {} was {}; the poller sends a new version \
                 or a cancellation by itself once Coupa issues it (`gateway documents \
                 --number {}` shows whether it went)",
                what(now),
                entry.number,
                entry.idempotency_key,
                what(sent),
                entry.number
            );
        }
        let mut report = PollReport::default();
        let Some((partner, coupa_supplier)) = self.partner_of(&po, &mut report).await else {
            anyhow::bail!(
                "the gateway no longer sends PO {} to a supplier: its supplier has no partner \
                 profile and its Coupa record names no channel the gateway serves (see the log)",
                entry.number
            );
        };
        for n in 1..=MAX_RESENDS {
            let key = format!("{base}:resend-{n}");
            if self.ledger.entry(&key)?.is_some() {
                continue;
            }
            if self.publish(po, &partner, coupa_supplier, &key).await? {
                return Ok(Resent {
                    key,
                    partner,
                    number: entry.number.clone(),
                });
            }
            anyhow::bail!(
                "{key} was claimed at the same moment by another resend; look at `gateway documents --number {}`",
                entry.number
            );
        }
        anyhow::bail!(
            "{base} was resent {MAX_RESENDS} times already; fix the cause with the supplier first"
        )
    }

    /// Polls every `interval` until `stop` resolves; a failed poll is logged and retried.
    pub async fn run(self, interval: Duration, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            match self.poll().await {
                Ok(r) if r.published > 0 => tracing::info!(?r, "PO poll"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "PO poll failed; will try again"),
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(interval) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, adapter: &str, status: &str) -> Entry {
        Entry {
            idempotency_key: key.into(),
            doc_id: "d-1".into(),
            adapter: adapter.into(),
            partner: "globex".into(),
            kind: "purchase_order".into(),
            number: "PO-1".into(),
            status: status.into(),
            detail: String::new(),
            partner_ack: String::new(),
            notes: String::new(),
            source: String::new(),
            attachments: String::new(),
            received_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn refusal(key: &str, adapter: &str, status: &str) -> String {
        match resendable(&entry(key, adapter, status)) {
            Ok(r) => panic!("{key} ({status}) was taken: {r:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn only_delivered_coupa_pos_are_resent_and_a_resend_counts_from_the_original() {
        let e = entry("coupa-po:4711:v2", "coupa", "partner_rejected");
        let v2 = PoKey {
            coupa_id: 4711,
            version: 2,
            cancel: false,
        };
        assert_eq!(resendable(&e).unwrap(), (v2, "coupa-po:4711:v2"));
        let e = entry("coupa-po:4711:v2:resend-3", "coupa", "delivered");
        assert_eq!(resendable(&e).unwrap(), (v2, "coupa-po:4711:v2"));
        assert!(refusal("coupa-po:4711:v2", "coupa", "dead").contains("gateway dlq replay"));
        assert!(refusal("coupa-po:4711:v2", "coupa", "published").contains("still on its way"));
        assert!(refusal("inv-key", "x12-http", "delivered").contains("not a Coupa purchase order"));
        assert!(refusal("coupa-po:x:v2", "coupa", "delivered").contains("not a Coupa"));
    }
}
