//! [`CoupaInvoiceDelivery`]: the `coupa` outbound. Maps a canonical invoice, resolves its
//! supplier, and delivers it through the duplicate guard, so bus redelivery and replay never
//! create a second Coupa invoice.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use gateway_core::profile::CoupaSupplierRef;
use gateway_core::{DeliveryError, Envelope, Outbound, Receipt};
use gateway_model::Document;

use serde_json::Value;

use crate::client::CoupaClient;
use crate::error::CoupaError;
use crate::invoices::CoupaInvoice;
use crate::mapping::{InvoiceMapping, SupplierKey, invoice_to_coupa, supplier_ref_from_party};
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
        }
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
        let (supplier, body) = self.request(envelope, inv).await?;
        let outcome = self.client.deliver_invoice(&body, supplier.id).await?;
        tracing::info!(
            doc_id = %envelope.doc_id,
            coupa_invoice_id = outcome.invoice.id,
            already_present = outcome.already_present,
            submitted = outcome.submitted,
            "invoice delivered to Coupa"
        );
        Ok(Receipt {
            reference: outcome.invoice.id.to_string(),
            already_present: outcome.already_present,
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
                Document::Invoice(inv) => self
                    .deliver_invoice(envelope, inv)
                    .await
                    .map_err(DeliveryError::from),
                other => Err(DeliveryError::permanent(format!(
                    "the coupa outbound delivers invoices, not {}",
                    other.kind()
                ))),
            }
        })
    }
}
