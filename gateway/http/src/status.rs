//! `GET /api/v1/documents/{id}` and `GET /api/v1/documents?number=N`: a partner asks what
//! became of what it sent (or was sent), with the same bearer token it posts with. A supplier's
//! system can follow an invoice from "accepted" to "delivered to Coupa" (or to the reason it
//! was not) without mailing the buyer's operators; it sees only its own documents.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::AppState;
use crate::rest::{authenticate, error, json_response, unauthorized};

/// Most documents one list answer holds.
pub const MAX_LIST: u32 = 500;

/// What a partner may know of one of its documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentStatus {
    pub doc_id: String,
    pub kind: String,
    pub number: String,
    /// `received`, `published` (accepted, on its way), `delivered`, `dead` (not delivered; the
    /// buyer's operators have the reason in `detail` and can replay it), `rejected`,
    /// `partner_rejected` (a PO the partner's own 997/999 refused), or `interrupted` (the
    /// gateway stopped before the partner was told it was accepted: it should send it again).
    pub status: String,
    pub detail: String,
    /// The partner's 997/999 verdict on a document sent to it, when one came.
    pub partner_ack: String,
    /// What the gateway accepted but noticed (an X12 set accepted with errors, totals that do
    /// not add up): worth fixing on the sender's side.
    pub notes: Vec<String>,
    /// Where in what it sent the document was (`line 12, interchange 000000042, group 1, set
    /// 0001`; a dropped file's name first), so the partner can find it in its own records.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// The files kept with it (its PDF copy), `name (size bytes, sha256 hex)`, so the partner
    /// can check they arrived whole.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
    pub received_at: String,
    pub updated_at: String,
    /// For a purchase order sent to the partner: which version of the buyer's PO the row is,
    /// and whether it is the order, a change or the cancellation. A PO's versions and its
    /// cancellation share one number and often one status, so without it a partner could not
    /// tell which of them went.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_order: Option<PoVersion>,
}

/// Which version of a buyer's purchase order a document is, and what it is to the supplier
/// ([`PoPurpose`]); `resend` numbers an operator's resend of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PoVersion {
    pub version: u32,
    pub purpose: PoPurpose,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resend: Option<u32>,
}

/// What one version of a purchase order is to its supplier, as the buyer's system made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PoPurpose {
    /// The first version: the order itself.
    Order,
    /// A later version: a change of the order.
    Change,
    /// The buyer cancelled the order (at the version named).
    Cancellation,
}

impl PoPurpose {
    /// The word the JSON uses, for text.
    pub fn as_str(self) -> &'static str {
        match self {
            PoPurpose::Order => "order",
            PoPurpose::Change => "change",
            PoPurpose::Cancellation => "cancellation",
        }
    }
}

/// `version 2: change`, `version 1: order, resend 3`: how operators' listings name it.
impl std::fmt::Display for PoVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "version {}: {}", self.version, self.purpose.as_str())?;
        if let Some(n) = self.resend {
            write!(f, ", resend {n}")?;
        }
        Ok(())
    }
}

/// Where statuses come from (the ledger in the service).
pub trait DocumentLookup: Send + Sync {
    /// `partner`'s documents, newest first: the one with doc id `doc_id`, or those numbered
    /// `number`, or (with neither) the latest `limit`.
    fn documents(
        &self,
        partner: &str,
        doc_id: Option<&str>,
        number: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DocumentStatus>, String>;
}

fn lookup_failed(e: &str) -> Response {
    let id = crate::correlation_id();
    tracing::error!(adapter = "rest", correlation_id = %id, error = %e, "document lookup failed");
    crate::unavailable(error(
        StatusCode::SERVICE_UNAVAILABLE,
        &format!("temporarily unavailable, retry (correlation id {id})"),
    ))
}

/// `GET /api/v1/documents/{id}`: one document by the doc id `POST` answered with.
pub async fn get_document(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(partner) = authenticate(&state, &headers) else {
        return unauthorized(&headers);
    };
    match state.documents.documents(&partner.id, Some(&id), None, 1) {
        Ok(found) => match found.into_iter().next() {
            Some(d) => json_response(StatusCode::OK, &json!(d)),
            None => error(
                StatusCode::NOT_FOUND,
                &format!(
                    "no document {id} from or to partner {}; use the doc_id the POST answered with",
                    partner.id
                ),
            ),
        },
        Err(e) => lookup_failed(&e),
    }
}

/// Query of `GET /api/v1/documents`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    number: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/documents?number=INV-1&limit=20`: the partner's documents, newest first.
pub async fn list_documents(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let Some(partner) = authenticate(&state, &headers) else {
        return unauthorized(&headers);
    };
    let Ok(Query(q)) = query else {
        return error(
            StatusCode::BAD_REQUEST,
            &format!(
                "bad query: `number` is a document number and `limit` a whole number from 1 to {MAX_LIST}, for example ?number=INV-1&limit=20"
            ),
        );
    };
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_LIST);
    match state
        .documents
        .documents(&partner.id, None, q.number.as_deref(), limit)
    {
        Ok(found) => json_response(StatusCode::OK, &json!({ "documents": found })),
        Err(e) => lookup_failed(&e),
    }
}
