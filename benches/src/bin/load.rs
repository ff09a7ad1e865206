//! `load`: drives a whole gateway (started in-process with the Coupa sandbox, like
//! `gateway demo`) with N generated invoices over one inbound path, and reports throughput,
//! the sender's answer latency, receipt-to-Coupa latency, and a reconciliation
//! (sent = delivered + dead-lettered, duplicates = 0).
//!
//! Examples:
//!   cargo run --release -p gateway-benches --bin load -- --path rest --count 2000 --concurrency 32
//!   cargo run --release -p gateway-benches --bin load -- --path cxml --count 5000 \
//!       --amqp amqp://guest:guest@127.0.0.1:5672/%2f
//!   cargo run --release -p gateway-benches --bin load -- --path x12 --rate 500 --count 5000
//!   cargo run --release -p gateway-benches --bin load -- --path file-drop --count 2000

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use gateway_core::{Encode, Format};
use gateway_model::Document;
use gateway_server::demo::{ACME, DemoEnv, DemoOptions, GLOBEX};
use tokio::sync::Semaphore;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Path {
    Rest,
    Cxml,
    X12,
    /// X12 810 files written into the `globex` partner's file-drop `Incoming` folder (as an
    /// SFTP upload ends: temporary name, then rename); the "answer" is the write itself.
    FileDrop,
}

/// Load generator for a complete gateway.
#[derive(Debug, Parser)]
#[command(
    after_help = "Example:\n  cargo run --release -p gateway-benches --bin load -- --path cxml --count 2000 --concurrency 32"
)]
struct Args {
    #[arg(long, value_enum, default_value = "rest")]
    path: Path,
    /// Documents to send.
    #[arg(long, default_value_t = 1000)]
    count: usize,
    /// Requests in flight.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Documents per second (0 = as fast as possible).
    #[arg(long, default_value_t = 0)]
    rate: u32,
    /// RabbitMQ URL; absent = the embedded bus.
    #[arg(long)]
    amqp: Option<String>,
    /// Seconds to wait for every delivery after the last send.
    #[arg(long, default_value_t = 300)]
    drain_timeout: u64,
    /// Make the sandbox enforce Coupa's limit (25 requests/s, burst 20, 429 beyond it), as
    /// the real Coupa does; the report then gives the share of the cap the gateway used.
    #[arg(long)]
    coupa_cap: bool,
}

/// How often the load tool looks at the sandbox. Each look copies the invoice numbers;
/// looking more often slows the run it measures.
const WATCH_EVERY: Duration = Duration::from_millis(200);

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round();
    let idx = (rank.max(0.0) as usize).min(sorted.len() - 1);
    sorted.get(idx).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Looks at the sandbox once: stamps the invoices of this run seen for the first time, and
/// returns how many numbers it holds more than once. Called every 200 ms from the first send
/// on, so receipt-to-Coupa latency is measured while sending, not only afterwards.
fn watch(env: &DemoEnv, run: &str, delivered_at: &mut HashMap<String, Instant>) -> usize {
    let numbers = env.coupa_invoice_numbers();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let now = Instant::now();
    for n in numbers.iter().filter(|n| n.starts_with(run)) {
        *seen.entry(n.as_str()).or_default() += 1;
        delivered_at.entry(n.clone()).or_insert(now);
    }
    seen.values().filter(|c| **c > 1).count()
}

/// The partner a path's documents come from: file drops are the `globex` partner's (the
/// demo's SFTP partner), the other paths `acme`'s.
fn sender(path: Path) -> &'static str {
    match path {
        Path::FileDrop => GLOBEX,
        Path::Rest | Path::Cxml | Path::X12 => ACME,
    }
}

fn body(env: &DemoEnv, path: Path, number: &str) -> anyhow::Result<Vec<u8>> {
    let inv = DemoEnv::invoice(number)?;
    let doc = Document::Invoice(inv);
    let partner = env.partner(sender(path))?;
    Ok(match path {
        Path::Rest => gateway_model::to_json(&doc).into_bytes(),
        Path::Cxml => env
            .codecs
            .encoder(Format::Cxml)
            .context("cxml encoder")?
            .encode(std::slice::from_ref(&doc), partner)?,
        Path::X12 | Path::FileDrop => {
            // The partner's side: the interchange names the partner as sender.
            let mut p = partner.clone();
            if let Some(x) = p.x12.as_mut() {
                std::mem::swap(&mut x.our_id, &mut x.partner_id);
                std::mem::swap(&mut x.our_qualifier, &mut x.partner_qualifier);
            }
            let enc: Arc<dyn Encode> = env.codecs.encoder(Format::X12).context("x12 encoder")?;
            enc.encode(std::slice::from_ref(&doc), &p)?
        }
    })
}

/// The gateway binary's allocator, so the in-process gateway runs as it does in production.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let env = DemoEnv::start(DemoOptions {
        amqp_url: args.amqp.clone(),
        po_count: 0,
        coupa_cap: args.coupa_cap,
    })
    .await?;
    let base = env.running.base_url();
    let (url, content_type) = match args.path {
        Path::Rest => (format!("{base}/api/v1/documents"), "application/json"),
        Path::Cxml => (format!("{base}/cxml"), "text/xml"),
        Path::X12 | Path::FileDrop => (format!("{base}/x12"), "application/edi-x12"),
    };
    eprintln!(
        "load: {} {:?} documents, concurrency {}, rate {}, bus {}",
        args.count,
        args.path,
        args.concurrency,
        if args.rate == 0 {
            "max".to_string()
        } else {
            format!("{}/s", args.rate)
        },
        if args.amqp.is_some() {
            "RabbitMQ"
        } else {
            "embedded"
        }
    );
    let run = format!(
        "L{}",
        uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .get(..6)
            .unwrap_or("0")
    );
    let mut bodies = Vec::with_capacity(args.count);
    for i in 0..args.count {
        let number = format!("{run}-{i:07}");
        bodies.push((number.clone(), body(&env, args.path, &number)?));
    }
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(60))
        .build()?;
    let sem = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut sent_at: HashMap<String, Instant> = HashMap::new();
    let mut delivered_at: HashMap<String, Instant> = HashMap::new();
    let mut last_watch = Instant::now();
    let mut answers = Vec::new();
    for (i, (number, body)) in bodies.into_iter().enumerate() {
        if last_watch.elapsed() >= WATCH_EVERY {
            watch(&env, &run, &mut delivered_at);
            last_watch = Instant::now();
        }
        if args.rate > 0 {
            let due = started + Duration::from_secs_f64(i as f64 / f64::from(args.rate));
            tokio::time::sleep_until(due.into()).await;
        }
        if args.path == Path::FileDrop {
            let t0 = Instant::now();
            sent_at.insert(number.clone(), t0);
            env.drop_file(GLOBEX, &format!("{number}.edi"), &body)?;
            answers.push(t0.elapsed());
            if i % 500 == 0 {
                eprint!("\r  dropped {i}/{}", args.count);
                let _ = std::io::stderr().flush();
            }
            continue;
        }
        let permit = Arc::clone(&sem).acquire_owned().await?;
        let (http, url) = (http.clone(), url.clone());
        sent_at.insert(number.clone(), Instant::now());
        tasks.spawn(async move {
            let t0 = Instant::now();
            let r = http
                .post(&url)
                .header("content-type", content_type)
                .bearer_auth("acme-token")
                .body(body)
                .send()
                .await;
            drop(permit);
            let ok = matches!(&r, Ok(resp) if resp.status().is_success());
            (number, ok, t0.elapsed())
        });
        if i % 500 == 0 {
            eprint!("\r  sent {i}/{}", args.count);
            let _ = std::io::stderr().flush();
        }
    }
    let mut refused = 0usize;
    while let Some(r) = tasks.join_next().await {
        if last_watch.elapsed() >= WATCH_EVERY {
            watch(&env, &run, &mut delivered_at);
            last_watch = Instant::now();
        }
        let (_, ok, took) = r?;
        if ok {
            answers.push(took);
        } else {
            refused += 1;
        }
    }
    let send_secs = started.elapsed().as_secs_f64();
    eprintln!("\r  sent {0}/{0} in {send_secs:.1} s", args.count);

    // Watch the sandbox until every accepted invoice is there (or the drain timeout).
    let deadline = Instant::now() + Duration::from_secs(args.drain_timeout);
    let expected = args.count - refused;
    let mut last_print = Instant::now();
    let mut duplicates;
    loop {
        duplicates = watch(&env, &run, &mut delivered_at);
        if delivered_at.len() >= expected || Instant::now() > deadline {
            break;
        }
        if last_print.elapsed() > Duration::from_secs(1) {
            eprint!("\r  delivered {}/{expected}", delivered_at.len());
            let _ = std::io::stderr().flush();
            last_print = Instant::now();
        }
        tokio::time::sleep(WATCH_EVERY).await;
    }
    let total_secs = started.elapsed().as_secs_f64();
    let dead = env
        .bus
        .dead_letters("coupa-invoices", &Default::default(), 100_000)
        .await?
        .len();
    answers.sort();
    let mut to_coupa: Vec<Duration> = delivered_at
        .iter()
        .filter_map(|(n, t)| sent_at.get(n).map(|s| t.saturating_duration_since(*s)))
        .collect();
    to_coupa.sort();
    let delivered = delivered_at.len();
    let lost = expected.saturating_sub(delivered + dead);
    println!(
        "\nload {:?}, {} documents, bus {}",
        args.path,
        args.count,
        if args.amqp.is_some() {
            "RabbitMQ (quorum queues, confirms)"
        } else {
            "embedded (SQLite)"
        }
    );
    println!("  accepted by the gateway   {expected} ({refused} refused)");
    println!(
        "  send throughput           {:.0} docs/s",
        args.count as f64 / send_secs
    );
    println!(
        "  end-to-end throughput     {:.0} docs/s (first send to last delivery)",
        delivered as f64 / total_secs
    );
    println!(
        "  {}     p50 {}  p90 {}  p99 {}  max {}",
        if args.path == Path::FileDrop {
            "file write (sender)  "
        } else {
            "sender answer latency"
        },
        ms(percentile(&answers, 50.0)),
        ms(percentile(&answers, 90.0)),
        ms(percentile(&answers, 99.0)),
        ms(answers.last().copied().unwrap_or_default())
    );
    println!(
        "  receipt→Coupa latency     p50 {}  p90 {}  p99 {}  max {}  (200 ms polling granularity)",
        ms(percentile(&to_coupa, 50.0)),
        ms(percentile(&to_coupa, 90.0)),
        ms(percentile(&to_coupa, 99.0)),
        ms(to_coupa.last().copied().unwrap_or_default())
    );
    let stats = env.sandbox.stats();
    let first_delivery = delivered_at.values().min().copied();
    let last_delivery = delivered_at.values().max().copied();
    let delivery_secs = match (first_delivery, last_delivery) {
        (Some(a), Some(b)) => b.saturating_duration_since(a).as_secs_f64(),
        _ => 0.0,
    };
    println!(
        "  Coupa requests            {} ({:.2} per invoice), {} answered 429, {} tokens issued",
        stats.requests,
        stats.requests as f64 / delivered.max(1) as f64,
        stats.served_429,
        stats.tokens_issued
    );
    // Which calls used the budget (the sandbox keeps the last 10,000 requests).
    let mut by_route: std::collections::BTreeMap<String, usize> = Default::default();
    for r in env.sandbox.request_log() {
        let path: Vec<&str> = r
            .path
            .split('?')
            .next()
            .unwrap_or("")
            .split('/')
            .map(|seg| {
                if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
                    ":id"
                } else {
                    seg
                }
            })
            .collect();
        *by_route
            .entry(format!("{} {}", r.method, path.join("/")))
            .or_default() += 1;
    }
    let mut routes: Vec<(String, usize)> = by_route.into_iter().collect();
    routes.sort_by_key(|r| std::cmp::Reverse(r.1));
    println!(
        "  Coupa calls by route      {} (last 10,000 requests)",
        routes
            .iter()
            .take(6)
            .map(|(r, n)| format!("{r}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if delivery_secs > 0.0 {
        let req_per_sec = stats.requests as f64 / total_secs;
        let invoices_per_sec = delivered.saturating_sub(1) as f64 / delivery_secs;
        let cap = f64::from(adapter_coupa::config::DEFAULT_RATE_PER_SEC);
        println!(
            "  Coupa request rate        {req_per_sec:.1} req/s over the run; deliveries {invoices_per_sec:.2} invoices/s between the first and the last{}",
            if args.coupa_cap {
                format!(
                    " = {:.1} req/s, {:.2} of the {cap:.0} req/s cap",
                    invoices_per_sec * stats.requests as f64 / delivered.max(1) as f64,
                    invoices_per_sec * stats.requests as f64 / delivered.max(1) as f64 / cap
                )
            } else {
                String::new()
            }
        );
    }
    println!(
        "  reconciliation            delivered {delivered} + dead {dead} + lost {lost} = accepted {expected}; duplicates {duplicates}"
    );
    env.shutdown().await?;
    if lost > 0 || duplicates > 0 {
        bail!("lost {lost}, duplicated {duplicates}");
    }
    Ok(())
}
