//! Readiness on the ledger's writes. With its file made immutable (or its disk failing), every
//! document was refused with 503 while `/readyz` said ready, and a load balancer kept sending
//! senders to an instance that took nothing. The service is not ready while the storage
//! refused the ledger's last write, and says which file, why and what to do; it is ready again
//! once a write succeeds, a document's or the probe's this check writes when asked while the
//! ledger fails (with no instance ready, no document would come to write one).

use std::sync::Arc;

use futures::future::BoxFuture;

use crate::ledger::Ledger;
use crate::pipeline::ReadinessCheck;

/// The ledger's writes, as one readiness check.
#[derive(Debug, Clone)]
pub struct LedgerWrites {
    ledger: Arc<Ledger>,
}

impl LedgerWrites {
    pub fn new(ledger: Arc<Ledger>) -> Self {
        LedgerWrites { ledger }
    }

    /// `Ok` while the ledger writes; else why not and what to do. A ledger whose last write
    /// failed is asked to write once more (a row of its own), so it is ready as soon as the
    /// cause is fixed; a ledger that writes costs nothing to ask.
    fn verdict(ledger: &Ledger) -> Result<(), String> {
        if ledger.write_failure().is_none() {
            return Ok(());
        }
        match ledger.probe_write() {
            Ok(()) => {
                tracing::info!(
                    ledger = %ledger.path().display(),
                    "the document ledger writes again: ready"
                );
                Ok(())
            }
            Err(e) => {
                let why = ledger.write_failure().unwrap_or_else(|| e.to_string());
                Err(format!(
                    "the document ledger cannot write, so every document is refused (503, send again): {why}; ready again once a write succeeds"
                ))
            }
        }
    }
}

impl ReadinessCheck for LedgerWrites {
    fn name(&self) -> &str {
        "ledger"
    }

    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        let ledger = Arc::clone(&self.ledger);
        Box::pin(async move {
            // The probe waits for the disk (and for a lock up to the busy timeout): off the
            // async workers, so `/readyz` never stalls the requests beside it.
            tokio::task::spawn_blocking(move || LedgerWrites::verdict(&ledger))
                .await
                .unwrap_or_else(|e| Err(format!("the ledger check stopped: {e}")))
        })
    }
}
