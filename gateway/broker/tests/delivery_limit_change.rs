//! A changed `[bus] delivery_limit` meets work queues RabbitMQ declared before with another
//! `x-delivery-limit`, which it keeps for the queue's life. Connecting used to fail on it
//! (`inequivalent arg 'x-delivery-limit'`), and with it `gateway serve` and every `gateway
//! dlq` command, with advice to delete the queue (its documents with it). The queue is taken
//! as it is now, nothing in it touched, and the limit in force is the lower of the two: the
//! consumer parks a message at the configured limit itself. On the local RabbitMQ
//! (`GATEWAY_AMQP_URL`), each test in a namespace of its own, deleted at the end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use gateway_broker::{RabbitBroker, names};
use gateway_core::bus::Settled;
use gateway_core::{
    Broker, BusError, ConsumerSpec, DeadFilter, Delivered, Envelope, Handler, Message, Outcome,
    SourceMeta, Topology,
};
use gateway_model::DocumentKind;
use tokio::sync::{mpsc, oneshot};

const GUARD: Duration = Duration::from_secs(30);

fn topology(ns: &str, delivery_limit: u32) -> Topology {
    Topology {
        namespace: ns.to_string(),
        consumers: vec![ConsumerSpec {
            name: "invoices".into(),
            bindings: vec!["in.invoice.*".into()],
        }],
        retry_tiers: vec![Duration::from_millis(50)],
        delivery_limit,
        prefetch: 4,
    }
}

fn url() -> String {
    gateway_core::testkit::test_amqp_url()
}

/// A namespace of the test's own on the local RabbitMQ, declared with `delivery_limit`, or
/// `None` (said loudly) when no RabbitMQ runs; under CI a missing broker fails the test.
async fn rabbit(ns: &str, delivery_limit: u32) -> Option<RabbitBroker> {
    match RabbitBroker::connect(&url(), topology(ns, delivery_limit)).await {
        Ok(b) => Some(b),
        Err(e) if std::env::var_os("CI").is_some() => panic!("RabbitMQ is required under CI: {e}"),
        Err(e) => {
            eprintln!("SKIPPED: {e} (start it: rabbitmq-server -detached)");
            None
        }
    }
}

/// A consumer that took `ns`'s one waiting invoice and went away without settling it: the
/// quorum queue counts the return as a delivery.
async fn taken_and_returned(ns: &str) {
    let conn = lapin::Connection::connect(&url(), lapin::ConnectionProperties::default())
        .await
        .expect("connect");
    let ch = conn.create_channel().await.expect("channel");
    let work = names::work_queue(ns, "invoices");
    let got = ch
        .basic_get(
            work.as_str().into(),
            lapin::options::BasicGetOptions { no_ack: false },
        )
        .await
        .expect("basic.get")
        .expect("the invoice waits in its work queue");
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

/// Tells the test what the bus settled; a delivery handed to it is counted.
struct Told {
    handled: mpsc::UnboundedSender<()>,
    settled: mpsc::UnboundedSender<Settled>,
}

impl Handler for Told {
    fn handle<'a>(&'a self, _: &'a Delivered) -> BoxFuture<'a, Outcome> {
        let _ = self.handled.send(());
        async { Outcome::Ack }.boxed()
    }

    fn settled<'a>(
        &'a self,
        _: &'a str,
        _: &'a Delivered,
        settled: &'a Settled,
    ) -> BoxFuture<'a, ()> {
        let _ = self.settled.send(settled.clone());
        async {}.boxed()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_delivery_limit_keeps_the_queue_and_its_messages_and_the_lower_limit_holds() {
    let ns = format!("t{}.dl", uuid::Uuid::new_v4().simple());
    let Some(first) = rabbit(&ns, 5).await else {
        return;
    };
    assert!(first.kept_limits().is_empty());
    let invoice = Message {
        envelope: Envelope::inbound(
            DocumentKind::Invoice,
            "test",
            Some("acme".into()),
            SourceMeta::default(),
        ),
        body: b"waits-in-the-queue".to_vec(),
    };
    let doc_id = invoice.envelope.doc_id.clone();
    first.publish(&[invoice]).await.expect("publish");
    drop(first);

    // Raised: RabbitMQ parks at the queue's 5 first, so 5 is in force, and said so.
    let raised = RabbitBroker::connect(&url(), topology(&ns, 20))
        .await
        .expect("connecting with a raised delivery_limit");
    let kept: Vec<_> = raised
        .kept_limits()
        .iter()
        .map(|k| {
            (
                k.consumer.as_str(),
                k.queue.as_str(),
                k.existing,
                k.configured,
                k.in_force(),
            )
        })
        .collect();
    let work = names::work_queue(&ns, "invoices");
    assert_eq!(kept, [("invoices", work.as_str(), Some(5), 20, 5)]);
    assert_eq!(raised.delivery_limit("invoices"), 5);
    assert_eq!(
        raised.depth("invoices").await.expect("depth").ready,
        1,
        "the invoice waiting in the queue is kept"
    );
    assert!(
        raised
            .dead_letters("invoices", &DeadFilter::default(), 10)
            .await
            .expect("what `gateway dlq list` reads")
            .is_empty()
    );
    drop(raised);

    // Lowered to 1: the consumer parks the invoice returned once at 1 itself, unhandled,
    // though the queue's own limit is 5.
    taken_and_returned(&ns).await;
    let lowered = Arc::new(
        RabbitBroker::connect(&url(), topology(&ns, 1))
            .await
            .expect("connecting with a lowered delivery_limit"),
    );
    assert_eq!(lowered.delivery_limit("invoices"), 1);
    let (handled, mut was_handled) = mpsc::unbounded_channel();
    let (settled, mut told) = mpsc::unbounded_channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let bus: Arc<dyn Broker> = lowered.clone();
    let consumer = tokio::spawn(async move {
        bus.consume(
            "invoices",
            Arc::new(Told { handled, settled }),
            stopped.map(|_| ()).boxed(),
        )
        .await
    });
    let settled = tokio::time::timeout(GUARD, told.recv())
        .await
        .expect("the bus settled nothing within the guard time");
    let _ = stop.send(());
    consumer.await.expect("consumer task").expect("consumer");
    let reason = "delivery limit 1 exceeded (the consumer stopped while handling it each time)";
    assert_eq!(
        settled,
        Some(Settled::Dead {
            reason: reason.into()
        })
    );
    assert!(was_handled.try_recv().is_err(), "handled past its limit");
    let dead = lowered
        .dead_letters("invoices", &DeadFilter::default(), 10)
        .await
        .expect("dead letters");
    assert_eq!(
        dead.iter()
            .map(|d| (d.doc_id.as_str(), d.reason.starts_with(reason)))
            .collect::<Vec<_>>(),
        [(doc_id.as_str(), true)],
        "{dead:?}"
    );
    lowered.delete_topology().await.expect("delete topology");
}

/// A queue of the namespace declared with other arguments than the gateway's (here a
/// dead-letter queue made a quorum queue) is still refused, but no longer with "delete it in
/// RabbitMQ", which deletes the documents it holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_with_other_arguments_is_refused_without_advice_to_delete_it() {
    let ns = format!("t{}.args", uuid::Uuid::new_v4().simple());
    let Some(probe) = rabbit(&format!("{ns}.probe"), 5).await else {
        return;
    };
    probe
        .delete_topology()
        .await
        .expect("delete probe topology");
    let conn = lapin::Connection::connect(&url(), lapin::ConnectionProperties::default())
        .await
        .expect("connect");
    let ch = conn.create_channel().await.expect("channel");
    let dead = names::dead_queue(&ns, "invoices");
    let mut quorum = lapin::types::FieldTable::default();
    quorum.insert(
        "x-queue-type".into(),
        lapin::types::AMQPValue::LongString("quorum".into()),
    );
    ch.queue_declare(
        dead.as_str().into(),
        lapin::options::QueueDeclareOptions {
            durable: true,
            ..Default::default()
        },
        quorum,
    )
    .await
    .expect("declare a quorum dead-letter queue");

    let refused = RabbitBroker::connect(&url(), topology(&ns, 5)).await.err();
    let Some(BusError::Topology(why)) = refused else {
        panic!("expected a topology error, got {refused:?}");
    };
    assert!(
        why.contains(&format!("queue {dead} already exists with other arguments"))
            && why.contains("deleting it deletes the documents it holds")
            && why.contains("move them to another queue first")
            && !why.contains("delete it in RabbitMQ"),
        "{why}"
    );

    ch.queue_delete(dead.as_str().into(), Default::default())
        .await
        .expect("delete the quorum dead-letter queue");
    let _ = conn.close(200, "done".into()).await;
    let b = RabbitBroker::connect(&url(), topology(&ns, 5))
        .await
        .expect("connect once the queue is gone");
    b.delete_topology().await.expect("delete topology");
}
