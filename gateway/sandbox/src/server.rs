//! Starting and stopping the sandbox, its shared state, the router and the fault middleware.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use gateway_core::Secret;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::faults::{Action, FaultSpec, Faults};
use crate::ratelimit::ServerLimit;
use crate::reply;
use crate::store::{
    LoggedRequest, ReceivedOrder, ReceivedStatusUpdate, SandboxStats, Snapshot, Store,
};
use crate::{admin, attachments, auth, cxml, invoices, purchase_orders, suppliers};

/// Every scope the sandbox knows; the default client holds them all.
pub const ALL_SCOPES: &[&str] = &[
    "core.common.read",
    "core.invoice.read",
    "core.invoice.write",
    "core.invoice.create",
    "core.purchase_order.read",
    "core.purchase_order.write",
    "core.supplier.read",
    "core.supplier.write",
];

/// Why the sandbox could not start or stop. Not retryable except a busy port.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The address is taken or not ours; another port may work.
    /// (The I/O error is in the message, not a `source`, so a `{:#}` chain does not print
    /// it twice.)
    #[error("cannot bind {addr}: {cause}")]
    Bind {
        addr: SocketAddr,
        cause: std::io::Error,
    },
    /// The snapshot file could not be read, parsed or written; fix the file or path.
    #[error("snapshot {path}: {message}")]
    Snapshot { path: String, message: String },
    /// The server task failed.
    #[error("sandbox server failed: {0}")]
    Serve(String),
}

/// An OAuth client the sandbox accepts.
#[derive(Debug, Clone)]
pub struct SandboxClient {
    pub client_id: String,
    pub client_secret: Secret,
    /// Scopes this client may request.
    pub scopes: Vec<String>,
}

impl SandboxClient {
    /// The default demo client: `sandbox-client` / `sandbox-secret`, every scope.
    pub fn demo() -> Self {
        SandboxClient {
            client_id: "sandbox-client".into(),
            client_secret: Secret::new("sandbox-secret"),
            scopes: ALL_SCOPES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// How to run the sandbox.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Where to listen; `None` = `127.0.0.1:0` (a free port).
    pub addr: Option<SocketAddr>,
    pub clients: Vec<SandboxClient>,
    /// Lifetime of issued tokens (Coupa: 86,399 s).
    pub token_ttl: Duration,
    /// A token used sooner than this after it was issued is refused with 401 (Coupa: "wait
    /// at least 5 seconds after generating a token before using it"). Zero (the default)
    /// accepts it at once.
    pub token_activation: Duration,
    /// How long a `hang` / `commit_then_drop` request stays unanswered (or until shutdown).
    pub hang_for: Duration,
    /// Load state from this JSON file at start (when it exists) and save it at shutdown.
    pub snapshot: Option<PathBuf>,
    /// Seed files (`{"suppliers": [..], "purchase_orders": [..]}`, Coupa JSON), inserted at
    /// start after the snapshot with the same validation as the admin API.
    pub seed_files: Vec<PathBuf>,
    /// Enforce `(requests per second, burst)` on `/api/` routes with 429 + `Retry-After: 1`;
    /// `None` (default) = no limit. Coupa publishes 25/s with a burst of 20.
    pub rate_limit: Option<(u32, u32)>,
    /// Create a second invoice under a supplier's used number instead of refusing it, as a
    /// Coupa instance without the duplicate check would: only the gateway's own guard then
    /// stands between a repeated invoice and a double payment. Off by default.
    pub accept_duplicate_invoice_numbers: bool,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            addr: None,
            clients: vec![SandboxClient::demo()],
            token_ttl: Duration::from_secs(86_399),
            token_activation: Duration::ZERO,
            hang_for: Duration::from_secs(120),
            snapshot: None,
            seed_files: Vec::new(),
            rate_limit: None,
            accept_duplicate_invoice_numbers: false,
        }
    }
}

/// State shared by every handler.
#[derive(Debug)]
pub struct Shared {
    store: Mutex<Store>,
    faults: Mutex<Faults>,
    limit: Option<Mutex<ServerLimit>>,
    pub clients: Vec<SandboxClient>,
    pub token_ttl: Duration,
    pub token_activation: Duration,
    pub hang_for: Duration,
    shutdown: watch::Receiver<bool>,
}

pub type SharedState = Arc<Shared>;

impl Shared {
    /// The store; a poisoned lock is taken over (the data is plain records).
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits `hang_for` or until shutdown, whichever comes first.
    async fn hang(&self) {
        let mut rx = self.shutdown.clone();
        tokio::select! {
            _ = tokio::time::sleep(self.hang_for) => {}
            _ = rx.wait_for(|stop| *stop) => {}
        }
    }
}

/// The entry point: [`Sandbox::start`].
#[derive(Debug)]
pub struct Sandbox;

impl Sandbox {
    /// Binds (default `127.0.0.1:0`) and serves in a background task.
    pub async fn start(opts: SandboxOptions) -> Result<SandboxHandle, SandboxError> {
        let mut store = match &opts.snapshot {
            Some(path) if path.exists() => Store::from_snapshot(load_snapshot(path)?),
            _ => Store::default(),
        };
        for path in &opts.seed_files {
            seed_from(&mut store, path)?;
        }
        store.accept_duplicate_numbers = opts.accept_duplicate_invoice_numbers;
        let addr = opts
            .addr
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|cause| SandboxError::Bind { addr, cause })?;
        let local = listener
            .local_addr()
            .map_err(|cause| SandboxError::Bind { addr, cause })?;
        let (tx, rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            faults: Mutex::new(Faults::default()),
            limit: opts
                .rate_limit
                .map(|(rate, burst)| Mutex::new(ServerLimit::new(rate, burst))),
            clients: opts.clients.clone(),
            token_ttl: opts.token_ttl,
            token_activation: opts.token_activation,
            hang_for: opts.hang_for,
            shutdown: rx.clone(),
        });
        let app = router(shared.clone());
        let mut stop = rx;
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .await
                .map_err(|e| SandboxError::Serve(e.to_string()))
        });
        tracing::info!(addr = %local, "coupa sandbox listening");
        Ok(SandboxHandle {
            addr: local,
            shared,
            stop: tx,
            task: Some(task),
            snapshot: opts.snapshot,
        })
    }
}

/// Inserts a seed file's suppliers, then its purchase orders (which may name a supplier by
/// id, number or name).
fn seed_from(store: &mut Store, path: &PathBuf) -> Result<(), SandboxError> {
    let seed = load_snapshot(path)?;
    let err = |message: String| SandboxError::Snapshot {
        path: path.display().to_string(),
        message,
    };
    for (i, s) in seed.suppliers.into_iter().enumerate() {
        crate::suppliers::insert(store, s).map_err(|e| err(format!("suppliers[{i}]: {e}")))?;
    }
    for (i, p) in seed.purchase_orders.into_iter().enumerate() {
        crate::purchase_orders::insert(store, p)
            .map_err(|e| err(format!("purchase_orders[{i}]: {e}")))?;
    }
    Ok(())
}

fn load_snapshot(path: &PathBuf) -> Result<Snapshot, SandboxError> {
    let err = |message: String| SandboxError::Snapshot {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| err(e.to_string()))
}

fn router(shared: SharedState) -> Router {
    Router::new()
        .route("/oauth2/token", post(auth::token))
        .route("/api/invoices", get(invoices::list).post(invoices::create))
        .route(
            "/api/invoices/{id}",
            get(invoices::show).put(invoices::update),
        )
        .route("/api/invoices/{id}/submit", put(invoices::submit))
        .route(
            "/api/invoices/{id}/attachments",
            get(attachments::list).post(attachments::create).layer(
                axum::extract::DefaultBodyLimit::max(attachments::MAX_UPLOAD_BYTES + 64 * 1024),
            ),
        )
        .route(
            "/api/suppliers",
            get(suppliers::list).post(suppliers::create),
        )
        .route("/api/suppliers/{id}", get(suppliers::show))
        .route("/api/purchase_orders", get(purchase_orders::list))
        .route(
            "/api/purchase_orders/{id}",
            get(purchase_orders::show)
                .put(purchase_orders::update)
                .patch(purchase_orders::update),
        )
        .route("/cxml/invoices", post(cxml::invoice))
        .route("/supplier/{name}/cxml", post(cxml::supplier_order))
        .route(
            "/sandbox/faults",
            post(admin::add_fault).delete(admin::clear_faults),
        )
        .route("/sandbox/latency", post(admin::set_latency))
        .route("/sandbox/state", get(admin::state))
        .route("/sandbox/tokens/expire", post(admin::expire_tokens))
        .route("/sandbox/suppliers", post(admin::seed_supplier))
        .route("/sandbox/purchase_orders", post(admin::seed_purchase_order))
        .route(
            "/sandbox/purchase_orders/{id}/revise",
            post(admin::revise_purchase_order),
        )
        .route(
            "/sandbox/purchase_orders/{id}/cancel",
            post(admin::cancel_purchase_order),
        )
        .route("/sandbox/received", get(admin::received))
        .route("/sandbox/status-updates", get(admin::status_updates))
        .layer(middleware::from_fn_with_state(shared.clone(), faults_layer))
        .with_state(shared)
}

/// Applies latency and scripted faults to every non-admin route, and logs what was served.
async fn faults_layer(State(s): State<SharedState>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    if path.starts_with("/sandbox/") {
        return next.run(req).await;
    }
    let (latency, mut action) = {
        let mut f = s.faults();
        // Matched with the query, so a fault can hit one PO's read (`?id=7`).
        let target = req
            .uri()
            .path_and_query()
            .map_or(path.as_str(), |p| p.as_str());
        (f.latency(), f.take(&method, target, Instant::now()))
    };
    if action == Action::Pass
        && path.starts_with("/api/")
        && let Some(limit) = &s.limit
        && !limit
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .check(Instant::now())
    {
        action = Action::TooMany { retry_after: 1 };
    }
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let response = match action {
        Action::Pass => next.run(req).await,
        Action::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            reply::error(status, "request", "Unexpected server error (sandbox fault)")
        }
        Action::TooMany { retry_after } => reply::too_many(retry_after),
        Action::Redirect { status, location } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::TEMPORARY_REDIRECT);
            match axum::http::HeaderValue::from_str(&location) {
                Ok(to) => (status, [(axum::http::header::LOCATION, to)]).into_response(),
                Err(_) => reply::error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "request",
                    "redirect fault: the location is not a valid header value",
                ),
            }
        }
        Action::Hang => {
            s.store().log(&method, &path, 0);
            s.hang().await;
            return reply::error(StatusCode::GATEWAY_TIMEOUT, "request", "hung (fault)");
        }
        Action::CommitThenDrop => {
            let committed = next.run(req).await;
            s.store().log(&method, &path, committed.status().as_u16());
            s.hang().await;
            return reply::error(StatusCode::GATEWAY_TIMEOUT, "request", "dropped (fault)");
        }
        Action::ThenRevise { purchase_order } => {
            let answered = next.run(req).await;
            purchase_orders::revise(&mut s.store(), purchase_order);
            answered
        }
    };
    s.store().log(&method, &path, response.status().as_u16());
    response
}

/// A running sandbox: its address, inspection and seeding helpers, faults, and shutdown.
#[derive(Debug)]
pub struct SandboxHandle {
    addr: SocketAddr,
    shared: SharedState,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<Result<(), SandboxError>>>,
    snapshot: Option<PathBuf>,
}

impl SandboxHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`, the instance URL a client is configured with.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The demo client id and secret (when the default client is configured).
    pub fn client(&self) -> Option<SandboxClient> {
        self.shared.clients.first().cloned()
    }

    pub fn invoices(&self) -> Vec<Value> {
        self.shared.store().invoices.clone()
    }

    /// The files on the invoices numbered `number` (any supplier), oldest first.
    pub fn invoice_files(&self, number: &str) -> Vec<crate::StoredAttachment> {
        let store = self.shared.store();
        let ids: Vec<u64> = store
            .invoices
            .iter()
            .filter(|i| i.get("invoice-number").and_then(Value::as_str) == Some(number))
            .map(crate::store::id_of)
            .collect();
        store
            .attachments
            .iter()
            .filter(|a| ids.contains(&a.invoice_id))
            .cloned()
            .collect()
    }

    /// Whether an invoice numbered `number` was submitted (`pending_approval`): delivery is
    /// over, its files were attached before.
    pub fn invoice_submitted(&self, number: &str) -> bool {
        self.shared.store().invoices.iter().any(|i| {
            i.get("invoice-number").and_then(Value::as_str) == Some(number)
                && i.get("status").and_then(Value::as_str) == Some("pending_approval")
        })
    }

    /// The files on the invoice with this Coupa id, oldest first.
    pub fn invoice_attachments(&self, invoice_id: u64) -> Vec<crate::StoredAttachment> {
        self.shared
            .store()
            .attachments
            .iter()
            .filter(|a| a.invoice_id == invoice_id)
            .cloned()
            .collect()
    }

    pub fn purchase_orders(&self) -> Vec<Value> {
        self.shared.store().purchase_orders.clone()
    }

    /// Whether the PO numbered `po_number` is marked exported.
    pub fn purchase_order_exported(&self, po_number: &str) -> bool {
        self.shared
            .store()
            .purchase_orders
            .iter()
            .any(|p| p["po-number"] == po_number && p["exported"] == true)
    }

    pub fn suppliers(&self) -> Vec<Value> {
        self.shared.store().suppliers.clone()
    }

    /// cXML OrderRequests received by test suppliers (`POST /supplier/<name>/cxml`).
    pub fn supplier_received(&self) -> Vec<ReceivedOrder> {
        self.shared.store().received.clone()
    }

    /// cXML StatusUpdateRequests about invoices received by test suppliers (same endpoint).
    pub fn supplier_status_updates(&self) -> Vec<ReceivedStatusUpdate> {
        self.shared.store().status_updates.clone()
    }

    /// Every invoice's number in store order, without copying the records: cheap enough for
    /// a watcher (the load tool) to call several times a second on a large store.
    pub fn invoice_numbers(&self) -> Vec<String> {
        self.shared
            .store()
            .invoices
            .iter()
            .filter_map(|i| i.get("invoice-number").and_then(|n| n.as_str()))
            .map(str::to_string)
            .collect()
    }

    pub fn stats(&self) -> SandboxStats {
        self.shared.store().stats.clone()
    }

    /// The last requests served (at most 10,000), oldest first; status 0 = hung.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared.store().log.iter().cloned().collect()
    }

    /// Adds a supplier (Coupa JSON, dashed keys); returns its id.
    pub fn add_supplier(&self, supplier: Value) -> Result<u64, String> {
        suppliers::insert(&mut self.shared.store(), supplier)
    }

    /// Adds a purchase order (Coupa JSON); returns its id.
    pub fn add_purchase_order(&self, po: Value) -> Result<u64, String> {
        purchase_orders::insert(&mut self.shared.store(), po)
    }

    /// A new PO version, as a buyer's change would make: `version` + 1, `exported` false.
    pub fn revise_purchase_order(&self, id: u64) -> bool {
        purchase_orders::revise(&mut self.shared.store(), id)
    }

    /// The buyer cancels a PO: `status` cancelled, `exported` false, the version kept.
    pub fn cancel_purchase_order(&self, id: u64) -> bool {
        purchase_orders::cancel(&mut self.shared.store(), id)
    }

    pub fn inject(&self, fault: FaultSpec) -> bool {
        self.shared.faults().add(fault)
    }

    /// How invoice numbers in another letter case compare from now on, in lookups and in the
    /// create's duplicate check ([`crate::store::InvoiceNumberCase`]; Coupa does not say).
    pub fn set_invoice_number_case(&self, case: crate::store::InvoiceNumberCase) {
        self.shared.store().number_case = case;
    }

    pub fn set_latency(&self, latency: Duration) {
        self.shared.faults().set_latency(latency);
    }

    pub fn clear_faults(&self) {
        self.shared.faults().clear();
    }

    /// Makes every issued token expire now (the next call answers 401).
    pub fn expire_tokens(&self) {
        admin::expire_all(&self.shared);
    }

    /// Stops serving (hanging requests are released), saves the snapshot when configured.
    pub async fn shutdown(mut self) -> Result<(), SandboxError> {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.await
                .map_err(|e| SandboxError::Serve(e.to_string()))??;
        }
        if let Some(path) = &self.snapshot {
            let snap = self.shared.store().snapshot();
            let text = serde_json::to_string_pretty(&snap).map_err(|e| SandboxError::Snapshot {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            std::fs::write(path, text).map_err(|e| SandboxError::Snapshot {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
        }
        Ok(())
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
