//! QA: the gateway's HTTP clients followed 307/308 redirects, re-sending the whole request (a
//! document, the token request with the client secret) to whatever host the `Location` named.
//! The Coupa client follows none now: a 3xx is `CoupaError::Redirected`, permanent, naming the
//! status and the (redacted) `Location`; the redirecting sandbox sees the one request, the
//! host it points at sees nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use adapter_coupa::CoupaError;
use gateway_core::DeliveryError;
use gateway_sandbox::{FaultKind, FaultSpec, Sandbox, SandboxHandle, SandboxOptions};

/// How many requests `sandbox` served on `method path`.
fn served(sandbox: &SandboxHandle, method: &str, path: &str) -> usize {
    sandbox
        .request_log()
        .iter()
        .filter(|r| r.method == method && r.path == path)
        .count()
}

/// A second host, where the redirects point.
async fn elsewhere() -> SandboxHandle {
    Sandbox::start(SandboxOptions::default()).await.unwrap()
}

/// Arms `count` redirects with `status` on `route` of `env`'s sandbox, to `location`.
fn redirect(env: &common::Env, route: &str, status: u16, location: &str) {
    assert!(env.sandbox.inject(FaultSpec::new(
        route,
        FaultKind::Redirect {
            status,
            location: location.to_string(),
        },
        5,
    )));
}

#[tokio::test]
async fn an_invoice_create_answered_with_a_redirect_goes_nowhere_else_and_is_not_retried() {
    let env = common::start().await;
    let other = elsewhere().await;
    let location = format!("{}/api/invoices?token=STOLEN-TOKEN", other.base_url());
    redirect(&env, "POST /api/invoices", 307, &location);
    let c = common::client(&env);

    let err = c
        .create_invoice(&common::invoice_body(env.supplier_id, "INV-R1"))
        .await
        .unwrap_err();

    let shown = format!("{}/api/invoices?token=***", other.base_url());
    assert_eq!(
        err,
        CoupaError::Redirected {
            status: 307,
            location: shown.clone()
        }
    );
    assert!(!err.is_retryable() && !err.is_retryable_now());
    match DeliveryError::from(err) {
        DeliveryError::Permanent { reason } => {
            assert!(
                reason.contains("HTTP 307")
                    && reason.contains(&shown)
                    && reason.contains("[coupa] base_url")
                    && !reason.contains("STOLEN-TOKEN"),
                "{reason}"
            );
        }
        other => panic!("a redirect must be permanent: {other:?}"),
    }
    assert_eq!(served(&env.sandbox, "POST", "/api/invoices"), 1);
    assert!(other.request_log().is_empty(), "{:?}", other.request_log());
    assert!(env.sandbox.invoices().is_empty() && other.invoices().is_empty());
}

#[tokio::test]
async fn a_redirected_token_request_does_not_take_the_client_secret_elsewhere() {
    let env = common::start().await;
    let other = elsewhere().await;
    let location = format!("{}/oauth2/token", other.base_url());
    redirect(&env, "POST /oauth2/token", 308, &location);
    let c = common::client(&env);

    let err = c.supplier_by_id(env.supplier_id).await.unwrap_err();

    assert_eq!(
        err,
        CoupaError::Redirected {
            status: 308,
            location
        }
    );
    assert!(!err.is_retryable());
    assert!(!err.to_string().contains("sandbox-secret"), "{err}");
    assert_eq!(served(&env.sandbox, "POST", "/oauth2/token"), 1);
    assert!(other.request_log().is_empty(), "{:?}", other.request_log());
    assert_eq!(other.stats().tokens_issued, 0);
}

#[tokio::test]
async fn a_cxml_invoice_answered_with_a_redirect_is_not_sent_on() {
    let env = common::start().await;
    let other = elsewhere().await;
    let location = format!("{}/cxml/invoices", other.base_url());
    redirect(&env, "POST /cxml/invoices", 302, &location);
    let c = common::client(&env);

    let err = c
        .send_cxml_invoice("<cXML payloadID=\"r1\"/>")
        .await
        .unwrap_err();

    assert_eq!(
        err,
        CoupaError::Redirected {
            status: 302,
            location
        }
    );
    assert_eq!(served(&env.sandbox, "POST", "/cxml/invoices"), 1);
    assert!(other.request_log().is_empty(), "{:?}", other.request_log());
}
