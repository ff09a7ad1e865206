//! The Coupa PO poller: asks Coupa for purchase orders not yet exported, finds each one's
//! partner, and publishes it once per PO version (`out.purchase_order.<partner>`). A supplier
//! without a partner profile is sent what its Coupa record names (`po-method` cxml or email);
//! one whose record says the gateway must not send (`prompt`, `mark_as_sent`, ...), or whose
//! partner profile has no `[partners.outbound]` (a partner that only sends invoices), is left
//! to Coupa: kept in the ledger as `awaiting_operator`, saying why and what sends it, never
//! marked exported, and logged once per PO version, not at every poll. The supplier consumer sends it and only then marks
//! it exported, so a crash anywhere in between sends it again at worst, never loses it.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use gateway_core::{Broker, DeliveryError, Direction, Envelope, Message, SourceMeta};
use gateway_model::{Document, DocumentKind, PurchaseOrder, to_json_line};

use crate::ledger::{Claim, Entry, Ledger, NewDocument, RefusedInput, Status};
use crate::partners::Partners;
use crate::po_keys::PoKey;
use crate::supplier::{
    COUPA_PO_ID, COUPA_SUPPLIER_ID, CoupaSupplierProfiles, PoExporter, PoMethod,
    coupa_supplier_partner_id,
};

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

/// What [`PoPoller::exported_again`] needs of a pending PO the poll handed on to `publish`.
struct Listed {
    coupa_id: u64,
    number: String,
    key: PoKey,
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
        "cancelled_unsent" => anyhow::bail!(
            "{key} is a cancellation of a PO none of whose versions went to the supplier: \
             nothing was sent and the supplier has no such order, so there is nothing to resend"
        ),
        // Never sent, and never will be: a later version or the cancellation stands for it.
        "superseded" => anyhow::bail!(
            "{key} is superseded, so it is not sent and not resent ({}); resend that later \
             version or cancellation if the supplier lost it, or replay it if it is dead \
             (`gateway documents --number {}` lists them)",
            entry.detail,
            entry.number
        ),
        // Never sent: the supplier's Coupa record leaves it to Coupa; the detail says what
        // sends it.
        "awaiting_operator" => anyhow::bail!(
            "{key} is awaiting_operator, never sent to the supplier, so there is nothing to \
             resend; it {}",
            entry.detail
        ),
        "received" | "published" | "interrupted" => anyhow::bail!(
            "{key} is {}, still on its way to the supplier; resend what was delivered \
             (delivered or partner_rejected)",
            entry.status
        ),
        other => anyhow::bail!(
            "{key} is {other}: {}; only a PO its supplier was sent (delivered or \
             partner_rejected) is resent",
            entry.detail
        ),
    }
}

/// A Coupa PO waiting to be exported that cannot be read as a purchase order (a price Coupa
/// should never hold, more lines than the gateway takes, no supplier): kept in the ledger as
/// `rejected` with why, so `gateway documents` shows it, not only a log line every poll. The
/// supplier, when Coupa names one, says whose it is: it was counted under `(unknown)` in
/// `gateway partners`, not under the supplier's partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadablePo {
    pub coupa_id: u64,
    pub version: Option<u32>,
    pub po_number: Option<String>,
    pub supplier_id: Option<u64>,
    pub supplier_number: Option<String>,
    pub supplier_name: Option<String>,
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
    /// POs of suppliers whose Coupa record says the gateway must not send them: each waits
    /// for the operator (`awaiting_operator` in the ledger).
    pub not_ours: usize,
    /// Of those, the ones that began waiting at this poll (a PO new to the ledger, or a new
    /// version of one): logged once, here.
    pub newly_waiting: usize,
    /// POs not issued (a draft, on hold): not sent until Coupa issues them.
    pub not_issued: usize,
    /// POs that cannot be read ([`UnreadablePo`]).
    pub unreadable: usize,
    /// POs Coupa listed as not exported though the supplier was sent that version: marked
    /// exported again ([`PoPoller::exported_again`]).
    pub marked_again: usize,
}

/// Where a pending PO goes, by its supplier.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    /// Publish it for `partner`, with the Coupa supplier id when the channel comes from the
    /// supplier's Coupa record.
    Send {
        partner: String,
        coupa_supplier: Option<u64>,
    },
    /// The supplier's Coupa record says the gateway must not send it (`prompt`, ...): it
    /// waits for the operator.
    LeftToCoupa { coupa_supplier: u64, reason: String },
    /// The supplier's partner profile has no `[partners.outbound]` (a partner that only sends
    /// invoices): the gateway has no channel to send it on, so it is left to Coupa as well.
    NoOutbound { partner: String },
    /// Not now (no profile and no Coupa record to ask, or Coupa could not be asked): logged
    /// and counted.
    NotNow,
}

/// What the ledger says of a PO left to Coupa: why, and what has it sent (`method`: the
/// record's field it went by, `po-method` for a new order, `po-change-method` for a change or
/// cancellation).
fn awaiting_detail(
    coupa_supplier: u64,
    supplier: &str,
    reason: &str,
    key: &str,
    method: PoMethod,
) -> String {
    let field = method.field();
    format!(
        "waits for the operator: Coupa supplier {coupa_supplier} ({supplier}) {reason}, so \
         the gateway does not send it. Release it to the supplier in Coupa, or have the \
         gateway send it: set the supplier's {field} to cxml (with its cxml-url) or email \
         (with its po-email) in Coupa, or add a [[partners]] entry with \
         [partners.coupa_supplier] id = {coupa_supplier} and its outbound channel; the next \
         poll then sends it (`gateway documents --doc {key}` follows it)"
    )
}

pub struct PoPoller {
    source: Arc<dyn PoSource>,
    partners: Partners,
    ledger: Arc<Ledger>,
    bus: Arc<dyn Broker>,
    coupa_suppliers: Option<Arc<dyn CoupaSupplierProfiles>>,
    exporter: Option<Arc<dyn PoExporter>>,
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
            exporter: None,
        }
    }

    /// What marks a PO exported in Coupa, for a version the supplier was sent that Coupa
    /// lists as not exported again ([`PoPoller::exported_again`]).
    pub fn with_exporter(mut self, exporter: Arc<dyn PoExporter>) -> Self {
        self.exporter = Some(exporter);
        self
    }

    /// Where channels come from for suppliers without a partner profile.
    pub fn with_coupa_suppliers(mut self, suppliers: Arc<dyn CoupaSupplierProfiles>) -> Self {
        self.coupa_suppliers = Some(suppliers);
        self
    }

    /// Where `po` goes: the partner id to publish it under (with the Coupa supplier id when the
    /// channel comes from Coupa's record), left to Coupa, or not now (logged, and counted in
    /// `report`).
    async fn route(&self, po: &PendingPo, report: &mut PollReport) -> Route {
        if let Some(p) = self.partners.by_coupa_supplier(
            po.supplier_id,
            po.supplier_number.as_deref(),
            po.supplier_name.as_deref(),
        ) {
            if p.outbound.is_none() {
                report.not_ours += 1;
                return Route::NoOutbound {
                    partner: p.id.clone(),
                };
            }
            return Route::Send {
                partner: p.id.clone(),
                coupa_supplier: None,
            };
        }
        let supplier = po.supplier_name.as_deref().unwrap_or("-");
        let (Some(id), Some(suppliers)) = (po.supplier_id, &self.coupa_suppliers) else {
            tracing::warn!(
                coupa_po_id = po.coupa_id,
                supplier,
                "purchase order for a supplier without a partner profile; add a [[partners]] entry with its coupa_supplier to send it"
            );
            report.unknown_supplier += 1;
            return Route::NotNow;
        };
        match suppliers
            .profile(id, PoMethod::of_order(&po.document))
            .await
        {
            Ok(Ok(profile)) => Route::Send {
                partner: profile.id,
                coupa_supplier: Some(id),
            },
            Ok(Err(reason)) => {
                report.not_ours += 1;
                Route::LeftToCoupa {
                    coupa_supplier: id,
                    reason,
                }
            }
            Err(e) => {
                tracing::warn!(
                    coupa_po_id = po.coupa_id,
                    coupa_supplier_id = id,
                    error = %e,
                    "cannot read the supplier's PO method from Coupa; the next poll tries again"
                );
                report.unknown_supplier += 1;
                Route::NotNow
            }
        }
    }

    /// Keeps `po`, left to Coupa by its supplier's record, as `awaiting_operator` under the key
    /// its version would be sent under, and logs it when it begins to wait: once per version
    /// (a new version is a new key), and again only if the reason changes. It was logged at
    /// every poll, and `gateway documents` did not show it at all.
    fn keep_waiting(
        &self,
        po: &PendingPo,
        coupa_supplier: u64,
        reason: &str,
        report: &mut PollReport,
    ) {
        let key = po.key().key();
        let number = po.document.po_number.clone().unwrap_or_default();
        let supplier = po.supplier_name.as_deref().unwrap_or("-");
        let detail = awaiting_detail(
            coupa_supplier,
            supplier,
            reason,
            &key,
            PoMethod::of_order(&po.document),
        );
        let partner = coupa_supplier_partner_id(coupa_supplier);
        match self.record_waiting(po, &partner, &detail, report) {
            Ok(false) => {}
            Ok(true) => {
                tracing::info!(coupa_po_id = po.coupa_id, coupa_supplier_id = coupa_supplier,
                    supplier, po_number = %number, doc_id = %self.doc_id_of(&key),
                    adapter = "coupa", idempotency_key = %key,
                    "purchase order left to Coupa: the supplier {reason}; it waits for the operator (`gateway documents --status awaiting_operator` lists it with what sends it)");
            }
            Err(e) => tracing::warn!(coupa_po_id = po.coupa_id, coupa_supplier_id = coupa_supplier,
                supplier, po_number = %number, error = %e,
                "purchase order left to Coupa: the supplier {reason}; the ledger could not keep it"),
        }
    }

    /// Keeps `po`, a change or cancellation of a PO whose latest earlier version (`earlier`)
    /// was left to Coupa, as `awaiting_operator` for `partner`: the operator may have released
    /// that version in Coupa, which sent it under a payloadID the gateway does not know, so a
    /// change from the gateway could not name it (the supplier would take it as a second order)
    /// and a cancellation could not be skipped (the supplier may have the order). Coupa sends
    /// it, as it sent the version it changes. Logged once, as [`PoPoller::keep_waiting`].
    fn wait_behind_coupa(
        &self,
        po: &PendingPo,
        partner: &str,
        earlier: &str,
        report: &mut PollReport,
    ) {
        let key = po.key().key();
        let number = po.document.po_number.clone().unwrap_or_default();
        let what = if po.key().cancel {
            "cancellation"
        } else {
            "change"
        };
        let detail = format!(
            "waits for the operator: the {what} of a PO whose earlier version ({earlier}) was \
             left to Coupa for the operator to release, so the supplier has that version, if at \
             all, from Coupa, under a payloadID the gateway does not know; the gateway cannot \
             send a {what} referring to it (a change would reach the supplier as a second \
             order). Send this {what} from Coupa, as the version it changes was \
             (`gateway documents --doc {key}` follows it)"
        );
        report.not_ours += 1;
        match self.record_waiting(po, partner, &detail, report) {
            Ok(false) => {}
            Ok(true) => {
                tracing::info!(coupa_po_id = po.coupa_id, partner, po_number = %number,
                    doc_id = %self.doc_id_of(&key), adapter = "coupa", idempotency_key = %key,
                    earlier,
                    "purchase order {what} left to Coupa: an earlier version was left to Coupa; it waits for the operator");
            }
            Err(e) => tracing::warn!(coupa_po_id = po.coupa_id, partner, po_number = %number,
                error = %e,
                "purchase order {what} left to Coupa: an earlier version was left to Coupa; the ledger could not keep it"),
        }
    }

    /// Keeps `po` as `awaiting_operator` for `partner`, with why and what sends it (`detail`),
    /// under the key its version would be sent under. `Ok(true)` when it begins to wait now (a
    /// new row, or a new reason), counted in `report` and with the earlier versions that waited
    /// superseded: the caller logs it then, once per version, not at every poll.
    fn record_waiting(
        &self,
        po: &PendingPo,
        partner: &str,
        detail: &str,
        report: &mut PollReport,
    ) -> Result<bool, crate::ledger::LedgerError> {
        let key = po.key().key();
        let number = po.document.po_number.clone().unwrap_or_default();
        let doc_id = uuid::Uuid::new_v4().to_string();
        let row = NewDocument {
            idempotency_key: &key,
            doc_id: &doc_id,
            adapter: "coupa",
            partner,
            kind: DocumentKind::PurchaseOrder.as_str(),
            number: &number,
            business_key: None,
        };
        let began = self.ledger.record_awaiting_operator(&row, detail)?;
        if began {
            report.newly_waiting += 1;
            self.supersede_waiting(&po.key());
        }
        Ok(began)
    }

    /// Keeps `po`, whose supplier is `partner`, a profile without `[partners.outbound]`, as
    /// `awaiting_operator`, left to Coupa as a supplier whose record says `prompt` is: not
    /// marked exported, so Coupa (or its operator) still sends it, and logged once per
    /// version. It was published and died at delivery, every PO of an invoice-only partner a
    /// dead letter and an alert.
    fn keep_without_outbound(&self, po: &PendingPo, partner: &str, report: &mut PollReport) {
        let key = po.key().key();
        let number = po.document.po_number.clone().unwrap_or_default();
        let detail = format!(
            "waits for the operator: partner {partner}'s profile has no [partners.outbound], \
             so the gateway sends it no purchase orders and leaves them to Coupa. Release it to \
             the supplier in Coupa, or have the gateway send it: add [partners.outbound] (type \
             {}) to the partner's profile and restart the gateway; the next poll then sends it \
             (`gateway documents --doc {key}` follows it)",
            gateway_core::profile::OutboundChannel::TYPES
        );
        match self.record_waiting(po, partner, &detail, report) {
            Ok(false) => {}
            Ok(true) => tracing::info!(coupa_po_id = po.coupa_id, partner, po_number = %number,
                doc_id = %self.doc_id_of(&key), adapter = "coupa", idempotency_key = %key,
                "purchase order left to Coupa: the partner's profile has no [partners.outbound]; it waits for the operator (`gateway documents --status awaiting_operator` lists it with what sends it)"),
            Err(e) => tracing::warn!(coupa_po_id = po.coupa_id, partner, po_number = %number,
                error = %e,
                "purchase order left to Coupa: the partner's profile has no [partners.outbound]; the ledger could not keep it"),
        }
    }

    /// The doc id the ledger keeps under `key`, for a log line about that row, so it joins
    /// the lines and `gateway documents` rows that name the document by it; `-` when the
    /// ledger cannot say.
    fn doc_id_of(&self, key: &str) -> String {
        match self.ledger.entry(key) {
            Ok(Some(e)) => e.doc_id,
            _ => "-".into(),
        }
    }

    /// Earlier versions of the PO of `key` that waited for the operator become `superseded`:
    /// a failure only leaves them listed as waiting, so it is logged, not raised.
    fn supersede_waiting(&self, key: &PoKey) {
        if let Err(e) = self.ledger.supersede_waiting_po(key) {
            tracing::warn!(coupa_po_id = key.coupa_id, error = %e,
                "cannot mark the earlier versions of a purchase order that waited for the operator superseded");
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
            let (partner, coupa_supplier) = match self.route(&po, &mut report).await {
                Route::Send {
                    partner,
                    coupa_supplier,
                } => (partner, coupa_supplier),
                Route::LeftToCoupa {
                    coupa_supplier,
                    reason,
                } => {
                    self.keep_waiting(&po, coupa_supplier, &reason, &mut report);
                    continue;
                }
                Route::NoOutbound { partner } => {
                    self.keep_without_outbound(&po, &partner, &mut report);
                    continue;
                }
                Route::NotNow => continue,
            };
            let po_key = po.key();
            let key = po_key.key();
            if let Some(earlier) = self.ledger.earlier_po_left_to_coupa(&po_key)? {
                self.wait_behind_coupa(&po, &partner, &earlier, &mut report);
                continue;
            }
            let listed = Listed {
                coupa_id: po.coupa_id,
                number: po
                    .document
                    .po_number
                    .as_deref()
                    .unwrap_or_default()
                    .to_string(),
                key: po_key,
            };
            if self.publish(po, &partner, coupa_supplier, &key).await? {
                report.published += 1;
                self.supersede_waiting(&po_key);
            } else if self.exported_again(&listed).await? {
                report.marked_again += 1;
            } else {
                report.in_flight += 1;
            }
        }
        Ok(report)
    }

    /// A PO version already claimed that Coupa lists as not exported: when the ledger says
    /// the supplier was sent it (delivered, or refused by the supplier after it got it), or
    /// that it needed no sending (a cancellation of a PO never sent), the export mark
    /// is the truth, so it is marked exported again, through the same mark as after a
    /// delivery (made only while Coupa holds that version), and logged once, naming `gateway
    /// resend` for a supplier that lost it. Before, such a PO (someone set `exported` false in
    /// Coupa) was skipped at every poll without a sign. Other states (on its way, dead) are
    /// not marked: false.
    async fn exported_again(&self, po: &Listed) -> anyhow::Result<bool> {
        let key = po.key.key();
        let Some(exporter) = &self.exporter else {
            return Ok(false);
        };
        let Some(entry) = self.ledger.entry(&key)? else {
            return Ok(false);
        };
        if !matches!(
            entry.status.as_str(),
            "delivered" | "partner_rejected" | "cancelled_unsent"
        ) {
            return Ok(false);
        }
        let (coupa_po_id, version) = (po.coupa_id, po.key.version);
        match exporter.mark_exported(coupa_po_id, Some(po.key)).await {
            Ok(true) => {
                let then = match entry.status.as_str() {
                    "cancelled_unsent" => "nothing was sent for it: no version of the PO had \
                                           gone to the supplier"
                        .to_string(),
                    _ => format!(
                        "if the supplier lost it, `gateway resend {}` sends it again",
                        entry.doc_id
                    ),
                };
                tracing::info!(coupa_po_id, po_number = %po.number, version,
                    partner = %entry.partner, doc_id = %entry.doc_id, adapter = %entry.adapter,
                    idempotency_key = %key, status = %entry.status,
                    "Coupa listed purchase order {} version {version} as not exported, though \
                     the gateway took it ({}): marked exported again; {then}",
                    po.number, entry.status);
                Ok(true)
            }
            // Coupa holds another version or state by now: the next poll reads that one.
            Ok(false) => Ok(false),
            Err(e) => {
                tracing::warn!(coupa_po_id, po_number = %po.number, version,
                    partner = %entry.partner, doc_id = %entry.doc_id, adapter = %entry.adapter,
                    idempotency_key = %key, error = %e,
                    "Coupa lists a purchase order the gateway took as not exported, and \
                     marking it exported again failed; tried at the next poll");
                Ok(false)
            }
        }
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
            let partner = self.partner_of_unreadable(po);
            match self.ledger.record_refused_input(&RefusedInput {
                key: &key,
                adapter: "coupa",
                partner: &partner,
                kind: DocumentKind::PurchaseOrder.as_str(),
                label: &number,
                detail: &po.reason,
                source: "",
            }) {
                Ok(false) => {}
                Ok(true) => {
                    gateway_core::metrics::count(
                        gateway_core::metrics::Counter::Rejected,
                        "coupa",
                        DocumentKind::PurchaseOrder.as_str(),
                        1,
                    );
                    tracing::error!(coupa_po_id = po.coupa_id, po_number = %number,
                        doc_id = %self.doc_id_of(&key), adapter = "coupa",
                        idempotency_key = %key, reason = %po.reason,
                        "a Coupa purchase order cannot be sent: fix it in Coupa (`gateway documents --status rejected` lists it)");
                }
                Err(e) => tracing::error!(coupa_po_id = po.coupa_id, po_number = %number,
                    reason = %po.reason, error = %e,
                    "a Coupa purchase order cannot be sent, and the ledger could not keep it"),
            }
        }
    }

    /// Whose an unreadable PO is: the partner whose profile names its Coupa supplier, else
    /// the supplier as known only from Coupa (as a PO left to Coupa is kept), else nobody's
    /// (`(unknown)`). Coupa is not asked: the PO is not sent whatever the supplier's record
    /// says.
    fn partner_of_unreadable(&self, po: &UnreadablePo) -> String {
        match self.partners.by_coupa_supplier(
            po.supplier_id,
            po.supplier_number.as_deref(),
            po.supplier_name.as_deref(),
        ) {
            Some(p) => p.id.clone(),
            None => po
                .supplier_id
                .map_or_else(|| "(unknown)".to_string(), coupa_supplier_partner_id),
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
        let doc_id = envelope.doc_id.clone();
        let adapter = envelope.adapter.clone();
        let body = to_json_line(&Document::PurchaseOrder(po.document)).into_bytes();
        let message = Message { envelope, body };
        if let Err(e) = self.bus.publish(std::slice::from_ref(&message)).await {
            let _ = self.ledger.release(key);
            return Err(e.into());
        }
        self.ledger.set_status(key, Status::Published, "")?;
        tracing::info!(coupa_po_id = po.coupa_id, partner = %partner, po_number = %number,
            doc_id = %doc_id, adapter = %adapter, idempotency_key = %key,
            "purchase order queued for the supplier");
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
        let (partner, coupa_supplier) = match self.route(&po, &mut report).await {
            Route::Send {
                partner,
                coupa_supplier,
            } => (partner, coupa_supplier),
            Route::LeftToCoupa {
                coupa_supplier,
                reason,
            } => anyhow::bail!(
                "the gateway no longer sends PO {} to a supplier: Coupa supplier \
                 {coupa_supplier} {reason}; change its {} in Coupa or add a [[partners]] \
                 entry with its coupa_supplier",
                entry.number,
                PoMethod::of_order(&po.document).field()
            ),
            Route::NoOutbound { partner } => anyhow::bail!(
                "the gateway no longer sends PO {} to a supplier: partner {partner}'s profile \
                 has no [partners.outbound]; add one (type {}) to send it",
                entry.number,
                gateway_core::profile::OutboundChannel::TYPES
            ),
            Route::NotNow => anyhow::bail!(
                "the gateway does not send PO {} now: its supplier has no partner profile, or \
                 Coupa could not be asked for its record (see the log)",
                entry.number
            ),
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
    use gateway_core::PartnerProfile;

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
            history: String::new(),
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

    /// Coupa's pending POs, as the test sets them.
    struct Fixed(std::sync::Mutex<Vec<PendingPo>>);

    impl PoSource for Fixed {
        fn pending(&self) -> BoxFuture<'_, Result<Pending, DeliveryError>> {
            let pos = self.0.lock().unwrap().clone();
            Box::pin(async move {
                Ok(Pending {
                    pos,
                    unreadable: Vec::new(),
                })
            })
        }

        fn by_id(&self, id: u64) -> BoxFuture<'_, Result<Option<PendingPo>, DeliveryError>> {
            let po = self
                .0
                .lock()
                .unwrap()
                .iter()
                .find(|p| p.coupa_id == id)
                .cloned();
            Box::pin(async move { Ok(po) })
        }
    }

    /// A supplier known only in Coupa: its record's po-method is `prompt` until the test
    /// gives it a channel (`Some` profile).
    struct Supplier(std::sync::Mutex<Option<PartnerProfile>>);

    impl CoupaSupplierProfiles for Supplier {
        fn profile(
            &self,
            _: u64,
            _: PoMethod,
        ) -> BoxFuture<'_, Result<Result<PartnerProfile, String>, DeliveryError>> {
            let profile = self.0.lock().unwrap().clone().ok_or_else(|| {
                "its po-method is prompt: Coupa holds its POs for the buyer to release".to_string()
            });
            Box::pin(async move { Ok(profile) })
        }
    }

    fn hooli_po(version: u32) -> PendingPo {
        PendingPo {
            coupa_id: 4711,
            version: Some(version),
            supplier_id: Some(7),
            supplier_number: None,
            supplier_name: Some("Hooli".into()),
            status: Some("issued".into()),
            document: PurchaseOrder {
                po_number: Some("PO-HOOLI-1".into()),
                ..PurchaseOrder::default()
            },
        }
    }

    /// What the poller logs, captured for the test's thread.
    #[derive(Clone, Default)]
    struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Logs {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Logs {
        fn count(&self, text: &str) -> usize {
            String::from_utf8_lossy(&self.0.lock().unwrap())
                .matches(text)
                .count()
        }
    }

    /// A PO whose supplier's Coupa record is `prompt` is kept in the ledger as
    /// `awaiting_operator`, with why and what sends it, so `gateway documents` lists it; it is
    /// logged when it begins to wait and again only for a new version, not at every poll. Once
    /// the supplier has a channel, the next poll takes the row over and sends the PO. Before,
    /// it was logged at every poll and the ledger had no trace of it.
    #[tokio::test]
    async fn a_po_left_to_coupa_waits_for_the_operator_and_is_logged_once_per_version() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Arc::new(Ledger::open(&dir.path().join("ledger.sqlite")).unwrap());
        let bus = crate::bus::open(
            &crate::config::BusConfig {
                embedded_path: dir.path().join("bus.sqlite"),
                ..crate::config::BusConfig::default()
            },
            crate::bus::Role::Server,
        )
        .await
        .unwrap();
        let source = Arc::new(Fixed(std::sync::Mutex::new(vec![hooli_po(1)])));
        let supplier = Arc::new(Supplier(std::sync::Mutex::new(None)));
        let poller = PoPoller::new(
            source.clone(),
            Partners::new(Vec::new()),
            Arc::clone(&ledger),
            bus,
        )
        .with_coupa_suppliers(supplier.clone());
        let logs = Logs::default();
        let writer = logs.clone();
        let _logging = tracing::subscriber::set_default(
            tracing_subscriber::fmt()
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish(),
        );
        const LOGGED: &str = "purchase order left to Coupa";

        for poll in 0..3 {
            let report = poller.poll().await.unwrap();
            assert_eq!(
                (report.not_ours, report.newly_waiting, report.published),
                (1, usize::from(poll == 0), 0),
                "poll {poll}: {report:?}"
            );
        }
        assert_eq!(logs.count(LOGGED), 1, "logged at every poll");
        let waiting = ledger
            .search(&crate::ledger::DocumentFilter {
                status: Some("awaiting_operator"),
                limit: 10,
                ..crate::ledger::DocumentFilter::default()
            })
            .unwrap();
        assert_eq!(waiting.len(), 1, "{waiting:?}");
        let row = &waiting[0];
        assert_eq!(
            (row.idempotency_key.as_str(), row.partner.as_str()),
            ("coupa-po:4711:v1", "coupa-supplier-7")
        );
        assert_eq!(
            (row.kind.as_str(), row.number.as_str()),
            ("purchase_order", "PO-HOOLI-1")
        );
        // What `gateway documents` prints: the status, why, and what sends it.
        let mut listed = Vec::new();
        crate::documents::print(&waiting, false, None, &mut listed).unwrap();
        let listed = String::from_utf8(listed).unwrap();
        for expected in [
            "awaiting_operator",
            "PO-HOOLI-1",
            "waits for the operator: Coupa supplier 7 (Hooli) its po-method is prompt",
            "set the supplier's po-method to cxml",
            "id = 7",
            "`gateway documents --doc coupa-po:4711:v1`",
        ] {
            assert!(listed.contains(expected), "{expected:?} not in {listed}");
        }

        // A new version is a new key: it waits too, and is logged once more.
        *source.0.lock().unwrap() = vec![hooli_po(2)];
        for poll in 0..2 {
            let report = poller.poll().await.unwrap();
            assert_eq!(report.newly_waiting, usize::from(poll == 0), "{report:?}");
        }
        assert_eq!(logs.count(LOGGED), 2);
        // Version 1 waits for no one any more: the later version stands for the PO.
        let v1 = ledger.entry("coupa-po:4711:v1").unwrap().unwrap();
        assert_eq!(v1.status, "superseded", "{v1:?}");
        assert!(v1.detail.contains("coupa-po:4711:v2"), "{v1:?}");

        // The supplier gets a channel: version 2 still waits, since version 1 was left to
        // Coupa, which may have sent it under a payloadID the gateway does not know (qa14c
        // item 3): a change from the gateway could not refer to it.
        *supplier.0.lock().unwrap() =
            Some(PartnerProfile::from_toml("id = \"coupa-supplier-7\"", "-").unwrap());
        let report = poller.poll().await.unwrap();
        assert_eq!((report.published, report.not_ours), (0, 1), "{report:?}");
        let waits = ledger.entry("coupa-po:4711:v2").unwrap().unwrap();
        assert_eq!(waits.status, "awaiting_operator", "{waits:?}");
        assert!(
            waits
                .detail
                .contains("earlier version (coupa-po:4711:v1) was left to Coupa")
                && waits.detail.contains("Send this change from Coupa")
                && !waits.detail.contains("  "),
            "{waits:?}"
        );
    }

    /// A resend of a PO whose supplier Coupa now holds POs for says so, in words.
    #[tokio::test]
    async fn a_resend_to_a_supplier_left_to_coupa_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Arc::new(Ledger::open(&dir.path().join("ledger.sqlite")).unwrap());
        let bus = crate::bus::open(
            &crate::config::BusConfig {
                embedded_path: dir.path().join("bus.sqlite"),
                ..crate::config::BusConfig::default()
            },
            crate::bus::Role::Server,
        )
        .await
        .unwrap();
        let poller = PoPoller::new(
            Arc::new(Fixed(std::sync::Mutex::new(vec![hooli_po(1)]))),
            Partners::new(Vec::new()),
            ledger,
            bus,
        )
        .with_coupa_suppliers(Arc::new(Supplier(std::sync::Mutex::new(None))));
        let err = poller
            .resend(&entry("coupa-po:4711:v1", "coupa", "delivered"))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Coupa supplier 7 its po-method is prompt"),
            "{err}"
        );
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
        // A cancellation that found nothing to cancel sent nothing: not "on its way".
        let unsent = refusal("coupa-po:4711:v2:cancel", "coupa", "cancelled_unsent");
        assert!(
            unsent.contains("nothing was sent") && !unsent.contains("on its way"),
            "{unsent}"
        );
        assert!(refusal("inv-key", "x12-http", "delivered").contains("not a Coupa purchase order"));
        assert!(refusal("coupa-po:x:v2", "coupa", "delivered").contains("not a Coupa"));
    }
}
