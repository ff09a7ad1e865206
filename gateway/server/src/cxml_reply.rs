//! How a supplier's answer to a cXML OrderRequest decides the delivery: success only when the
//! HTTP status is 2xx and the cXML `Response/Status@code` is 2xx; 5xx/429 and unreadable
//! answers are retryable, other 4xx are permanent (the order itself was refused).

use gateway_core::DeliveryError;

/// The delivery result for a 3xx `status` from `url` (both as shown: redacted,
/// [`gateway_core::redact_url`]) sending the document to `location`. The gateway follows no
/// redirects (followed, a 307/308 re-sent the OrderRequest, its SharedSecret included, to
/// whatever host the `Location` named, and its answer counted as the supplier's), so the
/// document is not delivered. Permanent: a redirect does not go away by itself, every retry
/// would meet it again; the supplier's URL is what to correct.
pub fn redirected(url: &str, status: u16, location: &str) -> DeliveryError {
    DeliveryError::permanent(format!(
        "{url} answered HTTP {status} redirecting to {location}: not delivered, since the gateway follows no redirects (the document and its credentials would go to another address), and not retried, since a redirect does not go away by itself; correct the supplier's URL (the url of its [partners.outbound], or the cxml-url of its Coupa supplier record) to the address the supplier confirms, then replay"
    ))
}

/// The delivery result for an answer `body` with HTTP `status` from `url`.
pub fn judge(url: &str, status: u16, body: &[u8]) -> Result<String, DeliveryError> {
    let excerpt: String = String::from_utf8_lossy(body).chars().take(300).collect();
    if status == 429 || status >= 500 {
        return Err(DeliveryError::retryable(format!(
            "{url} answered HTTP {status}: {excerpt}"
        )));
    }
    if !(200..300).contains(&status) {
        return Err(DeliveryError::permanent(format!(
            "{url} refused the order with HTTP {status}: {excerpt}"
        )));
    }
    match adapter_cxml::response::parse(body) {
        Ok(s) if (200..300).contains(&s.code) => Ok(format!("{url} cXML {} {}", s.code, s.text)),
        Ok(s) if s.code >= 500 => Err(DeliveryError::retryable(format!(
            "{url} answered cXML {} {}: {}",
            s.code,
            s.text,
            s.message.unwrap_or_default()
        ))),
        Ok(s) => Err(DeliveryError::permanent(format!(
            "{url} refused the order: cXML {} {}: {}",
            s.code,
            s.text,
            s.message.unwrap_or_default()
        ))),
        Err(e) => Err(DeliveryError::retryable(format!(
            "{url} answered HTTP {status} without a readable cXML Status ({e}): {excerpt}"
        ))),
    }
}
