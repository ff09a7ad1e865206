//! `StatusUpdateRequest` with an `InvoiceStatus`: tells a cXML supplier what became of an
//! invoice it sent us.
//!
//! Why it exists: the supplier got a `200` when the gateway took its InvoiceDetailRequest, so
//! as far as its system knows the invoice is on its way to being paid. When the gateway later
//! gives the invoice up (Coupa rejected it and it is purged from the dead-letter queue), nothing
//! else would ever tell the supplier; this document does, with the reason in words.
//!
//! Element names, their order and the `InvoiceStatus@type` values follow cXML 1.2's
//! `StatusUpdateRequest` (cXML.dtd): `DocumentReference?`, `Status`, then `InvoiceStatus`, of
//! whose children only `InvoiceIDInfo` and `Comments` are written. The header is the one an
//! OrderRequest to the same partner gets: the buyer (us) is From and Sender, the supplier is
//! To.

use chrono::NaiveDate;
use gateway_core::{EncodeError, PartnerProfile};

use super::writer::Xml;
use super::{Dtd, begin, date_time, end, order_envelope};

/// Longest reason written, in characters. A supplier's system shows the comment to a person,
/// and Coupa's reasons are a sentence or two; a longer text is some system's dump that would
/// only bury the point, so it is cut.
const MAX_COMMENT_CHARS: usize = 2_000;

/// What became of an invoice, as cXML's `InvoiceStatus@type` names it.
///
/// A closed set because the DTD declares an enumeration: a supplier validating the document
/// refuses any other value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceStatusKind {
    Processing,
    Reconciled,
    Rejected,
    Paying,
    Paid,
}

impl InvoiceStatusKind {
    /// The wire value, spelled as the DTD's enumeration spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatusKind::Processing => "processing",
            InvoiceStatusKind::Reconciled => "reconciled",
            InvoiceStatusKind::Rejected => "rejected",
            InvoiceStatusKind::Paying => "paying",
            InvoiceStatusKind::Paid => "paid",
        }
    }
}

/// A status update about one invoice a supplier sent.
///
/// Borrows its text: the caller already holds it, and an update is written once.
#[derive(Debug, Clone)]
pub struct InvoiceStatusUpdate<'a> {
    /// payloadID of the supplier's InvoiceDetailRequest (written as
    /// `DocumentReference@payloadID`), so its system can match the update to what it sent;
    /// None (or blank) when unknown, and then no DocumentReference is written.
    pub payload_id: Option<&'a str>,
    /// The supplier's invoice number (`InvoiceIDInfo@invoiceID`): what a person at the
    /// supplier looks the invoice up by. Must not be blank.
    pub invoice_id: &'a str,
    /// The invoice date (`InvoiceIDInfo@invoiceDate`, written as a cXML timestamp of that
    /// date like the other dates this encoder writes); tells apart invoices whose numbers a
    /// supplier reuses.
    pub invoice_date: Option<NaiveDate>,
    pub status: InvoiceStatusKind,
    /// Why, in words (`Comments`), e.g. the reason Coupa gave. Any characters may appear
    /// (they are escaped); blank means no Comments, and more than 2,000 characters are cut
    /// and end with "…".
    pub comments: &'a str,
}

/// Writes one complete cXML `StatusUpdateRequest` document about one invoice, so the supplier
/// learns what became of an invoice it was told (by a `200`) had been taken.
///
/// The header is the one an OrderRequest to `partner` gets (From = us, To = the partner,
/// Sender = us with the outbound SharedSecret), because this is a request from the buyer's
/// side to the supplier.
///
/// Errors: [`EncodeError::Profile`] when the partner has no `[cxml]` section or lacks a
/// credential the header needs; [`EncodeError::Invalid`] for a blank invoice id or a character
/// XML 1.0 cannot carry.
pub fn encode_invoice_status_update(
    update: &InvoiceStatusUpdate<'_>,
    partner: &PartnerProfile,
) -> Result<Vec<u8>, EncodeError> {
    if update.invoice_id.trim().is_empty() {
        return Err(EncodeError::Invalid {
            path: "invoice_id".into(),
            message: "expected the supplier's invoice number (InvoiceIDInfo@invoiceID, \
                      required by cXML.dtd); found an empty one"
                .into(),
        });
    }
    let env = order_envelope(partner)?;
    let date = update.invoice_date.map(date_time);
    let comments = xml_safe(update.comments);
    let comments = bounded(comments.trim());
    let mut x = Xml::new();
    begin(&mut x, Dtd::Cxml, &env);
    x.open("StatusUpdateRequest", &[]);
    if let Some(p) = update.payload_id.filter(|p| !p.trim().is_empty()) {
        x.empty("DocumentReference", &[("payloadID", Some(p))]);
    }
    x.empty("Status", &[("code", Some("200")), ("text", Some("OK"))]);
    x.open("InvoiceStatus", &[("type", Some(update.status.as_str()))]);
    x.empty(
        "InvoiceIDInfo",
        &[
            ("invoiceID", Some(update.invoice_id)),
            ("invoiceDate", date.as_deref()),
        ],
    );
    if !comments.is_empty() {
        x.leaf("Comments", &[("xml:lang", Some("en"))], &comments);
    }
    x.close("InvoiceStatus");
    x.close("StatusUpdateRequest");
    end(&mut x);
    x.finish().map_err(|m| EncodeError::Invalid {
        path: "$".into(),
        message: m,
    })
}

/// `text` with each character XML 1.0 cannot hold (control characters other than tab and
/// line breaks, U+FFFE/U+FFFF) as a space: the reason comes from other systems (Coupa's error
/// bodies) and must get through to the supplier rather than make the notice unwritable.
fn xml_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r')
            || ('\u{20}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}'
    };
    if text.chars().all(allowed) {
        return text.into();
    }
    text.chars()
        .map(|c| if allowed(c) { c } else { ' ' })
        .collect::<String>()
        .into()
}

/// `text` cut to [`MAX_COMMENT_CHARS`] characters (never inside one) plus "…" when longer.
fn bounded(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_COMMENT_CHARS) {
        Some((cut, _)) => {
            let kept = text.get(..cut).unwrap_or_default().trim_end();
            format!("{kept}…").into()
        }
        None => text.into(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::reader::{Limits, Node, Tree, parse_one};

    fn profile() -> PartnerProfile {
        PartnerProfile::from_toml(
            r#"
id = "acme"
[cxml]
from_domain = "DUNS"
from_identity = "123456789"
to_domain = "NetworkID"
to_identity = "AN01000000123"
sender_domain = "DUNS"
sender_identity = "123456789-S"
shared_secret = "inbound-secret"
outbound_shared_secret = "outbound-secret"
payload_id_host = "gw.example"
"#,
            "test.toml",
        )
        .unwrap()
    }

    fn update(comments: &str) -> InvoiceStatusUpdate<'_> {
        InvoiceStatusUpdate {
            payload_id: Some("1773580000000.abc@supplier.example"),
            invoice_id: "INV-1",
            invoice_date: Some(NaiveDate::from_ymd_opt(2026, 3, 15).unwrap()),
            status: InvoiceStatusKind::Rejected,
            comments,
        }
    }

    fn parse(raw: &[u8]) -> Tree {
        parse_one(raw, &Limits::default()).unwrap()
    }

    fn at<'t>(tree: &'t Tree, path: &str) -> Node<'t> {
        let root = tree.root().unwrap();
        root.find(path)
            .unwrap_or_else(|| panic!("no {path} under {}", root.name()))
    }

    fn names(n: Node<'_>) -> Vec<&str> {
        n.children().map(|c| c.name()).collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Whatever words another system gives as the reason (any characters, markup, control
        /// characters, line breaks), the update is written, reads back as cXML, and carries
        /// the reason trimmed, each character XML cannot hold as a space.
        #[test]
        fn any_reason_is_written_and_read_back(
            reason in "(\\PC|[<>&'\"\\x00-\\x1f\u{FFFE}\u{FFFF}]){0,300}"
        ) {
            let raw = encode_invoice_status_update(&update(&reason), &profile()).unwrap();
            let tree = parse(&raw);
            let status = at(&tree, "Request/StatusUpdateRequest/InvoiceStatus");
            let comments = status.children().find(|c| c.name() == "Comments");
            let expected: String = reason
                .chars()
                .map(|c| {
                    let ok = matches!(c, '\t' | '\n' | '\r')
                        || ('\u{20}'..='\u{D7FF}').contains(&c)
                        || ('\u{E000}'..='\u{FFFD}').contains(&c)
                        || c >= '\u{10000}';
                    if ok { c } else { ' ' }
                })
                .collect();
            let expected = expected.trim();
            match comments {
                Some(c) => proptest::prop_assert_eq!(c.text(), expected),
                None => proptest::prop_assert!(expected.is_empty(), "{expected:?}"),
            }
        }
    }

    #[test]
    fn rejected_update_carries_header_reference_status_and_exact_reason() {
        let reason = "Line 2: price <> PO & tax 7 % — «refusé» by AP";
        let raw = encode_invoice_status_update(&update(reason), &profile()).unwrap();
        let text = std::str::from_utf8(&raw).unwrap();
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
        // The raw reason never appears: its markup characters are escaped.
        assert!(!text.contains(reason));

        let tree = parse(&raw);
        let doctype = tree.doctype.clone().unwrap();
        assert!(doctype.contains("/cXML.dtd"), "{doctype}");
        let root = tree.root().unwrap();
        assert_eq!(root.name(), "cXML");
        let payload = root.attr("payloadID").unwrap();
        assert!(payload.ends_with("@gw.example"), "{payload}");
        assert!(root.attr("timestamp").is_some());

        // From = us (the profile's to_*), To = the supplier (from_*), Sender = us + secret.
        assert_eq!(
            at(&tree, "Header/From/Credential").attr("domain"),
            Some("NetworkID")
        );
        assert_eq!(
            at(&tree, "Header/From/Credential/Identity").text(),
            "AN01000000123"
        );
        assert_eq!(
            at(&tree, "Header/To/Credential").attr("domain"),
            Some("DUNS")
        );
        assert_eq!(
            at(&tree, "Header/To/Credential/Identity").text(),
            "123456789"
        );
        assert_eq!(
            at(&tree, "Header/Sender/Credential/Identity").text(),
            "AN01000000123"
        );
        assert_eq!(
            at(&tree, "Header/Sender/Credential/SharedSecret").text(),
            "outbound-secret"
        );
        assert!(
            at(&tree, "Header/From/Credential")
                .child("SharedSecret")
                .is_none()
        );
        assert!(at(&tree, "Request").attr("deploymentMode").is_some());

        let sur = at(&tree, "Request/StatusUpdateRequest");
        assert_eq!(
            names(sur),
            ["DocumentReference", "Status", "InvoiceStatus"],
            "cXML.dtd order"
        );
        assert_eq!(
            at(&tree, "Request/StatusUpdateRequest/DocumentReference").attr("payloadID"),
            Some("1773580000000.abc@supplier.example")
        );
        let status = at(&tree, "Request/StatusUpdateRequest/Status");
        assert_eq!(status.attr("code"), Some("200"));
        assert_eq!(status.attr("text"), Some("OK"));
        let inv = at(&tree, "Request/StatusUpdateRequest/InvoiceStatus");
        assert_eq!(inv.attr("type"), Some("rejected"));
        assert_eq!(names(inv), ["InvoiceIDInfo", "Comments"]);
        let info = inv.child("InvoiceIDInfo").unwrap();
        assert_eq!(info.attr("invoiceID"), Some("INV-1"));
        assert_eq!(info.attr("invoiceDate"), Some("2026-03-15T00:00:00+00:00"));
        let comments = inv.child("Comments").unwrap();
        assert_eq!(comments.attr("xml:lang"), Some("en"));
        assert_eq!(comments.text(), reason);
    }

    #[test]
    fn unknown_reference_date_and_reason_are_left_out() {
        for (payload_id, comments) in [(None, ""), (Some(" "), "  \n\t ")] {
            let u = InvoiceStatusUpdate {
                payload_id,
                invoice_date: None,
                ..update(comments)
            };
            let raw = encode_invoice_status_update(&u, &profile()).unwrap();
            let tree = parse(&raw);
            let sur = at(&tree, "Request/StatusUpdateRequest");
            assert_eq!(names(sur), ["Status", "InvoiceStatus"]);
            let inv = sur.child("InvoiceStatus").unwrap();
            assert_eq!(names(inv), ["InvoiceIDInfo"]);
            let info = inv.child("InvoiceIDInfo").unwrap();
            assert_eq!(info.attr("invoiceID"), Some("INV-1"));
            assert_eq!(info.attr("invoiceDate"), None);
        }
    }

    #[test]
    fn every_kind_is_written_as_the_dtd_spells_it() {
        use InvoiceStatusKind::*;
        for (kind, wire) in [
            (Processing, "processing"),
            (Reconciled, "reconciled"),
            (Rejected, "rejected"),
            (Paying, "paying"),
            (Paid, "paid"),
        ] {
            let u = InvoiceStatusUpdate {
                status: kind,
                ..update("r")
            };
            let raw = encode_invoice_status_update(&u, &profile()).unwrap();
            let tree = parse(&raw);
            assert_eq!(
                at(&tree, "Request/StatusUpdateRequest/InvoiceStatus").attr("type"),
                Some(wire)
            );
        }
    }

    #[test]
    fn missing_profile_section_or_credential_is_a_profile_error() {
        let e =
            encode_invoice_status_update(&update("r"), &PartnerProfile::anonymous()).unwrap_err();
        assert!(
            matches!(e, EncodeError::Profile(ref m) if m.contains("no [cxml] section")),
            "{e}"
        );
        let mut p = profile();
        if let Some(c) = p.cxml.as_mut() {
            c.from_identity = None;
        }
        let e = encode_invoice_status_update(&update("r"), &p).unwrap_err();
        assert!(
            matches!(e, EncodeError::Profile(ref m) if m.contains("from_identity")),
            "{e}"
        );
    }

    #[test]
    fn blank_invoice_id_or_unwritable_character_is_invalid() {
        for id in ["", "   "] {
            let u = InvoiceStatusUpdate {
                invoice_id: id,
                ..update("r")
            };
            let e = encode_invoice_status_update(&u, &profile()).unwrap_err();
            assert!(
                matches!(e, EncodeError::Invalid { ref path, ref message }
                    if path == "invoice_id" && message.contains("invoice number")),
                "{e}"
            );
        }
        // In the invoice number a character XML cannot hold is refused; in the reason, which
        // comes from other systems, it becomes a space so the notice still goes.
        let mut u = update("fine");
        u.invoice_id = "INV\u{7}";
        let e = encode_invoice_status_update(&u, &profile()).unwrap_err();
        assert!(
            matches!(e, EncodeError::Invalid { ref message, .. } if message.contains("U+0007")),
            "{e}"
        );
        let raw = encode_invoice_status_update(&update("bell\u{7}rang\u{FFFE}twice"), &profile())
            .unwrap();
        let tree = parse(&raw);
        let text = at(&tree, "Request/StatusUpdateRequest/InvoiceStatus/Comments").text();
        assert_eq!(text, "bell rang twice");
    }

    #[test]
    fn long_reason_is_cut_at_a_character_boundary() {
        // 1,999 ASCII characters, then three-byte characters: the 2,000th character, the last
        // one kept, is multi-byte, and so is the first one dropped.
        let reason = format!("{}{}", "a".repeat(1_999), "€".repeat(3_001));
        assert_eq!(reason.chars().count(), 5_000);
        let raw = encode_invoice_status_update(&update(&reason), &profile()).unwrap();
        assert!(std::str::from_utf8(&raw).is_ok());
        let tree = parse(&raw);
        let text = at(&tree, "Request/StatusUpdateRequest/InvoiceStatus/Comments").text();
        assert_eq!(text.chars().count(), 2_001);
        let tail: String = text.chars().skip(1_995).collect();
        assert!(text.ends_with("€…"), "{tail}");
        let kept = text.strip_suffix('…').unwrap();
        assert_eq!(kept.chars().count(), 2_000);
        assert!(reason.starts_with(kept));
    }

    #[test]
    fn reason_of_exactly_the_limit_is_kept_whole() {
        let reason = "é".repeat(MAX_COMMENT_CHARS);
        let raw = encode_invoice_status_update(&update(&reason), &profile()).unwrap();
        let tree = parse(&raw);
        let text = at(&tree, "Request/StatusUpdateRequest/InvoiceStatus/Comments").text();
        assert_eq!(text, reason);
    }
}
