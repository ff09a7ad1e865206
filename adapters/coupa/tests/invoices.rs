//! Invoice delivery against the sandbox over HTTP: create + submit + find, the duplicate guard
//! after an ambiguous timeout, 429 with Retry-After, 5xx retries, permanent validation errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use adapter_coupa::{CoupaClient, CoupaError};
use gateway_sandbox::{FaultKind, FaultSpec};
use serde_json::json;

#[tokio::test]
async fn create_submit_and_find() {
    let env = common::start().await;
    let c = common::client(&env);
    let out = c
        .deliver_invoice(
            &common::invoice_body(env.supplier_id, "INV-1"),
            env.supplier_id,
        )
        .await
        .unwrap();
    assert!(!out.already_present);
    assert!(out.submitted);
    assert_eq!(out.invoice.status.as_deref(), Some("pending_approval"));
    let found = c
        .find_invoice(env.supplier_id, "INV-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, out.invoice.id);
    assert_eq!(
        c.find_invoice(env.supplier_id, "INV-2").await.unwrap(),
        None
    );
    let stored = env.sandbox.invoices();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["status"], "pending_approval");
    assert_eq!(stored[0]["invoice-lines"][0]["price"], "250.00");
}

#[tokio::test]
async fn draft_only_when_submit_is_off() {
    let env = common::start().await;
    let mut cfg = common::config(&env);
    cfg.submit_after_create = false;
    let c = CoupaClient::new(cfg).unwrap();
    let out = c
        .deliver_invoice(
            &common::invoice_body(env.supplier_id, "INV-D"),
            env.supplier_id,
        )
        .await
        .unwrap();
    assert!(!out.submitted);
    assert_eq!(env.sandbox.invoices()[0]["status"], "draft");
}

#[tokio::test]
async fn second_delivery_finds_the_first() {
    let env = common::start().await;
    let c = common::client(&env);
    let body = common::invoice_body(env.supplier_id, "INV-R");
    let first = c.deliver_invoice(&body, env.supplier_id).await.unwrap();
    let again = c.deliver_invoice(&body, env.supplier_id).await.unwrap();
    assert!(again.already_present);
    assert_eq!(again.invoice.id, first.invoice.id);
    assert_eq!(common::count_invoices(&env, "INV-R"), 1);
    assert_eq!(c.stats().found_existing, 1);
}

#[tokio::test]
async fn ambiguous_timeout_after_commit_creates_exactly_one_invoice() {
    let env = common::start().await;
    let c = common::impatient_client(&env);
    // The sandbox creates the invoice, then never answers: the client times out not knowing.
    assert!(env.sandbox.inject(FaultSpec::new(
        "POST /api/invoices",
        FaultKind::CommitThenDrop,
        1
    )));
    let out = c
        .deliver_invoice(
            &common::invoice_body(env.supplier_id, "INV-AMB"),
            env.supplier_id,
        )
        .await
        .unwrap();
    assert_eq!(common::count_invoices(&env, "INV-AMB"), 1);
    assert_eq!(c.stats().ambiguous_outcomes, 1);
    assert_eq!(c.stats().found_existing, 1);
    assert_eq!(
        out.invoice.id,
        env.sandbox.invoices()[0]["id"].as_u64().unwrap()
    );
    // It was still submitted.
    assert_eq!(env.sandbox.invoices()[0]["status"], "pending_approval");
    // Exactly one create was attempted.
    let posts = env
        .sandbox
        .request_log()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/invoices")
        .count();
    assert_eq!(posts, 1);
}

#[tokio::test]
async fn hang_before_commit_is_retried_and_creates_once() {
    let env = common::start().await;
    let c = common::impatient_client(&env);
    assert!(
        env.sandbox
            .inject(FaultSpec::new("POST /api/invoices", FaultKind::Hang, 1))
    );
    c.deliver_invoice(
        &common::invoice_body(env.supplier_id, "INV-H"),
        env.supplier_id,
    )
    .await
    .unwrap();
    assert_eq!(common::count_invoices(&env, "INV-H"), 1);
    assert_eq!(c.stats().timeouts, 1);
}

#[tokio::test]
async fn rate_limit_retry_after_is_honoured() {
    let env = common::start().await;
    let c = common::client(&env);
    env.sandbox.inject(FaultSpec::new(
        "POST /api/invoices",
        FaultKind::RateLimit { retry_after: 1 },
        1,
    ));
    c.deliver_invoice(
        &common::invoice_body(env.supplier_id, "INV-429"),
        env.supplier_id,
    )
    .await
    .unwrap();
    assert_eq!(common::count_invoices(&env, "INV-429"), 1);
    assert_eq!(env.sandbox.stats().served_429, 1);
    let s = c.stats();
    assert_eq!(s.rate_limited, 1);
    assert_eq!(s.max_retry_after_honoured_ms, 1000);
}

#[tokio::test]
async fn retry_after_beyond_the_cap_is_handed_back() {
    let env = common::start().await;
    let mut cfg = common::config(&env);
    cfg.max_retry_after = std::time::Duration::from_secs(5);
    let c = CoupaClient::new(cfg).unwrap();
    env.sandbox.inject(FaultSpec::new(
        "POST /api/invoices",
        FaultKind::RateLimit { retry_after: 600 },
        1,
    ));
    let err = c
        .deliver_invoice(
            &common::invoice_body(env.supplier_id, "INV-LONG"),
            env.supplier_id,
        )
        .await
        .unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(600)));
    assert_eq!(common::count_invoices(&env, "INV-LONG"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn storm_of_429_is_drained_without_loss_and_without_a_second_wave() {
    let env = common::start().await;
    let c = Arc::new(common::client(&env));
    env.sandbox.inject(FaultSpec::new(
        "POST /api/invoices",
        FaultKind::Storm { retry_after: 1 },
        1,
    ));
    let n = 30;
    let mut tasks = Vec::new();
    for i in 0..n {
        let c = c.clone();
        let body = common::invoice_body(env.supplier_id, &format!("STORM-{i:02}"));
        let sid = env.supplier_id;
        tasks.push(tokio::spawn(
            async move { c.deliver_invoice(&body, sid).await },
        ));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    // No loss, no duplicate.
    assert_eq!(env.sandbox.invoices().len(), n);
    for i in 0..n {
        assert_eq!(common::count_invoices(&env, &format!("STORM-{i:02}")), 1);
    }
    // The 429s form one first wave: once a create succeeded, none was refused again.
    let statuses: Vec<u16> = env
        .sandbox
        .request_log()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/invoices")
        .map(|r| r.status)
        .collect();
    let first_ok = statuses.iter().position(|s| *s == 201).unwrap();
    assert!(first_ok >= 1, "the storm refused at least one request");
    assert!(statuses[..first_ok].iter().all(|s| *s == 429));
    assert!(
        statuses[first_ok..].iter().all(|s| *s == 201),
        "{statuses:?}"
    );
    assert_eq!(statuses.len(), n + first_ok);
    assert_eq!(c.stats().rate_limited as usize, first_ok);
}

#[tokio::test]
async fn server_errors_are_retried() {
    let env = common::start().await;
    let c = common::client(&env);
    env.sandbox.inject(FaultSpec::new(
        "POST /api/invoices",
        FaultKind::Status { status: 500 },
        1,
    ));
    env.sandbox.inject(FaultSpec::new(
        "POST /api/invoices",
        FaultKind::Status { status: 503 },
        1,
    ));
    c.deliver_invoice(
        &common::invoice_body(env.supplier_id, "INV-5XX"),
        env.supplier_id,
    )
    .await
    .unwrap();
    assert_eq!(common::count_invoices(&env, "INV-5XX"), 1);
    assert_eq!(c.stats().server_errors, 2);
}

#[tokio::test]
async fn persistent_server_errors_end_retryable() {
    let env = common::start().await;
    let c = common::client(&env);
    env.sandbox.inject(FaultSpec::new(
        "POST /api/invoices",
        FaultKind::Status { status: 500 },
        50,
    ));
    let err = c
        .deliver_invoice(
            &common::invoice_body(env.supplier_id, "INV-500"),
            env.supplier_id,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, CoupaError::Server { status: 500, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(c.stats().server_errors, u64::from(c.config().max_attempts));
}

#[tokio::test]
async fn validation_error_is_permanent_and_carries_coupas_body() {
    let env = common::start().await;
    let c = common::client(&env);
    let mut body = common::invoice_body(env.supplier_id, "INV-BAD");
    body["invoice-lines"] = json!([]);
    let err = c.deliver_invoice(&body, env.supplier_id).await.unwrap_err();
    match &err {
        CoupaError::Validation {
            status,
            body,
            messages,
        } => {
            assert_eq!(*status, 400);
            assert!(body.contains("\"errors\""), "{body}");
            assert_eq!(messages, &vec!["Invoice lines can't be blank".to_string()]);
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert!(!err.is_retryable());
    // Only one create was attempted.
    assert_eq!(env.sandbox.stats().requests, 3, "token, lookup, one create");
}

#[tokio::test]
async fn status_422_is_permanent_too() {
    let env = common::start().await;
    let c = common::client(&env);
    env.sandbox.inject(FaultSpec::new(
        "POST /api/invoices",
        FaultKind::Status { status: 422 },
        1,
    ));
    let err = c
        .deliver_invoice(
            &common::invoice_body(env.supplier_id, "INV-422"),
            env.supplier_id,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, CoupaError::Validation { status: 422, .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn duplicate_number_for_the_same_supplier_is_refused_by_the_sandbox() {
    let env = common::start().await;
    let c = common::client(&env);
    let body = common::invoice_body(env.supplier_id, "INV-DUP");
    c.create_invoice(&body).await.unwrap();
    let err = c.create_invoice(&body).await.unwrap_err();
    match err {
        CoupaError::Validation {
            status, messages, ..
        } => {
            assert_eq!(status, 400);
            assert!(messages[0].contains("already been used for this supplier"));
        }
        other => panic!("{other:?}"),
    }
    // Another supplier may reuse the number.
    let other = env
        .sandbox
        .add_supplier(json!({"name": "Other Co"}))
        .unwrap();
    c.create_invoice(&common::invoice_body(other, "INV-DUP"))
        .await
        .unwrap();
    assert_eq!(common::count_invoices(&env, "INV-DUP"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_coupas_own_rate_limit_nothing_is_lost_or_doubled() {
    // The sandbox enforces 25/s burst 20 itself; the client limits itself the same way and
    // retries any 429 that still slips through.
    let env = common::start_with(gateway_sandbox::SandboxOptions {
        rate_limit: Some((25, 20)),
        ..gateway_sandbox::SandboxOptions::default()
    })
    .await;
    let c = Arc::new(common::client(&env));
    let n = 20;
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let c = c.clone();
            let body = common::invoice_body(env.supplier_id, &format!("RL-{i:02}"));
            let sid = env.supplier_id;
            tokio::spawn(async move { c.deliver_invoice(&body, sid).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(env.sandbox.invoices().len(), n);
    for i in 0..n {
        assert_eq!(common::count_invoices(&env, &format!("RL-{i:02}")), 1);
    }
    assert_eq!(env.sandbox.stats().served_429, c.stats().rate_limited);
}

/// Copies of one invoice delivered at the same moment (two channels, or a replay beside a
/// redelivery) each looked it up, found nothing, and each created it. A Coupa that refuses a
/// reused number saved the day; one that does not (the sandbox told to accept them) got two
/// invoices: a double payment. Deliveries of one supplier's number now take turns.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn copies_delivered_at_once_make_one_invoice_even_where_coupa_takes_duplicates() {
    let env = common::start_with(gateway_sandbox::SandboxOptions {
        accept_duplicate_invoice_numbers: true,
        ..gateway_sandbox::SandboxOptions::default()
    })
    .await;
    // Slow answers, so the copies' lookups overlap.
    env.sandbox
        .set_latency(std::time::Duration::from_millis(150));
    let c = Arc::new(common::client(&env));
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let c = c.clone();
            let body = common::invoice_body(env.supplier_id, "RACE-1");
            let sid = env.supplier_id;
            tokio::spawn(async move { c.deliver_invoice(&body, sid).await })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        if !t.await.unwrap().unwrap().already_present {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    assert_eq!(common::count_invoices(&env, "RACE-1"), 1);
    // The sandbox does take a duplicate when asked to, so the guard above is what held.
    c.create_invoice(&common::invoice_body(env.supplier_id, "RACE-1"))
        .await
        .unwrap();
    assert_eq!(common::count_invoices(&env, "RACE-1"), 2);
}

/// A supplier sends a corrected invoice under the number of one Coupa already has (another
/// total). The duplicate guard took it as "already there" and reported it delivered: the
/// correction was lost without a trace. It is now refused as a conflict, permanent (a dead
/// letter an operator sees), saying both totals; the same invoice again is still a copy.
#[tokio::test]
async fn a_corrected_invoice_under_a_used_number_is_a_conflict_not_a_copy() {
    let env = common::start().await;
    let c = common::client(&env);
    let with_total = |total: &str| {
        let mut body = common::invoice_body(env.supplier_id, "INV-FIX");
        body["supplier-total"] = json!(total);
        body
    };
    let first = c
        .deliver_invoice(&with_total("5000.00"), env.supplier_id)
        .await
        .unwrap();
    assert!(!first.already_present);
    let err = c
        .deliver_invoice(&with_total("4500.00"), env.supplier_id)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CoupaError::Conflict(why) if why.contains("supplier total 5000.00")
            && why.contains("this one says 4500.00")),
        "{err}"
    );
    assert!(!err.is_retryable());
    // The same total, written another way, is the same invoice: a copy, taken.
    let again = c
        .deliver_invoice(&with_total("5000"), env.supplier_id)
        .await
        .unwrap();
    assert!(again.already_present);
    assert_eq!(common::count_invoices(&env, "INV-FIX"), 1);
}

/// A submit that fails after the create says the invoice is in Coupa as a draft: the dead
/// letter read "gave up after 4 attempts: Coupa server error 500", and an operator could
/// purge it or key the invoice by hand beside the draft.
#[tokio::test]
async fn a_failed_submit_says_the_draft_is_in_coupa() {
    let env = common::start().await;
    let c = common::client(&env);
    for (number, status) in [("INV-SUB-500", 500u16), ("INV-SUB-400", 400)] {
        assert!(env.sandbox.inject(FaultSpec::new(
            "PUT /api/invoices/",
            FaultKind::Status { status },
            100
        )));
        let err = c
            .deliver_invoice(
                &common::invoice_body(env.supplier_id, number),
                env.supplier_id,
            )
            .await
            .unwrap_err();
        let CoupaError::Submit { invoice_id, .. } = &err else {
            panic!("{number}: not a submit error: {err:?}");
        };
        let invoice_id = *invoice_id;
        assert_eq!(common::count_invoices(&env, number), 1, "{number}");
        assert_eq!(err.is_retryable(), status >= 500, "{number}");
        let reason = match gateway_core::DeliveryError::from(err) {
            gateway_core::DeliveryError::Retryable { reason, .. }
            | gateway_core::DeliveryError::Permanent { reason } => reason,
        };
        assert!(
            reason.contains(&format!("Coupa invoice {invoice_id} is there")),
            "{number}: {reason}"
        );
        if status == 400 {
            assert!(
                reason.contains("as a draft, not submitted") && reason.contains("replay"),
                "{reason}"
            );
        }
        env.sandbox.clear_faults();
    }
}
