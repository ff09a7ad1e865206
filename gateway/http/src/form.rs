//! A REST request as `multipart/form-data`: the document and the files that go with it (its
//! PDF copy), so a supplier's system on the JSON API can send what a cXML or mail sender can.
//!
//! Fields: `document` (the canonical JSON, as the plain request body would be) once, and `file`
//! (any name) at most [`MAX_FILES`] times, each with its file name. Anything else is refused
//! with the reason rather than ignored, so a sender that misnames a field hears about it.
//!
//! What the form says, for `Idempotency-Key`, is [`FormBody::request_hash`]: its parts, not
//! the boundary and framing a client makes anew for each request.

use std::convert::Infallible;

use axum::body::Bytes;
use gateway_core::SupportingFile;
use gateway_core::attachments::MAX_FILES_PER_DOCUMENT;

/// Most files one request carries (Coupa takes ten per invoice).
pub const MAX_FILES: usize = MAX_FILES_PER_DOCUMENT;

/// The request split into the document and its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormBody {
    pub document: Vec<u8>,
    pub files: Vec<SupportingFile>,
    /// SHA-256 (hex) of what the request says: each part's field name, file name, content
    /// type and content, in the order sent. The boundary and the framing are left out: a
    /// client makes a new boundary for each request, so a retry with the same
    /// `Idempotency-Key` differs from the first request there and nowhere else.
    pub request_hash: String,
}

/// What [`FormBody::request_hash`] is the hash of: each part as its field name, file name and
/// content type (length-prefixed, `-` for one the part does not give) and the SHA-256 of its
/// content, so no two different forms give the same text.
#[derive(Debug, Default)]
struct PartsDigest(String);

impl PartsDigest {
    fn part(
        &mut self,
        name: &str,
        file_name: Option<&str>,
        content_type: Option<&str>,
        content: &[u8],
    ) {
        use std::fmt::Write as _;
        for value in [Some(name), file_name, content_type] {
            match value {
                Some(v) => {
                    let _ = write!(self.0, "{}:{v};", v.len());
                }
                None => self.0.push_str("-;"),
            }
        }
        self.0.push_str(&gateway_core::sha256_hex(content));
        self.0.push('\n');
    }

    fn finish(self) -> String {
        gateway_core::sha256_hex(format!("multipart/form-data\n{}", self.0).as_bytes())
    }
}

/// Whether a `Content-Type` value is `multipart/form-data`.
pub fn is_form(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("multipart/form-data"))
}

/// Reads the `document` and `file` fields of `body`; the error says what to fix.
pub async fn read_form(content_type: &str, body: Bytes) -> Result<FormBody, String> {
    let boundary = multer::parse_boundary(content_type)
        .map_err(|e| format!("multipart/form-data without a usable boundary: {e}"))?;
    let stream = futures::stream::once(async move { Ok::<Bytes, Infallible>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut document = None;
    let mut files = Vec::new();
    let mut digest = PartsDigest::default();
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(format!("unreadable multipart/form-data: {e}")),
        };
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().map(str::to_string);
        let part_type = field
            .content_type()
            .map(|m| m.as_ref().to_ascii_lowercase());
        match name.as_str() {
            "document" if document.is_some() => {
                return Err("more than one `document` field; send one document per request, or JSON Lines in one field".into());
            }
            "document" => {
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| format!("field `document`: {e}"))?;
                digest.part(&name, file_name.as_deref(), part_type.as_deref(), &bytes);
                document = Some(bytes.to_vec());
            }
            "file" if files.len() >= MAX_FILES => {
                return Err(format!(
                    "more than {MAX_FILES} `file` fields; a document takes at most {MAX_FILES} files"
                ));
            }
            "file" => {
                let given = file_name.as_deref();
                let file_name = given
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_string)
                    .ok_or("a `file` field without a file name; give each file its name (filename=\"INV-42.pdf\")")?;
                let content_type = field
                    .content_type()
                    .map(|m| m.essence_str().to_ascii_lowercase())
                    .unwrap_or_else(|| "application/octet-stream".into());
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| format!("field `file` ({file_name}): {e}"))?;
                digest.part(&name, given, part_type.as_deref(), &bytes);
                files.push(SupportingFile::received(
                    &file_name,
                    content_type,
                    bytes.to_vec(),
                ));
            }
            other => {
                return Err(format!(
                    "unknown field `{other}`: the fields are `document` (the canonical JSON) and `file` (each file sent with it)"
                ));
            }
        }
    }
    let document = document.ok_or(
        "no `document` field: the request holds no document; send the canonical JSON in a field named `document` (and each file in a field named `file`); nothing was accepted",
    )?;
    Ok(FormBody {
        document,
        files,
        request_hash: digest.finish(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: &str = "multipart/form-data; boundary=XYZ";

    fn field(name: &str, file_name: Option<&str>, ctype: &str, bytes: &[u8]) -> Vec<u8> {
        let disposition = match file_name {
            Some(f) => format!("form-data; name=\"{name}\"; filename=\"{f}\""),
            None => format!("form-data; name=\"{name}\""),
        };
        let mut b =
            format!("--XYZ\r\nContent-Disposition: {disposition}\r\nContent-Type: {ctype}\r\n\r\n")
                .into_bytes();
        b.extend_from_slice(bytes);
        b.extend_from_slice(b"\r\n");
        b
    }

    fn body(fields: &[Vec<u8>]) -> Bytes {
        let mut b: Vec<u8> = fields.concat();
        b.extend_from_slice(b"--XYZ--\r\n");
        Bytes::from(b)
    }

    #[tokio::test]
    async fn reads_the_document_and_its_files() {
        let b = body(&[
            field(
                "document",
                None,
                "application/json",
                br#"{"kind":"invoice"}"#,
            ),
            field(
                "file",
                Some("INV-1.pdf"),
                "application/pdf",
                b"%PDF-1.7\x00\xff",
            ),
        ]);
        let form = read_form(CT, b).await.unwrap();
        assert_eq!(form.document, br#"{"kind":"invoice"}"#);
        assert_eq!(form.files.len(), 1);
        assert_eq!(form.files[0].name, "INV-1.pdf");
        assert_eq!(form.files[0].content_type, "application/pdf");
        assert_eq!(form.files[0].bytes, b"%PDF-1.7\x00\xff");
    }

    #[tokio::test]
    async fn a_form_a_sender_got_wrong_is_refused_with_what_to_fix() {
        let doc = field("document", None, "application/json", b"{}");
        let cases: Vec<(Bytes, &str)> = vec![
            (
                body(&[field("file", Some("a.pdf"), "application/pdf", b"x")]),
                "no `document` field",
            ),
            (
                body(&[doc.clone(), doc.clone()]),
                "more than one `document`",
            ),
            (
                body(&[
                    doc.clone(),
                    field("pdf", Some("a.pdf"), "application/pdf", b"x"),
                ]),
                "unknown field `pdf`",
            ),
            (
                body(&[doc.clone(), field("file", None, "application/pdf", b"x")]),
                "without a file name",
            ),
            (
                body(
                    &std::iter::once(doc.clone())
                        .chain((0..11).map(|k| {
                            field("file", Some(&format!("{k}.pdf")), "application/pdf", b"x")
                        }))
                        .collect::<Vec<_>>(),
                ),
                "more than 10 `file`",
            ),
        ];
        for (b, expected) in cases {
            let err = read_form(CT, b).await.unwrap_err();
            assert!(err.contains(expected), "{expected:?} not in {err:?}");
        }
        let err = read_form("multipart/form-data", body(&[doc]))
            .await
            .unwrap_err();
        assert!(err.contains("boundary"), "{err}");
    }

    /// Field name, file name, content type, content.
    type Part<'a> = (&'a str, Option<&'a str>, &'a str, &'a [u8]);

    /// The same parts framed with another boundary say the same; any part's name, file name,
    /// type, content or place changed says something else.
    #[tokio::test]
    async fn the_request_hash_is_of_the_parts_not_the_framing() {
        let parts: [Part<'_>; 2] = [
            ("document", Some("a.json"), "application/json", b"{}"),
            ("file", Some("a.pdf"), "application/pdf", b"%PDF"),
        ];
        let framed = |boundary: &str, parts: &[Part<'_>]| {
            let mut b = Vec::new();
            for (name, file_name, ctype, bytes) in parts {
                let f = field(name, *file_name, ctype, bytes);
                b.extend_from_slice(&f);
            }
            b.extend_from_slice(b"--XYZ--\r\n");
            let b = String::from_utf8_lossy(&b).replace("XYZ", boundary);
            (
                format!("multipart/form-data; boundary={boundary}"),
                Bytes::from(b),
            )
        };
        let hash =
            |(ct, b): (String, Bytes)| async move { read_form(&ct, b).await.unwrap().request_hash };
        let first = hash(framed("XYZ", &parts)).await;
        assert_eq!(hash(framed("----other-0123", &parts)).await, first);
        let changed: [[Part<'_>; 2]; 6] = [
            [
                parts[0],
                ("file", Some("b.pdf"), "application/pdf", b"%PDF"),
            ],
            [
                parts[0],
                ("file", Some("a.pdf"), "application/x-pdf", b"%PDF"),
            ],
            [
                parts[0],
                ("file", Some("a.pdf"), "application/pdf", b"%PDF "),
            ],
            [("document", None, "application/json", b"{}"), parts[1]],
            [
                ("document", Some("a.json"), "application/json", b"{ }"),
                parts[1],
            ],
            [parts[1], parts[0]],
        ];
        for parts in changed {
            assert_ne!(hash(framed("XYZ", &parts)).await, first, "{parts:?}");
        }
        // Lengths keep the fields apart: a name and a file name split another way differ.
        let mut one = PartsDigest::default();
        one.part("ab", Some("c"), None, b"");
        let mut other = PartsDigest::default();
        other.part("a", Some("bc"), None, b"");
        assert_ne!(one.finish(), other.finish());
    }

    #[test]
    fn only_form_data_is_a_form() {
        assert!(is_form("multipart/form-data; boundary=x"));
        assert!(!is_form("application/json"));
        assert!(!is_form("multipart/related; boundary=x"));
    }
}
