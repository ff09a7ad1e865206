//! What Coupa holds of an invoice's money, from QA's inputs (`tests/data/qa_money/`, sent as
//! partner acme of the demo) through the running gateway to the Coupa sandbox over HTTP.
//!
//! QA: a credit memo written as credits with a discount (cXML `cmdisc.xml`: −1 × 100.00, an
//! `InvoiceDetailDiscount` of −5.00 or 5.00, −95.00 due; JSON `j_cmneg.json`) reached Coupa
//! with lines 100.00, misc 5.00 and a supplier total of 95.00, parts that add to 105, while the
//! same memo written positive (`j_cmpos.json`) gave misc −5.00. A tax given by its rate alone
//! lost the amount billed: a JSON header tax beside its `tax_total` (`j_rateonly.json`), a
//! cXML `TaxDetail` without `TaxAmount` in the summary (`rateonly.xml`) or on a line
//! (`lrate.xml`). And `gateway documents` said only `from: cXML document 1` of every cXML
//! POST, so two POSTs of one number could not be told apart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::str::FromStr;
use std::time::Duration;

use gateway_model::Decimal;
use gateway_server::demo::{DemoEnv, DemoOptions};
use serde_json::Value;

/// QA's input `name`, as partner acme of the demo sends it: QA's cXML credentials replaced
/// by the demo's.
fn qa_input(name: &str) -> String {
    let path = format!("{}/tests/data/qa_money/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .replace(
            "<Identity>123456789</Identity>",
            "<Identity>acme</Identity>",
        )
        .replace(
            "<Identity>GLOBEX</Identity>",
            "<Identity>coupa-buyer</Identity>",
        )
        .replace("acme-shared-secret", "acme-secret")
}

/// Posts `body` to the running gateway's `path` (`/cxml`, or the REST API with acme's token);
/// the answer must be a success.
async fn post(env: &DemoEnv, path: &str, body: String) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", env.running.base_url()))
        .body(body);
    if path.starts_with("/api/") {
        request = request
            .bearer_auth("acme-token")
            .header("content-type", "application/json");
    }
    let answer = request.send().await.unwrap();
    let status = answer.status();
    let text = answer.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {text}");
}

/// The invoice Coupa holds under `number`, waited for (the gateway delivers it from the bus).
async fn held(env: &DemoEnv, number: &str) -> Value {
    let find = |env: &DemoEnv| {
        env.sandbox
            .invoices()
            .into_iter()
            .find(|i| i["invoice-number"] == number)
    };
    assert!(
        env.wait_until(Duration::from_secs(60), |env| find(env).is_some())
            .await,
        "{number} never reached Coupa"
    );
    find(env).unwrap()
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// A decimal of Coupa's JSON (a string); zero when absent.
fn num(v: &Value) -> Decimal {
    v.as_str().map_or(Decimal::ZERO, d)
}

/// Each line Coupa holds as (quantity, price, total).
fn lines(held: &Value) -> Vec<(Decimal, Decimal, Decimal)> {
    held["invoice-lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (num(&l["quantity"]), num(&l["price"]), num(&l["total"])))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_coupa_holds_of_credits_discounts_and_taxes_adds_up_to_what_was_billed() {
    let env = DemoEnv::start(DemoOptions::default()).await.unwrap();

    // 1. The credit memo with a discount, however it is signed.
    post(&env, "/cxml", qa_input("cmdisc.xml")).await;
    post(&env, "/cxml", qa_input("cmdisc2.xml")).await;
    post(&env, "/api/v1/documents", qa_input("j_cmneg.json")).await;
    post(&env, "/api/v1/documents", qa_input("j_cmpos.json")).await;
    for number in ["QA-CMDISC", "QA-CMDISC2", "QJ-CMNEG", "QJ-CMPOS"] {
        let coupa = held(&env, number).await;
        assert_eq!(coupa["is-credit-note"], true, "{number}: {coupa:#}");
        assert_eq!(
            lines(&coupa),
            vec![(d("1"), d("100.00"), d("100.00"))],
            "{number}: {coupa:#}"
        );
        assert_eq!(
            num(&coupa["misc-amount"]),
            d("-5.00"),
            "{number}: {coupa:#}"
        );
        assert_eq!(
            num(&coupa["supplier-total"]),
            d("95.00"),
            "{number}: {coupa:#}"
        );
    }

    // 2. Taxes given by their rate: the amount billed reaches Coupa.
    post(&env, "/api/v1/documents", qa_input("j_rateonly.json")).await;
    let coupa = held(&env, "QJ-RATEONLY").await;
    assert_eq!(num(&coupa["tax-amount"]), d("17.74"), "{coupa:#}");
    assert_eq!(num(&coupa["tax-rate"]), d("8.25"), "{coupa:#}");
    assert_eq!(num(&coupa["supplier-total"]), d("245.74"), "{coupa:#}");

    post(&env, "/cxml", qa_input("rateonly.xml")).await;
    let coupa = held(&env, "QA-RATEONLY").await;
    assert_eq!(num(&coupa["tax-amount"]), d("19.00"), "{coupa:#}");
    assert_eq!(num(&coupa["tax-rate"]), d("19"), "{coupa:#}");

    post(&env, "/cxml", qa_input("lrate.xml")).await;
    let coupa = held(&env, "QA-LRATE").await;
    assert_eq!(coupa["line-level-taxation"], true, "{coupa:#}");
    let line_taxes: Vec<(Decimal, Decimal)> = coupa["invoice-lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let t = &l["tax-lines"][0];
            (num(&t["amount"]), num(&t["rate"]))
        })
        .collect();
    assert_eq!(
        line_taxes,
        vec![
            (d("8.25"), d("8.25")),
            (d("4.95"), d("8.25")),
            (d("2.56"), d("8.25"))
        ],
        "{coupa:#}"
    );

    // 3. Each cXML document says the payloadID it came under.
    for (number, payload_id) in [
        ("QA-CMDISC", "cmdisc-0001@acme.example"),
        ("QA-CMDISC2", "cmdisc-0002@acme.example"),
    ] {
        let listed = common::gateway_ok(&env, &["documents", "--number", number]);
        assert!(
            listed.contains(&format!("from: cXML document 1, payloadID {payload_id}\n")),
            "{listed}"
        );
    }
    env.shutdown().await.unwrap();
}
