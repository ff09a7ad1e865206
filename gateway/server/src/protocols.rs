//! Protocol endpoints (`POST /cxml`, `POST /x12`) and acknowledgment writers, wired from the
//! format adapters built into this binary.

use std::sync::Arc;

use axum::Router;
use gateway_core::Format;

use crate::codecs::Codecs;
use crate::filedrop::Acknowledger;
use crate::pipeline::Pipeline;

/// The protocol routes for the formats this build has.
pub fn routes(_pipeline: Arc<Pipeline>, _codecs: &Codecs, _max_body: usize) -> Router {
    Router::new()
}

/// Acknowledgment writers by input format (X12 997/999/TA1).
pub fn acknowledgers(_codecs: &Codecs) -> Vec<(Format, Acknowledger)> {
    Vec::new()
}
