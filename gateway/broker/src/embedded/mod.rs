//! The embedded bus: the same semantics as the RabbitMQ backend (confirm = durable on disk,
//! manual ack, delayed retry tiers, delivery limit, dead letters, replay) in one local SQLite
//! file, for a single machine and for `gateway demo` when no AMQP URL is configured.
//!
//! One serving process per file: it reclaims leases a crashed predecessor left. Operator
//! commands open the same file with [`EmbeddedBroker::open_admin`], which never reclaims.

mod store;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use gateway_core::bus::Settled;
use gateway_core::{
    Broker, BusError, DeadFilter, DeadLetter, Delivered, Handler, Message, Outcome, QueueDepth,
    Stop, Topology,
};
use tokio::sync::Notify;

use self::store::Store;
use crate::settle::{Decision, decide, delivery_limit_reason, tell};

/// The embedded backend. Cheap to clone.
#[derive(Clone)]
pub struct EmbeddedBroker {
    store: Arc<Mutex<Store>>,
    topology: Arc<Topology>,
    notify: Arc<Notify>,
}

impl std::fmt::Debug for EmbeddedBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedBroker")
            .field("namespace", &self.topology.namespace)
            .finish_non_exhaustive()
    }
}

/// How long an idle consumer waits before it looks again when nothing woke it.
const IDLE_POLL: Duration = Duration::from_millis(500);

impl EmbeddedBroker {
    /// Opens the bus file for serving: leases a previous process left are returned to the
    /// queue (they count as a delivery, so a message that crashes the process every time ends
    /// in the dead-letter queue after `delivery_limit` tries).
    pub fn open(path: &Path, topology: Topology) -> Result<Self, BusError> {
        let store = Store::open(path)?;
        let reclaimed = store.reclaim_leases()?;
        if reclaimed > 0 {
            tracing::warn!(
                reclaimed,
                "embedded bus: returned messages in flight at the last stop to their queues"
            );
        }
        Ok(Self::with_store(store, topology))
    }

    /// Opens the bus file for operator verbs while a server may be running on it.
    pub fn open_admin(path: &Path, topology: Topology) -> Result<Self, BusError> {
        Ok(Self::with_store(Store::open(path)?, topology))
    }

    fn with_store(store: Store, topology: Topology) -> Self {
        EmbeddedBroker {
            store: Arc::new(Mutex::new(store)),
            topology: Arc::new(topology),
            notify: Arc::new(Notify::new()),
        }
    }

    /// Runs `f` on the store off the async threads (SQLite calls block on fsync).
    async fn with_store_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, BusError> + Send + 'static,
    ) -> Result<T, BusError> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || {
            let mut guard = store.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| BusError::Storage(format!("store task failed: {e}")))?
    }

    fn known(&self, consumer: &str) -> Result<(), BusError> {
        self.topology
            .consumer(consumer)
            .map(|_| ())
            .ok_or_else(|| BusError::UnknownConsumer(consumer.to_string()))
    }

    /// Settles a handled batch in one transaction (one fsync instead of one per message), then
    /// tells the handler what became of each. If the transaction fails, the leases stay, the
    /// messages are delivered again after a restart, and the handler is told nothing.
    async fn settle_all(
        &self,
        consumer: &str,
        handler: &Arc<dyn Handler>,
        handled: Vec<(i64, Decision, Delivered)>,
    ) {
        let decisions: Vec<(i64, Decision)> = handled
            .iter()
            .map(|(seq, d, _)| (*seq, d.clone()))
            .collect();
        if let Err(e) = self
            .with_store_blocking(move |s| s.settle_all(&decisions))
            .await
        {
            let doc_ids: Vec<&str> = handled
                .iter()
                .map(|(_, _, m)| m.envelope.doc_id.as_str())
                .collect();
            tracing::error!(consumer, ?doc_ids, error = %e, "embedded bus: could not settle messages");
            return;
        }
        let prefetch = usize::from(self.topology.prefetch.max(1));
        futures::stream::iter(handled)
            .for_each_concurrent(prefetch, |(_, decision, delivered)| {
                let handler = Arc::clone(handler);
                async move {
                    let settled = Settled::from(decision);
                    if let Settled::Dead { reason } = &settled {
                        tracing::debug!(consumer, doc_id = %delivered.envelope.doc_id,
                            attempts = delivered.attempt, %reason, "embedded bus: parked in the dead-letter queue");
                    }
                    tell(handler.as_ref(), consumer, &delivered, &settled).await;
                }
            })
            .await;
    }

    async fn run(
        &self,
        consumer: &str,
        handler: Arc<dyn Handler>,
        mut stop: Stop,
    ) -> Result<(), BusError> {
        self.known(consumer)?;
        let prefetch = usize::from(self.topology.prefetch.max(1));
        loop {
            if (&mut stop).now_or_never().is_some() {
                return Ok(());
            }
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();

            let name = consumer.to_string();
            let batch = match self
                .with_store_blocking(move |s| s.lease(&name, prefetch))
                .await
            {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(consumer, error = %e, "embedded bus: cannot read the queue; retrying");
                    tokio::select! {
                        _ = &mut stop => return Ok(()),
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            };
            if !batch.is_empty() {
                let handled: Vec<(i64, Decision, Delivered)> = futures::stream::iter(batch)
                    .map(|m| {
                        let handler = Arc::clone(&handler);
                        async move {
                            let delivered = Delivered {
                                envelope: m.envelope,
                                body: m.body,
                                attempt: m.attempt,
                                first_error: m.first_error,
                            };
                            let outcome = if m.attempt > self.topology.delivery_limit {
                                // Not handled again: its consumer stopped while handling it
                                // `delivery_limit` times. The handler still hears of it below.
                                Outcome::Dead {
                                    reason: delivery_limit_reason(self.topology.delivery_limit),
                                }
                            } else {
                                handler.handle(&delivered).await
                            };
                            let decision = decide(&self.topology, m.attempt, outcome);
                            (m.seq, decision, delivered)
                        }
                    })
                    .buffer_unordered(prefetch)
                    .collect()
                    .await;
                self.settle_all(consumer, &handler, handled).await;
                continue;
            }
            let name = consumer.to_string();
            let wait = match self.with_store_blocking(move |s| s.next_due(&name)).await {
                Ok(Some(due)) => {
                    let ms = due.saturating_sub(chrono::Utc::now().timestamp_millis());
                    Duration::from_millis(u64::try_from(ms).unwrap_or(0)).min(IDLE_POLL)
                }
                _ => IDLE_POLL,
            };
            tokio::select! {
                _ = &mut stop => return Ok(()),
                _ = &mut notified => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

use futures::StreamExt;

impl Broker for EmbeddedBroker {
    fn publish<'a>(&'a self, batch: &'a [Message]) -> BoxFuture<'a, Result<(), BusError>> {
        async move {
            let mut rows = Vec::new();
            for m in batch {
                let key = m.envelope.routing_key();
                let envelope = serde_json::to_string(&m.envelope)
                    .map_err(|e| BusError::Storage(format!("envelope: {e}")))?;
                let mut routed = false;
                for c in self.topology.routes(&key) {
                    routed = true;
                    rows.push((c.name.clone(), envelope.clone(), m.body.clone()));
                }
                if !routed {
                    return Err(BusError::Unroutable(key));
                }
            }
            self.with_store_blocking(move |s| {
                let refs: Vec<(String, String, &[u8])> = rows
                    .iter()
                    .map(|(c, e, b)| (c.clone(), e.clone(), b.as_slice()))
                    .collect();
                s.insert(&refs)
            })
            .await?;
            self.notify.notify_waiters();
            Ok(())
        }
        .boxed()
    }

    fn consume<'a>(
        &'a self,
        consumer: &'a str,
        handler: Arc<dyn Handler>,
        stop: Stop,
    ) -> BoxFuture<'a, Result<(), BusError>> {
        self.run(consumer, handler, stop).boxed()
    }

    fn dead_letters<'a>(
        &'a self,
        consumer: &'a str,
        filter: &'a DeadFilter,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<DeadLetter>, BusError>> {
        async move {
            self.known(consumer)?;
            let (name, filter) = (consumer.to_string(), filter.clone());
            let letters = self
                .with_store_blocking(move |s| s.dead_letters(&name, &filter, limit))
                .await?;
            Ok(letters.into_iter().map(|(_, l)| l).collect())
        }
        .boxed()
    }

    fn replay<'a>(
        &'a self,
        consumer: &'a str,
        filter: &'a DeadFilter,
    ) -> BoxFuture<'a, Result<usize, BusError>> {
        async move {
            self.known(consumer)?;
            let (name, filter) = (consumer.to_string(), filter.clone());
            let n = self
                .with_store_blocking(move |s| {
                    let seqs: Vec<i64> = s
                        .dead_letters(&name, &filter, usize::MAX)?
                        .into_iter()
                        .map(|(seq, _)| seq)
                        .collect();
                    s.revive(&seqs)
                })
                .await?;
            self.notify.notify_waiters();
            Ok(n)
        }
        .boxed()
    }

    fn purge<'a>(
        &'a self,
        consumer: &'a str,
        filter: &'a DeadFilter,
    ) -> BoxFuture<'a, Result<Vec<Option<String>>, BusError>> {
        async move {
            self.known(consumer)?;
            let (name, filter) = (consumer.to_string(), filter.clone());
            self.with_store_blocking(move |s| {
                let (seqs, ids): (Vec<i64>, Vec<Option<String>>) = s
                    .dead_letters(&name, &filter, usize::MAX)?
                    .into_iter()
                    .map(|(seq, dl)| (seq, Some(dl.doc_id)))
                    .unzip();
                s.delete_dead(&seqs)?;
                Ok(ids)
            })
            .await
        }
        .boxed()
    }

    fn depth<'a>(&'a self, consumer: &'a str) -> BoxFuture<'a, Result<QueueDepth, BusError>> {
        async move {
            self.known(consumer)?;
            let name = consumer.to_string();
            self.with_store_blocking(move |s| s.depth(&name)).await
        }
        .boxed()
    }

    fn ready(&self) -> BoxFuture<'_, Result<(), BusError>> {
        async move { self.with_store_blocking(|s| s.depth("").map(|_| ())).await }.boxed()
    }
}
