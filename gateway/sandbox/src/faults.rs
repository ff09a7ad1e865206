//! Scripted faults: the next N requests on a route answer an error, hang, or commit and then
//! never answer; plus a "429 storm" window and an added latency. Set through
//! `POST /sandbox/faults` or [`crate::SandboxHandle::inject`].

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Most rules kept at once; more are refused so a runaway script cannot grow memory.
pub const MAX_RULES: usize = 256;

/// What a matching request experiences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer this HTTP status (500, 503, ...) with a Coupa-style error body.
    Status { status: u16 },
    /// Answer 429 with `Retry-After: <retry_after>` seconds.
    RateLimit { retry_after: u64 },
    /// Answer every matching request with 429 until `retry_after` seconds after the first one
    /// was served; a client honouring `Retry-After` sees only the first wave.
    Storm { retry_after: u64 },
    /// Never answer (until the sandbox's hang time or shutdown): the client must time out.
    Hang,
    /// Run the request (the invoice is created), then never answer: the ambiguous outcome.
    CommitThenDrop,
    /// Answer `status` (301, 302, 303, 307, 308) with `Location: <location>` and do nothing
    /// else: an endpoint that moved, or one sending its callers elsewhere, which a client
    /// must not follow with the document and its credentials.
    Redirect { status: u16, location: String },
    /// Run the request, then make a buyer's change to purchase order `purchase_order` (a new
    /// version, `exported` false) before answering, as if the buyer revised it in Coupa right
    /// after the request was served: the change lands between this request and the client's
    /// next one, which no latency makes certain. With a route naming a query
    /// (`GET /api/purchase_orders?id=7`), it hits the read of that one PO.
    ThenRevise { purchase_order: u64 },
}

/// One scripted fault as the admin API accepts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSpec {
    /// `"POST /api/invoices"`, `"/api/invoices"` (any method) or empty for every route.
    /// A path matches by prefix, its query string included (`GET /api/purchase_orders?id=7`).
    #[serde(default)]
    pub route: String,
    #[serde(flatten)]
    pub kind: FaultKind,
    /// How many requests it affects (ignored by `storm`, which is time-bound). Default 1.
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

impl FaultSpec {
    /// A fault for the next `count` requests on `route`.
    pub fn new(route: &str, kind: FaultKind, count: u32) -> Self {
        FaultSpec {
            route: route.to_string(),
            kind,
            count,
        }
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        let route = self.route.trim();
        let (m, p) = match route.split_once(' ') {
            Some((m, p)) => (Some(m), p.trim()),
            None => (None, route),
        };
        m.is_none_or(|m| m.eq_ignore_ascii_case(method)) && path.starts_with(p)
    }
}

#[derive(Debug)]
struct Rule {
    spec: FaultSpec,
    remaining: u32,
    /// For storms: when the window (opened by the first 429) closes.
    window_end: Option<Instant>,
}

/// What the middleware must do with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Pass,
    Status(u16),
    TooMany { retry_after: u64 },
    Hang,
    CommitThenDrop,
    Redirect { status: u16, location: String },
    ThenRevise { purchase_order: u64 },
}

/// The active rules, in the order they were added.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<Rule>,
    latency: Duration,
}

impl Faults {
    /// Adds a rule; false when the table is full.
    pub fn add(&mut self, spec: FaultSpec) -> bool {
        if self.rules.len() >= MAX_RULES {
            return false;
        }
        let remaining = spec.count.max(1);
        self.rules.push(Rule {
            spec,
            remaining,
            window_end: None,
        });
        true
    }

    pub fn clear(&mut self) {
        self.rules.clear();
        self.latency = Duration::ZERO;
    }

    pub fn set_latency(&mut self, latency: Duration) {
        self.latency = latency.min(Duration::from_secs(60));
    }

    pub fn latency(&self) -> Duration {
        self.latency
    }

    /// How many rules are still armed.
    pub fn pending(&self) -> usize {
        self.rules.len()
    }

    /// Decides the fate of one request and consumes the rule it used.
    pub fn take(&mut self, method: &str, path: &str, now: Instant) -> Action {
        self.rules
            .retain(|r| r.remaining > 0 && r.window_end.is_none_or(|end| now < end));
        let Some(rule) = self.rules.iter_mut().find(|r| r.spec.matches(method, path)) else {
            return Action::Pass;
        };
        match rule.spec.kind.clone() {
            FaultKind::Storm { retry_after } => {
                if rule.window_end.is_none() {
                    rule.window_end = Some(now + Duration::from_secs(retry_after));
                }
                Action::TooMany { retry_after }
            }
            kind => {
                rule.remaining = rule.remaining.saturating_sub(1);
                match kind {
                    FaultKind::Status { status } => Action::Status(status),
                    FaultKind::RateLimit { retry_after } => Action::TooMany { retry_after },
                    FaultKind::Hang => Action::Hang,
                    FaultKind::CommitThenDrop => Action::CommitThenDrop,
                    FaultKind::ThenRevise { purchase_order } => {
                        Action::ThenRevise { purchase_order }
                    }
                    FaultKind::Redirect { status, location } => {
                        Action::Redirect { status, location }
                    }
                    FaultKind::Storm { .. } => Action::Pass,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_routes_and_storm_window() {
        let mut f = Faults::default();
        let t0 = Instant::now();
        f.add(FaultSpec::new(
            "POST /api/invoices",
            FaultKind::Status { status: 503 },
            2,
        ));
        assert_eq!(f.take("GET", "/api/invoices", t0), Action::Pass);
        assert_eq!(f.take("POST", "/api/invoices", t0), Action::Status(503));
        assert_eq!(f.take("POST", "/api/invoices", t0), Action::Status(503));
        assert_eq!(f.take("POST", "/api/invoices", t0), Action::Pass);

        f.add(FaultSpec::new(
            "/api/",
            FaultKind::Storm { retry_after: 1 },
            1,
        ));
        let tm = Action::TooMany { retry_after: 1 };
        assert_eq!(f.take("GET", "/api/suppliers", t0), tm);
        assert_eq!(f.take("PUT", "/api/x", t0 + Duration::from_millis(999)), tm);
        assert_eq!(
            f.take("PUT", "/api/x", t0 + Duration::from_secs(1)),
            Action::Pass
        );
        assert_eq!(f.pending(), 0);
    }

    #[test]
    fn spec_json_shape() {
        let s: FaultSpec = serde_json::from_str(
            r#"{"route":"POST /api/invoices","kind":"rate_limit","retry_after":2,"count":3}"#,
        )
        .unwrap();
        assert_eq!(s.kind, FaultKind::RateLimit { retry_after: 2 });
        assert_eq!(s.count, 3);
        let r: FaultSpec = serde_json::from_str(
            r#"{"route":"POST /supplier/acme/cxml","kind":"redirect","status":307,"location":"http://elsewhere/x"}"#,
        )
        .unwrap();
        assert_eq!(
            r.kind,
            FaultKind::Redirect {
                status: 307,
                location: "http://elsewhere/x".into()
            }
        );
        let r: FaultSpec = serde_json::from_str(
            r#"{"route":"GET /api/purchase_orders?id=7","kind":"then_revise","purchase_order":7}"#,
        )
        .unwrap();
        assert_eq!(r.kind, FaultKind::ThenRevise { purchase_order: 7 });
        assert!(r.matches("GET", "/api/purchase_orders?id=7&offset=0"));
        assert!(!r.matches("GET", "/api/purchase_orders?exported=false&offset=0"));
        let h: FaultSpec = serde_json::from_str(r#"{"kind":"commit_then_drop"}"#).unwrap();
        assert_eq!(h.count, 1);
        assert!(h.matches("PUT", "/anything"));
    }
}
