//! One conformance suite, run against both backends: the embedded bus on a temp file and
//! RabbitMQ on the local broker (`GATEWAY_AMQP_URL` or `GATEWAY_TEST_AMQP`, default amqp://127.0.0.1:5672). Without
//! RabbitMQ the RabbitMQ half fails under CI and is skipped loudly elsewhere.
//!
//! Waiting is on events (a channel receiving a delivery) with a generous timeout as a guard
//! against hanging, never a sleep that assumes how long something takes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use gateway_broker::{EmbeddedBroker, RabbitBroker};
use gateway_core::bus::Settled;
use gateway_core::{
    Broker, BusError, ConsumerSpec, DeadFilter, Delivered, Envelope, Handler, Message, Outcome,
    SourceMeta, Topology,
};
use gateway_model::DocumentKind;
use tokio::sync::{mpsc, oneshot};

const GUARD: Duration = Duration::from_secs(30);

fn topology(ns: &str) -> Topology {
    Topology {
        namespace: ns.to_string(),
        consumers: vec![
            ConsumerSpec {
                name: "invoices".into(),
                bindings: vec!["in.invoice.*".into()],
            },
            ConsumerSpec {
                name: "orders".into(),
                bindings: vec!["out.purchase_order.#".into()],
            },
        ],
        retry_tiers: vec![Duration::from_millis(50), Duration::from_millis(100)],
        delivery_limit: 5,
        prefetch: 8,
    }
}

fn message(partner: &str, body: &str) -> Message {
    Message {
        envelope: Envelope::inbound(
            DocumentKind::Invoice,
            "test",
            Some(partner.to_string()),
            SourceMeta::default(),
        ),
        body: body.as_bytes().to_vec(),
    }
}

type Decide = dyn Fn(&Delivered) -> Outcome + Send + Sync;

/// What a backend told the handler it did with a message: consumer, delivery, decision.
type Told = (String, Delivered, Settled);

/// A handler that reports every delivery on a channel and answers with `decide`, and reports
/// on another channel what the backend says it did with each ([`Handler::settled`]).
struct Recorder {
    tx: mpsc::UnboundedSender<Delivered>,
    told: mpsc::UnboundedSender<Told>,
    decide: Box<Decide>,
}

impl Handler for Recorder {
    fn handle<'a>(&'a self, m: &'a Delivered) -> BoxFuture<'a, Outcome> {
        let _ = self.tx.send(m.clone());
        let outcome = (self.decide)(m);
        async move { outcome }.boxed()
    }

    fn settled<'a>(
        &'a self,
        consumer: &'a str,
        m: &'a Delivered,
        settled: &'a Settled,
    ) -> BoxFuture<'a, ()> {
        let _ = self
            .told
            .send((consumer.to_string(), m.clone(), settled.clone()));
        async {}.boxed()
    }
}

/// A running consumer; dropping `stop` ends it.
struct Running {
    rx: mpsc::UnboundedReceiver<Delivered>,
    told: mpsc::UnboundedReceiver<Told>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), BusError>>,
}

impl Running {
    async fn next(&mut self) -> Delivered {
        tokio::time::timeout(GUARD, self.rx.recv())
            .await
            .expect("no delivery within the guard time")
            .expect("consumer ended")
    }

    /// The next thing the backend told the handler it did with a message.
    async fn next_told(&mut self) -> Told {
        tokio::time::timeout(GUARD, self.told.recv())
            .await
            .expect("the handler was told nothing within the guard time")
            .expect("consumer ended")
    }

    async fn stop(mut self) {
        drop(self.stop.take());
        let r = tokio::time::timeout(GUARD, self.task)
            .await
            .expect("consumer did not stop");
        r.expect("consumer task").expect("consumer result");
    }
}

fn start(
    broker: Arc<dyn Broker>,
    consumer: &str,
    decide: impl Fn(&Delivered) -> Outcome + Send + Sync + 'static,
) -> Running {
    let (tx, rx) = mpsc::unbounded_channel();
    let (told_tx, told) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let handler = Arc::new(Recorder {
        tx,
        told: told_tx,
        decide: Box::new(decide),
    });
    let name = consumer.to_string();
    let task = tokio::spawn(async move {
        broker
            .consume(&name, handler, stop_rx.map(|_| ()).boxed())
            .await
    });
    Running {
        rx,
        told,
        stop: Some(stop_tx),
        task,
    }
}

async fn wait_dead(broker: &dyn Broker, consumer: &str, n: usize) -> Vec<gateway_core::DeadLetter> {
    // Dead-lettering is the consumer's last step; poll the operator view until it shows.
    let deadline = tokio::time::Instant::now() + GUARD;
    loop {
        let dead = broker
            .dead_letters(consumer, &DeadFilter::default(), 100)
            .await
            .expect("dead letters");
        if dead.len() >= n || tokio::time::Instant::now() > deadline {
            return dead;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---- the suite ------------------------------------------------------------------------------

async fn publish_consume_ack(b: Arc<dyn Broker>) {
    let batch = vec![
        message("acme", "1"),
        message("acme", "2"),
        message("zeta", "3"),
    ];
    b.publish(&batch).await.expect("publish");
    let mut c = start(Arc::clone(&b), "invoices", |_| Outcome::Ack);
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let d = c.next().await;
        assert_eq!(d.attempt, 1);
        bodies.push(String::from_utf8(d.body).unwrap());
    }
    bodies.sort();
    assert_eq!(bodies, ["1", "2", "3"]);
    c.stop().await;
    let depth = b.depth("invoices").await.expect("depth");
    assert_eq!(depth.ready, 0, "acked messages must leave the queue");
    assert_eq!(depth.dead, 0);
    // The envelope travels intact.
    assert_eq!(
        b.depth("orders").await.expect("depth").ready,
        0,
        "an invoice must not reach the order queue"
    );
}

async fn unroutable_is_an_error(b: Arc<dyn Broker>) {
    let mut m = message("acme", "x");
    m.envelope.direction = gateway_core::Direction::In;
    m.envelope.kind = DocumentKind::PurchaseOrder; // in.purchase_order.acme: nobody bound
    let err = b.publish(&[m]).await.expect_err("unroutable must fail");
    assert!(matches!(err, BusError::Unroutable(_)), "{err:?}");
    assert!(!err.is_retryable());
}

async fn retry_then_succeed(b: Arc<dyn Broker>) {
    let m = message("acme", "retry-me");
    let doc_id = m.envelope.doc_id.clone();
    b.publish(&[m]).await.expect("publish");
    let mut c = start(Arc::clone(&b), "invoices", |d| {
        if d.attempt == 1 {
            Outcome::Retry {
                reason: "coupa 503".into(),
                after: None,
            }
        } else {
            Outcome::Ack
        }
    });
    let first = c.next().await;
    let second = c.next().await;
    assert_eq!((first.attempt, second.attempt), (1, 2));
    assert_eq!(second.envelope.doc_id, doc_id);
    assert_eq!(second.first_error.as_deref(), Some("coupa 503"));
    assert_eq!(second.body, b"retry-me");
    c.stop().await;
    assert_eq!(b.depth("invoices").await.unwrap().dead, 0);
}

async fn exhausted_retries_dead_letter(b: Arc<dyn Broker>) {
    let m = message("acme", "always-503");
    let doc_id = m.envelope.doc_id.clone();
    b.publish(&[m]).await.expect("publish");
    let mut c = start(Arc::clone(&b), "invoices", |_| Outcome::Retry {
        reason: "coupa 503".into(),
        after: None,
    });
    // Two tiers: attempts 1, 2, 3, then dead.
    for expected in 1..=3 {
        assert_eq!(c.next().await.attempt, expected);
    }
    let dead = wait_dead(b.as_ref(), "invoices", 1).await;
    c.stop().await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].doc_id, doc_id);
    assert_eq!(dead[0].body, b"always-503", "the original body is kept");
    assert!(
        dead[0]
            .reason
            .contains("gave up after 3 attempts: coupa 503"),
        "{}",
        dead[0].reason
    );
    assert_eq!(dead[0].first_error.as_deref(), Some("coupa 503"));
}

/// Every dead letter reaches the handler's `settled` with the reason operators see, whoever
/// decided it: a retry past the last tier (the bus turns it into "gave up after N attempts")
/// as much as the handler's own `Dead`. Before, a handler recording dead letters from its own
/// outcome never saw the ones the retry tiers made: the ledger kept saying "on its way".
async fn the_handler_is_told_of_every_dead_letter(b: Arc<dyn Broker>) {
    let always_503 = message("acme", "always-503");
    let poison = message("zeta", "poison");
    let fine = message("acme", "fine");
    let (retried_id, poison_id, fine_id) = (
        always_503.envelope.doc_id.clone(),
        poison.envelope.doc_id.clone(),
        fine.envelope.doc_id.clone(),
    );
    b.publish(&[always_503, poison, fine])
        .await
        .expect("publish");
    let mut c = start(Arc::clone(&b), "invoices", |d| match d.body.as_slice() {
        b"always-503" => Outcome::Retry {
            reason: "coupa 503".into(),
            after: None,
        },
        b"poison" => Outcome::Dead {
            reason: "supplier not found".into(),
        },
        _ => Outcome::Ack,
    });
    // Two tiers: the always-503 one is retried twice, then dead on its third attempt.
    let mut told: BTreeMap<String, Vec<(u32, Settled)>> = BTreeMap::new();
    while told.get(&retried_id).map_or(0, Vec::len) < 3
        || !told.contains_key(&poison_id)
        || !told.contains_key(&fine_id)
    {
        let (consumer, d, settled) = c.next_told().await;
        assert_eq!(consumer, "invoices");
        told.entry(d.envelope.doc_id.clone())
            .or_default()
            .push((d.attempt, settled));
    }
    let dead = wait_dead(b.as_ref(), "invoices", 2).await;
    c.stop().await;

    let retried = &told[&retried_id];
    assert!(
        matches!(&retried[..2], [(1, Settled::Retrying { reason: r1, .. }), (2, Settled::Retrying { reason: r2, .. })]
            if r1 == "coupa 503" && r2 == "coupa 503"),
        "{retried:?}"
    );
    let dead_reason = |id: &str| {
        dead.iter()
            .find(|l| l.doc_id == id)
            .map(|l| l.reason.clone())
            .unwrap_or_else(|| panic!("{id} is not a dead letter: {dead:?}"))
    };
    assert_eq!(
        retried[2],
        (
            3,
            Settled::Dead {
                reason: "gave up after 3 attempts: coupa 503".into()
            }
        ),
        "a retry past the last tier is told as the dead letter it became"
    );
    assert_eq!(
        retried[2].1,
        Settled::Dead {
            reason: dead_reason(&retried_id)
        },
        "with the reason `dlq list` shows"
    );
    assert_eq!(
        told[&poison_id],
        vec![(
            1,
            Settled::Dead {
                reason: "supplier not found".into()
            }
        )]
    );
    assert_eq!(dead_reason(&poison_id), "supplier not found");
    assert_eq!(told[&fine_id], vec![(1, Settled::Acked)]);
}

async fn dead_then_replay_exactly_once(b: Arc<dyn Broker>) {
    let poison = message("acme", "poison");
    let other = message("zeta", "poison-too");
    let doc_id = poison.envelope.doc_id.clone();
    b.publish(&[poison, other]).await.expect("publish");
    let fixed = Arc::new(Mutex::new(false));
    let f = Arc::clone(&fixed);
    let mut c = start(Arc::clone(&b), "invoices", move |_| {
        if *f.lock().unwrap() {
            Outcome::Ack
        } else {
            Outcome::Dead {
                reason: "supplier not found in Coupa".into(),
            }
        }
    });
    c.next().await;
    c.next().await;
    let dead = wait_dead(b.as_ref(), "invoices", 2).await;
    assert_eq!(dead.len(), 2);
    assert!(
        dead.iter()
            .all(|d| d.reason == "supplier not found in Coupa")
    );

    // Filters select; listing does not consume.
    let only_acme = DeadFilter {
        partner: Some("acme".into()),
        ..Default::default()
    };
    let listed = b.dead_letters("invoices", &only_acme, 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].doc_id, doc_id);
    assert_eq!(wait_dead(b.as_ref(), "invoices", 2).await.len(), 2);

    *fixed.lock().unwrap() = true;
    let by_id = DeadFilter {
        doc_id: Some(doc_id.clone()),
        ..Default::default()
    };
    assert_eq!(b.replay("invoices", &by_id).await.expect("replay"), 1);
    let again = c.next().await;
    assert_eq!(again.envelope.doc_id, doc_id);
    assert_eq!(again.attempt, 1, "a replay starts a fresh attempt count");
    assert_eq!(again.body, b"poison");
    // Replaying the same filter again finds nothing: it left the dead-letter queue.
    assert_eq!(b.replay("invoices", &by_id).await.expect("replay"), 0);
    c.stop().await;
    let rest = b
        .dead_letters("invoices", &DeadFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1, "the other dead letter stays");
    assert_eq!(rest[0].partner.as_deref(), Some("zeta"));
    // A selection by ids takes only those ids.
    let ids = |ids: &[&str]| DeadFilter {
        doc_ids: Some(ids.iter().map(|i| i.to_string()).collect()),
        ..Default::default()
    };
    assert!(
        b.purge("invoices", &ids(&["not-a-dead-letter"]))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        b.purge(
            "invoices",
            &ids(&[rest[0].doc_id.as_str(), "not-a-dead-letter"])
        )
        .await
        .unwrap(),
        vec![Some(rest[0].doc_id.clone())],
        "purge names what it deleted"
    );
    assert!(
        b.dead_letters("invoices", &DeadFilter::default(), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A replay starts a fresh attempt count, so a letter that died again on replay read as tried
/// once (`attempts=1`): the operator could not tell it had failed before. Its earlier lives are
/// now kept beside the count.
async fn a_replayed_letter_that_dies_again_keeps_its_history(b: Arc<dyn Broker>) {
    let m = message("acme", "dies-every-time");
    let doc_id = m.envelope.doc_id.clone();
    b.publish(&[m]).await.expect("publish");
    // Each life: one retry, then dead on the second attempt.
    let mut c = start(Arc::clone(&b), "invoices", |d| {
        if d.attempt == 1 {
            Outcome::Retry {
                reason: "coupa 503".into(),
                after: None,
            }
        } else {
            Outcome::Dead {
                reason: "supplier not found in Coupa".into(),
            }
        }
    });
    let by_id = DeadFilter {
        doc_id: Some(doc_id.clone()),
        ..Default::default()
    };
    let mut seen = Vec::new();
    for life in 1..=3u32 {
        seen.push(c.next().await.attempt);
        seen.push(c.next().await.attempt);
        let dead = wait_dead(b.as_ref(), "invoices", 1).await;
        assert_eq!(dead.len(), 1, "life {life}");
        let d = &dead[0];
        assert_eq!(d.attempts, 2, "life {life}: the last life's count");
        assert_eq!(d.replayed.replays, life - 1, "life {life}");
        assert_eq!(d.replayed.earlier_attempts, 2 * (life - 1), "life {life}");
        assert_eq!(d.first_error.as_deref(), Some("coupa 503"), "life {life}");
        if life < 3 {
            assert_eq!(b.replay("invoices", &by_id).await.expect("replay"), 1);
        }
    }
    assert_eq!(seen, [1, 2, 1, 2, 1, 2], "each replay starts a fresh count");
    let last = wait_dead(b.as_ref(), "invoices", 1).await;
    assert_eq!(
        last[0].replayed.describe(last[0].attempts),
        " (replayed 2 times; 6 attempts in all)"
    );
    c.stop().await;
}

async fn many_in_flight(b: Arc<dyn Broker>) {
    let batch: Vec<Message> = (0..200).map(|i| message("acme", &i.to_string())).collect();
    b.publish(&batch).await.expect("publish");
    let mut c = start(Arc::clone(&b), "invoices", |_| Outcome::Ack);
    let mut seen = BTreeMap::new();
    for _ in 0..200 {
        let d = c.next().await;
        *seen.entry(String::from_utf8(d.body).unwrap()).or_insert(0) += 1;
    }
    c.stop().await;
    assert_eq!(seen.len(), 200, "every message delivered");
    assert!(seen.values().all(|n| *n == 1), "none delivered twice");
    assert_eq!(b.depth("invoices").await.unwrap().ready, 0);
}

async fn suite<F, Fut>(make: F)
where
    F: Fn(String) -> Fut,
    Fut: Future<
        Output = (
            Arc<dyn Broker>,
            Option<Box<dyn FnOnce() -> BoxFuture<'static, ()>>>,
        ),
    >,
{
    macro_rules! case {
        ($name:ident) => {{
            let ns = format!("t{}.{}", uuid::Uuid::new_v4().simple(), stringify!($name));
            let (b, cleanup) = make(ns).await;
            $name(b).await;
            if let Some(c) = cleanup {
                c().await;
            }
        }};
    }
    case!(publish_consume_ack);
    case!(unroutable_is_an_error);
    case!(retry_then_succeed);
    case!(exhausted_retries_dead_letter);
    case!(the_handler_is_told_of_every_dead_letter);
    case!(dead_then_replay_exactly_once);
    case!(a_replayed_letter_that_dies_again_keeps_its_history);
    case!(many_in_flight);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_backend_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    suite(|ns| {
        let path = root.join(format!("{ns}.sqlite"));
        async move {
            let b: Arc<dyn Broker> = Arc::new(EmbeddedBroker::open(&path, topology(&ns)).unwrap());
            (b, None)
        }
    })
    .await;
}

fn amqp_url() -> String {
    gateway_core::testkit::test_amqp_url()
}

/// The RabbitMQ broker for a test, or `None` (after a loud message) when none runs locally.
/// Under CI a missing broker fails the test.
pub async fn rabbit(ns: &str) -> Option<Arc<RabbitBroker>> {
    match RabbitBroker::connect(&amqp_url(), topology(ns)).await {
        Ok(b) => Some(Arc::new(b)),
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("RabbitMQ is required under CI: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED RabbitMQ conformance: {e} (start it: rabbitmq-server -detached)");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbitmq_backend_conforms() {
    match rabbit("probe").await {
        Some(probe) => probe
            .delete_topology()
            .await
            .expect("delete probe topology"),
        None => return,
    }
    suite(|ns| async move {
        let b = rabbit(&ns).await.expect("rabbit");
        let cleanup_b = Arc::clone(&b);
        let cleanup: Box<dyn FnOnce() -> BoxFuture<'static, ()>> = Box::new(move || {
            async move {
                cleanup_b.delete_topology().await.expect("delete topology");
            }
            .boxed()
        });
        (b as Arc<dyn Broker>, Some(cleanup))
    })
    .await;
}

/// A message waiting out a retry delay is counted as retrying: not ready, not dead, not gone.
/// During a Coupa outage every invoice sits in the retry tiers, and a depth without them reads
/// as an empty queue. The only tier is an hour long, so the message cannot come back meanwhile.
async fn retrying_is_counted(b: Arc<dyn Broker>) {
    b.publish(&[message("acme", "later")])
        .await
        .expect("publish");
    let mut c = start(Arc::clone(&b), "invoices", |_| Outcome::Retry {
        reason: "coupa 503".into(),
        after: None,
    });
    assert_eq!(c.next().await.attempt, 1);
    // Scheduling the retry is the consumer's step after the handler: poll until it shows.
    let deadline = tokio::time::Instant::now() + GUARD;
    let depth = loop {
        let d = b.depth("invoices").await.expect("depth");
        if d.retrying > 0 || tokio::time::Instant::now() > deadline {
            break d;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    c.stop().await;
    assert_eq!(
        depth,
        gateway_core::QueueDepth {
            ready: 0,
            dead: 0,
            retrying: 1
        }
    );
}

fn hour_tier(ns: &str) -> Topology {
    Topology {
        retry_tiers: vec![Duration::from_secs(3600)],
        ..topology(ns)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_count_messages_waiting_to_be_retried() {
    let dir = tempfile::tempdir().unwrap();
    let ns = format!("t{}.retrying", uuid::Uuid::new_v4().simple());
    let embedded = EmbeddedBroker::open(&dir.path().join("bus.sqlite"), hour_tier(&ns)).unwrap();
    retrying_is_counted(Arc::new(embedded)).await;
    let Some(probe) = rabbit("probe").await else {
        return;
    };
    probe
        .delete_topology()
        .await
        .expect("delete probe topology");
    let b = Arc::new(
        RabbitBroker::connect(&amqp_url(), hour_tier(&ns))
            .await
            .expect("rabbit"),
    );
    retrying_is_counted(Arc::clone(&b) as Arc<dyn Broker>).await;
    b.delete_topology().await.expect("delete topology");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_bus_survives_a_crash_mid_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bus.sqlite");
    {
        let b: Arc<dyn Broker> = Arc::new(EmbeddedBroker::open(&path, topology("crash")).unwrap());
        b.publish(&[message("acme", "in-flight")]).await.unwrap();
        // The handler never answers; the task is killed while it holds the message.
        let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
        struct Hang(mpsc::UnboundedSender<u32>);
        impl Handler for Hang {
            fn handle<'a>(&'a self, m: &'a Delivered) -> BoxFuture<'a, Outcome> {
                let _ = self.0.send(m.attempt);
                futures::future::pending().boxed()
            }
        }
        let b2 = Arc::clone(&b);
        let task = tokio::spawn(async move {
            b2.consume(
                "invoices",
                Arc::new(Hang(tx)),
                futures::future::pending().boxed(),
            )
            .await
        });
        assert_eq!(
            tokio::time::timeout(GUARD, rx.recv()).await.unwrap(),
            Some(1)
        );
        task.abort();
        let _ = task.await;
    }
    // A new process opens the same file: the message comes back as its second delivery.
    let b: Arc<dyn Broker> = Arc::new(EmbeddedBroker::open(&path, topology("crash")).unwrap());
    let mut c = start(Arc::clone(&b), "invoices", |_| Outcome::Ack);
    let d = c.next().await;
    assert_eq!(d.body, b"in-flight");
    assert_eq!(d.attempt, 2);
    c.stop().await;
    assert_eq!(b.depth("invoices").await.unwrap().ready, 0);
}

/// Deletes `queue` behind the gateway's back, as an operator (or a policy) might.
async fn delete_queue(queue: &str) {
    let conn = lapin::Connection::connect(&amqp_url(), lapin::ConnectionProperties::default())
        .await
        .expect("connect");
    let ch = conn.create_channel().await.expect("channel");
    ch.queue_delete(queue.into(), lapin::options::QueueDeleteOptions::default())
        .await
        .unwrap_or_else(|e| panic!("delete {queue}: {e}"));
}

/// An operator deleted the dead-letter queue (or a policy did): a document the consumer gives
/// up on must still be parked where operators look, not vanish, and not bounce until
/// RabbitMQ's delivery limit holds it in its work queue where nobody sees it (RabbitMQ
/// retained such a message, neither ready nor dead, for minutes after the queue came back).
/// The consumer declares the topology again and parks it, on the first delivery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_dead_letter_queue_is_declared_again_and_the_document_parked() {
    let ns = format!("nodlq{}", uuid::Uuid::new_v4().simple());
    let Some(b) = rabbit(&ns).await else { return };
    delete_queue(&gateway_broker::names::dead_queue(&ns, "invoices")).await;

    let m = message("acme", "poison-without-a-dlq");
    let doc_id = m.envelope.doc_id.clone();
    b.publish(&[m]).await.expect("publish");
    let broker: Arc<dyn Broker> = b.clone();
    let mut c = start(Arc::clone(&broker), "invoices", |_| Outcome::Dead {
        reason: "supplier not found".into(),
    });
    let first = c.next().await;
    assert_eq!(first.envelope.doc_id, doc_id);
    // Until the consumer has declared it again, asking for the dead letters fails: poll.
    let deadline = tokio::time::Instant::now() + GUARD;
    let dead = loop {
        match broker
            .dead_letters("invoices", &DeadFilter::default(), 100)
            .await
        {
            Ok(d) if !d.is_empty() => break d,
            _ if tokio::time::Instant::now() > deadline => break Vec::new(),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    assert!(
        c.rx.try_recv().is_err(),
        "parked on its first delivery, not returned to the queue"
    );
    c.stop().await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].doc_id, doc_id);
    assert_eq!(dead[0].body, b"poison-without-a-dlq", "the body is kept");
    assert!(
        dead[0].reason.contains("supplier not found"),
        "{}",
        dead[0].reason
    );
    let depth = broker.depth("invoices").await.expect("depth");
    assert_eq!((depth.ready, depth.dead), (0, 1));
    b.delete_topology().await.expect("delete topology");
}

/// An operator deleted a work queue: a document published for it is not refused (the sender
/// would be told to give up) and not dropped. The broker returns it, the publisher declares
/// the topology again and publishes again only what came back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_work_queue_is_declared_again_and_the_document_published() {
    let ns = format!("noq{}", uuid::Uuid::new_v4().simple());
    let Some(b) = rabbit(&ns).await else { return };
    delete_queue(&gateway_broker::names::work_queue(&ns, "invoices")).await;
    // One for the deleted queue, one for a queue that is there: each lands once.
    let invoice = message("acme", "to-the-deleted-queue");
    let doc_id = invoice.envelope.doc_id.clone();
    let mut order = message("acme", "to-the-queue-that-is-there");
    order.envelope.direction = gateway_core::Direction::Out;
    order.envelope.kind = DocumentKind::PurchaseOrder;
    b.publish(&[invoice, order]).await.expect("publish");
    let broker: Arc<dyn Broker> = b.clone();
    assert_eq!(broker.depth("invoices").await.expect("depth").ready, 1);
    assert_eq!(broker.depth("orders").await.expect("depth").ready, 1);
    let mut c = start(Arc::clone(&broker), "invoices", |_| Outcome::Ack);
    let got = c.next().await;
    c.stop().await;
    assert_eq!(got.envelope.doc_id, doc_id);
    assert_eq!(got.body, b"to-the-deleted-queue");
    b.delete_topology().await.expect("delete topology");
}

fn limit_one(ns: &str) -> Topology {
    Topology {
        delivery_limit: 1,
        ..topology(ns)
    }
}

/// A message at the delivery limit (its consumer stopped while handling it each time) is
/// parked by the consumer without being handled again, and the handler is told it is dead
/// with the same reason `dlq list` shows. On RabbitMQ the broker would otherwise dead-letter
/// it itself on the next failure, where no handler ever hears of it.
async fn parked_at_the_limit_is_told(b: Arc<dyn Broker>, doc_id: &str) {
    let mut c = start(Arc::clone(&b), "invoices", |_| Outcome::Ack);
    let (consumer, d, settled) = c.next_told().await;
    let dead = wait_dead(b.as_ref(), "invoices", 1).await;
    assert!(
        c.rx.try_recv().is_err(),
        "a message at the delivery limit is not handled again"
    );
    c.stop().await;
    assert_eq!(
        (consumer.as_str(), d.envelope.doc_id.as_str()),
        ("invoices", doc_id)
    );
    let reason = "delivery limit 1 exceeded (the consumer stopped while handling it each time)";
    assert_eq!(
        settled,
        Settled::Dead {
            reason: reason.into()
        }
    );
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].doc_id, doc_id);
    assert!(dead[0].reason.starts_with(reason), "{}", dead[0].reason);
    assert_eq!(dead[0].body, b"crashes-its-consumer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_bus_tells_the_handler_of_a_message_parked_at_the_delivery_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bus.sqlite");
    let m = message("acme", "crashes-its-consumer");
    let doc_id = m.envelope.doc_id.clone();
    {
        let b: Arc<dyn Broker> = Arc::new(EmbeddedBroker::open(&path, limit_one("limit")).unwrap());
        b.publish(&[m]).await.unwrap();
        // The handler never answers; the process "crashes" while it holds the message.
        let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
        struct Hang(mpsc::UnboundedSender<u32>);
        impl Handler for Hang {
            fn handle<'a>(&'a self, m: &'a Delivered) -> BoxFuture<'a, Outcome> {
                let _ = self.0.send(m.attempt);
                futures::future::pending().boxed()
            }
        }
        let b2 = Arc::clone(&b);
        let task = tokio::spawn(async move {
            b2.consume(
                "invoices",
                Arc::new(Hang(tx)),
                futures::future::pending().boxed(),
            )
            .await
        });
        assert_eq!(
            tokio::time::timeout(GUARD, rx.recv()).await.unwrap(),
            Some(1)
        );
        task.abort();
        let _ = task.await;
    }
    let b: Arc<dyn Broker> = Arc::new(EmbeddedBroker::open(&path, limit_one("limit")).unwrap());
    parked_at_the_limit_is_told(b, &doc_id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbitmq_tells_the_handler_of_a_message_parked_at_the_delivery_limit() {
    let ns = format!("t{}.limit", uuid::Uuid::new_v4().simple());
    let Some(probe) = rabbit("probe").await else {
        return;
    };
    probe
        .delete_topology()
        .await
        .expect("delete probe topology");
    let b = Arc::new(
        RabbitBroker::connect(&amqp_url(), limit_one(&ns))
            .await
            .expect("rabbit"),
    );
    let m = message("acme", "crashes-its-consumer");
    let doc_id = m.envelope.doc_id.clone();
    b.publish(&[m]).await.expect("publish");
    // A consumer that took the message and went away without settling it: the quorum queue
    // counts the return, so the next delivery is the last one its limit allows.
    {
        let conn = lapin::Connection::connect(&amqp_url(), lapin::ConnectionProperties::default())
            .await
            .expect("connect");
        let ch = conn.create_channel().await.expect("channel");
        let work = gateway_broker::names::work_queue(&ns, "invoices");
        let got = ch
            .basic_get(
                work.as_str().into(),
                lapin::options::BasicGetOptions { no_ack: false },
            )
            .await
            .expect("basic.get")
            .expect("the message is in its work queue");
        got.delivery
            .nack(lapin::options::BasicNackOptions {
                requeue: true,
                ..Default::default()
            })
            .await
            .expect("nack");
        let _ = ch.close(200, "done".into()).await;
        let _ = conn.close(200, "done".into()).await;
    }
    parked_at_the_limit_is_told(Arc::clone(&b) as Arc<dyn Broker>, &doc_id).await;
    b.delete_topology().await.expect("delete topology");
}
