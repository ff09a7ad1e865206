//! The duplicate guard and invoice numbers that differ only in letter case or surrounding
//! spaces, against the sandbox over HTTP.
//!
//! QA posted `CASE-R2`, then the same invoice as `case-r2`: the gateway's intake keys both as
//! one invoice (number trimmed and upper-cased), yet the delivery created a second Coupa
//! invoice, a double payment. A resend as `"SP-R3 "` was dead-lettered as a duplicate Coupa
//! refused, though Coupa held it once. Coupa does not publish whether it compares numbers with
//! case, in lookups or in its duplicate check; the sandbox is told each way here
//! ([`InvoiceNumberCase`]) and the guard must hold in every one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use adapter_coupa::CoupaError;
use adapter_coupa::invoices::KnownInvoices;
use gateway_sandbox::InvoiceNumberCase;
use serde_json::json;

/// Invoices in the sandbox whose number is `number` but for letter case and spaces.
fn held_as(env: &common::Env, number: &str) -> Vec<String> {
    env.sandbox
        .invoices()
        .iter()
        .filter_map(|i| i["invoice-number"].as_str())
        .filter(|n| n.trim().eq_ignore_ascii_case(number.trim()))
        .map(str::to_string)
        .collect()
}

/// Lookups compare numbers exactly, letter case included; the create refuses only the very
/// same number: a Coupa in which a number in another case is found by nobody.
fn case_sensitive() -> InvoiceNumberCase {
    InvoiceNumberCase {
        exact_lookups: true,
        unique_ignoring_case: false,
    }
}

/// QA's double payment: the same invoice under `case-r2` after `CASE-R2` is the invoice Coupa
/// has, delivered as already there; Coupa holds one.
#[tokio::test]
async fn the_same_invoice_in_another_letter_case_is_already_there_not_a_second_one() {
    let env = common::start().await;
    let c = common::client(&env);
    let first = c
        .deliver_invoice(
            &common::invoice_body(env.supplier_id, "CASE-R2"),
            env.supplier_id,
        )
        .await
        .unwrap();
    assert!(!first.already_present);
    // Another client (the gateway restarted): only Coupa's lookup can tell.
    let again = common::client(&env)
        .deliver_invoice(
            &common::invoice_body(env.supplier_id, "case-r2"),
            env.supplier_id,
        )
        .await
        .unwrap();
    assert!(again.already_present, "{again:?}");
    assert_eq!(again.invoice.id, first.invoice.id);
    assert_eq!(held_as(&env, "CASE-R2"), ["CASE-R2"]);
}

/// QA's `"SP-R3 "`: looked up as sent it was not found, and Coupa refused its create as a
/// duplicate; a dead letter for an invoice Coupa holds. It is looked up and sent trimmed.
#[tokio::test]
async fn the_same_invoice_with_spaces_around_its_number_is_already_there() {
    let env = common::start().await;
    let c = common::client(&env);
    let first = c
        .deliver_invoice(
            &common::invoice_body(env.supplier_id, "SP-R3"),
            env.supplier_id,
        )
        .await
        .unwrap();
    for resent in ["SP-R3 ", " sp-r3\t"] {
        // Another client each time (the gateway restarted): only Coupa's lookup can tell.
        let again = common::client(&env)
            .deliver_invoice(
                &common::invoice_body(env.supplier_id, resent),
                env.supplier_id,
            )
            .await
            .unwrap_or_else(|e| panic!("{resent:?}: {e}"));
        assert!(again.already_present, "{resent:?}: {again:?}");
        assert_eq!(again.invoice.id, first.invoice.id);
    }
    // A new invoice under a spaced number is created under the number trimmed.
    let new = c
        .deliver_invoice(
            &common::invoice_body(env.supplier_id, "  SP-R4 "),
            env.supplier_id,
        )
        .await
        .unwrap();
    assert_eq!(new.invoice.invoice_number.as_deref(), Some("SP-R4"));
    assert_eq!(held_as(&env, "SP-R3"), ["SP-R3"]);
}

/// Another invoice under the number in another case is a conflict naming both numbers, so the
/// operator finds the one in Coupa; nothing is created.
#[tokio::test]
async fn another_invoice_under_the_number_in_another_case_is_a_conflict_naming_both() {
    let env = common::start().await;
    let c = common::client(&env);
    c.deliver_invoice(
        &common::invoice_body(env.supplier_id, "CASE-C1"),
        env.supplier_id,
    )
    .await
    .unwrap();
    let mut other = common::invoice_body(env.supplier_id, "case-c1");
    other["invoice-lines"][0]["price"] = json!("260.00");
    other["invoice-lines"][0]["total"] = json!("5200.00");
    let err = c
        .deliver_invoice(&other, env.supplier_id)
        .await
        .unwrap_err();
    let CoupaError::Conflict(why) = &err else {
        panic!("expected a conflict, got {err:?}");
    };
    assert!(
        why.contains("Coupa already has invoice CASE-C1")
            && why.contains("under the number \"case-c1\" of this one but for letter case")
            && why.contains("line 1 price 250.00, this one says 260.00"),
        "{why}"
    );
    assert!(!err.is_retryable());
    assert_eq!(held_as(&env, "CASE-C1"), ["CASE-C1"]);
}

/// A ledger of what was delivered: number key → Coupa invoice id.
#[derive(Debug)]
struct Ledger(Vec<(String, u64)>);

impl KnownInvoices for Ledger {
    fn coupa_ids(&self, key: &str) -> Result<Vec<u64>, String> {
        Ok(self
            .0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, id)| *id)
            .collect())
    }
}

/// Where Coupa looks numbers up with case and takes a number in another case as new, the
/// guard still finds the copy it delivered itself.
#[tokio::test]
async fn where_coupa_looks_numbers_up_with_case_the_client_finds_what_it_delivered() {
    let env = common::start().await;
    env.sandbox.set_invoice_number_case(case_sensitive());
    let c = common::client(&env);
    c.deliver_invoice(
        &common::invoice_body(env.supplier_id, "CASE-M1"),
        env.supplier_id,
    )
    .await
    .unwrap();
    let again = c
        .deliver_invoice(
            &common::invoice_body(env.supplier_id, "Case-m1"),
            env.supplier_id,
        )
        .await
        .unwrap();
    assert!(again.already_present, "{again:?}");
    assert_eq!(held_as(&env, "CASE-M1"), ["CASE-M1"]);
}

/// The same after a restart (a new client, nothing remembered): [`KnownInvoices`] (the
/// gateway's ledger) says what was delivered under the number, and the guard reads it by id.
#[tokio::test]
async fn where_coupa_looks_numbers_up_with_case_the_ledger_finds_it_after_a_restart() {
    let env = common::start().await;
    env.sandbox.set_invoice_number_case(case_sensitive());
    let first = common::client(&env)
        .deliver_invoice(
            &common::invoice_body(env.supplier_id, "CASE-K1"),
            env.supplier_id,
        )
        .await
        .unwrap();
    let restarted = common::client(&env);
    restarted.know_invoices_from(Arc::new(Ledger(vec![("CASE-K1".into(), first.invoice.id)])));
    let again = restarted
        .deliver_invoice(
            &common::invoice_body(env.supplier_id, "case-K1"),
            env.supplier_id,
        )
        .await
        .unwrap();
    assert!(again.already_present, "{again:?}");
    assert_eq!(again.invoice.id, first.invoice.id);
    assert_eq!(held_as(&env, "CASE-K1"), ["CASE-K1"]);
}

/// Copies of one new invoice under its number in three letter cases, delivered at the same
/// moment where Coupa looks numbers up with case: they take turns (one number to the guard),
/// so one creates and the others find it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn copies_in_other_letter_cases_delivered_at_once_make_one_invoice() {
    let env = common::start().await;
    env.sandbox.set_invoice_number_case(case_sensitive());
    // Slow answers, so the lookups overlap.
    env.sandbox
        .set_latency(std::time::Duration::from_millis(150));
    let c = Arc::new(common::client(&env));
    let tasks: Vec<_> = ["RACE-CASE", "race-case", "Race-Case"]
        .into_iter()
        .map(|n| {
            let c = Arc::clone(&c);
            let body = common::invoice_body(env.supplier_id, n);
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
    assert_eq!(held_as(&env, "RACE-CASE").len(), 1);
}

/// A Coupa that looks numbers up with case but refuses a number in another case as a
/// duplicate: the create's refusal makes the guard look again, in upper and lower case, and
/// the invoice Coupa holds is taken, not dead-lettered. One it cannot find is a conflict that
/// says so and what to do, not Coupa's bare refusal.
#[tokio::test]
async fn a_create_refused_as_a_duplicate_looks_again_in_upper_and_lower_case() {
    let env = common::start().await;
    env.sandbox.set_invoice_number_case(InvoiceNumberCase {
        exact_lookups: true,
        unique_ignoring_case: true,
    });
    // Keyed in Coupa some other way (the supplier portal): this client never saw it.
    let other_way = common::client(&env);
    let held = other_way
        .create_invoice(&common::invoice_body(env.supplier_id, "REF-1"))
        .await
        .unwrap();
    let c = common::client(&env);
    let taken = c
        .deliver_invoice(
            &common::invoice_body(env.supplier_id, "ref-1"),
            env.supplier_id,
        )
        .await
        .unwrap();
    assert!(taken.already_present, "{taken:?}");
    assert_eq!(taken.invoice.id, held.id);
    assert_eq!(held_as(&env, "REF-1"), ["REF-1"]);

    other_way
        .create_invoice(&common::invoice_body(env.supplier_id, "rEf-2"))
        .await
        .unwrap();
    let err = c
        .deliver_invoice(
            &common::invoice_body(env.supplier_id, "REF-2"),
            env.supplier_id,
        )
        .await
        .unwrap_err();
    let CoupaError::Conflict(why) = &err else {
        panic!("expected a conflict, got {err:?}");
    };
    assert!(
        why.contains("Coupa refused invoice REF-2 of supplier id")
            && why.contains("already been used for this supplier")
            && why.contains("Find it in Coupa"),
        "{why}"
    );
    assert_eq!(held_as(&env, "REF-2"), ["rEf-2"]);
}

/// QA: Coupa refused an invoice as a number already used, the guard found no invoice under
/// it, and `gateway dlq purge --tell-supplier` sent the supplier the whole dead letter: where
/// the gateway looked and the advice to purge the dead letter. The supplier reads what Coupa
/// said; the operator still reads everything.
#[tokio::test]
async fn a_duplicate_refusal_found_nowhere_tells_the_supplier_only_what_coupa_said() {
    let env = common::start().await;
    env.sandbox.set_invoice_number_case(InvoiceNumberCase {
        exact_lookups: true,
        unique_ignoring_case: true,
    });
    common::client(&env)
        .create_invoice(&common::invoice_body(env.supplier_id, "dUp-7"))
        .await
        .unwrap();
    let err = common::client(&env)
        .deliver_invoice(
            &common::invoice_body(env.supplier_id, "DUP-7"),
            env.supplier_id,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CoupaError::Conflict(_)), "{err:?}");
    let reason = gateway_core::DeliveryError::from(err).reason().to_string();
    assert!(
        reason.contains("Find it in Coupa") && reason.contains("purge this dead letter"),
        "the operator reads the advice: {reason}"
    );
    let told = adapter_coupa::what_happened(&reason);
    assert!(
        told.contains("Coupa refused invoice DUP-7")
            && told.contains("already been used for this supplier"),
        "{told}"
    );
    for internal in [
        "Find it in Coupa",
        "purge",
        "dead letter",
        "gateway delivered",
    ] {
        assert!(!told.contains(internal), "{internal:?} told: {told}");
    }
}

/// What the ledger says cannot be read: the delivery waits (retryable) and creates nothing,
/// rather than risk a second invoice.
#[tokio::test]
async fn an_unreadable_ledger_holds_the_create_back() {
    #[derive(Debug)]
    struct Broken;
    impl KnownInvoices for Broken {
        fn coupa_ids(&self, _: &str) -> Result<Vec<u64>, String> {
            Err("database is locked".into())
        }
    }
    let env = common::start().await;
    let c = common::client(&env);
    c.know_invoices_from(Arc::new(Broken));
    let err = c
        .deliver_invoice(
            &common::invoice_body(env.supplier_id, "G-1"),
            env.supplier_id,
        )
        .await
        .unwrap_err();
    assert!(
        err.is_retryable() && err.to_string().contains("database is locked"),
        "{err:?}"
    );
    assert!(held_as(&env, "G-1").is_empty());
}

/// The request carries the number trimmed, as validation reads it: Coupa and the guard's
/// lookup then see the same number (`"SP-R3 "` sent as it came was another number to them).
#[test]
fn the_request_carries_the_number_trimmed() {
    let mut inv = match gateway_model::from_json(
        &std::fs::read(format!(
            "{}/tests/data/invoice.canonical.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap()
    {
        gateway_model::Document::Invoice(i) => i,
        other => panic!("not an invoice: {other:?}"),
    };
    inv.invoice_number = Some("  SP-R3 ".into());
    let body = adapter_coupa::invoice_to_coupa(
        &inv,
        &adapter_coupa::SupplierKey::Id(7),
        &adapter_coupa::InvoiceMapping::default(),
    )
    .unwrap();
    assert_eq!(body["invoice-number"], json!("SP-R3"));
}
