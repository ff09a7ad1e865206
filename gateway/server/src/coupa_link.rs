//! The Coupa side of the service, built from `[coupa]` and the partner profiles: the invoice
//! outbound, the PO source for the poller, the exporter that marks POs exported, and partner
//! profiles made from Coupa supplier records for suppliers the configuration does not name.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use adapter_coupa::invoices::{KnownInvoices, number_key};
use adapter_coupa::purchase_orders::PulledOrder;
use adapter_coupa::{
    CoupaClient, CoupaClientConfig, CoupaError, CoupaInvoiceDelivery, CoupaSupplier, PoQuery,
    SharedSupplier, SupplierPoChannel,
};
use anyhow::Context;
use futures::FutureExt;
use futures::future::BoxFuture;
use gateway_core::profile::{CoupaSupplierRef, CxmlProfile, OutboundChannel};
use gateway_core::{DeliveryError, Envelope, Outbound, PartnerProfile, Receipt};
use gateway_model::Document;
use serde_json::Value;

use crate::config::{Config, CoupaSection};
use crate::ledger::{Ledger, Status};
use crate::po_keys::PoKey;
use crate::po_poller::{Pending, PendingPo, PoSource, UnreadablePo};
use crate::service::CoupaParts;
use crate::supplier::{CoupaSupplierProfiles, PoExporter, PoMethod, coupa_supplier_partner_id};

pub fn client_config(c: &CoupaSection) -> CoupaClientConfig {
    let mut cfg = CoupaClientConfig::new(&c.base_url, &c.client_id, c.client_secret.clone());
    cfg.scopes = c.scopes.clone();
    cfg.submit_after_create = c.submit_after_create;
    cfg.rate_per_sec = c.rate_per_sec;
    cfg.burst = c.burst;
    cfg.timeout = Duration::from_millis(c.timeout_ms);
    cfg.token_activation = Duration::from_millis(c.token_activation_ms);
    cfg.account_type = c
        .account_type
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string);
    cfg
}

/// Builds the Coupa parts of the service from the configuration.
pub fn parts(config: &Config) -> anyhow::Result<CoupaParts> {
    let invoices = invoice_delivery(config)?;
    let client = Arc::clone(invoices.client());
    let readiness = Arc::new(CoupaReachable::new(Arc::clone(&client))?);
    let pos = Arc::new(CoupaPurchaseOrders::new(client, config.ledger.path.clone()));
    Ok(CoupaParts {
        invoices: Arc::new(CoupaInvoices(invoices)),
        exporter: pos.clone(),
        suppliers: pos.clone(),
        po_source: pos,
        readiness,
    })
}

/// Invoice delivery to the configuration's Coupa, each partner's invoices to its Coupa
/// supplier: what the service's `coupa-invoices` consumer runs, and what `gateway dlq` asks
/// what a replay would do.
pub fn invoice_delivery(config: &Config) -> anyhow::Result<CoupaInvoiceDelivery> {
    invoice_delivery_with(config, client_config(&config.coupa))
}

/// [`invoice_delivery`] for an operator's question (`gateway dlq show`, `replay --dry-run`):
/// each call is made once, so a Coupa that does not answer is said so at once rather than
/// after delivery's retries.
pub fn invoice_lookup(config: &Config) -> anyhow::Result<CoupaInvoiceDelivery> {
    let mut cfg = client_config(&config.coupa);
    cfg.max_attempts = 1;
    invoice_delivery_with(config, cfg)
}

/// Two partners whose `[partners.coupa_supplier]` are one Coupa supplier by different keys
/// (one by id, the other by the number Coupa gives that id): the configuration check compares
/// keys alike only, so both started without a word, and the second got none of the supplier's
/// POs. `gateway serve` calls this as it starts: every partner's supplier is resolved at Coupa,
/// each call made once ([`invoice_lookup`]; one lookup per partner named by number or name),
/// and each such pair is logged as an error naming both partners and what to change
/// ([`SharedSupplier`]). Delivery checks again as it resolves each partner's supplier, so a
/// Coupa that does not answer now (logged as a warning) hides nothing for long.
pub async fn check_partner_suppliers(config: &Config) -> anyhow::Result<Vec<SharedSupplier>> {
    let (shared, failed) = invoice_lookup(config)?.resolve_partners().await;
    for (partner, error) in failed {
        tracing::warn!(partner = %partner, error = %error,
            "cannot resolve the partner's [partners.coupa_supplier] at Coupa now; whether \
             another partner is the same Coupa supplier is checked again when its invoices \
             are delivered");
    }
    Ok(shared)
}

fn invoice_delivery_with(
    config: &Config,
    cfg: CoupaClientConfig,
) -> anyhow::Result<CoupaInvoiceDelivery> {
    let client = Arc::new(CoupaClient::new(cfg).context("building the Coupa client")?);
    client.know_invoices_from(Arc::new(DeliveredInLedger::new(config)));
    let mut invoices = CoupaInvoiceDelivery::new(client)
        .with_attachment_store(gateway_core::AttachmentStore::new(config.attachments_dir()));
    for p in &config.partners {
        if let Some(s) = &p.coupa_supplier {
            invoices = invoices.with_partner(p.id.clone(), s.clone());
        }
    }
    Ok(invoices)
}

/// The `coupa-invoices` outbound: [`CoupaInvoiceDelivery`], with a dead letter's reason
/// naming the invoice's partner where the operator's fix is its profile (a supplier Coupa does
/// not have: which `[partners.coupa_supplier]` to check, and how to replay only its invoices).
#[derive(Debug)]
pub struct CoupaInvoices(pub CoupaInvoiceDelivery);

impl Outbound for CoupaInvoices {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn deliver<'a>(
        &'a self,
        envelope: &'a Envelope,
        document: &'a Document,
    ) -> BoxFuture<'a, Result<Receipt, DeliveryError>> {
        async move {
            self.0.deliver(envelope, document).await.map_err(|e| {
                match (e, envelope.partner.as_deref()) {
                    (DeliveryError::Permanent { reason }, Some(partner)) => {
                        DeliveryError::Permanent {
                            reason: adapter_coupa::error::with_partner_named(reason, partner),
                        }
                    }
                    (e, _) => e,
                }
            })
        }
        .boxed()
    }
}

/// The ledger as the duplicate guard's memory ([`KnownInvoices`]): the Coupa ids of invoices
/// delivered under a number, whatever its letter case, read from the rows the intake keyed by
/// partner and number (`invoice:<partner>:<NUMBER>`, the number trimmed and upper-cased as
/// [`number_key`] does) and the delivery marked `coupa: <id>`. Coupa may look numbers up with
/// letter case (it does not say); without this a copy sent as `case-r2` after `CASE-R2` was
/// delivered became a second invoice, a double payment.
///
/// Every configured partner's key is asked (two partners may be one Coupa supplier; the guard
/// checks each invoice's supplier). The ledger is opened when first needed ([`LazyLedger`]);
/// until it exists nothing was delivered.
#[derive(Debug)]
struct DeliveredInLedger {
    partners: Vec<String>,
    ledger: LazyLedger,
}

impl DeliveredInLedger {
    fn new(config: &Config) -> Self {
        DeliveredInLedger {
            partners: config.partners.iter().map(|p| p.id.clone()).collect(),
            ledger: LazyLedger::new(config.ledger.path.clone()),
        }
    }
}

/// The ledger at `path`, opened once, when first needed: the Coupa parts are built before the
/// service opens (and creates) the ledger at start.
#[derive(Debug)]
struct LazyLedger {
    path: PathBuf,
    ledger: std::sync::Mutex<Option<Arc<Ledger>>>,
}

impl LazyLedger {
    fn new(path: PathBuf) -> Self {
        LazyLedger {
            path,
            ledger: std::sync::Mutex::new(None),
        }
    }

    /// The ledger; `None` while there is none (nothing was ever written to it).
    fn existing(&self) -> Result<Option<Arc<Ledger>>, String> {
        self.get(false)
    }

    /// The ledger, created when there is none yet.
    fn created(&self) -> Result<Arc<Ledger>, String> {
        self.get(true)?
            .ok_or_else(|| format!("no ledger at {}", self.path.display()))
    }

    fn get(&self, create: bool) -> Result<Option<Arc<Ledger>>, String> {
        let mut held = self
            .ledger
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(l) = held.as_ref() {
            return Ok(Some(Arc::clone(l)));
        }
        if !create && !self.path.exists() {
            return Ok(None);
        }
        let l = Arc::new(
            Ledger::open(&self.path)
                .map_err(|e| format!("opening the ledger at {}: {e}", self.path.display()))?,
        );
        *held = Some(Arc::clone(&l));
        Ok(Some(l))
    }
}

/// The Coupa invoice id a delivered row's detail names (`coupa: 20`, `coupa: 20 (already
/// there: ...)`, as the consumer writes it).
pub(crate) fn coupa_id_in(detail: &str) -> Option<u64> {
    let rest = detail.strip_prefix("coupa: ")?;
    let digits = rest.split(|c: char| !c.is_ascii_digit()).next()?;
    digits.parse().ok()
}

impl KnownInvoices for DeliveredInLedger {
    fn coupa_ids(&self, key: &str) -> Result<Vec<u64>, String> {
        let Some(ledger) = self.ledger.existing()? else {
            return Ok(Vec::new());
        };
        let key = number_key(key);
        let mut ids = Vec::new();
        for partner in &self.partners {
            let rows = ledger
                .same_business_key(&format!("invoice:{partner}:{key}"), "")
                .map_err(|e| e.to_string())?;
            ids.extend(
                rows.iter()
                    .filter(|e| e.status == Status::Delivered.as_str())
                    .filter_map(|e| coupa_id_in(&e.detail)),
            );
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }
}

/// Coupa purchase orders: the poller's source and the exporter.
#[derive(Debug)]
pub struct CoupaPurchaseOrders {
    client: Arc<CoupaClient>,
    /// Marks of one PO take turns, so a mark's "read, mark, read again" is not interleaved
    /// with another's of the same PO (two versions' deliveries marking at once), nor with the
    /// poller settling an earlier mark of it, in this process.
    marking: gateway_core::Turns<u64>,
    /// Where a mark not yet seen settled is noted, before it is written, until Coupa is seen
    /// holding the version sent (the read after the mark failed, or marking the PO not
    /// exported again did): the mark's retry, or the poller, finding another version in Coupa
    /// sets `exported` false again. In the ledger, so a gateway stopped in between leaves the
    /// note for the next one ([`Ledger::note_unsettled_mark`]).
    ledger: LazyLedger,
}

impl CoupaPurchaseOrders {
    fn new(client: Arc<CoupaClient>, ledger: PathBuf) -> Self {
        CoupaPurchaseOrders {
            client,
            marking: gateway_core::Turns::default(),
            ledger: LazyLedger::new(ledger),
        }
    }

    /// Notes that `sent` is being marked exported. Before the mark: without the note a stop
    /// could leave a hidden version no one settles, so a failure here fails the mark
    /// (retried) before it is written.
    fn note_unsettled(&self, sent: &PoKey) -> Result<(), DeliveryError> {
        self.ledger
            .created()
            .and_then(|l| l.note_unsettled_mark(sent).map_err(|e| e.to_string()))
            .map_err(|e| {
                DeliveryError::retryable(format!(
                    "cannot note in the ledger that PO {} is being marked exported, so it is not \
                     marked yet: {e}",
                    sent.coupa_id
                ))
            })
    }

    /// The version an unsettled mark of `coupa_po_id` was made for, if any.
    fn unsettled(&self, coupa_po_id: u64) -> Result<Option<PoKey>, DeliveryError> {
        let ledger = self.ledger.existing().map_err(DeliveryError::retryable)?;
        match ledger {
            Some(l) => l.unsettled_mark(coupa_po_id).map_err(|e| {
                DeliveryError::retryable(format!(
                    "cannot read whether the export mark of PO {coupa_po_id} is settled: {e}"
                ))
            }),
            None => Ok(None),
        }
    }

    /// Forgets the note of `coupa_po_id`'s mark, seen right or undone. A failure is only
    /// logged: the note left makes the poller read the PO once more and, Coupa holding the
    /// version marked, forget it then.
    fn settled(&self, coupa_po_id: u64) {
        let forgotten = self.ledger.existing().and_then(|l| {
            l.map_or(Ok(()), |l| {
                l.settle_mark(coupa_po_id).map_err(|e| e.to_string())
            })
        });
        if let Err(e) = forgotten {
            tracing::warn!(coupa_po_id, error = %e,
                "cannot forget the settled export mark of the PO in the ledger; the poller reads \
                 the PO again and forgets it then");
        }
    }

    /// Settles the export mark of `coupa_po_id` noted for `noted` when Coupa holds `holds`:
    /// another version is hidden by that mark, so it is marked not exported again; the same
    /// one (or none: the PO is gone) needs nothing. The note is forgotten either way, unless
    /// setting the flag fails.
    async fn settle(
        &self,
        coupa_po_id: u64,
        noted: PoKey,
        holds: Option<PoKey>,
    ) -> Result<(), DeliveryError> {
        match holds {
            Some(holds) if holds != noted => self.unmark(coupa_po_id, noted, holds).await,
            _ => {
                self.settled(coupa_po_id);
                Ok(())
            }
        }
    }

    /// Settles every mark noted unsettled, by this process or one before it (a gateway
    /// stopped between the mark and the read after it, or whose retries of the mark all
    /// failed until its message died): the poller calls this before reading what is pending,
    /// so a version such a mark hid is read by the same poll. Each PO in its turn with the
    /// marks; a failure is logged and left for the next poll.
    async fn settle_unsettled(&self) {
        let noted = match self.ledger.existing() {
            Ok(Some(l)) => l.unsettled_marks().map_err(|e| e.to_string()),
            Ok(None) => return,
            Err(e) => Err(e),
        };
        let noted = match noted {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the unsettled export marks in the ledger; tried at the next poll");
                return;
            }
        };
        for mark in noted {
            let id = mark.coupa_id;
            let _turn = self.marking.take(id).await;
            // A mark of the PO may have settled or replaced the note while this waited.
            let settled = match self.unsettled(id) {
                Ok(Some(noted)) => match self.by_id(id).await {
                    Ok(holds) => self.settle(id, noted, holds.map(|p| p.key())).await,
                    Err(e) => Err(e),
                },
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(e) = settled {
                tracing::warn!(coupa_po_id = id, marked = %mark.key(), error = %e,
                    "cannot settle the PO's export mark (whether Coupa holds another version \
                     it hides); tried at the next poll");
            }
        }
    }

    /// Sets `exported` false again on a PO marked while Coupa took a buyer's change of it
    /// (`sent` was sent and marked; Coupa holds `holds` now), so the poller reads the new
    /// version and sends it, and forgets the mark's note. Logged: the mark's window was hit.
    async fn unmark(
        &self,
        coupa_po_id: u64,
        sent: PoKey,
        holds: PoKey,
    ) -> Result<(), DeliveryError> {
        self.client
            .set_exported(coupa_po_id, false)
            .await
            .map_err(|e| export_flag_refused(coupa_po_id, "not exported", e))?;
        self.settled(coupa_po_id);
        tracing::warn!(coupa_po_id, sent = %sent.key(), coupa_holds = %holds.key(),
            "the PO changed in Coupa while it was being marked exported: marked not exported \
             again, so the poller sends what Coupa holds now");
        Ok(())
    }
}

/// The scope Coupa asks of an API client that sets a PO's `exported` flag.
const PO_WRITE_SCOPE: &str = "core.purchase_order.write";

/// A failed write of PO `coupa_po_id`'s export flag (marking it `what`). A 403 is Coupa
/// refusing the API client for want of a scope; said with the scope to grant, the bare
/// "forbidden (missing scope?)" left the operator guessing which. Anything else as
/// [`DeliveryError::from`] says it.
fn export_flag_refused(coupa_po_id: u64, what: &str, e: CoupaError) -> DeliveryError {
    match e {
        CoupaError::Forbidden(_) => DeliveryError::permanent(format!(
            "Coupa refused to mark PO {coupa_po_id} {what}: {e}; the gateway's Coupa API client needs the scope {PO_WRITE_SCOPE}: grant it to the client in Coupa (its OAuth2/OpenID Connect client) and keep it in [coupa] scopes"
        )),
        other => DeliveryError::from(other),
    }
}

/// A PO's supplier as Coupa names it (`supplier`): its id, number and name, each when given;
/// `None` when the PO names none.
struct SupplierFacts {
    id: Option<u64>,
    number: Option<String>,
    name: Option<String>,
}

fn supplier_facts(po: &Value) -> Option<SupplierFacts> {
    let supplier = po.get("supplier").filter(|s| !s.is_null())?;
    let text = |k: &str| supplier.get(k).and_then(Value::as_str).map(str::to_string);
    Some(SupplierFacts {
        id: supplier.get("id").and_then(Value::as_u64),
        number: text("number"),
        name: text("name"),
    })
}

/// The id, version, number and supplier of a PO as Coupa sent it, for keeping it, under its
/// supplier's partner, when it cannot be read (`reason` left empty for the caller); `None`
/// without a numeric id.
fn unreadable_facts(pulled: &PulledOrder) -> Option<UnreadablePo> {
    let v = &pulled.raw;
    let supplier = supplier_facts(v);
    Some(UnreadablePo {
        coupa_id: pulled.coupa_id?,
        version: v
            .get("version")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok()),
        po_number: v
            .get("po-number")
            .and_then(Value::as_str)
            .map(str::to_string),
        supplier_id: supplier.as_ref().and_then(|s| s.id),
        supplier_number: supplier.as_ref().and_then(|s| s.number.clone()),
        supplier_name: supplier.and_then(|s| s.name),
        reason: String::new(),
    })
}

fn pending_po(pulled: PulledOrder) -> Result<PendingPo, String> {
    let v = &pulled.raw;
    let coupa_id = pulled
        .coupa_id
        .ok_or("purchase order without a numeric id")?;
    let document = pulled.order.map_err(|e| format!("PO {coupa_id}: {e}"))?;
    let Some(supplier) = supplier_facts(v) else {
        return Err(format!(
            "PO {coupa_id} names no supplier in Coupa; give it one there"
        ));
    };
    Ok(PendingPo {
        coupa_id,
        version: v
            .get("version")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .or(document.version),
        supplier_id: supplier.id,
        supplier_number: supplier.number,
        supplier_name: supplier.name,
        status: v.get("status").and_then(Value::as_str).map(str::to_string),
        document,
    })
}

impl PoSource for CoupaPurchaseOrders {
    fn pending(&self) -> BoxFuture<'_, Result<Pending, DeliveryError>> {
        async move {
            self.settle_unsettled().await;
            let pulled = self
                .client
                .pull_purchase_orders(&PoQuery::default())
                .await
                .map_err(DeliveryError::from)?;
            let mut out = Pending::default();
            for p in pulled {
                let facts = unreadable_facts(&p);
                match pending_po(p) {
                    Ok(p) => out.pos.push(p),
                    Err(reason) => match facts {
                        Some(unreadable) => {
                            out.unreadable.push(UnreadablePo {
                                reason,
                                ..unreadable
                            });
                        }
                        None => tracing::error!(error = %reason,
                            "cannot map a Coupa purchase order without an id; skipped until fixed in Coupa"),
                    },
                }
            }
            Ok(out)
        }
        .boxed()
    }

    fn by_id(&self, coupa_id: u64) -> BoxFuture<'_, Result<Option<PendingPo>, DeliveryError>> {
        async move {
            let query = PoQuery {
                only_unexported: false,
                ..PoQuery::default()
            }
            .filter("id", &coupa_id.to_string());
            let pulled = self
                .client
                .pull_purchase_orders(&query)
                .await
                .map_err(DeliveryError::from)?;
            match pulled.into_iter().find(|p| p.coupa_id == Some(coupa_id)) {
                Some(p) => pending_po(p).map(Some).map_err(|e| {
                    DeliveryError::permanent(format!("{e}; fix the PO in Coupa and try again"))
                }),
                None => Ok(None),
            }
        }
        .boxed()
    }
}

impl PoExporter for CoupaPurchaseOrders {
    /// Reads the PO first: only when Coupa holds the version (and state) that was sent is it
    /// marked. Coupa offers no conditional update, so a buyer's change can still land between
    /// that read and the mark, which then hides the new version (Coupa reset `exported` for it,
    /// the mark set it again). So the PO is read once more after the mark, and when Coupa holds
    /// another version by then, `exported` is set false again (logged) and the poller sends it.
    /// The mark is noted unsettled in the ledger before it is written and forgotten once seen
    /// right, so after a failure in between (or a stop) the retry of the mark, or the next
    /// poll ([`CoupaPurchaseOrders::settle_unsettled`]), sets it false again when Coupa holds
    /// another version than the one marked.
    fn mark_exported(
        &self,
        coupa_po_id: u64,
        sent: Option<PoKey>,
    ) -> BoxFuture<'_, Result<bool, DeliveryError>> {
        async move {
            let _turn = self.marking.take(coupa_po_id).await;
            let Some(sent) = sent else {
                self.client
                    .mark_exported(coupa_po_id)
                    .await
                    .map_err(|e| export_flag_refused(coupa_po_id, "exported", e))?;
                return Ok(true);
            };
            let before = self.by_id(coupa_po_id).await?.map(|p| p.key());
            if before != Some(sent) {
                if let Some(noted) = self.unsettled(coupa_po_id)? {
                    self.settle(coupa_po_id, noted, before).await?;
                }
                return Ok(false);
            }
            self.note_unsettled(&sent)?;
            self.client
                .mark_exported(coupa_po_id)
                .await
                .map_err(|e| export_flag_refused(coupa_po_id, "exported", e))?;
            match self.by_id(coupa_po_id).await?.map(|p| p.key()) {
                Some(holds) if holds != sent => {
                    self.unmark(coupa_po_id, sent, holds).await?;
                    Ok(false)
                }
                _ => {
                    self.settled(coupa_po_id);
                    Ok(true)
                }
            }
        }
        .boxed()
    }
}

impl CoupaSupplierProfiles for CoupaPurchaseOrders {
    fn profile(
        &self,
        coupa_supplier_id: u64,
        method: PoMethod,
    ) -> BoxFuture<'_, Result<Result<PartnerProfile, String>, DeliveryError>> {
        async move {
            let supplier = self
                .client
                .supplier_by_id(coupa_supplier_id)
                .await
                .map_err(DeliveryError::from)?;
            Ok(profile_from_supplier(&supplier, method))
        }
        .boxed()
    }
}

/// A partner profile from a Coupa supplier record for a PO going by `method`: the channel its
/// `po-method` (a new order) or `po-change-method` (a change or cancellation; the record's
/// `po-method` when it has none) names (e-mailed POs are attached as CSV, the Coupa PO export
/// layout) and, for cXML, Coupa's PO credentials (`cxml-domain`/`cxml-identity` are us, the buyer, in From and
/// Sender; `cxml-supplier-*` the supplier in To). Coupa's API does not return `cxml-secret`
/// (secrets are write-only), so the Sender carries a shared secret only if a record ever
/// does; a supplier that checks one needs a `[[partners]]` entry with
/// `outbound_shared_secret`. `Err` says why the record gives nothing to send on.
pub fn profile_from_supplier(
    s: &CoupaSupplier,
    method: PoMethod,
) -> Result<PartnerProfile, String> {
    let c = &s.po_cxml;
    // The cXML credentials only for the cXML channel: a profile with a [cxml] section gets its
    // mailed POs as cXML, and an e-mail supplier's record has no cXML identities to write.
    let channel = match method {
        PoMethod::Order => s.po_channel(),
        PoMethod::Change => s.po_change_channel(),
    };
    let (outbound, cxml) = match channel {
        SupplierPoChannel::Cxml { url } => (
            OutboundChannel::Cxml { url },
            Some(CxmlProfile {
                from_domain: c.supplier_domain.clone(),
                from_identity: c.supplier_identity.clone(),
                to_domain: c.buyer_domain.clone(),
                to_identity: c.buyer_identity.clone(),
                outbound_shared_secret: c.secret.clone(),
                ..CxmlProfile::default()
            }),
        ),
        SupplierPoChannel::Email { to } => (OutboundChannel::Email { to }, None),
        SupplierPoChannel::NotSent { reason } => return Err(reason),
    };
    Ok(PartnerProfile {
        id: coupa_supplier_partner_id(s.id),
        name: s.name.clone(),
        coupa_supplier: Some(CoupaSupplierRef {
            id: Some(s.id),
            number: s.number.clone(),
            name: s.name.clone(),
        }),
        cxml,
        outbound: Some(outbound),
        ..PartnerProfile::default()
    })
}

/// Why the OrderRequest header cannot be written for `profile`, one made by
/// [`profile_from_supplier`] for a supplier whose `po-method` is cxml: the supplier record's
/// fields it lacks, by their Coupa names, and what to do. `None` when it has them all (or its
/// channel is not cXML). The cXML writer's own error named `[cxml] to_domain`, a setting of a
/// partner profile this supplier does not have.
pub fn missing_cxml_record_fields(profile: &PartnerProfile) -> Option<String> {
    if !matches!(profile.outbound, Some(OutboundChannel::Cxml { .. })) {
        return None;
    }
    let c = profile.cxml.clone().unwrap_or_default();
    let blank = |v: &Option<String>| v.as_deref().is_none_or(|v| v.trim().is_empty());
    let missing: Vec<&str> = [
        (&c.to_domain, "cxml-domain"),
        (&c.to_identity, "cxml-identity"),
        (&c.from_domain, "cxml-supplier-domain"),
        (&c.from_identity, "cxml-supplier-identity"),
    ]
    .into_iter()
    .filter(|(value, _)| blank(value))
    .map(|(_, field)| field)
    .collect();
    if missing.is_empty() {
        return None;
    }
    Some(format!(
        "its po-method is cxml but its Coupa supplier record has no {}, which the OrderRequest's header needs (cxml-domain and cxml-identity: the buyer, in From and Sender; cxml-supplier-domain and cxml-supplier-identity: the supplier, in To). Fill them in on the supplier record in Coupa (or add a [[partners]] entry for it with a [cxml] section), then replay",
        missing.join(", ")
    ))
}

/// What `/readyz` says while Coupa refuses the gateway's token requests: what it answered and
/// which `[coupa]` settings to check.
pub fn token_refused_text(r: &adapter_coupa::TokenRefusal) -> String {
    let check = match r.check() {
        adapter_coupa::TokenCheck::Credentials => "client_id/client_secret",
        adapter_coupa::TokenCheck::Scopes => "scopes",
        adapter_coupa::TokenCheck::All => "client_id/client_secret and scopes",
    };
    format!("token refused ({}): check [coupa] {check}", r.summary())
}

/// `/readyz`: Coupa takes the gateway's credentials (once a token request was refused, not
/// ready until one succeeds: every delivery would fail meanwhile) and answers HTTP at its base
/// URL (any status; a refused or timed-out connection is not ready). Cheap, no token spent.
#[derive(Debug)]
pub struct CoupaReachable {
    http: reqwest::Client,
    url: String,
    /// The client the service delivers with: it knows whether Coupa refused its token.
    client: Arc<CoupaClient>,
}

impl CoupaReachable {
    pub fn new(client: Arc<CoupaClient>) -> anyhow::Result<Self> {
        Ok(CoupaReachable {
            http: adapter_coupa::transport::client_builder()
                .timeout(Duration::from_secs(3))
                .build()?,
            url: client.base_url().trim().trim_end_matches('/').to_string(),
            client,
        })
    }
}

impl crate::pipeline::ReadinessCheck for CoupaReachable {
    fn name(&self) -> &str {
        "coupa"
    }

    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        async move {
            if let Some(r) = self.client.token_refusal() {
                return Err(token_refused_text(&r));
            }
            self.http
                .get(&self.url)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    let url = gateway_core::redact_url(&self.url);
                    format!("{url} unreachable: {}", e.without_url())
                })
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sandbox with Acme (`ACME-1`) and the demo configuration pointing at it, its ledger in
    /// `dir`.
    async fn acme_and_config(dir: &std::path::Path) -> (gateway_sandbox::SandboxHandle, Config) {
        let sandbox = gateway_sandbox::Sandbox::start(gateway_sandbox::SandboxOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        sandbox
            .add_supplier(serde_json::json!({"name": "Acme Supplies", "number": "ACME-1"}))
            .unwrap_or_else(|e| panic!("{e}"));
        let text = crate::demo::config_text(dir, &sandbox.base_url(), None, "link");
        let config = Config::parse(&text, "test", Vec::new()).unwrap_or_else(|e| panic!("{e}"));
        (sandbox, config)
    }

    /// QA (qaC f5 item 4): `CoupaClientConfig::account_type` existed, but no setting filled
    /// it. `[coupa] account_type` does now (blank is none).
    #[test]
    fn the_coupa_sections_account_type_reaches_the_client() {
        let text = |extra: &str| {
            format!(
                "[bus]\nembedded_path = \"bus.sqlite\"\n[ledger]\npath = \"l.sqlite\"\n\
                 [coupa]\nbase_url = \"http://127.0.0.1:9\"\nclient_id = \"x\"\n\
                 client_secret = \"y\"\n{extra}"
            )
        };
        let config = |extra: &str| {
            Config::parse(&text(extra), "test", Vec::new()).unwrap_or_else(|e| panic!("{e}"))
        };
        let set = config("account_type = \"US COA\"\n");
        assert_eq!(
            client_config(&set.coupa).account_type.as_deref(),
            Some("US COA")
        );
        assert_eq!(client_config(&config("").coupa).account_type, None);
        assert_eq!(
            client_config(&config("account_type = \" \"\n").coupa).account_type,
            None
        );
    }

    fn from_partner(partner: &str) -> Envelope {
        Envelope::inbound(
            gateway_model::DocumentKind::Invoice,
            "rest",
            Some(partner.into()),
            gateway_core::SourceMeta::default(),
        )
    }

    /// QA's double payment where Coupa looks numbers up with letter case: `CASE-L1` delivered,
    /// then the gateway restarted (a new client, nothing remembered), then the same invoice as
    /// `case-l1`. The ledger's row for `CASE-L1` (keyed `invoice:acme:CASE-L1`, delivered as
    /// `coupa: <id>`) is what finds it: already there, not a second invoice.
    #[tokio::test]
    async fn after_a_restart_the_ledger_finds_the_invoice_under_its_number_in_another_case() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (sandbox, config) = acme_and_config(dir.path()).await;
        sandbox.set_invoice_number_case(gateway_sandbox::InvoiceNumberCase {
            exact_lookups: true,
            unique_ignoring_case: false,
        });
        let invoice = |n: &str| crate::demo::DemoEnv::invoice(n).unwrap_or_else(|e| panic!("{e}"));
        let first = invoice_delivery(&config)
            .unwrap_or_else(|e| panic!("{e}"))
            .deliver_invoice(&from_partner("acme"), &invoice("CASE-L1"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        // What the intake and the consumer wrote for it.
        let ledger = Ledger::open(&config.ledger.path).unwrap_or_else(|e| panic!("{e}"));
        ledger
            .claim(&crate::ledger::NewDocument {
                idempotency_key: "k1",
                doc_id: "d1",
                adapter: "rest",
                partner: "acme",
                kind: "invoice",
                number: "CASE-L1",
                business_key: Some("invoice:acme:CASE-L1"),
            })
            .unwrap_or_else(|e| panic!("{e}"));
        ledger
            .set_status(
                "k1",
                Status::Delivered,
                &format!("coupa: {}", first.reference),
            )
            .unwrap_or_else(|e| panic!("{e}"));

        let restarted = invoice_delivery(&config).unwrap_or_else(|e| panic!("{e}"));
        let again = restarted
            .deliver_invoice(&from_partner("acme"), &invoice("case-l1"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(again.already_present, "{again:?}");
        assert_eq!(again.reference, first.reference);
        let held: Vec<Value> = sandbox
            .invoices()
            .into_iter()
            .filter(|i| {
                i["invoice-number"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case("CASE-L1"))
            })
            .collect();
        assert_eq!(held.len(), 1, "{held:?}");
    }

    #[test]
    fn a_delivered_rows_detail_names_its_coupa_invoice() {
        assert_eq!(coupa_id_in("coupa: 20"), Some(20));
        assert_eq!(
            coupa_id_in("coupa: 7 (already there: delivered before, nothing created again)"),
            Some(7)
        );
        assert_eq!(coupa_id_in("supplier-cxml: https://x"), None);
        assert_eq!(coupa_id_in("coupa: "), None);
    }

    /// A dead letter for a supplier Coupa does not have says what to do, naming the partner
    /// whose `[partners.coupa_supplier]` to check and how to replay only its invoices; it said
    /// only `supplier not found in Coupa: number "NOT-IN-COUPA"`.
    #[tokio::test]
    async fn a_supplier_coupa_lacks_is_a_dead_letter_saying_what_to_do_for_the_partner() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (_sandbox, config) = acme_and_config(dir.path()).await;
        let coupa = parts(&config).unwrap_or_else(|e| panic!("{e}"));
        let doc = Document::Invoice(
            crate::demo::DemoEnv::invoice("BETA-INV-1").unwrap_or_else(|e| panic!("{e}")),
        );
        let err = coupa
            .invoices
            .deliver(&from_partner("nobody"), &doc)
            .await
            .err();
        let Some(DeliveryError::Permanent { reason }) = err else {
            panic!("expected a permanent failure, got {err:?}");
        };
        assert!(
            reason.starts_with(
                "supplier not found in Coupa: number \"NOT-IN-COUPA\". To deliver it:"
            ) && reason.contains("add that supplier in Coupa (number \"NOT-IN-COUPA\")")
                && reason.contains("[partners.coupa_supplier] of partner nobody")
                && reason
                    .ends_with("gateway dlq replay --partner nobody --reason 'supplier not found'"),
            "{reason}"
        );
    }

    /// A buyer's change (or cancellation) made while the version sent was on its way resets
    /// Coupa's export flag for the new one; marking the PO exported for the version sent would
    /// hide the new one from the poller for good. Against the sandbox, over HTTP.
    #[tokio::test]
    async fn a_po_is_marked_exported_only_while_coupa_holds_what_was_sent() {
        let sandbox = gateway_sandbox::Sandbox::start(gateway_sandbox::SandboxOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let supplier = sandbox
            .add_supplier(serde_json::json!({"name": "Acme", "number": "ACME-1"}))
            .unwrap_or_else(|e| panic!("{e}"));
        let id = sandbox
            .add_purchase_order(gateway_sandbox::demo::sample_purchase_order(
                "PO-1", supplier,
            ))
            .unwrap_or_else(|e| panic!("{e}"));
        let client = CoupaClient::new(CoupaClientConfig::new(
            sandbox.base_url(),
            "sandbox-client",
            gateway_core::Secret::new("sandbox-secret"),
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let pos = CoupaPurchaseOrders::new(Arc::new(client), dir.path().join("ledger.sqlite"));
        let v1 = PoKey {
            coupa_id: id,
            version: 1,
            cancel: false,
        };
        // The buyer changes the PO while version 1 is on its way.
        assert!(sandbox.revise_purchase_order(id));
        let marked = pos.mark_exported(id, Some(v1)).await;
        assert!(!marked.unwrap_or_else(|e| panic!("{e}")));
        assert!(
            !sandbox.purchase_order_exported("PO-1"),
            "version 2 was hidden"
        );
        let v2 = PoKey { version: 2, ..v1 };
        assert_eq!(
            pos.by_id(id).await.ok().flatten().map(|p| p.key()),
            Some(v2)
        );
        // Then cancels it, keeping the version: version 2 sent is not what Coupa holds.
        assert!(sandbox.cancel_purchase_order(id));
        assert!(
            !pos.mark_exported(id, Some(v2))
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        );
        let cancelled = PoKey { cancel: true, ..v2 };
        assert!(
            pos.mark_exported(id, Some(cancelled))
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        );
        assert!(sandbox.purchase_order_exported("PO-1"));
    }

    /// A sandbox holding PO-1 (version 1) of Acme, whose next two reads of the PO are a
    /// mark's: the first answered, then the buyer revises it (version 2), then the read after
    /// the mark fails. Returns the sandbox and the PO's id.
    async fn a_mark_about_to_fail() -> (gateway_sandbox::SandboxHandle, u64) {
        let sandbox = gateway_sandbox::Sandbox::start(gateway_sandbox::SandboxOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let supplier = sandbox
            .add_supplier(serde_json::json!({"name": "Acme", "number": "ACME-1"}))
            .unwrap_or_else(|e| panic!("{e}"));
        let id = sandbox
            .add_purchase_order(gateway_sandbox::demo::sample_purchase_order(
                "PO-1", supplier,
            ))
            .unwrap_or_else(|e| panic!("{e}"));
        let read = format!("GET /api/purchase_orders?id={id}&");
        for fault in [
            gateway_sandbox::FaultKind::ThenRevise { purchase_order: id },
            gateway_sandbox::FaultKind::Status { status: 503 },
        ] {
            assert!(sandbox.inject(gateway_sandbox::FaultSpec::new(&read, fault, 1)));
        }
        (sandbox, id)
    }

    /// The Coupa side of a gateway on `sandbox` and the ledger at `ledger`, each call made once.
    fn purchase_orders(
        sandbox: &gateway_sandbox::SandboxHandle,
        ledger: &std::path::Path,
    ) -> CoupaPurchaseOrders {
        let mut cfg = CoupaClientConfig::new(
            sandbox.base_url(),
            "sandbox-client",
            gateway_core::Secret::new("sandbox-secret"),
        );
        cfg.max_attempts = 1;
        CoupaPurchaseOrders::new(
            Arc::new(CoupaClient::new(cfg).unwrap_or_else(|e| panic!("{e}"))),
            ledger.to_path_buf(),
        )
    }

    /// Version 1 of the PO in Coupa, as sent.
    fn version_1(id: u64) -> PoKey {
        PoKey {
            coupa_id: id,
            version: 1,
            cancel: false,
        }
    }

    /// Marks version 1 of the PO through `pos` as [`a_mark_about_to_fail`] has it: the mark
    /// is written, the read after it fails.
    async fn mark_that_fails(
        pos: &CoupaPurchaseOrders,
        sandbox: &gateway_sandbox::SandboxHandle,
        id: u64,
    ) {
        let failed = pos.mark_exported(id, Some(version_1(id))).await;
        assert!(failed.is_err(), "{failed:?}");
        assert!(
            sandbox.purchase_order_exported("PO-1"),
            "the mark went through before the read failed"
        );
    }

    /// The buyer revises the PO right after the mark read it, and the read after the mark then
    /// fails: the mark is unsettled, so its retry, finding version 2 in Coupa, sets `exported`
    /// false again before anything else, and the poller sees version 2. Without that, the retry
    /// only found "another version" and left version 2 hidden.
    #[tokio::test]
    async fn a_mark_whose_read_after_failed_is_settled_by_its_retry() {
        let (sandbox, id) = a_mark_about_to_fail().await;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let pos = purchase_orders(&sandbox, &dir.path().join("ledger.sqlite"));
        mark_that_fails(&pos, &sandbox, id).await;
        let retried = pos.mark_exported(id, Some(version_1(id))).await;
        assert!(!retried.unwrap_or_else(|e| panic!("{e}")));
        assert!(
            !sandbox.purchase_order_exported("PO-1"),
            "version 2 was hidden"
        );
    }

    /// The same, with the gateway stopped between the failed read and the retry: the note was
    /// held in memory, so the restarted gateway's retry found "another version" only and left
    /// version 2 hidden for good. Kept in the ledger, it is found by the retry of the new
    /// process, and the note is forgotten once settled.
    #[tokio::test]
    async fn a_mark_whose_read_after_failed_is_settled_by_its_retry_after_a_restart() {
        let (sandbox, id) = a_mark_about_to_fail().await;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let ledger = dir.path().join("ledger.sqlite");
        let before_the_stop = purchase_orders(&sandbox, &ledger);
        mark_that_fails(&before_the_stop, &sandbox, id).await;
        drop(before_the_stop);

        let restarted = purchase_orders(&sandbox, &ledger);
        let retried = restarted.mark_exported(id, Some(version_1(id))).await;
        assert!(!retried.unwrap_or_else(|e| panic!("{e}")));
        assert!(
            !sandbox.purchase_order_exported("PO-1"),
            "version 2 was hidden after the restart"
        );
        let left = Ledger::open(&ledger)
            .and_then(|l| l.unsettled_marks())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(left, Vec::new());
    }

    /// The gateway stopped between the failed read and the retry, and the mark is never
    /// retried (its message died): the restarted gateway's poller settles the note before it
    /// reads what is pending, so the same poll finds version 2. Before, version 2 stayed
    /// hidden until an operator set `exported` false through Coupa's API.
    #[tokio::test]
    async fn a_mark_whose_read_after_failed_is_settled_by_the_poller_after_a_restart() {
        let (sandbox, id) = a_mark_about_to_fail().await;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let ledger = dir.path().join("ledger.sqlite");
        let before_the_stop = purchase_orders(&sandbox, &ledger);
        mark_that_fails(&before_the_stop, &sandbox, id).await;
        drop(before_the_stop);

        let restarted = purchase_orders(&sandbox, &ledger);
        let pending = restarted.pending().await.unwrap_or_else(|e| panic!("{e}"));
        let found: Vec<PoKey> = pending.pos.iter().map(PendingPo::key).collect();
        assert_eq!(
            found,
            vec![PoKey {
                version: 2,
                ..version_1(id)
            }],
            "version 2 was hidden after the restart"
        );
        assert!(!sandbox.purchase_order_exported("PO-1"));
        let left = Ledger::open(&ledger)
            .and_then(|l| l.unsettled_marks())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(left, Vec::new());
        // Nothing left to settle: the next poll reads the PO as pending, no more.
        assert_eq!(
            restarted
                .pending()
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .pos
                .len(),
            1
        );
    }
}
