//! Mapping transaction sets on several cores, handing the results on in source order.
//!
//! Tokenizing and walking the envelopes is sequential (control numbers, counts and delimiters
//! depend on everything before), but once a set is complete its mapping depends only on its
//! own segments and its group's facts. So the walker's thread copies each complete set
//! ([`OwnedSet`], about as many bytes as the set) into a batch, and worker threads map the
//! batches. The caller's thread maps a batch itself when every worker is busy, so no core
//! waits while there is work. Every item (a batch of sets, or a reject the walker found between
//! sets) takes a sequence number when it is found, and [`Ordered`] hands items on only in that
//! order: the output is exactly the sequential decoder's, item for item.
//!
//! Memory stays bounded: at most `2 × workers` batches wait for a worker, one is mapped per
//! thread, and at most `2 × threads` batches of results wait for an earlier one (past that the
//! caller's thread waits for a worker instead of mapping more). Workers start after the first
//! full batch, so a small input (an HTTP post of one invoice) starts no thread.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use gateway_core::{DecodedDocument, Reject};

use crate::codec::{
    Emit, GroupMeta, Level, SetsSeen, emit_set, group_end_items, interchange_end_items,
};
use crate::envelope::{
    EnvelopeIssue, Group, Interchange, SetContext, SetHeader, SetIssue, SetPlace, Visitor,
};
use crate::tokenizer::{Delimiters, Segment};

/// How many threads decode one input, and how many sets go to a worker at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parallelism {
    /// Threads mapping sets, the caller's included; 1 decodes on the caller's thread only.
    pub threads: usize,
    /// Sets per batch handed to a worker. Larger batches cost less in hand-offs and hold more
    /// memory; no worker starts before the first batch is full.
    pub batch: usize,
}

/// Most threads [`Parallelism::cores`] gives one decode: mapping scales until the walker's
/// thread, which tokenizes, checks envelopes and copies sets for all of them, is the bottleneck.
const MAX_CORES: usize = 4;

/// Sets per batch: enough that hand-offs cost little against mapping, few enough that a
/// small input starts no thread.
const BATCH: usize = 32;

impl Default for Parallelism {
    /// Sequential: a library decodes on the caller's thread unless asked otherwise.
    fn default() -> Self {
        Self::sequential()
    }
}

impl Parallelism {
    /// Everything on the caller's thread.
    pub fn sequential() -> Self {
        Parallelism {
            threads: 1,
            batch: BATCH,
        }
    }

    /// The machine's cores, at most four. Pays when the allocator frees across threads
    /// cheaply (mimalloc, which the `gateway` binary ships; with glibc's malloc, freeing on the
    /// caller's thread what a worker allocated contends on the worker's arena and decoding was
    /// slower than on one thread) and the consumer does little per document (kept in memory:
    /// 1.4× on two cores; serialised on the caller's thread: up to 1.15×). See BENCHMARKS.md.
    pub fn cores() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Parallelism {
            threads: cores.clamp(1, MAX_CORES),
            batch: BATCH,
        }
    }
}

/// Where one segment of an [`OwnedSet`] is, and the facts of the original [`Segment`].
#[derive(Debug)]
struct SegmentCopy {
    raw: Range<usize>,
    /// The tokenizer knew the segment as UTF-8 text.
    text: bool,
    charset: gateway_model::charset::Charset,
    delimiters: Delimiters,
    line: u32,
    ordinal: u64,
    offset: usize,
    end: usize,
}

/// A complete transaction set copied out of the input, so it can be mapped after the input's
/// buffer has moved on (streaming) and on another thread.
#[derive(Debug)]
struct OwnedSet {
    bytes: Vec<u8>,
    segments: Vec<SegmentCopy>,
}

impl OwnedSet {
    fn copy(segments: &[Segment<'_>]) -> Self {
        let len = segments.iter().map(|s| s.raw.len()).sum();
        let mut bytes = Vec::with_capacity(len);
        let mut copies = Vec::with_capacity(segments.len());
        for s in segments {
            let start = bytes.len();
            bytes.extend_from_slice(s.raw);
            copies.push(SegmentCopy {
                raw: start..bytes.len(),
                text: s.text.is_some(),
                charset: s.charset,
                delimiters: s.delimiters,
                line: s.line,
                ordinal: s.ordinal,
                offset: s.offset,
                end: s.end,
            });
        }
        OwnedSet {
            bytes,
            segments: copies,
        }
    }

    /// The segments again, borrowing the copy; text where the tokenizer had it.
    fn segments(&self) -> Vec<Segment<'_>> {
        // Segments the tokenizer knew as text are whole UTF-8 strings, so their concatenation
        // is too and one validation covers them all; otherwise each is validated alone.
        let whole = std::str::from_utf8(&self.bytes).ok();
        self.segments
            .iter()
            .map(|c| {
                let raw = self.bytes.get(c.raw.clone()).unwrap_or_default();
                let text = if c.text {
                    whole
                        .and_then(|w| w.get(c.raw.clone()))
                        .or_else(|| std::str::from_utf8(raw).ok())
                } else {
                    None
                };
                Segment {
                    raw,
                    delimiters: c.delimiters,
                    line: c.line,
                    ordinal: c.ordinal,
                    offset: c.offset,
                    end: c.end,
                    text,
                    charset: c.charset,
                }
            })
            .collect()
    }
}

/// One set to map: its copy, its header and envelope problems, and its group's shared facts.
#[derive(Debug)]
struct Job {
    set: OwnedSet,
    header: SetHeader,
    issues: Vec<SetIssue>,
    group: Arc<GroupMeta>,
}

/// What a batch carries, in source order: sets to map, rejects the walker found between
/// them, and the ends of envelopes with their trailers' notes (so they keep their place
/// without cutting the batch short).
#[derive(Debug)]
enum Work {
    Set(Box<Job>),
    Found(Reject),
    End(Level, Vec<String>),
}

/// What a batch hands on, in source order: a mapped set (documents are boxed on the worker,
/// so the hand-off and a streaming sink move a pointer, not the document), a reject, or the
/// end of an envelope ([`Emit::envelope_end`]).
#[derive(Debug)]
enum Item {
    Document(Box<DecodedDocument>),
    Reject(Reject),
    End(Level, Vec<String>),
}

/// A batch with its sequence number, on its way to a worker.
type Batch = (u64, Vec<Work>);
/// A batch's items with its sequence number, on their way back.
type Mapped = (u64, Vec<Item>);

/// Maps one set; a panic in the mapping (a bug) rejects that set instead of losing the batch.
/// A sound 997/999 gives nothing, as on one thread.
fn map_job(job: Job) -> Option<Item> {
    let Job {
        set,
        header,
        issues,
        group,
    } = job;
    let place = group.place(&header);
    let mut one = One(None);
    let mapped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        emit_set(&group, &header, &set.segments(), issues, &mut one);
    }));
    match (mapped, one.0) {
        (Ok(()), Some(item)) => Some(item),
        (Ok(()), None) if crate::received::is_acknowledgment(&place.header.id) => None,
        _ => Some(Item::Reject(internal_reject(&place))),
    }
}

/// The item one set became, boxed where it is made.
struct One(Option<Item>);

impl Emit for One {
    fn document(&mut self, d: DecodedDocument) {
        self.0 = Some(Item::Document(Box::new(d)));
    }
    fn reject(&mut self, r: Reject) {
        self.0 = Some(Item::Reject(r));
    }
    fn envelope_end(&mut self, _: Level, _: Vec<String>) {
        // One set is mapped here; envelopes end on the walker's thread ([`Found`]).
    }
}

fn internal_reject(place: &SetPlace<'_>) -> Reject {
    Reject {
        location: format!("line {}, {}", place.header.line, place.describe()),
        message: "transaction set not decoded: the X12 mapping failed on it (a bug in the \
                  gateway; report it with this set, and decode the set again after the fix)"
            .into(),
        document: Some(format!(
            "{} {}",
            place.header.id,
            place.header.control.trim()
        )),
    }
}

fn map_batch(work: Vec<Work>) -> Vec<Item> {
    work.into_iter()
        .filter_map(|w| match w {
            Work::Set(job) => map_job(*job),
            Work::Found(r) => Some(Item::Reject(r)),
            Work::End(level, notes) => Some(Item::End(level, notes)),
        })
        .collect()
}

/// The walker's rejects between sets, into the open batch.
struct Found<'b>(&'b mut Vec<Work>);

impl Emit for Found<'_> {
    fn document(&mut self, _: DecodedDocument) {
        // The walker hands on rejects only; documents come from mapping sets.
    }
    fn reject(&mut self, r: Reject) {
        self.0.push(Work::Found(r));
    }
    fn envelope_end(&mut self, level: Level, notes: Vec<String>) {
        self.0.push(Work::End(level, notes));
    }
}

/// Hands items on in the order their sequence numbers were taken.
struct Ordered<'e> {
    sink: &'e mut dyn Emit,
    /// Sequence numbers taken so far.
    taken: u64,
    /// The next sequence number to hand on.
    next: u64,
    waiting: BTreeMap<u64, Vec<Item>>,
}

impl Ordered<'_> {
    fn take(&mut self) -> u64 {
        let seq = self.taken;
        self.taken += 1;
        seq
    }

    /// The items of `seq` are ready: hand on everything that no earlier item holds back.
    fn fill(&mut self, seq: u64, items: Vec<Item>) {
        self.waiting.insert(seq, items);
        while let Some(items) = self.waiting.remove(&self.next) {
            for item in items {
                match item {
                    Item::Document(d) => self.sink.boxed_document(d),
                    Item::Reject(r) => self.sink.reject(r),
                    Item::End(level, notes) => self.sink.envelope_end(level, notes),
                }
            }
            self.next += 1;
        }
    }

    fn complete(&self) -> bool {
        self.next == self.taken
    }
}

/// The walker's visitor when sets are mapped on several threads. Call
/// [`ParallelSink::finish`] after the last walk: items still in flight are handed on there.
pub(crate) struct ParallelSink<'e> {
    out: Ordered<'e>,
    par: Parallelism,
    batch: Vec<Work>,
    /// Sets in the open batch.
    sets: usize,
    group: Option<Arc<GroupMeta>>,
    /// Sets seen in the open group and interchange, for how a rejected one is reported.
    seen: SetsSeen,
    jobs: Option<SyncSender<Batch>>,
    /// The queue's receiving end until the workers start; then only they hold it, so the
    /// queue closes if they all stop and nothing waits on it in vain.
    job_queue: Option<Receiver<Batch>>,
    results_tx: Option<Sender<Mapped>>,
    results: Receiver<Mapped>,
    workers: Vec<JoinHandle<()>>,
}

impl<'e> ParallelSink<'e> {
    pub(crate) fn new(sink: &'e mut dyn Emit, par: Parallelism) -> Self {
        let workers = par.threads.saturating_sub(1).max(1);
        let (jobs, job_queue) = mpsc::sync_channel(2 * workers);
        let (results_tx, results) = mpsc::channel();
        ParallelSink {
            out: Ordered {
                sink,
                taken: 0,
                next: 0,
                waiting: BTreeMap::new(),
            },
            par: Parallelism {
                threads: par.threads,
                batch: par.batch.max(1),
            },
            batch: Vec::new(),
            sets: 0,
            group: None,
            seen: SetsSeen::default(),
            jobs: Some(jobs),
            job_queue: Some(job_queue),
            results_tx: Some(results_tx),
            results,
            workers: Vec::new(),
        }
    }

    /// Starts the workers (once: they take the queue's receiving end). A thread the system
    /// refuses is simply not there: the caller's thread maps what no worker takes.
    fn start(&mut self) {
        let Some(queue) = self.job_queue.take() else {
            return;
        };
        let queue = Arc::new(Mutex::new(queue));
        for k in 1..self.par.threads {
            let (Some(results), queue) = (self.results_tx.clone(), Arc::clone(&queue)) else {
                return;
            };
            let spawned = std::thread::Builder::new()
                .name(format!("x12-map-{k}"))
                .spawn(move || work(&queue, &results));
            if let Ok(handle) = spawned {
                self.workers.push(handle);
            }
        }
    }

    /// A batch is full at `batch` sets, or at four times as many items of any kind (an input
    /// of stray segments and no sets must not pile up rejects).
    fn flush_when_full(&mut self) {
        if self.sets >= self.par.batch || self.batch.len() >= 4 * self.par.batch {
            self.flush();
        }
    }

    /// Hands the open batch to a worker, or maps it here when every worker is busy.
    fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        self.start();
        let jobs = std::mem::take(&mut self.batch);
        self.sets = 0;
        let seq = self.out.take();
        let batch = (seq, jobs);
        let here = match (&self.jobs, self.workers.is_empty()) {
            (Some(tx), false) => match tx.try_send(batch) {
                Ok(()) => None,
                // Every worker is busy and the results held back for an earlier batch are at
                // their bound: wait for a worker rather than map (and hold) more here.
                Err(TrySendError::Full(batch))
                    if self.out.waiting.len() >= 2 * self.par.threads =>
                {
                    tx.send(batch).err().map(|refused| refused.0)
                }
                Err(TrySendError::Full(batch) | TrySendError::Disconnected(batch)) => Some(batch),
            },
            _ => Some(batch),
        };
        if let Some((seq, jobs)) = here {
            let items = map_batch(jobs);
            self.out.fill(seq, items);
        }
        self.collect();
    }

    /// Takes the results that are in, without waiting.
    fn collect(&mut self) {
        while let Ok((seq, items)) = self.results.try_recv() {
            self.out.fill(seq, items);
        }
    }

    /// Maps what is left, waits for the workers and hands on every item still held.
    pub(crate) fn finish(mut self) {
        self.flush();
        self.jobs = None;
        self.results_tx = None;
        while !self.out.complete() {
            match self.results.recv() {
                Ok((seq, items)) => self.out.fill(seq, items),
                Err(_) => break,
            }
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
        // Every worker has stopped: a batch still missing was lost with its thread. Say so
        // rather than end short.
        while !self.out.complete() {
            let seq = self.out.next;
            self.out.fill(
                seq,
                vec![Item::Reject(Reject::new(
                    "x12 decoder".to_string(),
                    "a batch of transaction sets was lost by a decoding thread: decode the \
                     input again"
                        .to_string(),
                ))],
            );
        }
    }
}

/// A worker: maps batches until the queue closes or nobody takes results.
fn work(queue: &Mutex<Receiver<Batch>>, results: &Sender<Mapped>) {
    loop {
        let next = match queue.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok((seq, jobs)) = next else {
            return;
        };
        if results.send((seq, map_batch(jobs))).is_err() {
            return;
        }
    }
}

impl std::fmt::Debug for ParallelSink<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParallelSink")
            .field("par", &self.par)
            .field("workers", &self.workers.len())
            .finish_non_exhaustive()
    }
}

impl<'a> Visitor<'a> for ParallelSink<'_> {
    fn set(&mut self, cx: &SetContext<'_>, segments: &[Segment<'a>], issues: Vec<SetIssue>) {
        self.seen.set();
        let group = match self.group.take() {
            Some(g) if g.fits(cx) => g,
            _ => Arc::new(GroupMeta::of(cx)),
        };
        self.group = Some(Arc::clone(&group));
        self.batch.push(Work::Set(Box::new(Job {
            set: OwnedSet::copy(segments),
            header: cx.header.clone(),
            issues,
            group,
        })));
        self.sets += 1;
        self.flush_when_full();
    }

    fn group_end(&mut self, isa: Option<&Interchange>, group: &Group, issues: Vec<EnvelopeIssue>) {
        self.group = None;
        let sets = self.seen.group_end();
        group_end_items(&mut Found(&mut self.batch), isa, group, issues, sets);
        self.flush_when_full();
    }

    fn interchange_end(&mut self, isa: &Interchange) {
        self.group = None;
        let sets = self.seen.interchange_end();
        interchange_end_items(&mut Found(&mut self.batch), isa, sets);
        self.flush_when_full();
    }

    fn stray(
        &mut self,
        location: String,
        message: String,
        _: Option<&'static str>,
        _: Option<usize>,
    ) {
        self.batch.push(Work::Found(Reject::new(location, message)));
        self.flush_when_full();
    }
}
