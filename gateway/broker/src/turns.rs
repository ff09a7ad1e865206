//! Readers of a dead-letter queue take turns.
//!
//! RabbitMQ cannot browse a queue: a reader of dead letters (`gateway dlq list/show/replay/
//! purge`, the service's reconciliation of the ledger) fetches them one by one without acking
//! and returns the rest when it is done. While it holds them, they are invisible to every other
//! reader, which would silently list or replay only what was left. So a reader first takes the
//! queue's lock ([`crate::names::dead_walk_lock`]) and keeps it until every letter it held is
//! back; another reader waits for it, at most [`DEAD_LETTER_WAIT`] by default, then fails with
//! an error [`is_busy`] recognises ("try again"). A walk is complete or it is an error, never a
//! quiet part.
//!
//! The embedded bus reads its dead letters in one transaction and hides nothing: its readers
//! never wait and are never busy.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use gateway_core::BusError;

/// How long a reader of dead letters waits for another to finish, unless
/// [`with_dead_letter_wait`] says otherwise.
pub const DEAD_LETTER_WAIT: Duration = Duration::from_secs(30);

tokio::task_local! {
    static WAIT: Duration;
    static ON_WAIT: Arc<dyn Fn(&str) + Send + Sync>;
}

/// Runs `fut`, in which every read of dead letters (`dead_letters`, `replay`, `purge` of either
/// backend) waits at most `wait` for its turn at the queue instead of [`DEAD_LETTER_WAIT`].
/// `Duration::ZERO` tries once: a periodic job skips its turn when [`is_busy`] says so, and
/// tries again on the next one.
///
/// ```no_run
/// # async fn reconcile(bus: &dyn gateway_core::Broker) {
/// use std::time::Duration;
/// let all = gateway_core::DeadFilter::default();
/// let read = bus.dead_letters("coupa-invoices", &all, 1000);
/// match gateway_broker::with_dead_letter_wait(Duration::ZERO, read).await {
///     Ok(letters) => { /* reconcile them */ }
///     Err(e) if gateway_broker::is_busy(&e) => { /* another reader has them: next time */ }
///     Err(e) => { /* say so */ }
/// }
/// # }
/// ```
pub async fn with_dead_letter_wait<F: Future>(wait: Duration, fut: F) -> F::Output {
    WAIT.scope(wait, fut).await
}

/// Runs `fut`, in which a read of dead letters that has to wait for its turn first calls
/// `waiting` with the consumer's name, once: `gateway dlq` says on stderr why it pauses.
pub async fn on_dead_letter_wait<F: Future>(
    waiting: impl Fn(&str) + Send + Sync + 'static,
    fut: F,
) -> F::Output {
    ON_WAIT.scope(Arc::new(waiting), fut).await
}

/// The wait in force for a read of dead letters started now.
pub(crate) fn dead_letter_wait() -> Duration {
    WAIT.try_with(|w| *w).unwrap_or(DEAD_LETTER_WAIT)
}

/// Tells whoever asked ([`on_dead_letter_wait`]) that a read of `consumer`'s dead letters waits.
pub(crate) fn waiting(consumer: &str) {
    tracing::info!(
        consumer,
        "another reader has the dead letters; waiting for its turn"
    );
    let _ = ON_WAIT.try_with(|f| f(consumer));
}

/// How a busy error begins; [`is_busy`] looks for it.
const BUSY: &str = "another `gateway dlq` or the gateway service is reading the dead letters of";

/// The error of a reader that did not get its turn within `waited`.
pub(crate) fn busy(consumer: &str, waited: Duration) -> BusError {
    let waited = if waited.is_zero() {
        String::new()
    } else {
        format!(" (waited {waited:?} for it to finish)")
    };
    BusError::Unavailable(format!("{BUSY} {consumer}{waited}; try again"))
}

/// Whether `e` says another reader had the dead letters and this one did not wait for it (or
/// not long enough): nothing was read or changed, and trying again later is the answer.
pub fn is_busy(e: &BusError) -> bool {
    matches!(e, BusError::Unavailable(m) if m.starts_with(BUSY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_errors_are_recognised_and_say_what_to_do() {
        let e = busy("coupa-invoices", DEAD_LETTER_WAIT);
        assert!(is_busy(&e));
        assert_eq!(
            e.to_string(),
            "bus unavailable: another `gateway dlq` or the gateway service is reading the dead \
             letters of coupa-invoices (waited 30s for it to finish); try again"
        );
        assert!(
            busy("x", Duration::ZERO)
                .to_string()
                .ends_with("of x; try again")
        );
        assert!(
            busy("x", Duration::from_millis(200))
                .to_string()
                .contains("(waited 200ms for it to finish)")
        );
        assert!(!is_busy(&BusError::Unavailable(
            "connection refused".into()
        )));
        assert!(e.is_retryable());
    }

    #[tokio::test]
    async fn the_wait_is_scoped() {
        assert_eq!(dead_letter_wait(), DEAD_LETTER_WAIT);
        let inside = with_dead_letter_wait(Duration::ZERO, async { dead_letter_wait() }).await;
        assert_eq!(inside, Duration::ZERO);
        assert_eq!(dead_letter_wait(), DEAD_LETTER_WAIT);
    }
}
