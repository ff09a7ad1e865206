//! Invoices: create as draft, submit, find by supplier + invoice number, and
//! [`CoupaClient::deliver_invoice`], which puts them together with the duplicate guard so a
//! retry never creates a second invoice.
//!
//! One invoice number, to the guard, is the number trimmed and without ASCII letter case
//! ([`number_key`]), as the gateway's intake keys an invoice: `CASE-R2` and `case-r2 ` from one
//! supplier are one invoice. Coupa does not publish whether it compares numbers with case, in
//! lookups or in its own duplicate check, so the guard does not rely on it: it sends the number
//! trimmed, takes what a lookup answers in any case, remembers what it delivered, and asks
//! [`KnownInvoices`] (the gateway's ledger) for invoices delivered under the number in another
//! case. A number in another case is then the invoice found (same content: already there) or
//! a conflict naming both numbers, never a second invoice.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
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
        // Found under the number in another letter case or with spaces: say both, or the
        // operator looks for this one's number in Coupa and finds nothing.
        let ours = body
            .get("invoice-number")
            .and_then(Value::as_str)
            .filter(|n| Some(*n) != self.invoice_number.as_deref())
            .map(|n| {
                format!(
                    ", under the number {n:?} of this one but for letter case or spaces (one \
                     invoice number to the gateway, as when it took them in),"
                )
            })
            .unwrap_or_default();
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
            "Coupa already has invoice {} of {supplier} (Coupa invoice id {}, {}){ours} and it is \
             not this one: {}.{}it is another invoice, or a corrected one, which the API cannot \
             put in its place: if this is a correction, void or credit the one in Coupa first \
             and replay this one; if it is another invoice, the supplier must send it under a \
             new number. Retrying it as it is cannot help",
            self.invoice_number.as_deref().unwrap_or("?"),
            self.id,
            self.status.as_deref().unwrap_or("no status"),
            invoice_diff::describe(&diffs),
            crate::error::OPERATOR_ADVICE,
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

    /// Voided and abandoned invoices do not hold their number: a new one may take it.
    fn holds_its_number(&self) -> bool {
        !matches!(self.status.as_deref(), Some("voided" | "abandoned"))
    }

    /// This is supplier `supplier_id`'s live invoice under `number` as the guard compares
    /// numbers ([`same_number`]).
    fn is_under(&self, supplier_id: u64, number: &str) -> bool {
        self.supplier_id == Some(supplier_id)
            && self.holds_its_number()
            && self
                .invoice_number
                .as_deref()
                .is_some_and(|n| same_number(n, number))
    }
}

/// An invoice number as the duplicate guard compares it: the gateway's one rule
/// (`gateway_model::number_key`, trimmed, ASCII case folded), which the intake keys an invoice
/// by too, so what it calls one invoice (`same_business_key_as`) the guard does; Coupa's own
/// comparison is not published.
pub use gateway_model::{number_key, same_number};

/// Invoices the gateway delivered before, by number: what the duplicate guard knows beyond
/// Coupa's lookup, which may compare numbers with letter case (Coupa does not say). The
/// gateway's ledger answers it (`gateway_server::coupa_link`), so an invoice delivered under
/// `CASE-R2` is found for `case-r2` after a restart too.
pub trait KnownInvoices: Send + Sync + std::fmt::Debug {
    /// The Coupa ids of invoices delivered before whose number's [`number_key`] is `key`, of
    /// any supplier (the guard reads each and checks its supplier). `Err` says why they cannot
    /// be read: the delivery then waits and tries again rather than risk a second invoice.
    fn coupa_ids(&self, key: &str) -> Result<Vec<u64>, String>;
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

    /// The invoice supplier `supplier_id` has in Coupa under `invoice_number`, as the guard
    /// compares numbers ([`same_number`]): looked up with the number trimmed
    /// (`GET /api/invoices?invoice_number=..&supplier[id]=..`, Coupa's uniqueness key for
    /// invoices is supplier + invoice number), taking an answer in another letter case; else
    /// one this client or the gateway delivered under the number in another case
    /// ([`KnownInvoices`]), read by its id, for a Coupa whose lookup compares with case.
    /// Voided and abandoned invoices are ignored.
    pub async fn find_invoice(
        &self,
        supplier_id: u64,
        invoice_number: &str,
    ) -> Result<Option<CoupaInvoice>, CoupaError> {
        let number = invoice_number.trim();
        if let Some(found) = self.find_by_number(supplier_id, number, number).await? {
            return Ok(Some(found));
        }
        self.find_delivered_before(supplier_id, number).await
    }

    /// `GET /api/invoices?invoice_number=<asked>&supplier[id]=..`, keeping supplier
    /// `supplier_id`'s live invoice under `number` in any letter case; the very same number
    /// first when there are several.
    async fn find_by_number(
        &self,
        supplier_id: u64,
        asked: &str,
        number: &str,
    ) -> Result<Option<CoupaInvoice>, CoupaError> {
        let q = vec![
            ("invoice_number".to_string(), asked.to_string()),
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
            .filter_map(|x| CoupaInvoice::from_json(x).ok())
            // The lookup asked for this supplier: an answer that names none is its own.
            .map(|mut inv| {
                inv.supplier_id = inv.supplier_id.or(Some(supplier_id));
                inv
            })
            .filter(|inv| inv.is_under(supplier_id, number))
            .min_by_key(|inv| (inv.invoice_number.as_deref() != Some(number), inv.id));
        Ok(found)
    }

    /// An invoice delivered before under `number` in another letter case: what this client
    /// delivered lately and what [`KnownInvoices`] knows, each read from Coupa by its id.
    async fn find_delivered_before(
        &self,
        supplier_id: u64,
        number: &str,
    ) -> Result<Option<CoupaInvoice>, CoupaError> {
        let key = number_key(number);
        let mut ids = self.delivering.recent_id(supplier_id, &key);
        if let Some(known) = self.delivering.known() {
            let more = known.coupa_ids(&key).map_err(|why| {
                CoupaError::Guard(format!(
                    "cannot read the invoices delivered before under {number:?}: {why}"
                ))
            })?;
            ids.extend(more);
        }
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            match self.invoice(id).await {
                Ok(inv) if inv.is_under(supplier_id, number) => return Ok(Some(inv)),
                // Another supplier's, voided since, or gone: not this one.
                Ok(_) | Err(CoupaError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// After Coupa refused a create as a duplicate number: [`Self::find_invoice`], then the
    /// number in upper and in lower case (each looked up exactly), for a Coupa whose lookup
    /// compares with case while its duplicate check does not.
    async fn find_after_refusal(
        &self,
        supplier_id: u64,
        number: &str,
    ) -> Result<Option<CoupaInvoice>, CoupaError> {
        if let Some(found) = self.find_invoice(supplier_id, number).await? {
            return Ok(Some(found));
        }
        let mut asked = vec![number.to_string()];
        for form in [number.to_ascii_uppercase(), number.to_ascii_lowercase()] {
            if asked.contains(&form) {
                continue;
            }
            if let Some(found) = self.find_by_number(supplier_id, &form, number).await? {
                return Ok(Some(found));
            }
            asked.push(form);
        }
        Ok(None)
    }

    /// Creates the invoice once, whatever happens on the way:
    /// 1. look it up by supplier + invoice number ([`Self::find_invoice`]: trimmed, in any
    ///    letter case); if Coupa has it, do not create;
    /// 2. create, under the number trimmed; on a retryable failure wait and retry, and after
    ///    an ambiguous one (timeout after send) look it up again before any new create; a
    ///    create refused as a duplicate number looks again, harder, rather than fail;
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
        let sent = body
            .get("invoice-number")
            .and_then(Value::as_str)
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| CoupaError::Mapping("invoice-number is missing".into()))?;
        // The number trimmed, for the lookup and the create alike: `"SP-R3 "` looked up as
        // sent found nothing, and its create was refused as a duplicate of `SP-R3`.
        let number = sent.trim().to_string();
        let body = if number == sent {
            Cow::Borrowed(body)
        } else {
            let mut trimmed = body.clone();
            trimmed["invoice-number"] = Value::String(number.clone());
            Cow::Owned(trimmed)
        };
        // Copies of one invoice (through two channels, or a replay beside a redelivery)
        // delivered at once would both look it up, find nothing and both create it: the
        // second waits here and then finds the first. Numbers in another letter case are one
        // invoice, so they wait for each other too.
        let _turn = self
            .delivering
            .turn(supplier_id, &number_key(&number))
            .await;
        self.deliver_in_turn(&body, supplier_id, &number, files)
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
            None => self.create_guarded(body, supplier_id, &number).await?,
        };
        // Before the turn is left (a copy waiting for it looks next) and before the files and
        // the submit, which may fail with the invoice in Coupa.
        self.delivering
            .remember(supplier_id, &number_key(&number), invoice.id);
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

    /// Creates the invoice (see [`Self::deliver_invoice`]); the invoice, and whether Coupa had
    /// it already (refused as a duplicate and found), not created by this delivery.
    async fn create_guarded(
        &self,
        body: &Value,
        supplier_id: u64,
        number: &str,
    ) -> Result<(CoupaInvoice, bool), CoupaError> {
        let max = self.cfg.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            let err = match self.create_invoice(body).await {
                Ok(inv) => return Ok((inv, false)),
                Err(e) => e,
            };
            // Refused as a duplicate: someone created it meanwhile (an earlier attempt, or
            // another gateway delivering another invoice under this number: then a conflict).
            // Look harder than before the create (the number in upper and lower case too):
            // Coupa holds it under this number, so an invoice delivered is not dead-lettered.
            if is_duplicate_refusal(&err) {
                if let Some(found) = self.find_after_refusal(supplier_id, number).await? {
                    let found = found.taken_for(body)?;
                    Counters::bump(&self.counters.found_existing);
                    return Ok((found, true));
                }
                return Err(CoupaError::Conflict(refused_but_not_found(
                    number,
                    supplier_id,
                    &err,
                )));
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
                return Ok((found, false));
            }
            if last {
                return Err(err);
            }
        }
    }
}

/// Why an invoice Coupa refused as a duplicate number cannot be delivered when no lookup finds
/// the invoice holding the number: what Coupa said, then, after [`OPERATOR_ADVICE`], where
/// the guard looked and what an operator does (find it in Coupa: this invoice, or another
/// one). Without the marker a supplier's notice (`gateway dlq purge --tell-supplier`) passed
/// on the gateway's lookups and the advice to purge the dead letter.
///
/// [`OPERATOR_ADVICE`]: crate::error::OPERATOR_ADVICE
fn refused_but_not_found(number: &str, supplier_id: u64, refusal: &CoupaError) -> String {
    let said = match refusal {
        CoupaError::Validation { messages, .. } => messages.join("; "),
        other => other.to_string(),
    };
    format!(
        "Coupa refused invoice {number} of supplier id {supplier_id} as a number already used \
         for this supplier ({said}).{}no live invoice of that supplier is found under \
         {number:?} in any letter case or among the invoices the gateway delivered: Coupa may \
         count a voided or abandoned one, or hold it under a spelling its lookup does not \
         match. Find it in Coupa: if it is this invoice, it is there (purge this dead letter \
         with a note); if it is another, the supplier must send this one under a new number",
        crate::error::OPERATOR_ADVICE
    )
}

/// Coupa's words for a reused invoice number are not published for REST; the cXML channel says
/// "has already been used", so any validation message with "already" counts.
fn is_duplicate_refusal(e: &CoupaError) -> bool {
    matches!(e, CoupaError::Validation { messages, .. }
        if messages.iter().any(|m| m.to_ascii_lowercase().contains("already")))
}

/// Most invoices [`InFlightInvoices`] remembers having delivered; the oldest are forgotten
/// first (by then the ledger has long recorded them).
const RECENT_MAX: usize = 10_000;

/// Supplier id and invoice number key → the Coupa invoice delivered, oldest first out.
#[derive(Debug, Default)]
struct Recent {
    ids: HashMap<(u64, String), u64>,
    order: VecDeque<(u64, String)>,
}

/// The invoices being delivered right now, one lock each, so copies of one invoice are
/// delivered one after the other (entries go when their last holder is done); the invoices
/// delivered lately, by supplier and number key, so a copy under the number in another letter
/// case is found even where Coupa's lookup compares with case and before the ledger recorded
/// the first; and the [`KnownInvoices`] the guard asks beyond that.
#[derive(Debug, Default)]
pub(crate) struct InFlightInvoices {
    /// Supplier id and invoice number key ([`number_key`]) → the turn deliveries of that
    /// invoice take.
    turns: gateway_core::Turns<(u64, String)>,
    recent: std::sync::Mutex<Recent>,
    known: std::sync::RwLock<Option<Arc<dyn KnownInvoices>>>,
}

impl InFlightInvoices {
    fn recent(&self) -> std::sync::MutexGuard<'_, Recent> {
        self.recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits for the turn of supplier `supplier_id`'s invoice `key` ([`number_key`]); held
    /// until dropped.
    async fn turn(&self, supplier_id: u64, key: &str) -> gateway_core::Turn<'_, (u64, String)> {
        self.turns.take((supplier_id, key.to_string())).await
    }

    /// Remembers that supplier `supplier_id`'s invoice `key` is Coupa invoice `id`.
    fn remember(&self, supplier_id: u64, key: &str, id: u64) {
        let mut recent = self.recent();
        let k = (supplier_id, key.to_string());
        if recent.ids.insert(k.clone(), id).is_none() {
            recent.order.push_back(k);
        }
        while recent.order.len() > RECENT_MAX {
            if let Some(old) = recent.order.pop_front() {
                recent.ids.remove(&old);
            }
        }
    }

    /// The Coupa invoice remembered for supplier `supplier_id`'s invoice `key`, if any.
    fn recent_id(&self, supplier_id: u64, key: &str) -> Vec<u64> {
        self.recent()
            .ids
            .get(&(supplier_id, key.to_string()))
            .copied()
            .into_iter()
            .collect()
    }

    fn known(&self) -> Option<Arc<dyn KnownInvoices>> {
        self.known
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl CoupaClient {
    /// The duplicate guard also asks `known` for invoices delivered before under a number in
    /// another letter case ([`KnownInvoices`]; the gateway's ledger), so a Coupa whose lookup
    /// compares numbers with case does not get a second invoice after a restart.
    pub fn know_invoices_from(&self, known: Arc<dyn KnownInvoices>) {
        *self
            .delivering
            .known
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(known);
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
            let _turn = inflight.turn(7, "INV-1").await;
            std::future::pending::<()>().await;
        };
        let mut holding = Box::pin(holding);
        // Poll it once: it takes the turn and then waits for ever.
        tokio::select! {
            biased;
            () = &mut holding => unreachable!("it never ends"),
            () = std::future::ready(()) => {}
        }
        assert_eq!(inflight.turns.len(), 1);
        {
            let mut copy = Box::pin(inflight.turn(7, "INV-1"));
            tokio::select! {
                biased;
                _ = &mut copy => panic!("the copy has to wait"),
                () = std::future::ready(()) => {}
            }
            // The copy's task is aborted while it waits.
        }
        assert_eq!(inflight.turns.len(), 1, "the holder still has it");
        // Now the holder's task is aborted.
        drop(holding);
        assert!(inflight.turns.is_empty());

        // A delivery that finishes forgets its lock as well.
        {
            let _turn = inflight.turn(7, "INV-2").await;
            assert_eq!(inflight.turns.len(), 1);
        }
        assert!(inflight.turns.is_empty());
    }
}
