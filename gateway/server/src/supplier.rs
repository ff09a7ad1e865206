//! Purchase orders out to suppliers, each in the channel its partner profile names: a cXML
//! OrderRequest POSTed to the supplier's URL (success only on a cXML 2xx Status), an X12 850
//! or CSV file written atomically into the partner's folder, or an e-mail. A supplier with no
//! profile is sent what its Coupa record names (`po-method` cxml or email, with Coupa's cXML
//! identities), read from Coupa again at delivery so the bus carries only the supplier id.
//! After the supplier has it, the PO is marked exported in Coupa; a PO already sent is never
//! sent again on a retry (the ledger remembers), only its export mark is retried.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use gateway_core::{
    DeliveryError, Encode, Envelope, Format, Outbound, PartnerProfile, Receipt,
    profile::OutboundChannel,
};
use gateway_model::Document;

use crate::codecs::Codecs;
use crate::filedrop::write_atomically;
use crate::ledger::{Ledger, Status};
use crate::partners::Partners;

/// The envelope field where the PO poller puts the Coupa PO id.
pub const COUPA_PO_ID: &str = "coupa_po_id";

/// The envelope field naming the Coupa supplier whose record gives the channel, for a PO
/// whose supplier has no partner profile.
pub const COUPA_SUPPLIER_ID: &str = "coupa_supplier_id";

/// The partner id of a supplier known only from its Coupa record (routing keys, ledger,
/// metrics).
pub fn coupa_supplier_partner_id(coupa_supplier_id: u64) -> String {
    format!("coupa-supplier-{coupa_supplier_id}")
}

/// Which of a Coupa supplier record's PO methods a PO goes by: Coupa keeps how new orders are
/// transmitted (`po-method`) apart from how changes and cancellations are (`po-change-method`),
/// and a supplier may take the one by cXML and want the other held for the buyer (`prompt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoMethod {
    /// `po-method`: a new order.
    Order,
    /// `po-change-method`: a change (version 2 on) or a cancellation.
    Change,
}

impl PoMethod {
    /// The method `doc` goes by, as Coupa would send it: a change or cancellation (the
    /// purpose the Coupa mapping gives a version after the first, or a cancelled PO) by
    /// `po-change-method`, anything else by `po-method`. Decided on the PO as Coupa holds it,
    /// by the poller and by the delivery alike, so both read the same method.
    pub fn of(doc: &Document) -> Self {
        match doc {
            Document::PurchaseOrder(po) => Self::of_order(po),
            Document::Invoice(_) => PoMethod::Order,
        }
    }

    /// [`PoMethod::of`] a purchase order.
    pub fn of_order(po: &gateway_model::PurchaseOrder) -> Self {
        match po.purpose {
            Some(gateway_model::OrderPurpose::Update | gateway_model::OrderPurpose::Cancel) => {
                PoMethod::Change
            }
            _ => PoMethod::Order,
        }
    }

    /// The supplier record's field for this method: what an operator changes in Coupa.
    pub fn field(self) -> &'static str {
        match self {
            PoMethod::Order => "po-method",
            PoMethod::Change => "po-change-method",
        }
    }
}

/// Partner profiles made from Coupa supplier records, for suppliers the configuration has no
/// profile for.
pub trait CoupaSupplierProfiles: Send + Sync {
    /// The profile for a PO going by `method` ([`PoMethod`]). `Ok(Ok(profile))`: send on the
    /// profile's channel. `Ok(Err(reason))`: the record says the gateway must not send
    /// (`prompt`, `mark_as_sent`, no address, ...). `Err`: Coupa could not be asked (retryable
    /// or not, as the error says).
    fn profile(
        &self,
        coupa_supplier_id: u64,
        method: PoMethod,
    ) -> BoxFuture<'_, Result<Result<PartnerProfile, String>, DeliveryError>>;
}

/// Marks a PO exported in Coupa once the supplier has it.
pub trait PoExporter: Send + Sync {
    /// Marks the PO exported if Coupa still holds what was sent (`sent`: its version, and
    /// whether it was the cancellation). A buyer's change made while the sent version was on
    /// its way resets Coupa's flag for the new version; marking it then would hide that
    /// version from the poller for good. Returns whether it marked.
    fn mark_exported(
        &self,
        coupa_po_id: u64,
        sent: Option<crate::po_keys::PoKey>,
    ) -> BoxFuture<'_, Result<bool, DeliveryError>>;
}

/// Sends purchase orders to suppliers.
pub struct SupplierDelivery {
    partners: Partners,
    codecs: Codecs,
    ledger: Arc<Ledger>,
    http: reqwest::Client,
    exporter: Option<Arc<dyn PoExporter>>,
    mailer: Option<Arc<adapter_email::SmtpMailer>>,
    coupa_suppliers: Option<Arc<dyn CoupaSupplierProfiles>>,
    /// POs this process sent whose export mark is still pending, by idempotency key: the
    /// ledger's record of it, held here too in case the ledger write failed. Removed once
    /// the PO is marked exported, so it stays small.
    sent_here: std::sync::Mutex<std::collections::HashMap<String, String>>,
    /// One turn per supplier and Coupa PO ([`PoTurns`]): versions of one PO are delivered to
    /// one supplier one after the other, so the second sees what the first sent.
    turns: PoTurns,
    /// What this installation's PO payloadIDs are made of ([`PayloadIds`]).
    payload_ids: PayloadIds,
}

impl std::fmt::Debug for SupplierDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupplierDelivery").finish_non_exhaustive()
    }
}

/// Marker in the ledger detail: the supplier has the PO, only the export mark is pending.
const SENT: &str = "sent to supplier";

impl SupplierDelivery {
    pub fn new(
        partners: Partners,
        codecs: Codecs,
        ledger: Arc<Ledger>,
        timeout: Duration,
        exporter: Option<Arc<dyn PoExporter>>,
    ) -> Result<Self, reqwest::Error> {
        let http = supplier_http(timeout)?;
        Ok(SupplierDelivery {
            partners,
            codecs,
            ledger,
            http,
            exporter,
            mailer: None,
            coupa_suppliers: None,
            sent_here: std::sync::Mutex::default(),
            turns: PoTurns::default(),
            payload_ids: PayloadIds::default(),
        })
    }

    /// The Coupa instance and `@host` the payloadIDs of POs sent by cXML are made with
    /// ([`PayloadIds`]); without it, no instance and the default host.
    pub fn with_payload_ids(mut self, ids: PayloadIds) -> Self {
        self.payload_ids = ids;
        self
    }

    /// Where profiles come from for suppliers known only in Coupa.
    pub fn with_coupa_suppliers(mut self, suppliers: Arc<dyn CoupaSupplierProfiles>) -> Self {
        self.coupa_suppliers = Some(suppliers);
        self
    }

    /// The profile to send `doc` (the PO as Coupa holds it) with: the configured one, else one
    /// made from the Coupa supplier record the envelope names, by the method `doc` goes by
    /// ([`PoMethod::of`]).
    async fn partner_for(
        &self,
        env: &Envelope,
        doc: &Document,
    ) -> Result<std::borrow::Cow<'_, PartnerProfile>, DeliveryError> {
        let partner_id = env.partner.as_deref().unwrap_or("");
        if let Some(p) = self.partners.by_id(partner_id) {
            return Ok(std::borrow::Cow::Borrowed(p));
        }
        let coupa_id = env
            .source
            .extra
            .get(COUPA_SUPPLIER_ID)
            .and_then(|v| v.parse::<u64>().ok());
        match (coupa_id, &self.coupa_suppliers) {
            (Some(id), Some(suppliers)) => {
                let profile = suppliers.profile(id, PoMethod::of(doc)).await?.map_err(|reason| {
                    DeliveryError::permanent(format!(
                        "not sent: Coupa supplier {id} {reason}; change its PO method in Coupa or add a [[partners]] entry, then replay"
                    ))
                })?;
                if let Some(reason) = crate::coupa_link::missing_cxml_record_fields(&profile) {
                    return Err(DeliveryError::permanent(format!(
                        "not sent: Coupa supplier {id}: {reason}"
                    )));
                }
                Ok(std::borrow::Cow::Owned(profile))
            }
            _ => Err(DeliveryError::permanent(format!(
                "no partner profile {partner_id:?} for this purchase order; add a [[partners]] entry"
            ))),
        }
    }

    /// Where the supplier already got this PO (an earlier attempt sent it, then failed to mark
    /// it exported), `None` when it has not been sent. A ledger that cannot be read is a
    /// retryable error, not "not sent": sending on a guess would give the supplier the order
    /// twice, and a supplier reading files or e-mail has no payloadID to recognise it by.
    fn sent_before(&self, key: &str) -> Result<Option<String>, DeliveryError> {
        if let Some(reference) = self.sent_here.lock().ok().and_then(|m| m.get(key).cloned()) {
            return Ok(Some(reference));
        }
        self.ledger.sent_to(key).map_err(|e| {
            DeliveryError::retryable(format!(
                "cannot tell whether the supplier already has this PO, so it was not sent: {e}"
            ))
        })
    }

    /// A later version of the same Coupa PO already on its way or sent, which `key` must not
    /// follow. A ledger that cannot be read is retryable: sending on a guess could give the
    /// supplier an old version after the new one.
    fn superseded_by(&self, key: &str) -> Result<Option<String>, DeliveryError> {
        let Some((po, _)) = crate::po_keys::PoKey::parse(key) else {
            return Ok(None);
        };
        self.ledger.later_po_version(&po).map_err(|e| {
            DeliveryError::retryable(format!(
                "cannot tell whether a later version of this PO went already, so it was not sent: {e}"
            ))
        })
    }

    /// Records that the supplier has the PO, so a retry (of the export mark) does not send it
    /// again. Also kept in memory: when the ledger cannot take the write, retries in this
    /// process still know, and the failure is logged with what was sent where.
    fn remember_sent(&self, key: &str, reference: &str) {
        if let Ok(mut m) = self.sent_here.lock() {
            m.insert(key.to_string(), reference.to_string());
        }
        let recorded = self.ledger.record_sent(key, reference).and_then(|()| {
            self.ledger
                .set_status(key, Status::Published, &format!("{SENT}: {reference}"))
        });
        if let Err(e) = recorded {
            tracing::error!(idempotency_key = %key, %reference, error = %e,
                "the supplier has this PO but the ledger could not record it: after a restart \
                 a retry would send it again");
        }
    }

    /// The SMTP relay for partners whose channel is `email` (`[mailbox.smtp]`).
    pub fn with_mailer(mut self, mailer: Arc<adapter_email::SmtpMailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    fn encoder(&self, format: Format) -> Result<Arc<dyn Encode>, DeliveryError> {
        self.codecs.encoder(format).ok_or_else(|| {
            DeliveryError::permanent(format!("this gateway cannot write {format} documents"))
        })
    }

    fn encode(
        &self,
        format: Format,
        doc: &Document,
        partner: &PartnerProfile,
    ) -> Result<Vec<u8>, DeliveryError> {
        self.encoder(format)?
            .encode(std::slice::from_ref(doc), partner)
            .map_err(|e| {
                DeliveryError::permanent(format!(
                    "cannot write the PO as {format} for {}: {e}",
                    partner.id
                ))
            })
    }

    async fn send(
        &self,
        env: &Envelope,
        doc: &Document,
        partner: &PartnerProfile,
    ) -> Result<String, DeliveryError> {
        let channel = partner.outbound.as_ref().ok_or_else(|| {
            DeliveryError::permanent(format!(
                "partner {} has no [partners.outbound] channel; add one (type {})",
                partner.id,
                OutboundChannel::TYPES
            ))
        })?;
        let stem = file_stem(env, doc);
        match channel {
            OutboundChannel::Cxml { url } => {
                let payload_id = self.payload_id(&env.idempotency_key, partner)?;
                let mut doc = with_payload_id(doc, payload_id);
                self.refer_to_earlier_order(env, &mut doc, partner)?;
                let body = self.encode(Format::Cxml, &doc, partner)?;
                self.post_order(&env.idempotency_key, url, body).await
            }
            OutboundChannel::X12File { dir } => {
                let body = self.encode(Format::X12, doc, partner)?;
                let written = write_file(dir, &format!("{stem}.edi"), &body)?;
                // So the supplier's 997/999 can be matched to this PO (`partner_acks`).
                crate::partner_acks::remember_sent(
                    &self.ledger,
                    &partner.id,
                    &env.idempotency_key,
                    &body,
                );
                Ok(written)
            }
            OutboundChannel::CsvFile { dir } => {
                let body = self.encode(Format::Csv, doc, partner)?;
                write_file(dir, &format!("{stem}.csv"), &body)
            }
            OutboundChannel::Email { to } => {
                let mailer = self.mailer.as_ref().ok_or_else(|| {
                    DeliveryError::permanent(format!(
                        "partner {}'s channel is email but [mailbox.smtp] is not configured",
                        partner.id
                    ))
                })?;
                // The attachment is written from a profile without secrets: a cXML
                // OrderRequest would carry the Sender's SharedSecret, which authenticates
                // nothing in a mail and would be handed to whoever reads it.
                let mailed = adapter_email::without_secrets(partner);
                let mail =
                    crate::mailbox::po_mail(mailer, &self.codecs, env, doc, &mailed, to, &stem)?;
                // Recorded before the relay may have it, like a 997 of it (`partner_acks`).
                if let Some(body) = &mail.x12 {
                    crate::partner_acks::remember_sent(
                        &self.ledger,
                        &partner.id,
                        &env.idempotency_key,
                        body,
                    );
                }
                self.attempt(&env.idempotency_key, async {
                    mailer.send_outcome(mail.message).await.map_err(|f| {
                        let reached = if f.maybe_taken {
                            Reached::Maybe
                        } else {
                            Reached::No
                        };
                        (f.error, reached)
                    })
                })
                .await
            }
        }
    }
}

impl SupplierDelivery {
    /// POSTs a cXML OrderRequest under `key` ([`SupplierDelivery::attempt`]).
    async fn post_order(
        &self,
        key: &str,
        url: &str,
        body: Vec<u8>,
    ) -> Result<String, DeliveryError> {
        self.attempt(key, post_cxml_outcome(&self.http, url, body))
            .await
    }

    /// Runs `send`, a send of the PO of `key` (a cXML POST, a mail), recorded in the ledger as
    /// attempted before it goes: a POST whose answer is lost (a timeout, the connection
    /// dropped after the body went, a 502 from a proxy) or a mail whose relay's reply is lost
    /// after the DATA may have been taken, so a later cancellation must go out as a delete and
    /// a later version as a change, both referring to it. The record is taken back only when
    /// this attempt certainly did not reach the supplier and no earlier one was left unknown.
    /// A ledger that cannot take the record is retryable, and nothing is sent.
    async fn attempt(
        &self,
        key: &str,
        send: impl std::future::Future<Output = Result<String, (DeliveryError, Reached)>>,
    ) -> Result<String, DeliveryError> {
        let first = self.ledger.record_attempt(key).map_err(|e| {
            DeliveryError::retryable(format!(
                "cannot record that this PO is being sent, so it was not sent (a lost answer would leave its cancellation or change unsent): {e}"
            ))
        })?;
        match send.await {
            Ok(reference) => Ok(reference),
            Err((error, Reached::No)) => {
                if first && let Err(e) = self.ledger.clear_attempt(key) {
                    tracing::warn!(idempotency_key = %key, error = %e,
                        "the supplier did not take this PO, but the ledger still counts it as possibly sent: a cancellation or change of it refers to it");
                }
                Err(error)
            }
            Err((error, Reached::Maybe)) => Err(error),
        }
    }
}

impl SupplierDelivery {
    /// `e`, Coupa's export mark failing, said as what it is when the supplier has the PO
    /// (`reference`: where it went): the supplier got it (where, and when the ledger says), only
    /// the mark failed, and a replay once the cause is fixed only marks it, since the ledger's
    /// record of the send ([`Ledger::record_sent`]) keeps it from going again. Without this an
    /// operator saw only Coupa's "forbidden (missing scope?)" on a `dead` PO and could take it
    /// for one the supplier never got. Retryable or permanent as `e` is.
    fn export_mark_failed(
        &self,
        e: DeliveryError,
        env: &Envelope,
        reference: &str,
        nothing_to_cancel: bool,
    ) -> DeliveryError {
        let key = &env.idempotency_key;
        let cause = e.reason();
        let doc_id = &env.doc_id;
        let reason = if nothing_to_cancel {
            // Nothing went to the supplier, and nothing will: only the mark failed.
            format!(
                "{reference}; only marking it exported in Coupa failed: {cause}. Once that is fixed, `gateway dlq replay {doc_id}` only marks it exported in Coupa: it sends nothing to the supplier"
            )
        } else {
            let when = match self.ledger.sent_at(key) {
                Ok(Some(at)) => format!(" at {at}"),
                Ok(None) => String::new(),
                Err(err) => {
                    tracing::warn!(idempotency_key = %key, error = %err,
                        "cannot read when the supplier got this PO, for its reason");
                    String::new()
                }
            };
            format!(
                "the supplier already has this PO (sent{when}: {reference}); only marking it exported in Coupa failed: {cause}. Once that is fixed, `gateway dlq replay {doc_id}` only marks it exported in Coupa: it does not send it to the supplier again"
            )
        };
        match e {
            DeliveryError::Retryable { retry_after, .. } => DeliveryError::Retryable {
                reason,
                retry_after,
            },
            DeliveryError::Permanent { .. } => DeliveryError::Permanent { reason },
        }
    }
}

/// Whether a PO send that failed (a cXML POST, a mail) may have reached the supplier all the
/// same.
///
/// The rule for a cXML POST's HTTP status: only an answer that says the document was not
/// processed is a refusal. That is a 4xx other than 408 (the supplier read the request and
/// refused it), a 503 (the service is not taking requests: nothing was processed), or a cXML
/// error Status. A 408, 500, 502 or 504 comes from a server that failed while or after
/// handling the request, or from a proxy whose backend did not answer in time and may well
/// have taken the order: the outcome is unknown, as for a timeout or a connection dropped
/// after the body went. Counting those as refusals left a cancellation of an order the
/// supplier had unsent and sent a change as a second new order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reached {
    /// Certainly not taken: no connection was made, or the supplier answered refusing it (a
    /// 4xx other than 408, a 503, a redirect, a cXML Status that is not 2xx; for a mail, the
    /// relay's 4xx/5xx reply or a connection never made).
    No,
    /// Unknown: the request may have gone whole and been taken, and the answer was lost (a
    /// timeout, the connection dropped, a 408/500/502/504), or a 2xx answer could not be read.
    Maybe,
}

impl Reached {
    /// What an HTTP `status` answering a cXML POST says of its receipt ([`Reached`]'s rule):
    /// a 2xx may be about a document taken unless its cXML Status refuses it.
    pub(crate) fn by_status(status: u16) -> Reached {
        match status {
            200..=299 | 408 | 500 | 502 | 504 => Reached::Maybe,
            _ => Reached::No,
        }
    }
}

/// What a delivery of a PO takes turns on: the supplier (partner id, or the Coupa supplier
/// id for one known only in Coupa) and the Coupa PO id; a key that is no Coupa PO key (a
/// document not from the PO poller) takes turns with copies of itself only.
fn po_turn_key(env: &Envelope) -> (String, String) {
    let supplier = match (&env.partner, env.source.extra.get(COUPA_SUPPLIER_ID)) {
        (Some(partner), _) => partner.clone(),
        (None, Some(id)) => format!("coupa-supplier-{id}"),
        (None, None) => String::new(),
    };
    let po = match crate::po_keys::PoKey::parse(&env.idempotency_key) {
        Some((po, _)) => format!("coupa-po:{}", po.coupa_id),
        None => env.idempotency_key.clone(),
    };
    (supplier, po)
}

/// The turns of [`SupplierDelivery`]: (supplier, Coupa PO), see [`po_turn_key`].
type PoTurns = gateway_core::Turns<(String, String)>;

/// The receipt of a cancellation that was not sent: the supplier never had the order.
const NOTHING_TO_CANCEL: &str = "not sent: the PO was cancelled before any version of it went to the supplier (none was sent, or each one sent certainly failed: no connection, or the supplier refused it)";

/// How a PO goes to a supplier that may not have had any version of it yet.
enum Opening {
    /// As it is: a new order, or a change or cancellation of one the supplier has.
    AsIs,
    /// A change of an order the supplier never received (its first version failed, or was
    /// changed before the poller saw it): sent as a new order, or the supplier, which knows no
    /// such order, refuses the change and the order is lost.
    AsNew(Box<Document>),
    /// A cancellation of an order the supplier never received: nothing to send.
    NothingToCancel,
}

impl SupplierDelivery {
    /// What the supplier must receive for `doc` under `key`, given what of the same Coupa PO
    /// it was sent before. A ledger that cannot be read is retryable: a guess could send a
    /// change the supplier cannot place, or a new order for a cancelled one.
    fn opening(&self, key: &str, doc: &Document) -> Result<Opening, DeliveryError> {
        let Document::PurchaseOrder(po) = doc else {
            return Ok(Opening::AsIs);
        };
        let purpose = po.purpose;
        if !matches!(
            purpose,
            Some(gateway_model::OrderPurpose::Update | gateway_model::OrderPurpose::Cancel)
        ) {
            return Ok(Opening::AsIs);
        }
        let Some((po_key, _)) = crate::po_keys::PoKey::parse(key) else {
            return Ok(Opening::AsIs);
        };
        let earlier = self.ledger.earlier_po_sent(&po_key).map_err(|e| {
            DeliveryError::retryable(format!(
                "cannot tell whether the supplier has an earlier version of this PO, so it was not sent: {e}"
            ))
        })?;
        if earlier.is_some() {
            // The poller keeps such a change waiting; one on the bus already (published
            // before the earlier version was left to Coupa) must not go either.
            if let Some(left) = self.ledger.earlier_po_left_to_coupa(&po_key).map_err(|e| {
                DeliveryError::retryable(format!(
                    "cannot tell whether the earlier version of this PO was left to Coupa, so it was not sent: {e}"
                ))
            })? {
                return Err(DeliveryError::permanent(format!(
                    "not sent: the earlier version of this PO ({left}) was left to Coupa for the operator to release, so the supplier has it, if at all, under a payloadID the gateway does not know; send this change or cancellation from Coupa"
                )));
            }
            return Ok(Opening::AsIs);
        }
        if purpose == Some(gateway_model::OrderPurpose::Cancel) {
            return Ok(Opening::NothingToCancel);
        }
        let mut first = po.clone();
        first.purpose = Some(gateway_model::OrderPurpose::New);
        Ok(Opening::AsNew(Box::new(Document::PurchaseOrder(first))))
    }

    /// A change or cancellation names the OrderRequest it changes (cXML `DocumentReference`,
    /// "the most recent OrderRequest document for the order"), by the payloadID that one was
    /// sent under, as the ledger recorded it ([`Ledger::payload_id_for`]): the form of the
    /// gateway that sent it, whatever this one would make. Only an earlier one with none
    /// recorded (sent as a file or mail, with no payloadID of its own) gets the one this
    /// installation would give its key. Left out when nothing of the PO went to this supplier
    /// before, or the document names one already.
    fn refer_to_earlier_order(
        &self,
        env: &Envelope,
        doc: &mut Document,
        partner: &PartnerProfile,
    ) -> Result<(), DeliveryError> {
        let Document::PurchaseOrder(po) = &*doc else {
            return Ok(());
        };
        if !matches!(
            po.purpose,
            Some(gateway_model::OrderPurpose::Update | gateway_model::OrderPurpose::Cancel)
        ) {
            return Ok(());
        }
        let Some((key, _)) = crate::po_keys::PoKey::parse(&env.idempotency_key) else {
            return Ok(());
        };
        let earlier = self.ledger.earlier_po_sent(&key).map_err(|e| {
            DeliveryError::retryable(format!(
                "cannot read which OrderRequest this change refers to, so it was not sent: {e}"
            ))
        })?;
        let Some(earlier) = earlier else {
            return Ok(());
        };
        let recorded = self.ledger.recorded_payload_id(&earlier).map_err(|e| {
            DeliveryError::retryable(format!(
                "cannot read the payloadID of the OrderRequest this change refers to ({earlier}), so it was not sent: {e}"
            ))
        })?;
        let reference = match recorded {
            Some(id) => self.payload_ids.as_sent(&id, partner),
            None => self.payload_ids.make(&earlier, partner),
        };
        if let Some(cxml) = doc
            .extensions_mut()
            .entry("cxml".to_string())
            .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()))
            .as_object_mut()
        {
            cxml.entry("document_reference".to_string())
                .or_insert(serde_json::Value::String(reference));
        }
        Ok(())
    }
}

impl SupplierDelivery {
    /// The payloadID the PO of `key` goes out under to `partner`: the one the ledger recorded
    /// at its first attempt, else one made now ([`PayloadIds::make`]) and recorded before it is
    /// sent. Every attempt, retry and replay of one PO version carries the same one, so a
    /// supplier that took an attempt whose answer never came back (a timeout, a dropped
    /// connection) can tell the retry is the same order; each version and each `gateway resend`
    /// has a key, and so a payloadID, of its own. A ledger that cannot record it is retryable,
    /// and nothing is sent: a later change would have nothing to refer to.
    fn payload_id(&self, key: &str, partner: &PartnerProfile) -> Result<String, DeliveryError> {
        let new = self.payload_ids.make(key, partner);
        let recorded = self.ledger.payload_id_for(key, &new).map_err(|e| {
            DeliveryError::retryable(format!(
                "cannot record the payloadID this PO goes out under, so it was not sent: {e}"
            ))
        })?;
        Ok(match recorded {
            Some(id) => self.payload_ids.as_sent(&id, partner),
            None => new,
        })
    }
}

/// The host part of a payloadID when neither the partner profile (`[partners.cxml]
/// payload_id_host`) nor `[coupa] payload_id_host` names one.
pub const DEFAULT_PAYLOAD_ID_HOST: &str = "coupa-gateway";

/// What the payloadIDs of POs sent by cXML are made of, so that they are unique across
/// installations and the same for every attempt at one PO version:
/// `coupa-po.<id>.v<n>[.cancel][.resend-N].<hash>@<host>`, the hash (12 hex digits of SHA-256)
/// over the Coupa instance and the ledger key. Made from the key alone, two buyers' gateways
/// (two Coupa instances, each with its PO 8 version 1) sent the same payloadID, and a supplier
/// that drops repeated payloadIDs answered the second "already received" and lost that order.
/// The instance is the Coupa base URL's host (with its port when not the scheme's default), not
/// anything of the gateway itself: a second gateway in front of the same Coupa instance, taking
/// over, makes the same payloadIDs, so a supplier does not see a new order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PayloadIds {
    /// The Coupa instance, in lower case: `acme.coupahost.com`, `127.0.0.1:18640`.
    instance: String,
    /// `[coupa] payload_id_host`: the host part for partners whose profile names none.
    host: Option<String>,
}

impl PayloadIds {
    /// For the Coupa instance at `base_url` (`[coupa] base_url`), with `host` (`[coupa]
    /// payload_id_host`) after the `@` unless a partner's profile names its own. A base URL
    /// that does not parse (the configuration check refuses one) stands for itself, trimmed
    /// and in lower case.
    pub fn new(base_url: &str, host: Option<&str>) -> Self {
        let trimmed = base_url.trim();
        let instance = match reqwest::Url::parse(trimmed) {
            Ok(url) => match (url.host_str(), url.port()) {
                (Some(h), Some(port)) => format!("{h}:{port}"),
                (Some(h), None) => h.to_string(),
                (None, _) => trimmed.trim_end_matches('/').to_string(),
            },
            Err(_) => trimmed.trim_end_matches('/').to_string(),
        }
        .to_ascii_lowercase();
        PayloadIds {
            instance,
            host: host
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(str::to_string),
        }
    }

    /// The host after the `@`: the partner profile's `payload_id_host`, else `[coupa]
    /// payload_id_host`, else [`DEFAULT_PAYLOAD_ID_HOST`].
    fn host<'a>(&'a self, partner: &'a PartnerProfile) -> &'a str {
        profile_host(partner)
            .or(self.host.as_deref())
            .unwrap_or(DEFAULT_PAYLOAD_ID_HOST)
    }

    /// The payloadID this installation gives the PO of `key`, sent to `partner`.
    pub fn make(&self, key: &str, partner: &PartnerProfile) -> String {
        let fingerprint =
            crate::pipeline::content_fingerprint(format!("{}\n{key}", self.instance).as_bytes());
        format!(
            "{}.{}@{}",
            readable(key),
            fingerprint.get(..12).unwrap_or(&fingerprint),
            self.host(partner)
        )
    }

    /// A payloadID as the ledger recorded it, whole: one an older gateway sent, recorded
    /// without its host (it ends in `@`), gets the host that gateway used, the partner
    /// profile's `payload_id_host` else [`DEFAULT_PAYLOAD_ID_HOST`] (`[coupa] payload_id_host`
    /// did not exist then).
    fn as_sent(&self, recorded: &str, partner: &PartnerProfile) -> String {
        match recorded.strip_suffix('@') {
            Some(local) => format!(
                "{local}@{}",
                profile_host(partner).unwrap_or(DEFAULT_PAYLOAD_ID_HOST)
            ),
            None => recorded.to_string(),
        }
    }
}

/// The partner profile's own `[cxml] payload_id_host`, when it names one.
fn profile_host(partner: &PartnerProfile) -> Option<&str> {
    partner
        .cxml
        .as_ref()
        .and_then(|c| c.payload_id_host.as_deref())
        .map(str::trim)
        .filter(|h| !h.is_empty())
}

/// An idempotency key as the readable start of a payloadID: letters, digits and `-` kept,
/// anything else a `.`, at most 80 characters.
fn readable(key: &str) -> String {
    key.chars()
        .take(80)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '.'
            }
        })
        .collect()
}

/// The part before the `@` of the payloadID an older gateway gave the PO of `key`, made from
/// the key alone (the same for every installation, hence [`PayloadIds`]): what the ledger
/// upgrade records for the POs such a gateway sent, so later changes refer to them by it.
pub(crate) fn legacy_payload_local_part(key: &str) -> String {
    let fingerprint = crate::pipeline::content_fingerprint(key.as_bytes());
    format!(
        "{}.{}",
        readable(key),
        fingerprint.get(..12).unwrap_or(&fingerprint)
    )
}

/// `doc` with `payload_id` as its payloadID (`adapter_cxml::encode::PAYLOAD_ID`, whole, host
/// included). Left as it is when its `cxml` extension is not an object.
fn with_payload_id(doc: &Document, payload_id: String) -> Document {
    let mut doc = doc.clone();
    let cxml = doc
        .extensions_mut()
        .entry("cxml".to_string())
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    if let Some(cxml) = cxml.as_object_mut() {
        cxml.insert(
            adapter_cxml::encode::PAYLOAD_ID.to_string(),
            serde_json::Value::String(payload_id),
        );
    }
    doc
}

/// The HTTP client documents to suppliers go out with (POs, notices): bounded by `timeout`,
/// naming the gateway and its version, following no redirects
/// ([`adapter_coupa::transport::client_builder`]; a 3xx fails the delivery,
/// [`crate::cxml_reply::redirected`]).
pub(crate) fn supplier_http(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    adapter_coupa::transport::client_builder()
        .timeout(timeout)
        .user_agent(concat!("coupa-gateway/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// The most of a supplier's answer to a document we POST it that is read. A cXML Response is
/// a few hundred bytes; an endpoint answering more is misbehaving, and reading on would let it
/// fill the gateway's memory (an endless chunked answer), so reading stops here.
pub(crate) const MAX_SUPPLIER_ANSWER_BYTES: usize = 1024 * 1024;

/// POSTs a cXML document to a supplier's URL; success only on a cXML 2xx Status
/// ([`crate::cxml_reply::judge`]). At most [`MAX_SUPPLIER_ANSWER_BYTES`] of the answer are read;
/// a longer one fails the delivery (see [`answer_too_large`]).
pub(crate) async fn post_cxml(
    http: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
) -> Result<String, DeliveryError> {
    post_cxml_outcome(http, url, body)
        .await
        .map_err(|(error, _)| error)
}

/// [`post_cxml`], and on failure whether the supplier may have taken the document all the
/// same ([`Reached`]). The request goes to `url`; its receipt and errors, which are logged and
/// kept in the ledger, name it redacted ([`gateway_core::redact_url`]).
pub(crate) async fn post_cxml_outcome(
    http: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
) -> Result<String, (DeliveryError, Reached)> {
    let shown = gateway_core::redact_url(url);
    let response = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
        .body(body)
        .send()
        .await
        .map_err(|e| {
            // Only a connection never made is certain; after it, the body may have gone.
            let reached = if e.is_connect() || e.is_builder() {
                Reached::No
            } else {
                Reached::Maybe
            };
            let e = e.without_url();
            (
                DeliveryError::retryable(format!(
                    "POST {shown}: {}",
                    gateway_core::with_causes(&e)
                )),
                reached,
            )
        })?;
    let status = response.status().as_u16();
    if response.status().is_redirection() {
        let location = adapter_coupa::transport::redirect_location(response.headers());
        let refused = crate::cxml_reply::redirected(&shown, status, &location);
        return Err((refused, Reached::No));
    }
    // A 2xx answer may be about a document taken, unless its cXML Status says otherwise; an
    // error status refuses it only when it says nothing was processed ([`Reached`]).
    let unread = Reached::by_status(status);
    use adapter_coupa::transport::{Bounded, read_body_bounded};
    match read_body_bounded(response, MAX_SUPPLIER_ANSWER_BYTES)
        .await
        .map_err(|e| {
            (
                DeliveryError::retryable(format!(
                    "reading the answer of {shown}: {}",
                    e.without_url()
                )),
                unread,
            )
        })? {
        Bounded::Whole(text) => crate::cxml_reply::judge(&shown, status, &text).map_err(|e| {
            // A 2xx whose body is a cXML Response refuses it by its Status; one that is no
            // Response leaves it unknown, as does a status that does not say it was refused.
            let refused = if (200..300).contains(&status) {
                adapter_cxml::response::parse(&text).is_ok()
            } else {
                unread == Reached::No
            };
            (e, if refused { Reached::No } else { Reached::Maybe })
        }),
        Bounded::TooLarge(start) => Err((answer_too_large(&shown, status, &start), unread)),
    }
}

/// The delivery result for an answer with HTTP `status` longer than
/// [`MAX_SUPPLIER_ANSWER_BYTES`], of which `start` was read. A 5xx/429 is retryable and another
/// non-2xx status is a refusal, as for any answer ([`crate::cxml_reply::judge`] on what was
/// read). A 2xx is permanent: the supplier may have taken the document, but its cXML Status
/// cannot be read, and sending it again automatically would resend something possibly taken to
/// an endpoint that will likely answer the same way; the dead letter says so, and an operator
/// who checked with the supplier replays it (under the same payloadID, so the supplier can
/// tell it is the same document).
fn answer_too_large(url: &str, status: u16, start: &[u8]) -> DeliveryError {
    let bound = format!(
        "the answer is larger than {MAX_SUPPLIER_ANSWER_BYTES} bytes, the most the gateway reads of a supplier's answer, so reading stopped there"
    );
    if (200..300).contains(&status) {
        let excerpt: String = String::from_utf8_lossy(start).chars().take(300).collect();
        return DeliveryError::permanent(format!(
            "{url} answered HTTP {status} but {bound}; its cXML Status is unknown, so the supplier may have taken the document: check with the supplier before replaying it: {excerpt}"
        ));
    }
    match crate::cxml_reply::judge(url, status, start) {
        Err(DeliveryError::Retryable {
            reason,
            retry_after,
        }) => DeliveryError::Retryable {
            reason: format!("{reason} ({bound})"),
            retry_after,
        },
        Err(DeliveryError::Permanent { reason }) => {
            DeliveryError::permanent(format!("{reason} ({bound})"))
        }
        // Not reached: `judge` succeeds only on a 2xx, answered above.
        Ok(_) => DeliveryError::permanent(format!("{url} answered HTTP {status} but {bound}")),
    }
}

/// Now, to the millisecond, and later than every stamp this process gave before: two files
/// written in the same millisecond still sort in the order they were written.
fn send_stamp() -> chrono::DateTime<chrono::Utc> {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = chrono::Utc::now().timestamp_millis();
    let mut last = LAST.load(Ordering::Relaxed);
    let stamp = loop {
        let next = now.max(last.saturating_add(1));
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => break next,
            Err(seen) => last = seen,
        }
    };
    chrono::DateTime::from_timestamp_millis(stamp).unwrap_or_else(chrono::Utc::now)
}

/// The name of what goes to a supplier's folder or mail for `doc`:
/// `<number>-<UTC time to the millisecond>-v<version>[-cancel]-<doc id>`, so a PO's files sort
/// in the order they were sent. Named by version and doc id alone, a change and a cancellation
/// of one version sorted by chance, and a translator reading in name order applied the
/// cancellation before the change, which reinstated a cancelled order.
fn file_stem(env: &Envelope, doc: &Document) -> String {
    let version = match doc {
        Document::PurchaseOrder(po) => {
            let sent = send_stamp().format("%Y%m%dT%H%M%S%3fZ");
            let version = po.version.map(|v| format!("-v{v}")).unwrap_or_default();
            let cancel = if po.purpose == Some(gateway_model::OrderPurpose::Cancel) {
                "-cancel"
            } else {
                ""
            };
            format!("-{sent}{version}{cancel}")
        }
        Document::Invoice(_) => String::new(),
    };
    stem(doc.number(), &version, &env.doc_id)
}

/// `<number><version>-<first 8 of the doc id>`, safe as a file name in a partner's folder:
/// what the gateway writes there for one document (a PO, an 824 or notice about an invoice).
pub(crate) fn stem(number: &str, version: &str, doc_id: &str) -> String {
    let number: String = number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let short_id: String = doc_id.chars().take(8).collect();
    format!("{number}{version}-{short_id}")
}

/// Writes `body` into a partner's folder atomically; the path written.
pub(crate) fn write_file(dir: &str, name: &str, body: &[u8]) -> Result<String, DeliveryError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| DeliveryError::retryable(format!("cannot create {dir}: {e}")))?;
    write_atomically(Path::new(dir), name, body)
        .map(|p| p.display().to_string())
        .map_err(|e| DeliveryError::retryable(format!("cannot write {name} into {dir}: {e}")))
}

impl Outbound for SupplierDelivery {
    fn name(&self) -> &str {
        "supplier"
    }

    fn deliver<'a>(
        &'a self,
        env: &'a Envelope,
        doc: &'a Document,
    ) -> BoxFuture<'a, Result<Receipt, DeliveryError>> {
        async move {
            let key = &env.idempotency_key;
            // Held from the decision (sent before? superseded? the first version?) through the
            // send and the ledger write, and let go before the export mark: a version of the
            // same PO delivered concurrently (a replay of several dead letters at once) waits,
            // then reads what this one sent. Without it both read "nothing went yet" and the
            // supplier got two new orders.
            let turn = self.turns.take(po_turn_key(env)).await;
            let (reference, already_present, nothing_to_cancel) = match self.sent_before(key)? {
                Some(reference) => (reference, true, false),
                None => {
                    if let Some(later) = self.superseded_by(key)? {
                        return Ok(Receipt {
                            reference: String::new(),
                            already_present: false,
                            superseded_by: Some(later),
                            nothing_to_cancel: false,
                            not_sent: Vec::new(),
                        });
                    }
                    match self.opening(key, doc)? {
                        Opening::AsIs => {
                            let partner = self.partner_for(env, doc).await?;
                            let reference = self.send(env, doc, &partner).await?;
                            self.remember_sent(key, &reference);
                            (reference, false, false)
                        }
                        Opening::AsNew(first) => {
                            tracing::info!(idempotency_key = %key,
                                "no earlier version of this PO went to the supplier: sent as a new order");
                            let partner = self.partner_for(env, doc).await?;
                            let reference = self.send(env, &first, &partner).await?;
                            self.remember_sent(key, &reference);
                            (format!("{reference} (as a new order: no earlier version went to the supplier)"), false, false)
                        }
                        Opening::NothingToCancel => {
                            tracing::info!(idempotency_key = %key,
                                "cancelled before any version went to the supplier: nothing sent");
                            (NOTHING_TO_CANCEL.to_string(), false, true)
                        }
                    }
                }
            };
            drop(turn);
            if let (Some(exporter), Some(id)) = (
                &self.exporter,
                env.source
                    .extra
                    .get(COUPA_PO_ID)
                    .and_then(|v| v.parse::<u64>().ok()),
            ) {
                let sent = crate::po_keys::PoKey::parse(key).map(|(k, _)| k);
                let marked = exporter.mark_exported(id, sent).await.map_err(|e| {
                    self.export_mark_failed(e, env, &reference, nothing_to_cancel)
                })?;
                if !marked {
                    tracing::info!(idempotency_key = %key, coupa_po_id = id,
                        "sent; not marked exported, since Coupa holds another version or state of this PO now: the poller sends that one");
                }
            }
            if let Ok(mut m) = self.sent_here.lock() {
                m.remove(key);
            }
            Ok(Receipt {
                reference,
                already_present,
                superseded_by: None,
                nothing_to_cancel,
                not_sent: Vec::new(),
            })
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use gateway_core::{Direction, SourceMeta};
    use gateway_model::{DocumentKind, PurchaseOrder};

    use super::*;
    use crate::ledger::NewDocument;

    /// Coupa's export mark, failing (retryably) the first `failures` times.
    struct FlakyExporter {
        failures: u32,
        calls: AtomicU32,
    }

    impl PoExporter for FlakyExporter {
        fn mark_exported(
            &self,
            _: u64,
            _: Option<crate::po_keys::PoKey>,
        ) -> BoxFuture<'_, Result<bool, DeliveryError>> {
            let call = self.calls.fetch_add(1, Ordering::SeqCst);
            let result = if call < self.failures {
                Err(DeliveryError::retryable("Coupa answered 503"))
            } else {
                Ok(true)
            };
            async move { result }.boxed()
        }
    }

    struct Setup {
        dir: tempfile::TempDir,
        ledger: Arc<Ledger>,
        env: Envelope,
        doc: Document,
    }

    /// Claims `key` for acme's PO77 as the PO poller claims it.
    fn claim_po(ledger: &Ledger, key: &str, doc_id: &str) -> crate::ledger::Claim {
        ledger
            .claim(&NewDocument {
                idempotency_key: key,
                doc_id,
                adapter: "coupa",
                partner: "acme",
                kind: "purchase_order",
                number: "PO77",
                business_key: None,
            })
            .expect("claim")
    }

    /// A PO for partner `acme`, whose channel is CSV files in `<dir>/out`, claimed in a ledger
    /// at `<dir>/ledger.db` as the PO poller claims it.
    fn setup() -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        let ledger = Arc::new(Ledger::open(&dir.path().join("ledger.db")).expect("ledger"));
        let mut meta = SourceMeta::default();
        meta.extra.insert(COUPA_PO_ID.into(), "77".into());
        let mut env = Envelope::inbound(
            DocumentKind::PurchaseOrder,
            "coupa",
            Some("acme".into()),
            meta,
        );
        env.direction = Direction::Out;
        env.idempotency_key = "coupa-po:77:v1".into();
        let claimed = claim_po(&ledger, &env.idempotency_key, &env.doc_id);
        assert!(matches!(claimed, crate::ledger::Claim::New));
        let doc = Document::PurchaseOrder(PurchaseOrder {
            po_number: Some("PO77".into()),
            ..PurchaseOrder::default()
        });
        Setup {
            dir,
            ledger,
            env,
            doc,
        }
    }

    fn delivery(s: &Setup, exporter: Arc<FlakyExporter>) -> SupplierDelivery {
        let partner = PartnerProfile {
            id: "acme".into(),
            outbound: Some(OutboundChannel::CsvFile {
                dir: s.dir.path().join("out").display().to_string(),
            }),
            ..PartnerProfile::default()
        };
        SupplierDelivery::new(
            Partners::new(vec![partner]),
            Codecs::standard(),
            Arc::clone(&s.ledger),
            Duration::from_secs(5),
            Some(exporter),
        )
        .expect("client")
    }

    /// What the supplier picks up from its folder now (and removes, as a supplier's poller
    /// does: a second copy under the same name then counts again).
    fn pick_up(s: &Setup) -> usize {
        let Ok(files) = std::fs::read_dir(s.dir.path().join("out")) else {
            return 0;
        };
        let mut picked = 0;
        for f in files.flatten() {
            std::fs::remove_file(f.path()).expect("pick up");
            picked += 1;
        }
        picked
    }

    /// `s`'s PO under another key of the same Coupa PO, with `purpose`, claimed as the poller
    /// claims it.
    fn another(s: &Setup, key: &str, purpose: gateway_model::OrderPurpose) -> (Envelope, Document) {
        let mut env = s.env.clone();
        env.idempotency_key = key.into();
        env.doc_id = format!("doc-{key}");
        claim_po(&s.ledger, key, &env.doc_id);
        let doc = Document::PurchaseOrder(PurchaseOrder {
            po_number: Some("PO77".into()),
            purpose: Some(purpose),
            ..PurchaseOrder::default()
        });
        (env, doc)
    }

    /// A change of an order the supplier never received (its first version failed, or was
    /// changed before the poller saw it) went out as a change, which the supplier cannot
    /// place; it goes as a new order. A cancellation of an order it never received went out
    /// too; nothing is sent, and the first version, if it comes after, is superseded. Once the
    /// supplier has a version, a change goes as a change.
    #[tokio::test]
    async fn the_first_version_a_supplier_gets_is_a_new_order_and_a_cancel_of_nothing_is_not_sent()
    {
        use gateway_model::OrderPurpose::{Cancel, New, Update};
        let s = setup();
        let exporter = Arc::new(FlakyExporter {
            failures: 0,
            calls: AtomicU32::new(0),
        });
        let sender = delivery(&s, Arc::clone(&exporter));

        // Version 2 first: nothing of the PO went before.
        let (env2, v2) = another(&s, "coupa-po:77:v2", Update);
        match sender.opening(&env2.idempotency_key, &v2).expect("ledger") {
            Opening::AsNew(first) => match *first {
                Document::PurchaseOrder(po) => assert_eq!(po.purpose, Some(New)),
                other => panic!("{other:?}"),
            },
            _ => panic!("not sent as a new order"),
        }
        let receipt = sender.deliver(&env2, &v2).await.expect("sent");
        assert!(
            receipt.reference.contains("as a new order"),
            "{}",
            receipt.reference
        );
        assert_eq!(pick_up(&s), 1);
        s.ledger
            .set_status(&env2.idempotency_key, Status::Delivered, &receipt.reference)
            .expect("status");
        // Version 3 after it: a change of what the supplier has.
        let (env3, v3) = another(&s, "coupa-po:77:v3", Update);
        assert!(matches!(
            sender.opening(&env3.idempotency_key, &v3).expect("ledger"),
            Opening::AsIs
        ));

        // Another PO, cancelled before any version went.
        let (mut envc, cancel) = another(&s, "coupa-po:78:v1:cancel", Cancel);
        envc.source.extra.insert(COUPA_PO_ID.into(), "78".into());
        let receipt = sender.deliver(&envc, &cancel).await.expect("settled");
        assert_eq!(receipt.reference, NOTHING_TO_CANCEL);
        assert!(receipt.nothing_to_cancel, "{receipt:?}");
        assert_eq!(
            pick_up(&s),
            0,
            "nothing sent for an order the supplier never had"
        );
        // Recorded as the consumer records it: not delivered, yet standing for the PO.
        s.ledger
            .set_status(
                &envc.idempotency_key,
                Status::CancelledUnsent,
                &receipt.reference,
            )
            .expect("status");
        // Its first version, arriving after, is not sent either.
        let (mut env1, v1) = another(&s, "coupa-po:78:v1", New);
        env1.source.extra.insert(COUPA_PO_ID.into(), "78".into());
        let receipt = sender.deliver(&env1, &v1).await.expect("settled");
        assert_eq!(
            receipt.superseded_by.as_deref(),
            Some("coupa-po:78:v1:cancel")
        );
        assert_eq!(pick_up(&s), 0);
    }

    /// A PO's files sort in the order they were sent, a cancellation marked: a change and a
    /// cancellation of one version were told apart only by a random doc id.
    #[test]
    fn a_pos_file_names_sort_in_send_order_and_mark_a_cancellation() {
        use gateway_model::OrderPurpose::{Cancel, Update};
        let s = setup();
        let (env, change) = another(&s, "coupa-po:77:v2", Update);
        let (envc, cancel) = another(&s, "coupa-po:77:v2:cancel", Cancel);
        let versioned = |doc: &Document| match doc {
            Document::PurchaseOrder(po) => Document::PurchaseOrder(PurchaseOrder {
                version: Some(2),
                ..po.clone()
            }),
            other => other.clone(),
        };
        let first = file_stem(&env, &versioned(&change));
        let second = file_stem(&envc, &versioned(&cancel));
        assert!(first < second, "{first} then {second}");
        assert!(
            first.starts_with("PO77-") && first.contains("-v2-"),
            "{first}"
        );
        assert!(second.contains("-v2-cancel-"), "{second}");
        assert!(!first.contains("cancel"), "{first}");
    }

    /// The supplier got the PO but Coupa refused the export mark: the retry, in this process
    /// or in one started afterwards on the same ledger, marks it again without a second file.
    #[tokio::test]
    async fn a_failed_export_mark_is_retried_without_sending_the_po_again() {
        let s = setup();
        let exporter = Arc::new(FlakyExporter {
            failures: 2,
            calls: AtomicU32::new(0),
        });
        let first = delivery(&s, Arc::clone(&exporter));
        let err = first.deliver(&s.env, &s.doc).await.expect_err("mark fails");
        assert!(err.is_retryable(), "{err:?}");
        assert_eq!(pick_up(&s), 1);

        // A restart: a new delivery with nothing in memory, only the ledger.
        let after_restart = delivery(&s, Arc::clone(&exporter));
        let err = after_restart
            .deliver(&s.env, &s.doc)
            .await
            .expect_err("mark fails");
        assert!(err.is_retryable(), "{err:?}");
        let receipt = after_restart.deliver(&s.env, &s.doc).await.expect("marked");
        assert!(receipt.already_present);
        assert!(receipt.reference.ends_with(".csv"), "{}", receipt.reference);
        assert_eq!(pick_up(&s), 0, "the supplier got the PO once");
        assert_eq!(exporter.calls.load(Ordering::SeqCst), 3);
    }

    /// A ledger that cannot be read does not count as "not sent yet": nothing is sent, and the
    /// error is retryable. Once the PO was sent, a ledger that cannot be written no longer
    /// makes a retry in the same process send it again.
    #[tokio::test]
    async fn a_ledger_that_fails_never_makes_the_supplier_get_the_po_twice() {
        let s = setup();
        let exporter = Arc::new(FlakyExporter {
            failures: 1,
            calls: AtomicU32::new(0),
        });
        let sender = delivery(&s, Arc::clone(&exporter));
        let err = sender
            .deliver(&s.env, &s.doc)
            .await
            .expect_err("mark fails");
        assert!(err.is_retryable(), "{err:?}");
        assert_eq!(pick_up(&s), 1);

        // The ledger's table is gone from under it: every read and write fails.
        let raw = rusqlite::Connection::open(s.dir.path().join("ledger.db")).expect("open");
        raw.execute_batch("DROP TABLE documents").expect("drop");
        assert!(s.ledger.entry(&s.env.idempotency_key).is_err());

        // Same process: it remembers what it sent, and only the mark is retried.
        let receipt = sender.deliver(&s.env, &s.doc).await.expect("marked");
        assert!(receipt.already_present);
        assert_eq!(pick_up(&s), 0);

        // A process that never sent it cannot tell, so it sends nothing and asks for a retry.
        let other = delivery(&s, Arc::clone(&exporter));
        let err = other
            .deliver(&s.env, &s.doc)
            .await
            .expect_err("ledger down");
        assert!(err.is_retryable(), "{err:?}");
        assert!(err.reason().contains("not sent"), "{}", err.reason());
        assert_eq!(pick_up(&s), 0, "nothing sent on a guess");
    }

    /// The export mark failed until the PO died; the dead letter's reason replaced the ledger
    /// detail, and a replay after a restart read "not sent" from it and sent the PO again. The
    /// ledger now records the sending apart from the status.
    #[tokio::test]
    async fn a_po_sent_before_it_died_is_not_sent_again_by_a_replay_after_a_restart() {
        let s = setup();
        let exporter = Arc::new(FlakyExporter {
            failures: 1,
            calls: AtomicU32::new(0),
        });
        let first = delivery(&s, Arc::clone(&exporter));
        first.deliver(&s.env, &s.doc).await.expect_err("mark fails");
        assert_eq!(pick_up(&s), 1);
        // The bus gives up: the consumer records the dead letter with its reason.
        s.ledger
            .set_status(
                &s.env.idempotency_key,
                Status::Dead,
                "gave up after 4 attempts: Coupa server error 503",
            )
            .expect("dead");
        // A restart, then the operator's replay.
        let replayed = delivery(&s, Arc::clone(&exporter));
        let receipt = replayed.deliver(&s.env, &s.doc).await.expect("marked");
        assert!(receipt.already_present, "{receipt:?}");
        assert_eq!(pick_up(&s), 0, "the supplier got the PO once");
        // And a delivered one redelivered by the bus is not sent again either.
        s.ledger
            .set_status(&s.env.idempotency_key, Status::Delivered, "supplier: x")
            .expect("delivered");
        let again = delivery(&s, exporter).deliver(&s.env, &s.doc).await;
        assert!(again.expect("marked").already_present);
        assert_eq!(pick_up(&s), 0);
    }

    /// An older version arriving after a later one is on its way (a retry, a late replay) is
    /// not sent: the supplier would take it for the current order.
    #[tokio::test]
    async fn an_older_version_after_a_later_one_is_not_sent() {
        let s = setup();
        let exporter = Arc::new(FlakyExporter {
            failures: 0,
            calls: AtomicU32::new(0),
        });
        for (key, status) in [
            ("coupa-po:77:v2", Status::Published),
            ("coupa-po:770:v9", Status::Delivered),
        ] {
            claim_po(&s.ledger, key, key);
            s.ledger.set_status(key, status, "").expect("status");
        }
        let sender = delivery(&s, Arc::clone(&exporter));
        let receipt = sender.deliver(&s.env, &s.doc).await.expect("settled");
        assert_eq!(receipt.superseded_by.as_deref(), Some("coupa-po:77:v2"));
        assert_eq!(pick_up(&s), 0, "nothing sent");
        assert_eq!(
            exporter.calls.load(Ordering::SeqCst),
            0,
            "not marked exported"
        );

        // The cancellation of version 2 comes after version 2 itself.
        let mut cancel = s.env.clone();
        cancel.idempotency_key = "coupa-po:77:v2:cancel".into();
        claim_po(&s.ledger, &cancel.idempotency_key, &cancel.doc_id);
        let receipt = sender.deliver(&cancel, &s.doc).await.expect("sent");
        assert_eq!(receipt.superseded_by, None);
        assert_eq!(pick_up(&s), 1);
    }

    /// QA's double new order: v1 and v2 of one PO dead-lettered, then replayed at once and
    /// delivered concurrently. Both read "no earlier version went" before either was recorded,
    /// and the supplier got two new orders. Deliveries of one PO to one supplier now take
    /// turns: exactly one new order, then either v2 as an update or v1 superseded.
    #[tokio::test]
    async fn two_versions_delivered_at_once_give_the_supplier_one_new_order() {
        use gateway_model::OrderPurpose::{New, Update};
        let sandbox = gateway_sandbox::Sandbox::start(gateway_sandbox::SandboxOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        // Each answer takes a while, as the supplier's did in QA's run.
        sandbox.set_latency(Duration::from_millis(100));
        let partner = sandbox_acme(&sandbox, "");
        let po = po77;
        let s = setup();
        let (env2, _) = another(&s, "coupa-po:77:v2", Update);
        let sender = SupplierDelivery::new(
            Partners::new(vec![partner]),
            Codecs::standard(),
            Arc::clone(&s.ledger),
            Duration::from_secs(10),
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let (v1, v2) = (po(New), po(Update));
        // v2 first, as in QA's log: it starts sending before v1 is looked at.
        let (second, first) = tokio::join!(sender.deliver(&env2, &v2), sender.deliver(&s.env, &v1));
        let (second, first) = (
            second.unwrap_or_else(|e| panic!("{e:?}")),
            first.unwrap_or_else(|e| panic!("{e:?}")),
        );
        let types: Vec<String> = sandbox
            .supplier_received()
            .into_iter()
            .filter_map(|o| o.order_type)
            .collect();
        assert_eq!(
            types.iter().filter(|t| *t == "new").count(),
            1,
            "the supplier holds {types:?}"
        );
        // Which went first is the scheduler's: v2 as the new order and v1 superseded, or v1
        // new and v2 its update.
        if first.superseded_by.is_some() {
            assert_eq!(first.superseded_by.as_deref(), Some("coupa-po:77:v2"));
            assert_eq!(types, ["new"]);
            assert!(second.reference.contains("as a new order"), "{second:?}");
        } else {
            assert_eq!(types, ["new", "update"]);
        }
        assert_eq!(sender.turns.len(), 0, "no turn left behind");
    }

    /// Partner acme, whose channel is cXML to `sandbox`'s supplier endpoint `acme`, with the
    /// lines `more` added to its `[cxml]` section.
    fn sandbox_acme(sandbox: &gateway_sandbox::SandboxHandle, more: &str) -> PartnerProfile {
        PartnerProfile::from_toml(
            &format!(
                r#"
id = "acme"
[cxml]
from_domain = "DUNS"
from_identity = "123456789"
to_domain = "NetworkID"
to_identity = "ACME"
sender_domain = "DUNS"
sender_identity = "123456789"
shared_secret = "acme-shared-secret"
{more}
[outbound]
type = "cxml"
url = "{}/supplier/acme/cxml"
"#,
                sandbox.base_url()
            ),
            "acme.toml",
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// PO77 with `purpose`, whole enough for the cXML writer.
    fn po77(purpose: gateway_model::OrderPurpose) -> Document {
        let mut doc = gateway_model::from_json(
            br#"{"schema_version": 1, "kind": "purchase_order", "po_number": "PO77", "order_date": "2026-12-05", "currency": "USD",
                 "ship_to": {"name": "Plant 2", "address": {"lines": ["Industriestr. 5"], "city": "Munich", "postal_code": "80331", "country": "DE"}},
                 "lines": [{"line_number": 1, "quantity": "3", "uom": "EA", "unit_price": "5.00", "description": "Widget"}],
                 "total": "15.00"}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        if let Document::PurchaseOrder(po) = &mut doc {
            po.purpose = Some(purpose);
        }
        doc
    }

    /// QA: two buyers' gateways (two Coupa instances, each with its PO 8 version 1) sent the
    /// same payloadID, `coupa-po.8.v1.08508312a744@coupa-gateway`, made from the key alone, and
    /// a supplier that drops repeated payloadIDs lost the second buyer's order. The Coupa
    /// instance is in the hash now: another instance (host, or port) gives another payloadID;
    /// the same instance, however its base URL is written, gives the same one, so a second
    /// gateway in front of it, taking over, does not make a supplier see a new order. The host
    /// after the `@` is the partner profile's, else `[coupa] payload_id_host`, else the default.
    #[test]
    fn payload_ids_differ_between_coupa_instances_and_not_between_gateways_of_one() {
        let plain = PartnerProfile {
            id: "acme".into(),
            ..PartnerProfile::default()
        };
        let key = "coupa-po:8:v1";
        let make = |base: &str| PayloadIds::new(base, None).make(key, &plain);
        let acme = make("https://acme.coupahost.com");
        assert!(
            acme.starts_with("coupa-po.8.v1.") && acme.ends_with("@coupa-gateway"),
            "{acme}"
        );
        assert_ne!(
            acme, "coupa-po.8.v1.08508312a744@coupa-gateway",
            "the old form"
        );
        for same in [
            "https://ACME.coupahost.com/",
            " https://acme.coupahost.com:443/api/ ",
            "https://acme.coupahost.com/?x=1",
        ] {
            assert_eq!(make(same), acme, "{same}");
        }
        let others = [
            make("https://globex.coupahost.com"),
            make("http://127.0.0.1:18640"),
            make("http://127.0.0.1:18660"),
        ];
        for (i, other) in others.iter().enumerate() {
            assert_ne!(other, &acme);
            for later in &others[i + 1..] {
                assert_ne!(other, later);
            }
        }
        // Each version, cancellation and resend has its own.
        let ids = PayloadIds::new("https://acme.coupahost.com", None);
        let keyed: std::collections::HashSet<String> = [
            "coupa-po:8:v1",
            "coupa-po:8:v2",
            "coupa-po:8:v2:cancel",
            "coupa-po:8:v1:resend-1",
        ]
        .iter()
        .map(|k| ids.make(k, &plain))
        .collect();
        assert_eq!(keyed.len(), 4, "{keyed:?}");

        let configured = PayloadIds::new("https://acme.coupahost.com", Some("acme.example"));
        let hosted = configured.make(key, &plain);
        assert_eq!(
            hosted.split_once('@'),
            Some((acme.split_once('@').map_or("", |(l, _)| l), "acme.example"))
        );
        let own = PartnerProfile {
            cxml: Some(gateway_core::profile::CxmlProfile {
                payload_id_host: Some("buyer.acme.example".into()),
                ..Default::default()
            }),
            ..plain.clone()
        };
        assert!(
            configured.make(key, &own).ends_with("@buyer.acme.example"),
            "the profile's host wins"
        );
    }

    /// Claims `key` for acme's PO77 as the poller does and records it delivered, as the
    /// consumer does after the supplier took it under `reference`.
    fn delivered(ledger: &Ledger, key: &str, reference: &str) {
        claim_po(ledger, key, &format!("doc-{key}"));
        ledger.record_sent(key, reference).expect("sent");
        ledger
            .set_status(key, Status::Delivered, reference)
            .expect("delivered");
    }

    /// The `DocumentReference@payloadID` of a cXML document received by the sandbox.
    fn document_reference(body: &str) -> Option<String> {
        let tree = adapter_cxml::reader::parse_one(body.as_bytes(), &Default::default()).ok()?;
        let root = tree.root()?;
        let request = root.child("Request")?;
        let header = request.child("OrderRequest")?.child("OrderRequestHeader")?;
        header
            .child("DocumentReference")
            .and_then(|d| d.attr("payloadID").map(str::to_string))
    }

    /// A change refers to the OrderRequest before it by the payloadID that one went out under,
    /// read from the ledger, never made again: a PO an older gateway sent (its ledger upgraded,
    /// the payloadID of that time, QA's `coupa-po.8.v1.08508312a744@coupa-gateway`, written in)
    /// is referred to by that form, and one sent under this installation's form stays referred
    /// to by it, and retried under it, after the configuration changed the instance or host.
    #[tokio::test]
    async fn a_change_refers_to_the_payload_id_the_earlier_order_was_sent_under() {
        use gateway_model::OrderPurpose::{Cancel, Update};
        let sandbox = gateway_sandbox::Sandbox::start(gateway_sandbox::SandboxOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let s = setup();
        // Version 1 of Coupa PO 8 went out from a gateway before payloadIDs were recorded.
        delivered(&s.ledger, "coupa-po:8:v1", "supplier: cXML 200 OK");
        let raw = rusqlite::Connection::open(s.dir.path().join("ledger.db")).expect("open");
        raw.execute_batch(
            "ALTER TABLE documents DROP COLUMN payload_id;
             ALTER TABLE documents DROP COLUMN attempted_at;
             ALTER TABLE documents DROP COLUMN sent_at;
             ALTER TABLE documents DROP COLUMN left_to_coupa_at;",
        )
        .expect("the ledger as an older gateway left it, without the columns added since");
        drop(raw);
        let ledger = Arc::new(Ledger::open(&s.dir.path().join("ledger.db")).expect("upgraded"));
        let sender = |ids: PayloadIds, more: &str| {
            SupplierDelivery::new(
                Partners::new(vec![sandbox_acme(&sandbox, more)]),
                Codecs::standard(),
                Arc::clone(&ledger),
                Duration::from_secs(10),
                None,
            )
            .unwrap_or_else(|e| panic!("{e}"))
            .with_payload_ids(ids)
        };
        let first = sender(
            PayloadIds::new("https://acme.coupahost.com", Some("gw.acme.example")),
            "",
        );
        let env = |key: &str| {
            let mut env = s.env.clone();
            env.idempotency_key = key.into();
            env.source.extra.insert(COUPA_PO_ID.into(), "8".into());
            claim_po(&ledger, key, &format!("doc-{key}"));
            env
        };
        let v2 = env("coupa-po:8:v2");
        first.deliver(&v2, &po77(Update)).await.expect("sent");
        let received = sandbox.supplier_received();
        let [change] = received.as_slice() else {
            panic!("{received:?}")
        };
        assert_eq!(change.order_type.as_deref(), Some("update"));
        assert_eq!(
            document_reference(&change.body).as_deref(),
            Some("coupa-po.8.v1.08508312a744@coupa-gateway"),
            "{}",
            change.body
        );
        let v2_id = change.payload_id.clone().unwrap_or_default();
        assert!(
            v2_id.starts_with("coupa-po.8.v2.") && v2_id.ends_with("@gw.acme.example"),
            "{v2_id}"
        );
        ledger
            .set_status(&v2.idempotency_key, Status::Delivered, "supplier")
            .expect("delivered");

        // The configuration changes: another base URL and host. The cancellation refers to
        // version 2 by what it went out under.
        let later = sender(
            PayloadIds::new("https://other.example", Some("x.example")),
            "",
        );
        let cancel = env("coupa-po:8:v2:cancel");
        later.deliver(&cancel, &po77(Cancel)).await.expect("sent");
        let received = sandbox.supplier_received();
        assert_eq!(received.len(), 2, "{received:?}");
        assert_eq!(received[1].order_type.as_deref(), Some("delete"));
        assert_eq!(
            document_reference(&received[1].body),
            Some(v2_id.clone()),
            "{}",
            received[1].body
        );
        // A retry of a version whose first attempt went out keeps that attempt's payloadID,
        // whatever the configuration says by then.
        assert_eq!(
            later
                .payload_id(&v2.idempotency_key, &sandbox_acme(&sandbox, ""))
                .expect("recorded"),
            v2_id
        );
    }

    /// What a fake supplier endpoint answers after reading the request.
    #[derive(Clone, Copy)]
    enum FakeAnswer {
        /// `status`, then a chunked body of `total` bytes of filler (far over the bound).
        Chunked { status: u16, total: usize },
        /// `status` with `Content-Length: length`, then no body at all (the connection held).
        Announced { status: u16, length: u64 },
        /// `status` with this whole body, with its `Content-Length` or (`chunked`) in one chunk.
        Body {
            status: u16,
            body: &'static [u8],
            chunked: bool,
        },
        /// Nothing: the connection is closed once the whole request was read (the QA tester's
        /// `drop` endpoint: the supplier has the order, its answer is lost).
        Close,
    }

    /// How many body bytes the fake endpoint wrote, and whether it wrote all it meant to
    /// (false: the client hung up first).
    type Written = (usize, bool);

    /// A supplier endpoint on localhost answering one POST with `answer`; its URL, and what it
    /// wrote once the exchange is over.
    async fn fake_supplier(
        answer: FakeAnswer,
    ) -> (String, tokio::task::JoinHandle<std::io::Result<Written>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/po", listener.local_addr().expect("address"));
        let served = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await?;
            // The request: its head, then `Content-Length` bytes of body.
            let mut request = Vec::new();
            let mut buf = [0u8; 8192];
            loop {
                let n = s.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
                if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            match answer {
                FakeAnswer::Chunked { status, total } => {
                    s.write_all(
                        format!(
                            "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n"
                        )
                        .as_bytes(),
                    )
                    .await?;
                    let filler = vec![b'<'; 64 * 1024];
                    let mut written = 0;
                    while written < total {
                        let frame = [
                            format!("{:x}\r\n", filler.len()).as_bytes(),
                            &filler,
                            b"\r\n",
                        ]
                        .concat();
                        if s.write_all(&frame).await.is_err() {
                            return Ok((written, false));
                        }
                        written += filler.len();
                    }
                    s.write_all(b"0\r\n\r\n").await?;
                    Ok((written, true))
                }
                FakeAnswer::Announced { status, length } => {
                    s.write_all(
                        format!("HTTP/1.1 {status} X\r\nContent-Length: {length}\r\n\r\n")
                            .as_bytes(),
                    )
                    .await?;
                    // Held open, nothing sent, until the client hangs up.
                    let _ = s.read(&mut buf).await;
                    Ok((0, false))
                }
                FakeAnswer::Body {
                    status,
                    body,
                    chunked,
                } => {
                    let answer = if chunked {
                        [
                            format!(
                                "HTTP/1.1 {status} X\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n",
                                body.len()
                            )
                            .as_bytes(),
                            body,
                            b"\r\n0\r\n\r\n",
                        ]
                        .concat()
                    } else {
                        [
                            format!(
                                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                body.len()
                            )
                            .as_bytes(),
                            body,
                        ]
                        .concat()
                    };
                    // The client may hang up once it has read enough.
                    let finished = s.write_all(&answer).await.is_ok();
                    Ok((body.len(), finished))
                }
                FakeAnswer::Close => Ok((0, true)),
            }
        });
        (url, served)
    }

    /// QA: a PO whose POST reached the supplier but whose answer was lost counted as never
    /// sent. Whether a failed POST may have reached the supplier: only a connection never made
    /// or an answer refusing the order is certain; a connection closed after the request went
    /// (the supplier has the order) or a 2xx answer without a readable cXML Status is not.
    #[tokio::test]
    async fn a_post_whose_answer_was_lost_may_have_reached_the_supplier() {
        let refused =
            br#"<cXML><Response><Status code="400" text="Bad Request"/></Response></cXML>"#;
        for (answer, expected) in [
            (FakeAnswer::Close, Reached::Maybe),
            (
                FakeAnswer::Body {
                    status: 200,
                    body: b"<html>thanks</html>",
                    chunked: false,
                },
                Reached::Maybe,
            ),
            (
                FakeAnswer::Body {
                    status: 503,
                    body: b"busy",
                    chunked: false,
                },
                Reached::No,
            ),
            (
                FakeAnswer::Body {
                    status: 200,
                    body: refused,
                    chunked: false,
                },
                Reached::No,
            ),
        ] {
            let (url, served) = fake_supplier(answer).await;
            let outcome = post_cxml_outcome(&client(), &url, b"<cXML/>".to_vec()).await;
            match outcome {
                Err((_, reached)) => assert_eq!(reached, expected, "{outcome:?}"),
                Ok(r) => panic!("taken: {r}"),
            }
            let _ = served.await;
        }
        // A server failing, or a proxy whose backend did not answer in time, may have taken it;
        // a 4xx other than 408, or a 503, says it was not processed.
        for (status, expected) in [
            (408, Reached::Maybe),
            (500, Reached::Maybe),
            (502, Reached::Maybe),
            (504, Reached::Maybe),
            (400, Reached::No),
            (404, Reached::No),
            (503, Reached::No),
        ] {
            let (url, served) = fake_supplier(FakeAnswer::Body {
                status,
                body: b"<html>gateway error</html>",
                chunked: false,
            })
            .await;
            let outcome = post_cxml_outcome(&client(), &url, b"<cXML/>".to_vec()).await;
            match outcome {
                Err((_, reached)) => assert_eq!(reached, expected, "HTTP {status}: {outcome:?}"),
                Ok(r) => panic!("taken: {r}"),
            }
            let _ = served.await;
        }
        // Nobody listens: the request never went.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/po", listener.local_addr().expect("address"));
        drop(listener);
        let outcome = post_cxml_outcome(&client(), &url, b"<cXML/>".to_vec()).await;
        assert!(matches!(outcome, Err((_, Reached::No))), "{outcome:?}");
    }

    /// Far more than the bound, finite only so that a gateway reading without one fails the
    /// assertions below rather than the machine.
    const HUGE: usize = 64 * MAX_SUPPLIER_ANSWER_BYTES;

    /// The client as deliveries use it; its timeout only keeps a broken reader from hanging
    /// the test.
    fn client() -> reqwest::Client {
        supplier_http(Duration::from_secs(60)).expect("client")
    }

    /// A supplier answering a PO with 2xx and a body that does not end (64 MiB here): reading
    /// stops at the bound, and the delivery fails permanently, naming the bound and that the
    /// supplier may have the order, instead of the gateway reading gigabytes into memory.
    #[tokio::test]
    async fn a_2xx_answer_over_the_bound_fails_the_delivery_at_the_bound() {
        let (url, served) = fake_supplier(FakeAnswer::Chunked {
            status: 200,
            total: HUGE,
        })
        .await;
        let sent = post_cxml(&client(), &url, b"<cXML/>".to_vec()).await;
        let Err(DeliveryError::Permanent { reason }) = sent else {
            panic!("{sent:?}");
        };
        assert!(
            reason.contains(&format!("larger than {MAX_SUPPLIER_ANSWER_BYTES} bytes"))
                && reason.contains("HTTP 200")
                && reason.contains("may have taken"),
            "{reason}"
        );
        let (written, finished) = served.await.expect("server").expect("served");
        assert!(
            !finished && written < HUGE,
            "the gateway read the whole answer ({written} bytes)"
        );
    }

    /// A 503 over the bound is still a retryable failure, as any 503, with the bound named.
    #[tokio::test]
    async fn a_5xx_answer_over_the_bound_stays_retryable_and_names_the_bound() {
        let (url, served) = fake_supplier(FakeAnswer::Chunked {
            status: 503,
            total: HUGE,
        })
        .await;
        let sent = post_cxml(&client(), &url, b"<cXML/>".to_vec()).await;
        let Err(DeliveryError::Retryable { reason, .. }) = sent else {
            panic!("{sent:?}");
        };
        assert!(
            reason.contains("HTTP 503")
                && reason.contains(&format!("larger than {MAX_SUPPLIER_ANSWER_BYTES} bytes")),
            "{reason}"
        );
        let (written, finished) = served.await.expect("server").expect("served");
        assert!(!finished && written < HUGE, "read it all ({written} bytes)");
    }

    /// An answer whose `Content-Length` is over the bound is refused without waiting for it.
    #[tokio::test]
    async fn an_answer_announced_over_the_bound_is_not_read() {
        let (url, served) = fake_supplier(FakeAnswer::Announced {
            status: 200,
            length: 10_000_000_000,
        })
        .await;
        let sent = post_cxml(&client(), &url, b"<cXML/>".to_vec()).await;
        let Err(DeliveryError::Permanent { reason }) = sent else {
            panic!("{sent:?}");
        };
        assert!(
            reason.contains(&format!("larger than {MAX_SUPPLIER_ANSWER_BYTES} bytes")),
            "{reason}"
        );
        served.await.expect("server").expect("served");
    }

    /// A supplier's ordinary cXML answer is read and judged as before.
    #[tokio::test]
    async fn a_cxml_answer_within_the_bound_is_judged_as_before() {
        let (url, served) = fake_supplier(FakeAnswer::Body {
            status: 200,
            body: br#"<?xml version="1.0"?><cXML payloadID="1@s" timestamp="2024-01-01T00:00:00Z"><Response><Status code="200" text="OK"/></Response></cXML>"#,
            chunked: false,
        })
        .await;
        let sent = post_cxml(&client(), &url, b"<cXML/>".to_vec()).await;
        assert!(
            matches!(&sent, Ok(r) if r.contains("cXML 200 OK")),
            "{sent:?}"
        );
        served.await.expect("server").expect("served");
    }

    /// The bound is inclusive: a body of exactly `limit` bytes is whole; one byte more is not.
    /// Announced by `Content-Length`, nothing of it is read; sent chunked, what was read stops
    /// at the bound.
    #[tokio::test]
    async fn a_body_of_exactly_the_bound_is_whole_and_one_byte_more_is_not() {
        for chunked in [false, true] {
            for (limit, whole) in [(10, true), (9, false)] {
                let (url, served) = fake_supplier(FakeAnswer::Body {
                    status: 200,
                    body: b"0123456789",
                    chunked,
                })
                .await;
                let response = client().post(&url).send().await.expect("answered");
                let read = adapter_coupa::transport::read_body_bounded(response, limit)
                    .await
                    .expect("read");
                let expected_start: &[u8] = if chunked { b"012345678" } else { b"" };
                match read {
                    adapter_coupa::transport::Bounded::Whole(b) => {
                        assert!(whole && b == b"0123456789", "{b:?}")
                    }
                    adapter_coupa::transport::Bounded::TooLarge(b) => {
                        assert!(!whole && b == expected_start, "{chunked}: {b:?}")
                    }
                }
                let _ = served.await;
            }
        }
    }

    /// Standard base64, whitespace ignored.
    fn base64_decode(text: &str) -> Vec<u8> {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = Vec::new();
        let (mut acc, mut bits) = (0u32, 0u32);
        for c in text
            .bytes()
            .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        {
            let v = ALPHABET
                .iter()
                .position(|a| *a == c)
                .expect("a base64 character");
            acc = (acc << 6) | u32::try_from(v).expect("six bits");
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push(u8::try_from((acc >> bits) & 0xff).expect("a byte"));
            }
        }
        out
    }

    /// Quoted-printable: soft line breaks joined, `=XX` decoded.
    fn quoted_printable_decode(text: &str) -> Vec<u8> {
        let joined = text.replace("=\r\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'='
                && let Some(hex) = bytes.get(i + 1..i + 3)
                && let Ok(b) = u8::from_str_radix(&String::from_utf8_lossy(hex), 16)
            {
                out.push(b);
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        out
    }

    /// Every leaf part of a MIME message, its transfer encoding removed: the text and HTML
    /// bodies and the attachment.
    fn decoded_parts(raw: &str) -> Vec<Vec<u8>> {
        let boundaries: Vec<String> = raw
            .split("boundary=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(|b| format!("--{b}"))
            .collect();
        let mut chunks: Vec<Vec<&str>> = vec![Vec::new()];
        for line in raw.split("\r\n") {
            if boundaries.iter().any(|b| line.starts_with(b.as_str())) {
                chunks.push(Vec::new());
            } else if let Some(chunk) = chunks.last_mut() {
                chunk.push(line);
            }
        }
        chunks
            .into_iter()
            .skip(1)
            .filter_map(|chunk| {
                let blank = chunk.iter().position(|l| l.is_empty())?;
                let head = chunk[..blank].join("\n").to_ascii_lowercase();
                if head.is_empty() || head.contains("multipart/") {
                    return None;
                }
                let body = chunk[blank + 1..].join("\r\n");
                Some(if head.contains("content-transfer-encoding: base64") {
                    base64_decode(&body)
                } else if head.contains("content-transfer-encoding: quoted-printable") {
                    quoted_printable_decode(&body)
                } else {
                    body.into_bytes()
                })
            })
            .collect()
    }

    /// The names of `n`'s child elements.
    fn child_names<'t>(n: adapter_cxml::reader::Node<'t>) -> Vec<&'t str> {
        n.children().map(|c| c.name()).collect()
    }

    /// A cXML PO mailed to a supplier carried the Sender's SharedSecret in clear text (the
    /// partner's `shared_secret`, the one it authenticates to us with, or its
    /// `outbound_shared_secret`): a mail authenticates nothing, and hands the secret to whoever
    /// reads it. The mail now holds no secret of the profile in any part, decoded or not, and
    /// its attachment is still an OrderRequest cXML.dtd allows: the Sender's Credential is
    /// its Identity alone (`Credential (Identity, (SharedSecret | DigitalSignature |
    /// CredentialMac)?)`), and the rest is what the writer writes for a cXML POST, which
    /// `adapters/cxml/tests/order_request_dtd.rs` checks against the content models.
    #[tokio::test]
    async fn a_mailed_cxml_po_carries_no_secret_and_is_still_a_valid_order_request() {
        // The QA tester's profile: the Sender carries `shared_secret`, the one the partner
        // authenticates to us with.
        mail_cxml_po_and_check("", "acme-shared-secret").await;
        // A profile with a secret of its own for OrderRequests: the Sender carries that one.
        mail_cxml_po_and_check(
            "outbound_shared_secret = \"acme-outbound-secret\"\n",
            "acme-outbound-secret",
        )
        .await;
    }

    /// Mails a cXML PO to acme, whose `[cxml]` has `shared_secret` and the lines `more`, and
    /// checks the mail (see the test above); `posted_secret` is the secret a cXML POST would carry.
    async fn mail_cxml_po_and_check(more: &str, posted_secret: &str) {
        let secrets = [
            "acme-shared-secret",
            "acme-outbound-secret",
            "acme-rest-token",
        ];
        let partner = PartnerProfile::from_toml(
            &format!(
                r#"
id = "acme"
api_token = "acme-rest-token"
[cxml]
from_domain = "DUNS"
from_identity = "123456789"
to_domain = "NetworkID"
to_identity = "GLOBEX"
sender_domain = "DUNS"
sender_identity = "123456789"
shared_secret = "acme-shared-secret"
{more}[email]
from = ["billing@acme.example"]
po_format = "cxml"
[outbound]
type = "email"
to = "orders@acme.example"
"#
            ),
            "acme.toml",
        )
        .expect("profile");
        let doc = match gateway_model::from_json(
            br#"{"schema_version": 1, "kind": "purchase_order", "po_number": "PO77", "order_date": "2026-12-05", "currency": "EUR",
                 "ship_to": {"name": "Plant 2", "address": {"lines": ["Industriestr. 5"], "city": "M\u00fcnchen", "postal_code": "80331", "country": "DE"}},
                 "payment_terms": {"description": "2/10 Net 45"},
                 "lines": [{"line_number": 1, "quantity": "3", "uom": "EA", "unit_price": "12.50", "description": "Pump", "supplier_part_id": "HP-9", "need_by": "2026-12-24"}],
                 "total": "37.50"}"#,
        ) {
            Ok(doc) => doc,
            Err(e) => panic!("{e}"),
        };
        let gateway_core::testkit::SmtpSink { port, mails, .. } =
            gateway_core::testkit::SmtpSink::start()
                .await
                .expect("relay");
        let mailer = adapter_email::SmtpMailer::new(&adapter_email::SmtpConfig {
            host: "127.0.0.1".into(),
            port: Some(port),
            security: adapter_email::SmtpSecurity::None,
            username: None,
            password: None,
            from: "purchasing@globex.example".into(),
            reply_to: None,
            ca_file: None,
            timeout_ms: 5_000,
        })
        .expect("mailer");
        let s = setup();
        let delivery = SupplierDelivery::new(
            Partners::new(vec![partner.clone()]),
            Codecs::standard(),
            Arc::clone(&s.ledger),
            Duration::from_secs(5),
            None,
        )
        .expect("client")
        .with_mailer(Arc::new(mailer));
        let receipt = delivery.deliver(&s.env, &doc).await.expect("mailed");
        assert!(
            receipt.reference.contains("queued"),
            "{}",
            receipt.reference
        );

        let mails = mails.lock().expect("mails").clone();
        assert_eq!(mails.len(), 1);
        let raw = String::from_utf8(mails[0].clone()).expect("a mail is ASCII");
        let parts = decoded_parts(&raw);
        assert_eq!(parts.len(), 3, "text, HTML and the attachment:\n{raw}");
        let attachment = adapter_email::ParsedMail::parse(raw.as_bytes(), &Default::default())
            .expect("the mail reads back")
            .attachments
            .remove(0)
            .bytes;
        assert!(parts.contains(&attachment), "{raw}");
        for secret in secrets {
            assert!(!raw.contains(secret), "{secret} in the mail:\n{raw}");
            for part in &parts {
                assert!(
                    !String::from_utf8_lossy(part).contains(secret),
                    "{secret} in a part:\n{}",
                    String::from_utf8_lossy(part)
                );
            }
        }

        // The attachment is an OrderRequest whose header cXML.dtd allows...
        let xml = String::from_utf8(attachment).expect("UTF-8 cXML");
        let tree = adapter_cxml::reader::parse_one(xml.as_bytes(), &Default::default())
            .expect("well-formed cXML");
        let root = tree.root().expect("root");
        let header = root.child("Header").expect("Header");
        assert_eq!(child_names(header), ["From", "To", "Sender"], "{xml}");
        for role in ["From", "To", "Sender"] {
            let party = header.child(role).expect("role");
            for credential in party.children_named("Credential") {
                let names = child_names(credential);
                assert_eq!(names.first(), Some(&"Identity"), "{xml}");
                assert!(
                    names.len() == 1
                        || (names.len() == 2
                            && ["SharedSecret", "DigitalSignature", "CredentialMac"]
                                .contains(&names[1])),
                    "{role}: {names:?}"
                );
                assert!(!names.contains(&"SharedSecret"), "{role}: {xml}");
            }
        }
        let sender = header.child("Sender").expect("Sender");
        assert_eq!(child_names(sender), ["Credential", "UserAgent"], "{xml}");
        assert_eq!(
            sender
                .child("Credential")
                .map(|c| c.child("Identity").map(|i| i.text())),
            Some(Some("GLOBEX")),
            "{xml}"
        );
        // ...and whose request is what the writer writes for a cXML POST to this partner.
        let posted = Codecs::standard()
            .encoder(Format::Cxml)
            .expect("cXML writer")
            .encode(std::slice::from_ref(&doc), &partner)
            .expect("written");
        let posted = String::from_utf8(posted).expect("UTF-8 cXML");
        assert!(posted.contains(&format!("<SharedSecret>{posted_secret}</SharedSecret>")));
        let request = |x: &str| x.find("<Request").map(|at| x[at..].to_string());
        assert_eq!(request(&xml), request(&posted));
        assert!(
            request(&xml).is_some_and(|r| r.contains("<OrderRequest>")),
            "{xml}"
        );
        // The buyer still reads it back as the PO sent.
        let read =
            gateway_core::Decode::decode(&adapter_cxml::CxmlCodec::new(), xml.as_bytes(), &partner);
        assert!(read.rejects.is_empty(), "{:?}", read.rejects);
        assert!(
            matches!(read.documents.first().map(|d| &d.document), Some(Document::PurchaseOrder(po)) if po.po_number.as_deref() == Some("PO77")),
            "{xml}"
        );
    }
}
