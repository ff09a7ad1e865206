//! Files on a Coupa invoice (`/api/invoices/:id/attachments`): the supplier's PDF copy, added
//! once whatever happens on the way.
//!
//! A create is not safe to repeat blindly (Coupa would hold the PDF twice), so before each
//! upload the invoice's attachments are read, and a file already there (same name and size) is
//! not sent again. That covers a redelivery after a crash, a replay, and an upload whose answer
//! was lost.

use gateway_core::SupportingFile;
use reqwest::Method;
use serde_json::Value;

use crate::client::CoupaClient;
use crate::error::CoupaError;
use crate::transport::Payload;

/// Who the attachment is for, as Coupa's attachment `intent` names it: supplier documents.
pub const INTENT: &str = "Supplier";

/// An attachment Coupa holds on an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoupaAttachment {
    pub id: u64,
    /// The file name (the last part of Coupa's `file`, or of its `file-url`).
    pub file_name: Option<String>,
    /// `file-file-size`, when Coupa gives it.
    pub size: Option<u64>,
    pub intent: Option<String>,
}

impl CoupaAttachment {
    pub fn from_json(v: &Value) -> Result<Self, CoupaError> {
        // `file` is a path: its last part is the name, `#` and `?` included (`INV#45.pdf` was
        // read as `INV`, never matched, and attached again on every redelivery). `file-url` is
        // a URL: its query and fragment are cut and its escapes decoded.
        let last_part = |key: &str, url: bool| {
            v.get(key)
                .and_then(Value::as_str)
                .map(|s| match url {
                    true => s.split(['?', '#']).next().unwrap_or(s),
                    false => s,
                })
                .and_then(|s| s.rsplit('/').next())
                .filter(|s| !s.is_empty())
                .map(|s| match url {
                    true => percent_decoded(s),
                    false => s.to_string(),
                })
        };
        Ok(CoupaAttachment {
            id: v
                .get("id")
                .and_then(Value::as_u64)
                .ok_or_else(|| CoupaError::Decode("attachment without id".into()))?,
            file_name: last_part("file", false).or_else(|| last_part("file-url", true)),
            size: v.get("file-file-size").and_then(|s| match s {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }),
            intent: v.get("intent").and_then(Value::as_str).map(str::to_string),
        })
    }

    /// Whether this is `file` (same name; same size when Coupa says).
    fn is(&self, file: &SupportingFile) -> bool {
        self.file_name.as_deref() == Some(file.name.as_str())
            && self.size.is_none_or(|s| s == file.bytes.len() as u64)
    }
}

/// `%XX` escapes of a URL's path segment decoded (a name that is not UTF-8 once decoded is
/// kept as written).
fn percent_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (c, hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

impl CoupaClient {
    /// `GET /api/invoices/:id/attachments` (retried: a read).
    pub async fn invoice_attachments(
        &self,
        invoice_id: u64,
    ) -> Result<Vec<CoupaAttachment>, CoupaError> {
        let path = format!("/api/invoices/{invoice_id}/attachments");
        let v = self
            .retrying("list invoice attachments", || {
                self.call(Method::GET, &path, &[], None)
            })
            .await?;
        match v {
            Value::Array(items) => items.iter().map(CoupaAttachment::from_json).collect(),
            Value::Null => Ok(Vec::new()),
            other => Err(CoupaError::Decode(format!(
                "attachments of invoice {invoice_id}: expected a list, got {}",
                crate::transport::clip(&other.to_string())
            ))),
        }
    }

    /// `POST /api/invoices/:id/attachments` once, as a file for the supplier's side (no retry:
    /// see [`Self::attach_files`]).
    pub async fn add_invoice_attachment(
        &self,
        invoice_id: u64,
        file: &SupportingFile,
    ) -> Result<CoupaAttachment, CoupaError> {
        let path = format!("/api/invoices/{invoice_id}/attachments");
        let payload = Payload::File {
            fields: &[("attachment[type]", "file"), ("attachment[intent]", INTENT)],
            file_field: "attachment[file]",
            file_name: &file.name,
            content_type: &file.content_type,
            bytes: &file.bytes,
        };
        let v = self.call_with(Method::POST, &path, &[], payload).await?;
        CoupaAttachment::from_json(&v)
    }

    /// Puts every file of `files` on the invoice that is not there yet; returns how many were
    /// added by this call. A failed upload is retried after reading the invoice's attachments
    /// again, so a file whose upload went through but whose answer was lost is not added twice.
    pub async fn attach_files(
        &self,
        invoice_id: u64,
        files: &[SupportingFile],
    ) -> Result<usize, CoupaError> {
        if files.is_empty() {
            return Ok(0);
        }
        let max = self.config().max_attempts.max(1);
        let mut added = 0;
        let mut attempt = 0;
        loop {
            let there = self.invoice_attachments(invoice_id).await?;
            let missing: Vec<&SupportingFile> = files
                .iter()
                .filter(|f| !there.iter().any(|a| a.is(f)))
                .collect();
            let mut failed = None;
            for file in missing {
                match self.add_invoice_attachment(invoice_id, file).await {
                    Ok(a) => {
                        added += 1;
                        tracing::info!(invoice_id, attachment_id = a.id, file = %file.name,
                            "file attached to the Coupa invoice");
                    }
                    Err(e) => {
                        failed = Some((file.name.as_str(), e));
                        break;
                    }
                }
            }
            let Some((file, err)) = failed else {
                return Ok(added);
            };
            if !err.is_retryable_now() || attempt + 1 >= max {
                return Err(CoupaError::Attachment {
                    file: file.to_string(),
                    invoice_id,
                    cause: Box::new(err),
                });
            }
            tracing::warn!(invoice_id, attempt, error = %err,
                "attaching a file to the Coupa invoice failed; reading its attachments again before retrying");
            self.pause_before_retry(attempt, &err).await?;
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_file_name_from_file_or_its_url() {
        let a = CoupaAttachment::from_json(&json!({
            "id": 7, "type": "AttachmentFile", "intent": "Supplier",
            "file": "/attachment_files/7/INV-1.pdf", "file-file-size": "12"
        }))
        .unwrap();
        assert_eq!(a.file_name.as_deref(), Some("INV-1.pdf"));
        assert_eq!(a.size, Some(12));
        let b = CoupaAttachment::from_json(&json!({
            "id": 8, "file-url": "https://x.coupahost.com/attachments/8/scan.pdf?token=abc"
        }))
        .unwrap();
        assert_eq!(b.file_name.as_deref(), Some("scan.pdf"));
        assert_eq!(b.size, None);
        assert!(CoupaAttachment::from_json(&json!({"file": "x.pdf"})).is_err());
    }

    /// A name holding `#` or `?` is read whole from `file`, and decoded from `file-url`: it was
    /// cut at the `#`, never matched the file sent, and the file was attached again on every
    /// redelivery until Coupa's ten-file limit failed the delivery.
    #[test]
    fn a_name_with_a_hash_or_question_mark_is_read_whole() {
        let a = CoupaAttachment::from_json(&json!({
            "id": 9, "file": "/attachment_files/9/INV#45?.pdf", "file-file-size": 3
        }))
        .unwrap();
        assert_eq!(a.file_name.as_deref(), Some("INV#45?.pdf"));
        let b = CoupaAttachment::from_json(&json!({
            "id": 10, "file-url": "https://x.coupahost.com/attachments/10/INV%2345%20A.pdf?token=abc#p1"
        }))
        .unwrap();
        assert_eq!(b.file_name.as_deref(), Some("INV#45 A.pdf"));
        let sent = SupportingFile {
            name: "INV#45?.pdf".into(),
            content_type: "application/pdf".into(),
            bytes: b"abc".to_vec(),
        };
        assert!(a.is(&sent));
        assert_eq!(percent_decoded("a%2"), "a%2");
        assert_eq!(percent_decoded("%FF%FE"), "%FF%FE");
    }

    #[test]
    fn a_file_is_there_when_name_and_size_agree() {
        let there = CoupaAttachment {
            id: 1,
            file_name: Some("INV-1.pdf".into()),
            size: Some(3),
            intent: None,
        };
        let file = |name: &str, bytes: &[u8]| SupportingFile {
            name: name.into(),
            content_type: "application/pdf".into(),
            bytes: bytes.to_vec(),
        };
        assert!(there.is(&file("INV-1.pdf", b"abc")));
        assert!(!there.is(&file("INV-1.pdf", b"abcd")));
        assert!(!there.is(&file("INV-2.pdf", b"abc")));
        let unsized_ = CoupaAttachment {
            size: None,
            ..there
        };
        assert!(unsized_.is(&file("INV-1.pdf", b"abcd")));
    }
}
