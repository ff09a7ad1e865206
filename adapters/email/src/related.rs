//! A `multipart/related` HTTP body: a cXML document and the files it refers to.
//!
//! Coupa tells suppliers to send an invoice's attachments (its PDF, an image scan) inside the
//! cXML POST: `Content-Type: multipart/related; boundary=...; type=text/xml; start=<id>`, the
//! cXML as the `start` part, each file a part with its `Content-ID`, which the cXML names as
//! `<Attachment><URL>cid:...</URL></Attachment>` or the `ImageScanAttachmentUrl` extrinsic.
//! A gateway that takes over Coupa's cXML endpoint must read that shape too, or such a
//! supplier's every invoice is refused. The MIME is read by the same bounded parser as mail.

use gateway_core::SupportingFile;
use mail_parser::{MessageParser, MimeHeaders, PartType};

use crate::message::{FlatDrop, Limits, bytes_as_sent, check_shape, mime_type};

/// The body split: the root document (bytes as sent) and the other parts as files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedBody {
    pub root: Vec<u8>,
    pub files: Vec<SupportingFile>,
    /// `cid:` references in the root that no part answers (a file the sender meant to send).
    pub missing: Vec<String>,
}

/// The `cid:` references in `root` (`<URL>cid:INV-7.pdf</URL>`, an extrinsic), at most 50:
/// the files a cXML sent on its own (not as `multipart/related`) names but cannot carry.
pub fn cid_references(root: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(root);
    let mut out: Vec<String> = Vec::new();
    for (at, _) in text.match_indices("cid:").take(50) {
        let rest = text.get(at + 4..).unwrap_or("");
        let id: String = rest
            .chars()
            .take_while(|c| !matches!(c, '<' | '"' | '\'' | '>') && !c.is_whitespace())
            .take(200)
            .collect();
        if !id.is_empty() && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// Whether a `Content-Type` header value is `multipart/related`.
pub fn is_related(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("multipart/related"))
}

fn bare_id(id: &str) -> &str {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
}

/// Splits `body` sent with `content_type` into its root part (the one `start` names, else the
/// first) and its other parts, each a file named by its file name, else its `Content-ID`.
/// The error says what is wrong, for the sender.
pub fn split_related(
    content_type: &str,
    body: &[u8],
    limits: &Limits,
) -> Result<RelatedBody, String> {
    if body.len() > limits.max_message_bytes {
        return Err(format!(
            "the body is {} bytes; the limit is {}",
            body.len(),
            limits.max_message_bytes
        ));
    }
    // Header values are one line: a folded or smuggled header cannot be made of it.
    let header: String = content_type
        .chars()
        .filter(|c| *c != '\r' && *c != '\n')
        .collect();
    let mut raw = format!("MIME-Version: 1.0\r\nContent-Type: {header}\r\n\r\n").into_bytes();
    raw.extend_from_slice(body);
    let parsed = MessageParser::default()
        .parse(&raw[..])
        .ok_or("the multipart/related body could not be read as MIME")?;
    let message = FlatDrop(parsed);
    let message = &message.0;
    check_shape(message, limits).map_err(|e| e.to_string())?;
    let start = message
        .content_type()
        .and_then(|ct| ct.attribute("start"))
        .map(|s| bare_id(s).to_string());
    let children: Vec<u32> = match message.parts.first().map(|p| &p.body) {
        Some(PartType::Multipart(children)) => children.clone(),
        _ => return Err("multipart/related without parts (is the boundary right?)".into()),
    };
    if children.len() > limits.max_attachments + 1 {
        return Err(format!(
            "the body has {} parts; the limit is {}",
            children.len(),
            limits.max_attachments + 1
        ));
    }
    let parts: Vec<_> = children
        .iter()
        .filter_map(|&i| usize::try_from(i).ok().and_then(|i| message.parts.get(i)))
        .collect();
    let root_at = match &start {
        Some(id) => parts
            .iter()
            .position(|p| p.content_id().is_some_and(|c| bare_id(c) == id))
            .ok_or_else(|| format!("no part has the Content-ID <{id}> that start names"))?,
        None => 0,
    };
    let mut root = None;
    let mut files = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    for (n, part) in parts.iter().enumerate() {
        let bytes = bytes_as_sent(&raw, part)
            .ok_or_else(|| format!("part {} could not be decoded", n + 1))?;
        if n == root_at {
            root = Some(bytes);
            continue;
        }
        if let Some(id) = part.content_id() {
            ids.push(bare_id(id).to_string());
        }
        let name = part
            .attachment_name()
            .map(str::to_string)
            .or_else(|| part.content_id().map(|c| bare_id(c).to_string()))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("attachment-{n}"));
        let content_type = mime_type(part).unwrap_or_else(|| "application/octet-stream".into());
        files.push(SupportingFile::received(&name, content_type, bytes));
    }
    let root = root.ok_or("multipart/related without parts (is the boundary right?)")?;
    let missing = cid_references(&root)
        .into_iter()
        .filter(|r| !ids.contains(r))
        .collect();
    Ok(RelatedBody {
        root,
        files,
        missing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CXML: &str =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<cXML payloadID=\"p1\"><Request/></cXML>";

    fn body(parts: &[(&str, &str, &str, &[u8])]) -> Vec<u8> {
        let mut b = Vec::new();
        for (ctype, id, encoding, bytes) in parts {
            b.extend_from_slice(
                format!(
                    "--B0UND\r\nContent-Type: {ctype}\r\nContent-ID: <{id}>\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n"
                )
                .as_bytes(),
            );
            b.extend_from_slice(bytes);
            b.extend_from_slice(b"\r\n");
        }
        b.extend_from_slice(b"--B0UND--\r\n");
        b
    }

    #[test]
    fn the_start_part_is_the_root_and_the_others_are_files_named_by_their_content_id() {
        // `%PDF-1.7 é` in base64.
        let raw = body(&[
            (
                "application/pdf",
                "INV-7.pdf",
                "base64",
                b"JVBERi0xLjcgw6k=",
            ),
            (
                "text/xml; charset=UTF-8",
                "payload.xml",
                "8bit",
                CXML.as_bytes(),
            ),
        ]);
        let split = split_related(
            "multipart/related; boundary=B0UND; type=text/xml; start=\"<payload.xml>\"",
            &raw,
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(split.root, CXML.as_bytes());
        assert_eq!(split.files.len(), 1);
        assert_eq!(split.files[0].name, "INV-7.pdf");
        assert_eq!(split.files[0].content_type, "application/pdf");
        assert_eq!(split.files[0].bytes, "%PDF-1.7 é".as_bytes());
        assert!(split.missing.is_empty());
    }

    #[test]
    fn a_cid_the_document_names_but_no_part_answers_is_missing() {
        let cxml = "<cXML><Comments><Attachment><URL>cid:INV-7.pdf</URL></Attachment>\
                    <Attachment><URL>cid:terms.pdf</URL></Attachment></Comments>\
                    <Extrinsic name=\"ImageScanAttachmentUrl\">cid:scan.png</Extrinsic></cXML>";
        let raw = body(&[
            ("text/xml", "payload.xml", "8bit", cxml.as_bytes()),
            ("application/pdf", "INV-7.pdf", "8bit", b"%PDF-1.7"),
        ]);
        let split = split_related(
            "multipart/related; boundary=B0UND",
            &raw,
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(split.missing, ["terms.pdf", "scan.png"]);
    }

    #[test]
    fn without_start_the_first_part_is_the_root() {
        let raw = body(&[
            ("text/xml", "payload.xml", "8bit", CXML.as_bytes()),
            ("image/png", "scan.png", "binary", b"\x89PNG\r\n\x1a\n"),
        ]);
        let split = split_related(
            "multipart/related; boundary=B0UND",
            &raw,
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(split.root, CXML.as_bytes());
        assert_eq!(split.files[0].name, "scan.png");
        assert_eq!(split.files[0].content_type, "image/png");
    }

    #[test]
    fn broken_bodies_are_refused_with_a_reason() {
        let raw = body(&[("text/xml", "payload.xml", "8bit", CXML.as_bytes())]);
        let wrong_start = split_related(
            "multipart/related; boundary=B0UND; start=<other>",
            &raw,
            &Limits::default(),
        )
        .unwrap_err();
        assert!(wrong_start.contains("<other>"), "{wrong_start}");
        let wrong_boundary =
            split_related("multipart/related; boundary=NOPE", &raw, &Limits::default())
                .unwrap_err();
        assert!(wrong_boundary.contains("boundary"), "{wrong_boundary}");
        let small = Limits {
            max_message_bytes: 10,
            ..Limits::default()
        };
        assert!(
            split_related("multipart/related; boundary=B0UND", &raw, &small)
                .unwrap_err()
                .contains("limit")
        );
        let many: Vec<(&str, &str, &str, &[u8])> = (0..30)
            .map(|_| ("text/plain", "x", "8bit", &b"x"[..]))
            .collect();
        assert!(
            split_related(
                "multipart/related; boundary=B0UND",
                &body(&many),
                &Limits::default()
            )
            .unwrap_err()
            .contains("parts")
        );
    }

    #[test]
    fn only_multipart_related_is_recognised() {
        assert!(is_related("Multipart/Related; boundary=x"));
        assert!(!is_related("text/xml; charset=utf-8"));
        assert!(!is_related("multipart/mixed; boundary=x"));
    }
}
