//! End to end, on the real RabbitMQ and the Coupa sandbox over HTTP: each inbound path delivers
//! one invoice to Coupa, a poison document is dead-lettered and replayed exactly once with
//! `gateway dlq replay`, and Coupa POs reach a cXML supplier and an X12 file partner and are
//! marked exported.
//!
//! RabbitMQ: `GATEWAY_AMQP_URL` (or `GATEWAY_TEST_AMQP`) or amqp://guest:guest@127.0.0.1:5672/%2f. Missing, these tests
//! fail under CI and are skipped loudly elsewhere. Waiting is on observed outcomes with a
//! generous guard time, never a fixed sleep.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use gateway_sandbox::demo::add_supplier_with_po;
use gateway_server::demo::{ACME, DemoEnv, DemoOptions, GLOBEX, po_files};
use rust_decimal::Decimal;
use serde_json::{Value, json};

const GUARD: Duration = Duration::from_secs(60);

fn amqp_url() -> String {
    gateway_core::testkit::test_amqp_url()
}

/// A demo environment on RabbitMQ, or `None` when RabbitMQ is absent outside CI.
async fn env(po_count: usize) -> Option<DemoEnv> {
    match DemoEnv::start(DemoOptions {
        amqp_url: Some(amqp_url()),
        po_count,
        coupa_cap: false,
    })
    .await
    {
        Ok(e) => Some(e),
        Err(e) if std::env::var_os("CI").is_none() && format!("{e:#}").contains("RabbitMQ") => {
            eprintln!("SKIPPED end-to-end test: {e:#} (start it: rabbitmq-server -detached)");
            None
        }
        Err(e) => panic!("cannot start the end-to-end environment: {e:#}"),
    }
}

fn dec(v: Option<&Value>) -> Decimal {
    let s = match v {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => panic!("missing decimal"),
    };
    Decimal::from_str(&s).unwrap()
}

/// The sandbox holds exactly one invoice `number`, for Acme's or Globex's supplier record,
/// with the sample's three lines and their amounts.
fn assert_one_invoice(env: &DemoEnv, number: &str, supplier_number: &str) {
    let all = env.sandbox.invoices();
    let found: Vec<&Value> = all
        .iter()
        .filter(|i| i["invoice-number"] == number)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{number}: expected one invoice in Coupa, got {found:?}"
    );
    let inv = found[0];
    assert_eq!(inv["supplier"]["number"], supplier_number, "{inv}");
    let lines = inv["invoice-lines"].as_array().expect("invoice-lines");
    assert_eq!(lines.len(), 3, "{inv}");
    let totals: Vec<Decimal> = lines.iter().map(|l| dec(l.get("total"))).collect();
    assert_eq!(
        totals,
        vec![
            Decimal::from_str("125.00").unwrap(),
            Decimal::from_str("90.00").unwrap(),
            Decimal::from_str("120.00").unwrap()
        ],
        "{inv}"
    );
    assert_eq!(inv["currency"]["code"], "USD", "{inv}");
}

async fn delivered(env: &DemoEnv, number: &str) -> bool {
    let n = number.to_string();
    env.wait_until(GUARD, move |e| e.coupa_invoice_numbers().contains(&n))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cxml_invoice_post_reaches_coupa_once() {
    let Some(env) = env(0).await else { return };
    let inv = DemoEnv::invoice("E2E-CXML-1").unwrap();
    let (status, body) = env.post_cxml(ACME, &inv).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("code=\"200\""), "{body}");
    assert!(delivered(&env, "E2E-CXML-1").await, "never reached Coupa");
    assert_one_invoice(&env, "E2E-CXML-1", "ACME-1");

    // The same document again (a sender retry with the same payloadID would be 409; a new
    // payloadID with the same invoice number is accepted, and Coupa still holds one invoice).
    let (status, _) = env.post_cxml(ACME, &inv).await.unwrap();
    assert_eq!(status, 200);
    let ledger_delivered = env
        .wait_until(GUARD, |e| {
            e.running
                .ledger
                .list(Some("E2E-CXML-1"), Some("delivered"), 10)
                .map(|l| l.len() == 2)
                .unwrap_or(false)
        })
        .await;
    assert!(ledger_delivered, "the second copy was not settled");
    assert_one_invoice(&env, "E2E-CXML-1", "ACME-1");
    env.shutdown().await.unwrap();
}

/// Coupa's way of sending an invoice with its files: `multipart/related`, the cXML as the
/// `start` part and the PDF (base64) a part the cXML names by `cid:`. The invoice reaches
/// Coupa with the PDF on it, byte for byte; the same POST again (a sender retry) is a
/// duplicate and adds nothing; a broken body is refused with the reason, nothing published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multipart_related_cxml_invoice_reaches_coupa_with_its_pdf() {
    let Some(env) = env(0).await else { return };
    let inv = DemoEnv::invoice("E2E-CXML-PDF-1").unwrap();
    let cxml = env
        .codecs
        .encoder(gateway_core::Format::Cxml)
        .unwrap()
        .encode(
            &[gateway_model::Document::Invoice(inv)],
            env.partner(ACME).unwrap(),
        )
        .unwrap();
    // Bytes of every value, so a transfer or charset conversion would show.
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.extend((0..=255u8).cycle().take(40_000));
    // The cXML also names a file the request does not carry (as a comment, so the document
    // is otherwise the encoder's): accepted, and the sender told it is not attached.
    let cxml = String::from_utf8(cxml)
        .unwrap()
        .replacen("<cXML ", "<!-- terms: cid:terms.pdf -->\n<cXML ", 1)
        .into_bytes();
    let mut body = b"--=_part_B\r\nContent-Type: application/pdf\r\nContent-ID: <E2E-CXML-PDF-1.pdf>\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
    let encoded = gateway_tests::base64_lines(&pdf);
    body.extend_from_slice(encoded.as_bytes());
    body.extend_from_slice(
        b"--=_part_B\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-ID: <payload.xml>\r\n\r\n",
    );
    body.extend_from_slice(&cxml);
    body.extend_from_slice(b"\r\n--=_part_B--\r\n");
    let post = |body: Vec<u8>, content_type: &'static str| {
        let url = format!("{}/cxml", env.running.base_url());
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .header("Content-Type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let related =
        "multipart/related; boundary=\"=_part_B\"; type=\"text/xml\"; start=\"<payload.xml>\"";
    let (status, answer) = post(body.clone(), related).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("with E2E-CXML-PDF-1.pdf"), "{answer}");
    assert!(answer.contains("cid:terms.pdf"), "{answer}");
    let rows = env
        .running
        .ledger
        .list(Some("E2E-CXML-PDF-1"), None, 10)
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].notes.contains("cid:terms.pdf"), "{}", rows[0].notes);
    assert!(
        delivered(&env, "E2E-CXML-PDF-1").await,
        "never reached Coupa"
    );
    assert_one_invoice(&env, "E2E-CXML-PDF-1", "ACME-1");
    assert!(
        env.wait_until(GUARD, |e| e.sandbox.invoice_submitted("E2E-CXML-PDF-1"))
            .await
    );
    let held = env.sandbox.invoice_files("E2E-CXML-PDF-1");
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0].file_name, "E2E-CXML-PDF-1.pdf");
    assert_eq!(held[0].content_type, "application/pdf");
    assert_eq!(held[0].size, pdf.len() as u64);
    assert_eq!(held[0].sha256, gateway_tests::sha256_hex(&pdf));

    // The sender retries the same POST: its payloadID is known (409), nothing is added.
    let (status, answer) = post(body.clone(), related).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(env.sandbox.invoice_files("E2E-CXML-PDF-1").len(), 1);

    // A start part that is not there: refused with the reason, nothing published.
    let (status, answer) = post(
        body,
        "multipart/related; boundary=\"=_part_B\"; start=\"<missing.xml>\"",
    )
    .await;
    assert_eq!(status, 406, "{answer}");
    assert!(answer.contains("missing.xml"), "{answer}");

    // The same kind of cXML sent on its own, naming a file it cannot carry: accepted, and
    // the sender told (it went without a word).
    let alone = String::from_utf8(cxml)
        .unwrap()
        .replace("E2E-CXML-PDF-1", "E2E-CXML-ALONE-1")
        .into_bytes();
    let (status, answer) = post(alone, "text/xml; charset=UTF-8").await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer.contains("cid:terms.pdf") && answer.contains("sent on its own"),
        "{answer}"
    );
    env.shutdown().await.unwrap();
}

/// The JSON API with the document's PDF: `multipart/form-data`, the canonical JSON in field
/// `document`, the PDF in field `file`. The answer names the file kept, the Coupa invoice
/// holds it byte for byte, and a form with an unknown field is refused with what to fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rest_invoice_sent_as_a_form_with_its_pdf_reaches_coupa_with_it() {
    let Some(env) = env(0).await else { return };
    let inv = gateway_model::Document::Invoice(DemoEnv::invoice("E2E-REST-PDF-1").unwrap());
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.extend((0..=255u8).rev().cycle().take(20_000));
    let url = format!("{}/api/v1/documents", env.running.base_url());
    let send = |form: reqwest::multipart::Form| {
        let url = url.clone();
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .bearer_auth("acme-token")
                .multipart(form)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let form = reqwest::multipart::Form::new()
        .text("document", gateway_model::to_json(&inv))
        .part(
            "file",
            reqwest::multipart::Part::bytes(pdf.clone())
                .file_name("E2E-REST-PDF-1.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    let (status, answer) = send(form).await;
    assert_eq!(status, 202, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(
        answer["accepted"][0]["attachments"],
        serde_json::json!(["E2E-REST-PDF-1.pdf"])
    );
    assert!(
        delivered(&env, "E2E-REST-PDF-1").await,
        "never reached Coupa"
    );
    // Files go up before the submit: once submitted, every upload there will be is done.
    assert!(
        env.wait_until(GUARD, |e| e.sandbox.invoice_submitted("E2E-REST-PDF-1"))
            .await
    );
    let held = env.sandbox.invoice_files("E2E-REST-PDF-1");
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0].file_name, "E2E-REST-PDF-1.pdf");
    assert_eq!(held[0].sha256, gateway_tests::sha256_hex(&pdf));
    // The supplier's own view of its document names the file it sent, with its hash.
    let status: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/documents?number=E2E-REST-PDF-1",
            env.running.base_url()
        ))
        .bearer_auth("acme-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = status.to_string();
    assert!(
        listed.contains(&format!(
            "E2E-REST-PDF-1.pdf ({} bytes, sha256 {})",
            pdf.len(),
            gateway_tests::sha256_hex(&pdf)
        )),
        "{listed}"
    );

    let wrong = reqwest::multipart::Form::new()
        .text("document", gateway_model::to_json(&inv))
        .text("pdf", "not a file field");
    let (status, answer) = send(wrong).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("unknown field `pdf`"), "{answer}");
    env.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cxml_bad_secret_is_401_and_nothing_is_published() {
    let Some(env) = env(0).await else { return };
    let mut cfg = env.partner(ACME).unwrap().clone();
    if let Some(c) = cfg.cxml.as_mut() {
        c.shared_secret = Some(gateway_core::Secret::new("wrong"));
    }
    let inv = gateway_model::Document::Invoice(DemoEnv::invoice("E2E-CXML-BAD").unwrap());
    let body = env
        .codecs
        .encoder(gateway_core::Format::Cxml)
        .unwrap()
        .encode(std::slice::from_ref(&inv), &cfg)
        .unwrap();
    let r = reqwest_post(&format!("{}/cxml", env.running.base_url()), body).await;
    assert_eq!(r.0, 401, "{}", r.1);
    assert!(r.1.contains("code=\"401\""), "{}", r.1);
    assert!(!r.1.contains("wrong"), "the secret must not be echoed");
    assert!(
        env.running
            .ledger
            .list(Some("E2E-CXML-BAD"), None, 10)
            .unwrap()
            .is_empty()
    );
    env.shutdown().await.unwrap();
}

async fn reqwest_post(url: &str, body: Vec<u8>) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(url)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The demo invoice `number` as the X12 `partner` sends it.
fn x12_text(env: &DemoEnv, partner: &str, number: &str) -> String {
    let inv = DemoEnv::invoice(number).unwrap();
    String::from_utf8(env.x12_from(partner, &inv).unwrap()).unwrap()
}

/// `edi` with element `n` of its first segment starting with `prefix` set to `value` (empty
/// elements added up to it when the segment is shorter).
fn with_element(edi: &str, prefix: &str, n: usize, value: &str) -> String {
    let seg = edi
        .split('~')
        .map(str::trim)
        .find(|s| s.starts_with(prefix))
        .unwrap()
        .to_string();
    let mut elements: Vec<&str> = seg.split('*').collect();
    if elements.len() <= n {
        elements.resize(n + 1, "");
    }
    elements[n] = value;
    edi.replacen(&seg, &elements.join("*"), 1)
}

/// POSTs `edi` to `/x12` with the token of the partner its ISA names: the status, the
/// `x-gateway-result` header (empty when absent) and the answer.
async fn post_x12_text(env: &DemoEnv, edi: &str) -> (u16, String, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/x12", env.running.base_url()))
        .body(edi.to_string());
    if let Some(token) = env.x12_token(edi.as_bytes()) {
        request = request.bearer_auth(token);
    }
    let r = request.send().await.unwrap();
    let result = r
        .headers()
        .get("x-gateway-result")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (r.status().as_u16(), result, r.text().await.unwrap())
}

/// GETs `path` of the gateway with the bearer `token`: the status and the JSON answer.
async fn get_json(env: &DemoEnv, token: &str, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{}{path}", env.running.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x12_post_answers_997_and_reaches_coupa() {
    let Some(env) = env(0).await else { return };
    let x12_invoices = "adapter=\"x12\",kind=\"invoice\"";
    let received_before = metric(&env, "gateway_documents_received_total", x12_invoices).await;
    let (status, ack) = env
        .post_x12(ACME, &DemoEnv::invoice("E2E-X12-1").unwrap())
        .await
        .unwrap();
    assert_eq!(status, 200, "{ack}");
    assert!(ack.contains("ST*997"), "{ack}");
    assert!(ack.contains("AK5*A"), "the set must be accepted: {ack}");
    assert!(delivered(&env, "E2E-X12-1").await);
    assert_one_invoice(&env, "E2E-X12-1", "ACME-1");
    // Counted for its channel, as every channel's documents are (not only REST's).
    assert!(metric(&env, "gateway_documents_received_total", x12_invoices).await > received_before);
    env.shutdown().await.unwrap();
}

/// A supplier whose system reuses its control numbers (a counter reset, a reinstall) sends a
/// new invoice under the ISA13/GS06/ST02 of an earlier one. Keyed on control numbers alone,
/// it was taken as a duplicate and dropped while its 997 said accepted: a supplier not paid.
/// Other content under the same numbers is a new document, noted; the same content again is
/// still a duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_invoice_under_reused_control_numbers_is_delivered_not_dropped() {
    let Some(env) = env(0).await else { return };
    let first = x12_text(&env, ACME, "E2E-REUSE-1");
    // The same interchange, control numbers and all, for another invoice.
    let second = first.replace("E2E-REUSE-1", "E2E-REUSE-2");
    assert_ne!(first, second);
    let (status, result, ack) = post_x12_text(&env, &first).await;
    assert_eq!(
        (status, result.as_str()),
        (
            200,
            "accepted=1; duplicates=0; rejected=0; acknowledgments=0"
        ),
        "{ack}"
    );
    assert!(delivered(&env, "E2E-REUSE-1").await);
    let (status, result, ack) = post_x12_text(&env, &first).await;
    assert_eq!(
        (status, result.as_str()),
        (
            200,
            "accepted=0; duplicates=1; rejected=0; acknowledgments=0"
        ),
        "{ack}"
    );

    let (status, result, ack) = post_x12_text(&env, &second).await;
    assert_eq!(
        (status, result.as_str()),
        (
            200,
            "accepted=1; duplicates=0; rejected=0; acknowledgments=0"
        ),
        "{ack}"
    );
    assert!(ack.contains("AK5*A"), "{ack}");
    assert!(
        delivered(&env, "E2E-REUSE-2").await,
        "the second invoice never reached Coupa"
    );
    let rows = env
        .running
        .ledger
        .list(Some("E2E-REUSE-2"), None, 10)
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0].notes.contains("ISA13/GS06/ST02")
            && rows[0].notes.contains("was already used for document"),
        "{}",
        rows[0].notes
    );
    // Its resend is a duplicate of it, not a third document.
    let (status, result, ack) = post_x12_text(&env, &second).await;
    assert_eq!(
        (status, result.as_str()),
        (
            200,
            "accepted=0; duplicates=1; rejected=0; acknowledgments=0"
        ),
        "{ack}"
    );
    assert_one_invoice(&env, "E2E-REUSE-1", "ACME-1");
    assert_one_invoice(&env, "E2E-REUSE-2", "ACME-1");
    // The operator's summary names the habit, to be fixed at the partner.
    let partners = gateway_cli(&env, &["partners"]);
    assert!(
        partners.contains("hint: acme: 1 document(s) came under control numbers"),
        "{partners}"
    );
    env.shutdown().await.unwrap();
}

/// `edi` POSTed to `/x12`, which must take nothing (one reject); its 997.
async fn x12_refused(env: &DemoEnv, edi: &str) -> String {
    let (status, result, ack) = post_x12_text(env, edi).await;
    assert_eq!(
        (status, result.as_str()),
        (
            200,
            "accepted=0; duplicates=0; rejected=1; acknowledgments=0"
        ),
        "{ack}"
    );
    ack
}

/// `inv` as acme's cXML (with `partner`'s header), POSTed to `/cxml`: the status and answer.
async fn post_cxml_as(
    env: &DemoEnv,
    partner: &gateway_core::PartnerProfile,
    inv: gateway_model::Invoice,
    carries: &str,
) -> (u16, String) {
    let body = env
        .codecs
        .encoder(gateway_core::Format::Cxml)
        .unwrap()
        .encode(&[gateway_model::Document::Invoice(inv)], partner)
        .unwrap();
    assert!(String::from_utf8_lossy(&body).contains(carries));
    reqwest_post(&format!("{}/cxml", env.running.base_url()), body).await
}

/// Each `(number, words)`: one ledger row, `rejected`, whose reason has all the words; and
/// nothing of that number in Coupa.
fn kept_as_rejected(env: &DemoEnv, cases: &[(&str, &[&str])]) {
    for (number, words) in cases {
        let rows = env.running.ledger.list(Some(number), None, 10).unwrap();
        assert_eq!(rows.len(), 1, "{number}: {rows:?}");
        assert_eq!(rows[0].status, "rejected", "{number}");
        assert!(
            words.iter().all(|w| rows[0].detail.contains(w)),
            "{number}: {}",
            rows[0].detail
        );
        assert!(!env.coupa_invoice_numbers().contains(&number.to_string()));
    }
}

/// A supplier testing its connection sends test data: X12 ISA15 `T`, cXML
/// `deploymentMode="test"`. The demo's Coupa is configured as production (`[coupa]
/// test_instance` is off), so neither may become an invoice that could be paid: each is
/// checked and answered as test data is (a 997 for the X12 set; a cXML 400 saying why), kept in
/// the ledger as rejected with the reason, and nothing is published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_documents_never_reach_a_production_coupa() {
    let Some(env) = env(0).await else { return };
    let edi = with_element(&x12_text(&env, ACME, "E2E-TEST-X12"), "ISA", 15, "T");
    let ack = x12_refused(&env, &edi).await;
    assert!(
        ack.contains("AK5*A"),
        "test data is acknowledged as received: {ack}"
    );

    let mut tester = env.partner(ACME).unwrap().clone();
    tester.cxml.as_mut().unwrap().deployment_mode = Some("test".into());
    let invoice = DemoEnv::invoice("E2E-TEST-CXML").unwrap();
    let (status, answer) = post_cxml_as(&env, &tester, invoice, "deploymentMode=\"test\"").await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer.contains("code=\"400\"") && answer.contains("test document"),
        "{answer}"
    );
    kept_as_rejected(
        &env,
        &[
            (
                "E2E-TEST-X12",
                &["ISA15 usage indicator T", "test_instance"],
            ),
            (
                "E2E-TEST-CXML",
                &["deploymentMode=\"test\"", "test_instance"],
            ),
        ],
    );
    // The same invoice as production data is delivered.
    let (status, result, ack) = post_x12_text(&env, &x12_text(&env, ACME, "E2E-TEST-X12")).await;
    assert_eq!(
        (status, result.as_str()),
        (
            200,
            "accepted=1; duplicates=0; rejected=0; acknowledgments=0"
        ),
        "{ack}"
    );
    assert!(delivered(&env, "E2E-TEST-X12").await);
    let partners = gateway_cli(&env, &["partners"]);
    assert!(
        partners.contains("hint: acme: 2 test document(s)"),
        "{partners}"
    );
    env.shutdown().await.unwrap();
}

/// A supplier sends a corrected invoice under the number of one Coupa already has: its
/// freight was 15.00, now 25.00, so the total is 10.00 more. It used to be taken as a copy of
/// the first ("already there") and reported delivered, the correction lost. It is a dead letter
/// now, saying both totals, and `gateway dlq show` tells the operator what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrected_invoice_under_a_delivered_number_is_a_dead_letter_not_a_copy() {
    let Some(env) = env(0).await else { return };
    let first = DemoEnv::invoice("E2E-FIX-1").unwrap();
    let (status, body) = env.post_cxml(ACME, &first).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(delivered(&env, "E2E-FIX-1").await);
    let mut corrected = first.clone();
    corrected.charges[0].amount = Some(Decimal::from_str("25.00").unwrap());
    corrected.total = first.total.map(|t| t + Decimal::from(10));
    let (status, body) = env
        .post_rest("acme-token", &gateway_model::Document::Invoice(corrected))
        .await
        .unwrap();
    assert_eq!(status, 202, "{body}");
    let dead = first_dead_invoices(&env).await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(
        dead[0].reason.contains("supplier total 362.74")
            && dead[0].reason.contains("this one says 372.74"),
        "{}",
        dead[0].reason
    );
    let shown = gateway_cli(&env, &["dlq", "show", dead[0].doc_id.as_str()]);
    assert!(
        shown.contains("a replay would fail again: Coupa already has invoice E2E-FIX-1"),
        "{shown}"
    );
    assert_one_invoice(&env, "E2E-FIX-1", "ACME-1");
    env.shutdown().await.unwrap();
}

/// A supplier cancels an invoice: X12 BIG08 `01`, cXML `operation="delete"`. Both used to be
/// read as ordinary invoices and delivered to Coupa as new ones. They are refused with what to
/// do instead (the 997 at BIG08, a cXML 400), kept as rejected, and nothing reaches Coupa.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoice_cancellations_are_refused_not_delivered_as_invoices() {
    let Some(env) = env(0).await else { return };
    let edi = with_element(&x12_text(&env, ACME, "E2E-CANCEL-X12"), "BIG", 8, "01");
    let ack = x12_refused(&env, &edi).await;
    assert!(
        ack.contains("AK4*8**7*01~") && ack.contains("AK5*R"),
        "{ack}"
    );

    let mut inv = DemoEnv::invoice("E2E-CANCEL-CXML").unwrap();
    inv.extensions
        .insert("cxml".into(), json!({"operation": "delete"}));
    let acme = env.partner(ACME).unwrap().clone();
    let (status, answer) = post_cxml_as(&env, &acme, inv, "operation=\"delete\"").await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("invoice cancellation"), "{answer}");
    // Where the mark is in the cXML the supplier sent, beside the canonical path.
    assert!(
        answer.contains(
            "$.extensions.cxml.operation (cXML: InvoiceDetailRequestHeader/@operation, line "
        ),
        "{answer}"
    );
    kept_as_rejected(
        &env,
        &[
            ("E2E-CANCEL-X12", &["does not void invoices"]),
            ("E2E-CANCEL-CXML", &["does not void invoices"]),
        ],
    );
    env.shutdown().await.unwrap();
}

/// An X12 invoice the gateway cannot deliver (its first line has no quantity) is refused in
/// the 997 the POST answers, at the element, so the supplier knows to fix and resend it; the
/// gateway accepts nothing from it, and keeps it in the ledger as rejected with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_x12_invoice_the_gateway_refuses_is_rejected_in_its_997() {
    let Some(env) = env(0).await else { return };
    // A good invoice first: its 997 takes a number from the partner's counter.
    let isa13 = |ack: &str| -> u64 {
        let isa = ack.split('~').next().unwrap();
        isa.split('*').nth(13).unwrap().parse().unwrap()
    };
    let (status, before) = env
        .post_x12(ACME, &DemoEnv::invoice("E2E-X12-BEFORE-REFUSED").unwrap())
        .await
        .unwrap();
    assert_eq!(status, 200, "{before}");
    let edi = with_element(&x12_text(&env, ACME, "E2E-X12-REFUSED"), "IT1*", 2, "");
    let (status, result, ack) = post_x12_text(&env, &edi).await;
    assert_eq!(status, 200, "{ack}");
    assert!(result.starts_with("accepted=0;"), "{result}");
    assert!(result.contains("rejected=1"), "{result}");
    let ack = ack.replace('\n', "");
    assert!(
        ack.contains("AK4*2**2~AK5*R*5~"),
        "rejected at IT102: {ack}"
    );
    assert!(ack.contains("AK9*R*1*1*0~"), "{ack}");
    // Kept as rejected with the reason, for the operator and the partner's status view.
    let rows = env
        .running
        .ledger
        .list(Some("E2E-X12-REFUSED"), None, 10)
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].status, "rejected", "{rows:?}");
    // The reason names the element in the set too, as the 997 does.
    assert!(
        rows[0].detail.starts_with(
            "$.lines[0].quantity: missing: quantity is required (X12: IT102 of the IT1 at segment "
        ),
        "{rows:?}"
    );
    let (_, seen) = get_json(
        &env,
        "acme-token",
        "/api/v1/documents?number=E2E-X12-REFUSED",
    )
    .await;
    assert_eq!(seen["documents"][0]["status"], "rejected", "{seen}");
    let acme = env
        .running
        .ledger
        .partner_summaries()
        .unwrap()
        .into_iter()
        .find(|p| p.partner == "acme")
        .unwrap();
    assert_eq!(acme.rejected, 1, "{acme:?}");
    // The 997 rejecting every set is numbered by the same partner's counter, after the first
    // (another counter would start again at 1: a duplicate ISA13 to the partner).
    assert!(
        isa13(&ack) > isa13(&before),
        "{} then {}",
        isa13(&before),
        isa13(&ack)
    );
    env.shutdown().await.unwrap();
}

/// What the gateway cannot read as a document at all (an X12 set whose SE01 miscounts it, a
/// REST body that is not JSON) is kept in the ledger as rejected, under the partner it came
/// from, with where and why, once however often the same bytes come; the operator and the
/// partner's status view both see it, and another partner does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_be_read_is_kept_as_rejected_once_per_input() {
    let Some(env) = env(0).await else { return };
    let unread_label = |adapter: &str| format!("adapter=\"{adapter}\",kind=\"unknown\"");
    let x12_before = metric(
        &env,
        "gateway_documents_rejected_total",
        &unread_label("x12"),
    )
    .await;
    let rest_before = metric(
        &env,
        "gateway_documents_rejected_total",
        &unread_label("rest"),
    )
    .await;
    let edi = with_element(&x12_text(&env, ACME, "E2E-X12-UNREAD"), "SE*", 1, "99");
    let st02 = edi
        .split('~')
        .map(str::trim)
        .find(|s| s.starts_with("ST*"))
        .and_then(|st| st.split('*').nth(2))
        .unwrap()
        .to_string();
    for _ in 0..2 {
        let (status, result, ack) = post_x12_text(&env, &edi).await;
        assert_eq!(status, 200, "{ack}");
        assert!(result.starts_with("accepted=0;"), "{result}");
        assert!(ack.contains("AK5*R"), "{ack}");
    }
    let unread = |adapter: &'static str| {
        let rows = env
            .running
            .ledger
            .search(&gateway_server::ledger::DocumentFilter {
                partner: Some("acme"),
                kind: Some("unknown"),
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        rows.into_iter()
            .filter(|r| r.adapter == adapter)
            .collect::<Vec<_>>()
    };
    let x12 = unread("x12");
    assert_eq!(
        x12.len(),
        1,
        "one row for the same bytes sent twice: {x12:?}"
    );
    assert_eq!(
        (x12[0].status.as_str(), x12[0].number.clone()),
        ("rejected", format!("810 {st02}")),
        "{x12:?}"
    );
    assert!(
        x12[0].detail.contains("element SE01") && x12[0].detail.contains("SE01 says \"99\""),
        "where and why: {x12:?}"
    );

    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/documents", env.running.base_url()))
        .bearer_auth("acme-token")
        .header("content-type", "application/json")
        .body(r#"{"kind": "invoice", "number": "#)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body = r.text().await.unwrap();
    assert!((400..500).contains(&status), "{status} {body}");
    let rest = unread("rest");
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(
        (rest[0].status.as_str(), rest[0].number.as_str()),
        ("rejected", "")
    );
    assert!(rest[0].detail.contains("line 1"), "where: {rest:?}");
    let all = env.running.ledger.list(None, None, 50).unwrap();
    assert!(
        all.len() == 2 && all.iter().all(|r| r.status == "rejected"),
        "nothing of either went further: {all:?}"
    );

    let (status, seen) = get_json(&env, "acme-token", "/api/v1/documents").await;
    assert_eq!(status, 200, "{seen}");
    let rejected: Vec<&Value> = seen["documents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "rejected" && d["kind"] == "unknown")
        .collect();
    assert_eq!(rejected.len(), 2, "{seen}");
    let (_, other) = get_json(&env, "globex-token", "/api/v1/documents").await;
    assert_eq!(other["documents"], json!([]), "{other}");
    // Each refusal is counted, for its channel (the same bytes twice: twice).
    assert!(
        metric(
            &env,
            "gateway_documents_rejected_total",
            &unread_label("x12")
        )
        .await
            >= x12_before + 2
    );
    assert!(
        metric(
            &env,
            "gateway_documents_rejected_total",
            &unread_label("rest")
        )
        .await
            > rest_before
    );
    env.shutdown().await.unwrap();
}

/// An 810 without its supplier's N1 loop, from a partner whose profile names its Coupa
/// supplier: accepted (the 997 says so), delivered to that supplier, and noted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_810_without_n1_su_from_a_partner_that_names_its_supplier_is_delivered() {
    let Some(env) = env(0).await else { return };
    let mut inv = DemoEnv::invoice("E2E-X12-NO-SU").unwrap();
    inv.supplier = None;
    let edi = String::from_utf8(env.x12_from(ACME, &inv).unwrap()).unwrap();
    assert!(!edi.contains("N1*SU"), "{edi}");
    let (status, _, ack) = post_x12_text(&env, &edi).await;
    assert_eq!(status, 200, "{ack}");
    assert!(ack.contains("AK5*A"), "{ack}");
    assert!(delivered(&env, "E2E-X12-NO-SU").await);
    assert_one_invoice(&env, "E2E-X12-NO-SU", "ACME-1");
    let row = env
        .running
        .ledger
        .list(Some("E2E-X12-NO-SU"), None, 1)
        .unwrap()
        .remove(0);
    assert!(
        row.notes.contains(
            "$.supplier: no supplier party; the partner profile's Coupa supplier is used"
        ),
        "{row:?}"
    );
    env.shutdown().await.unwrap();
}

/// An interchange from a sender no partner profile names is refused (403, with what to do),
/// with no 997 saying "accepted", and nothing is taken; so is a request that mixes it with a
/// known partner's, or mixes two partners.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_x12_post_from_an_unknown_sender_is_refused_without_a_997() {
    let Some(env) = env(0).await else { return };
    let stranger = format!("{:<15}", "STRANGER");
    let edi = with_element(
        &x12_text(&env, ACME, "E2E-X12-STRANGER"),
        "ISA*",
        6,
        &stranger,
    );
    let (status, _, body) = post_x12_text(&env, &edi).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.starts_with("unknown sender ZZ:STRANGER"), "{body}");
    assert!(!body.contains("ST*997"), "{body}");
    let rows = env
        .running
        .ledger
        .list(Some("E2E-X12-STRANGER"), None, 10)
        .unwrap();
    assert!(rows.is_empty(), "{rows:?}");

    // A known partner's interchange followed by the stranger's: the whole request is refused,
    // so nothing of it is taken and no 997 speaks for the stranger.
    let known = x12_text(&env, ACME, "E2E-X12-WITH-STRANGER");
    let (status, _, body) = post_x12_text(&env, &format!("{known}{edi}")).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.starts_with("unknown sender ZZ:STRANGER"), "{body}");
    // Two known partners in one request: refused too (one 997 answers one partner).
    let globex = x12_text(&env, GLOBEX, "E2E-X12-TWO-PARTNERS");
    let (status, _, body) = post_x12_text(&env, &format!("{known}{globex}")).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("several partners"), "{body}");
    for number in ["E2E-X12-WITH-STRANGER", "E2E-X12-TWO-PARTNERS"] {
        let rows = env.running.ledger.list(Some(number), None, 10).unwrap();
        assert!(rows.is_empty(), "{number}: {rows:?}");
    }
    env.shutdown().await.unwrap();
}

/// A set accepted with errors (CTT01 miscounts the lines) goes through, and what was
/// tolerated is not lost: the 997 says it, the ledger row and the partner's status view carry
/// it as a note, and the metric counts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_gateway_tolerates_is_noted_with_the_document() {
    let Some(env) = env(0).await else { return };
    let noted_before = metric(&env, "gateway_documents_noted_total", "adapter=\"x12\"").await;
    let edi = with_element(&x12_text(&env, ACME, "E2E-X12-NOTED"), "CTT*", 1, "9");
    let (status, _, ack) = post_x12_text(&env, &edi).await;
    assert_eq!(status, 200, "{ack}");
    assert!(ack.contains("AK5*E"), "accepted with errors: {ack}");
    assert!(delivered(&env, "E2E-X12-NOTED").await);
    let row = env
        .running
        .ledger
        .list(Some("E2E-X12-NOTED"), None, 1)
        .unwrap()
        .remove(0);
    assert!(
        row.notes.contains("CTT01 says 9 line items; the set holds"),
        "{row:?}"
    );
    let (_, seen) = get_json(&env, "acme-token", "/api/v1/documents?number=E2E-X12-NOTED").await;
    assert_eq!(
        seen["documents"][0]["notes"],
        json!(row.notes.lines().collect::<Vec<_>>()),
        "{seen}"
    );
    // And where in its interchange the document was, to find it in its own records.
    let source = seen["documents"][0]["source"].as_str().unwrap_or_default();
    assert!(
        source.starts_with("line ")
            && source.contains(", interchange ")
            && source.contains(", set "),
        "{seen}"
    );
    assert!(metric(&env, "gateway_documents_noted_total", "adapter=\"x12\"").await > noted_before);
    // A validation warning is a note too, and the POST answer already says it.
    let mut inv = DemoEnv::invoice("E2E-REST-NOTED").unwrap();
    inv.total = inv.total.map(|t| t + Decimal::ONE);
    let (status, body) = env
        .post_rest("acme-token", &gateway_model::Document::Invoice(inv))
        .await
        .unwrap();
    assert_eq!(status, 202, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    let notes = answer["accepted"][0]["notes"].as_array().unwrap();
    assert!(
        notes.len() == 1 && notes[0].as_str().unwrap().starts_with("$.total: "),
        "{answer}"
    );
    env.shutdown().await.unwrap();
}

/// A supplier whose system writes Windows-1252 (X12 names no character set): its curly quotes
/// and accents reach Coupa as written, not as U+FFFD, the set is accepted (not "with errors"),
/// and the ledger's notes say which segment was read so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_windows_1252_x12_invoice_reaches_coupa_as_written() {
    let Some(env) = env(0).await else { return };
    let edi = with_element(&x12_text(&env, ACME, "E2E-X12-1252"), "PID*", 5, "@DESC@");
    let (head, tail) = edi.split_once("@DESC@").unwrap();
    let mut body = head.as_bytes().to_vec();
    body.extend_from_slice(b"Men\x92s \x93heavy\x94 gloves \x96 size 9, M\xfcller");
    body.extend_from_slice(tail.as_bytes());
    assert!(std::str::from_utf8(&body).is_err());
    let (status, ack) = env.post_x12_bytes(ACME, body).await.unwrap();
    assert_eq!(status, 200, "{ack}");
    assert!(ack.contains("AK5*A~"), "accepted: {ack}");
    arrived_as_written(
        &env,
        "E2E-X12-1252",
        "Men’s “heavy” gloves – size 9, Müller",
        "bytes that are not UTF-8 were read as Windows-1252 in PID at line",
    )
    .await;
    // `gateway partners` counts it and says what to declare in acme's profile.
    let table = gateway_cli(&env, &["partners"]);
    assert!(
        table.contains("hint: acme: 1 document(s) had text that is not UTF-8, read as Windows-1252; if its system writes Windows-1252, set charset = \"windows-1252\""),
        "{table}"
    );
    assert!(!table.contains("hint: globex"), "{table}");
    env.shutdown().await.unwrap();
}

/// A cXML invoice posted in UTF-16 (which every XML processor must read) is authenticated,
/// answered 200 and reaches Coupa with its text as written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_utf16_cxml_invoice_reaches_coupa_as_written() {
    let Some(env) = env(0).await else { return };
    let mut inv = DemoEnv::invoice("E2E-CXML-UTF16").unwrap();
    inv.lines[0].description = Some("Müller “gloves” 😀".into());
    let utf8 = crate::faults::cxml_bytes(&env.codecs, env.partner(ACME).unwrap(), &inv);
    let text = String::from_utf8(utf8)
        .unwrap()
        .replacen("UTF-8", "UTF-16", 1);
    let mut body = b"\xFF\xFE".to_vec();
    body.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let (status, answer) = reqwest_post(&format!("{}/cxml", env.running.base_url()), body).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("code=\"200\""), "{answer}");
    assert!(delivered(&env, "E2E-CXML-UTF16").await);
    assert_eq!(
        first_line_description(&env, "E2E-CXML-UTF16"),
        "Müller “gloves” 😀"
    );
    env.shutdown().await.unwrap();
}

/// The description of the first line of invoice `number` in Coupa.
fn first_line_description(env: &DemoEnv, number: &str) -> Value {
    let coupa = env
        .sandbox
        .invoices()
        .into_iter()
        .find(|i| i["invoice-number"] == number)
        .unwrap();
    coupa["invoice-lines"][0]["description"].clone()
}

/// Invoice `number` reached Coupa once, its first line described as `description`, and its
/// ledger row's notes say `note`.
async fn arrived_as_written(env: &DemoEnv, number: &str, description: &str, note: &str) {
    assert!(delivered(env, number).await);
    assert_eq!(first_line_description(env, number), description);
    let row = env
        .running
        .ledger
        .list(Some(number), None, 1)
        .unwrap()
        .remove(0);
    assert!(row.notes.contains(note), "{row:?}");
}

/// A CSV file saved by Excel on Windows (Windows-1252) dropped in a partner's SFTP folder: its
/// curly quotes and accents reach Coupa as written, and the ledger notes the rows so read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_windows_1252_csv_drop_reaches_coupa_as_written() {
    let Some(env) = env(0).await else { return };
    let mut inv = DemoEnv::invoice("E2E-CSV-1252").unwrap();
    inv.lines[0].description = Some("Men’s “heavy” gloves – Müller".into());
    let mut excel = env.partner(GLOBEX).unwrap().clone();
    excel.csv.get_or_insert_default().charset = Some(gateway_model::charset::Charset::Windows1252);
    let bytes = gateway_server::codecs::Codecs::standard()
        .encoder(gateway_core::Format::Csv)
        .unwrap()
        .encode(&[gateway_model::Document::Invoice(inv)], &excel)
        .unwrap();
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "written as Windows-1252"
    );
    env.drop_file(GLOBEX, "excel.csv", &bytes).unwrap();
    arrived_as_written(
        &env,
        "E2E-CSV-1252",
        "Men’s “heavy” gloves – Müller",
        "not UTF-8: read as Windows-1252",
    )
    .await;
    env.shutdown().await.unwrap();
}

/// The sum of the `/metrics` samples of `name` whose labels contain `label`.
async fn metric(env: &DemoEnv, name: &str, label: &str) -> u64 {
    let text = reqwest::get(format!("{}/metrics", env.running.base_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Inputs refused before the pipeline (bad cXML credentials, an X12 sender no profile names,
/// a bad REST token, a body over the limit) are counted in `gateway_documents_rejected_total`
/// for their channel, so the rejection alert sees a partner whose setup broke.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_refused_at_the_door_are_counted_as_rejected() {
    let Some(env) = env(0).await else { return };
    let rejected = "gateway_documents_rejected_total";
    let label = |adapter: &str| format!("adapter=\"{adapter}\",kind=\"unknown\"");
    let counts = || async {
        [
            metric(&env, rejected, &label("cxml")).await,
            metric(&env, rejected, &label("x12")).await,
            metric(&env, rejected, &label("rest")).await,
        ]
    };
    let before = counts().await;
    let inv = DemoEnv::invoice("E2E-REFUSED").unwrap();
    let base = env.running.base_url();
    // cXML with a wrong shared secret.
    let mut impostor = env.partner(ACME).unwrap().clone();
    if let Some(c) = impostor.cxml.as_mut() {
        c.shared_secret = Some(gateway_core::Secret::new("guessed"));
    }
    let body = crate::faults::cxml_bytes(&env.codecs, &impostor, &inv);
    assert_eq!(reqwest_post(&format!("{base}/cxml"), body).await.0, 401);
    // X12 from an interchange sender no profile names.
    let edi = String::from_utf8(env.x12_from(ACME, &inv).unwrap()).unwrap();
    let stranger = edi.replacen("*ACME           *", "*STRANGER       *", 1);
    assert_ne!(stranger, edi);
    assert_eq!(
        reqwest_post(&format!("{base}/x12"), stranger.into_bytes())
            .await
            .0,
        403
    );
    // REST with a bad token, and a body over the limit (16 MiB by default).
    let (status, _) = env
        .post_rest("not-a-token", &gateway_model::Document::Invoice(inv))
        .await
        .unwrap();
    assert_eq!(status, 401);
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/documents"))
        .bearer_auth("acme-token")
        .body(vec![b' '; 17 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let after = counts().await;
    assert!(after[0] > before[0], "cxml: {before:?} {after:?}");
    assert!(after[1] > before[1], "x12: {before:?} {after:?}");
    assert!(after[2] >= before[2] + 2, "rest: {before:?} {after:?}");
    env.shutdown().await.unwrap();
}

/// Coupa's flat-file way of sending invoices with their PDFs: a zip holding the CSV and the
/// files, each invoice row naming its file in `Image Scan Filename`. Each invoice reaches
/// Coupa with its own PDF; the ledger says which zip and entry it came from; a zip without a
/// document goes to `error/` with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zip_of_a_csv_and_its_pdfs_puts_each_pdf_on_its_invoice() {
    use std::io::Write;
    let Some(env) = env(0).await else { return };
    let mut docs = Vec::new();
    for (number, scan) in [
        ("E2E-ZIP-1", "scan-0001.pdf"),
        ("E2E-ZIP-2", "scan-0002.pdf"),
    ] {
        let mut inv = DemoEnv::invoice(number).unwrap();
        inv.extensions.insert(
            "csv".into(),
            serde_json::json!({ "Image Scan Filename": scan }),
        );
        docs.push(gateway_model::Document::Invoice(inv));
    }
    let csv = env
        .codecs
        .encoder(gateway_core::Format::Csv)
        .unwrap()
        .encode(&docs, env.partner(GLOBEX).unwrap())
        .unwrap();
    assert!(String::from_utf8_lossy(&csv).contains("scan-0002.pdf"));
    let zip_of = |entries: &[(&str, &[u8])]| -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        let mut z = zip::ZipWriter::new(&mut out);
        for (name, bytes) in entries {
            z.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(bytes).unwrap();
        }
        z.finish().unwrap();
        out.into_inner()
    };
    let (one, two) = (b"%PDF-1.7 scan one".to_vec(), b"%PDF-1.7 scan two".to_vec());
    let zip = zip_of(&[
        ("invoices.csv", &csv),
        ("scan-0002.pdf", &two),
        ("scan-0001.pdf", &one),
    ]);
    env.drop_file(GLOBEX, "batch-1.zip", &zip).unwrap();
    for (number, scan, bytes) in [
        ("E2E-ZIP-1", "scan-0001.pdf", &one),
        ("E2E-ZIP-2", "scan-0002.pdf", &two),
    ] {
        assert!(
            delivered(&env, number).await,
            "{number} never reached Coupa"
        );
        // Files go up before the submit: once submitted, every upload there will be is done.
        let submitted = env
            .wait_until(GUARD, |e| e.sandbox.invoice_submitted(number))
            .await;
        assert!(submitted, "{number} was not submitted in Coupa");
        let files = env.sandbox.invoice_files(number);
        assert_eq!(files.len(), 1, "{number}: {files:?}");
        assert_eq!(files[0].file_name, scan);
        assert_eq!(files[0].sha256, gateway_tests::sha256_hex(bytes));
        let rows = env.running.ledger.list(Some(number), None, 10).unwrap();
        assert!(
            rows.len() == 1
                && rows[0]
                    .source
                    .starts_with("file batch-1.zip, entry invoices.csv"),
            "{rows:?}"
        );
        // The operator sees which file went with it, and can check it is the one in Coupa.
        let shown = gateway_cli(&env, &["documents", "--number", number]);
        let line = format!(
            "    file: {scan} ({} bytes, sha256 {})",
            bytes.len(),
            gateway_tests::sha256_hex(bytes)
        );
        assert!(shown.contains(&line), "{line:?} not in {shown}");
    }

    // A zip with no invoice file in it: error/ with the reason, nothing published.
    env.drop_file(GLOBEX, "batch-2.zip", &zip_of(&[("scan.pdf", &one)]))
        .unwrap();
    let errors = env
        .config
        .file_drop
        .as_ref()
        .unwrap()
        .root
        .join(GLOBEX)
        .join("error");
    let found = env
        .wait_until(GUARD, |_| {
            gateway_core::testkit::files_under(&errors)
                .iter()
                .any(|f| f.to_string_lossy().ends_with("batch-2.zip.errors.txt"))
        })
        .await;
    assert!(found, "{:?}", gateway_core::testkit::files_under(&errors));
    let reason = gateway_core::testkit::files_under(&errors)
        .into_iter()
        .find(|f| f.to_string_lossy().ends_with("batch-2.zip.errors.txt"))
        .map(|f| std::fs::read_to_string(f).unwrap())
        .unwrap();
    assert!(reason.contains("no document"), "{reason}");
    env.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x12_and_csv_file_drops_reach_coupa_and_are_archived() {
    let Some(env) = env(0).await else { return };
    env.drop_x12(
        GLOBEX,
        &DemoEnv::invoice("E2E-EDI-FILE-1").unwrap(),
        "a.edi",
    )
    .unwrap();
    env.drop_csv(GLOBEX, &DemoEnv::invoice("E2E-CSV-1").unwrap(), "b.csv")
        .unwrap();
    assert!(delivered(&env, "E2E-EDI-FILE-1").await);
    assert!(delivered(&env, "E2E-CSV-1").await);
    assert_one_invoice(&env, "E2E-EDI-FILE-1", "GLOBEX-7");
    assert_one_invoice(&env, "E2E-CSV-1", "GLOBEX-7");
    // Each document says which file it came from and where in it, for an operator.
    for (number, from) in [
        ("E2E-EDI-FILE-1", "file a.edi, line "),
        ("E2E-CSV-1", "file b.csv, row"),
    ] {
        let rows = env.running.ledger.list(Some(number), None, 10).unwrap();
        assert!(
            rows.len() == 1 && rows[0].source.starts_with(from),
            "{number}: {rows:?}"
        );
    }
    let shown = gateway_cli(&env, &["documents", "--number", "E2E-EDI-FILE-1"]);
    assert!(shown.contains("    from: file a.edi, line "), "{shown}");
    // What became of a file's documents: found by its name.
    let from_file = gateway_cli(&env, &["documents", "--from", "file b.csv"]);
    assert!(
        from_file.contains("E2E-CSV-1") && !from_file.contains("E2E-EDI-FILE-1"),
        "{from_file}"
    );
    // The 810 got its 997 in Outgoing; nothing is left in Incoming.
    let outgoing = env.outgoing(GLOBEX);
    assert!(
        outgoing
            .iter()
            .any(|f| f.to_string_lossy().ends_with("a.ack.edi")),
        "{outgoing:?}"
    );
    let incoming = env.dir.join("sftp/globex/Incoming");
    let left: Vec<_> = std::fs::read_dir(&incoming).unwrap().flatten().collect();
    assert!(left.is_empty(), "{left:?}");

    // A file that is not a Coupa CSV goes to `error/` and into the ledger, under the partner
    // whose folder it was dropped in, with why.
    env.drop_file(GLOBEX, "c.csv", b"colour,size\r\nred,large\r\n")
        .unwrap();
    let kept = env
        .wait_until(GUARD, |e| {
            e.running
                .ledger
                .search(&gateway_server::ledger::DocumentFilter {
                    partner: Some("globex"),
                    kind: Some("unknown"),
                    limit: 10,
                    ..Default::default()
                })
                .map(|rows| rows.len() == 1)
                .unwrap_or(false)
        })
        .await;
    assert!(kept, "the unreadable file never reached the ledger");
    let row = env
        .running
        .ledger
        .list(None, Some("rejected"), 10)
        .unwrap()
        .remove(0);
    assert_eq!(
        (row.adapter.as_str(), row.partner.as_str()),
        ("file-drop", "globex"),
        "{row:?}"
    );
    assert!(row.detail.contains("not a Coupa invoice import"), "{row:?}");
    let error_dir = env.dir.join("sftp/globex/error");
    let moved = env
        .wait_until(GUARD, |_| error_dir.join("c.csv").exists())
        .await;
    assert!(moved, "{}", error_dir.display());
    env.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_post_reaches_coupa() {
    let Some(env) = env(0).await else { return };
    let doc = gateway_model::Document::Invoice(DemoEnv::invoice("E2E-REST-1").unwrap());
    let (status, body) = env.post_rest("acme-token", &doc).await.unwrap();
    assert_eq!(status, 202, "{body}");
    let (status, _) = env.post_rest("not-a-token", &doc).await.unwrap();
    assert_eq!(status, 401);
    assert!(delivered(&env, "E2E-REST-1").await);
    assert_one_invoice(&env, "E2E-REST-1", "ACME-1");

    // The supplier follows its invoice with the doc id the POST answered, and sees it
    // delivered; another partner's token does not see it, and no token is refused. Coupa
    // holds the invoice a moment before the ledger settles it, so wait for the ledger.
    let settled = env
        .wait_until(GUARD, |e| {
            e.running
                .ledger
                .list(Some("E2E-REST-1"), Some("delivered"), 10)
                .map(|l| l.len() == 1)
                .unwrap_or(false)
        })
        .await;
    assert!(settled, "the ledger never recorded the delivery");
    let answer: Value = serde_json::from_str(&body).unwrap();
    let doc_id = answer["accepted"][0]["doc_id"]
        .as_str()
        .unwrap()
        .to_string();
    let get = |token: &'static str, path: String| {
        let env = &env;
        async move { get_json(env, token, &path).await }
    };
    let (status, one) = get("acme-token", format!("/api/v1/documents/{doc_id}")).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(
        (&one["number"], &one["kind"], &one["status"]),
        (&json!("E2E-REST-1"), &json!("invoice"), &json!("delivered")),
        "{one}"
    );
    let (status, listed) = get("acme-token", "/api/v1/documents?number=E2E-REST-1".into()).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(
        listed["documents"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    assert_eq!(listed["documents"][0]["doc_id"], json!(doc_id), "{listed}");
    let (status, other) = get("globex-token", format!("/api/v1/documents/{doc_id}")).await;
    assert_eq!(status, 404, "{other}");
    let (status, none) = get("globex-token", "/api/v1/documents?number=E2E-REST-1".into()).await;
    assert_eq!((status, &none["documents"]), (200, &json!([])), "{none}");
    let (status, _) = get("not-a-token", format!("/api/v1/documents/{doc_id}")).await;
    assert_eq!(status, 401);
    // A malformed query is answered in JSON, saying what the query takes.
    let (status, bad) = get("acme-token", "/api/v1/documents?limit=many".into()).await;
    assert_eq!(status, 400, "{bad}");
    assert!(
        bad.to_string()
            .contains("`limit` a whole number from 1 to 500"),
        "{bad}"
    );
    env.shutdown().await.unwrap();
}

/// The `gateway` binary built beside this test binary.
fn gateway_bin() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap();
    dir.join(format!("gateway{}", std::env::consts::EXE_SUFFIX))
}

/// Runs the `gateway` binary with `args` and the environment's `--config`, as an operator
/// would; asserts it succeeded and returns what it printed.
fn gateway_cli(env: &DemoEnv, args: &[&str]) -> String {
    let bin = gateway_bin();
    assert!(
        bin.exists(),
        "{} not built; run cargo test --workspace",
        bin.display()
    );
    let out = std::process::Command::new(&bin)
        .args(args)
        .arg("--config")
        .arg(env.config_path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gateway {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Posts invoice `number` from the partner Coupa does not know and returns the dead letters
/// of `coupa-invoices` once there are any (Coupa refuses it).
async fn poison_invoice(env: &DemoEnv, number: &str) -> Vec<gateway_core::DeadLetter> {
    let doc = gateway_model::Document::Invoice(DemoEnv::invoice(number).unwrap());
    let (status, _) = env.post_rest("nobody-token", &doc).await.unwrap();
    assert_eq!(status, 202);
    first_dead_invoices(env).await
}

/// The operator gives up on a dead letter (the supplier will resend it corrected): purged
/// with a note, it leaves the dead letters and the ledger says what became of it and why
/// it died, instead of showing it dead for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_dead_letter_is_marked_in_the_ledger_with_the_operators_note() {
    let Some(env) = env(0).await else { return };
    let dead = poison_invoice(&env, "E2E-POISON-PURGED").await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    let said = gateway_cli(
        &env,
        &[
            "dlq",
            "purge",
            &dead[0].doc_id,
            "--yes",
            "--note",
            "resent as E2E-2",
        ],
    );
    assert!(said.contains("coupa-invoices: purged 1"), "{said}");
    assert!(
        env.bus
            .dead_letters("coupa-invoices", &Default::default(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let row = env.running.ledger.entry(&dead[0].doc_id).unwrap().unwrap();
    assert_eq!(row.status, "purged", "{row:?}");
    assert!(
        row.detail.starts_with(
            "purged from the dead letters by an operator: resent as E2E-2; it had died of: "
        ) && row.detail.contains("NOT-IN-COUPA"),
        "{row:?}"
    );
    let nobody = env
        .running
        .ledger
        .partner_summaries()
        .unwrap()
        .into_iter()
        .find(|p| p.partner == row.partner)
        .unwrap();
    assert_eq!((nobody.dead, nobody.purged), (0, 1), "{nobody:?}");
    env.shutdown().await.unwrap();
}

/// `gateway dlq purge <doc_id> --tell-supplier` with `more` arguments; what it printed.
fn purge_telling(env: &DemoEnv, doc_id: &str, more: &[&str]) -> String {
    let mut args = vec!["dlq", "purge", doc_id, "--tell-supplier"];
    args.extend_from_slice(more);
    gateway_cli(env, &args)
}

/// Waits for the first dead letters of `coupa-invoices` and returns them.
async fn first_dead_invoices(env: &DemoEnv) -> Vec<gateway_core::DeadLetter> {
    dead_invoices(env, 1).await
}

/// Waits until `coupa-invoices` has at least `n` dead letters and returns them.
async fn dead_invoices(env: &DemoEnv, n: usize) -> Vec<gateway_core::DeadLetter> {
    let mut dead = Vec::new();
    let deadline = tokio::time::Instant::now() + GUARD;
    while dead.len() < n && tokio::time::Instant::now() < deadline {
        dead = env
            .bus
            .dead_letters("coupa-invoices", &Default::default(), 10)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    dead
}

/// Coupa refuses the next invoice for good (a 400), as it does an unknown PO or supplier.
fn coupa_refuses_the_next_invoice(env: &DemoEnv) {
    assert!(env.sandbox.inject(gateway_sandbox::FaultSpec::new(
        "POST /api/invoices",
        gateway_sandbox::FaultKind::Status { status: 400 },
        1,
    )));
}

/// The segments of an X12 interchange, each as its elements (text).
fn x12_segments(bytes: &[u8]) -> Vec<Vec<String>> {
    adapter_x12::tokenizer::Tokenizer::new(bytes)
        .map(|s| {
            s.unwrap()
                .elements()
                .map(|e| String::from_utf8_lossy(e).into_owned())
                .collect()
        })
        .collect()
}

/// The first segment `id` of `segments`.
fn x12_segment<'a>(segments: &'a [Vec<String>], id: &str) -> &'a [String] {
    segments
        .iter()
        .find(|s| s[0] == id)
        .unwrap_or_else(|| panic!("no {id} segment in {segments:?}"))
}

/// A cXML supplier's invoice that Coupa refuses for good is purged with `--tell-supplier`:
/// the supplier's cXML endpoint gets a StatusUpdateRequest naming the invoice document it
/// posted (its payloadID), rejected, with Coupa's reason; the ledger says it was told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_cxml_invoice_is_told_to_its_supplier_with_a_status_update() {
    let Some(env) = env(0).await else { return };
    coupa_refuses_the_next_invoice(&env);
    let inv = DemoEnv::invoice("E2E-TOLD-CXML").unwrap();
    let body = crate::faults::cxml_bytes(&env.codecs, env.partner(ACME).unwrap(), &inv);
    let text = String::from_utf8(body.clone()).unwrap();
    let payload_id = text
        .split("payloadID=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let (status, answer) = reqwest_post(&format!("{}/cxml", env.running.base_url()), body).await;
    assert_eq!(status, 200, "{answer}");
    let dead = first_dead_invoices(&env).await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    // A notice cannot be taken back: the dry run says how the supplier would be told, and
    // sends nothing.
    let planned = purge_telling(&env, &dead[0].doc_id, &["--dry-run"]);
    assert!(
        planned.contains(&format!(
            "supplier would be told by a cXML StatusUpdateRequest to {}/supplier/acme/cxml",
            env.sandbox.base_url()
        )),
        "{planned}"
    );
    assert!(env.sandbox.supplier_status_updates().is_empty());
    let said = purge_telling(&env, &dead[0].doc_id, &["--yes"]);
    assert!(said.contains("coupa-invoices: purged 1"), "{said}");
    assert!(
        said.contains("supplier told: cXML StatusUpdateRequest to"),
        "{said}"
    );
    let updates = env.sandbox.supplier_status_updates();
    assert_eq!(updates.len(), 1, "{updates:?}");
    let u = &updates[0];
    assert_eq!(u.supplier, "acme");
    assert_eq!(u.document_reference.as_deref(), Some(payload_id.as_str()));
    assert_eq!(u.invoice_id.as_deref(), Some("E2E-TOLD-CXML"));
    assert_eq!(u.status, "rejected");
    let comments = u.comments.as_deref().unwrap_or_default();
    assert!(
        // Coupa refused the invoice's content (400): the supplier is asked for a corrected one.
        comments.starts_with("Rejected by the buyer's Coupa: ")
            && comments.contains("400")
            && comments.contains("Please correct it and send it again as a new invoice."),
        "{comments}"
    );
    // The supplier endpoint took it as a buyer's document: our credentials, not the supplier's.
    assert!(
        u.body.contains("<Identity>coupa-buyer</Identity>"),
        "{}",
        u.body
    );
    let row = env.running.ledger.entry(&dead[0].doc_id).unwrap().unwrap();
    assert_eq!(row.status, "purged", "{row:?}");
    assert!(
        row.detail
            .starts_with("purged from the dead letters by an operator: supplier told: cXML"),
        "{row:?}"
    );
    env.shutdown().await.unwrap();
}

/// An EDI supplier's 810 that Coupa refuses for good is purged with `--tell-supplier`: an
/// 824 lands in the partner's outbound folder, rejecting that invoice by number and naming
/// the 810's group and set control numbers, with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_x12_invoice_is_told_to_its_supplier_with_an_824() {
    let Some(env) = env(0).await else { return };
    coupa_refuses_the_next_invoice(&env);
    let edi = env
        .x12_from(GLOBEX, &DemoEnv::invoice("E2E-TOLD-X12").unwrap())
        .unwrap();
    let sent = x12_segments(&edi);
    let (gs06, st02) = (
        x12_segment(&sent, "GS")[6].clone(),
        x12_segment(&sent, "ST")[2].clone(),
    );
    let (status, answer) = env.post_x12_bytes(GLOBEX, edi).await.unwrap();
    assert_eq!(status, 200, "{answer}");
    let dead = first_dead_invoices(&env).await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    let before = env.outgoing(GLOBEX);
    let planned = purge_telling(&env, &dead[0].doc_id, &["--dry-run"]);
    assert!(
        planned.contains("supplier would be told by an X12 824 in ")
            && planned.contains("sftp/globex/Outgoing"),
        "{planned}"
    );
    assert_eq!(env.outgoing(GLOBEX), before, "a dry run writes nothing");
    let said = purge_telling(
        &env,
        &dead[0].doc_id,
        &["--yes", "--note", "supplier to resend"],
    );
    assert!(said.contains("supplier told: X12 824 written to"), "{said}");
    let new: Vec<PathBuf> = env
        .outgoing(GLOBEX)
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    assert_eq!(new.len(), 1, "{new:?}");
    assert!(new[0].to_string_lossy().ends_with(".824.edi"), "{new:?}");
    let advice = x12_segments(&std::fs::read(&new[0]).unwrap());
    let isa = x12_segment(&advice, "ISA");
    assert_eq!(
        (isa[6].trim(), isa[8].trim()),
        ("COUPAGW", "GLOBEX"),
        "{isa:?}"
    );
    assert_eq!(x12_segment(&advice, "GS")[1], "AG");
    assert_eq!(x12_segment(&advice, "ST")[1], "824");
    let oti = x12_segment(&advice, "OTI");
    assert_eq!(
        (&oti[1][..], &oti[2][..], &oti[3][..]),
        ("TR", "IV", "E2E-TOLD-X12"),
        "{oti:?}"
    );
    assert_eq!(
        (&oti[8], &oti[9], &oti[10][..]),
        (&gs06, &st02, "810"),
        "{oti:?}"
    );
    let ted = x12_segment(&advice, "TED");
    assert!(
        ted[2].starts_with("Rejected by the buyer's Coupa"),
        "{ted:?}"
    );
    let row = env.running.ledger.entry(&dead[0].doc_id).unwrap().unwrap();
    assert!(
        row.detail.starts_with(
            "purged from the dead letters by an operator: supplier to resend; supplier told: X12 824"
        ),
        "{row:?}"
    );
    // The supplier's translator answers the 824 with a 997 (here refusing it): the verdict is
    // matched to the invoice, which stays purged rather than becoming a refused delivery.
    let ack =
        gateway_server::demo::supplier_997(&std::fs::read(&new[0]).unwrap(), "AK5*R*5~").unwrap();
    env.drop_file(GLOBEX, "advice.997.edi", ack.as_bytes())
        .unwrap();
    let doc_id = dead[0].doc_id.clone();
    let answered = env
        .wait_until(GUARD, |e| {
            e.running
                .ledger
                .entry(&doc_id)
                .ok()
                .flatten()
                .is_some_and(|r| !r.partner_ack.is_empty())
        })
        .await;
    assert!(answered, "the 997 for the 824 was never matched");
    let row = env.running.ledger.entry(&doc_id).unwrap().unwrap();
    assert_eq!(row.status, "purged", "{row:?}");
    assert!(
        row.partner_ack.starts_with("rejected (R) in 997"),
        "{row:?}"
    );
    env.shutdown().await.unwrap();
}

/// A partner with no outbound channel cannot be told: its invoice is not purged but stays a
/// dead letter, and the output says why and what to do; purged without telling, it goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supplier_without_a_channel_is_not_told_and_its_invoice_stays_dead() {
    let Some(env) = env(0).await else { return };
    let dead = poison_invoice(&env, "E2E-NOT-TOLD").await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    let planned = purge_telling(&env, &dead[0].doc_id, &["--dry-run"]);
    assert!(
        planned.contains(
            "supplier could not be told, so it would stay a dead letter: partner nobody has no [partners.outbound] channel"
        ),
        "{planned}"
    );
    let said = purge_telling(&env, &dead[0].doc_id, &["--yes"]);
    assert!(said.contains("coupa-invoices: purged 0"), "{said}");
    assert!(
        said.contains(
            "kept in the dead letters, supplier not told: partner nobody has no [partners.outbound] channel"
        ) && said.contains("purge it without --tell-supplier"),
        "{said}"
    );
    let still = env
        .bus
        .dead_letters("coupa-invoices", &Default::default(), 10)
        .await
        .unwrap();
    assert_eq!(still.len(), 1, "{still:?}");
    let row = env.running.ledger.entry(&dead[0].doc_id).unwrap().unwrap();
    assert_eq!(row.status, "dead", "{row:?}");
    assert!(env.sandbox.supplier_status_updates().is_empty());
    let said = gateway_cli(&env, &["dlq", "purge", &dead[0].doc_id, "--yes"]);
    assert!(said.contains("coupa-invoices: purged 1"), "{said}");
    let row = env.running.ledger.entry(&dead[0].doc_id).unwrap().unwrap();
    assert_eq!(row.status, "purged", "{row:?}");
    env.shutdown().await.unwrap();
}

/// Before replaying, the operator asks what a replay would do in Coupa now: an invoice whose
/// supplier Coupa does not know would fail again; once the supplier exists it would be
/// created (and `show` prints the request); once Coupa has it from elsewhere a replay would
/// take that one, not create a second. Asking changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_dry_run_says_what_coupa_would_do_now() {
    let Some(env) = env(0).await else { return };
    let dead = poison_invoice(&env, "E2E-PREVIEW").await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    let id = dead[0].doc_id.as_str();
    let said = gateway_cli(&env, &["dlq", "replay", id, "--dry-run"]);
    assert!(
        said.contains("Coupa now: a replay would fail again: ") && said.contains("NOT-IN-COUPA"),
        "{said}"
    );
    // The operator creates the supplier in Coupa.
    let supplier = env
        .sandbox
        .add_supplier(json!({"name": "Nobody Ltd", "number": "NOT-IN-COUPA"}))
        .unwrap();
    let said = gateway_cli(&env, &["dlq", "replay", id, "--dry-run"]);
    assert!(
        said.contains(&format!(
            "Coupa now: not there: a replay would create invoice E2E-PREVIEW for supplier NOT-IN-COUPA (id {supplier})"
        )),
        "{said}"
    );
    let shown = gateway_cli(&env, &["dlq", "show", id]);
    let request: Value = serde_json::from_str(
        shown
            .split("coupa request (what a replay would send):\n")
            .nth(1)
            .unwrap()
            .trim(),
    )
    .unwrap();
    assert_eq!(request["invoice-number"], "E2E-PREVIEW", "{request}");
    assert_eq!(request["supplier"]["id"], json!(supplier), "{request}");
    // The invoice reaches Coupa another way: a replay would take it, not make a second.
    let inv = match gateway_model::from_json(&dead[0].body).unwrap() {
        gateway_model::Document::Invoice(inv) => inv,
        other => panic!("{other:?}"),
    };
    let sent_elsewhere = gateway_server::coupa_link::invoice_delivery(&env.config)
        .unwrap()
        .deliver_invoice(&dead[0].envelope, &inv)
        .await
        .unwrap();
    let said = gateway_cli(&env, &["dlq", "replay", id, "--dry-run"]);
    assert!(
        said.contains(&format!(
            "Coupa now: already there as invoice {} (",
            sent_elsewhere.reference
        )) && said.contains("a replay creates nothing and takes it"),
        "{said}"
    );
    // Asking changed nothing: the letter is still dead, Coupa has the one invoice.
    assert_eq!(
        env.bus
            .dead_letters("coupa-invoices", &Default::default(), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let numbered = env
        .sandbox
        .invoices()
        .into_iter()
        .filter(|i| i["invoice-number"] == "E2E-PREVIEW")
        .count();
    assert_eq!(numbered, 1);
    env.shutdown().await.unwrap();
}

/// When Coupa does not answer, the dry run says so for the first letter at once (one
/// attempt, not delivery's retries) and does not ask for the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_dry_run_stops_asking_a_coupa_that_does_not_answer() {
    let Some(env) = env(0).await else { return };
    for number in ["E2E-ASK-1", "E2E-ASK-2"] {
        let doc = gateway_model::Document::Invoice(DemoEnv::invoice(number).unwrap());
        let (status, _) = env.post_rest("nobody-token", &doc).await.unwrap();
        assert_eq!(status, 202);
    }
    assert_eq!(dead_invoices(&env, 2).await.len(), 2);
    assert!(env.sandbox.inject(gateway_sandbox::FaultSpec::new(
        "GET /api/suppliers",
        gateway_sandbox::FaultKind::Status { status: 503 },
        100,
    )));
    let said = gateway_cli(&env, &["dlq", "replay", "--partner", "nobody", "--dry-run"]);
    assert_eq!(
        said.matches("Coupa now: cannot tell now (").count(),
        1,
        "{said}"
    );
    assert_eq!(
        said.matches("Coupa now: not asked: Coupa did not answer for an earlier letter")
            .count(),
        1,
        "{said}"
    );
    env.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_invoice_is_dead_lettered_then_replayed_exactly_once() {
    let Some(env) = env(0).await else { return };
    let dead = poison_invoice(&env, "E2E-POISON-1").await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(
        dead[0].reason.contains("NOT-IN-COUPA"),
        "{}",
        dead[0].reason
    );
    assert!(
        !env.coupa_invoice_numbers()
            .contains(&"E2E-POISON-1".to_string())
    );

    // The operator fixes the cause in Coupa, lists, then replays with the CLI.
    env.sandbox
        .add_supplier(serde_json::json!({"name": "Nobody Ltd", "number": "NOT-IN-COUPA"}))
        .unwrap();
    let listed = gateway_cli(&env, &["dlq", "list", "--consumer", "coupa-invoices"]);
    assert!(
        listed.contains(&dead[0].doc_id)
            && listed.contains("NOT-IN-COUPA")
            && listed.contains("invoice E2E-POISON-1  key="),
        "{listed}"
    );
    let shown = gateway_cli(&env, &["dlq", "show", &dead[0].doc_id]);
    assert!(
        shown.contains("\"invoice_number\":\"E2E-POISON-1\"") && shown.contains("NOT-IN-COUPA"),
        "dlq show must print the reason and the original body: {shown}"
    );
    // --dry-run names what a replay would take and takes nothing: the real replay below still
    // finds the dead letter.
    let previewed = gateway_cli(&env, &["dlq", "replay", "--dry-run", &dead[0].doc_id]);
    assert!(
        previewed.contains("coupa-invoices: would replay 1 dead letter")
            && previewed.contains(&dead[0].doc_id),
        "{previewed}"
    );
    let said = gateway_cli(&env, &["dlq", "replay", "--doc", &dead[0].doc_id]);
    assert!(said.contains("coupa-invoices: replayed 1"), "{said}");
    assert!(
        said.contains("if you changed a profile to fix the cause, restart it"),
        "{said}"
    );

    assert!(
        delivered(&env, "E2E-POISON-1").await,
        "replayed invoice never reached Coupa"
    );
    assert_one_invoice(&env, "E2E-POISON-1", "NOT-IN-COUPA");
    // A second replay finds nothing; Coupa still holds exactly one.
    let again = gateway_cli(&env, &["dlq", "replay", "--all"]);
    assert!(again.contains("coupa-invoices: replayed 0"), "{again}");
    assert_one_invoice(&env, "E2E-POISON-1", "NOT-IN-COUPA");
    env.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coupa_pos_reach_cxml_and_x12_suppliers_and_are_marked_exported() {
    let Some(env) = env(1).await else { return };
    let all_exported = env
        .wait_until(GUARD, |e| {
            let pos = e.sandbox.purchase_orders();
            !pos.is_empty() && pos.iter().all(|p| p["exported"] == true)
        })
        .await;
    assert!(all_exported, "{:?}", env.sandbox.purchase_orders());
    let received = env.sandbox.supplier_received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].supplier, "acme");
    assert_eq!(received[0].order_id.as_deref(), Some("PO-00001"));
    assert!(
        received[0].body.contains("<OrderRequest>"),
        "{}",
        received[0].body
    );
    // The delivery facts of Coupa's PO reach the supplier: its `shipping-term` (which had no
    // canonical field and reached nobody) in the TermsOfDelivery, its `ship-to-attention` in
    // the ShipTo.
    for part in [
        r#"<TransportTerms value="Other">FOB Destination</TransportTerms>"#,
        "<DeliverTo>J Madden</DeliverTo>",
    ] {
        assert!(
            received[0].body.contains(part),
            "{part}: {}",
            received[0].body
        );
    }
    let files = env.outgoing(GLOBEX);
    assert_eq!(po_files(&files), 1, "{files:?}");
    let edi = std::fs::read_to_string(
        files
            .iter()
            .find(|f| f.to_string_lossy().contains("PO-GLOBEX-1"))
            .unwrap(),
    )
    .unwrap();
    assert!(edi.contains("ST*850"), "{edi}");
    assert!(edi.contains("BEG*00*"), "{edi}");
    assert!(edi.contains("PO-GLOBEX-1"), "{edi}");
    // What the supplier's translator sees: N103 an X12 code (Coupa's supplier id is assigned
    // by the buyer: 92), the id's Coupa domain in a loop REF*ZZ, the PO version in REF*PP.
    let supplier = edi
        .split('~')
        .map(str::trim)
        .find(|s| s.starts_with("N1*SU*"))
        .unwrap_or_else(|| panic!("no N1*SU in {edi}"));
    assert_eq!(supplier.split('*').nth(3), Some("92"), "{edi}");
    assert!(edi.contains("*coupa~"), "{edi}");
    assert!(edi.contains("REF*PP*1~"), "{edi}");
    // The shipping terms, a code that is no Incoterm, as FOB03 text.
    assert!(edi.contains("FOB*DF*ZZ*FOB Destination~"), "{edi}");

    // The supplier's translator refuses the 850 and says so in a 997 dropped into its
    // Incoming folder: the PO's ledger row shows the refusal and why, the 997 is archived (not
    // an error), and nothing is sent back to acknowledge an acknowledgment.
    let refused_before = partner_rejected_metric(&env).await;
    let ack =
        gateway_server::demo::supplier_997(edi.as_bytes(), "AK3*N1*3**8~\nAK4*4*67*5~\nAK5*R*5~")
            .unwrap();
    env.drop_file(GLOBEX, "po-globex-1.997.edi", ack.as_bytes())
        .unwrap();
    let refused = partner_rejected(&env, "PO-GLOBEX-1").await;
    let rows = env
        .running
        .ledger
        .list(Some("PO-GLOBEX-1"), None, 10)
        .unwrap();
    assert!(refused, "{rows:?}");
    assert!(
        rows[0].partner_ack.starts_with("rejected (R) in 997 0001")
            && rows[0]
                .partner_ack
                .contains("segment N1 at position 3: segment has data element errors (8)")
            && rows[0]
                .partner_ack
                .contains("element 4 (data element 67): data element too long (5)"),
        "{rows:?}"
    );
    // Alerting sees it too: the metric counts the refusal (other tests in this process may
    // count theirs as well, so it grew by at least this one).
    // The ledger row is written before the counter is, so wait for the counter as well.
    assert!(
        partner_rejected_metric_exceeds(&env, refused_before).await,
        "gateway_documents_partner_rejected_total did not grow past {refused_before}"
    );
    let archived = env
        .wait_until(GUARD, |e| archive_holds(e, GLOBEX, "po-globex-1.997.edi"))
        .await;
    assert!(archived, "the 997 was not archived");
    let files = env.outgoing(GLOBEX);
    assert!(
        !files
            .iter()
            .any(|f| f.to_string_lossy().contains("po-globex-1.997")),
        "an acknowledgment was acknowledged: {files:?}"
    );
    // The supplier corrects itself with a 997 accepting the set, POSTed to /x12 this time: the
    // partner is found by the 997's ISA sender, the answer is empty (acknowledgments are not
    // acknowledged), and the row is delivered again with the new verdict.
    let accept = gateway_server::demo::supplier_997(edi.as_bytes(), "AK5*A~").unwrap();
    let (status, _, body) = post_x12_text(&env, &accept).await;
    assert_eq!((status, body.as_str()), (200, ""));
    let rows = env
        .running
        .ledger
        .list(Some("PO-GLOBEX-1"), None, 10)
        .unwrap();
    assert_eq!(rows[0].status, "delivered", "{rows:?}");
    assert!(
        rows[0].partner_ack.starts_with("accepted (A) in 997 0001"),
        "{rows:?}"
    );

    // Buyer changes the PO in Coupa: the new version goes out as an update, once.
    let acme_po = env
        .sandbox
        .purchase_orders()
        .into_iter()
        .find(|p| p["po-number"] == "PO-00001")
        .unwrap();
    assert!(
        env.sandbox
            .revise_purchase_order(acme_po["id"].as_u64().unwrap())
    );
    let updated = env
        .wait_until(GUARD, |e| {
            e.sandbox.supplier_received().len() == 2
                && e.sandbox
                    .purchase_orders()
                    .iter()
                    .all(|p| p["exported"] == true)
        })
        .await;
    assert!(updated, "{:?}", env.sandbox.supplier_received());
    let received = env.sandbox.supplier_received();
    assert_eq!(received[1].order_id.as_deref(), Some("PO-00001"));
    assert_eq!(
        received[1].order_type.as_deref(),
        Some("update"),
        "{}",
        received[1].body
    );
    env.shutdown().await.unwrap();
}

/// `gateway_documents_partner_rejected_total` for purchase orders, as `/metrics` shows it.
async fn partner_rejected_metric(env: &DemoEnv) -> u64 {
    metric(
        env,
        "gateway_documents_partner_rejected_total",
        "kind=\"purchase_order\"",
    )
    .await
}

/// Whether the partner-rejected counter on `/metrics` grows past `before` in time.
async fn partner_rejected_metric_exceeds(env: &DemoEnv, before: u64) -> bool {
    let deadline = tokio::time::Instant::now() + GUARD;
    loop {
        if partner_rejected_metric(env).await > before {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether the PO numbered `number` becomes `partner_rejected` in the ledger in time.
async fn partner_rejected(env: &DemoEnv, number: &str) -> bool {
    env.wait_until(GUARD, |e| {
        e.running
            .ledger
            .list(Some(number), Some("partner_rejected"), 10)
            .is_ok_and(|l| l.len() == 1)
    })
    .await
}

/// The text of the one 850 in `partner`'s outgoing folder that is not among `seen`.
fn new_850(env: &DemoEnv, partner: &str, seen: &[PathBuf]) -> Option<(PathBuf, String)> {
    env.outgoing(partner)
        .into_iter()
        .filter(|f| po_files(std::slice::from_ref(f)) == 1 && !seen.contains(f))
        .find_map(|f| Some((f.clone(), std::fs::read_to_string(&f).ok()?)))
}

/// An ISA element of an interchange (13: its control number).
fn isa(edi: &str, n: usize) -> String {
    edi.split('~')
        .map(str::trim)
        .find(|s| s.starts_with("ISA*"))
        .and_then(|s| s.split('*').nth(n))
        .unwrap_or_default()
        .to_string()
}

/// A PO its supplier refused goes out again with `gateway resend` once the cause is fixed:
/// read from Coupa again, a new 850 with new control numbers under a key of its own, whose
/// 997 is matched to it; the refused original keeps its verdict, and what cannot be resent
/// says what to do instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_po_the_supplier_refused_is_resent_and_its_own_997_matched() {
    let Some(env) = env(1).await else { return };
    let first = env
        .wait_until(GUARD, |e| new_850(e, GLOBEX, &[]).is_some())
        .await;
    assert!(first, "{:?}", env.outgoing(GLOBEX));
    let (first_file, edi) = new_850(&env, GLOBEX, &[]).unwrap();
    // The 850's control numbers are recorded after its file is written: a 997 read before
    // that matches nothing. Coupa's export mark comes after both.
    let recorded = env
        .wait_until(GUARD, |e| e.sandbox.purchase_order_exported("PO-GLOBEX-1"))
        .await;
    assert!(recorded, "{:?}", env.sandbox.purchase_orders());
    let ack = gateway_server::demo::supplier_997(edi.as_bytes(), "AK5*R*5~").unwrap();
    env.drop_file(GLOBEX, "refusal.997.edi", ack.as_bytes())
        .unwrap();
    let refused = partner_rejected(&env, "PO-GLOBEX-1").await;
    assert!(refused);
    let original = env
        .running
        .ledger
        .list(Some("PO-GLOBEX-1"), None, 10)
        .unwrap()
        .remove(0);
    let sent_before = env.sandbox.request_log().len();

    let resent = gateway_server::documents::resend(
        &env.config,
        env.running.ledger.clone(),
        env.bus.clone(),
        &original.doc_id,
    )
    .await
    .unwrap();
    assert_eq!(
        (
            resent.key.clone(),
            resent.partner.as_str(),
            resent.number.as_str()
        ),
        (
            format!("{}:resend-1", original.idempotency_key),
            GLOBEX,
            "PO-GLOBEX-1"
        )
    );
    assert!(
        env.sandbox.request_log()[sent_before..]
            .iter()
            .any(|r| r.method == "GET" && r.path.starts_with("/api/purchase_orders")),
        "the PO was not read from Coupa again"
    );
    let second = env
        .wait_until(GUARD, |e| {
            new_850(e, GLOBEX, std::slice::from_ref(&first_file)).is_some()
        })
        .await;
    assert!(second, "{:?}", env.outgoing(GLOBEX));
    let (_, again) = new_850(&env, GLOBEX, std::slice::from_ref(&first_file)).unwrap();
    assert!(
        again.contains("BEG*00*") && again.contains("PO-GLOBEX-1"),
        "{again}"
    );
    assert_ne!(isa(&again, 13), isa(&edi, 13), "control numbers reused");
    let delivered = env
        .wait_until(GUARD, |e| {
            e.running
                .ledger
                .entry(&resent.key)
                .is_ok_and(|r| r.is_some_and(|r| r.status == "delivered"))
        })
        .await;
    assert!(delivered, "{:?}", env.running.ledger.entry(&resent.key));

    // The supplier accepts the new 850: its 997 is matched to the resend, not the original.
    let accept = gateway_server::demo::supplier_997(again.as_bytes(), "AK5*A~").unwrap();
    let (status, _, body) = post_x12_text(&env, &accept).await;
    assert_eq!((status, body.as_str()), (200, ""));
    let row = env.running.ledger.entry(&resent.key).unwrap().unwrap();
    assert!(
        row.partner_ack.starts_with("accepted (A) in 997"),
        "{row:?}"
    );
    let row = env
        .running
        .ledger
        .entry(&original.idempotency_key)
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "partner_rejected", "{row:?}");

    // Resending again takes the next key; a document the ledger does not know is named.
    let twice = gateway_server::documents::resend(
        &env.config,
        env.running.ledger.clone(),
        env.bus.clone(),
        &original.idempotency_key,
    )
    .await
    .unwrap();
    assert_eq!(twice.key, format!("{}:resend-2", original.idempotency_key));
    let unknown = gateway_server::documents::resend(
        &env.config,
        env.running.ledger.clone(),
        env.bus.clone(),
        "no-such-document",
    )
    .await
    .unwrap_err();
    assert!(
        format!("{unknown:#}").contains("no document no-such-document"),
        "{unknown:#}"
    );
    env.shutdown().await.unwrap();
}

/// Whether a file named `name` is in any of `partner`'s archive folders.
fn archive_holds(env: &DemoEnv, partner: &str, name: &str) -> bool {
    let Some(fd) = env.config.file_drop.as_ref() else {
        return false;
    };
    gateway_core::testkit::files_under(&fd.root.join(partner).join("archive"))
        .iter()
        .any(|f| f.file_name().is_some_and(|n| n == name))
}

/// GETs of the PO list the sandbox has answered: each poll makes at least one.
fn po_polls(env: &DemoEnv) -> usize {
    env.sandbox
        .request_log()
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/api/purchase_orders"))
        .count()
}

/// The supplier takes the PO, then its answer never arrives (the connection drops): the
/// gateway cannot know it was taken and sends it again. Each attempt used to get a new
/// payloadID, so even a supplier that recognises payloadIDs took the order twice (goods
/// shipped twice). Every attempt at one PO version now has the same payloadID, and the
/// sandbox's supplier, which recognises them, holds one order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_po_sent_again_after_a_lost_answer_keeps_its_payload_id() {
    let Some(env) = env(0).await else { return };
    let base = env.sandbox.base_url();
    let route = "/supplier/retrytech/cxml";
    assert!(env.sandbox.inject(gateway_sandbox::FaultSpec::new(
        &format!("POST {route}"),
        gateway_sandbox::FaultKind::CommitThenDrop,
        1
    )));
    add_supplier_with_po(
        &env.sandbox,
        serde_json::json!({
            "name": "Retrytech",
            "number": "RETRYTECH-1",
            "po-method": "cxml",
            "cxml-url": format!("{base}{route}"),
            "cxml-domain": "NetworkID",
            "cxml-identity": "globex-buyer",
            "cxml-supplier-domain": "DUNS",
            "cxml-supplier-identity": "retrytech-duns"
        }),
        "PO-RETRY-1",
    )
    .unwrap();
    assert!(
        env.wait_until(GUARD, |e| e.sandbox.purchase_order_exported("PO-RETRY-1"))
            .await,
        "{:?}",
        env.sandbox.purchase_orders()
    );
    let posts = env
        .sandbox
        .request_log()
        .iter()
        .filter(|r| r.method == "POST" && r.path == route)
        .count();
    assert!(
        posts >= 2,
        "the PO was not sent again after the lost answer: {posts} POST(s)"
    );
    let received: Vec<_> = env
        .sandbox
        .supplier_received()
        .into_iter()
        .filter(|o| o.supplier == "retrytech")
        .collect();
    assert_eq!(received.len(), 1, "{received:?}");
    let id = received[0].payload_id.clone().unwrap_or_default();
    assert!(id.starts_with("coupa-po."), "{id}");
    env.shutdown().await.unwrap();
}

/// Coupa misbehaves around a PO: the PO list answers 503s and a 429 while the poller asks,
/// and after the supplier took the PO, marking it exported fails more times than the Coupa
/// client retries (so the bus retries the whole delivery), the first time after Coupa
/// committed the mark but its answer was lost. The supplier gets the PO exactly once (counted
/// as requests on the wire, not as orders a payloadID-aware supplier kept), the PO ends up
/// exported, and nothing is dead-lettered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coupa_faults_while_polling_and_marking_exported_send_each_po_once() {
    let Some(env) = env(0).await else { return };
    let base = env.sandbox.base_url();
    let route = "/supplier/faultco/cxml";
    for fault in [
        gateway_sandbox::FaultSpec::new(
            "GET /api/purchase_orders",
            gateway_sandbox::FaultKind::Status { status: 503 },
            3,
        ),
        gateway_sandbox::FaultSpec::new(
            "GET /api/purchase_orders",
            gateway_sandbox::FaultKind::RateLimit { retry_after: 1 },
            1,
        ),
        gateway_sandbox::FaultSpec::new(
            "PUT /api/purchase_orders/",
            gateway_sandbox::FaultKind::CommitThenDrop,
            1,
        ),
        // More than the client's 5 attempts: the bus has to retry the delivery.
        gateway_sandbox::FaultSpec::new(
            "PUT /api/purchase_orders/",
            gateway_sandbox::FaultKind::Status { status: 503 },
            6,
        ),
    ] {
        assert!(env.sandbox.inject(fault));
    }
    add_supplier_with_po(
        &env.sandbox,
        serde_json::json!({
            "name": "Faultco",
            "number": "FAULTCO-1",
            "po-method": "cxml",
            "cxml-url": format!("{base}{route}"),
            "cxml-domain": "NetworkID",
            "cxml-identity": "globex-buyer",
            "cxml-supplier-domain": "DUNS",
            "cxml-supplier-identity": "faultco-duns"
        }),
        "PO-FAULT-1",
    )
    .unwrap();
    assert!(
        env.wait_until(GUARD, |e| {
            // Two marks answered 200: the one whose answer was dropped, and the last.
            e.sandbox.purchase_order_exported("PO-FAULT-1")
                && e.sandbox
                    .request_log()
                    .iter()
                    .filter(|r| {
                        r.method == "PUT"
                            && r.path.starts_with("/api/purchase_orders/")
                            && r.status == 200
                    })
                    .count()
                    >= 2
        })
        .await,
        "{:?}",
        env.sandbox.purchase_orders()
    );
    let log = env.sandbox.request_log();
    let posts = log
        .iter()
        .filter(|r| r.method == "POST" && r.path == route)
        .count();
    assert_eq!(posts, 1, "the supplier was sent the PO {posts} times");
    let marks = log
        .iter()
        .filter(|r| r.method == "PUT" && r.path.starts_with("/api/purchase_orders/"))
        .count();
    assert!(
        marks >= 8,
        "the faults were not all met: {marks} PUT(s) to mark the PO exported"
    );
    let polls_refused = log
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/api/purchase_orders"))
        .filter(|r| r.status == 503 || r.status == 429)
        .count();
    assert_eq!(polls_refused, 4, "{log:?}");
    let dead = env
        .bus
        .dead_letters("supplier-orders", &Default::default(), 10)
        .await
        .unwrap();
    assert!(dead.is_empty(), "{dead:?}");
    env.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suppliers_known_only_in_coupa_get_pos_by_their_coupa_po_method() {
    let Some(env) = env(0).await else { return };
    let base = env.sandbox.base_url();
    // Neither supplier has a [[partners]] entry. Hooli's record holds POs for the buyer
    // (`prompt`); Initech's says cXML, with Coupa's credentials and its own URL.
    add_supplier_with_po(
        &env.sandbox,
        serde_json::json!({"name": "Hooli", "number": "HOOLI-3", "po-method": "prompt"}),
        "PO-HOOLI-1",
    )
    .unwrap();
    add_supplier_with_po(
        &env.sandbox,
        serde_json::json!({
            "name": "Initech",
            "number": "INITECH-2",
            "po-method": "cxml",
            "cxml-url": format!("{base}/supplier/initech/cxml"),
            "cxml-domain": "NetworkID",
            "cxml-identity": "globex-buyer",
            "cxml-supplier-domain": "DUNS",
            "cxml-supplier-identity": "initech-duns",
            "cxml-secret": "initech-po-secret"
        }),
        "PO-INITECH-1",
    )
    .unwrap();
    assert!(
        env.wait_until(GUARD, |e| e.sandbox.purchase_order_exported("PO-INITECH-1"))
            .await,
        "{:?}",
        env.sandbox.purchase_orders()
    );
    let received = env.sandbox.supplier_received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].supplier, "initech");
    assert_eq!(received[0].order_id.as_deref(), Some("PO-INITECH-1"));
    let body = &received[0].body;
    assert!(body.contains("<OrderRequest>"), "{body}");
    // Coupa never returns `cxml-secret` (write-only), so none is sent, as Coupa itself does
    // for a supplier without one; a supplier that checks one needs a [[partners]] entry.
    assert!(!body.contains("SharedSecret"), "{body}");
    assert!(body.contains("<Identity>initech-duns</Identity>"), "{body}");
    assert!(body.contains("<Identity>globex-buyer</Identity>"), "{body}");

    // Two more polls after that: the one running when Initech's PO was exported has
    // finished, and Hooli's PO was looked at again and still left to Coupa.
    let seen = po_polls(&env);
    assert!(env.wait_until(GUARD, |e| po_polls(e) >= seen + 2).await);
    assert!(!env.sandbox.purchase_order_exported("PO-HOOLI-1"));
    assert_eq!(env.sandbox.supplier_received().len(), 1);
    env.shutdown().await.unwrap();
}

/// Only issued POs go to suppliers: drafts and POs on hold went out as new orders. A
/// cancellation keeps its version in the sandbox (Coupa does not document that it raises it),
/// and went nowhere, since its key was the version's, already sent; it now goes out as a
/// `delete` under a key of its own, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_issued_pos_go_out_and_a_cancellation_follows_its_version() {
    let Some(env) = env(0).await else { return };
    let base = env.sandbox.base_url();
    let supplier = env
        .sandbox
        .add_supplier(serde_json::json!({
            "name": "Cancelco",
            "number": "CANCELCO-1",
            "po-method": "cxml",
            "cxml-url": format!("{base}/supplier/cancelco/cxml"),
            "cxml-domain": "NetworkID",
            "cxml-identity": "globex-buyer",
            "cxml-supplier-domain": "DUNS",
            "cxml-supplier-identity": "cancelco-duns"
        }))
        .unwrap();
    for (number, status) in [
        ("PO-DRAFT-1", "draft"),
        ("PO-HOLD-1", "buyer_hold"),
        ("PO-SHOLD-1", "supplier_hold"),
    ] {
        let mut po = gateway_sandbox::demo::sample_purchase_order(number, supplier);
        po["status"] = serde_json::json!(status);
        env.sandbox.add_purchase_order(po).unwrap();
    }
    let issued = env
        .sandbox
        .add_purchase_order(gateway_sandbox::demo::sample_purchase_order(
            "PO-ISSUED-1",
            supplier,
        ))
        .unwrap();
    assert!(
        env.wait_until(GUARD, |e| e.sandbox.purchase_order_exported("PO-ISSUED-1"))
            .await,
        "{:?}",
        env.sandbox.purchase_orders()
    );
    // Two more polls: the ones that saw the drafts and holds have finished.
    let seen = po_polls(&env);
    assert!(env.wait_until(GUARD, |e| po_polls(e) >= seen + 2).await);
    let received = env.sandbox.supplier_received();
    let numbers: Vec<_> = received.iter().map(|r| r.order_id.clone()).collect();
    assert_eq!(numbers, [Some("PO-ISSUED-1".to_string())], "{received:?}");
    for held in ["PO-DRAFT-1", "PO-HOLD-1", "PO-SHOLD-1"] {
        assert!(!env.sandbox.purchase_order_exported(held), "{held}");
    }

    // The buyer cancels the PO already sent.
    assert!(env.sandbox.cancel_purchase_order(issued));
    assert!(
        env.wait_until(GUARD, |e| e.sandbox.supplier_received().len() == 2
            && e.sandbox.purchase_order_exported("PO-ISSUED-1"))
            .await,
        "{:?}",
        env.sandbox.supplier_received()
    );
    let received = env.sandbox.supplier_received();
    assert_eq!(received[1].order_id.as_deref(), Some("PO-ISSUED-1"));
    assert_eq!(
        received[1].order_type.as_deref(),
        Some("delete"),
        "{}",
        received[1].body
    );
    // It names the OrderRequest it cancels, by the payloadID that one went under.
    let first = received[0].payload_id.clone().unwrap();
    assert!(
        received[1]
            .body
            .contains(&format!("<DocumentReference payloadID=\"{first}\"/>")),
        "{}",
        received[1].body
    );
    let rows = env
        .running
        .ledger
        .list(Some("PO-ISSUED-1"), None, 10)
        .unwrap();
    let keys: Vec<&str> = rows.iter().map(|r| r.idempotency_key.as_str()).collect();
    assert!(
        keys.contains(&format!("coupa-po:{issued}:v1:cancel").as_str())
            && keys.contains(&format!("coupa-po:{issued}:v1").as_str()),
        "{keys:?}"
    );
    // Sent once: more polls change nothing.
    let seen = po_polls(&env);
    assert!(env.wait_until(GUARD, |e| po_polls(e) >= seen + 2).await);
    assert_eq!(env.sandbox.supplier_received().len(), 2);
    env.shutdown().await.unwrap();
}

/// A Coupa PO that cannot be read (a price no decimal, no supplier) was only a log line on
/// every poll: it is now kept as `rejected` with why, once, where `gateway documents` shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_po_that_cannot_be_read_is_kept_as_rejected_once() {
    let Some(env) = env(0).await else { return };
    let supplier = env
        .sandbox
        .add_supplier(
            serde_json::json!({"name": "Oddco", "number": "ODDCO-1", "po-method": "prompt"}),
        )
        .unwrap();
    let mut bad_price = gateway_sandbox::demo::sample_purchase_order("PO-ODD-1", supplier);
    bad_price["order-lines"][0]["price"] = serde_json::json!("12,50");
    let odd = env.sandbox.add_purchase_order(bad_price).unwrap();
    let mut no_supplier = gateway_sandbox::demo::sample_purchase_order("PO-ODD-2", supplier);
    no_supplier.as_object_mut().unwrap().remove("supplier");
    let lost = env.sandbox.add_purchase_order(no_supplier).unwrap();
    let rejected = |e: &DemoEnv| {
        e.running
            .ledger
            .list(None, Some("rejected"), 10)
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.number.starts_with("PO-ODD-"))
            .collect::<Vec<_>>()
    };
    assert!(env.wait_until(GUARD, |e| rejected(e).len() == 2).await);
    let rows = rejected(&env);
    let by_number = |n: &str| rows.iter().find(|r| r.number == n).unwrap();
    let odd_row = by_number("PO-ODD-1");
    assert_eq!(odd_row.idempotency_key, format!("coupa-po:{odd}:v1"));
    assert!(odd_row.detail.contains("12,50"), "{odd_row:?}");
    let lost_row = by_number("PO-ODD-2");
    assert_eq!(lost_row.idempotency_key, format!("coupa-po:{lost}:v1"));
    assert!(
        lost_row.detail.contains("names no supplier"),
        "{lost_row:?}"
    );
    // Kept once: later polls leave the rows as they were.
    let before: Vec<String> = rows.iter().map(|r| r.updated_at.clone()).collect();
    let seen = po_polls(&env);
    assert!(env.wait_until(GUARD, |e| po_polls(e) >= seen + 2).await);
    let after: Vec<String> = rejected(&env)
        .iter()
        .map(|r| r.updated_at.clone())
        .collect();
    assert_eq!(before, after);
    assert!(!env.sandbox.purchase_order_exported("PO-ODD-1"));
    env.shutdown().await.unwrap();
}

/// The invoices in Coupa whose number is `number` but for letter case and surrounding spaces.
fn held_in_any_case(env: &DemoEnv, number: &str) -> Vec<String> {
    env.coupa_invoice_numbers()
        .into_iter()
        .filter(|n| n.trim().eq_ignore_ascii_case(number.trim()))
        .collect()
}

/// Posts invoice `number` over REST as Acme and waits until the ledger settles it; returns the
/// ledger's word on it (`coupa: 4 (already there: ...)`, or the dead letter's reason).
async fn post_and_settle(env: &DemoEnv, number: &str) -> String {
    let doc = gateway_model::Document::Invoice(DemoEnv::invoice(number).unwrap());
    let (status, body) = env.post_rest("acme-token", &doc).await.unwrap();
    assert_eq!(status, 202, "{number:?}: {body}");
    let doc_id = serde_json::from_str::<Value>(&body).unwrap()["accepted"][0]["doc_id"]
        .as_str()
        .unwrap()
        .to_string();
    let settled = |e: &DemoEnv| {
        e.running
            .ledger
            .entry(&doc_id)
            .ok()
            .flatten()
            .filter(|r| r.status == "delivered" || r.status == "dead")
    };
    assert!(
        env.wait_until(GUARD, |e| settled(e).is_some()).await,
        "{number:?} never settled"
    );
    let row = settled(env).unwrap();
    format!("{}: {}", row.status, row.detail)
}

/// QA's double payment and its dead-lettered resend, through the gateway: the same invoice as
/// `CASE-R2` then `case-r2` (one business key to the intake) made two Coupa invoices; resent as
/// `"SP-R3 "` it died as a duplicate Coupa refused, though Coupa held it once. Each copy is now
/// delivered as already there, and Coupa holds one invoice; so too where Coupa looks numbers up
/// with letter case (the sandbox told to), which Coupa does not say it does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoice_resent_with_its_number_in_another_case_or_spaced_is_delivered_once() {
    let Some(env) = env(0).await else { return };
    for (first, copy) in [("E2E-CASE-R2", "e2e-case-r2"), ("E2E-SP-R3", "E2E-SP-R3 ")] {
        let said = post_and_settle(&env, first).await;
        assert!(said.starts_with("delivered: coupa: "), "{first}: {said}");
        let said = post_and_settle(&env, copy).await;
        assert!(
            said.starts_with("delivered: coupa: ") && said.contains("already there"),
            "{copy:?}: {said}"
        );
        assert_eq!(held_in_any_case(&env, first), [first]);
    }
    env.sandbox
        .set_invoice_number_case(gateway_sandbox::InvoiceNumberCase {
            exact_lookups: true,
            unique_ignoring_case: false,
        });
    post_and_settle(&env, "E2E-CASE-X1").await;
    let said = post_and_settle(&env, "e2e-Case-x1").await;
    assert!(said.contains("already there"), "{said}");
    assert_eq!(held_in_any_case(&env, "E2E-CASE-X1"), ["E2E-CASE-X1"]);
    let dead = env
        .bus
        .dead_letters("coupa-invoices", &Default::default(), 10)
        .await
        .unwrap();
    assert!(dead.is_empty(), "{dead:?}");
    env.shutdown().await.unwrap();
}
