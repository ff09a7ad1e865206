//! A client-side token bucket (Coupa: 25 requests/s, burst 20) that can also be paused for
//! everyone when Coupa answers 429 with `Retry-After`, so one 429 does not become a storm.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
    paused_until: Option<Instant>,
}

/// Shared by every request of one client.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    state: Mutex<Bucket>,
}

impl RateLimiter {
    /// `rate` permits per second, at most `burst` at once (both at least 1).
    pub fn new(rate: u32, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        RateLimiter {
            rate: f64::from(rate.max(1)),
            burst,
            state: Mutex::new(Bucket {
                tokens: burst,
                last: Instant::now(),
                paused_until: None,
            }),
        }
    }

    /// Takes one permit now or says how long to wait for it.
    fn try_take(&self, now: Instant) -> Result<(), Duration> {
        let mut b = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = b.paused_until {
            if now < until {
                return Err(until - now);
            }
            b.paused_until = None;
        }
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.rate).min(self.burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / self.rate))
        }
    }

    /// Waits for a permit.
    pub async fn acquire(&self) {
        loop {
            match self.try_take(Instant::now()) {
                Ok(()) => return,
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// Holds every caller until `until` (from a 429's `Retry-After`); later pauses extend it.
    pub fn pause_until(&self, until: Instant) {
        let mut b = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if b.paused_until.is_none_or(|p| p < until) {
            b.paused_until = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_rate_then_pause() {
        let r = RateLimiter::new(25, 20);
        let t0 = Instant::now();
        for _ in 0..20 {
            assert!(r.try_take(t0).is_ok());
        }
        let wait = r.try_take(t0).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(40));
        assert!(r.try_take(t0 + Duration::from_millis(40)).is_ok());
        r.pause_until(t0 + Duration::from_secs(2));
        let w = r.try_take(t0 + Duration::from_secs(1)).unwrap_err();
        assert_eq!(w, Duration::from_secs(1));
        assert!(r.try_take(t0 + Duration::from_secs(3)).is_ok());
    }
}
