//! The `gateway` binary as a user runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn gateway() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gateway"))
}

fn repo(path: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(path)
}

fn canonical(path: &str) -> gateway_model::Document {
    gateway_model::from_json(&std::fs::read(repo(path)).unwrap()).unwrap()
}

#[test]
fn convert_json_prints_the_canonical_document() {
    let out = gateway()
        .args(["convert", "--to", "json"])
        .arg(repo("samples/json/invoice/rich.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.lines().count(),
        1,
        "one JSON line per document: {text}"
    );
    let printed = gateway_model::from_json(text.as_bytes()).unwrap();
    assert_eq!(
        printed,
        canonical("samples/json/invoice/rich.canonical.json")
    );
    // decimals travel as strings with their scale
    assert!(text.contains(r#""total":"362.74""#), "{text}");
}

#[test]
fn convert_reads_stdin_and_keeps_source_order() {
    let inv = std::fs::read_to_string(repo("samples/json/invoice/rich.json")).unwrap();
    let po = std::fs::read_to_string(repo("samples/json/purchase_order/rich.json")).unwrap();
    let mut child = gateway()
        .args(["convert", "--to", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = format!("{}\n{}\n{}\n", po.trim(), inv.trim(), po.trim());
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let kinds: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            gateway_model::from_json(l.as_bytes())
                .unwrap()
                .kind()
                .to_string()
        })
        .collect();
    assert_eq!(kinds, ["purchase_order", "invoice", "purchase_order"]);
}

#[test]
fn validate_names_the_broken_fields_and_exits_1() {
    let text = std::fs::read_to_string(repo("samples/json/invoice/rich.canonical.json")).unwrap();
    let broken = text
        .replace(r#""invoice_number": "INV-2026-0042","#, "")
        .replace(r#""amount": "90.00""#, r#""amount": "99.00""#);
    assert_ne!(broken, text);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, broken).unwrap();
    let out = gateway().arg("validate").arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("$.invoice_number"), "{stdout}");
    assert!(stdout.contains("$.lines[1].amount"), "{stdout}");
    assert!(
        stdout.contains("99.00 does not equal quantity × unit_price = 90"),
        "{stdout}"
    );
}

#[test]
fn validate_passes_a_good_document() {
    let out = gateway()
        .arg("validate")
        .arg(repo("samples/json/purchase_order/rich.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn syntax_errors_are_located_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(&path, "{\"kind\": \"invoice\",\n  \"lines\": [}\n").unwrap();
    let out = gateway()
        .args(["convert", "--to", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("line 2 column"), "{stderr}");
}

#[test]
fn unsupported_target_lists_what_is_supported() {
    let out = gateway()
        .args(["convert", "--to", "pdf"])
        .arg(repo("samples/json/invoice/rich.json"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("json") && stderr.contains("x12"),
        "{stderr}"
    );
}

#[test]
fn missing_file_says_what_to_check() {
    let out = gateway()
        .args(["convert", "--to", "json", "/nonexistent/file.edi"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("cannot open /nonexistent/file.edi"),
        "{stderr}"
    );
}

#[test]
fn every_command_has_help_with_an_example() {
    for cmd in ["convert", "validate", "schema"] {
        let out = gateway().args([cmd, "--help"]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success());
        assert!(
            text.contains("Example"),
            "{cmd} --help has no example:\n{text}"
        );
    }
}

/// `--x12-threads` changes how fast, never what: a file of 70 interchanges (the golden invoice
/// repeated, so the repeated control numbers are rejects between the documents) prints the
/// same documents, the same rejects and the same exit status on one thread and on three.
#[test]
fn convert_x12_on_several_threads_prints_what_one_thread_prints() {
    let one = std::fs::read(repo("samples/x12/invoice/rich.edi")).unwrap();
    let input: Vec<u8> = one.repeat(70);
    let run = |threads: &str| {
        let mut child = gateway()
            .args(["convert", "--to", "json", "--x12-threads", threads, "-"])
            .env_remove("GATEWAY_X12_THREADS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&input).unwrap();
        child.wait_with_output().unwrap()
    };
    let sequential = run("1");
    let parallel = run("3");
    let documents = String::from_utf8_lossy(&sequential.stdout).lines().count();
    assert!(documents >= 1, "no documents: {sequential:?}");
    assert!(
        !sequential.stderr.is_empty(),
        "the repeated control numbers should be rejected"
    );
    assert_eq!(parallel.status.code(), sequential.status.code());
    assert_eq!(
        String::from_utf8_lossy(&parallel.stdout),
        String::from_utf8_lossy(&sequential.stdout)
    );
    assert_eq!(
        String::from_utf8_lossy(&parallel.stderr),
        String::from_utf8_lossy(&sequential.stderr)
    );
}
