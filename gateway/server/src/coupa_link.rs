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
    cfg
}

/// Builds the Coupa parts of the service from the configuration.
pub fn parts(config: &Config) -> anyhow::Result<CoupaParts> {
    let invoices = invoice_delivery(config)?;
    let client = Arc::clone(invoices.client());
    let readiness = Arc::new(CoupaReachable::new(Arc::clone(&client))?);
    let pos = Arc::new(CoupaPurchaseOrders::new(client));
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
/// checks each invoice's supplier). The ledger is opened when first needed: the service
/// creates it at start, after this is built; until it exists nothing was delivered.
#[derive(Debug)]
struct DeliveredInLedger {
    path: PathBuf,
    partners: Vec<String>,
    ledger: std::sync::Mutex<Option<Arc<Ledger>>>,
}

impl DeliveredInLedger {
    fn new(config: &Config) -> Self {
        DeliveredInLedger {
            path: config.ledger.path.clone(),
            partners: config.partners.iter().map(|p| p.id.clone()).collect(),
            ledger: std::sync::Mutex::new(None),
        }
    }

    /// The ledger, opened once; `None` while there is none.
    fn ledger(&self) -> Result<Option<Arc<Ledger>>, String> {
        let mut held = self
            .ledger
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(l) = held.as_ref() {
            return Ok(Some(Arc::clone(l)));
        }
        if !self.path.exists() {
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
fn coupa_id_in(detail: &str) -> Option<u64> {
    let rest = detail.strip_prefix("coupa: ")?;
    let digits = rest.split(|c: char| !c.is_ascii_digit()).next()?;
    digits.parse().ok()
}

impl KnownInvoices for DeliveredInLedger {
    fn coupa_ids(&self, key: &str) -> Result<Vec<u64>, String> {
        let Some(ledger) = self.ledger()? else {
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
    /// with another's of the same PO (two versions' deliveries marking at once) in this
    /// process.
    marking: gateway_core::Turns<u64>,
    /// POs this process marked exported and has not yet seen still holding the version sent
    /// (the read after the mark failed, or marking them not exported again did): a retry of
    /// the mark that finds another version in Coupa sets `exported` false again before
    /// anything else. Removed once settled, so it stays small.
    unsettled: std::sync::Mutex<std::collections::HashSet<u64>>,
}

impl CoupaPurchaseOrders {
    fn new(client: Arc<CoupaClient>) -> Self {
        CoupaPurchaseOrders {
            client,
            marking: gateway_core::Turns::default(),
            unsettled: std::sync::Mutex::default(),
        }
    }

    /// Notes whether the mark of `coupa_po_id` is unsettled ([`CoupaPurchaseOrders::unsettled`]).
    fn set_unsettled(&self, coupa_po_id: u64, unsettled: bool) {
        let mut held = self
            .unsettled
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if unsettled {
            held.insert(coupa_po_id);
        } else {
            held.remove(&coupa_po_id);
        }
    }

    fn is_unsettled(&self, coupa_po_id: u64) -> bool {
        self.unsettled
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&coupa_po_id)
    }

    /// Sets `exported` false again on a PO this process marked while Coupa took a buyer's
    /// change of it (`sent` was sent and marked; Coupa holds `holds` now), so the poller reads
    /// the new version and sends it. Logged: the mark's window was hit.
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
        self.set_unsettled(coupa_po_id, false);
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
    /// A failure in between leaves the PO noted as unsettled, so the retry of the mark sets it
    /// false again before anything else.
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
                match before {
                    Some(holds) if self.is_unsettled(coupa_po_id) => {
                        self.unmark(coupa_po_id, sent, holds).await?;
                    }
                    _ => self.set_unsettled(coupa_po_id, false),
                }
                return Ok(false);
            }
            self.set_unsettled(coupa_po_id, true);
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
                    self.set_unsettled(coupa_po_id, false);
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
        let pos = CoupaPurchaseOrders::new(Arc::new(client));
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

    /// The buyer revises the PO right after the mark read it, and the read after the mark then
    /// fails: the mark is unsettled, so its retry, finding version 2 in Coupa, sets `exported`
    /// false again before anything else, and the poller sees version 2. Without that, the retry
    /// only found "another version" and left version 2 hidden.
    #[tokio::test]
    async fn a_mark_whose_read_after_failed_is_settled_by_its_retry() {
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
        // The mark's first read is answered, then the buyer revises; the next read fails.
        for fault in [
            gateway_sandbox::FaultKind::ThenRevise { purchase_order: id },
            gateway_sandbox::FaultKind::Status { status: 503 },
        ] {
            assert!(sandbox.inject(gateway_sandbox::FaultSpec::new(&read, fault, 1)));
        }
        let mut cfg = CoupaClientConfig::new(
            sandbox.base_url(),
            "sandbox-client",
            gateway_core::Secret::new("sandbox-secret"),
        );
        cfg.max_attempts = 1;
        let pos = CoupaPurchaseOrders::new(Arc::new(
            CoupaClient::new(cfg).unwrap_or_else(|e| panic!("{e}")),
        ));
        let v1 = PoKey {
            coupa_id: id,
            version: 1,
            cancel: false,
        };
        let failed = pos.mark_exported(id, Some(v1)).await;
        assert!(failed.is_err(), "{failed:?}");
        assert!(
            sandbox.purchase_order_exported("PO-1"),
            "the mark went through before the read failed"
        );
        let retried = pos.mark_exported(id, Some(v1)).await;
        assert!(!retried.unwrap_or_else(|e| panic!("{e}")));
        assert!(
            !sandbox.purchase_order_exported("PO-1"),
            "version 2 was hidden"
        );
    }
}
