//! Optional cXML invoice delivery: `POST /cxml/invoices` with an InvoiceDetailRequest (built by
//! the cXML adapter; this crate only carries it). Coupa answers a cXML `Response/Status`.

use crate::client::CoupaClient;
use crate::error::CoupaError;
use crate::stats::Counters;
use crate::transport::{classify, clip};

/// Coupa's cXML answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CxmlStatus {
    pub code: u16,
    pub text: String,
    pub message: String,
}

/// Reads `<Status code=".." text="..">message</Status>` without a full XML parser: the answer
/// is small and its shape fixed. `None` when no Status element is found.
pub fn parse_status(body: &str) -> Option<CxmlStatus> {
    let start = body.find("<Status")?;
    let rest = body.get(start..)?;
    let tag_end = rest.find('>')?;
    let tag = rest.get(..tag_end)?;
    let attr = |name: &str| -> Option<String> {
        let at = tag.find(&format!("{name}="))? + name.len() + 1;
        let quote = tag.get(at..at + 1)?;
        let value = tag.get(at + 1..)?;
        let end = value.find(quote)?;
        value.get(..end).map(str::to_string)
    };
    let code = attr("code")?.trim().parse().ok()?;
    let message = if tag.ends_with('/') {
        String::new()
    } else {
        let after = rest.get(tag_end + 1..)?;
        after.get(..after.find("</Status>")?)?.trim().to_string()
    };
    Some(CxmlStatus {
        code,
        text: attr("text").unwrap_or_default(),
        message,
    })
}

impl CoupaClient {
    /// Posts one cXML invoice once (cXML has its own shared-secret auth; no bearer token).
    /// 2xx Status → Ok; 5xx → retryable; 401/403/406/417/450 → permanent with Coupa's text.
    pub async fn send_cxml_invoice(&self, cxml: &str) -> Result<CxmlStatus, CoupaError> {
        self.limiter.acquire().await;
        Counters::bump(&self.counters.requests);
        let resp = self
            .http
            .post(self.url("/cxml/invoices"))
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=UTF-8")
            .body(cxml.to_string())
            .timeout(self.cfg.timeout)
            .send()
            .await
            .map_err(|e| classify(&e))?;
        let http = resp.status().as_u16();
        if resp.status().is_redirection() {
            return Err(CoupaError::Redirected {
                status: http,
                location: crate::transport::redirect_location(resp.headers()),
            });
        }
        let body = resp.text().await.map_err(|e| classify(&e))?;
        let status = parse_status(&body).unwrap_or(CxmlStatus {
            code: http,
            text: String::new(),
            message: clip(&body),
        });
        if (200..300).contains(&status.code) && (200..300).contains(&http) {
            Ok(status)
        } else {
            Err(CoupaError::Cxml {
                code: status.code,
                text: status.text,
                message: status.message,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_status() {
        let ok = r#"<?xml version="1.0"?><cXML payloadID="1"><Response><Status code="200" text="OK"/></Response></cXML>"#;
        assert_eq!(parse_status(ok).map(|s| s.code), Some(200));
        let bad = r#"<cXML><Response><Status text="Unauthorized" code="401">Invalid credentials</Status></Response></cXML>"#;
        let s = parse_status(bad).unwrap();
        assert_eq!(
            (s.code, s.text.as_str(), s.message.as_str()),
            (401, "Unauthorized", "Invalid credentials")
        );
        assert_eq!(parse_status("<html/>"), None);
    }
}
