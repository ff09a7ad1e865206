//! What a sender is told when a credential of its cXML does not match its partner profile.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_cxml::header::{AuthError, authenticate, header};
use gateway_core::PartnerProfile;

const INVOICE: &str = r#"<?xml version="1.0"?>
<cXML payloadID="p-1@acme" timestamp="2026-01-01T00:00:00-05:00" version="1.2.020">
  <Header>
    <From><Credential domain="DUNS"><Identity>555000111</Identity></Credential></From>
    <To><Credential domain="NetworkID"><Identity>SOMEONE-ELSE</Identity></Credential></To>
    <Sender>
      <Credential domain="DUNS"><Identity>555000111</Identity><SharedSecret>cx-secret-42</SharedSecret></Credential>
      <UserAgent>Acme 1.0</UserAgent>
    </Sender>
  </Header>
  <Request deploymentMode="test"><InvoiceDetailRequest/></Request>
</cXML>"#;

fn cxmlsup(from_identity: &str) -> PartnerProfile {
    PartnerProfile::from_toml(
        &format!(
            "id = \"cxmlsup\"\n[cxml]\nfrom_domain = \"DUNS\"\nfrom_identity = \"{from_identity}\"\n\
             to_domain = \"NetworkID\"\nto_identity = \"GLOBEX\"\nshared_secret = \"cx-secret-42\"\n"
        ),
        "cxmlsup.toml",
    )
    .unwrap()
}

/// QA: a cXML sent To another credential was refused with "the To credential does not match
/// partner cxmlsup" and nothing about what it should be, while an X12 one sent to the wrong
/// receiver is told "send it to ZZ:GLOBEX". The To credential is the buyer's own, no secret:
/// it is named. A partner's own From is not.
#[test]
fn a_wrong_to_credential_is_told_the_one_to_use() {
    let h = header(INVOICE.as_bytes()).unwrap();
    let refused = authenticate(&h, &cxmlsup("555000111")).unwrap_err();
    assert!(
        matches!(refused, AuthError::WrongCredential { role: "To", .. }),
        "{refused:?}"
    );
    assert_eq!(
        refused.to_string(),
        "the To credential does not match partner cxmlsup: expected NetworkID:GLOBEX \
         (domain:identity), this gateway's own"
    );

    let refused = authenticate(&h, &cxmlsup("999")).unwrap_err();
    assert!(
        matches!(refused, AuthError::WrongCredential { role: "From", .. }),
        "{refused:?}"
    );
    assert_eq!(
        refused.to_string(),
        "the From credential does not match partner cxmlsup"
    );
}
