//! How a supplier's answer to a cXML OrderRequest decides the delivery: success only when the
//! HTTP status is 2xx and the cXML `Response/Status@code` is 2xx; 5xx/429 and unreadable
//! answers are retryable, other 4xx are permanent (the order itself was refused).

use gateway_core::DeliveryError;

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
