//! Response/Status documents, the status code of each outcome, and sender authentication.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_cxml::header::{AuthError, authenticate, header};
use adapter_cxml::response::{build, parse};
use adapter_cxml::{CxmlError, Outcome, Status, status_for};
use gateway_core::PartnerProfile;
use gateway_core::testkit::corpus_or_skip;

#[test]
fn every_outcome_has_its_code() {
    let table = [
        (Outcome::Ok, 200, "OK", 200),
        (Outcome::Accepted, 201, "Accepted", 200),
        (Outcome::BadRequest, 400, "Bad Request", 400),
        (Outcome::BadCredentials, 401, "Unauthorized", 401),
        (Outcome::NotParseable, 406, "Not Acceptable", 406),
        (Outcome::DuplicatePayload, 409, "Conflict", 409),
        (Outcome::BadReference, 417, "Expectation Failed", 417),
        (Outcome::DuplicateInvoice, 417, "Expectation Failed", 417),
        (Outcome::NotImplemented, 450, "Not Implemented", 400),
        (Outcome::Internal, 500, "Internal Server Error", 500),
    ];
    for (outcome, code, text, http) in table {
        let s = status_for(outcome);
        assert_eq!((s.code, s.text.as_str()), (code, text), "{outcome:?}");
        assert_eq!(s.http_status(), http, "{outcome:?}");
        assert_eq!(s.is_success(), code < 300, "{outcome:?}");
        assert_eq!(s.retryable(), code >= 500, "{outcome:?}");
    }
}

#[test]
fn decode_errors_map_to_406_or_450() {
    let bad = CxmlError::Syntax {
        location: "line 1".into(),
        message: "x".into(),
    };
    let unsupported = CxmlError::Unsupported {
        location: "/cXML/Request/ShipNoticeRequest".into(),
        message: "kind ShipNoticeRequest (ship_notice) is recognised but not yet mapped".into(),
    };
    assert_eq!(status_for(Outcome::of_error(&bad)).code, 406);
    assert_eq!(status_for(Outcome::of_error(&unsupported)).code, 450);
    assert_eq!(
        status_for(Outcome::of_auth(&AuthError::BadSecret)).code,
        401
    );
}

#[test]
fn built_responses_parse_back() {
    for outcome in [Outcome::Ok, Outcome::DuplicateInvoice, Outcome::Internal] {
        let status = status_for(outcome).with_message("invoice <INV-1> & \"more\"");
        let bytes = build(&status, "gw.example");
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("<Response>"), "{text}");
        assert!(text.contains("payloadID=\""), "{text}");
        assert_eq!(parse(&bytes).unwrap(), status);
        let h = header(&bytes).unwrap();
        assert!(h.payload_id.unwrap().ends_with("@gw.example"));
        assert_eq!(h.message.as_deref(), Some("Status"));
    }
    let plain = status_for(Outcome::Ok);
    let bytes = build(&plain, "gw.example");
    assert!(String::from_utf8_lossy(&bytes).contains("<Status code=\"200\" text=\"OK\"/>"));
    assert_eq!(parse(&bytes).unwrap(), plain);
}

#[test]
fn coupa_style_responses_parse() {
    let raw = br#"<cXML xml:lang="en-US" timestamp="2015-03-01T16:03:51+00:00" payloadID="20150301 160344.345"><Response><Status text="Unauthorized" code="401">Invalid credentials</Status></Response></cXML>"#;
    assert_eq!(
        parse(raw).unwrap(),
        Status::new(401, "Unauthorized", Some("Invalid credentials".into()))
    );
    let e = parse(b"<cXML><Response><Status code=\"OK\"/></Response></cXML>").unwrap_err();
    assert!(
        e.location().starts_with("/cXML/Response/Status/@code"),
        "{e}"
    );
    let e = parse(b"<cXML><Request/></cXML>").unwrap_err();
    assert!(e.to_string().contains("expected a Response"), "{e}");
}

#[test]
fn corpus_responses_parse() {
    let Some(other) = corpus_or_skip("cxml-other", "corpus_responses").unwrap() else {
        return;
    };
    let s = parse(&std::fs::read(other.join("officeluv__cxml__response_status_200.xml")).unwrap())
        .unwrap();
    assert_eq!((s.code, s.text.as_str(), s.message), (200, "OK", None));
    let malformed = corpus_or_skip("malformed", "corpus_responses")
        .unwrap()
        .unwrap();
    let s = parse(
        &std::fs::read(malformed.join("officeluv__cxml__document_node_with_unknown_attribute.xml"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(s, Status::new(200, "Ok", Some("123456".into())));
}

const INVOICE: &str = r#"<?xml version="1.0"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.020/InvoiceDetail.dtd">
<cXML payloadID="p-1@acme" timestamp="2026-01-01T00:00:00-05:00" version="1.2.020">
  <Header>
    <From><Credential domain="DUNS"><Identity>123456789</Identity></Credential></From>
    <To><Credential domain="NetworkID"><Identity>AN01</Identity></Credential></To>
    <Sender>
      <Credential domain="DUNS"><Identity>123456789</Identity><SharedSecret>open sesame</SharedSecret></Credential>
      <UserAgent>Acme 1.0</UserAgent>
    </Sender>
  </Header>
  <Request deploymentMode="test"><InvoiceDetailRequest/></Request>
</cXML>"#;

fn acme(secret: &str) -> PartnerProfile {
    PartnerProfile::from_toml(
        &format!(
            "id = \"acme\"\n[cxml]\nfrom_domain = \"duns\"\nfrom_identity = \"123456789\"\n\
             sender_domain = \"DUNS\"\nsender_identity = \"123456789\"\nshared_secret = \"{secret}\"\n"
        ),
        "acme.toml",
    )
    .unwrap()
}

#[test]
fn header_gives_credentials_and_the_secret_as_a_secret() {
    let h = header(INVOICE.as_bytes()).unwrap();
    assert_eq!(h.from[0].key(), "DUNS:123456789");
    assert_eq!(h.to[0].key(), "NetworkID:AN01");
    assert_eq!(h.sender[0].key(), "DUNS:123456789");
    assert_eq!(h.payload_id.as_deref(), Some("p-1@acme"));
    assert_eq!(h.timestamp.as_deref(), Some("2026-01-01T00:00:00-05:00"));
    assert_eq!(h.version.as_deref(), Some("1.2.020"));
    assert_eq!(h.deployment_mode.as_deref(), Some("test"));
    assert_eq!(h.user_agent.as_deref(), Some("Acme 1.0"));
    assert_eq!(h.message.as_deref(), Some("InvoiceDetailRequest"));
    assert!(h.shared_secret.as_ref().unwrap().matches("open sesame"));
    let shown = format!("{h:?} {:?}", h.meta());
    assert!(!shown.contains("open sesame"), "secret leaked: {shown}");
    assert_eq!(
        h.meta().extra.get("sender_credential").unwrap(),
        "DUNS:123456789"
    );
}

#[test]
fn authentication_checks_credentials_and_secret() {
    let h = header(INVOICE.as_bytes()).unwrap();
    assert_eq!(authenticate(&h, &acme("open sesame")), Ok(()));
    assert_eq!(
        authenticate(&h, &acme("open sesame!")),
        Err(AuthError::BadSecret)
    );
    // An empty shared_secret is none: nothing to check the sender against.
    assert!(matches!(
        authenticate(&h, &acme("")),
        Err(AuthError::NoSharedSecret { .. })
    ));
    let mut other = acme("open sesame");
    if let Some(c) = other.cxml.as_mut() {
        c.from_identity = Some("999".into());
    }
    assert!(matches!(
        authenticate(&h, &other),
        Err(AuthError::WrongCredential { role: "From", .. })
    ));
    let mut wrong_to = acme("open sesame");
    if let Some(c) = wrong_to.cxml.as_mut() {
        c.to_domain = Some("NetworkID".into());
        c.to_identity = Some("AN99".into());
    }
    assert!(matches!(
        authenticate(&h, &wrong_to),
        Err(AuthError::WrongCredential { role: "To", .. })
    ));
    assert!(matches!(
        authenticate(&h, &PartnerProfile::anonymous()),
        Err(AuthError::NoProfile(_))
    ));
    let no_secret = INVOICE.replace("<SharedSecret>open sesame</SharedSecret>", "");
    let h = header(no_secret.as_bytes()).unwrap();
    assert_eq!(
        authenticate(&h, &acme("open sesame")),
        Err(AuthError::MissingSecret)
    );
    for e in [AuthError::BadSecret, AuthError::MissingSecret] {
        assert!(!e.to_string().contains("open sesame"));
    }
}

#[test]
fn header_refuses_hostile_input_like_the_decoder() {
    let raw = "<!DOCTYPE cXML [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><cXML>&x;</cXML>";
    assert!(matches!(
        header(raw.as_bytes()),
        Err(CxmlError::Entity { .. })
    ));
    assert!(
        header(b"<Foo/>")
            .unwrap_err()
            .to_string()
            .contains("expected <cXML>")
    );
}

/// A ProfileRequest is known from its header (before any decoding), and a document is not one.
#[test]
fn a_profile_request_is_known_from_its_header() {
    let profile = INVOICE.replace("<InvoiceDetailRequest/>", "<ProfileRequest/>");
    assert!(header(profile.as_bytes()).unwrap().is_profile_request());
    assert!(!header(INVOICE.as_bytes()).unwrap().is_profile_request());
    // From a file or a mail, where no answer goes back, it is refused saying where it goes.
    use gateway_core::Decode;
    let d = adapter_cxml::CxmlCodec::new().decode(profile.as_bytes(), &acme("open sesame"));
    assert!(d.documents.is_empty());
    assert!(
        d.rejects[0]
            .location
            .starts_with("/cXML/Request/ProfileRequest")
            && d.rejects[0].message.contains("POST /cxml"),
        "{:?}",
        d.rejects
    );
}

/// The answer to a ProfileRequest: Status 200 and a ProfileResponse (Profile.mod:
/// `Response (Status, ProfileResponse?)`, `ProfileResponse (Option*, Transaction+)` with
/// `effectiveDate` required and zoned, `Transaction (URL, Option*)` with `requestName`
/// required) naming InvoiceDetailRequest at the URL given, escaped.
#[test]
fn a_profile_response_names_the_invoice_request_at_the_url() {
    use adapter_cxml::reader::{Limits, parse_one};
    use adapter_cxml::response::{PROFILE_EFFECTIVE_DATE, profile_response};

    let url = "https://gw.example:8443/cxml?a=1&b=2";
    let bytes = profile_response(url, "gw.example");
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        text.contains("<URL>https://gw.example:8443/cxml?a=1&amp;b=2</URL>"),
        "{text}"
    );
    assert!(text.contains("cXML.dtd"), "{text}");
    // The Status reads back as any Response's.
    assert_eq!(parse(&bytes).unwrap(), status_for(Outcome::Ok));
    let h = header(&bytes).unwrap();
    assert!(h.payload_id.unwrap().ends_with("@gw.example"));

    let tree = parse_one(&bytes, &Limits::default()).unwrap();
    let response = tree.root().unwrap().child("Response").unwrap();
    let names: Vec<&str> = response.children().map(|c| c.name()).collect();
    assert_eq!(names, ["Status", "ProfileResponse"]);
    let profile = response.child("ProfileResponse").unwrap();
    let effective = profile.attr("effectiveDate").unwrap();
    assert_eq!(effective, PROFILE_EFFECTIVE_DATE);
    let when = chrono::DateTime::parse_from_rfc3339(effective).unwrap();
    assert!(when <= chrono::Utc::now(), "effectiveDate in the future");
    let transactions: Vec<(&str, Vec<&str>, &str)> = profile
        .children()
        .map(|t| {
            assert_eq!(t.name(), "Transaction");
            (
                t.attr("requestName").unwrap(),
                t.children().map(|c| c.name()).collect(),
                t.child("URL").unwrap().text(),
            )
        })
        .collect();
    assert_eq!(
        transactions,
        [("InvoiceDetailRequest", vec!["URL"], url)],
        "{text}"
    );
}

/// QA (qaC f5 item 1): a partner whose `[cxml]` has no `shared_secret` (only its From, To and
/// Sender credentials, which every document it sends shows, or only the
/// `outbound_shared_secret` its POs go with) took an InvoiceDetailRequest with any
/// SharedSecret, or none, and it was delivered to Coupa. Now it is refused, saying what to set.
#[test]
fn a_profile_without_a_shared_secret_authenticates_no_one() {
    let no_secret = INVOICE.replace("<SharedSecret>open sesame</SharedSecret>", "");
    for profile in [
        "id = \"acme\"\n[cxml]\nfrom_domain = \"duns\"\nfrom_identity = \"123456789\"\n",
        "id = \"acme\"\n[cxml]\nfrom_domain = \"duns\"\nfrom_identity = \"123456789\"\n\
         outbound_shared_secret = \"globex-to-acme\"\n",
    ] {
        let profile = PartnerProfile::from_toml(profile, "acme.toml").unwrap();
        for raw in [INVOICE, no_secret.as_str()] {
            let h = header(raw.as_bytes()).unwrap();
            let refused = authenticate(&h, &profile).unwrap_err();
            assert_eq!(
                refused,
                AuthError::NoSharedSecret {
                    partner: "acme".into()
                }
            );
            let said = refused.to_string();
            assert!(
                said.contains("has no shared_secret in [partners.cxml]")
                    && said.contains("GATEWAY__PARTNERS__ACME__CXML__SHARED_SECRET"),
                "{said}"
            );
            assert_eq!(
                status_for(Outcome::of_auth(&refused)).http_status(),
                401,
                "{said}"
            );
        }
    }
}
