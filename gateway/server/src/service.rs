//! The running gateway: ledger, bus, pipeline, HTTP listener, file drop, delivery consumers and
//! the Coupa PO poller, started together and stopped together (graceful shutdown: stop taking
//! new work, finish what is in flight, close the bus).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::codecs::Codecs;
use crate::config::Config;
use crate::filedrop::FileDrop;
use crate::ledger::Ledger;
use crate::partners::Partners;
use crate::pipeline::{Pipeline, Publisher};

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
    pub publisher: Arc<dyn Publisher>,
}

impl std::fmt::Debug for Parts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parts").finish_non_exhaustive()
    }
}

/// Starts the inbound side: ledger, pipeline, HTTP, file drop.
pub async fn start_inbound(parts: Parts) -> anyhow::Result<(Running, Arc<Pipeline>)> {
    let Parts {
        config,
        codecs,
        publisher,
    } = parts;
    let ledger = Arc::new(
        Ledger::open(&config.ledger.path)
            .with_context(|| format!("opening the ledger at {}", config.ledger.path.display()))?,
    );
    let partners = Partners::new(config.partners.clone());
    let pipeline = Arc::new(Pipeline::new(
        codecs.clone(),
        partners,
        ledger.clone(),
        publisher,
    ));
    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();

    let state = gateway_http::AppState::new(pipeline.clone(), ledger.clone());
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
