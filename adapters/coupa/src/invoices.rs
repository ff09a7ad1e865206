//! Invoices: create as draft, submit, find by supplier + invoice number, and
//! [`CoupaClient::deliver_invoice`], which puts them together with the duplicate guard so a
//! retry never creates a second invoice.

use std::collections::HashMap;
use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;

use crate::client::CoupaClient;
use crate::error::CoupaError;
use crate::invoice_diff::{self, decimal};
use crate::stats::Counters;

/// The parts of a Coupa invoice the gateway uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoupaInvoice {
    pub id: u64,
    pub status: Option<String>,
    pub invoice_number: Option<String>,
    pub supplier_id: Option<u64>,
    /// `supplier-total`: the control total the supplier gave, when Coupa holds one.
    pub supplier_total: Option<rust_decimal::Decimal>,
    /// The invoice JSON as Coupa gave it: what [`Self::conflict_with`] compares a request
    /// with, field by field, since a number and total shared by two invoices do not make
    /// them one.
    held: Value,
}

impl CoupaInvoice {
    pub fn from_json(v: &Value) -> Result<Self, CoupaError> {
        Ok(CoupaInvoice {
            id: v
                .get("id")
                .and_then(Value::as_u64)
                .ok_or_else(|| CoupaError::Decode("invoice without id".into()))?,
            status: v.get("status").and_then(Value::as_str).map(str::to_string),
            invoice_number: v
                .get("invoice-number")
                .and_then(Value::as_str)
                .map(str::to_string),
            supplier_id: v
                .get("supplier")
                .and_then(|s| s.get("id"))
                .and_then(Value::as_u64),
            supplier_total: v.get("supplier-total").and_then(decimal),
            held: v.clone(),
        })
    }

    /// Why this invoice, already in Coupa under the same supplier and number, is not the
    /// document `body` would create; `None` when it is (a resend, to take as delivered).
    ///
    /// It is the same invoice only when every field `body` sends that Coupa gives back agrees
    /// ([`invoice_diff::differences`]): date, currency, each line's description, quantity,
    /// price, total, PO number and line, charges, taxes and the total. Comparing the total
    /// alone took another invoice with the same number and total (two rows of one file, a
    /// corrected PO line) for a copy: reported delivered, never in Coupa. Anything else is
    /// another invoice, or a corrected one, which the API cannot put in place of this one;
    /// the reason names each differing field and what an operator can do.
    pub fn conflict_with(&self, body: &Value) -> Option<String> {
        let diffs = invoice_diff::differences(&self.held, body);
        if diffs.is_empty() {
            return None;
        }
        let supplier = self.held.get("supplier");
        let supplier = ["name", "number"]
            .iter()
            .find_map(|k| {
                supplier
                    .and_then(|s| s.get(k))
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| format!("supplier {s}"))
            })
            .or_else(|| self.supplier_id.map(|id| format!("supplier id {id}")))
            .unwrap_or_else(|| "this supplier".to_string());
        Some(format!(
            "Coupa already has invoice {} of {supplier} (Coupa invoice id {}, {}) and it is not \
             this one: {}. It is another invoice, or a corrected one, which the API cannot put \
             in its place: if this is a correction, void or credit the one in Coupa first and \
             replay this one; if it is another invoice, the supplier must send it under a new \
             number. Retrying it as it is cannot help",
            self.invoice_number.as_deref().unwrap_or("?"),
            self.id,
            self.status.as_deref().unwrap_or("no status"),
            invoice_diff::describe(&diffs),
        ))
    }

    /// `self`, found under the number of `body`, taken for it when it is the same invoice;
    /// else the conflict (permanent).
    fn taken_for(self, body: &Value) -> Result<Self, CoupaError> {
        match self.conflict_with(body) {
            Some(why) => Err(CoupaError::Conflict(why)),
            None => Ok(self),
        }
    }

    fn is_draft(&self) -> bool {
        self.status.as_deref() == Some("draft")
    }
}

/// What [`CoupaClient::deliver_invoice`] achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceOutcome {
    pub invoice: CoupaInvoice,
    /// Coupa already had it before this call (found by the duplicate guard).
    pub already_present: bool,
    /// It was submitted for approval by this call.
    pub submitted: bool,
    /// Files attached to it by this call (those already there are not counted).
    pub attached: usize,
}

impl CoupaClient {
    /// `POST /api/invoices` once (no retry: a create is not safe to repeat blindly).
    pub async fn create_invoice(&self, body: &Value) -> Result<CoupaInvoice, CoupaError> {
        let v = self
            .call(Method::POST, "/api/invoices", &[], Some(body))
            .await?;
        CoupaInvoice::from_json(&v)
    }

    /// `PUT /api/invoices/:id/submit` (retried; a repeat after an ambiguous first try is
    /// recognised by the invoice no longer being a draft).
    pub async fn submit_invoice(&self, id: u64) -> Result<CoupaInvoice, CoupaError> {
        let path = format!("/api/invoices/{id}/submit");
        let mut tried = false;
        self.retrying("submit invoice", || {
            let first = !tried;
            tried = true;
            let path = path.clone();
            async move {
                match self.call(Method::PUT, &path, &[], None).await {
                    Ok(v) => CoupaInvoice::from_json(&v),
                    Err(CoupaError::Validation { .. }) if !first => {
                        // An earlier, unanswered attempt may have submitted it already.
                        let inv = self.invoice(id).await?;
                        if inv.is_draft() {
                            Err(CoupaError::Validation {
                                status: 400,
                                body: String::new(),
                                messages: vec!["submit refused".into()],
                            })
                        } else {
                            Ok(inv)
                        }
                    }
                    Err(e) => Err(e),
                }
            }
        })
        .await
    }

    /// `GET /api/invoices/:id`.
    pub async fn invoice(&self, id: u64) -> Result<CoupaInvoice, CoupaError> {
        let path = format!("/api/invoices/{id}");
        let v = self
            .retrying("show invoice", || self.call(Method::GET, &path, &[], None))
            .await?;
        CoupaInvoice::from_json(&v)
    }

    /// `GET /api/invoices?invoice_number=..&supplier[id]=..`: Coupa's uniqueness key for
    /// invoices is supplier + invoice number. Voided and abandoned invoices are ignored.
    pub async fn find_invoice(
        &self,
        supplier_id: u64,
        invoice_number: &str,
    ) -> Result<Option<CoupaInvoice>, CoupaError> {
        let q = vec![
            ("invoice_number".to_string(), invoice_number.to_string()),
            ("supplier[id]".to_string(), supplier_id.to_string()),
        ];
        let v = self
            .retrying("find invoice", || {
                self.call(Method::GET, "/api/invoices", &q, None)
            })
            .await?;
        let found = v
            .as_array()
            .into_iter()
            .flatten()
            .filter(|x| {
                x.get("invoice-number").and_then(Value::as_str) == Some(invoice_number)
                    && !matches!(
                        x.get("status").and_then(Value::as_str),
                        Some("voided" | "abandoned")
                    )
            })
            .find_map(|x| CoupaInvoice::from_json(x).ok());
        Ok(found)
    }

    /// Creates the invoice once, whatever happens on the way:
    /// 1. look it up by supplier + invoice number; if Coupa has it, do not create;
    /// 2. create; on a retryable failure wait and retry, and after an ambiguous one (timeout
    ///    after send) look it up again before any new create;
    /// 3. submit the draft when configured.
    ///
    /// `body` is the Coupa invoice JSON (see [`crate::mapping::invoice_to_coupa`]).
    pub async fn deliver_invoice(
        &self,
        body: &Value,
        supplier_id: u64,
    ) -> Result<InvoiceOutcome, CoupaError> {
        self.deliver_invoice_with_files(body, supplier_id, &[])
            .await
    }

    /// [`Self::deliver_invoice`] with files for the invoice (its PDF copy): attached after the
    /// create (or to the invoice found), before the submit, each once
    /// ([`Self::attach_files`]).
    pub async fn deliver_invoice_with_files(
        &self,
        body: &Value,
        supplier_id: u64,
        files: &[gateway_core::SupportingFile],
    ) -> Result<InvoiceOutcome, CoupaError> {
        let number = body
            .get("invoice-number")
            .and_then(Value::as_str)
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| CoupaError::Mapping("invoice-number is missing".into()))?
            .to_string();
        // Copies of one invoice (through two channels, or a replay beside a redelivery)
        // delivered at once would both look it up, find nothing and both create it: the
        // second waits here and then finds the first.
        let turn = self.delivering.turn(supplier_id, &number);
        let _held = turn.lock.lock().await;
        self.deliver_in_turn(body, supplier_id, &number, files)
            .await
    }

    async fn deliver_in_turn(
        &self,
        body: &Value,
        supplier_id: u64,
        number: &str,
        files: &[gateway_core::SupportingFile],
    ) -> Result<InvoiceOutcome, CoupaError> {
        let number = number.to_string();
        let (invoice, already_present) = match self.find_invoice(supplier_id, &number).await? {
            Some(found) => {
                let found = found.taken_for(body)?;
                Counters::bump(&self.counters.found_existing);
                tracing::info!(
                    invoice_id = found.id,
                    "invoice already in Coupa; not creating it again"
                );
                (found, true)
            }
            None => (
                self.create_guarded(body, supplier_id, &number).await?,
                false,
            ),
        };
        let attached = self.attach_files(invoice.id, files).await?;
        let mut submitted = false;
        let invoice = if self.cfg.submit_after_create && invoice.is_draft() {
            submitted = true;
            self.submit_invoice(invoice.id)
                .await
                .map_err(|cause| CoupaError::Submit {
                    invoice_id: invoice.id,
                    cause: Box::new(cause),
                })?
        } else {
            invoice
        };
        Ok(InvoiceOutcome {
            invoice,
            already_present,
            submitted,
            attached,
        })
    }

    async fn create_guarded(
        &self,
        body: &Value,
        supplier_id: u64,
        number: &str,
    ) -> Result<CoupaInvoice, CoupaError> {
        let max = self.cfg.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            let err = match self.create_invoice(body).await {
                Ok(inv) => return Ok(inv),
                Err(e) => e,
            };
            // Refused as a duplicate: someone created it meanwhile (an earlier attempt, or
            // another gateway delivering another invoice under this number: then a conflict).
            if is_duplicate_refusal(&err) {
                if let Some(found) = self.find_invoice(supplier_id, number).await? {
                    let found = found.taken_for(body)?;
                    Counters::bump(&self.counters.found_existing);
                    return Ok(found);
                }
                return Err(err);
            }
            // No answer, or a 2xx we could not read: Coupa may have created it.
            let ambiguous = err.is_ambiguous() || matches!(err, CoupaError::Decode(_));
            if ambiguous {
                Counters::bump(&self.counters.ambiguous_outcomes);
                tracing::warn!(error = %err, "invoice create outcome unknown; looking it up before retrying");
            }
            let last = !err.is_retryable_now() || attempt + 1 >= max;
            if !last {
                self.pause_before_retry(attempt, &err).await?;
                attempt += 1;
            }
            // What an unanswered create of ours made is what we sent; anything else there
            // is another invoice under this number.
            if ambiguous && let Some(found) = self.find_invoice(supplier_id, number).await? {
                let found = found.taken_for(body)?;
                Counters::bump(&self.counters.found_existing);
                return Ok(found);
            }
            if last {
                return Err(err);
            }
        }
    }
}

/// Coupa's words for a reused invoice number are not published for REST; the cXML channel says
/// "has already been used", so any validation message with "already" counts.
fn is_duplicate_refusal(e: &CoupaError) -> bool {
    matches!(e, CoupaError::Validation { messages, .. }
        if messages.iter().any(|m| m.to_ascii_lowercase().contains("already")))
}

/// Supplier id and invoice number → the lock deliveries of that invoice take turns on.
type Turns = HashMap<(u64, String), Arc<tokio::sync::Mutex<()>>>;

/// The invoices being delivered right now, one lock each, so copies of one invoice are
/// delivered one after the other. Entries go when their last holder is done.
#[derive(Debug, Default)]
pub(crate) struct InFlightInvoices {
    turns: std::sync::Mutex<Turns>,
}

impl InFlightInvoices {
    fn turns(&self) -> std::sync::MutexGuard<'_, Turns> {
        self.turns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A place in line for supplier `supplier_id`'s invoice `number`.
    fn turn(&self, supplier_id: u64, number: &str) -> Turn<'_> {
        let key = (supplier_id, number.to_string());
        let lock = Arc::clone(self.turns().entry(key.clone()).or_default());
        Turn {
            owner: self,
            key,
            lock,
        }
    }

    /// Invoices with a lock right now (for tests: none once every delivery is over).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.turns().len()
    }
}

/// One delivery's place in line for an invoice. Leaving it (dropping it, also when the
/// delivery is cancelled or its task aborted, as a consumer does after losing its channel)
/// forgets the lock once nobody else holds or waits for it, so the map never keeps an
/// invoice that is no longer being delivered.
struct Turn<'a> {
    owner: &'a InFlightInvoices,
    key: (u64, String),
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut turns = self.owner.turns();
        // The map's reference and this one: nobody else has it.
        if Arc::strong_count(&self.lock) <= 2 {
            turns.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A delivery whose task is aborted while it holds the turn (a consumer that lost its
    /// channel does that) or while it waits for it leaves no lock behind; before, each left an
    /// entry in the map for good.
    #[tokio::test]
    async fn deliveries_cancelled_holding_or_waiting_leave_no_lock_behind() {
        let inflight = InFlightInvoices::default();
        let holding = async {
            let turn = inflight.turn(7, "INV-1");
            let _held = turn.lock.lock().await;
            std::future::pending::<()>().await;
        };
        let mut holding = Box::pin(holding);
        // Poll it once: it takes the turn and then waits for ever.
        tokio::select! {
            biased;
            () = &mut holding => unreachable!("it never ends"),
            () = std::future::ready(()) => {}
        }
        assert_eq!(inflight.len(), 1);
        {
            let copy = inflight.turn(7, "INV-1");
            assert!(copy.lock.try_lock().is_err(), "the copy has to wait");
            // The copy's task is aborted while it waits.
        }
        assert_eq!(inflight.len(), 1, "the holder still has it");
        // Now the holder's task is aborted.
        drop(holding);
        assert_eq!(inflight.len(), 0);

        // A delivery that finishes forgets its lock as well.
        {
            let turn = inflight.turn(7, "INV-2");
            let _held = turn.lock.lock().await;
            assert_eq!(inflight.len(), 1);
        }
        assert_eq!(inflight.len(), 0);
    }
}
