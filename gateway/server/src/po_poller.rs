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

use crate::ledger::{Claim, Ledger, NewDocument, Status};
use crate::partners::Partners;
use crate::supplier::{COUPA_PO_ID, COUPA_SUPPLIER_ID, CoupaSupplierProfiles};

/// A Coupa PO waiting to be exported.
#[derive(Debug, Clone)]
pub struct PendingPo {
    pub coupa_id: u64,
    pub version: Option<u32>,
    pub supplier_id: Option<u64>,
    pub supplier_number: Option<String>,
    pub supplier_name: Option<String>,
    pub document: PurchaseOrder,
}

/// Where pending POs come from (the Coupa client in production and tests).
pub trait PoSource: Send + Sync {
    fn pending(&self) -> BoxFuture<'_, Result<Vec<PendingPo>, DeliveryError>>;
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    pub published: usize,
    pub in_flight: usize,
    pub unknown_supplier: usize,
    /// POs of suppliers whose Coupa record says the gateway must not send them.
    pub not_ours: usize,
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
        for po in self.source.pending().await? {
            let Some((partner, coupa_supplier)) = self.partner_of(&po, &mut report).await else {
                continue;
            };
            let key = format!("coupa-po:{}:v{}", po.coupa_id, po.version.unwrap_or(0));
            let mut meta = SourceMeta {
                source_key: Some(key.as_str().into()),
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
                Some(partner.clone()),
                meta,
            );
            envelope.direction = Direction::Out;
            envelope.idempotency_key = key.clone();
            let number = po.document.po_number.clone().unwrap_or_default();
            match self.ledger.claim(&NewDocument {
                idempotency_key: &key,
                doc_id: &envelope.doc_id,
                adapter: "coupa",
                partner: &partner,
                kind: DocumentKind::PurchaseOrder.as_str(),
                number: &number,
                business_key: None,
            })? {
                Claim::Duplicate { .. } => {
                    report.in_flight += 1;
                    continue;
                }
                Claim::New => {}
            }
            let body = to_json_line(&Document::PurchaseOrder(po.document)).into_bytes();
            let message = Message { envelope, body };
            if let Err(e) = self.bus.publish(std::slice::from_ref(&message)).await {
                let _ = self.ledger.release(&key);
                return Err(e.into());
            }
            self.ledger.set_status(&key, Status::Published, "")?;
            tracing::info!(coupa_po_id = po.coupa_id, partner = %partner, po_number = %number, "purchase order queued for the supplier");
            report.published += 1;
        }
        Ok(report)
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
