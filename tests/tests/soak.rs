//! Steady load on a `gateway serve` process: round after round of invoices (a fifth each as
//! cXML, X12 810 over HTTP, REST JSON, X12 files dropped into a partner's folder and mails with
//! an X12 attachment delivered into the Maildir) until each round is in the Coupa sandbox, with the process's resident memory read after every round. A
//! service that keeps something per document (a map never pruned, a cache without a bound)
//! grows round after round; one that does not levels off once its pools and caches are warm.
//!
//! CI runs a few short rounds and asserts the reconciliation (nothing lost, nothing twice). A
//! soak (`GATEWAY_SOAK=1`, optionally `GATEWAY_SOAK_ROUNDS` and `GATEWAY_SOAK_ROUND_SIZE`) runs
//! long enough to read a trend and also asserts it: from the end of the first quarter of the
//! rounds to the last, resident memory may grow by less than [`LEAK_BYTES_PER_DOCUMENT`] per
//! document delivered. Memory is read from `/proc`; elsewhere it is reported as not measured.
//! The sandbox keeps at most 100,000 invoices, so a soak sends at most that many (50 rounds of
//! 2,000 by default; about 5 minutes on two cores with a release build, the Coupa client's rate
//! limit lifted so the gateway, not the pacing, is what runs):
//!
//! ```text
//! cargo build --release -p gateway-server --bin gateway
//! GATEWAY_SOAK=1 cargo test --release -p gateway-tests --test integration soak -- --nocapture
//! ```

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gateway_core::{Format, PartnerProfile};
use gateway_model::{Document, Invoice};
use gateway_server::codecs::Codecs;
use gateway_server::demo::{ACME, ACME_BILLING, GLOBEX, deliver_to_maildir, invoice_mail};

use crate::faults::{
    GUARD, Reconciliation, ServeChild, child_config, cxml_bytes, delete_topology, free_port,
    invoice, partner, rabbit_or_skip, scale, seeded_sandbox, soak,
};

/// The paths a round's invoices take, in turn: a fifth each.
#[derive(Debug, Clone, Copy)]
enum Inbound {
    Cxml,
    X12,
    Rest,
    /// An X12 810 file from the demo's SFTP partner (Globex), written into its `Incoming`
    /// folder through a temporary name, as an SFTP upload ends.
    FileDrop,
    /// A mail from acme's billing address with the invoice as an X12 810 attachment, delivered
    /// into the gateway's Maildir as an MTA delivers.
    Mail,
}

/// `inv` as the partner's X12 810: the interchange names the partner as its sender.
fn x12_bytes(codecs: &Codecs, partner: &PartnerProfile, inv: Invoice) -> Vec<u8> {
    let mut sender = partner.clone();
    let x12 = sender.x12.as_mut().unwrap();
    std::mem::swap(&mut x12.our_id, &mut x12.partner_id);
    std::mem::swap(&mut x12.our_qualifier, &mut x12.partner_qualifier);
    codecs
        .encoder(Format::X12)
        .unwrap()
        .encode(&[Document::Invoice(inv)], &sender)
        .unwrap()
}

/// Where files and mails are handed over: the partner's `Incoming` folder and the Maildir.
#[derive(Debug, Clone)]
struct Drops {
    incoming: std::path::PathBuf,
    maildir: std::path::PathBuf,
}

/// Posts `body` on its path until the gateway takes it over (2xx, or 409 for a cXML copy it
/// already has), at most 50 times, or drops it as a file or a mail; true when it was taken (a
/// file or mail, once written).
async fn hand_over(
    http: &reqwest::Client,
    base: &str,
    drops: &Drops,
    (number, path, body): (&str, Inbound, Vec<u8>),
) -> bool {
    for _ in 0..50 {
        let request = match path {
            Inbound::FileDrop => {
                return gateway_server::filedrop::write_atomically(
                    &drops.incoming,
                    &format!("{number}.edi"),
                    &body,
                )
                .is_ok();
            }
            Inbound::Mail => {
                return deliver_to_maildir(&drops.maildir, &format!("{number}.soak"), &body)
                    .is_ok();
            }
            Inbound::Cxml => http
                .post(format!("{base}/cxml"))
                .header("content-type", "text/xml"),
            Inbound::X12 => http
                .post(format!("{base}/x12"))
                .header("content-type", "application/edi-x12")
                .bearer_auth("acme-token"),
            Inbound::Rest => http
                .post(format!("{base}/api/v1/documents"))
                .header("content-type", "application/json")
                .bearer_auth("acme-token"),
        };
        let status = request
            .body(body.clone())
            .send()
            .await
            .map_or(0, |r| r.status().as_u16());
        if (200..300).contains(&status) || status == 409 {
            return true;
        }
        // Pacing of the sender's retry loop, not a wait for an outcome.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Growth of resident memory allowed in a soak once the first quarter of the rounds is done.
/// Resident memory is not the heap: under load mimalloc keeps pages its threads freed, and a
/// 100,000-invoice soak grew about 200 bytes per document while the live heap stayed flat
/// (heaptrack, RELIABILITY.md), then gave most of it back once idle. A document kept for good
/// (its canonical form, its message) is several kilobytes.
const LEAK_BYTES_PER_DOCUMENT: u64 = 1024;

/// Senders posting at once, as several suppliers' systems do.
const SENDERS: usize = 8;

/// A number from the environment, or `default`.
fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Resident memory of process `pid` in KiB, as its `/metrics` reports it; `None` where there
/// is no `/proc`.
fn resident_kib(pid: u32) -> Option<u64> {
    gateway_core::process_stats::read_pid(pid).map(|s| s.resident_bytes / 1024)
}

/// One reading after a round.
struct Reading {
    round: usize,
    delivered: usize,
    seconds: f64,
    resident_kib: Option<u64>,
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("not measured".into(), |k| {
        format!("{:.1} MiB", k as f64 / 1024.0)
    })
}

/// Waits (at most [`GUARD`]) until every number of `round` is in the sandbox and the invoice
/// queue is empty; returns how many of them are there, and how many more than once. Reads
/// only the sandbox's invoice numbers, so a long soak's check does not copy every invoice
/// (what [`Reconciliation::settle`] does, once, at the end).
async fn wait_for_round(
    sandbox: &gateway_sandbox::SandboxHandle,
    bus: &dyn gateway_core::Broker,
    round: &BTreeSet<String>,
) -> (usize, usize) {
    let deadline = tokio::time::Instant::now() + GUARD;
    loop {
        let mut seen: std::collections::HashMap<String, usize> = Default::default();
        for n in sandbox.invoice_numbers() {
            if round.contains(&n) {
                *seen.entry(n).or_default() += 1;
            }
        }
        let waiting = bus
            .depth(gateway_server::bus::COUPA_INVOICES)
            .await
            .map_or(1, |d| d.ready);
        if (seen.len() == round.len() && waiting == 0) || tokio::time::Instant::now() >= deadline {
            return (seen.len(), seen.values().filter(|c| **c > 1).count());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn steady_load_on_a_serve_process_loses_nothing_and_its_memory_levels_off() {
    if !rabbit_or_skip("soak") {
        return;
    }
    let rounds = env_number("GATEWAY_SOAK_ROUNDS", scale(5, 50)).max(1);
    let round_size = env_number("GATEWAY_SOAK_ROUND_SIZE", scale(100, 2000)).max(1);
    // The sandbox refuses invoices past its bound (a 400 the gateway dead-letters, as it should).
    assert!(
        rounds * round_size <= gateway_sandbox::store::MAX_RECORDS,
        "{rounds} rounds of {round_size} is more invoices than the sandbox keeps ({})",
        gateway_sandbox::store::MAX_RECORDS
    );
    let dir = tempfile::tempdir().unwrap();
    let sandbox = seeded_sandbox().await;
    let port = free_port();
    let (path, config) = child_config(dir.path(), &sandbox, port);
    // Coupa's own limit (25 requests/s, about eight invoices) would make this a test of the
    // client's pacing; the sandbox takes more, so more documents pass through per minute.
    let text = std::fs::read_to_string(&path).unwrap();
    let lifted = text.replace(
        "token_activation_ms = 0\n",
        "token_activation_ms = 0\nrate_per_sec = 1000\nburst = 200\n",
    );
    assert_ne!(
        lifted, text,
        "the demo config no longer sets token_activation_ms"
    );
    std::fs::write(&path, lifted).unwrap();
    let log = dir.path().join("serve.log");
    let mut child = ServeChild::start(&path, port, &log).await;
    let pid = child.child.id();
    let bus = gateway_server::bus::open(&config.bus, gateway_server::bus::Role::Operator)
        .await
        .unwrap();
    let codecs = Codecs::standard();
    let acme = partner(&config, ACME);
    let globex = partner(&config, GLOBEX);
    let drops = Drops {
        incoming: dir.path().join("sftp").join(GLOBEX).join("Incoming"),
        maildir: config
            .mailbox
            .as_ref()
            .and_then(|m| m.maildir.clone())
            .expect("the demo configuration has a Maildir"),
    };
    let base = child.base.clone();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();

    let started = Instant::now();
    let mut readings = vec![Reading {
        round: 0,
        delivered: 0,
        seconds: 0.0,
        resident_kib: resident_kib(pid),
    }];
    let mut rec = Reconciliation::new("steady load on a gateway serve process, memory per round");
    for round in 1..=rounds {
        let queue: Vec<(String, Inbound, Vec<u8>)> = (0..round_size)
            .map(|i| {
                let number = format!("SOAK-{round:04}-{i:05}");
                let inv = invoice(&number);
                let (path, body) = match i % 5 {
                    0 => (Inbound::Cxml, cxml_bytes(&codecs, &acme, &inv)),
                    1 => (Inbound::X12, x12_bytes(&codecs, &acme, inv)),
                    2 => (Inbound::FileDrop, x12_bytes(&codecs, &globex, inv)),
                    3 => (
                        Inbound::Mail,
                        invoice_mail(
                            ACME_BILLING,
                            &number,
                            (
                                &format!("{number}.edi"),
                                "application/EDI-X12",
                                x12_bytes(&codecs, &acme, inv),
                            ),
                            None,
                        )
                        .unwrap(),
                    ),
                    _ => (
                        Inbound::Rest,
                        gateway_model::to_json(&Document::Invoice(inv)).into_bytes(),
                    ),
                };
                (number, path, body)
            })
            .collect();
        let queue = Arc::new(Mutex::new(queue));
        let accepted = Arc::new(Mutex::new(BTreeSet::new()));
        let mut senders = tokio::task::JoinSet::new();
        for _ in 0..SENDERS {
            let (queue, accepted, base, http, drops) = (
                queue.clone(),
                accepted.clone(),
                base.clone(),
                http.clone(),
                drops.clone(),
            );
            senders.spawn(async move {
                loop {
                    let Some((number, path, body)) = queue.lock().unwrap().pop() else {
                        return;
                    };
                    if hand_over(&http, &base, &drops, (&number, path, body)).await {
                        accepted.lock().unwrap().insert(number);
                    }
                }
            });
        }
        while let Some(r) = senders.join_next().await {
            r.unwrap();
        }
        let accepted = std::mem::take(&mut *accepted.lock().unwrap());
        rec.sent += round_size;
        let (delivered, doubled) = wait_for_round(&sandbox, bus.as_ref(), &accepted).await;
        rec.accepted.extend(accepted);
        let reading = Reading {
            round,
            delivered: readings.last().map_or(0, |r| r.delivered) + delivered,
            seconds: started.elapsed().as_secs_f64(),
            resident_kib: resident_kib(pid),
        };
        eprintln!(
            "soak round {round}/{rounds}: {} delivered, {:.1} s, resident {}",
            reading.delivered,
            reading.seconds,
            mib(reading.resident_kib)
        );
        readings.push(reading);
        if delivered < round_size || doubled > 0 {
            // The reconciliation below says which, and fails.
            break;
        }
    }
    rec.settle(&sandbox, bus.as_ref(), GUARD).await;
    for r in &readings {
        rec.notes.push(format!(
            "round {:>4}: {:>7} delivered, {:>7.1} s, resident {}",
            r.round,
            r.delivered,
            r.seconds,
            mib(r.resident_kib)
        ));
    }
    let quarter = readings.get(rounds.div_ceil(4));
    let growth = match (quarter, readings.last()) {
        (
            Some(Reading {
                delivered: d0,
                resident_kib: Some(m0),
                ..
            }),
            Some(Reading {
                delivered: d1,
                resident_kib: Some(m1),
                ..
            }),
        ) if d1 > d0 => Some((m1.saturating_sub(*m0) * 1024) / (d1 - d0) as u64),
        _ => None,
    };
    if let Some(per_doc) = growth {
        rec.notes.push(format!(
            "growth after the first quarter: {per_doc} bytes per document delivered"
        ));
    }
    rec.print_and_assert();
    assert_eq!(rec.delivered_once, rec.sent, "{rec}");
    assert!(rec.dead.is_empty(), "{rec}");
    // A trend needs rounds past the warm-up (pools, caches, the allocator's pages).
    if soak()
        && rounds >= 8
        && let Some(per_doc) = growth
    {
        assert!(
            per_doc < LEAK_BYTES_PER_DOCUMENT,
            "resident memory grew by {per_doc} bytes per document after the first quarter: {rec}"
        );
    }
    child.terminate();
    delete_topology(&config).await;
    sandbox.shutdown().await.unwrap();
}
