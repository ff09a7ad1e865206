//! A cXML `ProfileRequest` posted to the running service: cXML has every server answer one
//! with a `ProfileResponse` listing the requests it takes and where (a client's discovery, and
//! its ping). The gateway answered it 406, "not a business document the gateway maps", and
//! kept it in the ledger as a rejected input. Now an authenticated sender gets Status 200 with
//! `InvoiceDetailRequest` at the URL it posted to; a sender with a wrong secret still gets 401,
//! and nothing is recorded either way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_cxml::reader::{Limits, parse_one};
use gateway_server::config::Config;
use gateway_server::service::Running;

mod common;

/// acme, authenticated by its shared secret.
const PARTNERS: &str = r#"[[partners]]
id = "acme"
[partners.cxml]
from_domain = "DUNS"
from_identity = "123456789"
sender_domain = "DUNS"
sender_identity = "123456789"
shared_secret = "acme-shared-secret"
"#;

fn config_with(dir: &std::path::Path, http: &str) -> Config {
    common::config(dir, http, PARTNERS)
}

async fn started(dir: &std::path::Path) -> Running {
    started_with(config_with(dir, "")).await
}

async fn started_with(config: Config) -> Running {
    common::started(config).await
}

/// The QA tester's ProfileRequest (`/tmp/qaC/inv/p1_profile.xml`), with `secret`.
fn profile_request(secret: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.020/cXML.dtd">
<cXML payloadID="qa-p1@acme" timestamp="2026-11-20T10:00:00-05:00" xml:lang="en-US">
<Header>
<From><Credential domain="DUNS"><Identity>123456789</Identity></Credential></From>
<To><Credential domain="NetworkID"><Identity>GLOBEX</Identity></Credential></To>
<Sender><Credential domain="DUNS"><Identity>123456789</Identity><SharedSecret>{secret}</SharedSecret></Credential><UserAgent>QA</UserAgent></Sender>
</Header>
<Request><ProfileRequest/></Request></cXML>"#
    )
}

async fn post(running: &Running, body: String, forwarded: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/cxml", running.base_url()))
        .header("content-type", "text/xml")
        .body(body);
    if let Some(proto) = forwarded {
        request = request.header("x-forwarded-proto", proto);
    }
    let r = request.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// `(Status@code, [(Transaction@requestName, URL)])` of a cXML Response.
fn answer(body: &str) -> (String, Vec<(String, String)>) {
    let tree = parse_one(body.as_bytes(), &Limits::default()).unwrap();
    let response = tree.root().unwrap().child("Response").unwrap();
    let code = response.child("Status").unwrap().attr("code").unwrap();
    let transactions = response
        .child("ProfileResponse")
        .map(|p| {
            p.children_named("Transaction")
                .map(|t| {
                    (
                        t.attr("requestName").unwrap_or_default().to_string(),
                        t.child("URL")
                            .map(|u| u.text())
                            .unwrap_or_default()
                            .to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (code.to_string(), transactions)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_request_is_answered_with_the_url_it_was_posted_to() {
    let dir = tempfile::tempdir().unwrap();
    let running = started(dir.path()).await;
    let at = format!("{}/cxml", running.base_url());

    let (status, body) = post(&running, profile_request("acme-shared-secret"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        answer(&body),
        (
            "200".into(),
            vec![("InvoiceDetailRequest".into(), at.clone())]
        ),
        "{body}"
    );

    // Behind a proxy that ends TLS, the URL the sender used is https.
    let (status, body) = post(
        &running,
        profile_request("acme-shared-secret"),
        Some("https"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let https = at.replacen("http://", "https://", 1);
    assert_eq!(
        answer(&body).1,
        vec![("InvoiceDetailRequest".to_string(), https)],
        "{body}"
    );

    // A wrong secret is refused as for any request: no profile for a stranger.
    let (status, body) = post(&running, profile_request("guess"), None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(answer(&body), ("401".into(), vec![]), "{body}");

    // Not a document: nothing was recorded.
    assert_eq!(running.ledger.counts().unwrap(), vec![]);
}

/// On a TLS listener, an HTTP/1.1 request line names no scheme and no proxy says one: the
/// ProfileResponse named `http://`, a URL the listener does not answer. It names the
/// listener's own scheme.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_request_over_tls_is_answered_with_an_https_url() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    let http = format!(
        "tls_cert = \"{}\"\ntls_key = \"{}\"",
        cert_path.display(),
        key_path.display()
    );
    let running = started_with(config_with(dir.path(), &http)).await;
    let port = running.http_addr.port();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .resolve("localhost", running.http_addr)
        .http1_only()
        .build()
        .unwrap();
    let r = client
        .post(format!("https://localhost:{port}/cxml"))
        .header("content-type", "text/xml")
        .body(profile_request("acme-shared-secret"))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body = r.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        answer(&body).1,
        vec![(
            "InvoiceDetailRequest".to_string(),
            format!("https://localhost:{port}/cxml")
        )],
        "{body}"
    );
}
