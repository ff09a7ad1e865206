//! Keys a request of this process is handling right now (a document's idempotency key, a REST
//! client's `Idempotency-Key`), so a second copy arriving meanwhile is told to retry rather than
//! handled twice at once. A request holds its keys in a [`HeldKeys`] and releases them when it
//! is dropped, however it ends: an HTTP request cancelled because its client went away or its
//! timeout fired drops its future, and a key released only on the normal path would then stay
//! "in flight" for good, refusing every retry of it until the process restarts.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The keys in flight in this process.
#[derive(Debug, Clone, Default)]
pub struct InFlightKeys {
    set: Arc<Mutex<HashSet<String>>>,
}

impl InFlightKeys {
    fn set(&self) -> MutexGuard<'_, HashSet<String>> {
        self.set.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// An empty holder for one request's keys.
    pub fn holder(&self) -> HeldKeys {
        HeldKeys {
            owner: self.clone(),
            keys: Vec::new(),
        }
    }

    /// Keys held right now.
    pub fn len(&self) -> usize {
        self.set().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One request's keys; all of them are released when it is dropped.
#[derive(Debug)]
pub struct HeldKeys {
    owner: InFlightKeys,
    keys: Vec<String>,
}

impl HeldKeys {
    /// True when this request may handle `key`: nobody else holds it, or this request already
    /// does (a control number repeated inside one interchange).
    pub fn take(&mut self, key: &str) -> bool {
        if self.keys.iter().any(|k| k == key) {
            return true;
        }
        if self.owner.set().insert(key.to_string()) {
            self.keys.push(key.to_string());
            true
        } else {
            false
        }
    }

    /// Moves `keys` (those of them this request holds) to a holder of their own, still in
    /// flight: for work on them that outlives the request, such as a publish the request
    /// stopped waiting for, which must keep a copy of them from being taken meanwhile.
    pub fn hand_over<'k>(&mut self, keys: impl IntoIterator<Item = &'k str>) -> HeldKeys {
        let mut handed = self.owner.holder();
        for key in keys {
            if let Some(at) = self.keys.iter().position(|k| k == key) {
                handed.keys.push(self.keys.swap_remove(at));
            }
        }
        handed
    }
}

impl Drop for HeldKeys {
    fn drop(&mut self) {
        let mut set = self.owner.set();
        for k in &self.keys {
            set.remove(k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_held_by_one_request_until_it_ends() {
        let keys = InFlightKeys::default();
        let mut first = keys.holder();
        assert!(first.take("k1") && first.take("k2"));
        assert!(first.take("k1"), "a request may name its own key again");
        let mut second = keys.holder();
        assert!(
            !second.take("k1"),
            "another request is refused while the first holds it"
        );
        assert!(second.take("k3"));
        drop(first);
        assert_eq!(keys.len(), 1);
        assert!(second.take("k1"));
        drop(second);
        assert!(keys.is_empty());
    }

    /// Keys handed over stay in flight when the request ends, until their new holder does.
    #[test]
    fn handed_over_keys_outlive_the_request() {
        let keys = InFlightKeys::default();
        let mut request = keys.holder();
        assert!(request.take("k1") && request.take("k2"));
        let publish = request.hand_over(["k1", "not-held"]);
        drop(request);
        assert!(!keys.holder().take("k1"), "k1 is still in flight");
        assert!(keys.holder().take("k2"), "k2 went with the request");
        drop(publish);
        assert!(keys.is_empty());
    }

    /// A request whose future is dropped mid-way (a client that went away, a timeout) releases
    /// its keys as well.
    #[test]
    fn a_cancelled_request_releases_its_keys() {
        use futures::FutureExt;
        let keys = InFlightKeys::default();
        let request = {
            let keys = keys.clone();
            async move {
                let mut held = keys.holder();
                assert!(held.take("k"));
                std::future::pending::<()>().await;
            }
        };
        let mut request = Box::pin(request);
        // Polled once: it takes its key and waits for ever.
        assert!((&mut request).now_or_never().is_none());
        assert_eq!(keys.len(), 1);
        drop(request);
        assert!(keys.is_empty());
    }
}
