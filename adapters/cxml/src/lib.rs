//! cXML: InvoiceDetailRequest and OrderRequest both ways, Responses, hardened parsing.
//!
//! Layout (one job per module):
//! - [`reader`]: bytes → bounded element tree; refuses entity tricks, never fetches anything.
//! - [`header`]: the cXML envelope (From/To/Sender credentials, SharedSecret, payloadID) and
//!   sender authentication against the partner profile.
//! - `decode`: tree → canonical [`gateway_model::Document`] (invoices and orders).
//! - `encode`: canonical → OrderRequest / InvoiceDetailRequest.
//! - [`response`]: cXML `Response/Status` documents and the status code for each outcome.
//! - [`CxmlCodec`]: the `Decode`/`Encode` implementation the server registers.

mod codec;
pub mod decode;
pub mod encode;
pub mod error;
pub mod header;
pub mod reader;
pub mod response;

pub use codec::CxmlCodec;
pub use encode::{CXML_VERSION, encode_invoice, encode_order};
pub use error::CxmlError;
pub use header::{AuthError, Credential, CxmlHeader, authenticate, header};
pub use reader::Limits;
pub use response::{Outcome, Status, status_for};
