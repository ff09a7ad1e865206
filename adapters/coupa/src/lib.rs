//! Coupa Core API client: OAuth2, invoices, purchase orders, suppliers, duplicate guard.
//!
//! Module map:
//! - [`config`]: [`CoupaClientConfig`]; [`client`]: [`CoupaClient`] (HTTP, token cache, rate
//!   limiter, retry loop); [`token`] (OAuth client credentials), [`rate`] (token bucket),
//!   [`backoff`] (jittered exponential backoff, `Retry-After`), [`transport`] (one exchange,
//!   status → [`CoupaError`]);
//! - operations: [`invoices`] (create, submit, find, `deliver_invoice` with the duplicate
//!   guard; [`invoice_diff`] tells a resend from another invoice under a used number),
//!   [`suppliers`] (cached lookups), [`purchase_orders`] (`exported=false` paging,
//!   mark exported), [`cxml`] (cXML invoice delivery);
//! - [`mapping`]: pure canonical ↔ Coupa JSON functions;
//! - [`outbound`]: [`CoupaInvoiceDelivery`], the `gateway_core::Outbound` for Coupa.
//!
//! Secrets and tokens are [`gateway_core::Secret`]s and never logged.

pub mod attachments;
pub mod backoff;
pub mod client;
pub mod config;
pub mod cxml;
pub mod error;
pub mod invoice_diff;
pub mod invoices;
pub mod mapping;
pub mod outbound;
pub mod purchase_orders;
pub mod rate;
pub mod stats;
pub mod suppliers;
pub mod token;
pub mod transport;

pub use attachments::CoupaAttachment;
pub use client::CoupaClient;
pub use config::CoupaClientConfig;
pub use cxml::CxmlStatus;
pub use error::{CoupaError, OPERATOR_ADVICE, TokenCheck, TokenRefusal, what_happened};
pub use gateway_core::profile::CoupaSupplierRef;
pub use invoices::{CoupaInvoice, InvoiceOutcome};
pub use mapping::{InvoiceMapping, SupplierKey, invoice_to_coupa, purchase_order_from_coupa};
pub use outbound::{CoupaInvoiceDelivery, DeliveryPreview, SharedSupplier};
pub use purchase_orders::{PoQuery, PulledOrder};
pub use stats::ClientStats;
pub use suppliers::{CoupaSupplier, SupplierPoChannel, SupplierPoCxml};
