//! Every set an X12 input delivers keeps a ledger row of its own (QA qa14a item 3): the ledger
//! keys an X12 document by its sender and ISA13/GS06/ST02, and two documents of one input
//! under one key left one row (the second claim took over the first's `received` row), so an
//! invoice that went to Coupa could not be found with `gateway documents`. Two groups of one
//! interchange may share a GS06 (the TA1 notes it, the sets are accepted), so their sets,
//! sharing an ST02, must not share a key; a repeated ST02 within a group is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use gateway_core::{IngestReport, IngestRequest};
use gateway_server::ledger::{DocumentFilter, Entry, Ledger};
use gateway_server::pipeline::Pipeline;

mod common;

struct Env {
    _dir: tempfile::TempDir,
    pipeline: Pipeline,
    ledger: Arc<Ledger>,
}

/// Partner `acme` (X12 sender ZZ:ACME) on the embedded bus, without Coupa.
async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_on(
        dir.path(),
        common::NO_COUPA,
        r#"[[partners]]
id = "acme"
[partners.x12]
partner_qualifier = "ZZ"
partner_id = "ACME"
"#,
    );
    let (bus, ledger) = common::bus_and_ledger(&config).await;
    let pipeline = common::pipeline(&config, &ledger, bus);
    Env {
        _dir: dir,
        pipeline,
        ledger,
    }
}

impl Env {
    /// Each of invoices `numbers` has one ledger row, and it is published.
    fn one_published_row_each(&self, numbers: &[&str]) {
        for number in numbers {
            let rows = self.numbered(number);
            assert_eq!(rows.len(), 1, "{number}: {rows:?}");
            assert_eq!(rows[0].status, "published", "{number}: {:?}", rows[0]);
        }
    }

    /// `raw` through the X12 adapter as a file named `source`.
    async fn ingest(&self, raw: &str, source: &str) -> IngestReport {
        self.pipeline
            .ingest(IngestRequest {
                raw: raw.as_bytes(),
                adapter: "x12",
                format: None,
                partner: None,
                source: Some(source),
                files: &[],
                notes: &[],
            })
            .await
            .unwrap()
    }

    /// `gateway documents --number NUMBER`, as the command asks the ledger.
    fn numbered(&self, number: &str) -> Vec<Entry> {
        self.ledger
            .search(&DocumentFilter {
                number: Some(number),
                limit: 100,
                ..Default::default()
            })
            .unwrap()
    }
}

/// One 810 under `st02`, invoice `number`.
fn invoice_set(st02: &str, number: &str) -> String {
    format!(
        "ST*810*{st02}~\nBIG*20260315*{number}**PO-1~\nCUR*SE*USD~\nN1*SU*Acme Industrial Supply~\nIT1*1*2*EA*10.5**VP*P-1~\nPID*F****Part 1~\nTDS*2100~\nCTT*1~\nSE*9*{st02}~\n"
    )
}

/// Interchange 000000007 from ZZ:ACME holding one group per entry: GS06 and its sets.
fn interchange(groups: &[(&str, &[String])]) -> String {
    let mut out = String::from(
        "ISA*00*          *00*          *ZZ*ACME           *ZZ*GLOBEX         *260315*1030*U*00401*000000007*0*P*>~\n",
    );
    for (gs06, sets) in groups {
        out.push_str(&format!(
            "GS*IN*ACME*GLOBEX*20260315*1030*{gs06}*X*004010~\n"
        ));
        for s in *sets {
            out.push_str(s);
        }
        out.push_str(&format!("GE*{}*{gs06}~\n", sets.len()));
    }
    out.push_str(&format!("IEA*{}*000000007~\n", groups.len()));
    out
}

#[tokio::test]
async fn sets_of_groups_sharing_a_gs06_each_keep_their_ledger_row() {
    let env = env().await;
    let raw = interchange(&[
        ("5", &[invoice_set("0001", "GK-1")]),
        ("5", &[invoice_set("0001", "GK-2")]),
    ]);
    let report = env.ingest(&raw, "gk.edi").await;
    assert_eq!(report.accepted.len(), 2, "{report:?}");
    assert!(report.rejects.is_empty(), "{:?}", report.rejects);
    env.one_published_row_each(&["GK-1", "GK-2"]);
    let keys: Vec<&str> = report
        .accepted
        .iter()
        .map(|a| a.idempotency_key.as_str())
        .collect();
    assert_ne!(keys[0], keys[1]);
    // Sent again, both are duplicates: nothing published twice.
    let again = env.ingest(&raw, "gk-again.edi").await;
    assert!(again.accepted.is_empty(), "{again:?}");
    assert_eq!(again.duplicates.len(), 2, "{again:?}");
}

/// Control numbers holding `/` split differently (GS06 `1/2` with ST02 `3456`, GS06 `1` with
/// ST02 `2/3456`) made one key; each set now keeps its row.
#[tokio::test]
async fn control_numbers_split_differently_each_keep_their_ledger_row() {
    let env = env().await;
    let raw = interchange(&[
        ("1/2", &[invoice_set("3456", "SL-1")]),
        ("1", &[invoice_set("2/3456", "SL-2")]),
    ]);
    let report = env.ingest(&raw, "sl.edi").await;
    assert_eq!(report.accepted.len(), 2, "{report:?}");
    env.one_published_row_each(&["SL-1", "SL-2"]);
}
