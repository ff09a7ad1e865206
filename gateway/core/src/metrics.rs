//! Process-wide counters and a latency histogram, rendered in the Prometheus text format at
//! `/metrics`. Small on purpose: a handful of series with `adapter` and `kind` labels, and the
//! standard `process_*` series ([`crate::process_stats`]).

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

/// Upper bounds (seconds) of the delivery latency histogram buckets.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The counters the gateway keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Counter {
    Received,
    Delivered,
    Failed,
    Dead,
    Rejected,
    /// A document delivered to a partner that its 997/999/TA1 then refused.
    PartnerRejected,
    /// A document accepted with notes: deviations the gateway tolerated.
    Noted,
}

impl Counter {
    fn name(self) -> &'static str {
        match self {
            Counter::Received => "gateway_documents_received_total",
            Counter::Delivered => "gateway_documents_delivered_total",
            Counter::Failed => "gateway_documents_failed_total",
            Counter::Dead => "gateway_documents_dead_total",
            Counter::Rejected => "gateway_documents_rejected_total",
            Counter::PartnerRejected => "gateway_documents_partner_rejected_total",
            Counter::Noted => "gateway_documents_noted_total",
        }
    }
    fn help(self) -> &'static str {
        match self {
            Counter::Received => "Documents accepted from senders and confirmed by the bus.",
            Counter::Delivered => "Documents delivered to their outbound target.",
            Counter::Failed => "Delivery attempts that failed (retried or dead-lettered).",
            Counter::Dead => "Documents moved to a dead-letter queue.",
            Counter::Rejected => "Documents or inputs rejected at the door (parse or validation).",
            Counter::PartnerRejected => {
                "Documents delivered to a partner that its acknowledgment (997/999/TA1) then refused."
            }
            Counter::Noted => {
                "Documents accepted with notes: what the gateway tolerated (an X12 set accepted with errors, totals that do not add up)."
            }
        }
    }
}

#[derive(Debug, Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Registry {
    counters: BTreeMap<(Counter, String, String), u64>,
    latency: BTreeMap<(String, String), Histogram>,
    gauges: BTreeMap<String, i64>,
    overdue_acks: BTreeMap<String, u64>,
    files_waiting: BTreeMap<String, u64>,
    /// Inputs refused for the gateway's own trouble, by adapter and reason.
    refused: BTreeMap<(String, String), u64>,
}

fn registry() -> &'static Mutex<Registry> {
    static R: OnceLock<Mutex<Registry>> = OnceLock::new();
    R.get_or_init(|| Mutex::new(Registry::default()))
}

/// Adds `n` to a counter.
pub fn count(counter: Counter, adapter: &str, kind: &str, n: u64) {
    if let Ok(mut r) = registry().lock() {
        *r.counters
            .entry((counter, adapter.to_string(), kind.to_string()))
            .or_default() += n;
    }
}

/// Counts an input (a request, a file, a mail) the gateway did not take for a reason of its
/// own, the sender told to send again: `reason` names the part that failed (`ledger`,
/// `disk_space`, `bus`). Such refusals otherwise show only in the log, while a load balancer
/// keeps sending senders to the instance.
pub fn count_refused(adapter: &str, reason: &str) {
    if let Ok(mut r) = registry().lock() {
        *r.refused
            .entry((adapter.to_string(), reason.to_string()))
            .or_default() += 1;
    }
}

/// How many inputs [`count_refused`] counted (for tests).
pub fn refused(adapter: &str, reason: &str) -> u64 {
    registry()
        .lock()
        .ok()
        .and_then(|r| {
            r.refused
                .get(&(adapter.to_string(), reason.to_string()))
                .copied()
        })
        .unwrap_or(0)
}

/// Records one delivery's latency from receipt to delivery.
pub fn observe_delivery(adapter: &str, kind: &str, seconds: f64) {
    if let Ok(mut r) = registry().lock() {
        let h = r
            .latency
            .entry((adapter.to_string(), kind.to_string()))
            .or_default();
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                h.buckets[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }
}

/// Sets a queue depth gauge.
pub fn set_queue_depth(queue: &str, depth: i64) {
    if let Ok(mut r) = registry().lock() {
        r.gauges.insert(queue.to_string(), depth);
    }
}

/// Sets how many documents sent to `partner` over X12 wait past its agreed hours for a
/// 997/999 (an alert rule on it finds a partner whose translator never saw them).
pub fn set_overdue_acknowledgments(partner: &str, documents: u64) {
    if let Ok(mut r) = registry().lock() {
        r.overdue_acks.insert(partner.to_string(), documents);
    }
}

/// Sets how many files wait for an operator in each folder that is never pruned (a
/// partner's `error/`, the mail quarantine), as the last retention pass counted them. A
/// folder counted before and absent now is set to 0, so an alert clears once it is emptied.
pub fn set_files_waiting(now: &[(String, u64)]) {
    if let Ok(mut r) = registry().lock() {
        for v in r.files_waiting.values_mut() {
            *v = 0;
        }
        for (place, files) in now {
            r.files_waiting.insert(place.clone(), *files);
        }
    }
}

/// The current value of a counter (for summaries and tests).
pub fn value(counter: Counter, adapter: &str, kind: &str) -> u64 {
    registry()
        .lock()
        .ok()
        .and_then(|r| {
            r.counters
                .get(&(counter, adapter.to_string(), kind.to_string()))
                .copied()
        })
        .unwrap_or(0)
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Everything in the Prometheus text exposition format.
pub fn render() -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let Ok(r) = registry().lock() else {
        return out;
    };
    for c in [
        Counter::Received,
        Counter::Delivered,
        Counter::Failed,
        Counter::Dead,
        Counter::Rejected,
        Counter::PartnerRejected,
        Counter::Noted,
    ] {
        let _ = writeln!(out, "# HELP {} {}", c.name(), c.help());
        let _ = writeln!(out, "# TYPE {} counter", c.name());
        for ((cc, adapter, kind), v) in &r.counters {
            if *cc == c {
                let _ = writeln!(
                    out,
                    "{}{{adapter=\"{}\",kind=\"{}\"}} {v}",
                    c.name(),
                    escape(adapter),
                    escape(kind)
                );
            }
        }
    }
    let name = "gateway_inputs_refused_total";
    let _ = writeln!(
        out,
        "# HELP {name} Inputs the gateway did not take for a reason of its own, the sender told to send again (503): reason ledger (its document ledger could not record them), disk_space (free space below [ledger] min_free_mb), bus, attachments, unconfirmed, in_flight, reading."
    );
    let _ = writeln!(out, "# TYPE {name} counter");
    for ((adapter, reason), v) in &r.refused {
        let _ = writeln!(
            out,
            "{name}{{adapter=\"{}\",reason=\"{}\"}} {v}",
            escape(adapter),
            escape(reason)
        );
    }
    let name = "gateway_delivery_latency_seconds";
    let _ = writeln!(out, "# HELP {name} Time from receipt to delivery.");
    let _ = writeln!(out, "# TYPE {name} histogram");
    for ((adapter, kind), h) in &r.latency {
        let labels = format!("adapter=\"{}\",kind=\"{}\"", escape(adapter), escape(kind));
        for (i, le) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels},le=\"{le}\"}} {}",
                h.buckets[i]
            );
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count);
    }
    let name = "gateway_queue_depth";
    let _ = writeln!(
        out,
        "# HELP {name} Messages in each bus queue: <consumer> waiting for delivery, <consumer>.retrying waiting out a retry delay, <consumer>.dead dead letters."
    );
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (q, v) in &r.gauges {
        let _ = writeln!(out, "{name}{{queue=\"{}\"}} {v}", escape(q));
    }
    let name = "gateway_x12_acknowledgments_overdue";
    let _ = writeln!(
        out,
        "# HELP {name} Documents sent to a partner over X12 that its 997/999/TA1 has not answered within its ack_within_hours."
    );
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (partner, v) in &r.overdue_acks {
        let _ = writeln!(out, "{name}{{partner=\"{}\"}} {v}", escape(partner));
    }
    let name = "gateway_files_waiting_for_operator";
    let _ = writeln!(
        out,
        "# HELP {name} Files in folders that wait for an operator (a partner's error/, the mail quarantine), as the last retention pass counted them."
    );
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (place, v) in &r.files_waiting {
        let _ = writeln!(out, "{name}{{folder=\"{}\"}} {v}", escape(place));
    }
    drop(r);
    crate::process_stats::render(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histogram_render() {
        count(Counter::Received, "metrics-test", "invoice", 2);
        observe_delivery("metrics-test", "invoice", 0.02);
        let text = render();
        assert!(text.contains(
            "gateway_documents_received_total{adapter=\"metrics-test\",kind=\"invoice\"} 2"
        ));
        assert!(text.contains(
            "gateway_delivery_latency_seconds_bucket{adapter=\"metrics-test\",kind=\"invoice\",le=\"0.025\"} 1"
        ));
        assert!(text.contains(
            "gateway_delivery_latency_seconds_bucket{adapter=\"metrics-test\",kind=\"invoice\",le=\"0.01\"} 0"
        ));
        assert_eq!(value(Counter::Received, "metrics-test", "invoice"), 2);
        set_files_waiting(&[("metrics-test/error".into(), 2)]);
        assert!(
            render()
                .contains("gateway_files_waiting_for_operator{folder=\"metrics-test/error\"} 2")
        );
        set_files_waiting(&[]);
        assert!(
            render()
                .contains("gateway_files_waiting_for_operator{folder=\"metrics-test/error\"} 0"),
            "an emptied folder reads 0"
        );
        set_overdue_acknowledgments("metrics-\"test\"", 3);
        assert!(
            render().contains(
                "gateway_x12_acknowledgments_overdue{partner=\"metrics-\\\"test\\\"\"} 3"
            )
        );
    }
}
