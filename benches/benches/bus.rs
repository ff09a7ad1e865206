//! Bus throughput: publish-with-confirm and consume-with-ack, for the RabbitMQ backend beside
//! a bare lapin loop on the same broker and queue type (the baseline it should stay close to),
//! and for the embedded backend.
//!
//! Needs RabbitMQ at `GATEWAY_TEST_AMQP` (default amqp://127.0.0.1:5672/%2f); without it the
//! RabbitMQ cases are skipped with a message. Run: `cargo bench -p gateway-benches --bench bus`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::FutureExt;
use futures::future::BoxFuture;
use gateway_broker::{EmbeddedBroker, RabbitBroker};
use gateway_core::{
    Broker, ConsumerSpec, Delivered, Envelope, Handler, Message, Outcome, SourceMeta, Topology,
};
use gateway_model::DocumentKind;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use tokio::runtime::Runtime;

const BATCH: usize = 1_000;
const BODY: usize = 2_048; // about one canonical invoice

fn amqp_url() -> String {
    std::env::var("GATEWAY_TEST_AMQP").unwrap_or_else(|_| "amqp://127.0.0.1:5672/%2f".into())
}

fn topology(ns: &str) -> Topology {
    Topology {
        namespace: ns.into(),
        consumers: vec![ConsumerSpec {
            name: "bench".into(),
            bindings: vec!["in.invoice.*".into()],
        }],
        retry_tiers: vec![Duration::from_secs(5)],
        delivery_limit: 5,
        prefetch: 64,
    }
}

fn batch() -> Vec<Message> {
    let body = vec![b'x'; BODY];
    (0..BATCH)
        .map(|_| Message {
            envelope: Envelope::inbound(
                DocumentKind::Invoice,
                "bench",
                Some("acme".into()),
                SourceMeta::default(),
            ),
            body: body.clone(),
        })
        .collect()
}

/// Acks everything and stops the consumer once `target` messages were seen.
struct Counter {
    seen: AtomicUsize,
    target: usize,
    done: tokio::sync::Notify,
}

impl Handler for Counter {
    fn handle<'a>(&'a self, _m: &'a Delivered) -> BoxFuture<'a, Outcome> {
        if self.seen.fetch_add(1, Ordering::SeqCst) + 1 >= self.target {
            self.done.notify_one();
        }
        async { Outcome::Ack }.boxed()
    }
}

/// Publishes `iters` batches, then consumes them all; returns (publish time, consume time).
async fn broker_round(b: Arc<dyn Broker>, iters: u64) -> (Duration, Duration) {
    let msgs = batch();
    let start = Instant::now();
    for _ in 0..iters {
        if let Err(e) = b.publish(&msgs).await {
            eprintln!("publish failed: {e}");
        }
    }
    let publish = start.elapsed();
    let target = BATCH * usize::try_from(iters).unwrap_or(1);
    let counter = Arc::new(Counter {
        seen: AtomicUsize::new(0),
        target,
        done: tokio::sync::Notify::new(),
    });
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let start = Instant::now();
    let b2 = Arc::clone(&b);
    let c2 = Arc::clone(&counter);
    let task =
        tokio::spawn(async move { b2.consume("bench", c2, stop_rx.map(|_| ()).boxed()).await });
    counter.done.notified().await;
    let consume = start.elapsed();
    drop(stop_tx);
    let _ = task.await;
    (publish, consume)
}

async fn bare_lapin_round(iters: u64) -> Option<(Duration, Duration)> {
    let conn = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .ok()?;
    let ch = conn.create_channel().await.ok()?;
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .ok()?;
    let queue = format!("bench.bare.{}", uuid::Uuid::new_v4().simple());
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    ch.queue_declare(
        queue.as_str().into(),
        QueueDeclareOptions {
            durable: true,
            ..Default::default()
        },
        args,
    )
    .await
    .ok()?;
    let body = vec![b'x'; BODY];
    let start = Instant::now();
    for _ in 0..iters {
        let mut confirms = Vec::with_capacity(BATCH);
        for _ in 0..BATCH {
            confirms.push(
                ch.basic_publish(
                    "".into(),
                    queue.as_str().into(),
                    BasicPublishOptions::default(),
                    &body,
                    BasicProperties::default().with_delivery_mode(2),
                )
                .await
                .ok()?,
            );
        }
        for c in confirms {
            c.await.ok()?;
        }
    }
    let publish = start.elapsed();
    let consumer_ch = conn.create_channel().await.ok()?;
    consumer_ch
        .basic_qos(64, BasicQosOptions::default())
        .await
        .ok()?;
    let mut consumer = consumer_ch
        .basic_consume(
            queue.as_str().into(),
            "bench".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .ok()?;
    let total = BATCH * usize::try_from(iters).unwrap_or(1);
    let start = Instant::now();
    use futures::StreamExt;
    for _ in 0..total {
        let d = consumer.next().await?.ok()?;
        d.ack(BasicAckOptions::default()).await.ok()?;
    }
    let consume = start.elapsed();
    let _ = ch
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await;
    Some((publish, consume))
}

fn bus(c: &mut Criterion) {
    let rt = match Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("no tokio runtime: {e}");
            return;
        }
    };
    let rabbit_up = rt.block_on(async {
        Connection::connect(&amqp_url(), ConnectionProperties::default())
            .await
            .is_ok()
    });
    if !rabbit_up {
        eprintln!("SKIPPED RabbitMQ bus benches: no broker at {}", amqp_url());
    }
    let dir = tempfile::tempdir().ok();

    for (phase, pick) in [("publish_confirmed", 0usize), ("consume_acked", 1usize)] {
        let mut group = c.benchmark_group(format!("bus/{phase}"));
        group.throughput(Throughput::Elements(BATCH as u64));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(10));
        if rabbit_up {
            group.bench_function("lapin_bare_quorum", |b| {
                b.iter_custom(|iters| {
                    rt.block_on(bare_lapin_round(iters))
                        .map(|r| if pick == 0 { r.0 } else { r.1 })
                        .unwrap_or_default()
                })
            });
            group.bench_function("rabbitmq_backend", |b| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let ns = format!("bench{}", uuid::Uuid::new_v4().simple());
                        let Ok(broker) = RabbitBroker::connect(&amqp_url(), topology(&ns)).await
                        else {
                            return Duration::ZERO;
                        };
                        let broker = Arc::new(broker);
                        let r = broker_round(broker.clone(), iters).await;
                        let _ = broker.delete_topology().await;
                        if pick == 0 { r.0 } else { r.1 }
                    })
                })
            });
        }
        if let Some(dir) = &dir {
            group.bench_function("embedded_backend", |b| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let path = dir
                            .path()
                            .join(format!("{}.sqlite", uuid::Uuid::new_v4().simple()));
                        let Ok(broker) = EmbeddedBroker::open(&path, topology("bench")) else {
                            return Duration::ZERO;
                        };
                        let r = broker_round(Arc::new(broker), iters).await;
                        if pick == 0 { r.0 } else { r.1 }
                    })
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bus);
criterion_main!(benches);
