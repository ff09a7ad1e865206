//! OAuth client credentials against the sandbox: fetch, cache, refresh before expiry, one
//! refresh-and-retry on 401, refused credentials retryable for the bus but not retried at once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use adapter_coupa::{CoupaClient, CoupaError, TokenCheck};
use gateway_core::Secret;
use gateway_sandbox::{FaultKind, FaultSpec, SandboxOptions};

#[tokio::test]
async fn token_is_fetched_once_and_cached() {
    let env = common::start().await;
    let c = common::client(&env);
    c.supplier_by_id(env.supplier_id).await.unwrap();
    c.supplier_by_name("Acme Supplies").await.unwrap();
    c.supplier_by_number("ACME-1").await.unwrap();
    assert_eq!(env.sandbox.stats().tokens_issued, 1);
    assert_eq!(c.stats().tokens_fetched, 1);
}

#[tokio::test]
async fn token_is_refreshed_before_it_expires() {
    // Tokens live 60 s; the client refreshes 120 s before expiry, so every token is already
    // due for refresh when the next call comes: each call fetches a new one.
    let env = common::start_with(SandboxOptions {
        token_ttl: Duration::from_secs(60),
        ..SandboxOptions::default()
    })
    .await;
    let mut cfg = common::config(&env);
    cfg.token_refresh_margin = Duration::from_secs(120);
    let c = CoupaClient::new(cfg).unwrap();
    c.find_invoice(env.supplier_id, "A").await.unwrap();
    c.find_invoice(env.supplier_id, "B").await.unwrap();
    c.find_invoice(env.supplier_id, "C").await.unwrap();
    assert_eq!(env.sandbox.stats().tokens_issued, 3);
    assert_eq!(
        env.sandbox.stats().unauthorized,
        0,
        "never sent an expired token"
    );
}

#[tokio::test]
async fn expired_token_gets_one_refresh_and_retry() {
    let env = common::start().await;
    let c = common::client(&env);
    assert_eq!(c.find_invoice(env.supplier_id, "X").await.unwrap(), None);
    env.sandbox.expire_tokens();
    // The cached token is now refused with 401; the client refreshes and the call succeeds.
    assert_eq!(c.find_invoice(env.supplier_id, "X").await.unwrap(), None);
    assert_eq!(env.sandbox.stats().tokens_issued, 2);
    assert_eq!(env.sandbox.stats().unauthorized, 1);
    assert_eq!(c.stats().unauthorized_refreshes, 1);
}

/// Wrong credentials are the gateway's fault, not the document's: the error is retryable (the
/// bus keeps the invoice in its retry tiers until they are fixed) but the client does not ask
/// again within the call, where it would fail the same way; it names what to check, never the
/// secret, and the client remembers the refusal for readiness.
#[tokio::test]
async fn bad_client_secret_is_retryable_later_but_not_retried_at_once() {
    let env = common::start().await;
    let mut cfg = common::config(&env);
    cfg.client_secret = Secret::new("wrong-secret-5e2a");
    let c = CoupaClient::new(cfg).unwrap();
    assert_eq!(c.token_refusal(), None, "nothing refused before asking");
    let err = c.find_invoice(env.supplier_id, "X").await.unwrap_err();
    let CoupaError::TokenRefused(refusal) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(refusal.status, 401);
    assert_eq!(refusal.code.as_deref(), Some("invalid_client"));
    assert_eq!(refusal.check(), TokenCheck::Credentials);
    assert!(
        err.is_retryable(),
        "a credential mistake must not kill documents"
    );
    assert!(!err.is_retryable_now());
    assert_eq!(
        common::token_requests(&env),
        1,
        "asked for a token once, not max_attempts times"
    );
    let text = format!("{err} {err:?}");
    assert!(!text.contains("wrong-secret-5e2a"), "secret leaked: {text}");
    assert!(
        err.to_string().contains("401 invalid_client")
            && err.to_string().contains("client_id and client_secret"),
        "{err}"
    );
    assert_eq!(c.token_refusal().as_ref(), Some(refusal));
}

#[tokio::test]
async fn scope_not_granted_is_refused_naming_the_scopes() {
    let env = common::start().await;
    let mut cfg = common::config(&env);
    cfg.scopes = vec!["core.invoice.read".into(), "core.bogus.write".into()];
    let c = CoupaClient::new(cfg).unwrap();
    let err = c.find_invoice(env.supplier_id, "X").await.unwrap_err();
    let CoupaError::TokenRefused(refusal) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(refusal.summary(), "400 invalid_scope");
    assert_eq!(refusal.check(), TokenCheck::Scopes);
    assert!(err.to_string().contains("core.bogus.write"), "{err}");
    assert!(err.is_retryable() && !err.is_retryable_now());
}

/// The refusal lasts until Coupa takes the credentials again (a secret rotated back, Coupa's
/// side fixed): then the client forgets it and the same call goes through.
#[tokio::test]
async fn a_token_refusal_is_forgotten_once_a_token_is_issued() {
    let env = common::start().await;
    let c = common::client(&env);
    assert!(env.sandbox.inject(FaultSpec::new(
        "POST /oauth2/token",
        FaultKind::Status { status: 401 },
        1
    )));
    let err = c.find_invoice(env.supplier_id, "X").await.unwrap_err();
    assert!(
        matches!(&err, CoupaError::TokenRefused(r) if r.status == 401),
        "{err:?}"
    );
    assert_eq!(
        c.token_refusal().map(|r| r.check()),
        Some(TokenCheck::Credentials)
    );
    assert_eq!(c.find_invoice(env.supplier_id, "X").await.unwrap(), None);
    assert_eq!(c.token_refusal(), None);
}

#[tokio::test]
async fn missing_scope_on_a_route_is_forbidden() {
    let env = common::start().await;
    let mut cfg = common::config(&env);
    cfg.scopes = vec!["core.invoice.read".into()];
    let c = CoupaClient::new(cfg).unwrap();
    let err = c.mark_exported(1).await.unwrap_err();
    assert!(matches!(err, CoupaError::Forbidden(_)), "{err:?}");
}

/// Coupa asks clients to wait after generating a token before using it. A client that
/// waits (`token_activation`, 5 s by default) is never refused; one that does not is
/// refused, and each refresh gets a token just as new, so the call fails, as retryable.
#[tokio::test]
async fn a_new_token_is_used_only_once_coupa_has_activated_it() {
    let env = common::start_with(SandboxOptions {
        token_activation: Duration::from_secs(1),
        ..SandboxOptions::default()
    })
    .await;
    let mut cfg = common::config(&env);
    cfg.token_activation = Duration::from_secs(1);
    let c = CoupaClient::new(cfg).unwrap();
    assert_eq!(c.find_invoice(env.supplier_id, "X").await.unwrap(), None);
    assert_eq!(env.sandbox.stats().unauthorized, 0);

    let env = common::start_with(SandboxOptions {
        token_activation: Duration::from_secs(600),
        ..SandboxOptions::default()
    })
    .await;
    let c = common::client(&env);
    let err = c.find_invoice(env.supplier_id, "X").await.unwrap_err();
    assert!(matches!(err, CoupaError::Unauthorized(_)), "{err:?}");
    // The token endpoint took the credentials, so this may settle: each of the client's
    // attempts refreshes once, and then the bus tries again later (no dead letter).
    assert!(err.is_retryable());
    let attempts = u64::from(common::config(&env).max_attempts);
    assert_eq!(env.sandbox.stats().unauthorized, 2 * attempts);
    assert_eq!(c.stats().unauthorized_refreshes, attempts);
}
