//! A Coupa Core API emulator with fault injection, and a test supplier endpoint.
//!
//! The demo, the tests and the benches talk to it over real HTTP, so the client under test is
//! the one shipped. It keeps Coupa's published behaviour where documented (see `README.md` in
//! this crate for which behaviours are documented and which are our assumptions):
//! - `POST /oauth2/token` (client credentials, space-separated scopes, expiring tokens, 401 on a
//!   bad or expired token, scopes enforced per route);
//! - `/api/invoices` (create as draft with Coupa-like validation and duplicate supplier +
//!   invoice number refused with 400 `{"errors": {"invoice": [..]}}`, submit, show, list);
//! - `/api/suppliers`, `/api/purchase_orders` (`exported=false`, `offset` paging of 50,
//!   operators `attr[op]=v`, `return_object=shallow`, `PUT ?exported=true`, versions);
//! - `/cxml/invoices` (cXML Response codes 200/401/403/406/417);
//! - `/supplier/<name>/cxml`, a supplier's cXML endpoint recording OrderRequests and the
//!   StatusUpdateRequests about its invoices (`/sandbox/status-updates`);
//! - `/sandbox/*`, the admin API: faults (`status`, `rate_limit`, `storm`, `hang`,
//!   `commit_then_drop`, `redirect`, `then_revise`), latency, token expiry, seeding,
//!   inspection.
//!
//! Module map: [`server`] (start, handle, router, fault middleware), [`faults`], [`query`]
//! (filters and paging), [`store`], [`auth`], [`invoices`], [`suppliers`],
//! [`purchase_orders`], [`cxml`], [`admin`], [`demo`] (seed data and the CLI entry point).

pub mod admin;
pub mod attachments;
pub mod auth;
pub mod cxml;
pub mod demo;
pub mod faults;
pub mod index;
pub mod invoices;
pub mod purchase_orders;
pub mod query;
pub mod ratelimit;
pub mod reply;
pub mod server;
pub mod store;
pub mod suppliers;

pub use attachments::StoredAttachment;
pub use demo::{CliOptions, run_cli};
pub use faults::{FaultKind, FaultSpec};
pub use server::{ALL_SCOPES, Sandbox, SandboxClient, SandboxError, SandboxHandle, SandboxOptions};
pub use store::{
    InvoiceNumberCase, LoggedRequest, ReceivedOrder, ReceivedStatusUpdate, SandboxStats,
};
