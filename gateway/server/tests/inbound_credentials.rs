//! QA (qaC f5 item 1): a partner whose `[partners.cxml]` has no `shared_secret`
//! (`/tmp/qaC/cfgerr/c7.toml`, or only `outbound_shared_secret`, `c9.toml`) had `POST /cxml`
//! take its invoices with any SharedSecret, or none, and deliver them to Coupa: its From
//! credentials, printed on every document it sends, were all that was checked. `POST /x12`
//! checked nothing but the ISA sender. Through the running service: each endpoint now refuses
//! a partner without its credential with 401, saying what to set, takes nothing, and `serve`
//! names such partners in a warning as it starts; a partner with its credential still gets in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gateway_core::{Format, PartnerProfile, Secret};
use gateway_model::Document;
use gateway_server::codecs::Codecs;
use gateway_server::service::Running;

mod common;

/// `cxmlsup` as in c7.toml (no secret), `cx-po-only` as in c9.toml (only the one its POs go
/// with), `steel` (X12, no token), and `acme` with both credentials.
const PARTNERS: &str = r#"
[[partners]]
id = "cxmlsup"
[partners.cxml]
from_domain = "DUNS"
from_identity = "555000111"
to_domain = "NetworkID"
to_identity = "GLOBEX"
sender_domain = "DUNS"
sender_identity = "555000111"

[[partners]]
id = "cx-po-only"
[partners.cxml]
from_domain = "DUNS"
from_identity = "555000222"
to_domain = "NetworkID"
to_identity = "GLOBEX"
outbound_shared_secret = "globex-to-cx"

[[partners]]
id = "steel"
[partners.x12]
partner_qualifier = "ZZ"
partner_id = "EDISTEEL"
our_qualifier = "ZZ"
our_id = "GLOBEX"

[[partners]]
id = "acme"
api_token = "acme-token"
[partners.cxml]
from_domain = "DUNS"
from_identity = "123456789"
to_domain = "NetworkID"
to_identity = "GLOBEX"
shared_secret = "acme-secret"
[partners.x12]
partner_qualifier = "ZZ"
partner_id = "ACMESUPPLY"
our_qualifier = "ZZ"
our_id = "GLOBEX"
"#;

fn partner(partners: &[PartnerProfile], id: &str) -> PartnerProfile {
    partners.iter().find(|p| p.id == id).unwrap().clone()
}

/// An invoice numbered `number` as cXML from `profile` with `secret` as its SharedSecret.
fn cxml(profile: &PartnerProfile, secret: Option<&str>, number: &str) -> Vec<u8> {
    let mut sender = profile.clone();
    if let Some(c) = sender.cxml.as_mut() {
        c.shared_secret = secret.map(Secret::new);
    }
    let inv = gateway_server::demo::DemoEnv::invoice(number).unwrap();
    Codecs::standard()
        .encoder(Format::Cxml)
        .unwrap()
        .encode(&[Document::Invoice(inv)], &sender)
        .unwrap()
}

/// An 810 numbered `number` as `profile`'s partner sends it (its ids as the ISA sender).
fn x12(profile: &PartnerProfile, number: &str) -> Vec<u8> {
    let mut sender = profile.clone();
    if let Some(x) = sender.x12.as_mut() {
        std::mem::swap(&mut x.our_id, &mut x.partner_id);
        std::mem::swap(&mut x.our_qualifier, &mut x.partner_qualifier);
    }
    let inv = gateway_server::demo::DemoEnv::invoice(number).unwrap();
    Codecs::standard()
        .encoder(Format::X12)
        .unwrap()
        .encode(&[Document::Invoice(inv)], &sender)
        .unwrap()
}

/// POSTs `body` to `path` (with `token` as the bearer token): status, WWW-Authenticate, body.
async fn post(
    running: &Running,
    path: &str,
    token: Option<&str>,
    body: Vec<u8>,
) -> (u16, String, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", running.base_url()))
        .body(body);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let r = request.send().await.unwrap();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (r.status().as_u16(), challenge, r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_without_its_credential_is_refused_over_http_and_named_at_start() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(dir.path(), "", PARTNERS);
    let partners = config.partners.clone();
    let running = common::started(config).await;

    // cXML from a partner whose profile has no shared_secret: with a wrong one, none, or the
    // one its POs go with.
    let cxmlsup = partner(&partners, "cxmlsup");
    let po_only = partner(&partners, "cx-po-only");
    for (body, who) in [
        (cxml(&cxmlsup, Some("wrong"), "CX-INV-2"), "cxmlsup"),
        (cxml(&cxmlsup, None, "CX-INV-3"), "cxmlsup"),
        (
            cxml(&po_only, Some("globex-to-cx"), "CX-INV-4"),
            "cx-po-only",
        ),
    ] {
        let (status, _, answer) = post(&running, "/cxml", None, body).await;
        assert_eq!(status, 401, "{answer}");
        assert!(
            answer.contains(&format!(
                "partner {who}'s profile has no shared_secret in [partners.cxml]"
            )) && answer.contains("set shared_secret"),
            "{answer}"
        );
    }
    // X12 over HTTP from a partner without an api_token, whatever token is sent.
    let steel = partner(&partners, "steel");
    let (status, challenge, answer) =
        post(&running, "/x12", Some("guess"), x12(&steel, "ST-INV-5")).await;
    assert_eq!(status, 401, "{answer}");
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert!(
        answer.contains("partner steel's profile has no api_token")
            && answer.contains("GATEWAY__PARTNERS__STEEL__API_TOKEN"),
        "{answer}"
    );
    // acme's X12 without its token, or with another: refused too.
    let acme = partner(&partners, "acme");
    for token in [None, Some("acme-token-but-wrong")] {
        let (status, challenge, answer) =
            post(&running, "/x12", token, x12(&acme, "ACME-X12-REFUSED")).await;
        assert_eq!(status, 401, "{token:?}: {answer}");
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        assert!(answer.contains("missing or wrong bearer token"), "{answer}");
    }
    assert!(
        running.ledger.list(None, None, 10).unwrap().is_empty(),
        "a refused request took something"
    );

    // acme, with its credentials, gets in by both.
    let (status, _, answer) = post(
        &running,
        "/cxml",
        None,
        cxml(&acme, Some("acme-secret"), "ACME-CX-1"),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let (status, _, answer) = post(
        &running,
        "/x12",
        Some("acme-token"),
        x12(&acme, "ACME-X12-1"),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.starts_with("ISA"), "{answer}");
    let taken: Vec<String> = running
        .ledger
        .list(None, None, 10)
        .unwrap()
        .into_iter()
        .map(|e| e.number)
        .collect();
    assert_eq!(taken.len(), 2, "{taken:?}");

    // Named as `serve` starts, each with what to set.
    let logged = common::logged();
    for line in [
        "partner cxmlsup has [partners.cxml] without shared_secret",
        "partner cx-po-only has [partners.cxml] without shared_secret",
        "partner steel has [partners.x12] without api_token",
    ] {
        assert!(logged.contains(line), "{line:?} not logged:\n{logged}");
    }
    assert!(!logged.contains("partner acme has"), "{logged}");
    running.shutdown().await;
}
