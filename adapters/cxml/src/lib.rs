//! cXML: InvoiceDetailRequest and OrderRequest both ways, Responses, hardened parsing.
//!
//! Layout (one job per module):
//! - [`reader`]: bytes → bounded element tree; refuses entity declarations and unknown
//!   entities, never fetches a DTD or entity, bounds size, depth, element, attribute and text
//!   counts, and locates every error by XML path plus line and column.
//! - [`mod@header`]: the cXML envelope (From/To/Sender credentials, SharedSecret as a
//!   [`gateway_core::Secret`], payloadID, timestamp) and [`authenticate`] against the profile.
//! - [`decode`]: tree → canonical [`gateway_model::Document`] (InvoiceDetailRequest → invoice,
//!   OrderRequest → purchase order) with the envelope as [`gateway_core::SourceMeta`];
//!   ConfirmationRequest and ShipNoticeRequest give a located "not yet mapped" reject.
//! - [`encode`]: canonical → OrderRequest / InvoiceDetailRequest (pinned [`CXML_VERSION`]),
//!   and the StatusUpdateRequest that tells a supplier what became of its invoice
//!   ([`encode_invoice_status_update`]).
//! - [`response`]: cXML `Response/Status` documents and [`status_for`] each [`Outcome`]; the
//!   `ProfileResponse` a `ProfileRequest` gets ([`response::profile_response`]).
//! - `carried`: the canonical fields cXML has no element for (some charge descriptions, an
//!   order line's amount), carried in Extrinsics both ways.
//! - `left_out`: what the cXML writer has no place for (a charge's code, a shipping charge's
//!   rate, a service line's ship-to, part of a payment-term tier read from X12), named for
//!   `Encode::left_out`.
//! - `source_path`: where a canonical path is in the cXML a document was decoded from (the
//!   element or attribute, the line's `invoiceLineNumber`, the XML line), for problems.
//! - [`CxmlCodec`]: the `Decode`/`Encode` pair the server registers.
//!
//! The HTTP handler's order of calls: [`header()`] → [`authenticate`] (401 on failure) →
//! `CxmlCodec::decode` (406/450 for rejects, see [`Outcome::of_error`]) → publish → answer with
//! [`response::build`]`(&status_for(outcome), host)`. A `ProfileRequest`
//! ([`CxmlHeader::is_profile_request`]) is answered after [`authenticate`] with
//! [`response::profile_response`]`(url posted to, host)`, and not decoded.

mod carried;
mod codec;
pub mod decode;
pub mod encode;
pub mod error;
pub mod header;
mod left_out;
pub mod reader;
pub mod response;
mod source_path;

pub use codec::CxmlCodec;
pub use encode::{
    CXML_VERSION, InvoiceStatusKind, InvoiceStatusUpdate, encode_invoice,
    encode_invoice_status_update, encode_order,
};
pub use error::CxmlError;
pub use header::{AuthError, Credential, CxmlHeader, authenticate, header};
pub use reader::Limits;
pub use response::{Outcome, Status, status_for};
