//! The running gateway: ledger, bus, pipeline, HTTP listener, file drop, delivery consumers,
//! the Coupa PO poller and the watch on partner acknowledgments, started together and stopped
//! together (graceful shutdown: stop taking new work, finish what is in flight, close the bus).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::codecs::Codecs;
use crate::config::Config;
use crate::consumers::DeliveryHandler;
use crate::filedrop::FileDrop;
use crate::ledger::Ledger;
use crate::partners::Partners;
use crate::pipeline::Pipeline;
use crate::po_poller::{PoPoller, PoSource};
use crate::supplier::{CoupaSupplierProfiles, PoExporter, SupplierDelivery};
use futures::FutureExt;
use gateway_core::{Broker, Outbound};

/// A started gateway.
#[derive(Debug)]
pub struct Running {
    /// Where the HTTP endpoints listen (the real port when 0 was configured).
    pub http_addr: SocketAddr,
    pub scheme: &'static str,
    pub ledger: Arc<Ledger>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    /// Freed when the service is dropped, after its tasks stopped.
    _serve_lock: crate::serve_lock::ServeLock,
}

impl Running {
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.http_addr)
    }

    /// Asks every part to stop and waits until they did.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// A future that resolves when the stop flag is raised.
pub async fn stopped(mut rx: watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// The parts the service is built from, so tests and the demo can start it in-process.
pub struct Parts {
    pub config: Config,
    pub codecs: Codecs,
    pub bus: Arc<dyn Broker>,
    /// Coupa: where invoices go and POs come from. `None` runs the inbound side only.
    pub coupa: Option<CoupaParts>,
}

/// The Coupa side of the service.
pub struct CoupaParts {
    pub invoices: Arc<dyn Outbound>,
    pub exporter: Arc<dyn PoExporter>,
    pub po_source: Arc<dyn PoSource>,
    /// Profiles from Coupa supplier records, for suppliers without a `[[partners]]` entry.
    pub suppliers: Arc<dyn CoupaSupplierProfiles>,
    /// What `/readyz` asks about Coupa (reachable, and taking the gateway's credentials).
    pub readiness: Arc<dyn crate::pipeline::ReadinessCheck>,
}

impl std::fmt::Debug for CoupaParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoupaParts")
            .field("invoices", &self.invoices.name())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Parts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parts").finish_non_exhaustive()
    }
}

/// Most dead letters of one consumer read per reconciliation (the rest wait for the next change).
const RECONCILE_DEAD_LETTERS: usize = 1_000;

/// Marks dead in the ledger the dead letters of `consumer` whose rows still say they are on
/// their way. Failures are logged and left for the next change. Returns false when another
/// reader (an operator's `gateway dlq`) had the dead letters: this turn is skipped, not
/// waited for, and the next tick tries again.
async fn reconcile_dead_letters(bus: &dyn Broker, ledger: &Ledger, consumer: &str) -> bool {
    let all = gateway_core::DeadFilter::default();
    let read = bus.dead_letters(consumer, &all, RECONCILE_DEAD_LETTERS);
    let letters = match gateway_broker::with_dead_letter_wait(Duration::ZERO, read).await {
        Ok(l) => l,
        Err(e) if gateway_broker::is_busy(&e) => {
            tracing::debug!(
                consumer,
                "dead letters are being read elsewhere; reconciling next tick"
            );
            return false;
        }
        Err(e) => {
            tracing::warn!(consumer, error = %e, "cannot read dead letters to reconcile the ledger");
            return true;
        }
    };
    let pairs: Vec<(&str, &str)> = letters
        .iter()
        .map(|l| (l.doc_id.as_str(), l.reason.as_str()))
        .collect();
    match ledger.reconcile_dead_letters(&pairs) {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            consumer,
            documents = n,
            "dead letters the ledger still had on their way are now marked dead"
        ),
        Err(e) => tracing::warn!(consumer, error = %e, "cannot mark dead letters in the ledger"),
    }
    true
}

/// Starts the gateway: ledger, pipeline, HTTP, file drop and, with Coupa parts, the delivery
/// consumers and the PO poller.
pub async fn start(parts: Parts) -> anyhow::Result<(Running, Arc<Pipeline>)> {
    let Parts {
        config,
        codecs,
        bus,
        coupa,
    } = parts;
    let serve_lock = crate::serve_lock::ServeLock::take(&config.ledger.path)?;
    let ledger = Arc::new(Ledger::open(&config.ledger.path).context("opening the ledger")?);
    // A ledger SQLite could open only for reading opens; its first write fails. Found here,
    // naming the file, before anything is taken.
    ledger
        .probe_write()
        .context("the ledger cannot be written, so no document could be taken")?;
    // Nothing else claims in this ledger now: a row still `received` was left by a stop.
    match ledger.interrupt_unconfirmed() {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            documents = n,
            "documents the last run received but never confirmed to their senders are now marked interrupted (gateway documents --status interrupted); their senders should send them again"
        ),
        Err(e) => return Err(e).context("marking unconfirmed documents interrupted"),
    }
    let partners = Partners::new(config.partners.clone());
    let mut pipeline = Pipeline::new(codecs.clone(), partners, ledger.clone(), Arc::clone(&bus))
        .delivering_test_documents(config.coupa.test_instance)
        .with_publish_timeout(Duration::from_millis(config.bus.publish_timeout_ms))
        .with_attachment_store(gateway_core::AttachmentStore::new(config.attachments_dir()));
    let mut disk = crate::disk_space::DiskSpace::new(
        config.ledger.min_free_mb.saturating_mul(1024 * 1024),
        "[ledger] min_free_mb",
    )
    .watching("ledger", &config.ledger.path)
    .watching("attachments", &config.attachments_dir());
    if config.bus.amqp_url.is_none() {
        disk = disk.watching("embedded bus", &config.bus.embedded_path);
    }
    if config.ledger.min_free_mb > 0 {
        pipeline = pipeline.with_disk_space(disk);
    }
    pipeline = pipeline.with_readiness_check(Arc::new(crate::ledger_health::LedgerWrites::new(
        ledger.clone(),
    )));
    if let Some(c) = &coupa {
        pipeline = pipeline.with_readiness_check(Arc::clone(&c.readiness));
    }
    let pipeline = Arc::new(pipeline);
    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();

    let state = gateway_http::AppState::new(pipeline.clone(), ledger.clone(), ledger.clone());
    let tls = match (&config.http.tls_cert, &config.http.tls_key) {
        (Some(c), Some(k)) => Some(gateway_http::tls::server_config(c, k)?),
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let app = gateway_http::router(state, config.http.max_body_bytes)
        .merge(crate::protocols::routes(
            pipeline.clone(),
            &codecs,
            config.http.max_body_bytes,
        ))
        .layer(axum::Extension(crate::protocols::ListenerScheme(scheme)));
    let listener = TcpListener::bind(&config.http.listen)
        .await
        .with_context(|| format!("cannot listen on {} ([http] listen)", config.http.listen))?;
    let http_addr = listener.local_addr()?;
    let options = gateway_http::ServeOptions {
        tls,
        header_timeout: Duration::from_millis(config.http.header_timeout_ms),
        request_timeout: Duration::from_millis(config.http.request_timeout_ms),
        grace: Duration::from_secs(30),
        max_connections: config.http.max_connections,
    };
    tasks.spawn(gateway_http::serve(
        listener,
        app,
        options,
        stopped(stop_rx.clone()),
    ));
    tracing::info!(%http_addr, scheme, "HTTP endpoints listening");
    crate::inbound_credentials::warn_at_start(&config.partners);

    if let Some(fd) = &config.file_drop {
        let mut drop = FileDrop::new(fd.clone(), pipeline.clone());
        for (format, ack) in crate::protocols::acknowledgers(&codecs) {
            drop = drop.with_acknowledger(format, ack);
        }
        drop.prepare()
            .with_context(|| format!("creating landing folders under {}", fd.root.display()))?;
        tasks.spawn(drop.run(stopped(stop_rx.clone())));
        tracing::info!(root = %fd.root.display(), "file drop watching");
    }

    // One SMTP relay for POs mailed to suppliers, answers to quarantined mail and the
    // acknowledgments of partners' mailed X12.
    let mailer = match config.mailbox.as_ref().and_then(|m| m.smtp.as_ref()) {
        Some(smtp) => Some(Arc::new(
            adapter_email::SmtpMailer::new(smtp).context("[mailbox.smtp]")?,
        )),
        None => None,
    };
    let replies = config
        .mailbox
        .as_ref()
        .filter(|m| m.tell_senders)
        .and(mailer.clone())
        .map(crate::mailbox::SenderReplies::new);
    // Acknowledgment mails not yet taken by the relay wait beside the ledger, so a restart
    // sends them with the control numbers they were given; those an operator queued again
    // (`gateway acks resend`) are taken every poll interval.
    let x12_acks = mailer.clone().map(|m| {
        crate::mailbox::X12MailAcks::new(m).with_outbox(
            crate::ack_outbox::AckOutbox::of(&config)
                .dir()
                .to_path_buf(),
        )
    });
    if let Some(a) = &x12_acks {
        a.resume(ledger.clone());
        let every = config
            .mailbox
            .as_ref()
            .map_or(1_000, |m| m.poll_interval_ms.max(10));
        tasks.spawn(a.clone().take_resends(
            ledger.clone(),
            Duration::from_millis(every),
            stopped(stop_rx.clone()),
        ));
    }
    if let Some(mb) = &config.mailbox
        && let Some(root) = &mb.maildir
    {
        let mut mailbox = crate::mailbox::Mailbox::new(root.clone(), mb, pipeline.clone());
        if let Some(r) = &replies {
            mailbox = mailbox.with_replies(r.clone());
        }
        if let Some(a) = &x12_acks {
            mailbox = mailbox.with_x12_acks(a.clone());
        }
        mailbox
            .prepare()
            .with_context(|| format!("creating the Maildir folders under {}", root.display()))?;
        tasks.spawn(mailbox.run(stopped(stop_rx.clone())));
        tracing::info!(maildir = %root.display(), "mailbox watching");
    }
    if let Some(mb) = &config.mailbox
        && let Some(imap) = &mb.imap
    {
        let mut reader = crate::mailbox::ImapReader::new(imap.clone(), mb, pipeline.clone());
        if let Some(r) = &replies {
            reader = reader.with_replies(r.clone());
        }
        if let Some(a) = &x12_acks {
            reader = reader.with_x12_acks(a.clone());
        }
        tasks.spawn(reader.run(stopped(stop_rx.clone())));
        tracing::info!(host = %imap.host, mailbox = %imap.mailbox, "IMAP inbox watching");
    }

    {
        // Queue depth gauges for /metrics, refreshed every few seconds; and when a consumer's
        // dead letters change, the ledger rows of those still marked on their way are marked
        // dead (a letter no handler heard of: see `Ledger::reconcile_dead_letters`).
        let bus = Arc::clone(&bus);
        let ledger = ledger.clone();
        let stop = stopped(stop_rx.clone());
        tasks.spawn(async move {
            tokio::pin!(stop);
            let mut dead_seen: std::collections::HashMap<&str, u64> = Default::default();
            loop {
                for c in crate::bus::CONSUMERS {
                    if let Ok(d) = bus.depth(c).await {
                        let ready = i64::try_from(d.ready).unwrap_or(i64::MAX);
                        let dead = i64::try_from(d.dead).unwrap_or(i64::MAX);
                        let retrying = i64::try_from(d.retrying).unwrap_or(i64::MAX);
                        gateway_core::metrics::set_queue_depth(c, ready);
                        gateway_core::metrics::set_queue_depth(&format!("{c}.dead"), dead);
                        gateway_core::metrics::set_queue_depth(&format!("{c}.retrying"), retrying);
                        // A skipped turn leaves the count unseen, so the next tick tries.
                        if d.dead > 0
                            && dead_seen.get(c) != Some(&d.dead)
                            && !reconcile_dead_letters(bus.as_ref(), &ledger, c).await
                        {
                            continue;
                        }
                        dead_seen.insert(c, d.dead);
                    }
                }
                tokio::select! {
                    _ = &mut stop => return,
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                }
            }
        });
    }

    tasks.spawn(
        crate::ack_watch::AckWatch::new(ledger.clone(), Partners::new(config.partners.clone()))
            .run(crate::ack_watch::CHECK_EVERY, stopped(stop_rx.clone())),
    );

    if config.retention.interval_ms > 0 {
        tasks.spawn(crate::retention::run(
            config.clone(),
            ledger.clone(),
            Duration::from_millis(config.retention.interval_ms),
            stopped(stop_rx.clone()),
        ));
    }

    if let Some(coupa) = coupa {
        let partners = Partners::new(config.partners.clone());
        let supplier = SupplierDelivery::new(
            partners.clone(),
            codecs.clone(),
            ledger.clone(),
            Duration::from_millis(config.coupa.supplier_timeout_ms),
            Some(Arc::clone(&coupa.exporter)),
        )
        .context("building the HTTP client for supplier delivery")?
        .with_coupa_suppliers(Arc::clone(&coupa.suppliers))
        .with_payload_ids(crate::supplier::PayloadIds::new(
            &config.coupa.base_url,
            config.coupa.payload_id_host.as_deref(),
        ));
        let supplier = match &mailer {
            Some(m) => supplier.with_mailer(Arc::clone(m)),
            None => supplier,
        };
        let consumers: [(&str, Arc<dyn Outbound>); 2] = [
            (crate::bus::COUPA_INVOICES, coupa.invoices),
            (crate::bus::SUPPLIER_ORDERS, Arc::new(supplier)),
        ];
        for (name, target) in consumers {
            let handler = Arc::new(DeliveryHandler::new(target, ledger.clone()));
            let bus = Arc::clone(&bus);
            let stop = stopped(stop_rx.clone()).boxed();
            tasks.spawn(async move {
                if let Err(e) = bus.consume(name, handler, stop).await {
                    tracing::error!(consumer = name, error = %e, "consumer stopped");
                }
            });
        }
        if let Some(p) = &config.po_poller {
            let poller = PoPoller::new(coupa.po_source, partners, ledger.clone(), Arc::clone(&bus))
                .with_coupa_suppliers(coupa.suppliers)
                .with_exporter(coupa.exporter);
            tasks.spawn(poller.run(
                Duration::from_millis(p.interval_ms),
                stopped(stop_rx.clone()),
            ));
        }
    }

    Ok((
        Running {
            http_addr,
            scheme,
            ledger,
            stop,
            tasks,
            _serve_lock: serve_lock,
        },
        pipeline,
    ))
}

/// `gateway serve`: opens the bus, connects Coupa, starts everything and runs until Ctrl-C or
/// SIGTERM, then stops gracefully.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let bus = crate::bus::open(&config.bus, crate::bus::Role::Server).await?;
    let coupa = crate::coupa_link::parts(&config)?;
    // Two partners that are one Coupa supplier by different keys: only Coupa can tell, so it
    // is asked in the background; each pair is logged as an error.
    let check = config.clone();
    tokio::spawn(async move {
        if let Err(e) = crate::coupa_link::check_partner_suppliers(&check).await {
            tracing::warn!(error = %e, "cannot check whether two partners are one Coupa supplier");
        }
    });
    // X12 control numbers live beside the ledger so they survive restarts.
    let state_dir = config.state_dir();
    let (running, _pipeline) = start(Parts {
        config,
        codecs: Codecs::with_x12_control_numbers_in(&state_dir.join("x12-control")),
        bus,
        coupa: Some(coupa),
    })
    .await?;
    tracing::info!(url = %running.base_url(), "gateway running; Ctrl-C to stop");
    shutdown_signal().await;
    tracing::info!("stopping: finishing work in flight");
    running.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;
    use futures::future::BoxFuture;
    use gateway_core::{Delivered, Envelope, Handler, Message, Outcome, SourceMeta};
    use gateway_model::DocumentKind;

    use super::*;
    use crate::bus::{COUPA_INVOICES, Role};
    use crate::config::BusConfig;
    use crate::ledger::{NewDocument, Status};

    /// Answers every delivery with a dead letter and records nothing: a letter the service's
    /// handler never heard of, as when RabbitMQ parks one itself.
    struct Parks(tokio::sync::mpsc::UnboundedSender<String>);

    impl Handler for Parks {
        fn handle<'a>(&'a self, m: &'a Delivered) -> BoxFuture<'a, Outcome> {
            let _ = self.0.send(m.envelope.doc_id.clone());
            async move {
                Outcome::Dead {
                    reason: "supplier not found in Coupa".into(),
                }
            }
            .boxed()
        }
    }

    /// A dead letter whose ledger row still says `published` is marked dead with the dead
    /// letter's reason; a row already delivered is left alone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dead_letters_the_ledger_has_on_their_way_are_marked_dead() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let cfg = BusConfig {
            embedded_path: dir.path().join("bus.sqlite"),
            ..BusConfig::default()
        };
        let bus = crate::bus::open(&cfg, Role::Server)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        let ledger =
            Ledger::open(&dir.path().join("ledger.sqlite")).unwrap_or_else(|e| panic!("{e}"));
        let mut ids = Vec::new();
        for (number, status) in [("INV-1", Status::Published), ("INV-2", Status::Delivered)] {
            let env = Envelope::inbound(
                DocumentKind::Invoice,
                "rest",
                Some("acme".into()),
                SourceMeta::default(),
            );
            ledger
                .claim(&NewDocument {
                    idempotency_key: &env.idempotency_key,
                    doc_id: &env.doc_id,
                    adapter: "rest",
                    partner: "acme",
                    kind: "invoice",
                    number,
                    business_key: None,
                })
                .unwrap_or_else(|e| panic!("{e}"));
            ledger
                .set_status(&env.idempotency_key, status, "")
                .unwrap_or_else(|e| panic!("{e}"));
            ids.push(env.doc_id.clone());
            bus.publish(&[Message {
                envelope: env,
                body: b"{}".to_vec(),
            }])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let consumer = {
            let bus = Arc::clone(&bus);
            tokio::spawn(async move {
                bus.consume(
                    COUPA_INVOICES,
                    Arc::new(Parks(tx)),
                    stop_rx.map(|_| ()).boxed(),
                )
                .await
            })
        };
        for _ in 0..2 {
            tokio::time::timeout(Duration::from_secs(30), rx.recv())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while bus.depth(COUPA_INVOICES).await.map(|d| d.dead).unwrap_or(0) < 2 {
            assert!(tokio::time::Instant::now() < deadline, "not dead-lettered");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = stop_tx.send(());
        let _ = consumer.await;

        assert!(reconcile_dead_letters(bus.as_ref(), &ledger, COUPA_INVOICES).await);
        let row = |id: &str| {
            ledger
                .search(&crate::ledger::DocumentFilter {
                    limit: 10,
                    ..Default::default()
                })
                .unwrap_or_else(|e| panic!("{e}"))
                .into_iter()
                .find(|e| e.doc_id == id)
                .unwrap_or_else(|| panic!("no row {id}"))
        };
        let first = row(&ids[0]);
        assert_eq!(first.status, Status::Dead.as_str(), "{first:?}");
        assert!(
            first.detail.contains("supplier not found in Coupa"),
            "{first:?}"
        );
        assert_eq!(row(&ids[1]).status, Status::Delivered.as_str());
    }
}
