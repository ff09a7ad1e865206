//! Optional server-side enforcement of Coupa's published limit (25 requests/s, burst 20) on
//! `/api/` routes, answering 429 with `Retry-After: 1` (the header is our assumption).

use std::time::Instant;

/// A token bucket; `check` takes a permit or refuses.
#[derive(Debug)]
pub struct ServerLimit {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl ServerLimit {
    pub fn new(rate: u32, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        ServerLimit {
            rate: f64::from(rate.max(1)),
            burst,
            tokens: burst,
            last: Instant::now(),
        }
    }

    /// True when the request may pass.
    pub fn check(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_refill() {
        let t0 = Instant::now();
        let mut l = ServerLimit::new(25, 20);
        assert!((0..20).all(|_| l.check(t0)));
        assert!(!l.check(t0));
        assert!(l.check(t0 + Duration::from_millis(40)));
    }
}
