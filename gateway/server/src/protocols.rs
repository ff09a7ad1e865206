//! Protocol endpoints (`POST /cxml`, `POST /x12`) and acknowledgment writers, wired from the
//! format adapters built into this binary. Both answer only after the bus confirmed what they
//! accepted; a failure of the gateway's own (the bus, the ledger: the answer names which) is
//! an HTTP 503 with Retry-After (inside, cXML code 500) so the sender retries. A body over
//! `max_body_bytes` gets 413 in the endpoint's format (a cXML Response, plain text for X12)
//! stating the limit, and one that did not arrive within `[http] request_timeout_ms` gets 408
//! naming it (nothing taken of either); a body posted to `/x12` without an interchange gets 400 saying what it
//! looks like and where it goes.
//!
//! Each authenticates the partner by a credential of its profile, and a partner without one is
//! refused with 401 (`crate::inbound_credentials`): `/cxml` by the `[partners.cxml]
//! shared_secret`, `/x12` by the `api_token` of the partner the ISA names, sent as
//! `Authorization: Bearer`.

use std::sync::Arc;

use adapter_cxml::response::{self, Outcome};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gateway_core::{Format, IngestReport, IngestRequest, PartnerProfile};
use tracing::Instrument;

use crate::codecs::Codecs;
use crate::filedrop::Acknowledger;
use crate::pipeline::Pipeline;
use crate::x12_senders::X12Senders;

/// What the protocol handlers share: the pipeline and the body limit their 413 states.
#[derive(Clone)]
struct Endpoints {
    pipeline: Arc<Pipeline>,
    max_body: usize,
}

/// The scheme the service's listener speaks (`https` with `[http] tls_cert`), as an extension
/// of its requests: an HTTP/1.1 request line names no scheme, and a ProfileResponse must name
/// the URL a partner posts to. A proxy's `X-Forwarded-Proto` still wins (it may end TLS).
#[derive(Debug, Clone, Copy)]
pub struct ListenerScheme(pub &'static str);

/// The protocol routes for the formats this build has.
pub fn routes(pipeline: Arc<Pipeline>, _codecs: &Codecs, max_body: usize) -> Router {
    Router::new()
        .route("/cxml", axum::routing::post(post_cxml))
        .route("/x12", axum::routing::post(post_x12))
        .with_state(Endpoints { pipeline, max_body })
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn(gateway_http::count_oversized))
}

/// Acknowledgment writers by input format (X12 997/999/TA1), numbered with the control
/// numbers of the partner whose folder the file came from.
pub fn acknowledgers(codecs: &Codecs) -> Vec<(Format, Acknowledger)> {
    let codecs = codecs.clone();
    let x12: Acknowledger = Arc::new(move |raw: &[u8], partner: &PartnerProfile| {
        let ack = x12_ack(&codecs, raw, partner);
        (!ack.is_empty()).then_some(ack)
    });
    vec![(Format::X12, x12)]
}

/// The 997/999/TA1 bytes for an inbound interchange, numbered by the codec's control numbers:
/// the one way every channel (`POST /x12`, the file drop, the mailbox) acknowledges X12, so
/// a partner's acknowledgments share its counter whichever way it sent. Empty when there is
/// nothing to acknowledge or it cannot be built (logged).
pub(crate) fn x12_ack(codecs: &Codecs, raw: &[u8], partner: &PartnerProfile) -> Vec<u8> {
    match codecs.x12().acknowledge(raw, partner) {
        Ok(a) => a.bytes,
        Err(e) => {
            tracing::error!(adapter = "x12", error = %e, "cannot build the acknowledgment");
            Vec::new()
        }
    }
}

fn cxml_answer(outcome: Outcome, message: Option<String>) -> Response {
    let mut status = response::status_for(outcome);
    if let Some(m) = message {
        status = status.with_message(m);
    }
    cxml_status_answer(&status)
}

/// A cXML Response carrying `status`, under the HTTP status it maps to.
fn cxml_status_answer(status: &response::Status) -> Response {
    let body = response::build(status, "coupa-gateway");
    let code = StatusCode::from_u16(status.http_status()).unwrap_or(StatusCode::OK);
    (
        code,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// What an ingest report means for a cXML sender.
fn cxml_outcome(report: &IngestReport) -> (Outcome, Option<String>) {
    if !report.accepted.is_empty() {
        let ids: Vec<&str> = report.accepted.iter().map(|a| a.doc_id.as_str()).collect();
        let mut message = format!("accepted as {}", ids.join(", "));
        let files: Vec<&str> = report
            .accepted
            .iter()
            .flat_map(|a| a.attachments.iter().map(String::as_str))
            .collect();
        if !files.is_empty() {
            message.push_str(&format!(", with {}", files.join(", ")));
        }
        // What the sender may want to fix, said to it (also in the ledger).
        let notes: Vec<&str> = report
            .accepted
            .iter()
            .flat_map(|a| a.notes.iter().map(String::as_str))
            .collect();
        if !notes.is_empty() {
            message.push_str(&format!("; noted: {}", notes.join(" | ")));
        }
        let clipped: String = message.chars().take(2000).collect();
        return (Outcome::Ok, Some(clipped));
    }
    if let Some(d) = report.duplicates.first() {
        return (
            Outcome::DuplicatePayload,
            Some(format!(
                "payloadID already received as document {} ({})",
                d.doc_id, d.status
            )),
        );
    }
    let text = report
        .rejects
        .iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join("; ");
    if report
        .rejects
        .iter()
        .any(|r| r.message.contains("not yet mapped"))
    {
        return (Outcome::NotImplemented, Some(text));
    }
    if report.rejects.iter().any(|r| {
        r.message.starts_with(crate::pipeline::TEST_DOCUMENT)
            || r.message
                .starts_with(gateway_core::cancellation::CANCELLATION)
    }) {
        return (Outcome::BadRequest, Some(text));
    }
    (Outcome::NotParseable, Some(text))
}

async fn post_cxml(
    State(endpoints): State<Endpoints>,
    listener: Option<axum::Extension<ListenerScheme>>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let pipeline = &endpoints.pipeline;
    let body = match body {
        Ok(b) => b,
        Err(rejection) => {
            // In the endpoint's own format: a cXML Response whose Status carries the HTTP code.
            let (code, reason) = gateway_http::body_refused("cxml", &rejection, endpoints.max_body);
            let status = response::Status::new(
                code.as_u16(),
                code.canonical_reason().unwrap_or("Bad Request"),
                Some(reason),
            );
            return cxml_status_answer(&status);
        }
    };
    // A cXML invoice with its files (Coupa's way: multipart/related, the cXML as the start
    // part, each file a part the cXML names by `cid:`).
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut notes = Vec::new();
    let (body, files) = if adapter_email::related::is_related(content_type) {
        let limits = adapter_email::Limits {
            max_message_bytes: body.len().max(1),
            ..adapter_email::Limits::default()
        };
        match adapter_email::related::split_related(content_type, &body, &limits) {
            Ok(split) => {
                if !split.missing.is_empty() {
                    notes.push(format!(
                        "the cXML names {} but the request carries no part with that Content-ID: the invoice goes without it; attach the file to the invoice in Coupa (sent again under the same payloadID, the invoice is a duplicate and its files are not read)",
                        split
                            .missing
                            .iter()
                            .map(|m| format!("cid:{m}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                (Bytes::from(split.root), split.files)
            }
            Err(why) => {
                gateway_http::count_refused("cxml");
                return cxml_answer(
                    Outcome::NotParseable,
                    Some(format!("multipart/related body refused: {why}")),
                );
            }
        }
    } else {
        // A cXML sent on its own that names files by `cid:` cannot carry them: say so, as
        // for a multipart body missing its parts (it went without a word).
        let named = adapter_email::related::cid_references(&body);
        if !named.is_empty() {
            notes.push(format!(
                "the cXML names {} but was sent on its own, not as multipart/related with its files: the invoice goes without them; attach them to the invoice in Coupa",
                named
                    .iter()
                    .map(|m| format!("cid:{m}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        (body, Vec::new())
    };
    let hdr = match adapter_cxml::header(&body) {
        Ok(h) => h,
        Err(e) => {
            gateway_http::count_refused("cxml");
            return cxml_answer(Outcome::of_error(&e), Some(e.to_string()));
        }
    };
    let partner = hdr
        .from
        .iter()
        .find_map(|c| pipeline.partners().by_sender(Format::Cxml, &c.key()));
    let Some(partner) = partner else {
        let from: Vec<String> = hdr.from.iter().map(|c| c.key()).collect();
        gateway_http::count_refused("cxml");
        return cxml_answer(
            Outcome::BadCredentials,
            Some(format!(
                "unknown sender {}: no partner profile has these From credentials",
                from.join(", ")
            )),
        );
    };
    if let Err(e) = adapter_cxml::authenticate(&hdr, partner) {
        tracing::warn!(partner = %partner.id, adapter = "cxml", error = %e, "cXML sender refused");
        gateway_http::count_refused("cxml");
        return cxml_answer(Outcome::of_auth(&e), Some(e.to_string()));
    }
    if hdr.is_profile_request() {
        return cxml_profile_answer(&partner.id, &headers, &uri, listener.map(|l| l.0));
    }
    let span = tracing::info_span!("cxml.post", partner = %partner.id, adapter = "cxml");
    let result = pipeline
        .ingest(IngestRequest {
            raw: &body,
            adapter: "cxml",
            format: Some(Format::Cxml),
            partner: Some(partner),
            source: None,
            files: &files,
            notes: &notes,
        })
        .instrument(span)
        .await;
    match result {
        Ok(report) => {
            let (outcome, message) = cxml_outcome(&report);
            cxml_answer(outcome, message)
        }
        Err(e) => {
            let id = gateway_http::correlation_id();
            let reason = gateway_http::not_taken_reason(&e);
            log_not_taken("cxml", &id, &e, reason);
            // HTTP 503 + Retry-After for HTTP clients; the cXML body keeps code 500, the cXML
            // code senders (Coupa among them) retry on.
            gateway_http::unavailable(cxml_answer(
                Outcome::Internal,
                Some(format!(
                    "{}(ref {id})",
                    not_taken_answer(&e, reason, "retry later")
                )),
            ))
        }
    }
}

/// The answer to an authenticated ProfileRequest (cXML's "which requests do you take, and
/// where", which every cXML server answers): a ProfileResponse naming the URL the request was
/// posted to. Nothing is published or recorded: it is not a document. Answered 406 before,
/// as a document the gateway does not map.
fn cxml_profile_answer(
    partner: &str,
    headers: &axum::http::HeaderMap,
    uri: &axum::http::Uri,
    listener: Option<ListenerScheme>,
) -> Response {
    let Some(url) = posted_url(headers, uri, listener) else {
        return cxml_answer(
            Outcome::BadRequest,
            Some("a ProfileResponse names the URL the ProfileRequest was posted to, read from its Host header, and the request has none that names a host: send it with one".into()),
        );
    };
    tracing::info!(partner, adapter = "cxml", %url, "cXML ProfileRequest answered");
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=utf-8"),
        )],
        response::profile_response(&url, "coupa-gateway"),
    )
        .into_response()
}

/// The URL a request was posted to: its scheme (the request line's, else a proxy's
/// `X-Forwarded-Proto`, else `http`), its host (the request line's, else the `Host` header,
/// only when it is a host with an optional port) and its path. `None` without a host.
fn posted_url(
    headers: &axum::http::HeaderMap,
    uri: &axum::http::Uri,
    listener: Option<ListenerScheme>,
) -> Option<String> {
    let authority = match uri.authority() {
        Some(a) => a.clone(),
        None => headers
            .get(header::HOST)?
            .to_str()
            .ok()?
            .trim()
            .parse::<axum::http::uri::Authority>()
            .ok()?,
    };
    // A user name is no part of where a partner posts.
    if authority.as_str().contains('@') || authority.host().is_empty() {
        return None;
    }
    let forwarded = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|p| p.eq_ignore_ascii_case("https") || p.eq_ignore_ascii_case("http"))
        .map(str::to_ascii_lowercase);
    let scheme = uri
        .scheme_str()
        .map(str::to_string)
        .or(forwarded)
        .unwrap_or_else(|| listener.map_or("http", |l| l.0).into());
    Some(format!("{scheme}://{authority}{}", uri.path()))
}

/// A refusal of `POST /x12` before anything was taken: logged with what was found, counted,
/// and answered in plain text.
fn refuse_x12(status: StatusCode, found: &str, answer: String) -> Response {
    tracing::warn!(adapter = "x12", %found, %status, reason = %answer, "X12 post refused");
    gateway_http::count_refused("x12");
    (status, format!("{answer}\n")).into_response()
}

async fn post_x12(
    State(endpoints): State<Endpoints>,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let pipeline = &endpoints.pipeline;
    let body = match body {
        Ok(b) => b,
        Err(rejection) => {
            let (status, reason) =
                gateway_http::body_refused("x12", &rejection, endpoints.max_body);
            return (status, format!("{reason}\n")).into_response();
        }
    };
    // As /cxml refuses unknown From credentials. The partner the acknowledgment is for (and
    // numbered by), whatever becomes of the sets: a 997 rejecting every set still continues
    // that partner's control numbers. One POST answers one partner: an interchange from anyone
    // else is refused before anything is taken, with no 997 (it would say "accepted" to a
    // sender whose documents are never delivered, or be numbered by another partner's counter).
    let partner = match crate::x12_senders::x12_senders(pipeline.partners(), &body) {
        X12Senders::One(p) => p.clone(),
        // No interchange header at all: nothing this endpoint can take or acknowledge (a 200
        // with an empty body would look like success to the sender).
        X12Senders::NoInterchange => {
            let found = not_x12(&body);
            return refuse_x12(
                StatusCode::BAD_REQUEST,
                &found,
                format!(
                    "expected an X12 interchange starting with ISA; {found}. Nothing was accepted"
                ),
            );
        }
        X12Senders::Unknown(unknown) => {
            let unknown = unknown.join(", ");
            return refuse_x12(
                StatusCode::FORBIDDEN,
                &unknown,
                format!(
                    "unknown sender {unknown}: no partner profile names this ISA05:ISA06; nothing was accepted. Send with the interchange ids agreed with the buyer, or ask its operators to add a partner with these [x12] ids"
                ),
            );
        }
        X12Senders::Several(senders) => {
            let senders = senders.join(", ");
            return refuse_x12(
                StatusCode::FORBIDDEN,
                &senders,
                format!(
                    "interchanges from several partners ({senders}) in one request; nothing was accepted. Send each partner's interchanges in a request of their own"
                ),
            );
        }
    };
    // The ISA ids are on every interchange the partner sends: the partner's own token says
    // it is the partner (a profile without one takes no X12 over HTTP).
    if let Err(refusal) = crate::inbound_credentials::check_x12_token(&headers, &partner) {
        let mut refused = refuse_x12(StatusCode::UNAUTHORIZED, &partner.id, refusal.to_string());
        refused.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            gateway_http::bearer_challenge(&headers),
        );
        return refused;
    }
    let result = pipeline
        .ingest(IngestRequest {
            raw: &body,
            adapter: "x12",
            format: Some(Format::X12),
            // Every interchange is this partner's (checked above): what cannot be read is
            // kept under it too.
            partner: Some(&partner),
            source: None,
            files: &[],
            notes: &[],
        })
        .await;
    match result {
        Ok(report) => {
            for r in &report.rejects {
                tracing::warn!(adapter = "x12", reject = %r, "X12 input rejected");
            }
            let ack = x12_ack(pipeline.codecs(), &body, &partner);
            if ack.is_empty()
                && report.accepted.is_empty()
                && report.duplicates.is_empty()
                && report.acknowledgments.is_empty()
            {
                // An interchange header, but nothing in it the gateway could take or answer.
                let why: Vec<String> = report.rejects.iter().map(|r| r.to_string()).collect();
                return (
                    StatusCode::BAD_REQUEST,
                    format!(
                        "nothing to acknowledge: no interchange in this request could be read or answered ({}). Nothing was accepted\n",
                        if why.is_empty() {
                            "nothing could be read".to_string()
                        } else {
                            why.join("; ").chars().take(2000).collect()
                        }
                    ),
                )
                    .into_response();
            }
            let mut resp = (StatusCode::OK, ack).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/edi-x12"),
            );
            if let Ok(v) = HeaderValue::from_str(&format!(
                "accepted={}; duplicates={}; rejected={}; acknowledgments={}",
                report.accepted.len(),
                report.duplicates.len(),
                report.rejects.len(),
                report.acknowledgments.len()
            )) {
                resp.headers_mut().insert("x-gateway-result", v);
            }
            resp
        }
        Err(e) => {
            let id = gateway_http::correlation_id();
            let reason = gateway_http::not_taken_reason(&e);
            log_not_taken("x12", &id, &e, reason);
            gateway_http::unavailable(
                format!("{}(ref {id})\n", not_taken_answer(&e, reason, "send again"))
                    .into_response(),
            )
        }
    }
}

/// What a sender is told when its request was not taken (`e`, `reason` its words for the
/// sender, `again` the endpoint's words for retrying), before the correlation id. Either is
/// retryable (HTTP 503 with `Retry-After`, a cXML Status 500). Most often nothing was
/// accepted: the bus or the ledger did not take it. But when another request is taking the
/// same document right now (parallel copies of one POST), or the bus has not confirmed it yet
/// and may still, it may well be taken: "nothing was accepted" made senders think the
/// document was lost, and then their retry was told 409 duplicate. The retry's answer says
/// whether it was taken.
fn not_taken_answer(e: &gateway_core::IngestError, reason: &str, again: &str) -> String {
    if e.may_be_taken() {
        format!("{reason}; retry shortly and the answer will say whether it was taken ")
    } else {
        format!("temporarily unavailable: {reason}; nothing was accepted, {again} ")
    }
}

/// Logs a request not taken: an error, except a copy of a document another request is taking
/// right now, which is the sender's parallel retry, not the gateway's trouble.
fn log_not_taken(adapter: &str, id: &str, e: &gateway_core::IngestError, reason: &str) {
    if e.is_in_flight() {
        tracing::info!(adapter, correlation_id = %id, error = %e, "post answered retry: {reason}");
    } else {
        tracing::error!(adapter, correlation_id = %id, error = %e, "post not taken over: {reason}");
    }
}

/// What a body posted to `/x12` that holds no interchange looks like, and where it goes
/// instead, for the 400 answer.
fn not_x12(body: &[u8]) -> String {
    if body.iter().all(u8::is_ascii_whitespace) {
        return "the body is empty".into();
    }
    match gateway_core::detect_format(body) {
        Format::Cxml => "this looks like XML — cXML goes to /cxml".into(),
        Format::Json => "this looks like JSON — canonical JSON goes to /api/v1/documents".into(),
        Format::Email => {
            "this looks like a mail message — mail goes to the gateway's mailbox".into()
        }
        Format::X12 => {
            "it starts with ISA, but not with an interchange header the gateway can read (ISA \
             is 16 elements, 106 characters with its terminator)"
                .into()
        }
        _ => {
            let start = String::from_utf8_lossy(body.get(..40).unwrap_or(body));
            let start: String = start.trim_start().chars().take(20).collect();
            format!("it starts with {start:?}")
        }
    }
}
