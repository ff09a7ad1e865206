//! Long files in the file drop (QA 14a items 2 and 5): canonical JSON documents are keyed by
//! their content, so a JSON file dropped twice, or resumed after a crash, is not taken twice
//! and settles the rows its first run left; X12 and JSON Lines are published in batches as
//! they are read, each confirmed, not held whole. Driven one poll at a time on real folders
//! and the embedded bus; a crash is the poll's future dropped while the bus holds a publish
//! unanswered (what `kill -9` leaves: the batch's rows claimed, the file in `processing/`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::future::BoxFuture;
use gateway_core::{Broker, BusError, DeadFilter, DeadLetter, Handler, Message, QueueDepth, Stop};
use gateway_server::config::{Config, FileDropConfig};
use gateway_server::filedrop::{FileDrop, PollSummary};
use gateway_server::ledger::{DocumentFilter, Entry, Ledger};
use gateway_server::pipeline::{STREAM_BATCH, STREAM_FROM_BYTES};

mod common;

/// Partner `acme` (X12 ZZ:ACMESUPPLY), as the sample 810 names its sender.
fn config(dir: &Path) -> Config {
    common::config_on(
        dir,
        common::NO_COUPA,
        r#"[[partners]]
id = "acme"
[partners.x12]
partner_qualifier = "ZZ"
partner_id = "ACMESUPPLY"
our_qualifier = "ZZ"
our_id = "GLOBEXCORP"
"#,
    )
}

/// The real bus, whose publishes after the first `pass` ones never answer (a broker that
/// stopped confirming while the gateway is killed); counts every publish and its messages.
struct Stalling {
    inner: Arc<dyn Broker>,
    pass: usize,
    publishes: AtomicUsize,
    stalled: tokio::sync::Notify,
}

impl Stalling {
    /// Around `inner`, passing its first `pass` publishes.
    fn around(inner: &Arc<dyn Broker>, pass: usize) -> Arc<Self> {
        Arc::new(Stalling {
            inner: Arc::clone(inner),
            pass,
            publishes: AtomicUsize::new(0),
            stalled: tokio::sync::Notify::new(),
        })
    }
}

impl Broker for Stalling {
    fn publish<'a>(&'a self, batch: &'a [Message]) -> BoxFuture<'a, Result<(), BusError>> {
        let n = self.publishes.fetch_add(1, Ordering::SeqCst);
        if n < self.pass {
            return self.inner.publish(batch);
        }
        self.stalled.notify_one();
        Box::pin(futures::future::pending())
    }
    fn consume<'a>(
        &'a self,
        consumer: &'a str,
        handler: Arc<dyn Handler>,
        stop: Stop,
    ) -> BoxFuture<'a, Result<(), BusError>> {
        self.inner.consume(consumer, handler, stop)
    }
    fn dead_letters<'a>(
        &'a self,
        consumer: &'a str,
        filter: &'a DeadFilter,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<DeadLetter>, BusError>> {
        self.inner.dead_letters(consumer, filter, limit)
    }
    fn replay<'a>(
        &'a self,
        consumer: &'a str,
        filter: &'a DeadFilter,
    ) -> BoxFuture<'a, Result<usize, BusError>> {
        self.inner.replay(consumer, filter)
    }
    fn purge<'a>(
        &'a self,
        consumer: &'a str,
        filter: &'a DeadFilter,
    ) -> BoxFuture<'a, Result<Vec<Option<String>>, BusError>> {
        self.inner.purge(consumer, filter)
    }
    fn depth<'a>(&'a self, consumer: &'a str) -> BoxFuture<'a, Result<QueueDepth, BusError>> {
        self.inner.depth(consumer)
    }
    fn ready(&self) -> BoxFuture<'_, Result<(), BusError>> {
        self.inner.ready()
    }
}

struct Env {
    dir: tempfile::TempDir,
    config: Config,
    ledger: Arc<Ledger>,
    bus: Arc<dyn Broker>,
}

impl Env {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let (bus, ledger) = common::bus_and_ledger(&config).await;
        Env {
            dir,
            config,
            ledger,
            bus,
        }
    }

    /// A file drop (a gateway process) publishing through `bus`, polled by the test.
    fn drop_on(&self, bus: Arc<dyn Broker>) -> FileDrop {
        let root = self.dir.path().join("sftp");
        let drop_config: FileDropConfig =
            toml::from_str(&format!("root = \"{}\"\nmin_age_ms = 0", root.display())).unwrap();
        let pipeline = Arc::new(common::pipeline(&self.config, &self.ledger, bus));
        let drop = FileDrop::new(drop_config, pipeline).with_acknowledger(
            gateway_core::Format::X12,
            Arc::new(|_: &[u8], _: &gateway_core::PartnerProfile| Some(b"997".to_vec())),
        );
        drop.prepare().unwrap();
        drop
    }

    fn rows(&self, status: Option<&str>) -> Vec<Entry> {
        self.ledger
            .search(&DocumentFilter {
                partner: Some("acme"),
                status,
                limit: 100_000,
                ..Default::default()
            })
            .unwrap()
    }
}

/// Puts a file in `Incoming` as an upload under a temporary name ends.
fn put(drop: &FileDrop, name: &str, bytes: &[u8]) {
    let incoming = drop.incoming("acme");
    let tmp = incoming.join(format!(".{name}.part"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, incoming.join(name)).unwrap();
}

/// [`put`] of a file large enough to be streamed.
fn put_streamed(drop: &FileDrop, name: &str, text: &str) {
    assert!(
        text.len() >= STREAM_FROM_BYTES,
        "large enough to be streamed"
    );
    put(drop, name, text.as_bytes());
}

/// Two polls: the file is seen, then taken.
async fn take(drop: &mut FileDrop) -> PollSummary {
    let mut summary = drop.poll().await;
    let second = drop.poll().await;
    summary.documents += second.documents;
    summary.duplicates += second.duplicates;
    summary.archived.extend(second.archived);
    summary.errored.extend(second.errored);
    summary
}

fn sample(path: &str) -> String {
    std::fs::read_to_string(gateway_core::testkit::repo_root().join(path)).unwrap()
}

/// `n` canonical invoices JSON-INV-1..n (the sample 810's canonical form), one per line.
fn json_lines(n: usize) -> String {
    let mut doc: serde_json::Value =
        serde_json::from_str(&sample("samples/x12/invoice/rich.canonical.json")).unwrap();
    let mut out = String::new();
    for k in 1..=n {
        doc["invoice_number"] = serde_json::Value::String(format!("JSON-INV-{k}"));
        out.push_str(&serde_json::to_string(&doc).unwrap());
        out.push('\n');
    }
    out
}

/// The sample 810 from ZZ:ACMESUPPLY as `n` sets (invoices X12-INV-1..n) in one group.
fn x12_sets(n: usize) -> String {
    let edi = sample("samples/x12/invoice/rich.edi");
    let (envelope, rest) = edi.split_once("ST*810*0001~").unwrap();
    let (set_body, _) = rest.split_once("GE*1*42~").unwrap();
    let mut out = envelope.to_string();
    for k in 1..=n {
        let control = format!("{k:04}");
        out.push_str(
            &format!("ST*810*{control}~{set_body}")
                .replace("SE*34*0001~", &format!("SE*34*{control}~"))
                .replace("INV-2026-0042", &format!("X12-INV-{k}")),
        );
    }
    out.push_str(&format!("GE*{n}*42~\nIEA*1*000000042~\n"));
    out
}

/// QA: `cp jh.jsonl Incoming/; cp jh.jsonl Incoming/jh-again.jsonl` gave every document two
/// rows, both delivered (Coupa's duplicate guard caught the second): JSON documents had
/// random keys. The copy's documents are received before now, and the ledger has one row
/// each.
#[tokio::test]
async fn a_json_file_dropped_twice_is_taken_once() {
    let env = Env::new().await;
    let mut drop = env.drop_on(Arc::clone(&env.bus));
    let file = json_lines(5);
    put(&drop, "jh.jsonl", file.as_bytes());
    let first = take(&mut drop).await;
    assert_eq!((first.documents, first.duplicates), (5, 0), "{first:?}");
    put(&drop, "jh-again.jsonl", file.as_bytes());
    let again = take(&mut drop).await;
    assert_eq!((again.documents, again.duplicates), (0, 5), "{again:?}");
    assert_eq!(again.archived.len(), 1, "{again:?}");
    assert_eq!(env.rows(None).len(), 5);
}

/// QA: `kill -9` during a 40,000-line JSON drop; the resumed file put everything on the bus
/// and the first run's 13,378 rows stayed `interrupted` ("send it again"). Here the first run
/// stops with one batch confirmed and the next claimed but unconfirmed; the restart marks
/// those rows `interrupted` as `gateway serve` does, and the resumed file takes them over:
/// every document has one row, none is left `interrupted`, and the confirmed batch is not
/// published again.
#[tokio::test]
async fn a_json_drop_resumed_after_a_crash_settles_the_first_runs_rows() {
    let env = Env::new().await;
    let n = STREAM_BATCH * 2 + STREAM_BATCH / 2;
    let stalling = Stalling::around(&env.bus, 1);
    let mut first = env.drop_on(stalling.clone());
    let lines = json_lines(n);
    put_streamed(&first, "big.jsonl", &lines);
    first.poll().await; // seen
    tokio::select! {
        _ = first.poll() => panic!("the file was taken without a second publish: not in batches"),
        () = stalling.stalled.notified() => {}
    }
    drop(first); // the process is gone
    assert_eq!(env.rows(Some("published")).len(), STREAM_BATCH);
    assert_eq!(env.rows(Some("received")).len(), STREAM_BATCH);
    assert_eq!(env.ledger.interrupt_unconfirmed().unwrap(), STREAM_BATCH);

    let mut resumed = env.drop_on(Arc::clone(&env.bus));
    let summary = resumed.poll().await; // processing/ first
    assert_eq!(summary.archived.len(), 1, "{summary:?}");
    assert_eq!(
        (summary.documents, summary.duplicates),
        (n - STREAM_BATCH, STREAM_BATCH),
        "{summary:?}"
    );
    assert!(env.rows(Some("interrupted")).is_empty());
    let rows = env.rows(None);
    assert_eq!(rows.len(), n);
    let mut numbers: Vec<&str> = rows.iter().map(|e| e.number.as_str()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), n, "one row per document");
    assert!(rows.iter().all(|e| e.status == "published"));
}

/// QA: an X12 file of 100,002 sets took 625 MB in the service, every document held until one
/// publish took them all. It is published batch by batch as it is read now, each confirmed;
/// every set is taken, and the file acknowledged once.
#[tokio::test]
async fn a_long_x12_file_is_published_in_batches_as_it_is_read() {
    let env = Env::new().await;
    let n = STREAM_BATCH * 2 + 7;
    let counting = Stalling::around(&env.bus, usize::MAX);
    let mut drop = env.drop_on(counting.clone());
    let sets = x12_sets(n);
    put_streamed(&drop, "long.edi", &sets);
    let summary = take(&mut drop).await;
    assert_eq!(summary.documents, n, "{summary:?}");
    assert_eq!(summary.archived.len(), 1, "{summary:?}");
    assert_eq!(counting.publishes.load(Ordering::SeqCst), 3);
    let rows = env.rows(Some("published"));
    assert_eq!(rows.len(), n);
    let acks = std::fs::read_dir(drop.outgoing("acme")).unwrap().count();
    assert_eq!(acks, 1);
}
