//! Deliveries of one thing taking turns: copies of one invoice to Coupa, versions of one PO
//! to its supplier. Run side by side, each read "nothing went yet" and sent its own (a second
//! invoice, two new orders); in turn, the second sees what the first did.

use std::sync::Arc;

/// Places in line per key: whoever holds a key's turn delivers, the others wait for it (in
/// the order they asked, `tokio::sync::Mutex` being fair). A key's entry lives only while
/// someone holds or waits for its turn, so the map never keeps a document no longer being
/// delivered, also when a task is aborted while it holds or waits (a consumer that lost its
/// channel). Counted explicitly rather than by `Arc::strong_count`, so that when the guard and the
/// entry are dropped does not matter.
#[derive(Debug)]
pub struct Turns<K> {
    /// Each key's lock and how many hold or wait for it.
    locks: std::sync::Mutex<Waiting<K>>,
}

/// Each key's lock and how many hold or wait for it.
type Waiting<K> = std::collections::HashMap<K, (Arc<tokio::sync::Mutex<()>>, usize)>;

impl<K> Default for Turns<K> {
    fn default() -> Self {
        Turns {
            locks: std::sync::Mutex::default(),
        }
    }
}

impl<K: Eq + std::hash::Hash + Clone> Turns<K> {
    fn locks(&self) -> std::sync::MutexGuard<'_, Waiting<K>> {
        // A panic elsewhere while holding this map's lock leaves counts that are still right.
        self.locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits for `key`'s turn; it is held until the [`Turn`] is dropped.
    pub async fn take(&self, key: K) -> Turn<'_, K> {
        let lock = {
            let mut locks = self.locks();
            let entry = locks.entry(key.clone()).or_default();
            entry.1 += 1;
            Arc::clone(&entry.0)
        };
        // Counted before waiting: dropped while waiting, `turn` gives its place back.
        let mut turn = Turn {
            owner: self,
            key,
            held: None,
        };
        turn.held = Some(lock.lock_owned().await);
        turn
    }

    /// How many keys someone holds or waits for (none once every delivery is over).
    pub fn len(&self) -> usize {
        self.locks().len()
    }

    /// Whether nobody holds or waits for any key.
    pub fn is_empty(&self) -> bool {
        self.locks().is_empty()
    }
}

/// A place in line of [`Turns`]: the turn itself once `held`.
#[derive(Debug)]
pub struct Turn<'a, K: Eq + std::hash::Hash + Clone> {
    owner: &'a Turns<K>,
    key: K,
    held: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl<K: Eq + std::hash::Hash + Clone> Drop for Turn<'_, K> {
    fn drop(&mut self) {
        // The turn goes to the next in line first, then the entry when nobody is left.
        drop(self.held.take());
        let mut locks = self.owner.locks();
        if let Some(entry) = locks.get_mut(&self.key) {
            entry.1 = entry.1.saturating_sub(1);
            if entry.1 == 0 {
                locks.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A turn taken by a task aborted while holding it or waiting for it is given back: the
    /// next in line gets it, and no entry stays behind.
    #[tokio::test]
    async fn turns_given_up_while_held_or_waited_for_leave_nothing_behind() {
        let turns: Turns<&str> = Turns::default();
        let holding = async {
            let _turn = turns.take("po-1").await;
            std::future::pending::<()>().await;
        };
        let mut holding = Box::pin(holding);
        tokio::select! {
            biased;
            () = &mut holding => unreachable!("it never ends"),
            () = std::future::ready(()) => {}
        }
        assert_eq!(turns.len(), 1);
        {
            let waiting = turns.take("po-1");
            let mut waiting = Box::pin(waiting);
            tokio::select! {
                biased;
                _ = &mut waiting => panic!("the turn is held"),
                () = std::future::ready(()) => {}
            }
            // Dropped while it waits.
        }
        assert_eq!(turns.len(), 1, "the holder still has it");
        drop(holding);
        assert_eq!(turns.len(), 0);
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), turns.take("po-1"))
            .await
            .unwrap_or_else(|_| panic!("the turn was never given back"));
        assert_eq!(turns.len(), 1);
        drop(next);
        assert_eq!(turns.len(), 0);
    }
}
