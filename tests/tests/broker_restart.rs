//! RabbitMQ restarted under load (`rabbitmqctl stop_app` / `start_app`) on a private node
//! (`gateway_tests::rabbit_node`), so the shared broker the other tests use stays up.
//!
//! 1. The bus alone: a publisher and a consumer keep going across the restart; every publish
//!    the broker confirmed is consumed afterwards, and both sides reconnect by themselves.
//! 2. The whole gateway: cXML senders keep posting across the restart; a request sent while
//!    the broker is down never gets a 2xx, the senders see 503 and retry, and the end-of-run
//!    reconciliation shows nothing lost and nothing duplicated in Coupa.
//! 3. A memory alarm, then a disk alarm (the broker blocks publishers and confirms nothing): a
//!    sender gets 503 with Retry-After, not a 408, and its invoice reaches Coupa once after the
//!    alarm clears.
//!
//! Without rabbitmq-server (or as a user that cannot run it) the tests are skipped loudly,
//! except under CI, where they fail.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::BoxFuture;
use gateway_broker::RabbitBroker;
use gateway_core::{
    Broker, ConsumerSpec, Delivered, Envelope, Handler, Message, Outcome, SourceMeta, Topology,
};
use gateway_model::DocumentKind;
use gateway_server::demo::ACME;
use gateway_tests::rabbit_node::RabbitNode;

use crate::faults::{GUARD, Reconciliation, cxml_bytes, demo_env, invoice};

/// Waits (polling, at most [`GUARD`]) until `cond` holds; returns whether it does.
async fn eventually(cond: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + GUARD;
    while !cond() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

// ---------------------------------------------------------------------------------------
// 1. The bus alone

struct Counting(Arc<Mutex<BTreeMap<String, usize>>>);

impl Handler for Counting {
    fn handle<'a>(&'a self, m: &'a Delivered) -> BoxFuture<'a, Outcome> {
        let body = String::from_utf8_lossy(&m.body).to_string();
        *self.0.lock().unwrap().entry(body).or_insert(0) += 1;
        async { Outcome::Ack }.boxed()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bus_keeps_every_confirmed_message_across_a_rabbitmq_restart() {
    // The bus's reconnect log lines, shown when the test fails (the harness captures them).
    let _ = tracing_subscriber::fmt()
        .with_env_filter("gateway_broker=debug,lapin=info")
        .with_test_writer()
        .try_init();
    let Some(node) = blocking(|| RabbitNode::start_or_skip("bus restart")).await else {
        return;
    };
    let node = Arc::new(node);
    let topology = Topology {
        namespace: format!("restart{}", fastrand::u32(..)),
        consumers: vec![ConsumerSpec {
            name: "invoices".into(),
            bindings: vec!["in.invoice.*".into()],
        }],
        retry_tiers: vec![Duration::from_millis(100)],
        delivery_limit: 20,
        prefetch: 16,
    };
    let broker = Arc::new(RabbitBroker::connect(&node.url(), topology).await.unwrap());

    let consumed: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let consumer = {
        let broker = Arc::clone(&broker);
        let handler = Arc::new(Counting(Arc::clone(&consumed)));
        tokio::spawn(async move {
            broker
                .consume("invoices", handler, stop_rx.map(|_| ()).boxed())
                .await
        })
    };

    // The publisher sends batches of 5 until told to stop, and retries a batch until it is
    // confirmed; only a confirmed batch counts as sent.
    let confirmed: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let failures = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(AtomicBool::new(false));
    let publisher = {
        let (broker, confirmed, failures, enough) = (
            Arc::clone(&broker),
            Arc::clone(&confirmed),
            Arc::clone(&failures),
            Arc::clone(&enough),
        );
        tokio::spawn(async move {
            let mut start = 0;
            while !enough.load(Ordering::SeqCst) {
                let bodies: Vec<String> = (start..start + 5).map(|i| format!("m{i:05}")).collect();
                let batch: Vec<Message> = bodies
                    .iter()
                    .map(|b| Message {
                        envelope: Envelope::inbound(
                            DocumentKind::Invoice,
                            "test",
                            Some("acme".into()),
                            SourceMeta::default(),
                        ),
                        body: b.clone().into_bytes(),
                    })
                    .collect();
                loop {
                    match broker.publish(&batch).await {
                        Ok(()) => {
                            confirmed.lock().unwrap().extend(bodies);
                            break;
                        }
                        Err(e) => {
                            assert!(e.is_retryable(), "a restart is a retryable error: {e}");
                            failures.fetch_add(1, Ordering::SeqCst);
                            // Pacing of the publisher's retry loop.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
                start += 5;
            }
        })
    };

    let confirmed_now = || confirmed.lock().unwrap().len();
    assert!(
        eventually(|| confirmed_now() >= 100).await,
        "no publish confirmed before the restart"
    );
    let n = Arc::clone(&node);
    blocking(move || n.stop_app()).await.unwrap();
    let during_stop = confirmed_now();
    assert!(
        eventually(|| failures.load(Ordering::SeqCst) > 0).await,
        "the publisher never noticed the broker was down"
    );
    // Nothing can be confirmed while the broker application is stopped (a confirm in flight
    // when stop_app began may still have arrived before it returned).
    assert_eq!(
        confirmed_now(),
        during_stop,
        "a publish was confirmed while RabbitMQ was stopped"
    );
    let n = Arc::clone(&node);
    blocking(move || n.start_app()).await.unwrap();
    assert!(
        eventually(|| confirmed_now() >= during_stop + 100).await,
        "the publisher made no progress after the restart"
    );
    enough.store(true, Ordering::SeqCst);
    publisher.await.unwrap();
    let total = confirmed_now();

    // Every confirmed message is consumed after the restart, by the same consumer task.
    let all_consumed = || {
        let seen = consumed.lock().unwrap();
        confirmed
            .lock()
            .unwrap()
            .iter()
            .all(|b| seen.contains_key(b))
    };
    let ok = eventually(all_consumed).await;
    let seen = consumed.lock().unwrap().clone();
    let missing: Vec<String> = confirmed
        .lock()
        .unwrap()
        .iter()
        .filter(|b| !seen.contains_key(*b))
        .cloned()
        .collect();
    assert!(
        ok,
        "confirmed messages lost across the restart: {} of {total}, first {:?}",
        missing.len(),
        missing.iter().take(5).collect::<Vec<_>>()
    );
    let redelivered = seen.values().filter(|n| **n > 1).count();
    eprintln!(
        "bus restart: {total} confirmed, {} consumed, {redelivered} redelivered (at-least-once), \
         {} publish failures while down",
        seen.len(),
        failures.load(Ordering::SeqCst)
    );
    drop(stop_tx);
    tokio::time::timeout(GUARD, consumer)
        .await
        .expect("consumer did not stop")
        .unwrap()
        .expect("the consumer ended with an error instead of reconnecting");
    assert_eq!(broker.depth("invoices").await.unwrap().dead, 0);
}

// ---------------------------------------------------------------------------------------
// 2. The whole gateway

/// One HTTP attempt: when it was sent and answered, and the status (0 = no answer).
#[derive(Debug, Clone, Copy)]
struct Attempt {
    sent: Instant,
    answered: Instant,
    status: u16,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn senders_get_503_never_2xx_while_rabbitmq_is_stopped_and_nothing_is_lost() {
    let Some(node) = blocking(|| RabbitNode::start_or_skip("gateway restart")).await else {
        return;
    };
    let node = Arc::new(node);
    let env = Arc::new(demo_env(node.url()).await);
    let acme = env.partner(ACME).unwrap().clone();
    // Senders take fresh documents until told to stop; each is retried until taken over.
    let next = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(AtomicBool::new(false));
    let accepted: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let attempts: Arc<Mutex<Vec<Attempt>>> = Arc::default();
    let url = format!("{}/cxml", env.running.base_url());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(40))
        .build()
        .unwrap();
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (env, acme, next, enough, accepted, attempts, url, http) = (
            Arc::clone(&env),
            acme.clone(),
            Arc::clone(&next),
            Arc::clone(&enough),
            Arc::clone(&accepted),
            Arc::clone(&attempts),
            url.clone(),
            http.clone(),
        );
        senders.spawn(async move {
            while !enough.load(Ordering::SeqCst) {
                let number = format!("RESTART-{:05}", next.fetch_add(1, Ordering::SeqCst));
                let body = cxml_bytes(&env.codecs, &acme, &invoice(&number));
                for _ in 0..600 {
                    let sent = Instant::now();
                    let status = match http.post(&url).body(body.clone()).send().await {
                        Ok(r) => r.status().as_u16(),
                        Err(_) => 0,
                    };
                    attempts.lock().unwrap().push(Attempt {
                        sent,
                        answered: Instant::now(),
                        status,
                    });
                    if status == 200 || status == 409 {
                        accepted.lock().unwrap().insert(number.clone());
                        break;
                    }
                    // Pacing of the sender's retry loop.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        });
    }
    let accepted_now = || accepted.lock().unwrap().len();
    let n2 = Arc::clone(&node);
    blocking(move || n2.stop_app()).await.unwrap();
    let stopped = Instant::now();
    let refusals_since_stop = || {
        attempts
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.sent > stopped && a.status == 503)
            .count()
    };
    let statuses = || {
        let mut by: BTreeMap<u16, usize> = BTreeMap::new();
        for a in attempts.lock().unwrap().iter() {
            *by.entry(a.status).or_insert(0) += 1;
        }
        by
    };
    assert!(
        eventually(|| refusals_since_stop() >= 4).await,
        "senders never got a 503 while RabbitMQ was stopped; answers so far: {:?}",
        statuses()
    );
    let n2 = Arc::clone(&node);
    let restarting = Instant::now();
    blocking(move || n2.start_app()).await.unwrap();
    let after_restart = accepted_now();
    assert!(
        eventually(|| accepted_now() >= after_restart + 20).await,
        "no document accepted after the restart (the gateway did not reconnect)"
    );
    enough.store(true, Ordering::SeqCst);
    while let Some(r) = senders.join_next().await {
        r.unwrap();
    }

    // A request sent after the broker stopped and answered before it started again cannot
    // have been confirmed: it must not have got a 2xx.
    let attempts = attempts.lock().unwrap().clone();
    let in_window: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| a.sent > stopped && a.answered < restarting)
        .collect();
    assert!(!in_window.is_empty(), "no request fell inside the outage");
    let bad: Vec<&&Attempt> = in_window
        .iter()
        .filter(|a| (200..300).contains(&a.status))
        .collect();
    assert!(
        bad.is_empty(),
        "{} requests got a 2xx while RabbitMQ was stopped: {bad:?}",
        bad.len()
    );
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    for a in &in_window {
        *by_status.entry(a.status).or_insert(0) += 1;
    }

    let mut rec = Reconciliation::new("RabbitMQ stop_app / start_app under load");
    let n = next.load(Ordering::SeqCst);
    rec.sent = n;
    rec.accepted = accepted.lock().unwrap().clone();
    rec.settle(&env.sandbox, env.bus.as_ref(), Duration::from_secs(120))
        .await;
    rec.notes.push(format!(
        "answers to requests sent during the outage, by status: {by_status:?}"
    ));
    rec.print_and_assert();
    assert_eq!(
        rec.accepted.len(),
        n,
        "every document was taken over in the end"
    );
    assert_eq!(rec.delivered_once, n, "every document reached Coupa once");
    let env = Arc::try_unwrap(env).unwrap();
    env.shutdown().await.unwrap();
    drop(node);
}

// ---------------------------------------------------------------------------------------
// 3. A memory alarm

/// RabbitMQ blocks publishing connections while its memory alarm is raised: nothing is
/// confirmed, and nothing fails either. The publish used to wait until the HTTP request timed
/// out, and the sender got a 408, which a cXML sender takes as final ("4xx: do not retry").
/// Now the publish gives up after `[bus] publish_timeout_ms` and the sender is told to send
/// again (503, Retry-After); sent again after the alarm clears, the invoice reaches Coupa once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_and_disk_alarms_get_senders_503_not_408_and_lose_nothing() {
    let Some(node) = blocking(|| RabbitNode::start_or_skip("memory and disk alarms")).await else {
        return;
    };
    let node = Arc::new(node);
    let env = demo_env(node.url()).await;
    let acme = env.partner(ACME).unwrap().clone();
    let url = format!("{}/cxml", env.running.base_url());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let post = |number: &str| {
        let body = cxml_bytes(&env.codecs, &acme, &invoice(number));
        let (http, url) = (http.clone(), url.clone());
        async move {
            let r = http.post(url).body(body).send().await.unwrap();
            let retry_after = r.headers().contains_key("retry-after");
            (r.status().as_u16(), retry_after, r.text().await.unwrap())
        }
    };
    let (status, _, body) = post("ALARM-0").await;
    assert_eq!(status, 200, "{body}");

    type Alarm = fn(&RabbitNode, bool) -> Result<(), String>;
    let alarms: [(&str, Alarm); 2] = [
        ("ALARM-MEMORY", RabbitNode::memory_alarm),
        ("ALARM-DISK", RabbitNode::disk_alarm),
    ];
    for (number, alarm) in alarms {
        let n = Arc::clone(&node);
        blocking(move || alarm(&n, true)).await.unwrap();
        let (status, retry_after, body) = post(number).await;
        let n = Arc::clone(&node);
        blocking(move || alarm(&n, false)).await.unwrap();
        assert_eq!(status, 503, "{number}: {body}");
        assert!(retry_after, "a 503 must say when to send again");
        assert!(body.contains("code=\"500\""), "{body}");

        // The sender sends again, as told, until the gateway has it.
        let mut last = 0;
        for _ in 0..100 {
            let (status, _, _) = post(number).await;
            last = status;
            if status == 200 || status == 409 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            last == 200 || last == 409,
            "{number}: never taken after the alarm: {last}"
        );
    }
    let mut rec = Reconciliation::new("memory and disk alarms");
    rec.sent = 3;
    rec.accepted = ["ALARM-0", "ALARM-MEMORY", "ALARM-DISK"]
        .map(String::from)
        .into();
    rec.settle(&env.sandbox, env.bus.as_ref(), GUARD).await;
    rec.print_and_assert();
    assert_eq!(rec.delivered_once, 3, "every invoice reached Coupa once");
    env.shutdown().await.unwrap();
    drop(node);
}
