//! [`CoupaInvoiceDelivery`]: the `coupa` outbound. Maps a canonical invoice, resolves its
//! supplier, and delivers it through the duplicate guard, so bus redelivery and replay never
//! create a second Coupa invoice.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use gateway_core::profile::CoupaSupplierRef;
use gateway_core::{AttachmentStore, DeliveryError, Envelope, Outbound, Receipt, SupportingFile};
use gateway_model::Document;

use serde_json::Value;

use crate::client::CoupaClient;
use crate::error::CoupaError;
use crate::invoices::CoupaInvoice;
use crate::mapping::{
    InvoiceMapping, SupplierKey, invoice_to_coupa, line_charges_at_header, not_sent,
    supplier_ref_from_party,
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

/// Delivers canonical invoices to Coupa's REST API.
#[derive(Debug, Clone)]
pub struct CoupaInvoiceDelivery {
    client: Arc<CoupaClient>,
    /// Partner profile id → its Coupa supplier (from `PartnerProfile::coupa_supplier`).
    partners: HashMap<String, CoupaSupplierRef>,
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

    /// The supplier reference: the partner's profile first, else the invoice's supplier party.
    fn supplier_ref(
        &self,
        envelope: &Envelope,
        inv: &gateway_model::Invoice,
    ) -> Option<CoupaSupplierRef> {
        envelope
            .partner
            .as_ref()
            .and_then(|p| self.partners.get(p))
            .cloned()
            .or_else(|| inv.supplier.as_ref().and_then(supplier_ref_from_party))
    }

    /// The Coupa supplier `inv` goes to and the Coupa invoice JSON delivery would send.
    async fn request(
        &self,
        envelope: &Envelope,
        inv: &gateway_model::Invoice,
    ) -> Result<(CoupaSupplier, Value), CoupaError> {
        let r = self.supplier_ref(envelope, inv).ok_or_else(|| {
            CoupaError::SupplierNotFound(
                "no Coupa supplier: the partner profile has no coupa_supplier and the invoice's supplier has no coupa id, number or name".into(),
            )
        })?;
        let supplier = self.client.resolve_supplier(&r).await?;
        let body = invoice_to_coupa(inv, &SupplierKey::Id(supplier.id), &self.mapping)?;
        Ok((supplier, body))
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
