//! [`CoupaInvoiceDelivery`]: the `coupa` outbound. Maps a canonical invoice, resolves its
//! supplier, and delivers it through the duplicate guard, so bus redelivery and replay never
//! create a second Coupa invoice.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use gateway_core::profile::CoupaSupplierRef;
use gateway_core::{AttachmentStore, DeliveryError, Envelope, Outbound, Receipt, SupportingFile};
use gateway_model::Document;

use serde_json::Value;

use crate::client::CoupaClient;
use crate::error::CoupaError;
use crate::invoices::CoupaInvoice;
use crate::mapping::{
    InvoiceMapping, SupplierKey, another_supplier_number, invoice_to_coupa, line_charges_at_header,
    not_sent, numbers_naming_another, supplier_ref_from_party,
};
use crate::suppliers::CoupaSupplier;

/// What delivering an invoice would do now ([`CoupaInvoiceDelivery::preview`]).
#[derive(Debug, Clone)]
pub struct DeliveryPreview {
    /// The Coupa supplier the invoice resolves to.
    pub supplier: CoupaSupplier,
    /// The Coupa invoice JSON delivery would create.
    pub request: Value,
    /// The invoice Coupa already has for this supplier and number: delivery would create
    /// nothing and take this one.
    pub existing: Option<CoupaInvoice>,
}

/// Most supplier numbers of one invoice delivery asks Coupa about
/// ([`CoupaInvoiceDelivery::check_named_numbers`]): an invoice names its supplier by one or
/// two, and one listing many must not cost a Coupa lookup each.
const MAX_NUMBER_LOOKUPS: usize = 4;

/// Two partners whose `[partners.coupa_supplier]` name one Coupa supplier by different keys
/// (one by id, the other by the number Coupa gives that id, say). The start-up check refuses
/// two naming it by the same key, but only Coupa can tell that a number and an id are one
/// supplier: then invoices from both are booked to it, and its purchase orders all go to the
/// partner the configuration lists first, the other receiving none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedSupplier {
    /// Coupa's id of the supplier both resolve to.
    pub supplier_id: u64,
    /// The two partners (in id order), each with how its profile names the supplier
    /// (`id 17`, `number "ACME-1"`).
    pub partners: [(String, String); 2],
}

impl std::fmt::Display for SharedSupplier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [(a, a_named), (b, b_named)] = &self.partners;
        let id = self.supplier_id;
        write!(
            f,
            "partners {a:?} ([partners.coupa_supplier] {a_named}) and {b:?} \
             ([partners.coupa_supplier] {b_named}) are one Coupa supplier, id {id}: invoices \
             from both are booked to it, and its purchase orders all go to the one listed first \
             in the configuration, the other getting none. Each partner needs its own Coupa \
             supplier: correct [partners.coupa_supplier] of the one whose supplier it is not, or \
             make the two one partner with a section for each channel \
             ([partners.x12], [partners.cxml], [partners.csv], [partners.email]); then restart \
             the gateway"
        )
    }
}

/// `id 17 and number "ACME-1"`: how a partner profile names its Coupa supplier.
fn named(r: &CoupaSupplierRef) -> String {
    let mut keys = Vec::new();
    if let Some(id) = r.id {
        keys.push(format!("id {id}"));
    }
    if let Some(n) = r.number.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        keys.push(format!("number {n:?}"));
    }
    if let Some(n) = r.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        keys.push(format!("name {n:?}"));
    }
    keys.join(" and ")
}

/// Which Coupa supplier each partner's `[partners.coupa_supplier]` resolved to, and the pairs
/// of partners found to share one. Keyed by configured partners only, so bounded by them.
#[derive(Debug, Default)]
struct PartnerSuppliers {
    resolved: BTreeMap<String, u64>,
    shared: BTreeMap<(String, String), u64>,
}

/// Delivers canonical invoices to Coupa's REST API.
#[derive(Debug, Clone)]
pub struct CoupaInvoiceDelivery {
    client: Arc<CoupaClient>,
    /// Partner profile id → its Coupa supplier (from `PartnerProfile::coupa_supplier`).
    partners: HashMap<String, CoupaSupplierRef>,
    /// What the partners' suppliers resolved to ([`Self::shared_suppliers`]).
    resolved: Arc<Mutex<PartnerSuppliers>>,
    mapping: InvoiceMapping,
    /// Where the files an envelope names are kept ([`Envelope::attachments`]).
    files: Option<AttachmentStore>,
}

impl CoupaInvoiceDelivery {
    pub fn new(client: Arc<CoupaClient>) -> Self {
        let mapping = InvoiceMapping {
            account_type: client.config().account_type.clone(),
        };
        CoupaInvoiceDelivery {
            client,
            partners: HashMap::new(),
            resolved: Arc::default(),
            mapping,
            files: None,
        }
    }

    /// Reads the files invoices carry (their PDF copies) from `store`.
    pub fn with_attachment_store(mut self, store: AttachmentStore) -> Self {
        self.files = Some(store);
        self
    }

    /// The files `envelope` names, read back from the store. A file that is gone or damaged is
    /// a permanent error: delivering without it would lose it for good, so the invoice waits
    /// in the dead letters until an operator decides.
    fn files_of(&self, envelope: &Envelope) -> Result<Vec<SupportingFile>, DeliveryError> {
        if envelope.attachments.is_empty() {
            return Ok(Vec::new());
        }
        let Some(store) = &self.files else {
            return Err(DeliveryError::permanent(format!(
                "the invoice carries {} file(s) but this gateway has no attachment store to read them from",
                envelope.attachments.len()
            )));
        };
        envelope
            .attachments
            .iter()
            .map(|r| {
                store
                    .get(r)
                    .map(|bytes| SupportingFile {
                        name: r.name.clone(),
                        content_type: r.content_type.clone(),
                        bytes,
                    })
                    .map_err(|e| {
                        if e.is_retryable() {
                            DeliveryError::retryable(e.to_string())
                        } else {
                            DeliveryError::permanent(e.to_string())
                        }
                    })
            })
            .collect()
    }

    /// Invoices from `partner` (the envelope's partner id) belong to this Coupa supplier.
    pub fn with_partner(mut self, partner: impl Into<String>, supplier: CoupaSupplierRef) -> Self {
        self.partners.insert(partner.into(), supplier);
        self
    }

    pub fn client(&self) -> &Arc<CoupaClient> {
        &self.client
    }

    /// The supplier reference: the partner's profile first (with the partner), else the
    /// invoice's supplier party.
    fn supplier_ref<'e>(
        &self,
        envelope: &'e Envelope,
        inv: &gateway_model::Invoice,
    ) -> Option<(Option<&'e str>, CoupaSupplierRef)> {
        if let Some(partner) = envelope.partner.as_deref()
            && let Some(r) = self.partners.get(partner)
        {
            return Some((Some(partner), r.clone()));
        }
        inv.supplier
            .as_ref()
            .and_then(supplier_ref_from_party)
            .map(|r| (None, r))
    }

    /// The Coupa supplier `inv` goes to and the Coupa invoice JSON delivery would send.
    async fn request(
        &self,
        envelope: &Envelope,
        inv: &gateway_model::Invoice,
    ) -> Result<(CoupaSupplier, Value), CoupaError> {
        let (partner, r) = self.supplier_ref(envelope, inv).ok_or_else(|| {
            CoupaError::SupplierNotFound(
                "no Coupa supplier: the partner profile has no coupa_supplier and the invoice's supplier has no coupa id, number or name".into(),
            )
        })?;
        let supplier = self.client.resolve_supplier(&r).await?;
        if let Some(partner) = partner {
            self.note_resolved(partner, supplier.id);
        }
        let body = invoice_to_coupa(inv, &SupplierKey::Id(supplier.id), &self.mapping)?;
        self.check_named_numbers(inv, &supplier, partner.is_some())
            .await?;
        Ok((supplier, body))
    }

    /// Refuses to book `inv` to `resolved` when its supplier names another Coupa supplier by
    /// supplier number. Intake compares numbers only with a profile that names a number; a
    /// profile naming its supplier by id or name cannot tell its number, so an invoice naming
    /// `coupa-number RIVAL-1` (or an 810's `92`/`REF*VN`) was booked to the partner's
    /// supplier. Here the resolved supplier's number is known: a number that is not it as
    /// Coupa compares numbers ([`numbers_naming_another`]) is looked up at Coupa, which has
    /// the last word (it may take `007` for `7`), and one Coupa gives another supplier, or
    /// none, is a permanent refusal naming both; nothing is created. At most
    /// [`MAX_NUMBER_LOOKUPS`] lookups.
    async fn check_named_numbers(
        &self,
        inv: &gateway_model::Invoice,
        resolved: &CoupaSupplier,
        from_partner: bool,
    ) -> Result<(), CoupaError> {
        let numbers = numbers_naming_another(inv, resolved.id, resolved.number.as_deref());
        if numbers.len() > MAX_NUMBER_LOOKUPS {
            return Err(CoupaError::Mapping(format!(
                "the invoice names its supplier by {} supplier numbers that are not Coupa \
                 supplier id {}'s, the supplier it would be booked to, so nothing was created \
                 in Coupa.{}name the supplier by one number, and replay it",
                numbers.len(),
                resolved.id,
                crate::error::OPERATOR_ADVICE
            )));
        }
        for named in numbers {
            let holder = match self.client.supplier_by_number(named).await {
                Ok(s) if s.id == resolved.id => continue,
                Ok(s) => Some(s.id),
                Err(CoupaError::SupplierNotFound(_)) => None,
                Err(e) => return Err(e),
            };
            return Err(another_supplier_number(
                inv,
                named,
                holder,
                resolved.id,
                resolved.number.as_deref(),
                from_partner,
            ));
        }
        Ok(())
    }

    /// Remembers that `partner`'s supplier resolved to Coupa supplier `id`; when that is new,
    /// any other partner whose supplier is the same one (named by that id, or resolved to it)
    /// makes a [`SharedSupplier`], logged as an error once per pair.
    fn note_resolved(&self, partner: &str, id: u64) {
        let mut known = self.resolved.lock().unwrap_or_else(|e| e.into_inner());
        if known.resolved.insert(partner.to_string(), id) == Some(id) {
            return;
        }
        let mut others: Vec<&String> = self
            .partners
            .iter()
            .filter(|(p, r)| {
                p.as_str() != partner
                    && (r.id == Some(id) || known.resolved.get(p.as_str()) == Some(&id))
            })
            .map(|(p, _)| p)
            .collect();
        others.sort();
        for other in others {
            let pair = if partner < other.as_str() {
                (partner.to_string(), other.clone())
            } else {
                (other.clone(), partner.to_string())
            };
            if known.shared.insert(pair.clone(), id) == Some(id) {
                continue;
            }
            let shared = self.shared(pair, id);
            tracing::error!(
                coupa_supplier_id = id,
                partner_a = %shared.partners[0].0,
                partner_b = %shared.partners[1].0,
                "{shared}"
            );
        }
    }

    /// The [`SharedSupplier`] of partners `pair`, both resolved to Coupa supplier `id`.
    fn shared(&self, pair: (String, String), id: u64) -> SharedSupplier {
        let with_keys = |p: String| {
            let keys = self.partners.get(&p).map(named).unwrap_or_default();
            (p, keys)
        };
        SharedSupplier {
            supplier_id: id,
            partners: [with_keys(pair.0), with_keys(pair.1)],
        }
    }

    /// The pairs of partners found so far to be one Coupa supplier (by delivery, or
    /// [`Self::resolve_partners`]), each logged as an error when found.
    pub fn shared_suppliers(&self) -> Vec<SharedSupplier> {
        let known = self.resolved.lock().unwrap_or_else(|e| e.into_inner());
        known
            .shared
            .iter()
            .map(|(pair, id)| self.shared(pair.clone(), *id))
            .collect()
    }

    /// What delivery does for each partner's first invoice, done for every partner at once so
    /// that two partners resolving to one Coupa supplier ([`SharedSupplier`]) are told before
    /// their documents go astray: each partner's `[partners.coupa_supplier]` is resolved at
    /// Coupa (an id is taken as it is; a number or name is one lookup, cached as delivery's
    /// are). Returns the shared suppliers found, and the partners whose supplier could not be
    /// resolved with why; it stops asking once Coupa did not answer (the rest are not checked
    /// then, and delivery still checks each as it resolves it).
    pub async fn resolve_partners(&self) -> (Vec<SharedSupplier>, Vec<(String, CoupaError)>) {
        let mut partners: Vec<(&String, &CoupaSupplierRef)> = self.partners.iter().collect();
        partners.sort_by(|a, b| a.0.cmp(b.0));
        let mut failed = Vec::new();
        for (partner, r) in partners {
            let id = match r.id {
                Some(id) => Ok(id),
                None => self.client.resolve_supplier(r).await.map(|s| s.id),
            };
            match id {
                Ok(id) => self.note_resolved(partner, id),
                Err(e) => {
                    let unanswered = e.is_retryable();
                    failed.push((partner.clone(), e));
                    if unanswered {
                        break;
                    }
                }
            }
        }
        (self.shared_suppliers(), failed)
    }

    /// What delivering `inv` would do now, without doing it: the Coupa supplier it resolves
    /// to, the request it would send, and the invoice Coupa already has under that supplier
    /// and number (which delivery would not create again). For an operator deciding whether
    /// to replay a dead letter; the error is what delivery would fail with now.
    pub async fn preview(
        &self,
        envelope: &Envelope,
        inv: &gateway_model::Invoice,
    ) -> Result<DeliveryPreview, CoupaError> {
        let (supplier, request) = self.request(envelope, inv).await?;
        let number = request
            .get("invoice-number")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let existing = self.client.find_invoice(supplier.id, &number).await?;
        Ok(DeliveryPreview {
            supplier,
            request,
            existing,
        })
    }

    /// Delivers one invoice; the error says whether the bus should retry.
    pub async fn deliver_invoice(
        &self,
        envelope: &Envelope,
        inv: &gateway_model::Invoice,
    ) -> Result<Receipt, CoupaError> {
        self.deliver_invoice_with_files(envelope, inv, &[]).await
    }

    /// [`Self::deliver_invoice`] with the files to attach to it.
    pub async fn deliver_invoice_with_files(
        &self,
        envelope: &Envelope,
        inv: &gateway_model::Invoice,
        files: &[SupportingFile],
    ) -> Result<Receipt, CoupaError> {
        let (supplier, body) = self.request(envelope, inv).await?;
        let outcome = self
            .client
            .deliver_invoice_with_files(&body, supplier.id, files)
            .await?;
        tracing::info!(
            doc_id = %envelope.doc_id,
            coupa_invoice_id = outcome.invoice.id,
            already_present = outcome.already_present,
            submitted = outcome.submitted,
            attached = outcome.attached,
            "invoice delivered to Coupa"
        );
        // Coupa's invoice lines have no charge field: say where the lines' charges went, so
        // an operator comparing the document with Coupa finds them.
        let moved = line_charges_at_header(inv);
        if !moved.is_empty() {
            tracing::info!(
                doc_id = %envelope.doc_id,
                coupa_invoice_id = outcome.invoice.id,
                line_charges = %moved.join("; "),
                "line charges delivered as Coupa header amounts"
            );
        }
        let lost = not_sent(inv);
        if !lost.is_empty() {
            tracing::warn!(
                doc_id = %envelope.doc_id,
                coupa_invoice_id = outcome.invoice.id,
                not_sent = %lost.join("; "),
                "parts of the invoice Coupa was not sent"
            );
        }
        Ok(Receipt {
            reference: outcome.invoice.id.to_string(),
            already_present: outcome.already_present,
            superseded_by: None,
            nothing_to_cancel: false,
            not_sent: lost,
        })
    }
}

impl Outbound for CoupaInvoiceDelivery {
    fn name(&self) -> &str {
        "coupa"
    }

    fn deliver<'a>(
        &'a self,
        envelope: &'a Envelope,
        document: &'a Document,
    ) -> Pin<Box<dyn Future<Output = Result<Receipt, DeliveryError>> + Send + 'a>> {
        Box::pin(async move {
            match document {
                Document::Invoice(inv) => {
                    let files = self.files_of(envelope)?;
                    self.deliver_invoice_with_files(envelope, inv, &files)
                        .await
                        .map_err(DeliveryError::from)
                }
                other => Err(DeliveryError::permanent(format!(
                    "the coupa outbound delivers invoices, not {}",
                    other.kind()
                ))),
            }
        })
    }
}
