//! What can go wrong talking to Coupa, and whether trying again can help.

use std::time::Duration;

/// Longest OAuth `error_description` kept from a token refusal.
const MAX_DESCRIPTION: usize = 200;

/// What to fix when Coupa refuses the token request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCheck {
    /// The client id or secret (`invalid_client`, `unauthorized_client`, a bare 401).
    Credentials,
    /// The scopes asked for (`invalid_scope`): the API client in Coupa lacks one.
    Scopes,
    /// Coupa did not say which: the client id, secret and scopes.
    All,
}

/// Coupa's token endpoint refused the client credentials request: its status and the OAuth
/// `error` code and `error_description` it gave. Holds nothing of the request (never the
/// secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRefusal {
    pub status: u16,
    /// OAuth `error` (`invalid_client`, `invalid_scope`, ...), when the answer had one.
    pub code: Option<String>,
    /// OAuth `error_description`, clipped, when the answer had one.
    pub description: Option<String>,
}

impl TokenRefusal {
    /// Reads the OAuth error answer `body` (`{"error": .., "error_description": ..}`); a body
    /// that is not one leaves both empty.
    pub fn from_answer(status: u16, body: &str) -> Self {
        let v: Option<serde_json::Value> = serde_json::from_str(body).ok();
        let text = |k: &str| {
            v.as_ref()
                .and_then(|v| v.get(k))
                .and_then(serde_json::Value::as_str)
                .map(|s| s.trim().chars().take(MAX_DESCRIPTION).collect::<String>())
                .filter(|s| !s.is_empty())
        };
        TokenRefusal {
            status,
            code: text("error"),
            description: text("error_description"),
        }
    }

    /// What to fix, from the OAuth error code.
    pub fn check(&self) -> TokenCheck {
        match self.code.as_deref() {
            Some("invalid_scope") => TokenCheck::Scopes,
            Some("invalid_client" | "unauthorized_client") => TokenCheck::Credentials,
            None if self.status == 401 => TokenCheck::Credentials,
            _ => TokenCheck::All,
        }
    }

    /// The status and code, as `401 invalid_client`.
    pub fn summary(&self) -> String {
        match &self.code {
            Some(c) => format!("{} {c}", self.status),
            None => self.status.to_string(),
        }
    }
}

impl std::fmt::Display for TokenRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Coupa refused the token request ({}", self.summary())?;
        if let Some(d) = &self.description {
            write!(f, ": {d}")?;
        }
        let check = match self.check() {
            TokenCheck::Credentials => {
                "the Coupa client_id and client_secret (a secret rotated in Coupa?)"
            }
            TokenCheck::Scopes => "the Coupa scopes: the API client in Coupa must grant each one",
            TokenCheck::All => "the Coupa client_id, client_secret and scopes",
        };
        // The check is the operator's to make, after the marker a supplier's notice cuts at.
        write!(
            f,
            "): the gateway's credentials, not the document, retried until they are fixed.{OPERATOR_ADVICE}check {check}"
        )
    }
}

/// A Coupa call failed. [`CoupaError::is_retryable`] says whether the same call may succeed
/// later; [`CoupaError::is_ambiguous`] says whether Coupa may have acted on it anyway.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoupaError {
    /// The configuration is unusable (bad URL, zero rate). Permanent.
    #[error("configuration: {0}")]
    Config(String),
    /// The token endpoint refused our client credentials or scopes (any 4xx but 429). That is
    /// the gateway's configuration (a wrong client id, a secret rotated in Coupa, a scope the
    /// API client lacks), never the document: retryable, so a delivery waits in the retry
    /// tiers until the credentials are fixed; but not retried within a call
    /// ([`CoupaError::is_retryable_now`]), where it fails the same way every time.
    #[error("{0}")]
    TokenRefused(TokenRefusal),
    /// 401 even with a fresh token. Retryable: the token endpoint took our credentials, so
    /// this is Coupa's side settling (a token not yet active, a secret being rotated); a
    /// dead letter for every invoice in flight would cost an operator a replay each.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 403: the token lacks the scope for this call. Permanent.
    #[error("forbidden (missing scope?): {0}")]
    Forbidden(String),
    /// 429. Retryable, after `retry_after` when Coupa said.
    #[error("rate limited by Coupa{}", retry_after_words(retry_after))]
    RateLimited { retry_after: Option<Duration> },
    /// 5xx. Retryable.
    #[error("Coupa server error {status}: {body}")]
    Server { status: u16, body: String },
    /// No answer in time. Retryable; when `sent` is true Coupa may have acted (ambiguous).
    #[error("timed out (request sent: {sent})")]
    Timeout { sent: bool },
    /// Connection trouble. Retryable; ambiguous when `sent`.
    #[error("transport: {message} (request sent: {sent})")]
    Transport { message: String, sent: bool },
    /// 400/417/422: Coupa refused the document. Permanent; `body` is Coupa's error body and
    /// `messages` its error strings.
    #[error("Coupa refused the request ({status}): {}", messages.join("; "))]
    Validation {
        status: u16,
        body: String,
        messages: Vec<String>,
    },
    /// 404 on a show. Permanent.
    #[error("not found: {0}")]
    NotFound(String),
    /// A 3xx: what answers at `[coupa] base_url` sent the request to `location` (redacted,
    /// [`gateway_core::redact_url`]). Not followed: a 307/308 would re-send the request, its
    /// bearer token or client secret and document included, to whatever host it names. And
    /// not retryable: a redirect does not go away by itself, every retry would meet it again;
    /// the configured address is what to correct.
    #[error(
        "Coupa answered HTTP {status} redirecting to {location}: the gateway follows no redirects (the request, with its credentials, would go to another address), and retrying does not help, since a redirect does not go away by itself.{advice}set [coupa] base_url to the Coupa instance's own https:// address (the Location, if that is your Coupa instance), restart, then replay what died of it",
        advice = OPERATOR_ADVICE
    )]
    Redirected { status: u16, location: String },
    /// Another status we do not expect. Permanent.
    #[error("unexpected status {status}: {body}")]
    UnexpectedStatus { status: u16, body: String },
    /// Coupa answered 2xx with a body we cannot read. Permanent.
    #[error("cannot read Coupa's answer: {0}")]
    Decode(String),
    /// The supplier reference matches no Coupa supplier. Permanent.
    #[error("supplier not found in Coupa: {0}")]
    SupplierNotFound(String),
    /// The canonical document cannot become a Coupa document. Permanent.
    #[error("mapping: {0}")]
    Mapping(String),
    /// The duplicate guard could not read which invoices were delivered before
    /// ([`crate::invoices::KnownInvoices`], the gateway's ledger). Retryable: creating without
    /// knowing could make a second invoice, so the delivery waits until it can tell.
    #[error("duplicate guard: {0}; not creating the invoice before it can tell")]
    Guard(String),
    /// Coupa holds another invoice under this supplier and number (a field it gives back
    /// differs from the request: see [`crate::invoice_diff`]). Permanent: the same request
    /// finds the same invoice every time; an operator voids or credits one of them first, or
    /// the supplier sends it under a new number.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Coupa holds the invoice, but a file for it (its PDF copy) could not be attached:
    /// retryable as `cause` is. Said apart from the invoice's own refusal, which an operator
    /// fixes differently (the invoice is there; the file is what to fix or attach by hand).
    /// (`cause` is in the message, not a `source`, so a `{:#}` chain does not print it twice.)
    #[error("Coupa invoice {invoice_id} is there, but attaching {file} to it failed: {cause}")]
    Attachment {
        file: String,
        invoice_id: u64,
        cause: Box<CoupaError>,
    },
    /// Coupa holds the invoice, but submitting it failed: retryable as `cause` is. Said apart
    /// so a dead letter tells that a draft waits in Coupa (a replay finds and submits it).
    #[error("Coupa invoice {invoice_id} is there, but submitting it failed: {cause}")]
    Submit {
        invoice_id: u64,
        cause: Box<CoupaError>,
    },
    /// cXML `Response/Status` other than 2xx; retryable for 5xx.
    #[error("cXML status {code} {text}: {message}")]
    Cxml {
        code: u16,
        text: String,
        message: String,
    },
}

/// ` (it asked to wait 90 s)`, or nothing when Coupa named no wait: for the message of
/// [`CoupaError::RateLimited`], which printed `Some(90s)`.
fn retry_after_words(after: &Option<Duration>) -> String {
    after
        .map(|d| format!(" (it asked to wait {} s)", d.as_secs_f64()))
        .unwrap_or_default()
}

impl CoupaError {
    /// True when the same request may succeed later (for a refused token: once an operator
    /// fixed the credentials).
    pub fn is_retryable(&self) -> bool {
        match self {
            CoupaError::TokenRefused(_)
            | CoupaError::RateLimited { .. }
            | CoupaError::Server { .. }
            | CoupaError::Timeout { .. }
            | CoupaError::Unauthorized(_)
            | CoupaError::Guard(_)
            | CoupaError::Transport { .. } => true,
            CoupaError::Cxml { code, .. } => *code >= 500 || *code == 429,
            CoupaError::Attachment { cause, .. } | CoupaError::Submit { cause, .. } => {
                cause.is_retryable()
            }
            _ => false,
        }
    }

    /// True when trying the same call again within this delivery, after a short backoff, may
    /// help: [`Self::is_retryable`] except a refused token, which only a configuration fix
    /// changes (asking again at once would only hammer Coupa's token endpoint).
    pub fn is_retryable_now(&self) -> bool {
        match self {
            CoupaError::Attachment { cause, .. } | CoupaError::Submit { cause, .. } => {
                cause.is_retryable_now()
            }
            _ => self.is_retryable() && !matches!(self, CoupaError::TokenRefused(_)),
        }
    }

    /// True when Coupa may have acted on the request although we got no answer: look before
    /// creating again.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            CoupaError::Attachment { cause, .. } | CoupaError::Submit { cause, .. } => {
                cause.is_ambiguous()
            }
            _ => matches!(
                self,
                CoupaError::Timeout { sent: true } | CoupaError::Transport { sent: true, .. }
            ),
        }
    }

    /// How long Coupa asked us to wait, when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CoupaError::RateLimited { retry_after } => *retry_after,
            CoupaError::Attachment { cause, .. } | CoupaError::Submit { cause, .. } => {
                cause.retry_after()
            }
            _ => None,
        }
    }
}

impl From<CoupaError> for gateway_core::DeliveryError {
    fn from(e: CoupaError) -> Self {
        if e.is_retryable() {
            gateway_core::DeliveryError::Retryable {
                reason: e.to_string(),
                retry_after: e.retry_after(),
            }
        } else {
            let reason = match &e {
                CoupaError::Validation { status, body, .. } => {
                    format!("Coupa refused the invoice ({status}): {body}")
                }
                CoupaError::Attachment {
                    file,
                    invoice_id,
                    cause,
                } => {
                    let why = match cause.as_ref() {
                        CoupaError::Validation { status, body, .. } => {
                            format!("Coupa refused the file ({status}): {body}")
                        }
                        other => other.to_string(),
                    };
                    format!(
                        "Coupa invoice {invoice_id} is there without its file {file}: {why}.{OPERATOR_ADVICE}attach the file to it in Coupa, or fix the file and replay (the invoice is found, not created again)"
                    )
                }
                CoupaError::Submit { invoice_id, cause } => format!(
                    "Coupa invoice {invoice_id} is there as a draft, not submitted: {cause}.{OPERATOR_ADVICE}submit it in Coupa, or fix the cause and replay (the invoice is found and submitted, not created again)"
                ),
                CoupaError::SupplierNotFound(what) => supplier_not_found(what, None),
                other => other.to_string(),
            };
            gateway_core::DeliveryError::Permanent { reason }
        }
    }
}

/// Where a dead letter's reason turns from what happened to what an operator does about it
/// (add a supplier in Coupa, void an invoice there, replay): every reason this crate writes
/// with advice puts it after this marker, so a reader that must pass on only what happened
/// cuts there ([`what_happened`]). `gateway dlq purge --tell-supplier` sent the whole reason
/// to the supplier, advice and `gateway dlq replay` commands included.
pub const OPERATOR_ADVICE: &str = " To deliver it: ";

/// `reason` without its operator advice ([`OPERATOR_ADVICE`]): what happened, for someone
/// who is not the gateway's operator (the supplier told its invoice was given up). A reason
/// without advice is returned whole.
pub fn what_happened(reason: &str) -> &str {
    reason
        .split_once(OPERATOR_ADVICE)
        .map_or(reason, |(happened, _)| happened.trim_end())
}

/// Whose side a dead letter's reason puts the fault on, so the invoice's supplier is asked
/// to do the right thing ([`cause_of`]): only a refusal of the invoice's own content asks
/// it for a corrected invoice. Told "correct it and send it again" when its supplier record
/// was missing in Coupa or Coupa was down, a supplier resent an invoice that had nothing
/// wrong, or gave up on one the buyer meant to pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Coupa refused what the invoice says (a field, the PO it names, a number it already
    /// holds), or it cannot be written for Coupa: the supplier corrects it.
    Content,
    /// The supplier is not set up in the buyer's Coupa (or the gateway names the wrong one).
    SupplierSetup,
    /// The gateway's credentials or scopes for Coupa.
    Access,
    /// Coupa could not be reached, was overloaded or answered with a server error.
    Unavailable,
    /// Anything else: the buyer's side (the gateway's configuration, storage, ledger). A
    /// reason not known to be the invoice's fault counts here: asking for a resend wrongly
    /// costs the supplier work and the buyer a possible duplicate.
    Buyer,
}

impl Cause {
    /// Whether the supplier has something to correct in its invoice.
    pub fn is_content(self) -> bool {
        self == Cause::Content
    }
}

/// The [`Cause`] of a dead letter's `reason` as this crate writes it (the bus's `gave up after
/// N attempts: ` before it is looked through).
pub fn cause_of(reason: &str) -> Cause {
    let reason = gave_up_stripped(reason);
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| reason.starts_with(p));
    if starts(&[
        "Coupa refused the invoice (",
        "Coupa refused the request (",
        "conflict: ",
        "mapping: ",
        "Coupa refused invoice ",
        "Coupa already has invoice ",
    ]) {
        return Cause::Content;
    }
    if let Some(code) = reason
        .strip_prefix("cXML status ")
        .and_then(|rest| rest.get(..3))
        .and_then(|c| c.parse::<u16>().ok())
    {
        return match code {
            401 | 403 => Cause::Access,
            429 | 500.. => Cause::Unavailable,
            _ => Cause::Content,
        };
    }
    if reason.starts_with(SUPPLIER_NOT_FOUND) {
        return Cause::SupplierSetup;
    }
    if starts(&[
        "Coupa refused the token request (",
        "unauthorized: ",
        "forbidden (",
    ]) {
        return Cause::Access;
    }
    if starts(&[
        "Coupa server error ",
        "rate limited by Coupa",
        "timed out (",
        "transport: ",
    ]) {
        return Cause::Unavailable;
    }
    Cause::Buyer
}

/// `reason` without the bus's `gave up after N attempts: ` (gateway_broker's settle).
fn gave_up_stripped(reason: &str) -> &str {
    reason
        .strip_prefix("gave up after ")
        .and_then(|rest| rest.split_once(" attempts: "))
        .filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
        .map_or(reason, |(_, rest)| rest)
}

/// `text` with each JSON object in it (Coupa's error body, `{"errors":{"invoice-number":
/// ["has already been taken"]}}`) written as `field: message` pairs (`invoice-number: has
/// already been taken`), for someone who is not to read raw JSON (a supplier's notice). An
/// object that does not read to its end (a body clipped at the bound) is left out with what
/// follows it.
pub fn field_errors_in(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('{') {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let mut values = serde_json::Deserializer::from_str(from).into_iter::<serde_json::Value>();
        match values.next() {
            Some(Ok(v)) => {
                let mut pairs = Vec::new();
                field_pairs(v.get("errors").unwrap_or(&v), "", &mut pairs);
                out.push_str(&pairs.join("; "));
                rest = from.get(values.byte_offset()..).unwrap_or("");
            }
            _ => {
                out.push_str("(details not readable)");
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.trim_end().to_string()
}

/// The `field: message` pairs of Coupa's `errors` value `v` under `field`.
fn field_pairs(v: &serde_json::Value, field: &str, out: &mut Vec<String>) {
    use serde_json::Value;
    let named = |m: &str| {
        if field.is_empty() {
            m.to_string()
        } else {
            format!("{field}: {m}")
        }
    };
    match v {
        Value::String(m) => out.push(named(m)),
        Value::Array(items) => items.iter().for_each(|x| field_pairs(x, field, out)),
        Value::Object(o) => {
            for (k, x) in o {
                let inner = if field.is_empty() {
                    k.clone()
                } else {
                    format!("{field}.{k}")
                };
                field_pairs(x, &inner, out);
            }
        }
        Value::Null => {}
        other => out.push(named(&other.to_string())),
    }
}

/// The start of a dead letter's reason when the invoice's supplier is not in Coupa.
const SUPPLIER_NOT_FOUND: &str = "supplier not found in Coupa: ";
/// The partner as [`supplier_not_found`] names it when it does not know which.
const SOME_PARTNER: &str = "the invoice's partner";

/// A dead letter's reason for an invoice whose supplier Coupa does not have (`what`: how it
/// was looked up, `number "BETA-9"`), with what an operator does about it: the reason alone
/// (`supplier not found in Coupa: number "BETA-9"`) left them to guess. `partner` is the
/// invoice's partner when known; the gateway's Coupa outbound fills it in
/// ([`with_partner_named`]).
pub fn supplier_not_found(what: &str, partner: Option<&str>) -> String {
    let (whose, replay) = match partner {
        Some(p) => (
            format!("partner {p}"),
            format!("gateway dlq replay --partner {p} --reason 'supplier not found'"),
        ),
        None => (
            SOME_PARTNER.to_string(),
            "gateway dlq replay --reason 'supplier not found'".to_string(),
        ),
    };
    let looked_up = ["id ", "number ", "name "]
        .iter()
        .any(|k| what.starts_with(k));
    if looked_up {
        format!(
            "{SUPPLIER_NOT_FOUND}{what}.{OPERATOR_ADVICE}add that supplier in Coupa ({what}), or \
             correct the supplier the gateway looks for, [partners.coupa_supplier] of {whose} in \
             the gateway's configuration (without one, the supplier the invoice names), and \
             restart the gateway; then replay it: {replay}"
        )
    } else {
        format!(
            "{SUPPLIER_NOT_FOUND}{what}.{OPERATOR_ADVICE}name its Coupa supplier (id, number or \
             name) in [partners.coupa_supplier] of {whose} in the gateway's configuration, and \
             restart the gateway; then replay it: {replay}"
        )
    }
}

/// `reason` ([`supplier_not_found`] made without the partner) naming `partner` instead, so the
/// operator is told which partner's profile to check and how to replay only its invoices;
/// any other reason unchanged.
pub fn with_partner_named(reason: String, partner: &str) -> String {
    let what = reason
        .strip_prefix(SUPPLIER_NOT_FOUND)
        .and_then(|rest| rest.split_once(OPERATOR_ADVICE))
        .and_then(|(what, _)| what.strip_suffix('.'))
        .filter(|what| supplier_not_found(what, None) == reason);
    match what {
        Some(what) => supplier_not_found(what, Some(partner)),
        None => reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// QA's dead letter said only `supplier not found in Coupa: number "BETA-9"`. It says what
    /// to do now, and the outbound names the partner whose profile to check and replay.
    #[test]
    fn a_supplier_coupa_lacks_says_what_to_do_and_for_which_partner() {
        let e: gateway_core::DeliveryError =
            CoupaError::SupplierNotFound("number \"BETA-9\"".into()).into();
        let gateway_core::DeliveryError::Permanent { reason } = e else {
            panic!("a supplier Coupa lacks is permanent");
        };
        assert!(
            reason.starts_with("supplier not found in Coupa: number \"BETA-9\". To deliver it: ")
                && reason.contains("add that supplier in Coupa (number \"BETA-9\")")
                && reason.contains("[partners.coupa_supplier] of the invoice's partner")
                && reason.ends_with("gateway dlq replay --reason 'supplier not found'"),
            "{reason}"
        );
        let named = with_partner_named(reason, "beta");
        assert!(
            named.contains("[partners.coupa_supplier] of partner beta")
                && named
                    .ends_with("gateway dlq replay --partner beta --reason 'supplier not found'"),
            "{named}"
        );
        // Named once: a second pass changes nothing, nor does it touch another reason.
        assert_eq!(with_partner_named(named.clone(), "beta"), named);
        assert_eq!(
            with_partner_named("conflict: x".into(), "beta"),
            "conflict: x"
        );
    }

    /// Every reason written with advice for the operator says what happened before
    /// [`OPERATOR_ADVICE`], so a supplier's notice can leave the advice out
    /// ([`what_happened`]); a reason without advice is kept whole.
    #[test]
    fn what_happened_leaves_the_operators_advice_out() {
        let permanent = |e: CoupaError| gateway_core::DeliveryError::from(e).reason().to_string();
        let not_found = permanent(CoupaError::SupplierNotFound("number \"BETA-9\"".into()));
        let cases = [
            (
                with_partner_named(not_found.clone(), "beta"),
                "supplier not found in Coupa: number \"BETA-9\".",
            ),
            (
                permanent(CoupaError::SupplierNotFound("no reference".into())),
                "supplier not found in Coupa: no reference.",
            ),
            (
                permanent(CoupaError::Submit {
                    invoice_id: 5,
                    cause: Box::new(CoupaError::Forbidden("no scope".into())),
                }),
                "Coupa invoice 5 is there as a draft, not submitted: forbidden (missing scope?): no scope.",
            ),
            (
                permanent(CoupaError::Attachment {
                    file: "inv.pdf".into(),
                    invoice_id: 5,
                    cause: Box::new(CoupaError::Forbidden("no scope".into())),
                }),
                "Coupa invoice 5 is there without its file inv.pdf: forbidden (missing scope?): no scope.",
            ),
            (
                CoupaError::TokenRefused(TokenRefusal::from_answer(401, "")).to_string(),
                "Coupa refused the token request (401): the gateway's credentials, not the document, retried until they are fixed.",
            ),
            (
                "Coupa refused the invoice (400): bad".to_string(),
                "Coupa refused the invoice (400): bad",
            ),
        ];
        for (reason, happened) in cases {
            assert!(
                reason.contains(OPERATOR_ADVICE) || reason == happened,
                "{reason}"
            );
            assert_eq!(what_happened(&reason), happened, "{reason}");
        }
        // The partner is still named once the marker is one constant.
        assert!(
            with_partner_named(not_found, "beta").contains("dlq replay --partner beta"),
            "named"
        );
    }

    /// Every reason this crate writes for an invoice given up is classified by whose it is:
    /// only the invoice's own content is the supplier's to correct.
    #[test]
    fn a_reason_says_whose_side_it_is_on() {
        let reason = |e: CoupaError| gateway_core::DeliveryError::from(e).reason().to_string();
        let validation = CoupaError::Validation {
            status: 422,
            body: r#"{"errors":{"invoice-number":["has already been taken"]}}"#.into(),
            messages: vec!["has already been taken".into()],
        };
        let cases = [
            (reason(validation.clone()), Cause::Content),
            (validation.to_string(), Cause::Content),
            (
                reason(CoupaError::Conflict("Coupa already has".into())),
                Cause::Content,
            ),
            (
                reason(CoupaError::Mapping("invoice_date is missing".into())),
                Cause::Content,
            ),
            (
                reason(CoupaError::Cxml {
                    code: 400,
                    text: "Bad Request".into(),
                    message: "x".into(),
                }),
                Cause::Content,
            ),
            (
                reason(CoupaError::SupplierNotFound("number \"BETA-9\"".into())),
                Cause::SupplierSetup,
            ),
            (
                format!(
                    "gave up after 4 attempts: {}",
                    reason(CoupaError::TokenRefused(TokenRefusal::from_answer(401, "")))
                ),
                Cause::Access,
            ),
            (
                reason(CoupaError::Forbidden("no scope".into())),
                Cause::Access,
            ),
            (
                format!(
                    "gave up after 4 attempts: {}",
                    reason(CoupaError::Server {
                        status: 503,
                        body: "{}".into()
                    })
                ),
                Cause::Unavailable,
            ),
            (
                reason(CoupaError::Timeout { sent: false }),
                Cause::Unavailable,
            ),
            (
                reason(CoupaError::Guard("ledger locked".into())),
                Cause::Buyer,
            ),
            (
                reason(CoupaError::Submit {
                    invoice_id: 5,
                    cause: Box::new(CoupaError::Forbidden("no scope".into())),
                }),
                Cause::Buyer,
            ),
            ("something nobody wrote down".to_string(), Cause::Buyer),
        ];
        for (reason, cause) in cases {
            assert_eq!(cause_of(&reason), cause, "{reason}");
        }
    }

    /// Coupa's error body reads as `field: message` pairs; a clipped one is left out.
    #[test]
    fn coupa_field_errors_read_as_field_and_message() {
        assert_eq!(
            field_errors_in(
                r#"Coupa refused the invoice (422): {"errors":{"invoice-number":["has already been taken"],"invoice-lines":{"0":{"order-line":["not found"]}}}}"#
            ),
            "Coupa refused the invoice (422): invoice-lines.0.order-line: not found; invoice-number: has already been taken"
        );
        assert_eq!(
            field_errors_in(r#"Coupa refused the invoice (400): {"errors":["bad date"]}"#),
            "Coupa refused the invoice (400): bad date"
        );
        assert_eq!(
            field_errors_in(r#"Coupa refused the invoice (400): {"errors":{"x":["cut…"#),
            "Coupa refused the invoice (400): (details not readable)"
        );
        assert_eq!(field_errors_in("no json here"), "no json here");
    }

    #[test]
    fn a_rate_limit_names_the_wait_in_words() {
        let asked = CoupaError::RateLimited {
            retry_after: Some(Duration::from_secs(90)),
        };
        assert_eq!(
            asked.to_string(),
            "rate limited by Coupa (it asked to wait 90 s)"
        );
        let silent = CoupaError::RateLimited { retry_after: None };
        assert_eq!(silent.to_string(), "rate limited by Coupa");
    }
}
