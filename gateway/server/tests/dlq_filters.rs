//! `gateway dlq` filters as an operator's script gives them: an empty value and a partner no
//! one knows are refused before anything is taken.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn gateway() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gateway"))
}

/// The demo configuration (embedded bus and ledger in `dir`; partners acme, globex, nobody).
fn demo_config(dir: &Path) -> PathBuf {
    let cfg = dir.join("gateway.toml");
    std::fs::write(
        &cfg,
        gateway_server::demo::config_text(dir, "http://127.0.0.1:9", None, "dlqf"),
    )
    .unwrap();
    cfg
}

mod common;

use common::dead_invoice;

/// `gateway dlq <args> --config cfg`, standard input not a terminal (as in a script).
fn dlq(cfg: &Path, args: &[&str]) -> Output {
    gateway()
        .arg("dlq")
        .args(args)
        .arg("--config")
        .arg(cfg)
        .output()
        .unwrap()
}

fn dead_count(cfg: &Path) -> String {
    let out = dlq(cfg, &["list", "--consumer", "coupa-invoices"]);
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// QA's operator script ran `dlq purge --reason "$R"` with `R` empty: every reason contains "",
/// the "refusing to take every dead letter without --all" guard saw a filter, and all 5 dead
/// letters were purged without asking. An empty `--reason`, `--partner`, `--doc` or DOC_ID is
/// refused (exit 2) for every verb, and nothing is taken.
#[test]
fn dlq_refuses_an_empty_filter_and_takes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = demo_config(dir.path());
    dead_invoice(&cfg, "acme");
    dead_invoice(&cfg, "acme");
    assert_eq!(dead_count(&cfg), "coupa-invoices: 2 dead letter(s)");
    for (args, named) in [
        (
            &["purge", "--reason", "", "--note", "cleanup"][..],
            "--reason",
        ),
        (&["replay", "--reason", ""], "--reason"),
        (&["purge", "--yes", "--partner", ""], "--partner"),
        (&["replay", "--doc", ""], "DOC_ID/--doc"),
        (&["replay", " "], "DOC_ID/--doc"),
        (&["replay", "--dry-run", "--reason", ""], "--reason"),
    ] {
        let out = dlq(&cfg, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "{named} is empty: an empty filter would match every dead letter"
            )),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert_eq!(dead_count(&cfg), "coupa-invoices: 2 dead letter(s)");
}

/// `dlq replay --partner nosuchpartner` said "replayed 0" and exit 0, as if there were
/// nothing to do (`documents --partner acmee` refuses with exit 2). A partner neither the
/// configuration, the ledger nor a dead letter knows is refused the same way; a configured one
/// with nothing dead, and one only a dead letter names (a Coupa supplier without a profile),
/// are not.
#[test]
fn dlq_refuses_a_partner_no_one_knows() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = demo_config(dir.path());
    dead_invoice(&cfg, "acme");
    let unprofiled = dead_invoice(&cfg, "coupa-supplier-9");
    for verb in [
        &["replay"][..],
        &["purge", "--yes"],
        &["replay", "--dry-run"],
    ] {
        let out = dlq(&cfg, &[verb, &["--partner", "nosuchpartner"]].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{verb:?}: {stderr}");
        assert!(
            stderr.contains(
                "no partner \"nosuchpartner\" in the configuration, the ledger or the dead letters"
            ) && stderr.contains("the configured partners are acme, globex, nobody"),
            "{verb:?}: {stderr}"
        );
    }
    assert_eq!(dead_count(&cfg), "coupa-invoices: 2 dead letter(s)");

    let out = dlq(&cfg, &["replay", "--partner", "globex"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("coupa-invoices: replayed 0"));
    let out = dlq(
        &cfg,
        &["replay", "--dry-run", "--partner", "coupa-supplier-9"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("would replay 1 dead letter(s)") && stdout.contains(&unprofiled),
        "{stdout}"
    );
}
