//! `/api/invoices/:id/attachments`: files on an invoice, as Coupa's Attachments API takes them
//! (`multipart/form-data` with `attachment[file]`, `attachment[type]=file`,
//! `attachment[intent]`) and lists them (`id`, `type`, `intent`, `file`, `file-file-size`,
//! `file-url`). At most ten per invoice, as Coupa allows.

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use crate::auth::authorize;
use crate::reply;
use crate::server::SharedState;

const READ: &[&str] = &["core.invoice.read", "core.invoice.write"];
const CREATE: &[&str] = &["core.invoice.create", "core.invoice.write"];
/// Coupa's limit on attachments per invoice.
pub const MAX_PER_INVOICE: usize = 10;
/// Largest upload taken (Coupa's documented total for an invoice's files is 8 MB).
pub const MAX_UPLOAD_BYTES: usize = 8 * 1024 * 1024;

/// A file the sandbox holds on an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAttachment {
    pub id: u64,
    pub invoice_id: u64,
    pub file_name: String,
    pub content_type: String,
    pub intent: Option<String>,
    pub size: u64,
    /// Lower-case hex SHA-256 of the bytes, so a test can tell the file arrived whole.
    pub sha256: String,
    pub created_at: String,
}

impl StoredAttachment {
    /// As Coupa's API shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": "AttachmentFile",
            "intent": self.intent,
            "file": format!("/attachment_files/{}/{}", self.id, self.file_name),
            "file-file-size": self.size.to_string(),
            "file-url": format!("/attachment_files/{}/{}", self.id, self.file_name),
            "created-at": self.created_at,
            "updated-at": self.created_at,
        })
    }
}

fn not_found() -> Response {
    reply::error(
        StatusCode::NOT_FOUND,
        "invoice",
        "No results match your search criteria.",
    )
}

fn refused(message: &str) -> Response {
    reply::error(StatusCode::UNPROCESSABLE_ENTITY, "attachment", message)
}

/// The invoice id of the path, once the caller holds one of `scopes`. The error is the
/// answer to send, as [`authorize`]'s is.
#[allow(clippy::result_large_err)]
fn invoice_id(
    s: &SharedState,
    headers: &HeaderMap,
    scopes: &[&str],
    id: &str,
) -> Result<u64, Response> {
    authorize(s, headers, scopes)?;
    Ok(id.parse().unwrap_or(0))
}

/// `GET /api/invoices/:id/attachments`.
pub async fn list(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let id = match invoice_id(&s, &headers, READ, &id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let mut store = s.store();
    if store.invoice_position(id).is_none() {
        return not_found();
    }
    let items: Vec<Value> = store
        .attachments
        .iter()
        .filter(|a| a.invoice_id == id)
        .map(StoredAttachment::to_json)
        .collect();
    reply::json(StatusCode::OK, Value::Array(items))
}

/// `POST /api/invoices/:id/attachments`.
pub async fn create(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    mut form: Multipart,
) -> Response {
    let id = match invoice_id(&s, &headers, CREATE, &id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let mut kind = None;
    let mut intent = None;
    let mut file = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return refused(&format!("unreadable form: {e}")),
        };
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "attachment[type]" => kind = field.text().await.ok(),
            "attachment[intent]" => intent = field.text().await.ok(),
            "attachment[file]" => {
                let file_name = field.file_name().unwrap_or("").to_string();
                let content_type = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_string();
                match field.bytes().await {
                    Ok(b) => file = Some((file_name, content_type, b)),
                    Err(e) => return refused(&format!("unreadable file: {e}")),
                }
            }
            _ => {}
        }
    }
    if kind.as_deref() != Some("file") {
        return refused("attachment[type] must be file, text or url; only file is emulated");
    }
    let Some((file_name, content_type, bytes)) = file.filter(|(n, _, _)| !n.trim().is_empty())
    else {
        return refused("attachment[file] with a file name is required");
    };
    let mut store = s.store();
    if store.invoice_position(id).is_none() {
        return not_found();
    }
    let held = store
        .attachments
        .iter()
        .filter(|a| a.invoice_id == id)
        .count();
    if held >= MAX_PER_INVOICE {
        return refused(&format!(
            "an invoice takes at most {MAX_PER_INVOICE} attachments"
        ));
    }
    let attachment = StoredAttachment {
        id: store.next_id(),
        invoice_id: id,
        file_name,
        content_type,
        intent,
        size: bytes.len() as u64,
        sha256: gateway_core::sha256_hex(&bytes),
        created_at: chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S+00:00")
            .to_string(),
    };
    let body = attachment.to_json();
    store.attachments.push(attachment);
    reply::json(StatusCode::CREATED, body)
}
