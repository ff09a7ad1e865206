//! Readers of dead letters take turns, so none misses a letter another holds. On RabbitMQ a
//! reader fetches dead letters without acking them, which hides them from every other reader:
//! QA saw three `gateway dlq list` at once print 15, 18 and 27 of 60 letters, and a
//! `dlq replay --all` racing a list say "replayed 39" and exit 0 with 21 left.
//!
//! "Another reader" is either a second broker (a second process), or a raw AMQP connection
//! that does what a reader does (takes the queue's lock, fetches letters without acking them)
//! and stops there until the test lets go: a reader caught in the middle of its walk.
//!
//! Needs RabbitMQ (`GATEWAY_AMQP_URL` or `GATEWAY_TEST_AMQP`, default the local broker): under
//! CI a missing broker fails; elsewhere the RabbitMQ tests skip with a loud message. Waiting is
//! on events (channels, barriers), with a generous timeout as a guard against hanging.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use gateway_broker::{EmbeddedBroker, RabbitBroker, names};
use gateway_core::bus::Settled;
use gateway_core::{
    Broker, ConsumerSpec, DeadFilter, DeadLetter, Delivered, Envelope, Handler, Message, Outcome,
    SourceMeta, Topology,
};
use gateway_model::DocumentKind;
use lapin::options::{
    BasicGetOptions, BasicRecoverOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use tokio::sync::{Barrier, mpsc, oneshot};

const GUARD: Duration = Duration::from_secs(30);
const CONSUMER: &str = "invoices";
const LETTERS: usize = 60;

fn topology(ns: &str) -> Topology {
    Topology {
        namespace: ns.to_string(),
        consumers: vec![ConsumerSpec {
            name: CONSUMER.into(),
            bindings: vec!["in.invoice.*".into()],
        }],
        retry_tiers: vec![Duration::from_millis(50)],
        delivery_limit: 5,
        prefetch: 16,
    }
}

fn message(body: &str) -> Message {
    Message {
        envelope: Envelope::inbound(
            DocumentKind::Invoice,
            "test",
            Some("acme".to_string()),
            SourceMeta::default(),
        ),
        body: body.as_bytes().to_vec(),
    }
}

fn amqp_url() -> String {
    gateway_core::testkit::test_amqp_url()
}

fn unique(name: &str) -> String {
    format!("t{}.{name}", uuid::Uuid::new_v4().simple())
}

/// A RabbitMQ broker on namespace `ns`, or `None` (after a loud message) when none runs
/// locally. Under CI a missing broker fails the test. Each call is another connection, as a
/// second process would have.
async fn rabbit(ns: &str) -> Option<Arc<RabbitBroker>> {
    match RabbitBroker::connect(&amqp_url(), topology(ns)).await {
        Ok(b) => Some(Arc::new(b)),
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("RabbitMQ is required under CI: {e}")
        }
        Err(e) => {
            eprintln!(
                "SKIPPED RabbitMQ dead-letter readers test: {e} (start it: rabbitmq-server -detached)"
            );
            None
        }
    }
}

async fn another(ns: &str) -> Arc<RabbitBroker> {
    Arc::new(
        RabbitBroker::connect(&amqp_url(), topology(ns))
            .await
            .expect("a second connection to RabbitMQ"),
    )
}

/// Answers every delivery with `Dead` and reports each message the backend parked.
struct Parker(mpsc::UnboundedSender<String>);

impl Handler for Parker {
    fn handle<'a>(&'a self, _: &'a Delivered) -> BoxFuture<'a, Outcome> {
        async {
            Outcome::Dead {
                reason: "supplier not found in Coupa".into(),
            }
        }
        .boxed()
    }

    fn settled<'a>(&'a self, _: &'a str, m: &'a Delivered, s: &'a Settled) -> BoxFuture<'a, ()> {
        if matches!(s, Settled::Dead { .. }) {
            let _ = self.0.send(m.envelope.doc_id.clone());
        }
        async {}.boxed()
    }
}

/// Publishes `n` invoices and has the consumer park each in the dead letters. A backend tells
/// the handler a message is dead once the dead-letter queue has it (a confirmed copy).
async fn park(b: Arc<dyn Broker>, n: usize) -> Vec<String> {
    let batch: Vec<Message> = (0..n).map(|i| message(&format!("invoice {i}"))).collect();
    b.publish(&batch).await.expect("publish");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let consumer = Arc::clone(&b);
    let task = tokio::spawn(async move {
        consumer
            .consume(CONSUMER, Arc::new(Parker(tx)), stop_rx.map(|_| ()).boxed())
            .await
    });
    let mut parked = Vec::with_capacity(n);
    while parked.len() < n {
        let id = tokio::time::timeout(GUARD, rx.recv())
            .await
            .expect("not every invoice was parked within the guard time")
            .expect("consumer ended");
        parked.push(id);
    }
    drop(stop_tx);
    tokio::time::timeout(GUARD, task)
        .await
        .expect("consumer did not stop")
        .expect("consumer task")
        .expect("consumer result");
    parked.sort();
    parked
}

/// Acks every delivery and reports its doc id.
struct Taker(mpsc::UnboundedSender<String>);

impl Handler for Taker {
    fn handle<'a>(&'a self, m: &'a Delivered) -> BoxFuture<'a, Outcome> {
        let _ = self.0.send(m.envelope.doc_id.clone());
        async { Outcome::Ack }.boxed()
    }
}

/// The doc ids of the next `n` deliveries of the work queue, sorted.
async fn redelivered(b: Arc<dyn Broker>, n: usize) -> Vec<String> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let consumer = Arc::clone(&b);
    let task = tokio::spawn(async move {
        consumer
            .consume(CONSUMER, Arc::new(Taker(tx)), stop_rx.map(|_| ()).boxed())
            .await
    });
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        got.push(
            tokio::time::timeout(GUARD, rx.recv())
                .await
                .expect("not every replayed letter was delivered within the guard time")
                .expect("consumer ended"),
        );
    }
    drop(stop_tx);
    finished(task).await.expect("consumer result");
    sorted(got)
}

fn all() -> DeadFilter {
    DeadFilter::default()
}

fn ids(letters: &[DeadLetter]) -> Vec<String> {
    letters.iter().map(|l| l.doc_id.clone()).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// A reader in the middle of its walk, on a connection of its own: it took the queue's lock
/// and holds `n` letters fetched without an ack, as every reader does while it reads.
struct Holder {
    conn: lapin::Connection,
    ch: lapin::Channel,
    lock: String,
}

impl Holder {
    async fn take(ns: &str, n: usize) -> Holder {
        let conn = lapin::Connection::connect(&amqp_url(), lapin::ConnectionProperties::default())
            .await
            .expect("connect");
        let ch = conn.create_channel().await.expect("channel");
        let lock = names::dead_walk_lock(ns, CONSUMER);
        let mut args = FieldTable::default();
        args.insert(
            "x-queue-type".into(),
            AMQPValue::LongString("classic".into()),
        );
        ch.queue_declare(
            lock.as_str().into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..Default::default()
            },
            args,
        )
        .await
        .expect("the lock is free");
        let dead = names::dead_queue(ns, CONSUMER);
        for _ in 0..n {
            ch.basic_get(dead.as_str().into(), BasicGetOptions { no_ack: false })
                .await
                .expect("basic.get")
                .expect("a dead letter to hold");
        }
        Holder { conn, ch, lock }
    }

    /// Finishes as a reader does: puts the letters back, then lets go of the lock.
    async fn release(self) {
        self.ch
            .basic_recover(BasicRecoverOptions { requeue: true })
            .await
            .expect("recover");
        self.ch
            .queue_delete(self.lock.as_str().into(), QueueDeleteOptions::default())
            .await
            .expect("delete the lock");
        self.conn.close(200, "done".into()).await.expect("close");
    }

    /// Goes away without cleaning up, as a reader that was killed: RabbitMQ returns the
    /// letters and drops the lock because the connection ended.
    async fn vanish(self) {
        self.conn.close(200, "gone".into()).await.expect("close");
    }
}

/// Runs `read` in a task that reports on `waiting` when it has to wait for its turn.
fn spawn_reader<T: Send + 'static>(
    read: impl Future<Output = T> + Send + 'static,
) -> (tokio::task::JoinHandle<T>, mpsc::UnboundedReceiver<String>) {
    let (tx, waiting) = mpsc::unbounded_channel();
    let task = tokio::spawn(gateway_broker::on_dead_letter_wait(
        move |consumer| {
            let _ = tx.send(consumer.to_string());
        },
        read,
    ));
    (task, waiting)
}

/// Until `task` says it waits for its turn; a task that finishes first read without waiting
/// for the letters held, which is the defect.
async fn until_waiting<T: std::fmt::Debug>(
    task: &mut tokio::task::JoinHandle<T>,
    waiting: &mut mpsc::UnboundedReceiver<String>,
) {
    tokio::select! {
        w = waiting.recv() => match w {
            Some(consumer) => assert_eq!(consumer, CONSUMER),
            // The task ended, and with it the hook that would have said it waited.
            None => panic!(
                "it did not wait for the reader holding dead letters; it returned {:?}",
                tokio::time::timeout(GUARD, &mut *task).await
            ),
        },
        done = &mut *task => panic!(
            "it did not wait for the reader holding dead letters; it returned {done:?}"
        ),
        _ = tokio::time::sleep(GUARD) => panic!("neither waited nor finished within the guard time"),
    }
}

async fn finished<T>(task: tokio::task::JoinHandle<T>) -> T {
    tokio::time::timeout(GUARD, task)
        .await
        .expect("not finished within the guard time")
        .expect("task")
}

/// A list started while another reader holds some of the letters waits for it, then lists
/// every letter, in the queue's order. Before the fix it listed the 35 the other left.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_list_waits_for_a_reader_holding_letters_and_then_lists_them_all() {
    let ns = unique("listwaits");
    let Some(b) = rabbit(&ns).await else { return };
    let parked = park(b.clone(), LETTERS).await;
    let before = b.dead_letters(CONSUMER, &all(), 1000).await.expect("list");
    assert_eq!(sorted(ids(&before)), parked);

    let holder = Holder::take(&ns, 25).await;
    let lister = another(&ns).await;
    let (mut task, mut waiting) = spawn_reader(async move {
        lister
            .dead_letters(CONSUMER, &all(), 1000)
            .await
            .map(|l| ids(&l))
    });
    until_waiting(&mut task, &mut waiting).await;
    holder.release().await;
    let listed = finished(task).await.expect("list");
    assert_eq!(listed, ids(&before), "every letter, in the queue's order");
    b.delete_topology().await.expect("delete topology");
}

/// A reader killed in the middle of its walk holds nothing after: its connection ends, RabbitMQ
/// returns its letters and drops its lock, and the reader waiting for it lists them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reader_that_went_away_mid_walk_leaves_every_letter_to_the_next() {
    let ns = unique("vanished");
    let Some(b) = rabbit(&ns).await else { return };
    let parked = park(b.clone(), LETTERS).await;

    let holder = Holder::take(&ns, 40).await;
    let lister = another(&ns).await;
    let (mut task, mut waiting) = spawn_reader(async move {
        lister
            .dead_letters(CONSUMER, &all(), 1000)
            .await
            .map(|l| ids(&l))
    });
    until_waiting(&mut task, &mut waiting).await;
    holder.vanish().await;
    let listed = finished(task).await.expect("list");
    assert_eq!(sorted(listed), parked);
    b.delete_topology().await.expect("delete topology");
}

/// `dlq replay --all` while a list holds part of the letters: it waits, then replays every
/// one. Before the fix it replayed the 35 not held, said so as if it were all, and left 25.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replay_of_all_racing_a_list_replays_every_letter() {
    let ns = unique("replayrace");
    let Some(b) = rabbit(&ns).await else { return };
    let parked = park(b.clone(), LETTERS).await;

    let holder = Holder::take(&ns, 25).await;
    let replayer = another(&ns).await;
    let (mut task, mut waiting) =
        spawn_reader(async move { replayer.replay(CONSUMER, &all()).await });
    until_waiting(&mut task, &mut waiting).await;
    holder.release().await;
    let replayed = finished(task).await.expect("replay");
    assert_eq!(replayed, LETTERS, "every dead letter replayed");
    let depth = b.depth(CONSUMER).await.expect("depth");
    assert_eq!((depth.ready, depth.dead), (LETTERS as u64, 0));
    assert!(
        b.dead_letters(CONSUMER, &all(), 1000)
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(
        redelivered(b.clone(), LETTERS).await,
        parked,
        "each replayed once"
    );
    b.delete_topology().await.expect("delete topology");
}

/// The service's reconciliation does not wait: while another reader has the letters it is told
/// at once that they are busy (and reads and changes nothing), and tries again next time. A
/// reader that waits only so long gets the same error after its wait, not a part of the
/// letters. Once the other is done, the next reader gets its turn at once and sees them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reader_that_will_not_wait_skips_its_turn_while_the_letters_are_held() {
    let ns = unique("skipturn");
    let Some(b) = rabbit(&ns).await else { return };
    let parked = park(b.clone(), LETTERS).await;

    let holder = Holder::take(&ns, 10).await;
    let service = another(&ns).await;
    let list = gateway_broker::with_dead_letter_wait(
        Duration::ZERO,
        service.dead_letters(CONSUMER, &all(), 1000),
    )
    .await;
    let e = list
        .map(|l| l.len())
        .expect_err("busy, not a part of the letters");
    assert!(gateway_broker::is_busy(&e), "{e}");
    assert!(e.to_string().ends_with("try again"), "{e}");
    let replay =
        gateway_broker::with_dead_letter_wait(Duration::ZERO, service.replay(CONSUMER, &all()))
            .await;
    assert!(
        replay.as_ref().is_err_and(gateway_broker::is_busy),
        "{replay:?}"
    );
    let purge =
        gateway_broker::with_dead_letter_wait(Duration::ZERO, service.purge(CONSUMER, &all()))
            .await;
    assert!(
        purge.as_ref().is_err_and(gateway_broker::is_busy),
        "{purge:?}"
    );
    let waited = gateway_broker::with_dead_letter_wait(
        Duration::from_millis(300),
        service.dead_letters(CONSUMER, &all(), 1000),
    )
    .await
    .map(|l| l.len())
    .expect_err("still busy after its wait");
    assert!(gateway_broker::is_busy(&waited), "{waited}");
    assert!(waited.to_string().contains("(waited 300ms"), "{waited}");

    holder.release().await;
    let listed = gateway_broker::with_dead_letter_wait(
        Duration::ZERO,
        service.dead_letters(CONSUMER, &all(), 1000),
    )
    .await
    .expect("its turn, at once");
    assert_eq!(sorted(ids(&listed)), parked, "nothing was taken meanwhile");
    let depth = b.depth(CONSUMER).await.expect("depth");
    assert_eq!((depth.ready, depth.dead), (0, LETTERS as u64));
    b.delete_topology().await.expect("delete topology");
}

/// What QA ran: lists at once, then lists at once with a `replay --all`, each from its own
/// broker as from its own process. Every list sees every letter (or, after the replay, none),
/// and the replay replays them all. The same holds for the embedded bus.
async fn readers_at_once(brokers: Vec<Arc<dyn Broker>>, parked: &[String]) {
    let lists = |n: usize| {
        let barrier = Arc::new(Barrier::new(n));
        brokers
            .iter()
            .take(n)
            .map(|b| {
                let (b, barrier) = (Arc::clone(b), Arc::clone(&barrier));
                tokio::spawn(async move {
                    barrier.wait().await;
                    b.dead_letters(CONSUMER, &all(), 1000)
                        .await
                        .map(|l| ids(&l))
                })
            })
            .collect::<Vec<_>>()
    };
    for task in lists(brokers.len()) {
        let listed = finished(task).await.expect("list");
        let listed = sorted(listed);
        assert!(
            listed == parked,
            "a list at once with others saw {} of the {} letters",
            listed.len(),
            parked.len()
        );
    }

    let barrier = Arc::new(Barrier::new(brokers.len()));
    let replayer = Arc::clone(&brokers[0]);
    let gate = Arc::clone(&barrier);
    let replay = tokio::spawn(async move {
        gate.wait().await;
        replayer.replay(CONSUMER, &all()).await
    });
    let listers: Vec<_> = brokers[1..]
        .iter()
        .map(|b| {
            let (b, barrier) = (Arc::clone(b), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                b.dead_letters(CONSUMER, &all(), 1000)
                    .await
                    .map(|l| ids(&l))
            })
        })
        .collect();
    assert_eq!(finished(replay).await.expect("replay"), parked.len());
    for task in listers {
        let listed = sorted(finished(task).await.expect("list"));
        assert!(
            listed.is_empty() || listed == parked,
            "a list beside a replay saw {} of {} letters",
            listed.len(),
            parked.len()
        );
    }
    let depth = brokers[0].depth(CONSUMER).await.expect("depth");
    assert_eq!((depth.ready, depth.dead), (parked.len() as u64, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rabbitmq_readers_at_once_each_see_every_letter() {
    let ns = unique("atonce");
    let Some(b) = rabbit(&ns).await else { return };
    let parked = park(b.clone(), LETTERS).await;
    let mut brokers: Vec<Arc<dyn Broker>> = vec![b.clone()];
    for _ in 0..3 {
        brokers.push(another(&ns).await);
    }
    readers_at_once(brokers, &parked).await;
    b.delete_topology().await.expect("delete topology");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_readers_at_once_each_see_every_letter() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bus.sqlite");
    let ns = unique("atonce");
    let b: Arc<dyn Broker> = Arc::new(EmbeddedBroker::open(&path, topology(&ns)).unwrap());
    let parked = park(Arc::clone(&b), LETTERS).await;
    let mut brokers = vec![b];
    for _ in 0..3 {
        // Operator commands beside the server, each with the file open.
        brokers.push(Arc::new(
            EmbeddedBroker::open_admin(&path, topology(&ns)).unwrap(),
        ));
    }
    readers_at_once(brokers, &parked).await;
}
