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

/// Starts the gateway: ledger, pipeline, HTTP, file drop and, with Coupa parts, the delivery
/// consumers and the PO poller.
pub async fn start(parts: Parts) -> anyhow::Result<(Running, Arc<Pipeline>)> {
    let Parts {
        config,
        codecs,
        bus,
        coupa,
    } = parts;
    let ledger = Arc::new(
        Ledger::open(&config.ledger.path)
            .with_context(|| format!("opening the ledger at {}", config.ledger.path.display()))?,
    );
    let partners = Partners::new(config.partners.clone());
    let mut pipeline = Pipeline::new(codecs.clone(), partners, ledger.clone(), Arc::clone(&bus))
        .delivering_test_documents(config.coupa.test_instance)
        .with_publish_timeout(Duration::from_millis(config.bus.publish_timeout_ms))
        .with_attachment_store(gateway_core::AttachmentStore::new(config.attachments_dir()));
    if coupa.is_some() {
        pipeline = pipeline.with_readiness_check(Arc::new(crate::coupa_link::CoupaReachable::new(
            &config.coupa.base_url,
        )?));
    }
    let pipeline = Arc::new(pipeline);
    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();

    let state = gateway_http::AppState::new(pipeline.clone(), ledger.clone(), ledger.clone());
    let app = gateway_http::router(state, config.http.max_body_bytes).merge(
        crate::protocols::routes(pipeline.clone(), &codecs, config.http.max_body_bytes),
    );
    let tls = match (&config.http.tls_cert, &config.http.tls_key) {
        (Some(c), Some(k)) => Some(gateway_http::tls::server_config(c, k)?),
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
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

    // One SMTP relay for POs mailed to suppliers and answers to quarantined mail.
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
    if let Some(mb) = &config.mailbox
        && let Some(root) = &mb.maildir
    {
        let mut mailbox = crate::mailbox::Mailbox::new(root.clone(), mb, pipeline.clone());
        if let Some(r) = &replies {
            mailbox = mailbox.with_replies(r.clone());
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
        tasks.spawn(reader.run(stopped(stop_rx.clone())));
        tracing::info!(host = %imap.host, mailbox = %imap.mailbox, "IMAP inbox watching");
    }

    {
        // Queue depth gauges for /metrics, refreshed every few seconds.
        let bus = Arc::clone(&bus);
        let stop = stopped(stop_rx.clone());
        tasks.spawn(async move {
            tokio::pin!(stop);
            loop {
                for c in crate::bus::CONSUMERS {
                    if let Ok(d) = bus.depth(c).await {
                        let ready = i64::try_from(d.ready).unwrap_or(i64::MAX);
                        let dead = i64::try_from(d.dead).unwrap_or(i64::MAX);
                        let retrying = i64::try_from(d.retrying).unwrap_or(i64::MAX);
                        gateway_core::metrics::set_queue_depth(c, ready);
                        gateway_core::metrics::set_queue_depth(&format!("{c}.dead"), dead);
                        gateway_core::metrics::set_queue_depth(&format!("{c}.retrying"), retrying);
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
            Duration::from_millis(config.coupa.timeout_ms),
            Some(coupa.exporter),
        )
        .context("building the HTTP client for supplier delivery")?
        .with_coupa_suppliers(Arc::clone(&coupa.suppliers));
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
                .with_coupa_suppliers(coupa.suppliers);
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
        },
        pipeline,
    ))
}

/// `gateway serve`: opens the bus, connects Coupa, starts everything and runs until Ctrl-C or
/// SIGTERM, then stops gracefully.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let bus = crate::bus::open(&config.bus, crate::bus::Role::Server).await?;
    let coupa = crate::coupa_link::parts(&config)?;
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
