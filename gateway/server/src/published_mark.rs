//! Recording in the ledger that the bus confirmed a request's documents (`received` →
//! `published`). The mark is what tells a resend of the same documents "received before": a row
//! left `received` is taken over by the next claim of its key, since it looks like a publish
//! that never happened. So a mark that fails after the bus confirmed is not given up: it is
//! tried again in the background, with back-off, for as long as this process runs, and the
//! documents' keys stay in flight ([`HeldKeys`]) until it is recorded. A resend meanwhile is
//! told to send again ([`gateway_core::ingest::IN_FLIGHT`]) and is never published a second
//! time; once the mark is recorded, it is answered as received before.

use std::sync::Arc;
use std::time::Duration;

use gateway_core::in_flight::HeldKeys;

use crate::ledger::Ledger;

/// Wait before the first retry of a failed mark (doubled each time, jittered).
const FIRST_RETRY: Duration = Duration::from_millis(100);

/// Longest wait between two retries: a ledger that recovers is used again within it.
const MAX_RETRY: Duration = Duration::from_secs(5);

/// A retry whose number is a multiple of this is logged again (about every minute at
/// [`MAX_RETRY`]), so a ledger that stays broken is seen without a line per attempt.
const WARN_EVERY: u32 = 12;

/// Marks `keys` published, holding `held` (their in-flight claim) until that is recorded.
/// Returns at once: the bus already has the documents, so the sender is told they were
/// accepted whatever the ledger does. When the ledger fails, the mark is retried on a task of
/// its own ([`until_recorded`]), which keeps `held`.
pub(crate) fn record(ledger: Arc<Ledger>, keys: Vec<String>, held: HeldKeys) {
    let Err(e) = mark(&ledger, &keys) else {
        return;
    };
    tracing::warn!(
        error = %e,
        documents = keys.len(),
        "the bus confirmed the documents but the ledger could not mark them published: retrying in the background; until it can, a resend of them is told to send again, never published twice"
    );
    tokio::spawn(until_recorded(ledger, keys, held));
}

/// Tries the mark again, with back-off up to [`MAX_RETRY`], until the ledger records it (or the
/// process ends: its next start marks the rows `interrupted`, see RELIABILITY.md), then
/// releases `held`.
async fn until_recorded(ledger: Arc<Ledger>, keys: Vec<String>, held: HeldKeys) {
    let mut retry = 0u32;
    loop {
        tokio::time::sleep(adapter_coupa::backoff::delay(retry, FIRST_RETRY, MAX_RETRY)).await;
        retry = retry.saturating_add(1);
        match mark(&ledger, &keys) {
            Ok(()) => {
                tracing::info!(
                    documents = keys.len(),
                    retries = retry,
                    "the ledger recorded the documents the bus confirmed as published"
                );
                break;
            }
            Err(e) if retry.is_multiple_of(WARN_EVERY) => tracing::warn!(
                error = %e,
                documents = keys.len(),
                retries = retry,
                "the ledger still cannot mark documents the bus confirmed as published; retrying"
            ),
            Err(_) => {}
        }
    }
    drop(held);
}

fn mark(ledger: &Ledger, keys: &[String]) -> Result<(), crate::ledger::LedgerError> {
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    ledger.mark_all_published(&keys)
}
