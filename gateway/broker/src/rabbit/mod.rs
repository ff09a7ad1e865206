//! The RabbitMQ backend (lapin). Topology per namespace `ns`:
//!
//! - topic exchange `ns.documents`, routing key `<direction>.<kind>.<partner>`;
//! - per consumer a quorum work queue `ns.q.<consumer>` bound with the consumer's patterns,
//!   with an explicit `x-delivery-limit` and at-least-once dead-lettering through the direct
//!   exchange `ns.dlx` into `ns.dead.<consumer>` (for messages that crash their consumer);
//! - per consumer and retry tier a queue `ns.retry.<consumer>.<ms>ms` whose TTL dead-letters
//!   back into the work queue: a retry is a confirmed copy there, then an ack of the original.
//!
//! Publishes are persistent, `mandatory` (a returned message is a failure) and confirmed,
//! pipelined: a batch is sent whole, then its confirms are awaited together.

mod admin;
mod consume;
pub(crate) mod headers;
mod topology;

pub use topology::KeptLimit;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::FutureExt;
use futures::future::BoxFuture;
use gateway_core::{
    Broker, BusError, DeadFilter, DeadLetter, Handler, Message, QueueDepth, Stop, Topology,
};
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::ShortString;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use tokio::sync::Mutex;

use crate::names;

/// The RabbitMQ backend.
pub struct RabbitBroker {
    url: String,
    topology: Arc<Topology>,
    conn: Mutex<Option<Arc<Connection>>>,
    publisher: Mutex<Option<Channel>>,
    /// A publish on the cached channel was given up before it finished (its caller timed out
    /// or went away, as when a blocked broker confirms nothing): the channel may be stuck, so
    /// the next publish opens a fresh one.
    publisher_stale: AtomicBool,
    /// Work queues found with another delivery limit than the topology's, by consumer: the
    /// limit in force on each ([`topology::KeptLimit::in_force`]), which its consumer parks
    /// at and its dead letters name. Read at connect; a queue declared afresh later (deleted
    /// meanwhile) gets the configured limit, and until the next start its consumer parks at
    /// the lower of the two: earlier than needed at worst, never past the queue's own limit.
    kept_limits: Vec<KeptLimit>,
}

/// Marks the publisher channel stale when dropped before [`Unfinished::done`]: a publish whose
/// future is dropped halfway never reaches the code that would forget a broken channel.
struct Unfinished<'a>(&'a AtomicBool, bool);

impl Unfinished<'_> {
    fn done(mut self) {
        self.1 = true;
    }
}

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        if !self.1 {
            self.0.store(true, Ordering::Release);
        }
    }
}

impl std::fmt::Debug for RabbitBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never print it.
        f.debug_struct("RabbitBroker")
            .field("namespace", &self.topology.namespace)
            .finish_non_exhaustive()
    }
}

pub(crate) fn unavailable(what: &str, e: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(format!("{what}: {e}"))
}

/// Why connecting to the broker at `url` (already redacted) failed, with the hint that fits:
/// every failure once read "is it running? start it", even a password the broker refused.
/// Only a connection nothing accepted (refused, timed out) suggests starting RabbitMQ; a
/// refused login names the credentials of the URL; a refused virtual host names it.
fn connect_failure(url: &str, e: &lapin::Error) -> BusError {
    use std::io::ErrorKind as Io;
    match e.kind() {
        lapin::ErrorKind::IOError(io)
            if matches!(io.kind(), Io::ConnectionRefused | Io::TimedOut) =>
        {
            BusError::Unavailable(format!(
                "cannot connect to {url}: {e}; nothing accepted the connection there: is \
                 RabbitMQ running? start it with `rabbitmq-server -detached`, or correct the \
                 host and port"
            ))
        }
        lapin::ErrorKind::IOError(_) => BusError::Unavailable(format!(
            "cannot connect to {url}: {e}; check the host and port, and that this machine \
             can reach them"
        )),
        lapin::ErrorKind::ProtocolError(amqp) if amqp.get_id() == ACCESS_REFUSED => {
            BusError::Refused(format!(
                "RabbitMQ at {url} refused the user name and password ({}): correct them in \
                 the URL, or the user in RabbitMQ (`rabbitmqctl list_users`)",
                amqp.get_message()
            ))
        }
        lapin::ErrorKind::ProtocolError(amqp) if amqp.get_id() == NOT_ALLOWED => {
            BusError::Refused(format!(
                "RabbitMQ at {url} refused the virtual host ({}): correct the path of the URL \
                 (`%2f` is `/`), or create the virtual host or grant the user access to it \
                 (`rabbitmqctl list_vhosts`, `rabbitmqctl list_permissions`)",
                amqp.get_message()
            ))
        }
        _ => unavailable(&format!("cannot connect to {url}"), e),
    }
}

/// AMQP reply codes the connect and declare paths tell apart.
const ACCESS_REFUSED: u16 = 403;
const NOT_ALLOWED: u16 = 530;

pub(crate) fn short(s: &str) -> Result<ShortString, BusError> {
    ShortString::try_new(s)
        .map_err(|_| BusError::Topology(format!("name longer than 255 bytes: {s:.40}...")))
}

impl RabbitBroker {
    /// Connects, declares the topology and verifies it matches what already exists (a queue
    /// declared earlier with other arguments is a clear [`BusError::Topology`], except a work
    /// queue's delivery limit alone: that queue is used as it is, see [`KeptLimit`]).
    pub async fn connect(url: &str, topology: Topology) -> Result<Self, BusError> {
        let mut broker = RabbitBroker {
            url: url.to_string(),
            topology: Arc::new(topology),
            conn: Mutex::new(None),
            publisher: Mutex::new(None),
            publisher_stale: AtomicBool::new(false),
            kept_limits: Vec::new(),
        };
        let conn = broker.connection().await?;
        broker.kept_limits = topology::declare(&conn, &broker.topology).await?;
        Ok(broker)
    }

    /// The work queues found with another delivery limit than configured, as [`connect`]
    /// found them.
    ///
    /// [`connect`]: RabbitBroker::connect
    pub fn kept_limits(&self) -> &[KeptLimit] {
        &self.kept_limits
    }

    /// The deliveries after which `consumer`'s messages are parked: the configured limit,
    /// or the one in force on a work queue declared before with another.
    pub fn delivery_limit(&self, consumer: &str) -> u32 {
        self.kept_limits
            .iter()
            .find(|k| k.consumer == consumer)
            .map_or(self.topology.delivery_limit, KeptLimit::in_force)
    }

    /// Deletes this namespace's queues and exchanges, messages included.
    pub async fn delete_topology(&self) -> Result<(), BusError> {
        let conn = self.connection().await?;
        topology::delete(&conn, &self.topology).await
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The live connection, reconnecting if the last one died.
    pub(crate) async fn connection(&self) -> Result<Arc<Connection>, BusError> {
        let mut guard = self.conn.lock().await;
        if let Some(c) = guard.as_ref().filter(|c| c.status().connected()) {
            return Ok(Arc::clone(c));
        }
        let conn = Connection::connect(&self.url, ConnectionProperties::default())
            .await
            .map_err(|e| self.cannot_connect(e))?;
        let conn = Arc::new(conn);
        *guard = Some(Arc::clone(&conn));
        Ok(conn)
    }

    /// A connection of its own, not the shared one, named `name` for RabbitMQ's management
    /// view. Closing it (or the process ending) releases whatever it held.
    pub(crate) async fn own_connection(&self, name: &str) -> Result<Connection, BusError> {
        let props = ConnectionProperties::default().with_connection_name(name.into());
        Connection::connect(&self.url, props)
            .await
            .map_err(|e| self.cannot_connect(e))
    }

    /// A connection that failed, naming the broker by its URL as logs may show it
    /// ([`gateway_core::redact_url`]: its password, and any token, hidden), with what to do
    /// about it ([`connect_failure`]).
    fn cannot_connect(&self, e: lapin::Error) -> BusError {
        connect_failure(&gateway_core::redact_url(&self.url), &e)
    }

    /// A fresh channel in confirm mode.
    pub(crate) async fn confirm_channel(&self) -> Result<Channel, BusError> {
        let conn = self.connection().await?;
        let ch = match conn.create_channel().await {
            Ok(ch) => ch,
            Err(e) => {
                // The connection may look alive and be dead: forget it, so the next attempt
                // connects afresh instead of failing on it for ever.
                let mut cached = self.conn.lock().await;
                if cached.as_ref().is_some_and(|c| Arc::ptr_eq(c, &conn)) {
                    *cached = None;
                }
                return Err(unavailable("cannot open a channel", e));
            }
        };
        ch.confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| unavailable("cannot enable publisher confirms", e))?;
        Ok(ch)
    }

    async fn publisher_channel(&self) -> Result<Channel, BusError> {
        let mut guard = self.publisher.lock().await;
        if self.publisher_stale.swap(false, Ordering::AcqRel) {
            *guard = None;
        }
        if let Some(ch) = guard.as_ref().filter(|c| c.status().connected()) {
            return Ok(ch.clone());
        }
        let ch = self.confirm_channel().await?;
        *guard = Some(ch.clone());
        Ok(ch)
    }

    async fn publish_batch(&self, batch: &[Message]) -> Result<(), BusError> {
        let exchange = short(&names::exchange(&self.topology.namespace))?;
        let mut planned: Vec<(ShortString, _, _)> = Vec::with_capacity(batch.len());
        let history = headers::History::default();
        for m in batch {
            let key = m.envelope.routing_key();
            // A batch mostly repeats one key (one kind, one partner): match bindings once per
            // run of equal keys and reuse the name instead of re-validating it.
            let key = match planned.last() {
                Some((last, _, _)) if last.as_str() == key => last.clone(),
                _ => {
                    if self.topology.routes(&key).next().is_none() {
                        return Err(BusError::Unroutable(key));
                    }
                    short(&key)?
                }
            };
            planned.push((key, headers::properties(&m.envelope, &history), m));
        }
        let unfinished = Unfinished(&self.publisher_stale, false);
        let ch = self.publisher_channel().await?;
        let mut result = publish_confirmed_or_returned(&ch, &exchange, planned).await;
        if let Ok(returned) = &result
            && let Some((_, why)) = returned.first()
        {
            // The topology routes these keys, so their queue or binding was deleted (an
            // operator, a policy): declare it again and republish only what came back.
            tracing::error!(%why, returned = returned.len(), "queue missing; declaring the bus topology again");
            let mut retry = Vec::with_capacity(returned.len());
            for m in returned.iter().filter_map(|(i, _)| batch.get(*i)) {
                let key = short(&m.envelope.routing_key())?;
                retry.push((key, headers::properties(&m.envelope, &history), m));
            }
            result = match self.connection().await {
                Ok(conn) => match topology::declare(&conn, &self.topology).await {
                    Ok(_) => publish_confirmed(&ch, &exchange, retry)
                        .await
                        .map(|()| Vec::new()),
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            };
        }
        if matches!(result, Err(BusError::Unavailable(_))) {
            *self.publisher.lock().await = None;
        }
        unfinished.done();
        result.map(|_| ())
    }
}

/// Sends every message, then awaits every confirm; fails if any was nacked or returned.
///
/// The sends are pipelined: every `basic.publish` is handed to lapin's writer before any of
/// them is awaited. Awaiting each one before building the next (what a naive loop does) costs
/// a wake-up of the writer task and a round trip through the scheduler per message, which on a
/// busy host was a large share of the publish time. Order is kept: the futures are first polled
/// in batch order, and that first poll is what numbers the message and queues its frames.
pub(crate) async fn publish_confirmed(
    ch: &Channel,
    exchange: &ShortString,
    planned: Vec<(ShortString, BasicProperties, &Message)>,
) -> Result<(), BusError> {
    let returned = publish_confirmed_or_returned(ch, exchange, planned).await?;
    match returned.first() {
        Some((_, why)) => Err(BusError::Unroutable(why.clone())),
        None => Ok(()),
    }
}

/// Like [`publish_confirmed`], but a message the broker returned (no queue took it) is not
/// an error: its index in `planned` and the broker's words come back, so a caller can
/// republish exactly those once their queue exists again, and nothing else twice.
pub(crate) async fn publish_confirmed_or_returned(
    ch: &Channel,
    exchange: &ShortString,
    planned: Vec<(ShortString, BasicProperties, &Message)>,
) -> Result<Vec<(usize, String)>, BusError> {
    let options = BasicPublishOptions {
        mandatory: true,
        ..Default::default()
    };
    let sends = planned.into_iter().map(|(key, props, m)| async move {
        ch.basic_publish(exchange.clone(), key.clone(), options, &m.body, props)
            .await
            .map(|confirm| (key, confirm))
            .map_err(|e| unavailable("publish failed", e))
    });
    let confirms = futures::future::try_join_all(sends).await?;
    let mut returned_ones = Vec::new();
    for (i, (key, confirm)) in confirms.into_iter().enumerate() {
        let confirmation = confirm
            .await
            .map_err(|e| unavailable("lost the publisher confirm", e))?;
        if confirmation.is_nack() {
            return Err(BusError::NotConfirmed(format!(
                "broker nacked the message for {key}"
            )));
        }
        if let Some(returned) = confirmation.take_message() {
            returned_ones.push((
                i,
                format!(
                    "{key} (broker returned it: {} {})",
                    returned.reply_code, returned.reply_text
                ),
            ));
        }
    }
    Ok(returned_ones)
}

impl Broker for RabbitBroker {
    fn publish<'a>(&'a self, batch: &'a [Message]) -> BoxFuture<'a, Result<(), BusError>> {
        self.publish_batch(batch).boxed()
    }

    fn consume<'a>(
        &'a self,
        consumer: &'a str,
        handler: Arc<dyn Handler>,
        stop: Stop,
    ) -> BoxFuture<'a, Result<(), BusError>> {
        consume::run(self, consumer, handler, stop).boxed()
    }

    fn dead_letters<'a>(
        &'a self,
        consumer: &'a str,
        filter: &'a DeadFilter,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<DeadLetter>, BusError>> {
        admin::dead_letters(self, consumer, filter, limit).boxed()
    }

    fn replay<'a>(
        &'a self,
        consumer: &'a str,
        filter: &'a DeadFilter,
    ) -> BoxFuture<'a, Result<usize, BusError>> {
        admin::replay(self, consumer, filter).boxed()
    }

    fn purge<'a>(
        &'a self,
        consumer: &'a str,
        filter: &'a DeadFilter,
    ) -> BoxFuture<'a, Result<Vec<Option<String>>, BusError>> {
        admin::purge(self, consumer, filter).boxed()
    }

    fn depth<'a>(&'a self, consumer: &'a str) -> BoxFuture<'a, Result<QueueDepth, BusError>> {
        admin::depth(self, consumer).boxed()
    }

    fn ready(&self) -> BoxFuture<'_, Result<(), BusError>> {
        async move { self.connection().await.map(|_| ()) }.boxed()
    }
}
