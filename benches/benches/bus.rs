//! Bus throughput: publish-with-confirm and consume-with-ack, for the RabbitMQ backend beside
//! a bare lapin loop on the same broker and queue type (the baseline it should stay close to),
//! and for the embedded backend.
//!
//! Needs RabbitMQ at `GATEWAY_AMQP_URL` (or `GATEWAY_TEST_AMQP`; default amqp://guest:guest@127.0.0.1:5672/%2f); without it the
//! RabbitMQ cases are skipped with a message. Run: `cargo bench -p gateway-benches --bench bus`.
//!
//! `lapin_bare_quorum` (default exchange straight into a quorum queue) is the reference the
//! publish goal is measured against; `lapin_bare_topic_quorum` is the same loop through a topic
//! exchange, as the product routes, to show what the exchange alone costs on the broker. With
//! `GATEWAY_BENCH_BUS_DIAG=1` more bare shapes run (queue arguments, headers) and every round
//! prints client and broker CPU per message, read from `/proc` (broker found as `beam.smp`).

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
    ConfirmSelectOptions, ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Connection, ConnectionProperties, ExchangeKind};
use tokio::runtime::Runtime;

const BATCH: usize = 1_000;
const BODY: usize = 2_048; // about one canonical invoice

fn amqp_url() -> String {
    gateway_core::testkit::test_amqp_url()
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

/// CPU time (user + system, in clock ticks) of a process, from `/proc/<pid>/stat`.
fn cpu_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split(' ').collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// The pid of a local RabbitMQ (`beam.smp`), to attribute CPU to the broker in diagnostics.
fn broker_pid() -> Option<String> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid = e.file_name().into_string().ok()?;
        let cmd = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).ok()?;
        (cmd.contains("beam.smp") && cmd.contains("rabbit")).then_some(pid)
    })
}

/// With `GATEWAY_BENCH_BUS_DIAG=1`: CPU spent by this process and by the broker while `f`
/// publishes `msgs` messages, printed as microseconds per message (a tick is 10 ms).
async fn cpu_per_msg<T>(label: &str, msgs: u64, f: impl std::future::Future<Output = T>) -> T {
    if std::env::var_os("GATEWAY_BENCH_BUS_DIAG").is_none() {
        return f.await;
    }
    let broker = broker_pid();
    let before = (cpu_ticks("self"), broker.as_deref().and_then(cpu_ticks));
    let out = f.await;
    let after = (cpu_ticks("self"), broker.as_deref().and_then(cpu_ticks));
    let per = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) if msgs > 0 => format!("{:.1}", (b - a) as f64 * 10_000.0 / msgs as f64),
        _ => "?".into(),
    };
    eprintln!(
        "cpu/msg {label}: client {} us, broker {} us ({msgs} msgs)",
        per(before.0, after.0),
        per(before.1, after.1)
    );
    out
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
    cpu_per_msg("rabbitmq_backend", iters * BATCH as u64, async {
        for _ in 0..iters {
            if let Err(e) = b.publish(&msgs).await {
                eprintln!("publish failed: {e}");
            }
        }
    })
    .await;
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

/// How a bare lapin arm publishes. The reference (`lapin_bare_quorum`) is `Bare::default()`:
/// straight to a plain quorum queue through the default exchange, no headers. The other shapes
/// add, one at a time, what the product needs, so the gap to the reference can be attributed.
#[derive(Debug, Clone, Copy, Default)]
struct Bare {
    /// Through a durable topic exchange bound to the queue (`in.invoice.*`), `mandatory` set.
    topic: bool,
    /// The work queue's arguments (delivery limit, at-least-once dead-lettering, reject-publish).
    queue_args: bool,
    /// Headers of the size and shape the gateway sends (envelope JSON and flat copies).
    headers: bool,
    /// With `headers`: only the envelope JSON, no flat copies.
    envelope_only: bool,
}

fn bare_headers(envelope_only: bool) -> FieldTable {
    let mut h = FieldTable::default();
    let id = uuid::Uuid::new_v4().to_string();
    let json = format!(
        "{{\"doc_id\":\"{id}\",\"idempotency_key\":\"{id}\",\"direction\":\"in\",\
         \"kind\":\"invoice\",\"partner\":\"acme\",\"adapter\":\"bench\",\
         \"received_at\":\"2026-11-23T03:18:36.123456789Z\",\"source\":{{}}}}"
    );
    h.insert("x-gw-envelope".into(), AMQPValue::LongString(json.into()));
    if envelope_only {
        return h;
    }
    h.insert(
        "x-gw-doc-id".into(),
        AMQPValue::LongString(id.as_str().into()),
    );
    h.insert(
        "x-gw-idempotency-key".into(),
        AMQPValue::LongString(id.as_str().into()),
    );
    h.insert("x-gw-partner".into(), AMQPValue::LongString("acme".into()));
    h.insert("x-gw-kind".into(), AMQPValue::LongString("invoice".into()));
    h.insert("x-gw-attempts".into(), AMQPValue::LongLongInt(0));
    h
}

async fn bare_lapin_round(iters: u64, shape: Bare) -> Option<(Duration, Duration)> {
    let conn = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .ok()?;
    let ch = conn.create_channel().await.ok()?;
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .ok()?;
    let id = uuid::Uuid::new_v4().simple();
    let queue = format!("bench.bare.{id}");
    let exchange = format!("bench.bare.x.{id}");
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    if shape.queue_args {
        args.insert("x-delivery-limit".into(), AMQPValue::LongInt(5));
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(format!("{exchange}.dlx").into()),
        );
        args.insert(
            "x-dead-letter-routing-key".into(),
            AMQPValue::LongString("bench".into()),
        );
        args.insert(
            "x-dead-letter-strategy".into(),
            AMQPValue::LongString("at-least-once".into()),
        );
        args.insert(
            "x-overflow".into(),
            AMQPValue::LongString("reject-publish".into()),
        );
    }
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
    let (publish_exchange, key) = if shape.topic {
        ch.exchange_declare(
            exchange.as_str().into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .ok()?;
        ch.queue_bind(
            queue.as_str().into(),
            exchange.as_str().into(),
            "in.invoice.*".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .ok()?;
        (exchange.clone(), "in.invoice.acme".to_string())
    } else {
        (String::new(), queue.clone())
    };
    let options = BasicPublishOptions {
        mandatory: shape.topic,
        ..Default::default()
    };
    let body = vec![b'x'; BODY];
    let start = Instant::now();
    let label = format!("{shape:?}");
    let published = cpu_per_msg(&label, iters * BATCH as u64, async {
        for _ in 0..iters {
            let mut confirms = Vec::with_capacity(BATCH);
            for _ in 0..BATCH {
                let mut props = BasicProperties::default().with_delivery_mode(2);
                if shape.headers {
                    props = props.with_headers(bare_headers(shape.envelope_only));
                }
                confirms.push(
                    ch.basic_publish(
                        publish_exchange.as_str().into(),
                        key.as_str().into(),
                        options,
                        &body,
                        props,
                    )
                    .await
                    .ok()?,
                );
            }
            for c in confirms {
                let confirmation = c.await.ok()?;
                if confirmation.is_nack() || confirmation.take_message().is_some() {
                    return None;
                }
            }
        }
        Some(())
    })
    .await;
    published?;
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
    if shape.topic {
        let _ = ch
            .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
            .await;
    }
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
            // The reference the goal is measured against, then (informative) the same loop
            // through a topic exchange as the product must route, and with
            // `GATEWAY_BENCH_BUS_DIAG=1` the other ingredients one at a time.
            let mut shapes = vec![
                ("lapin_bare_quorum", Bare::default()),
                (
                    "lapin_bare_topic_quorum",
                    Bare {
                        topic: true,
                        ..Bare::default()
                    },
                ),
            ];
            if std::env::var_os("GATEWAY_BENCH_BUS_DIAG").is_some() {
                shapes.extend([
                    (
                        "lapin_bare_quorum_args",
                        Bare {
                            queue_args: true,
                            ..Bare::default()
                        },
                    ),
                    (
                        "lapin_bare_quorum_headers",
                        Bare {
                            headers: true,
                            ..Bare::default()
                        },
                    ),
                    (
                        "lapin_bare_topic_args_headers",
                        Bare {
                            topic: true,
                            queue_args: true,
                            headers: true,
                            ..Bare::default()
                        },
                    ),
                    (
                        "lapin_bare_quorum_envelope_header",
                        Bare {
                            headers: true,
                            envelope_only: true,
                            ..Bare::default()
                        },
                    ),
                ]);
            }
            for (name, shape) in shapes {
                group.bench_function(name, |b| {
                    b.iter_custom(|iters| {
                        rt.block_on(bare_lapin_round(iters, shape))
                            .map(|r| if pick == 0 { r.0 } else { r.1 })
                            .unwrap_or_default()
                    })
                });
            }
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
