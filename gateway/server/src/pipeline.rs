//! The inbound pipeline every entry point shares (HTTP, file drop, mailbox): decode, validate,
//! find the partner, claim the idempotency key, publish with confirms, and only then report
//! success, so nothing is acknowledged to a sender before the bus has it.

use std::sync::Arc;

use futures::future::BoxFuture;
use gateway_core::in_flight::{HeldKeys, InFlightKeys};
use gateway_core::{
    Accepted, Broker, BusError, Decode, DecodeItem, DecodedDocument, Duplicate, Envelope, Format,
    Ingest, IngestError, IngestReport, IngestRequest, Message, PartnerProfile, Reject,
    detect_format,
};
use gateway_model::{Document, to_json_line};

use crate::codecs::{Codecs, list};
use crate::ledger::{Claim, Ledger, NewDocument, Status};
use crate::partners::Partners;

/// The shared inbound pipeline.
pub struct Pipeline {
    codecs: Codecs,
    partners: Partners,
    ledger: Arc<Ledger>,
    bus: Arc<dyn Broker>,
    /// Idempotency keys a request of this process is handling right now (claimed, not yet
    /// confirmed). A second copy arriving meanwhile is told to retry instead of being
    /// published a second time; a key left `received` by a crashed process is not in here,
    /// so its resend takes the claim over as before.
    in_flight: InFlightKeys,
    /// Other services `/readyz` must find reachable besides the bus (Coupa).
    readiness: Vec<Arc<dyn ReadinessCheck>>,
    /// Documents marked as test data go on to Coupa (`[coupa] test_instance`).
    deliver_test_documents: bool,
    /// Longest wait for the bus to confirm a request's documents (`[bus] publish_timeout_ms`).
    publish_timeout: std::time::Duration,
    /// Where files sent with documents (PDF copies) are kept until delivery.
    attachments: gateway_core::AttachmentStore,
    /// Free space under the folders the service writes: below its minimum, documents are
    /// refused (send again) rather than fill the disk under the ledger.
    disk: Option<Arc<crate::disk_space::DiskSpace>>,
}

/// A dependency `/readyz` checks (the bus is always checked).
pub trait ReadinessCheck: Send + Sync {
    fn name(&self) -> &str;
    fn check(&self) -> BoxFuture<'_, Result<(), String>>;
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("codecs", &self.codecs)
            .finish()
    }
}

impl Pipeline {
    pub fn new(
        codecs: Codecs,
        partners: Partners,
        ledger: Arc<Ledger>,
        bus: Arc<dyn Broker>,
    ) -> Self {
        Pipeline {
            codecs,
            partners,
            ledger,
            bus,
            in_flight: InFlightKeys::default(),
            readiness: Vec::new(),
            deliver_test_documents: false,
            publish_timeout: std::time::Duration::from_secs(10),
            attachments: gateway_core::AttachmentStore::new(
                std::env::temp_dir()
                    .join(format!("coupa-gateway-attachments-{}", std::process::id())),
            ),
            disk: None,
        }
    }

    /// Refuses documents (503, send again) while `disk` finds a folder short of free space,
    /// and makes `/readyz` say so: `/readyz` said documents were refused meanwhile while they
    /// were taken, and a ledger filling its disk fails every write at once.
    pub fn with_disk_space(mut self, disk: crate::disk_space::DiskSpace) -> Self {
        let disk = Arc::new(disk);
        self.readiness
            .push(Arc::clone(&disk) as Arc<dyn ReadinessCheck>);
        self.disk = Some(disk);
        self
    }

    /// `Err` while a folder the documents are written to is short of free space.
    fn room_to_write(&self) -> Result<(), PipelineError> {
        match &self.disk {
            Some(disk) => disk.verdict().map_err(PipelineError::DiskShort),
            None => Ok(()),
        }
    }

    /// What a sender is told of `e` (not taken, send again), counted by reason.
    fn refused(adapter: &str, e: PipelineError) -> IngestError {
        gateway_core::metrics::count_refused(adapter, e.reason());
        gateway_http::not_taken(&e.for_sender(), &e.to_string())
    }

    /// Where files sent with documents are kept until they are delivered (the service's
    /// `[attachments] dir`; the default is a per-process temporary folder, for tests).
    pub fn with_attachment_store(mut self, store: gateway_core::AttachmentStore) -> Self {
        self.attachments = store;
        self
    }

    /// How long a request waits for the bus to confirm its documents before it is refused as
    /// "send again" (a broker with blocked publishers confirms nothing).
    pub fn with_publish_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.publish_timeout = timeout;
        self
    }

    /// Delivers documents their senders mark as test data, for a gateway whose Coupa is a
    /// test instance; otherwise they are kept as rejected (see [`test_marking`]).
    pub fn delivering_test_documents(mut self, deliver: bool) -> Self {
        self.deliver_test_documents = deliver;
        self
    }

    /// Adds a dependency `/readyz` must find reachable.
    pub fn with_readiness_check(mut self, check: Arc<dyn ReadinessCheck>) -> Self {
        self.readiness.push(check);
        self
    }

    pub fn codecs(&self) -> &Codecs {
        &self.codecs
    }

    pub fn partners(&self) -> &Partners {
        &self.partners
    }

    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    /// Decodes `req.raw` and publishes every good document. Returns after the bus confirmed all
    /// of them; the report says what was accepted, what was a duplicate and what was rejected.
    pub async fn ingest(&self, req: IngestRequest<'_>) -> Result<IngestReport, IngestError> {
        let adapter = req.adapter;
        let taken = match self.room_to_write() {
            Ok(()) => self.ingest_inner(req).await,
            Err(e) => Err(e),
        };
        taken.map_err(|e| Self::refused(adapter, e))
    }

    async fn ingest_inner(&self, req: IngestRequest<'_>) -> Result<IngestReport, PipelineError> {
        let format = req.format.unwrap_or_else(|| detect_format(req.raw));
        let mut report = IngestReport {
            format: Some(format),
            ..IngestReport::default()
        };
        // Dropped when this request ends, however it ends (a caller that stops waiting drops
        // this future): its keys are no longer in flight, but for a batch's, which its
        // publish holds until the bus answered.
        let mut held = self.in_flight.holder();
        let Some(decoder) = self.codecs.decoder(format) else {
            let unreadable = Reject::new(
                "input",
                format!(
                    "{format} is not readable by this gateway; it reads {}",
                    list(&self.codecs.readable())
                ),
            );
            let ids = self.record_decode_rejects(
                &req,
                format,
                std::slice::from_ref(&unreadable),
                &mut held,
            )?;
            push_rejects(&mut report, vec![unreadable], ids);
            return Ok(report);
        };
        let anonymous = PartnerProfile::anonymous();
        let mut decoded = decode(decoder.as_ref(), req.raw, req.partner.unwrap_or(&anonymous));
        if !req.files.is_empty() {
            gateway_core::assign_files(req.files.to_vec(), &mut decoded.documents);
        }
        for note in req.notes {
            for d in &mut decoded.documents {
                d.meta.note(note);
            }
        }
        let ids = self.record_decode_rejects(&req, format, &decoded.rejects, &mut held)?;
        push_rejects(&mut report, decoded.rejects, ids);
        match format {
            Format::X12 => self.partner_acks(&req, req.raw, &mut report)?,
            // A partner may mail its 997 as an attachment.
            Format::Email => {
                let limits = adapter_email::Limits {
                    max_message_bytes: req.raw.len(),
                    ..adapter_email::Limits::default()
                };
                if let Ok(mail) = adapter_email::ParsedMail::parse(req.raw, &limits) {
                    for att in &mail.attachments {
                        if adapter_email::attachment::classify(att) == Ok(Format::X12) {
                            self.partner_acks(&req, &att.bytes, &mut report)?;
                        }
                    }
                }
            }
            _ => {}
        }
        // A CSV document's source key is only its rows: scope it by the file's content, so
        // two different files are never duplicates of each other while the same file
        // dropped twice still is.
        let fingerprint = (format == Format::Csv).then(|| content_fingerprint(req.raw));
        self.take_batch(
            &req,
            format,
            decoded.documents,
            fingerprint.as_deref(),
            &mut report,
            &mut held,
        )
        .await?;
        Ok(report)
    }

    /// [`Pipeline::ingest`] for a long input (a dropped file): an X12 or canonical JSON input
    /// is decoded as it is read, on a thread of its own, and its documents are published in
    /// batches of [`STREAM_BATCH`], each confirmed by the bus before the next is taken, so
    /// memory holds a batch, not every document of the input (a 24 MB X12 file of 100,000
    /// sets took 625 MB read whole). Progress is logged every [`PROGRESS_EVERY`] documents.
    /// `owned` holds the same bytes as `req.raw`, owned so the decoding thread can read them.
    ///
    /// A failure part way leaves the batches before it published and their rows `published`:
    /// the input is retried whole, as after a crash, and those documents are duplicates then,
    /// so nothing goes out twice. Other formats (a CSV may withdraw a document it already
    /// handed on; cXML and mail are small), inputs with files and inputs under
    /// [`STREAM_FROM_BYTES`] go through `ingest`: decoded whole, an input's documents all carry
    /// what only its end tells (an X12 trailer missing at the end of a file cut short), which a
    /// streamed input can note only on the documents not yet published when it is found.
    pub async fn ingest_streaming(
        &self,
        req: IngestRequest<'_>,
        owned: Arc<Vec<u8>>,
    ) -> Result<IngestReport, IngestError> {
        let adapter = req.adapter;
        let taken = match self.room_to_write() {
            Ok(()) => self.ingest_streaming_inner(req, owned).await,
            Err(e) => Err(e),
        };
        taken.map_err(|e| Self::refused(adapter, e))
    }

    async fn ingest_streaming_inner(
        &self,
        req: IngestRequest<'_>,
        owned: Arc<Vec<u8>>,
    ) -> Result<IngestReport, PipelineError> {
        let format = req.format.unwrap_or_else(|| detect_format(req.raw));
        let decoder = match self.codecs.decoder(format) {
            Some(d)
                if matches!(format, Format::X12 | Format::Json)
                    && !d.withdraws()
                    && req.files.is_empty()
                    && req.raw.len() >= STREAM_FROM_BYTES =>
            {
                d
            }
            _ => return self.ingest_inner(req).await,
        };
        let mut report = IngestReport {
            format: Some(format),
            ..IngestReport::default()
        };
        let mut held = self.in_flight.holder();
        let partner = req
            .partner
            .cloned()
            .unwrap_or_else(PartnerProfile::anonymous);
        // Bounded: the decoder waits while a batch is published.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<DecodeItem>(STREAM_BATCH);
        let reading = tokio::task::spawn_blocking(move || {
            let mut input: &[u8] = &owned;
            // A send fails only once this side stopped listening (the ingest failed): the
            // rest is read and dropped.
            decoder.decode_reader(&mut input, &partner, &mut |item| {
                let _ = tx.blocking_send(item);
            })
        });
        if format == Format::X12 {
            self.partner_acks(&req, req.raw, &mut report)?;
        }
        let mut rejects = Vec::new();
        let mut documents = Vec::with_capacity(STREAM_BATCH);
        let mut taken = 0usize;
        let mut logged = 0usize;
        let started = std::time::Instant::now();
        loop {
            let item = rx.recv().await;
            let last = item.is_none();
            match item {
                Some(DecodeItem::Document(mut d)) => {
                    for note in req.notes {
                        d.meta.note(note);
                    }
                    documents.push(*d);
                }
                Some(DecodeItem::Reject(r)) => rejects.push(r),
                None => {}
            }
            if documents.len() >= STREAM_BATCH || (last && !documents.is_empty()) {
                taken += documents.len();
                let batch = std::mem::replace(&mut documents, Vec::with_capacity(STREAM_BATCH));
                self.take_batch(&req, format, batch, None, &mut report, &mut held)
                    .await?;
                if taken - logged >= PROGRESS_EVERY {
                    logged = taken;
                    tracing::info!(
                        adapter = req.adapter,
                        source = req.source.unwrap_or("-"),
                        documents_read = taken,
                        published = report.accepted.len(),
                        received_before = report.duplicates.len(),
                        rejected = rejects.len(),
                        seconds = started.elapsed().as_secs(),
                        "taking a long input: progress"
                    );
                }
            }
            if last {
                break;
            }
        }
        match reading.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(PipelineError::Reading(e.to_string())),
            // A decoder that panicked on this input panics again on every retry: carried on
            // to the caller, whose guard (the file drop's, `crate::drop_guard`) finishes the
            // input instead of taking it again at every poll.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => return Err(PipelineError::Reading(e.to_string())),
        }
        let ids = self.record_decode_rejects(&req, format, &rejects, &mut held)?;
        push_rejects(&mut report, rejects, ids);
        Ok(report)
    }

    /// Admits `documents` (validation, partner, claim) and publishes the ones taken in one
    /// bus publish, confirmed; they are added to `report.accepted` only then. On a failure
    /// the claims of this batch are released (nothing of it was published) and earlier
    /// batches stay as they are.
    async fn take_batch(
        &self,
        req: &IngestRequest<'_>,
        format: Format,
        documents: Vec<DecodedDocument>,
        fingerprint: Option<&str>,
        report: &mut IngestReport,
        held: &mut HeldKeys,
    ) -> Result<(), PipelineError> {
        let mut batch: Vec<Message> = Vec::new();
        let mut pending: Vec<Accepted> = Vec::new();
        for mut d in documents {
            if let (Some(fp), Some(key)) = (fingerprint, d.meta.source_key.as_mut()) {
                *key = format!("content:{fp}/{key}").into();
            }
            match self.admit(req, format, d, report, held) {
                Ok(Some((envelope, body, acc))) => {
                    batch.push(Message { envelope, body });
                    pending.push(acc);
                }
                Ok(None) => continue,
                Err(e) => {
                    for m in &batch {
                        // nothing of this batch was published: forget its claims
                        let _ = self.ledger.release(&m.envelope.idempotency_key);
                    }
                    return Err(e);
                }
            }
        }
        if batch.is_empty() {
            return Ok(());
        }
        // On a task of its own, holding the batch's keys until the bus said yes or no and
        // settling their rows either way; the request waits for it at most the publish
        // timeout. A publish given up by dropping it could still be confirmed, its rows
        // released or left `received` meanwhile, and the sender's resend then took them over
        // and published every document a second time.
        let documents = batch.len();
        let keys = held.hand_over(batch.iter().map(|m| m.envelope.idempotency_key.as_str()));
        let publish = tokio::spawn(publish_and_settle(
            Arc::clone(&self.bus),
            Arc::clone(&self.ledger),
            batch,
            keys,
            self.publish_timeout,
        ));
        match tokio::time::timeout(self.publish_timeout, publish).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => return Err(e.into()),
            Ok(Err(stopped)) => {
                return Err(PipelineError::Bus(BusError::Unavailable(format!(
                    "the publish stopped: {stopped}"
                ))));
            }
            Err(_) => {
                tracing::warn!(
                    adapter = req.adapter,
                    documents,
                    "the bus has not confirmed within [bus] publish_timeout_ms ({} ms): the sender is told to ask again, and the publish goes on",
                    self.publish_timeout.as_millis()
                );
                return Err(PipelineError::Unconfirmed(self.publish_timeout));
            }
        }
        for acc in &pending {
            gateway_core::metrics::count(
                gateway_core::metrics::Counter::Received,
                req.adapter,
                &acc.kind,
                1,
            );
        }
        for acc in pending.iter().filter(|a| !a.notes.is_empty()) {
            gateway_core::metrics::count(
                gateway_core::metrics::Counter::Noted,
                req.adapter,
                &acc.kind,
                1,
            );
            tracing::info!(adapter = req.adapter, partner = %acc.partner, doc_id = %acc.doc_id,
                notes = %acc.notes.join("; "), "accepted with notes");
        }
        report.accepted.extend(pending);
        Ok(())
    }

    /// Keeps a document refused before validation as rejected, with why, and reports it.
    fn refuse(
        &self,
        req: &IngestRequest<'_>,
        document: &gateway_model::Document,
        meta: gateway_core::SourceMeta,
        refusal: Refusal,
        report: &mut IngestReport,
        held: &mut HeldKeys,
    ) -> Result<Option<(Envelope, Vec<u8>, Accepted)>, PipelineError> {
        let envelope = Envelope::inbound(document.kind(), req.adapter, refusal.partner, meta);
        let id = self.record_rejected(req, &envelope, document, &refusal.message, held)?;
        let reject = Reject {
            location: refusal.location,
            message: refusal.message,
            document: Some(document.number().to_string()),
        };
        push_rejects(report, vec![reject], vec![id]);
        Ok(None)
    }

    /// Keeps a document refused by validation in the ledger (status `rejected`, the reasons
    /// as its detail), so an operator (`gateway documents --status rejected`, `gateway
    /// partners`) and the partner's status view find it by number. A later copy under the
    /// same key takes the row over (a rejected key is not a duplicate); a copy of the key in
    /// flight or already on the bus is left alone. Returns the doc id of the row when this
    /// request wrote it, for the sender.
    fn record_rejected(
        &self,
        req: &IngestRequest<'_>,
        envelope: &Envelope,
        document: &gateway_model::Document,
        reasons: &str,
        held: &mut HeldKeys,
    ) -> Result<Option<String>, PipelineError> {
        gateway_core::metrics::count(
            gateway_core::metrics::Counter::Rejected,
            req.adapter,
            document.kind().as_str(),
            1,
        );
        if !held.take(&envelope.idempotency_key) {
            return Ok(None);
        }
        let row = NewDocument {
            idempotency_key: &envelope.idempotency_key,
            doc_id: &envelope.doc_id,
            adapter: req.adapter,
            partner: envelope.partner.as_deref().unwrap_or(UNKNOWN_PARTNER),
            kind: document.kind().as_str(),
            number: document.number(),
            business_key: None,
        };
        let source = source_of(req.source, envelope.source.location.as_deref());
        let written = self
            .ledger
            .record_rejections(&[(row, reasons.to_string(), source)])?;
        Ok((written > 0).then(|| envelope.doc_id.clone()))
    }

    /// What the decoder could not read as a document at all (a set without its BIG, XML that
    /// is not cXML, a CSV file without its columns), kept in the ledger as `rejected` like a
    /// document validation refused, so an operator sees it beside the rest and a partner's
    /// status view shows it: one row per document the rejects name (an X12 set, an invoice
    /// number), one for the input for the others. Keyed by the input's content, so the same
    /// bytes sent again update their rows instead of adding more. At most
    /// [`MAX_REJECTED_ROWS`] rows per input; the input's row takes the rest. Each row is
    /// counted in `gateway_documents_rejected_total` (kind `unknown`). A canonical JSON
    /// document refused for one field (a price as a JSON number, a date it cannot read) names
    /// its number and kind, read on their own: its row is kept under them, so it is found by
    /// number, and counted under its kind. Returns each reject's row's doc id, in order.
    fn record_decode_rejects(
        &self,
        req: &IngestRequest<'_>,
        format: Format,
        rejects: &[Reject],
        held: &mut HeldKeys,
    ) -> Result<Vec<Option<String>>, PipelineError> {
        if rejects.is_empty() {
            return Ok(Vec::new());
        }
        let content = content_fingerprint(req.raw);
        let partner = req.partner.map_or(UNKNOWN_PARTNER, |p| p.id.as_str());
        let groups = rejected_rows(rejects);
        let kinds = if format == Format::Json && rejects.iter().any(|r| r.document.is_some()) {
            json_reject_kinds(req.raw)
        } else {
            std::collections::HashMap::new()
        };
        let kind_of = |document: Option<&str>| {
            document
                .and_then(|d| kinds.get(d).copied())
                .unwrap_or(UNREAD_KIND)
        };
        for (document, _) in &groups {
            gateway_core::metrics::count(
                gateway_core::metrics::Counter::Rejected,
                req.adapter,
                kind_of(*document),
                1,
            );
        }
        let mut rows = Vec::new();
        for (document, reasons) in groups {
            let key = format!("rejected:{content}/{}", document.unwrap_or("input"));
            if held.take(&key) {
                // Where it came from, as an accepted document's row says it: the input and
                // where in it its first reject is.
                let at = rejects
                    .iter()
                    .find(|r| r.document.as_deref() == document)
                    .map(|r| r.location.as_str());
                rows.push((key, document, reasons, source_of(req.source, at)));
            }
        }
        let doc_ids: Vec<String> = rows
            .iter()
            .map(|_| uuid::Uuid::new_v4().to_string())
            .collect();
        let refused: Vec<(NewDocument<'_>, String, String)> = rows
            .iter()
            .zip(&doc_ids)
            .map(|((key, document, reasons, source), doc_id)| {
                let row = NewDocument {
                    idempotency_key: key,
                    doc_id,
                    adapter: req.adapter,
                    partner,
                    kind: kind_of(*document),
                    number: document.unwrap_or_default(),
                    business_key: None,
                };
                (row, reasons.clone(), source.clone())
            })
            .collect();
        self.ledger.record_rejections(&refused)?;
        // A reject's row is its document's; one the rows do not name went to the input's.
        let id_of = |document: Option<&str>| {
            rows.iter()
                .zip(&doc_ids)
                .find(|((_, d, _, _), _)| *d == document)
                .map(|(_, id)| id.clone())
        };
        Ok(rejects
            .iter()
            .map(|r| id_of(r.document.as_deref()).or_else(|| id_of(None)))
            .collect())
    }

    /// Validates one decoded document, finds its partner and claims its key. `None` when it
    /// was rejected or is a duplicate (recorded in `report`).
    fn admit(
        &self,
        req: &IngestRequest<'_>,
        format: Format,
        d: DecodedDocument,
        report: &mut IngestReport,
        held: &mut HeldKeys,
    ) -> Result<Option<(Envelope, Vec<u8>, Accepted)>, PipelineError> {
        let DecodedDocument { document, mut meta } = d;
        // Kept only if the document is accepted (below).
        let files = std::mem::take(&mut meta.files);
        let where_ = meta
            .location
            .as_deref()
            .map(str::to_string)
            .unwrap_or_else(|| crate::convert::document_label(&document));
        let partner = match req.partner {
            Some(p) => p,
            None => match meta
                .sender
                .as_deref()
                .and_then(|s| self.partners.by_sender(format, s))
            {
                Some(p) => p,
                None => {
                    let message = format!(
                        "unknown sender {:?}: no partner profile names it; add one with its {} ids",
                        meta.sender.as_deref().unwrap_or("(none)"),
                        format
                    );
                    let refusal = Refusal {
                        partner: None,
                        location: where_,
                        message,
                    };
                    return self.refuse(req, &document, meta, refusal, report, held);
                }
            },
        };
        if !self.deliver_test_documents
            && let Some(marking) = test_marking(&meta)
        {
            let message = format!(
                "{TEST_DOCUMENT} ({marking}): checked and acknowledged as test data, not \
                 delivered, because this gateway's Coupa is not a test instance; send it as \
                 production data to have it delivered (or set [coupa] test_instance = true on \
                 a gateway that delivers to a Coupa test instance)"
            );
            let refusal = Refusal {
                partner: Some(partner.id.clone()),
                location: where_,
                message,
            };
            return self.refuse(req, &document, meta, refusal, report, held);
        }
        // A cancellation is refused at the door, as the X12 acknowledgment refuses it.
        if let Some(mark) = gateway_core::invoice_cancellation(&document) {
            let at = crate::convert::source_suffix(&self.codecs, &document, &meta, mark.path);
            let refusal = Refusal {
                partner: Some(partner.id.clone()),
                location: format!("{where_}, {}{at}", mark.path),
                message: gateway_core::cancellation_refused(&mark, document.number()),
            };
            return self.refuse(req, &document, meta, refusal, report, held);
        }
        // Validated knowing the partner (its profile may name the invoice's supplier), as the
        // X12 acknowledgment validates it, so the two agree.
        let validation = document.validate_in(partner.validation_context());
        if validation.has_errors() {
            let mut reasons = Vec::new();
            let mut rejects = Vec::new();
            for p in validation.errors() {
                // Where it is in what the sender sent (the cXML element, the X12 segment),
                // beside the canonical path, so the sender can find it.
                let at = crate::convert::source_suffix(&self.codecs, &document, &meta, &p.path);
                rejects.push(Reject {
                    location: format!("{where_}, {}{at}", p.path),
                    message: p.message.clone(),
                    document: Some(document.number().to_string()),
                });
                reasons.push(format!("{}: {}{at}", p.path, p.message));
            }
            let envelope =
                Envelope::inbound(document.kind(), req.adapter, Some(partner.id.clone()), meta);
            let id = self.record_rejected(req, &envelope, &document, &reasons.join("; "), held)?;
            let ids = vec![id; rejects.len()];
            push_rejects(report, rejects, ids);
            return Ok(None);
        }
        // What was accepted but noticed: the decoder's notes, then the validation warnings.
        let mut notes: Vec<String> = meta.notes().map(str::to_string).collect();
        notes.extend(
            validation
                .warnings()
                .map(|p| format!("{}: {}", p.path, p.message)),
        );
        // Where it came from: the input, and where in it.
        let source = source_of(req.source, meta.location.as_deref());
        let mut envelope =
            Envelope::inbound(document.kind(), req.adapter, Some(partner.id.clone()), meta);
        let business_key = business_key(&partner.id, &document);
        let number = document.number().to_string();
        let kind = document.kind().to_string();
        let body = to_json_line(&document).into_bytes();
        let content = content_fingerprint(&body);
        let mut claim = Claim::New;
        // At most twice: the sender's key, then (when the sender used it for other content)
        // that key scoped by this content, which a resend of this document claims again.
        for attempt in 0..2 {
            if !held.take(&envelope.idempotency_key) {
                return Err(PipelineError::InFlight(envelope.idempotency_key));
            }
            claim = self.ledger.claim_content_known_as(
                &NewDocument {
                    idempotency_key: &envelope.idempotency_key,
                    doc_id: &envelope.doc_id,
                    adapter: req.adapter,
                    partner: &partner.id,
                    kind: &kind,
                    number: &number,
                    business_key: business_key.as_deref(),
                },
                &envelope.earlier_keys,
                &content,
                &source,
            )?;
            let Claim::Reused {
                doc_id: earlier,
                number: earlier_number,
            } = &claim
            else {
                break;
            };
            if attempt > 0 {
                break;
            }
            notes.push(format!(
                "{} {REUSED_KEY} {earlier} ({earlier_number}) with other \
                 content: accepted as a new document; the sender reuses its control numbers \
                 or payloadIDs (Coupa's duplicate guard still creates no second invoice of the \
                 same supplier and number)",
                reused_key_name(&envelope)
            ));
            envelope.idempotency_key = format!("{}#{}", envelope.idempotency_key, content);
        }
        match claim {
            // A second reuse under the content's own key cannot differ in content: taken as
            // the duplicate it is.
            Claim::Reused { doc_id, .. } => {
                report.duplicates.push(Duplicate {
                    doc_id,
                    idempotency_key: envelope.idempotency_key,
                    status: Status::Published.as_str().to_string(),
                    number,
                });
                Ok(None)
            }
            Claim::Duplicate { doc_id, status } => {
                report.duplicates.push(Duplicate {
                    doc_id,
                    idempotency_key: envelope.idempotency_key,
                    status: status.as_str().to_string(),
                    number,
                });
                Ok(None)
            }
            Claim::New => {
                if !notes.is_empty() {
                    self.ledger
                        .record_notes(&envelope.idempotency_key, &notes.join("\n"))?;
                }
                let same = match &business_key {
                    Some(bk) => self
                        .ledger
                        .same_business_key(bk, &envelope.idempotency_key)?
                        .into_iter()
                        .next()
                        .map(|e| e.doc_id),
                    None => None,
                };
                // On disk before the bus has the document: once the sender hears
                // "accepted", its PDF is kept too.
                for file in &files {
                    envelope.attachments.push(self.attachments.put(file)?);
                }
                if !envelope.attachments.is_empty() {
                    self.ledger
                        .record_attachments(&envelope.idempotency_key, &envelope.attachments)?;
                }
                let acc = Accepted {
                    doc_id: envelope.doc_id.clone(),
                    idempotency_key: envelope.idempotency_key.clone(),
                    kind,
                    number,
                    partner: partner.id.clone(),
                    same_business_key_as: same,
                    notes,
                    attachments: files.into_iter().map(|f| f.name).collect(),
                };
                Ok(Some((envelope, body, acc)))
            }
        }
    }
}

/// Publishes one batch and settles its ledger rows: `published` once the bus confirmed (only
/// while still `received`: a fast consumer may have delivered one already; a ledger that fails
/// is retried in the background, [`crate::published_mark`]), released when it refused. `held`
/// keeps the keys in flight until then, so a copy of the request arriving meanwhile is told to
/// retry, never published beside it. Runs to its end whoever waits for it; past `patience`
/// (the publish timeout, after which the sender was told to ask again) its outcome is logged.
async fn publish_and_settle(
    bus: Arc<dyn Broker>,
    ledger: Arc<Ledger>,
    batch: Vec<Message>,
    held: HeldKeys,
    patience: std::time::Duration,
) -> Result<(), BusError> {
    let began = tokio::time::Instant::now();
    let published = bus.publish(&batch).await;
    let keys: Vec<String> = batch
        .into_iter()
        .map(|m| m.envelope.idempotency_key)
        .collect();
    let documents = keys.len();
    if began.elapsed() > patience {
        match &published {
            Ok(()) => tracing::info!(
                documents,
                "the bus confirmed a publish after its sender was told to ask again: the retry finds the documents received"
            ),
            Err(e) => tracing::warn!(
                documents,
                error = %e,
                "the bus refused a publish after its sender was told to ask again: the retry takes the documents anew"
            ),
        }
    }
    match &published {
        // The bus holds the documents now, so a failure to mark them must not turn into a
        // 503 (the sender would send again), nor leave their rows `received` with their keys
        // free (a resend would take them over and publish them again): the mark is retried
        // with the keys held until it is recorded.
        Ok(()) => crate::published_mark::record(ledger, keys, held),
        Err(_) => {
            for key in &keys {
                // best effort: a claim left behind is taken over by the resend anyway
                let _ = ledger.release(key);
            }
            drop(held);
        }
    }
    published
}

fn decode(decoder: &dyn Decode, raw: &[u8], partner: &PartnerProfile) -> gateway_core::Decoded {
    decoder.decode(raw, partner)
}

/// Why the pipeline could not decide.
#[derive(Debug, thiserror::Error)]
enum PipelineError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    /// A file sent with a document could not be kept: the disk may recover.
    #[error(transparent)]
    Attachment(#[from] gateway_core::AttachmentError),
    /// The thread decoding a streamed input failed (it cannot on bytes in memory unless the
    /// decoder panicked): nothing more of the input is taken; it is retried.
    #[error("reading the input failed: {0}")]
    Reading(String),
    /// Another request is handling the same document right now; retrying shortly helps (it
    /// is then a duplicate, or new again if that request failed).
    #[error("document {0} is being received by another request right now")]
    InFlight(String),
    /// The bus has not confirmed within `[bus] publish_timeout_ms` (the duration): a broker
    /// that blocked publishers (a memory or disk alarm) confirms nothing. The publish goes on
    /// with the documents held, so a retry finds them taken, or free again.
    #[error("the bus has not confirmed the publish within {} ms", .0.as_millis())]
    Unconfirmed(std::time::Duration),
    /// A folder the documents are written to has less free space than `[ledger]
    /// min_free_mb` (which, and how much): retrying once space is freed helps.
    #[error("{0}")]
    DiskShort(String),
}

impl PipelineError {
    /// What failed, in words for the sender (the HTTP answer): the part of the gateway, never
    /// the detail (a database message, a path), which goes to the log. Each is the gateway's
    /// trouble, not the document's: sending again later helps.
    fn for_sender(&self) -> String {
        match self {
            PipelineError::Bus(_) => "the gateway's message bus did not take it".into(),
            PipelineError::Ledger(_) => "the gateway's document ledger could not record it".into(),
            PipelineError::Attachment(_) => {
                "the gateway could not store the files sent with it".into()
            }
            PipelineError::Reading(_) => "the gateway could not finish reading it".into(),
            // Not "nothing was accepted": the other request may have taken the document.
            PipelineError::InFlight(key) => {
                format!("{} ({key})", gateway_core::ingest::IN_FLIGHT)
            }
            PipelineError::Unconfirmed(waited) => format!(
                "{} (waited {} ms, [bus] publish_timeout_ms) and may still take it",
                gateway_core::ingest::UNCONFIRMED,
                waited.as_millis()
            ),
            PipelineError::DiskShort(_) => "the gateway is short of disk space".into(),
        }
    }

    /// The part that failed, as `gateway_inputs_refused_total` labels it.
    fn reason(&self) -> &'static str {
        match self {
            PipelineError::Bus(_) => "bus",
            PipelineError::Ledger(_) => "ledger",
            PipelineError::Attachment(_) => "attachments",
            PipelineError::Reading(_) => "reading",
            PipelineError::InFlight(_) => "in_flight",
            PipelineError::Unconfirmed(_) => "unconfirmed",
            PipelineError::DiskShort(_) => "disk_space",
        }
    }
}

impl Pipeline {
    /// The partner's TA1s and 997/999s in X12 input, matched to what was sent to it and recorded
    /// (`partner_acks`). The partner is the one the input came from (its folder), else the one
    /// whose X12 id sent the acknowledgment. A ledger failure fails the ingest, so the input is
    /// retried rather than its verdicts lost.
    ///
    /// Read with the profile the decoder read the input with, so the two agree: an
    /// acknowledgment whose own envelope is broken (a 997 whose SE01 miscounts), or that came
    /// in an interchange or group rejected whole, is not acted on. The decoder rejected it
    /// (a `rejected` row with the reasons, counted once); it is only logged here.
    fn partner_acks(
        &self,
        req: &IngestRequest<'_>,
        raw: &[u8],
        report: &mut IngestReport,
    ) -> Result<(), PipelineError> {
        let anonymous = PartnerProfile::anonymous();
        let received =
            adapter_x12::received::read_received_from(raw, req.partner.unwrap_or(&anonymous));
        for refused in &received.refused {
            tracing::warn!(adapter = req.adapter, partner = req.partner.map_or(UNKNOWN_PARTNER, |p| p.id.as_str()),
                reason = %refused, "partner acknowledgment not applied: its envelope is broken");
        }
        for ta1 in &received.ta1s {
            let what = ta1.summary();
            if let Some(partner) = self.acknowledging_partner(req, &ta1.sender, &what, report) {
                let r = crate::partner_acks::reconcile_ta1(
                    &self.ledger,
                    &partner.id,
                    std::slice::from_ref(ta1),
                )?;
                self.note_reconciled(req, &partner.id, r, report);
            }
        }
        for ack in &received.acks {
            let what = format!(
                "{} {} (interchange {})",
                ack.kind, ack.control, ack.interchange
            );
            if let Some(partner) = self.acknowledging_partner(req, &ack.sender, &what, report) {
                let r = crate::partner_acks::reconcile(
                    &self.ledger,
                    &partner.id,
                    std::slice::from_ref(ack),
                )?;
                self.note_reconciled(req, &partner.id, r, report);
            }
        }
        Ok(())
    }

    /// The partner an acknowledgment (`what`) is from: the one the input came from, else the
    /// one whose X12 id (`sender`, `ISA05:ISA06`) sent it; `None`, reported, when no profile
    /// names it.
    fn acknowledging_partner<'p>(
        &'p self,
        req: &IngestRequest<'p>,
        sender: &str,
        what: &str,
        report: &mut IngestReport,
    ) -> Option<&'p PartnerProfile> {
        let partner = req
            .partner
            .or_else(|| self.partners.by_sender(Format::X12, sender));
        if partner.is_none() {
            tracing::warn!(adapter = req.adapter, %sender, "acknowledgment from an unknown sender; not matched");
            report.acknowledgments.push(format!(
                "{what} from {sender}: no partner profile names this sender; not matched"
            ));
        }
        partner
    }

    /// Logs what a partner's acknowledgment said and lists it in the report.
    fn note_reconciled(
        &self,
        req: &IngestRequest<'_>,
        partner: &str,
        r: crate::partner_acks::Reconciled,
        report: &mut IngestReport,
    ) {
        for (key, accepted, summary) in r.matched {
            if accepted {
                tracing::info!(adapter = req.adapter, partner = %partner, idempotency_key = %key, %summary, "partner accepted");
            } else {
                tracing::warn!(adapter = req.adapter, partner = %partner, idempotency_key = %key, %summary, "partner rejected a document we sent");
                if !r.newly_refused.contains(&key) {
                    // The same refusal sent again: logged, counted once already.
                    report.acknowledgments.push(format!("{key}: {summary}"));
                    continue;
                }
                // Labelled like the document's other counters: the adapter it came in by.
                let (adapter, kind) = self.ledger.entry(&key).ok().flatten().map_or_else(
                    || ("unknown".into(), "unknown".into()),
                    |e| (e.adapter, e.kind),
                );
                gateway_core::metrics::count(
                    gateway_core::metrics::Counter::PartnerRejected,
                    &adapter,
                    &kind,
                    1,
                );
            }
            report.acknowledgments.push(format!("{key}: {summary}"));
        }
        for u in r.unmatched {
            tracing::warn!(adapter = req.adapter, partner = %partner, "{u}");
            report.acknowledgments.push(u);
        }
    }
}

impl Ingest for Pipeline {
    fn ingest<'a>(
        &'a self,
        req: IngestRequest<'a>,
    ) -> BoxFuture<'a, Result<IngestReport, IngestError>> {
        Box::pin(Pipeline::ingest(self, req))
    }

    fn partners(&self) -> &[PartnerProfile] {
        self.partners.all()
    }

    fn ready(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.bus.ready().await.map_err(|e| format!("bus: {e}"))?;
            for c in &self.readiness {
                c.check().await.map_err(|e| format!("{}: {e}", c.name()))?;
            }
            Ok(())
        })
    }
}

/// The ledger's partner for what came from a sender no profile names.
const UNKNOWN_PARTNER: &str = "(unknown)";

/// Documents of a streamed input ([`Pipeline::ingest_streaming`]) published per bus
/// confirmation: memory holds this many at a time, and a confirm covers enough documents
/// that a long file is not slowed by waiting on each.
pub const STREAM_BATCH: usize = 1_000;

/// The size from which [`Pipeline::ingest_streaming`] streams an input: below it, a file's
/// documents take little memory read whole, and each keeps the notes only the end of its input
/// gives (a missing trailer).
pub const STREAM_FROM_BYTES: usize = 1 << 20;

/// A streamed input's progress is logged every this many documents, so a file taking minutes
/// is seen moving.
pub const PROGRESS_EVERY: usize = 10_000;

/// Where a document came from, for its ledger row ([`crate::ledger::Entry::source`]),
/// accepted or rejected alike: the input (a dropped file's name) and where in it, so
/// `gateway documents --from FILE` lists every document of the file with its fate.
fn source_of(input: Option<&str>, at: Option<&str>) -> String {
    match (input, at) {
        (Some(input), Some(at)) => format!("{input}, {at}"),
        (Some(input), None) => input.to_string(),
        (None, Some(at)) => at.to_string(),
        (None, None) => String::new(),
    }
}

/// Adds `rejects` to `report`, each with the doc id of the ledger row that keeps it (`ids`, in
/// the same order), which the sender is given with it.
fn push_rejects(report: &mut IngestReport, rejects: Vec<Reject>, ids: Vec<Option<String>>) {
    for (reject, id) in rejects
        .into_iter()
        .zip(ids.into_iter().chain(std::iter::repeat(None)))
    {
        if let Some(id) = id {
            report.reject_doc_ids.insert(report.rejects.len(), id);
        }
        report.rejects.push(reject);
    }
}

/// The kind each refused canonical JSON document of `raw` names, by the number it names (both
/// read on their own, [`gateway_model::JsonError`]), for the ledger rows of its rejects.
fn json_reject_kinds(raw: &[u8]) -> std::collections::HashMap<String, &'static str> {
    gateway_model::read_json(raw, None)
        .into_iter()
        .filter_map(|item| item.result.err())
        .filter_map(|e| Some((e.number?, e.kind?.as_str())))
        .collect()
}

/// The ledger's kind for what could not be read as a document.
const UNREAD_KIND: &str = "unknown";

/// Most ledger rows one input's decode rejects take (a hostile file may hold thousands).
const MAX_REJECTED_ROWS: usize = 100;

/// Most reasons one rejected row lists; the rest are counted.
const MAX_REASONS_PER_ROW: usize = 20;

/// Decode rejects grouped by the document they name (`None`: the input), in input order,
/// each with its reasons (`location: message`, joined). Past [`MAX_REJECTED_ROWS`] groups
/// the input's row takes the rest (the last row becomes it when there is none).
fn rejected_rows(rejects: &[Reject]) -> Vec<(Option<&str>, String)> {
    let mut groups: Vec<(Option<&str>, Vec<&Reject>)> = Vec::new();
    for r in rejects {
        let document = r.document.as_deref();
        let full = groups.len() >= MAX_REJECTED_ROWS;
        match groups.iter_mut().find(|(d, _)| *d == document) {
            Some((_, members)) => members.push(r),
            None if !full => groups.push((document, vec![r])),
            None => {
                // The input's row holds the rest: the one there is, else the last one.
                let rest = groups
                    .iter()
                    .rposition(|(d, _)| d.is_none())
                    .unwrap_or(groups.len().saturating_sub(1));
                if let Some((d, members)) = groups.get_mut(rest) {
                    *d = None;
                    members.push(r);
                }
            }
        }
    }
    groups
        .into_iter()
        .map(|(document, members)| {
            let mut reasons: Vec<String> = members
                .iter()
                .take(MAX_REASONS_PER_ROW)
                .map(|r| format!("{}: {}", r.location, r.message))
                .collect();
            if members.len() > MAX_REASONS_PER_ROW {
                reasons.push(format!("and {} more", members.len() - MAX_REASONS_PER_ROW));
            }
            (document, reasons.join("; "))
        })
        .collect()
}

/// FNV-1a (128 bit) of `raw` as hex: stable across processes and releases (unlike the std
/// hasher), cheap, and only has to tell files of one sender apart.
pub(crate) fn content_fingerprint(raw: &[u8]) -> String {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let mut h = OFFSET;
    for b in raw {
        h ^= u128::from(*b);
        h = h.wrapping_mul(PRIME);
    }
    format!("{h:032x}")
}

/// Why a document is refused before validation: the sender is unknown, it is test data, it
/// cancels an invoice.
struct Refusal {
    partner: Option<String>,
    location: String,
    message: String,
}

/// The words of the note on a document whose sender reused another document's key, so
/// `gateway partners` can count them.
pub(crate) const REUSED_KEY: &str = "was already used for document";

/// How the reason for keeping back a test document starts, so an answer can tell it apart.
pub(crate) const TEST_DOCUMENT: &str = "a test document";

/// How the sender marked a document as test data, if it did: X12 ISA15 `T`, cXML
/// `deploymentMode="test"` (also inside a mailed attachment).
fn test_marking(meta: &gateway_core::SourceMeta) -> Option<&'static str> {
    let extra = |k: &str| meta.extra.get(k).map(|v| v.trim());
    if extra("usage_indicator").is_some_and(|v| v.eq_ignore_ascii_case("T")) {
        Some("X12 ISA15 usage indicator T")
    } else if extra("deployment_mode").is_some_and(|v| v.eq_ignore_ascii_case("test")) {
        Some("cXML deploymentMode=\"test\"")
    } else {
        None
    }
}

/// What the sender's key is made of, for a note: its X12 control numbers, its payloadID.
fn reused_key_name(envelope: &Envelope) -> String {
    match (
        envelope.adapter.as_str(),
        envelope.source.source_key.as_deref(),
    ) {
        (_, Some(key)) if envelope.source.extra.contains_key("transaction_set") => {
            format!("the X12 control numbers {key} (ISA13/GS06/ST02)")
        }
        ("cxml", Some(key)) => format!("payloadID {key}"),
        (_, Some(key)) => format!("the key {key}"),
        (_, None) => "its key".to_string(),
    }
}

/// Supplier + invoice number: the same invoice arriving through two channels.
fn business_key(partner: &str, doc: &Document) -> Option<String> {
    match doc {
        Document::Invoice(inv) => inv
            .invoice_number
            .as_deref()
            .map(|n| format!("invoice:{partner}:{}", gateway_model::number_key(n))),
        Document::PurchaseOrder(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_REASONS_PER_ROW, MAX_REJECTED_ROWS, content_fingerprint, rejected_rows};
    use gateway_core::Reject;

    fn reject(document: Option<&str>, n: usize) -> Reject {
        Reject {
            location: format!("line {n}"),
            message: format!("bad {n}"),
            document: document.map(str::to_string),
        }
    }

    #[test]
    fn decode_rejects_take_one_row_per_document_they_name() {
        let rejects = [
            reject(Some("810 0001"), 1),
            reject(None, 2),
            reject(Some("810 0001"), 3),
            reject(Some("850 0002"), 4),
        ];
        assert_eq!(
            rejected_rows(&rejects),
            vec![
                (Some("810 0001"), "line 1: bad 1; line 3: bad 3".to_string()),
                (None, "line 2: bad 2".to_string()),
                (Some("850 0002"), "line 4: bad 4".to_string()),
            ]
        );
    }

    #[test]
    fn a_hostile_input_takes_a_bounded_number_of_rows_and_reasons() {
        let many: Vec<String> = (0..MAX_REJECTED_ROWS + 50)
            .map(|i| format!("810 {i}"))
            .collect();
        let rejects: Vec<Reject> = many
            .iter()
            .enumerate()
            .map(|(n, d)| reject(Some(d), n))
            .collect();
        let rows = rejected_rows(&rejects);
        assert_eq!(rows.len(), MAX_REJECTED_ROWS);
        let (document, reasons) = &rows[MAX_REJECTED_ROWS - 1];
        assert_eq!(
            *document, None,
            "the last row is the input's, holding the rest"
        );
        assert!(
            reasons.starts_with(&format!("line {}: ", MAX_REJECTED_ROWS - 1)),
            "{reasons}"
        );
        assert!(reasons.ends_with("; and 31 more"), "{reasons}");
        assert_eq!(reasons.matches("; ").count(), MAX_REASONS_PER_ROW);

        // With a row for the input already, the rest go there: no two rows share its key.
        let mut with_input = vec![reject(None, 7)];
        with_input.extend(rejects);
        let rows = rejected_rows(&with_input);
        assert_eq!(rows.len(), MAX_REJECTED_ROWS);
        assert_eq!(rows.iter().filter(|(d, _)| d.is_none()).count(), 1);
        assert!(
            rows[0].1.starts_with("line 7: bad 7; line 99: "),
            "{}",
            rows[0].1
        );
        assert_eq!(rows[MAX_REJECTED_ROWS - 1].0, Some("810 98"));
    }

    /// The ledger cannot record documents (its table is gone from under it, as a full disk
    /// fails every write): each endpoint, through the running HTTP server, answers a retryable
    /// 503 with Retry-After that names the ledger, not the bus, and not the database's own
    /// message (that goes to the log).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_ledger_that_cannot_record_is_named_in_every_endpoints_answer() {
        use std::sync::Arc;

        use gateway_core::Format;
        use gateway_model::Document;

        let dir = tempfile::tempdir().expect("tempdir");
        let text = crate::demo::config_text(dir.path(), "http://127.0.0.1:1", None, "ledgerfail");
        let config =
            crate::config::Config::parse(&text, "test", std::iter::empty()).expect("demo config");
        let bus = crate::bus::open(&config.bus, crate::bus::Role::Server)
            .await
            .expect("embedded bus");
        let ledger = Arc::new(crate::ledger::Ledger::open(&config.ledger.path).expect("ledger"));
        let codecs = crate::codecs::Codecs::with_x12_control_numbers_in(&dir.path().join("x12"));
        let pipeline = Arc::new(super::Pipeline::new(
            codecs.clone(),
            crate::partners::Partners::new(config.partners.clone()),
            Arc::clone(&ledger),
            bus,
        ));
        let state = gateway_http::AppState::new(pipeline.clone(), ledger.clone(), ledger.clone());
        let app = gateway_http::router(state, 1 << 20).merge(crate::protocols::routes(
            pipeline,
            &codecs,
            1 << 20,
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(gateway_http::serve(
            listener,
            app,
            gateway_http::ServeOptions::default(),
            std::future::pending::<()>(),
        ));

        let raw = rusqlite::Connection::open(&config.ledger.path).expect("open");
        raw.execute_batch("DROP TABLE documents").expect("drop");

        let acme = config
            .partners
            .iter()
            .find(|p| p.id == "acme")
            .expect("acme")
            .clone();
        let doc = Document::Invoice(crate::demo::DemoEnv::invoice("LEDGER-FULL-1").expect("inv"));
        let encode = |format| {
            codecs
                .encoder(format)
                .expect("encoder")
                .encode(std::slice::from_ref(&doc), &acme)
                .expect("encode")
        };
        let mut sent_by_acme = acme.clone();
        if let Some(x) = sent_by_acme.x12.as_mut() {
            std::mem::swap(&mut x.our_id, &mut x.partner_id);
            std::mem::swap(&mut x.our_qualifier, &mut x.partner_qualifier);
        }
        let x12 = codecs
            .encoder(Format::X12)
            .expect("encoder")
            .encode(std::slice::from_ref(&doc), &sent_by_acme)
            .expect("x12");
        let http = reqwest::Client::new();
        for (path, body) in [
            (
                "/api/v1/documents",
                gateway_model::to_json(&doc).into_bytes(),
            ),
            ("/cxml", encode(Format::Cxml)),
            ("/x12", x12),
        ] {
            let r = http
                .post(format!("{base}{path}"))
                .bearer_auth("acme-token")
                .body(body)
                .send()
                .await
                .expect("answer");
            assert_eq!(r.status().as_u16(), 503, "{path}");
            assert_eq!(
                r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
                Some("5"),
                "{path}"
            );
            let answer = r.text().await.expect("body");
            assert!(
                answer.contains("the gateway's document ledger could not record it"),
                "{path}: {answer}"
            );
            assert!(!answer.contains("bus"), "{path} blames the bus: {answer}");
            assert!(
                !answer.contains("no such table"),
                "{path} hands out the database's message: {answer}"
            );
        }
    }

    /// The QA run's partners: `newco` (sends as `01:123456789`, GS02 `NEWCOGS`, to our
    /// `ZZ:GLOBEX`, GS03 `GLOBEXGS`) and `acme` (a supplier whose 997s answer our 850s).
    const QA_PARTNERS: &str = r#"
[[partners]]
id = "newco"
[partners.coupa_supplier]
number = "NEW-1"
[partners.x12]
partner_qualifier = "01"
partner_id = "123456789"
partner_gs_id = "NEWCOGS"
our_qualifier = "ZZ"
our_id = "GLOBEX"
our_gs_id = "GLOBEXGS"
version = "005010"
[[partners]]
id = "acme"
[partners.coupa_supplier]
number = "ACME-1"
[partners.x12]
partner_qualifier = "ZZ"
partner_id = "ACMESUPPLY"
partner_gs_id = "ACMESUPPLY"
our_qualifier = "ZZ"
our_id = "GLOBEXCORP"
our_gs_id = "GLOBEXCORP"
version = "004010"
"#;

    /// A pipeline on an embedded bus with [`QA_PARTNERS`], and its ledger.
    async fn qa_pipeline(
        dir: &std::path::Path,
    ) -> (
        super::Pipeline,
        std::sync::Arc<crate::ledger::Ledger>,
        Vec<gateway_core::PartnerProfile>,
    ) {
        let d = dir.display();
        let text = format!(
            "[http]\nlisten = \"127.0.0.1:0\"\n[bus]\nembedded_path = \"{d}/bus.sqlite\"\n\
             [ledger]\npath = \"{d}/ledger.sqlite\"\n[coupa]\nbase_url = \"http://127.0.0.1:9\"\n\
             client_id = \"x\"\nclient_secret = \"y\"\n{QA_PARTNERS}"
        );
        let config =
            crate::config::Config::parse(&text, "qa.toml", std::iter::empty()).expect("qa config");
        let bus = crate::bus::open(&config.bus, crate::bus::Role::Server)
            .await
            .expect("embedded bus");
        let ledger =
            std::sync::Arc::new(crate::ledger::Ledger::open(&config.ledger.path).expect("ledger"));
        let codecs = crate::codecs::Codecs::with_x12_control_numbers_in(&dir.join("x12"));
        let pipeline = super::Pipeline::new(
            codecs,
            crate::partners::Partners::new(config.partners.clone()),
            std::sync::Arc::clone(&ledger),
            bus,
        );
        (pipeline, ledger, config.partners)
    }

    /// One 810 from newco as the QA run sent it: interchange `control`, ISA08 `to`, GE01
    /// `ge01`, IEA01 `iea01`.
    fn newco_invoice(control: &str, to: &str, ge01: u32, iea01: u32) -> String {
        let group = control.trim_start_matches('0');
        format!(
            "ISA*00*          *00*          *01*123456789      *ZZ*{to:<15}*261201*1200*^*00501*{control}*0*P*:~\n\
GS*IN*NEWCOGS*GLOBEXGS*20261201*1200*{group}*X*005010~\nST*810*0001~\n\
BIG*20261201*NC-{group}*20261130*PO-NEW-1~\nCUR*SE*USD~\nN1*SU*Newco Fasteners*92*NEW-1~\n\
IT1*1*10*EA*1.5**VP*P1~\nPID*F****Bolt~\nIT1*2*4*EA*2.25**VP*P2~\nPID*F****Nut~\nTDS*2400~\n\
CTT*2~\nSE*11*0001~\nGE*{ge01}*{group}~\nIEA*{iea01}*{control}~\n"
        )
    }

    async fn ingest_x12(
        pipeline: &super::Pipeline,
        partner: &gateway_core::PartnerProfile,
        raw: &str,
    ) -> gateway_core::IngestReport {
        pipeline
            .ingest(gateway_core::IngestRequest {
                raw: raw.as_bytes(),
                adapter: "x12",
                format: Some(gateway_core::Format::X12),
                partner: Some(partner),
                source: None,
                files: &[],
                notes: &[],
            })
            .await
            .expect("ingested")
    }

    /// An interchange accepted with errors (IEA01 miscounts: TA1 E 021; GE01 miscounts:
    /// AK9 E) is taken, noted, and no rejection anywhere: not in the answer (`rejected=` of
    /// `POST /x12` counts `rejects`), not a `rejected` row, not in `gateway partners`. A
    /// repeated ISA13 refuses its one set once. An interchange addressed to another receiver
    /// delivers nothing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn x12_envelope_warnings_are_no_rejections_and_a_refused_set_counts_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (pipeline, ledger, partners) = qa_pipeline(dir.path()).await;
        let newco = &partners[0];
        let rejected_rows = || {
            ledger
                .list(None, Some("rejected"), 100)
                .expect("list")
                .len()
        };

        for (raw, note) in [
            (newco_invoice("000000503", "GLOBEX", 1, 2), "(TA1 note 021)"),
            (newco_invoice("000000511", "GLOBEX", 3, 1), "(AK905 code 5)"),
        ] {
            let report = ingest_x12(&pipeline, newco, &raw).await;
            assert_eq!(report.accepted.len(), 1, "{note}: {report:?}");
            assert!(report.rejects.is_empty(), "{note}: {report:?}");
            assert!(
                report.accepted[0].notes.iter().any(|n| n.ends_with(note)),
                "{report:?}"
            );
        }
        assert_eq!(rejected_rows(), 0);

        let first = newco_invoice("000000201", "GLOBEX", 1, 1);
        let second = first.replace("NC-201", "NC-202");
        let report = ingest_x12(&pipeline, newco, &format!("{first}{second}")).await;
        assert_eq!(
            (report.accepted.len(), report.rejects.len()),
            (1, 1),
            "{report:?}"
        );
        assert_eq!(rejected_rows(), 1);

        let report = ingest_x12(
            &pipeline,
            newco,
            &newco_invoice("000000803", "SOMEONEELSE", 1, 1),
        )
        .await;
        assert!(report.accepted.is_empty(), "{report:?}");
        assert_eq!(report.rejects.len(), 1, "{report:?}");
        assert!(
            report.rejects[0].message.contains("(TA1 note 008)"),
            "{report:?}"
        );
        assert_eq!(rejected_rows(), 2);
        let summary = ledger.partner_summaries().expect("summaries");
        let newco_summary = summary
            .iter()
            .find(|s| s.partner == "newco")
            .expect("newco");
        assert_eq!(
            (newco_summary.rejected, newco_summary.documents),
            (2, 5),
            "{summary:?}"
        );
    }

    /// A supplier's 997 that is itself broken (SE01 says 9, the set holds 8) is refused and
    /// not acted on: the PO it answers keeps its state, and the refusal is one `rejected`
    /// row saying the verdicts were not applied. The same 997 whole is applied.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_broken_partner_acknowledgment_is_refused_and_not_applied() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (pipeline, ledger, partners) = qa_pipeline(dir.path()).await;
        let acme = &partners[1];
        ledger
            .claim(&crate::ledger::NewDocument {
                idempotency_key: "po-2",
                doc_id: "po-2",
                adapter: "coupa-po",
                partner: "acme",
                kind: "purchase_order",
                number: "PO-2",
                business_key: None,
            })
            .expect("claim");
        ledger
            .record_x12_sent(
                "acme",
                "po-2",
                &[adapter_x12::SentSet {
                    interchange: "000000002".into(),
                    group: "2".into(),
                    set: "0001".into(),
                }],
            )
            .expect("sent");
        let broken = "ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*GLOBEXCORP     *261205*1500*U*00401*000000502*0*P*>~\n\
GS*FA*ACMESUPPLY*GLOBEXCORP*20261205*1500*502*X*004010~\nST*997*0001~\nAK1*PO*2~\n\
AK2*850*0001~\nAK3*PO1*11**8~\nAK4*4**7*100~\nAK5*R*5~\nAK9*R*1*1*0~\nSE*9*0001~\n\
GE*1*502~\nIEA*1*000000502~\n";
        let report = ingest_x12(&pipeline, acme, broken).await;
        assert!(report.acknowledgments.is_empty(), "{report:?}");
        assert_eq!(report.rejects.len(), 1, "{report:?}");
        assert!(
            report.rejects[0]
                .message
                .starts_with("acknowledgment rejected, its verdicts not applied: SE01 says"),
            "{report:?}"
        );
        let po = ledger.entry("po-2").expect("entry").expect("po");
        assert_eq!(
            (po.status.as_str(), po.partner_ack.as_str()),
            ("received", "")
        );
        let refused = ledger.list(None, Some("rejected"), 10).expect("list");
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert_eq!(
            (refused[0].kind.as_str(), refused[0].number.as_str()),
            ("unknown", "997 0001")
        );

        let whole = broken.replace("SE*9*0001", "SE*8*0001");
        let report = ingest_x12(&pipeline, acme, &whole).await;
        assert!(report.rejects.is_empty(), "{report:?}");
        assert_eq!(report.acknowledgments.len(), 1, "{report:?}");
        let po = ledger.entry("po-2").expect("entry").expect("po");
        assert_eq!(po.status, "partner_rejected", "{po:?}");
    }

    /// The bus confirmed an invoice but the ledger could not mark it `published` (a trigger
    /// refuses the update, as a failing disk would): a resend of the same interchange was taken
    /// over from the row left `received` and published a second time. Now the resend is told to
    /// send again while the mark is retried, the row becomes `published` once the ledger
    /// recovers, the resend after that is received before, and the bus holds the invoice once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_published_mark_never_lets_a_resend_publish_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (pipeline, ledger, partners) = qa_pipeline(dir.path()).await;
        let newco = &partners[0];
        let on_the_bus = || async {
            pipeline
                .bus
                .depth(crate::bus::COUPA_INVOICES)
                .await
                .expect("depth")
                .ready
        };
        let raw = rusqlite::Connection::open(dir.path().join("ledger.sqlite")).expect("open");
        raw.execute_batch(
            "CREATE TRIGGER published_fails BEFORE UPDATE OF status ON documents
             WHEN NEW.status = 'published' BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;",
        )
        .expect("trigger");

        let invoice = newco_invoice("000000901", "GLOBEX", 1, 1);
        let report = ingest_x12(&pipeline, newco, &invoice).await;
        assert_eq!(report.accepted.len(), 1, "{report:?}");
        let key = report.accepted[0].idempotency_key.clone();
        let status = || ledger.entry(&key).expect("entry").expect("row").status;
        assert_eq!(status(), "received");
        assert_eq!(on_the_bus().await, 1);

        let resend = || {
            pipeline.ingest(gateway_core::IngestRequest {
                raw: invoice.as_bytes(),
                adapter: "x12",
                format: Some(gateway_core::Format::X12),
                partner: Some(newco),
                source: None,
                files: &[],
                notes: &[],
            })
        };
        let refused = resend().await.expect_err("told to send again");
        assert!(refused.is_in_flight(), "{refused:?}");
        assert_eq!(on_the_bus().await, 1, "published again");
        assert_eq!(status(), "received");

        raw.execute_batch("DROP TRIGGER published_fails")
            .expect("recover");
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        while status() != "published" {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the row never became published"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let again = resend().await.expect("answered");
        assert!(again.accepted.is_empty(), "{again:?}");
        assert_eq!(again.duplicates.len(), 1, "{again:?}");
        assert_eq!(again.duplicates[0].status, "published");
        assert_eq!(on_the_bus().await, 1, "published again");
    }

    #[test]
    fn fingerprints_tell_contents_apart_and_are_stable() {
        assert_eq!(
            content_fingerprint(b"a,b\n1,2\n"),
            content_fingerprint(b"a,b\n1,2\n")
        );
        assert_ne!(
            content_fingerprint(b"a,b\n1,2\n"),
            content_fingerprint(b"a,b\n1,3\n")
        );
        // FNV-1a 128 of the empty input is its offset basis.
        assert_eq!(content_fingerprint(b""), "6c62272e07bb014262b821756295c58d");
    }
}
