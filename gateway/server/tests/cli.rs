//! The `gateway` binary as a user runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

mod common;

fn gateway() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gateway"))
}

fn repo(path: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(path)
}

fn canonical(path: &str) -> gateway_model::Document {
    gateway_model::from_json(&std::fs::read(repo(path)).unwrap()).unwrap()
}

/// Runs `command` with `input` on its standard input and everything it prints captured.
fn with_stdin(mut command: Command, input: &[u8]) -> std::process::Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Err(e) = child.stdin.take().unwrap().write_all(input) {
        // A command that refuses its arguments may exit before reading its input.
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
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

/// A problem found in a cXML invoice is also named where it is in the XML: the element or
/// attribute, the line's own number and the XML line (QA: `$.lines[0].quantity: missing` and
/// nothing a sender could look up); an invoice without a number is said to have none, not
/// printed as `(invoice )`.
#[test]
fn validate_names_where_in_the_cxml_a_problem_is() {
    let rich = std::fs::read_to_string(repo("samples/cxml/invoice/rich.xml")).unwrap();
    let broken = rich
        .replacen(r#"quantity="10""#, r#"quantity="""#, 1)
        .replacen(r#"invoiceID="INV-2026-0042""#, r#"invoiceID="""#, 1);
    assert_ne!(broken, rich);
    let line_of = |needle: &str| broken[..broken.find(needle).unwrap()].matches('\n').count() + 1;
    let item = line_of(r#"<InvoiceDetailItem invoiceLineNumber="1""#);
    let header = line_of("<InvoiceDetailRequestHeader");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("eq.xml");
    std::fs::write(&path, &broken).unwrap();
    let out = gateway().arg("validate").arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            r#"error: $.lines[0].quantity: missing: quantity is required (cXML: InvoiceDetailItem[@invoiceLineNumber="1"]/@quantity, line {item})"#
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "$.invoice_number: missing: the invoice number is required (cXML: InvoiceDetailRequestHeader/@invoiceID, line {header})"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "cXML document 1, payloadID 1773590400.42.INV-2026-0042@acme.example (invoice \
             without a number): error:"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("(invoice )"), "{stdout}");
}

/// An X12 problem is named at its segment and element, a line's by where its IT1 is in the
/// set, counted from ST as a 997's AK302 counts.
#[test]
fn validate_names_where_in_the_x12_set_a_problem_is() {
    let input = std::fs::read_to_string(repo("samples/x12/invoice/multi_po.edi")).unwrap();
    let broken = input.replacen("IT1*2*1*EA*25", "IT1*2**EA*25", 1);
    assert_ne!(broken, input);
    let position = broken
        .split('~')
        .map(str::trim)
        .skip_while(|s| !s.starts_with("ST*"))
        .position(|s| s.starts_with("IT1*2*"))
        .unwrap()
        + 1;
    let out = with_stdin(
        {
            let mut c = gateway();
            c.args(["validate", "-"]);
            c
        },
        broken.as_bytes(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "$.lines[1].quantity: missing: quantity is required (X12: IT102 of the IT1 at segment {position} of the set)"
        )),
        "{stdout}"
    );
}

/// Validated for a partner, what the running gateway refuses although the document reads
/// well (Coupa's limits, a cancellation) is an error, as the pipeline and the 997 make it; with
/// no partner nothing is known of where the invoice goes.
#[test]
fn validate_for_a_partner_names_what_the_gateway_would_refuse() {
    let input = std::fs::read_to_string(repo("samples/x12/invoice/rich.edi")).unwrap();
    let big = input
        .split('~')
        .map(str::trim)
        .find(|s| s.starts_with("BIG*"))
        .unwrap()
        .to_string();
    let mut elements: Vec<&str> = big.split('*').collect();
    elements.resize(9, "");
    elements[8] = "01";
    let cancelling = input.replacen(&big, &elements.join("*"), 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cancel.edi");
    std::fs::write(&path, cancelling).unwrap();
    let profile = dir.path().join("acme.partner.toml");
    std::fs::write(&profile, "id = \"acme\"\n").unwrap();
    let out = gateway()
        .arg("validate")
        .arg(&path)
        .arg("--partner")
        .arg(&profile)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "error at $.extensions.x12.elements.BIG08: an invoice cancellation (X12 BIG08 01)"
        ),
        "{stdout}"
    );
    let out = gateway().arg("validate").arg(&path).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// What the decoder tolerates (a set accepted with errors) is printed as a warning, and a
/// document with only warnings passes.
#[test]
fn validate_prints_what_was_tolerated_as_a_warning() {
    let input = std::fs::read_to_string(repo("samples/x12/invoice/rich.edi"))
        .unwrap()
        .replace("CTT*3~", "CTT*9~");
    assert!(input.contains("CTT*9~"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("miscounted.edi");
    std::fs::write(&path, input).unwrap();
    let out = gateway().arg("validate").arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("warning: ") && stdout.contains("CTT01 says 9 line items; the set holds 3"),
        "{stdout}"
    );
    assert!(stdout.contains("0 error(s), 1 warning(s)"), "{stdout}");
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

/// A configuration TOML cannot parse is named with its line and column, without printing the
/// line: `client_secret = "...` missing its closing quote printed the secret on standard error.
#[test]
fn a_broken_configuration_line_is_placed_not_printed() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        "[coupa]\nbase_url = \"http://127.0.0.1:1\"\nclient_id = \"gw\"\nclient_secret = \"CANARY-SECRET-77\n",
    )
    .unwrap();
    let out = gateway()
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(!stderr.contains("CANARY-SECRET-77"), "{stderr}");
    assert!(stderr.contains("line 4, column"), "{stderr}");
}

/// A missing profile is named once with the system's reason once: the reason was printed
/// twice ("No such file or directory (os error 2): No such file or directory (os error 2)").
#[test]
fn a_missing_partner_profile_is_named_with_its_reason_once() {
    let out = gateway()
        .args(["convert", "--partner", "no-such-profile.toml"])
        .arg(repo("samples/json/invoice/rich.json"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("cannot read partner profile no-such-profile.toml"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("os error").count(), 1, "{stderr}");
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
    // The commands as `gateway --help` lists them, so a new one cannot be left out.
    let top = gateway().arg("--help").output().unwrap();
    let top = String::from_utf8_lossy(&top.stdout).to_string();
    let commands: Vec<&str> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    for expected in [
        "convert",
        "validate",
        "documents",
        "resend",
        "dlq",
        "serve",
        "prune",
    ] {
        assert!(
            commands.contains(&expected),
            "{expected} missing from:\n{top}"
        );
    }
    for cmd in commands {
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
        let mut command = gateway();
        command
            .args(["convert", "--to", "json", "--x12-threads", threads, "-"])
            .env_remove("GATEWAY_X12_THREADS");
        with_stdin(command, &input)
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

/// The segments of an X12 interchange written with `*` and `~`, as lists of elements.
fn x12_segments(bytes: &[u8]) -> Vec<Vec<String>> {
    String::from_utf8_lossy(bytes)
        .split('~')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.split('*').map(str::to_string).collect())
        .collect()
}

fn segment<'s>(segments: &'s [Vec<String>], id: &str) -> &'s [String] {
    segments
        .iter()
        .find(|s| s[0] == id)
        .unwrap_or_else(|| panic!("no {id} segment in {segments:?}"))
}

fn validate_ack(args: &[&str], input: &[u8]) -> std::process::Output {
    let mut command = gateway();
    command.args(["validate", "--ack"]).args(args).arg("-");
    with_stdin(command, input)
}

/// `validate --ack` prints only the 997 a 4010 interchange gets: its envelope mirrors the
/// inbound one (sender and receiver swapped, same version and usage indicator), and it
/// accepts the one set of the golden invoice by group and control number.
#[test]
fn validate_ack_prints_the_997_with_the_envelope_mirrored() {
    let input = std::fs::read(repo("samples/x12/invoice/rich.edi")).unwrap();
    let out = validate_ack(&[], &input);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("1 document(s) read as x12, 0 error(s)"),
        "{stderr}"
    );
    let segs = x12_segments(&out.stdout);
    assert_eq!(segs.first().unwrap()[0], "ISA", "only the ack on stdout");
    assert_eq!(segs.last().unwrap()[0], "IEA");
    let isa = segment(&segs, "ISA");
    assert_eq!(isa[6].trim(), "GLOBEXCORP");
    assert_eq!(isa[8].trim(), "ACMESUPPLY");
    assert_eq!(isa[12], "00401");
    assert_eq!(isa[15], "P");
    let gs = segment(&segs, "GS");
    assert_eq!(&gs[1..4], ["FA", "GLOBEXCORP", "ACMESUPPLY"]);
    assert_eq!(segment(&segs, "ST")[1], "997");
    assert_eq!(segment(&segs, "AK1")[1..3], ["IN", "42"]);
    assert_eq!(segment(&segs, "AK2")[1..3], ["810", "0001"]);
    assert_eq!(segment(&segs, "AK5")[1], "A");
    assert_eq!(segment(&segs, "AK9")[1..5], ["A", "1", "1", "1"]);
    let st = segs.iter().position(|s| s[0] == "ST").unwrap();
    let se = segs.iter().position(|s| s[0] == "SE").unwrap();
    assert_eq!(segment(&segs, "SE")[1], (se - st + 1).to_string());
}

/// A set whose SE01 miscounts is rejected in the 997 (AK5 R, group AK9 R) and on standard
/// error with its location, and the exit status says so.
#[test]
fn validate_ack_rejects_a_miscounted_set_and_exits_1() {
    let input = std::fs::read_to_string(repo("samples/x12/invoice/rich.edi"))
        .unwrap()
        .replace("SE*34*0001~", "SE*33*0001~");
    let out = validate_ack(&[], input.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("SE01"), "{stderr}");
    let segs = x12_segments(&out.stdout);
    assert_eq!(segment(&segs, "AK5")[1], "R");
    assert_eq!(segment(&segs, "AK9")[1..5], ["R", "1", "1", "0"]);
}

/// With `--control-numbers` the ack's ISA13 and GS06 continue from the last ones issued, run
/// after run; without it every run starts at 1.
#[test]
fn validate_ack_control_numbers_continue_across_runs() {
    let input = std::fs::read(repo("samples/x12/invoice/rich.edi")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let counters = dir.path().join("x12-control");
    let numbers = |out: &std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let segs = x12_segments(&out.stdout);
        (
            segment(&segs, "ISA")[13].clone(),
            segment(&segs, "GS")[6].clone(),
        )
    };
    // The counters are a partner's: `--control-numbers` needs `--partner`.
    let profile = dir.path().join("acme.toml");
    std::fs::write(&profile, "id = \"acme\"\n").unwrap();
    let kept = [
        "--partner",
        profile.to_str().unwrap(),
        "--control-numbers",
        counters.to_str().unwrap(),
    ];
    // A new numbering is made on purpose: its folder is created first.
    std::fs::create_dir(&counters).unwrap();
    let first = numbers(&validate_ack(&kept, &input));
    let second = numbers(&validate_ack(&kept, &input));
    assert_eq!(first, ("000000001".to_string(), "1".to_string()));
    assert_eq!(second, ("000000002".to_string(), "2".to_string()));
    assert!(std::fs::read_dir(&counters).unwrap().count() > 0);
    let unkept = numbers(&validate_ack(&[], &input));
    assert_eq!(unkept.0, "000000001");
}

#[test]
fn validate_ack_refuses_input_that_is_not_x12() {
    let out = gateway()
        .args(["validate", "--ack"])
        .arg(repo("samples/cxml/invoice/rich.xml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("--ack acknowledges X12 input") && stderr.contains("without --ack"),
        "{stderr}"
    );
    let without_ack = gateway()
        .args(["validate", "--control-numbers", "somewhere"])
        .arg(repo("samples/x12/invoice/rich.edi"))
        .output()
        .unwrap();
    assert_eq!(without_ack.status.code(), Some(2));
}

/// `convert --to x12 --control-numbers` numbers interchanges from the counters it keeps, so
/// two runs never send the same ISA13.
#[test]
fn convert_to_x12_control_numbers_continue_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let counters = dir.path().join("x12-control");
    std::fs::create_dir(&counters).unwrap();
    let isa13 = || {
        let out = gateway()
            .args(["convert", "--to", "x12", "--control-numbers"])
            .arg(&counters)
            .arg(repo("samples/x12/invoice/rich.canonical.json"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        segment(&x12_segments(&out.stdout), "ISA")[13].clone()
    };
    assert_eq!(isa13(), "000000001");
    assert_eq!(isa13(), "000000002");
}

/// QA: `validate --ack --control-numbers state/x12-control` (the help's example) made that
/// folder and issued ISA13 1 again, repeating what the service had sent from its own counters
/// (`var/x12-control` beside the example's ledger). A folder that does not exist is refused,
/// saying where the service's are and how to start a numbering on purpose; nothing is made.
#[test]
fn control_numbers_refuse_a_folder_that_does_not_exist() {
    let input = std::fs::read(repo("samples/x12/invoice/rich.edi")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let counters = dir.path().join("state").join("x12-control");
    let profile = dir.path().join("acme.toml");
    std::fs::write(&profile, "id = \"acme\"\n").unwrap();
    let refused = validate_ack(
        &[
            "--partner",
            profile.to_str().unwrap(),
            "--control-numbers",
            counters.to_str().unwrap(),
        ],
        &input,
    );
    let converted = gateway()
        .args(["convert", "--to", "x12", "--control-numbers"])
        .arg(&counters)
        .arg(repo("samples/x12/invoice/rich.canonical.json"))
        .output()
        .unwrap();
    for out in [refused, converted] {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(out.stdout.is_empty(), "something was numbered: {stderr}");
        assert!(
            stderr.contains(&format!(
                "--control-numbers {} does not exist",
                counters.display()
            )) && stderr.contains("would start again from 1")
                && stderr.contains("x12-control beside its ledger, the folder of [ledger] path")
                && stderr.contains(&format!("mkdir -p {}", counters.display())),
            "{stderr}"
        );
    }
    assert!(!dir.path().join("state").exists(), "the folder was made");
    // A file is no folder of counters either.
    std::fs::write(dir.path().join("file"), "").unwrap();
    let out = gateway()
        .args(["convert", "--to", "x12", "--control-numbers"])
        .arg(dir.path().join("file"))
        .arg(repo("samples/x12/invoice/rich.canonical.json"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not a folder"), "{stderr}");
}

/// `--kind` reads a canonical JSON document that names no kind as that kind (so `--to cxml`
/// writes an OrderRequest); a document that names its kind keeps it; without `--kind` the
/// document is refused at `$.kind`.
#[test]
fn convert_kind_supplies_the_kind_a_document_does_not_name() {
    let mut order: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo("samples/json/purchase_order/rich.json")).unwrap(),
    )
    .unwrap();
    order.as_object_mut().unwrap().remove("kind");
    let invoice = std::fs::read_to_string(repo("samples/json/invoice/rich.json")).unwrap();
    let run = |args: &[&str], input: &str| {
        let mut command = gateway();
        command
            .args(["convert", "--to", "cxml", "--partner"])
            .arg(repo("samples/cxml/invoice/rich.partner.toml"))
            .args(args)
            .arg("-");
        with_stdin(command, input.as_bytes())
    };
    let kindless = format!("{}\n", serde_json::to_string(&order).unwrap());
    let refused = run(&[], &kindless);
    assert_eq!(refused.status.code(), Some(1));
    // QA: the refusal did not name the option made for it.
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains(
            "at $.kind: missing; expected \"invoice\" or \"purchase_order\"; name it \
                       in the document, or give --kind invoice or --kind purchase_order"
        ),
        "{said}"
    );
    let out = run(&["--kind", "purchase_order"], &kindless);
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        xml.contains("<OrderRequest>") && xml.contains("orderID=\"PO-7781\""),
        "{xml}"
    );
    let named = run(&["--kind", "purchase_order"], &invoice);
    let xml = String::from_utf8_lossy(&named.stdout);
    assert!(named.status.success());
    assert!(
        xml.contains("<InvoiceDetailRequest>") && !xml.contains("<OrderRequest"),
        "{xml}"
    );
}

/// A 005010 group gets a 999 (after its GS08), not a 997: ST01 999 with the implementation
/// guide in ST03 and GS08, AK1 naming the version, IK5 for the set.
#[test]
fn validate_ack_answers_a_5010_group_with_a_999() {
    let input = std::fs::read_to_string(repo("samples/x12/invoice/rich.edi"))
        .unwrap()
        .replacen("*00401*", "*00501*", 1)
        .replacen("*004010~", "*005010~", 1);
    let out = validate_ack(&[], input.as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let segs = x12_segments(&out.stdout);
    assert_eq!(segment(&segs, "ISA")[12], "00501");
    assert_eq!(segment(&segs, "GS")[8], "005010X231");
    assert_eq!(segment(&segs, "ST")[1..4], ["999", "0001", "005010X231"]);
    assert_eq!(segment(&segs, "AK1")[1..4], ["IN", "42", "005010"]);
    assert_eq!(segment(&segs, "IK5")[1], "A");
    assert!(
        segs.iter().all(|s| s[0] != "AK5"),
        "AK5 is the 997's: {segs:?}"
    );
}

/// The demo's configuration written to `dir/gateway.toml`, its state in `dir`, Coupa nowhere.
fn demo_config(dir: &std::path::Path) -> PathBuf {
    let cfg = dir.join("gateway.toml");
    std::fs::write(
        &cfg,
        gateway_server::demo::config_text(dir, "http://127.0.0.1:9", None, "cli"),
    )
    .unwrap();
    cfg
}

/// `gateway prune` removes what the configuration keeps past its time, after a dry run that
/// says the same and removes nothing; a file an undelivered invoice needs is kept.
#[test]
fn prune_dry_runs_then_removes_what_is_past_its_time() {
    use gateway_server::ledger::{Ledger, NewDocument};
    let dir = tempfile::tempdir().unwrap();
    let cfg = demo_config(dir.path());
    let cfg = cfg.to_str().unwrap();
    let old_day = dir.path().join("sftp/acme/archive/2020-01-01");
    std::fs::create_dir_all(&old_day).unwrap();
    std::fs::write(old_day.join("inv.edi"), b"ISA*00").unwrap();
    // Two stored files a year old: one an invoice still on its way needs, one nobody names.
    let ledger = Ledger::open(&dir.path().join("ledger.sqlite")).unwrap();
    let store = gateway_core::AttachmentStore::new(dir.path().join("attachments"));
    let year_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(365 * 86_400);
    let mut stored = Vec::new();
    for body in [&b"%PDF needed"[..], &b"%PDF orphan"[..]] {
        let r = store
            .put(&gateway_core::SupportingFile::received(
                "INV-9.pdf",
                "application/pdf",
                body.to_vec(),
            ))
            .unwrap();
        let path = dir
            .path()
            .join("attachments")
            .join(&r.sha256[..2])
            .join(format!("{}.bin", r.sha256));
        gateway_core::testkit::set_modified(&path, year_ago).unwrap();
        stored.push(r);
    }
    ledger
        .claim(&NewDocument {
            idempotency_key: "k9",
            doc_id: "d9",
            adapter: "email",
            partner: "acme",
            kind: "invoice",
            number: "INV-9",
            business_key: None,
        })
        .unwrap();
    ledger.record_attachments("k9", &stored[..1]).unwrap();
    drop(ledger);

    let dry = gateway()
        .args(["prune", "--config", cfg, "--dry-run"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(dry.status.success(), "{dry:?}");
    assert!(
        text.contains("archive: would remove 1 day folder(s), 1 file(s), 6 bytes"),
        "{text}"
    );
    assert!(
        text.contains("attachments: would remove 1 file(s), 11 bytes; kept 1"),
        "{text}"
    );
    assert!(old_day.join("inv.edi").exists());
    assert_eq!(store.stored().unwrap().len(), 2);

    let done = gateway()
        .args(["prune", "--config", cfg, "--json"])
        .output()
        .unwrap();
    assert!(done.status.success(), "{done:?}");
    let report: serde_json::Value = serde_json::from_slice(&done.stdout).unwrap();
    assert_eq!(report["archive_files"], 1, "{report}");
    assert_eq!(report["attachment_files"], 1, "{report}");
    assert_eq!(report["attachments_in_use"], 1, "{report}");
    assert!(!old_day.exists());
    assert!(store.get(&stored[0]).is_ok(), "the needed file stays");
    assert!(store.get(&stored[1]).is_err(), "the orphan goes");
}

/// `gateway documents` says which of a document's files the attachment store no longer holds:
/// for a done document, retention removed it (Coupa has its copy); for one still on its way,
/// it is missing, and the operator is told what that means.
#[test]
fn documents_says_which_files_the_store_no_longer_holds() {
    use gateway_server::ledger::{Ledger, NewDocument, Status};
    let dir = tempfile::tempdir().unwrap();
    let cfg = demo_config(dir.path());
    let cfg = cfg.to_str().unwrap();
    let ledger = Ledger::open(&dir.path().join("ledger.sqlite")).unwrap();
    let store = gateway_core::AttachmentStore::new(dir.path().join("attachments"));
    let put = |name: &str, body: &[u8]| {
        store
            .put(&gateway_core::SupportingFile::received(
                name,
                "application/pdf",
                body.to_vec(),
            ))
            .unwrap()
    };
    let (kept, pruned, lost) = (
        put("kept.pdf", b"%PDF kept"),
        put("pruned.pdf", b"%PDF pruned"),
        put("lost.pdf", b"%PDF lost"),
    );
    for (key, number, status, files) in [
        (
            "k-done",
            "INV-DONE",
            Status::Delivered,
            vec![kept.clone(), pruned.clone()],
        ),
        ("k-open", "INV-OPEN", Status::Published, vec![lost.clone()]),
    ] {
        ledger
            .claim(&NewDocument {
                idempotency_key: key,
                doc_id: &format!("doc-{key}"),
                adapter: "email",
                partner: "acme",
                kind: "invoice",
                number,
                business_key: None,
            })
            .unwrap();
        ledger.set_status(key, status, "").unwrap();
        ledger.record_attachments(key, &files).unwrap();
    }
    drop(ledger);
    for gone in [&pruned, &lost] {
        let path = dir
            .path()
            .join("attachments")
            .join(&gone.sha256[..2])
            .join(format!("{}.bin", gone.sha256));
        std::fs::remove_file(path).unwrap();
    }

    let out = gateway()
        .args(["documents", "--config", cfg])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |name: &str| {
        text.lines()
            .find(|l| l.contains(&format!("file: {name} ")))
            .unwrap_or_else(|| panic!("no line for {name}: {text}"))
            .to_string()
    };
    assert!(
        line("kept.pdf").ends_with(&format!("{})", kept.sha256)),
        "{text}"
    );
    assert!(
        line("pruned.pdf").ends_with(
            "removed from the attachment store by retention after the document was done"
        ),
        "{text}"
    );
    assert!(
        line("lost.pdf").contains("MISSING from the attachment store")
            && line("lost.pdf").contains("resend the document with its file"),
        "{text}"
    );

    let out = gateway()
        .args(["documents", "--config", cfg, "--json"])
        .output()
        .unwrap();
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let row = |number: &str| rows.iter().find(|r| r["number"] == number).unwrap();
    let not_stored = |number: &str| {
        row(number)["attachments_not_stored"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let named = row("INV-DONE")["attachments"]
        .as_str()
        .unwrap()
        .lines()
        .count();
    assert_eq!(named, 2, "the ledger still names both");
    let done = not_stored("INV-DONE");
    assert_eq!(done.len(), 1, "{done:?}");
    assert!(done[0].starts_with("pruned.pdf ") && done[0].contains(&pruned.sha256));
    let open = not_stored("INV-OPEN");
    assert!(
        open.len() == 1 && open[0].contains(&lost.sha256),
        "{open:?}"
    );
}

/// `gateway documents` reads the ledger the configuration names: each document's fate, and
/// for one a partner refused, the partner's reasons; filters narrow it; a configuration whose
/// gateway never ran says so.
#[test]
fn documents_lists_the_ledger_with_the_partners_verdict() {
    use gateway_server::ledger::{Ledger, NewDocument, Status};
    let dir = tempfile::tempdir().unwrap();
    let cfg = demo_config(dir.path());
    let cfg = cfg.to_str().unwrap();
    let out = gateway()
        .args(["documents", "--config", cfg])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no ledger at") && err.contains("has not run"),
        "{err}"
    );

    let ledger = Ledger::open(&dir.path().join("ledger.sqlite")).unwrap();
    ledger
        .record_rejections(&[(
            NewDocument {
                idempotency_key: "rejected:abc/810 0007",
                doc_id: "doc-unread",
                adapter: "x12",
                partner: "acme",
                kind: "unknown",
                number: "810 0007",
                business_key: None,
            },
            "line 9, set 0007 (810), segment SE (#9), element SE01: SE01 says \"99\"".into(),
            String::new(),
        )])
        .unwrap();
    for (key, partner, kind, number) in [
        ("k-inv", "acme", "invoice", "INV-7"),
        ("k-po", "globex", "purchase_order", "PO-GLOBEX-9"),
    ] {
        ledger
            .claim(&NewDocument {
                idempotency_key: key,
                doc_id: &format!("doc-{key}"),
                adapter: "test",
                partner,
                kind,
                number,
                business_key: None,
            })
            .unwrap();
        ledger
            .set_status(key, Status::Delivered, "delivered: ref")
            .unwrap();
    }
    ledger
        .record_partner_ack(
            "k-po",
            false,
            "rejected (R) in 997 0001: segment N1 at position 3",
        )
        .unwrap();
    drop(ledger);

    let out = gateway()
        .args(["documents", "--config", cfg])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("INV-7") && text.contains("PO-GLOBEX-9"),
        "{text}"
    );
    assert!(text.contains("3 document(s)"), "{text}");

    let out = gateway()
        .args(["documents", "--config", cfg, "--status", "partner_rejected"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("INV-7"), "{text}");
    assert!(
        text.contains("partner_rejected")
            && text.contains("PO-GLOBEX-9")
            && text.contains("partner said: rejected (R) in 997 0001: segment N1 at position 3"),
        "{text}"
    );

    let out = gateway()
        .args(["documents", "--config", cfg, "--kind", "invoice", "--json"])
        .output()
        .unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["number"], "INV-7");
    assert_eq!(lines[0]["status"], "delivered");

    // What could not be read is listed by its own kind, with where and why.
    let out = gateway()
        .args(["documents", "--config", cfg, "--kind", "unknown"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("810 0007") && text.contains("rejected") && text.contains("SE01 says"),
        "{text}"
    );
    assert!(!text.contains("INV-7"), "{text}");

    // `gateway partners`: each partner's documents by fate, the demo's third partner (which
    // sent nothing) included; notes count.
    let ledger = Ledger::open(&dir.path().join("ledger.sqlite")).unwrap();
    ledger
        .record_notes("k-inv", "line 35, segment CTT: CTT01 says 9 line items")
        .unwrap();
    drop(ledger);
    let out = gateway()
        .args(["partners", "--config", cfg, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let row = |id: &str| {
        rows.iter()
            .find(|r| r["partner"] == id)
            .unwrap_or_else(|| panic!("{id} missing: {rows:?}"))
    };
    let acme = row("acme");
    assert_eq!(
        (
            &acme["documents"],
            &acme["delivered"],
            &acme["rejected"],
            &acme["noted"]
        ),
        (
            &serde_json::json!(2),
            &serde_json::json!(1),
            &serde_json::json!(1),
            &serde_json::json!(1)
        ),
        "{acme}"
    );
    let globex = row("globex");
    assert_eq!(
        (
            &globex["documents"],
            &globex["partner_rejected"],
            &globex["delivered"]
        ),
        (
            &serde_json::json!(1),
            &serde_json::json!(1),
            &serde_json::json!(0)
        ),
        "{globex}"
    );
    assert_eq!(row("nobody")["documents"], serde_json::json!(0), "{rows:?}");
    let out = gateway()
        .args(["documents", "--config", cfg, "--noted"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("INV-7")
            && !text.contains("PO-GLOBEX-9")
            && text.contains("noted: line 35, segment CTT: CTT01 says 9 line items"),
        "{text}"
    );
    let out = gateway()
        .args(["partners", "--config", cfg])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("partner ")
            && text
                .lines()
                .any(|l| l.starts_with("nobody") && l.ends_with("never")),
        "{text}"
    );
}

/// A partner's 997 is not acknowledged: `validate --ack` prints no 997/999, says why, and shows
/// what the 997 says about each set it answers.
#[test]
fn validate_ack_reads_a_partners_997_and_does_not_acknowledge_it() {
    let fa = "ISA*00*          *00*          *ZZ*GLOBEX         *ZZ*US             *261203*1200*U*00401*000000901*0*P*>~\n\
GS*FA*GLOBEX*US*20261203*1200*901*X*004010~\nST*997*0001~\nAK1*PO*12~\nAK2*850*0001~\n\
AK3*PO1*4**8~\nAK4*2**1~\nAK5*R*5~\nAK9*R*1*1*0~\nSE*8*0001~\nGE*1*901~\nIEA*1*000000901~\n";
    let out = validate_ack(&[], fa.as_bytes());
    assert!(out.status.success());
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&out.stderr);
    for want in [
        "997 0001 from ZZ:GLOBEX answers group 12 (PO), set 0001: rejected (R)",
        "segment PO1 at position 4: segment has data element errors (8)",
        "element 2: required data element missing (1)",
        "nothing to acknowledge: acknowledgments (997/999/TA1) are never acknowledged",
    ] {
        assert!(text.contains(want), "{want} in\n{text}");
    }
    // A TA1 refusing one of our interchanges is shown the same way.
    let ta1 = "ISA*00*          *00*          *ZZ*GLOBEX         *ZZ*US             *261203*1200*U*00401*000000902*0*P*>~\n\
TA1*000000007*261203*1200*R*025~\nIEA*0*000000902~\n";
    let out = validate_ack(&[], ta1.as_bytes());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("from ZZ:GLOBEX: interchange rejected because of errors (R) by TA1 for interchange 000000007: duplicate interchange control number (025)"),
        "{text}"
    );
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// An 810 without its supplier's N1 loop: refused in the 997 (and exit 1) when nothing says
/// who the supplier is; accepted, with a warning, for a partner whose profile names its
/// Coupa supplier, as the service accepts and delivers it.
#[test]
fn validate_ack_accepts_an_810_without_n1_su_for_a_partner_that_names_its_supplier() {
    let input = std::fs::read_to_string(repo("samples/x12/invoice/rich.edi"))
        .unwrap()
        .replace(
            "N1*SU*Acme Industrial Supply*1*123456789~\nN3*100 Factory Road*Building 4~\nN4*Springfield*IL*62701*US~\nPER*IC*Dana Ortiz*TE*+1 217 555 0100*EM*billing@acme.example~\n",
            "",
        )
        .replace("SE*34*0001~", "SE*30*0001~");
    assert!(!input.contains("N1*SU"));
    let out = validate_ack(&[], input.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("$.supplier: missing"), "{stderr}");
    let segs = x12_segments(&out.stdout);
    assert_eq!(segment(&segs, "AK5")[1..3], ["R", "5"]);

    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("acme.toml");
    std::fs::write(
        &profile,
        "id = \"acme\"\n[coupa_supplier]\nnumber = \"ACME-1\"\n",
    )
    .unwrap();
    let out = validate_ack(&["--partner", profile.to_str().unwrap()], input.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "warning: $.supplier: no supplier party; the partner profile's Coupa supplier is used"
        ),
        "{stderr}"
    );
    let segs = x12_segments(&out.stdout);
    assert_eq!(segment(&segs, "AK5")[1], "A");
}

#[test]
fn tell_supplier_is_refused_outside_purge_with_what_to_do() {
    let out = gateway()
        .args(["dlq", "replay", "--all", "--tell-supplier"])
        .args(["--config", "no-such-gateway.toml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--tell-supplier goes with purge") && err.contains("gateway dlq purge"),
        "{err}"
    );
}

/// The README's first command: the demo runs on the embedded bus with nothing set up, and
/// every expected outcome happens, the operator's replay of the poison invoice included.
#[test]
fn the_demo_runs_and_every_expected_outcome_happens() {
    let out = gateway().arg("demo").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("demo: every expected outcome happened"),
        "{text}"
    );
    for expected in [
        "Coupa now: a replay would fail again: ",
        "Coupa now: not there: a replay would create invoice DEMO-POISON-1 for supplier NOT-IN-COUPA",
        "coupa-invoices: replayed 1 dead letter(s)",
        "DEMO-POISON-1 in Coupa after the replay: yes, once",
        "DEMO-CXML-PDF-1   HTTP 200, cXML 200 OK        yes, with its PDF attached",
        "email      DEMO-MAIL-1       mailed from billing@acme     yes, with its PDF attached",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

/// What the TA1 notes while accepting an interchange (an ISA06 10 characters wide: TA1 E 006)
/// is a warning `validate` prints with where it is and the TA1 code, and counts; `--ack`
/// prints the same line on standard error beside the TA1 it sends.
#[test]
fn validate_prints_and_counts_the_interchange_problems_the_ta1_notes() {
    let input = std::fs::read_to_string(repo("samples/x12/invoice/rich.edi")).unwrap();
    let isa06 = input.split('*').nth(6).unwrap().to_string();
    assert_eq!(isa06.len(), 15, "{isa06:?}");
    let short = format!("{:<10}", isa06.trim());
    let input = input.replacen(&isa06, &short, 1);
    let want = "warning: line 1, interchange 000000042: ISA06 is 10 characters wide; the standard fixes it at 15 (TA1 note 006)";
    let out = with_stdin(
        {
            let mut c = gateway();
            c.args(["validate", "-"]);
            c
        },
        input.as_bytes(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains(want), "{stdout}");
    assert!(stdout.contains("0 error(s), 1 warning(s)"), "{stdout}");
    let out = validate_ack(&[], input.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(want), "{stderr}");
    let segs = x12_segments(&out.stdout);
    assert_eq!(segment(&segs, "TA1")[4..6], ["E", "006"]);
}

/// An empty file read as X12 holds no interchange: `convert` and `validate` say so and exit 1,
/// and `validate --ack` has nothing to acknowledge, says why, and exits 1.
#[test]
fn an_empty_x12_input_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("e.edi");
    std::fs::write(&empty, b"").unwrap();
    for args in [
        &["convert", "--from", "x12"][..],
        &["validate", "--from", "x12"],
        &["validate", "--ack", "--from", "x12"],
    ] {
        let out = gateway().args(args).arg(&empty).output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(1), "{args:?}: {text}");
        assert!(
            text.contains("the input holds no interchange: it is empty or blank"),
            "{args:?}: {text}"
        );
    }
}

/// An interchange header too broken to read (`ISA*` and no separators after it): no TA1 with
/// empty elements is printed; `--ack` says there is nothing to acknowledge and why, and exits
/// 1. `convert`, streaming it, reports the data it skipped once, not once per read.
#[test]
fn an_unreadable_interchange_gets_no_acknowledgment_and_its_skipped_data_one_report() {
    let input = format!("ISA*{}", "B".repeat(3 << 20));
    let out = validate_ack(&["--from", "x12"], input.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        stderr.contains(
            "no TA1 answers it: ISA05, ISA06, ISA07, ISA08, ISA13, ISA09, ISA10 cannot be read"
        ) && stderr.contains("nothing to acknowledge: no interchange with a usable ISA header"),
        "{stderr}"
    );
    let mut command = gateway();
    command.args(["convert", "--from", "x12", "-"]);
    let out = with_stdin(command, input.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let skipped: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("data before it was skipped"))
        .collect();
    assert_eq!(skipped.len(), 1, "{stderr}");
    assert!(
        skipped[0].contains(&format!("({} bytes from here on)", (3 << 20) + 1)),
        "{stderr}"
    );
}

/// Several documents to cXML, which carries one per message: without `--out-dir` nothing is
/// concatenated into an invalid file (exit 2, saying what to use); with it each document is
/// its own complete cXML file that reads back as that document.
#[test]
fn convert_to_cxml_writes_several_documents_one_file_each_with_out_dir() {
    let csv = repo("samples/csv/invoice/coupa_import.csv");
    let partner = repo("samples/cxml/invoice/rich.partner.toml");
    let out = gateway()
        .args(["convert", "--to", "cxml", "--partner"])
        .arg(&partner)
        .arg(&csv)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing concatenated");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--out-dir"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    let out = gateway()
        .args(["convert", "--to", "cxml", "--partner"])
        .arg(&partner)
        .arg("--out-dir")
        .arg(dir.path())
        .arg(&csv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Vec<PathBuf> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(PathBuf::from)
        .collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let mut numbers = Vec::new();
    for file in &listed {
        let xml = std::fs::read_to_string(file).unwrap();
        assert_eq!(xml.matches("<cXML").count(), 1, "{}", file.display());
        let back = gateway()
            .args(["convert", "--to", "json"])
            .arg(file)
            .output()
            .unwrap();
        assert!(
            back.status.success(),
            "{}",
            String::from_utf8_lossy(&back.stderr)
        );
        let doc: serde_json::Value = serde_json::from_slice(&back.stdout).unwrap();
        numbers.push(doc["invoice_number"].as_str().unwrap().to_string());
    }
    let from_csv = gateway()
        .args(["convert", "--to", "json"])
        .arg(&csv)
        .output()
        .unwrap();
    let expected: Vec<String> = String::from_utf8(from_csv.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["invoice_number"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(numbers, expected);
}

/// X12 written without a partner's ids names made-up parties: said on standard error, so the
/// interchange is not sent as it is (it was written silently).
#[test]
fn x12_written_without_a_partners_ids_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let run = |partner: Option<&std::path::Path>| {
        let mut command = gateway();
        command.args(["convert", "--to", "x12"]);
        if let Some(p) = partner {
            command.arg("--partner").arg(p);
        }
        command
            .arg(repo("samples/json/invoice/rich.json"))
            .output()
            .unwrap()
    };
    let bare = run(None);
    assert!(bare.status.success());
    assert!(String::from_utf8_lossy(&bare.stdout).starts_with("ISA"));
    let stderr = String::from_utf8_lossy(&bare.stderr);
    assert!(
        stderr.contains("no partner profile with an [x12] section") && stderr.contains("--partner"),
        "{stderr}"
    );
    let profile = dir.path().join("acme.toml");
    std::fs::write(
        &profile,
        "id = \"acme\"\n[x12]\nour_id = \"OURID\"\npartner_id = \"ACMEID\"\n",
    )
    .unwrap();
    let named = run(Some(&profile));
    assert!(
        named.status.success(),
        "{}",
        String::from_utf8_lossy(&named.stderr)
    );
    assert!(String::from_utf8_lossy(&named.stdout).contains("ACMEID"));
    assert!(
        !String::from_utf8_lossy(&named.stderr).contains("no partner profile"),
        "{}",
        String::from_utf8_lossy(&named.stderr)
    );
}

/// A document the writer refuses is an input reject (exit 1, naming the document and its
/// path), not a usage error: in one X12 interchange nothing is written and the message says
/// which document to fix; with `--out-dir` the others are written.
#[test]
fn convert_reports_a_document_it_cannot_write_and_exits_1() {
    let rich: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo("samples/x12/invoice/rich.canonical.json")).unwrap(),
    )
    .unwrap();
    let mut good = rich.clone();
    good["invoice_number"] = "GOOD-1".into();
    let mut bad = rich;
    bad["invoice_number"] = "BAD-2".into();
    // A delimiter in an id (in free text it would be written as a space).
    bad["lines"][0]["supplier_part_id"] = "GLV~NIT".into();
    let input = format!("{good}\n{bad}\n");
    let run = |args: &[&str]| {
        let mut command = gateway();
        command.args(["convert", "--to", "x12"]).args(args).arg("-");
        with_stdin(command, input.as_bytes())
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nothing written")
            && stderr.contains("document 2")
            && stderr.contains("$.lines[0]"),
        "{stderr}"
    );

    let dir = tempfile::tempdir().unwrap();
    let out = run(&["--out-dir", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not written (document 2)"), "{stderr}");
    let written: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(written, ["0001-GOOD-1.edi"]);
}

/// `[mailbox.smtp]` configured (as in the example configuration), `dlq purge --tell-supplier
/// --dry-run` says a supplier whose channel is e-mail would be told by mail, sends nothing and
/// exits 0: setting up the SMTP relay needs no relay and no async runtime.
#[test]
fn dlq_purge_tell_supplier_dry_run_with_an_smtp_relay_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = demo_config(dir.path());
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(
        "\n[[partners]]\nid = \"mailco\"\n[partners.outbound]\ntype = \"email\"\n\
         to = \"ap@mailco.example\"\n\n[mailbox.smtp]\nhost = \"127.0.0.1\"\nport = 9\n\
         security = \"starttls\"\nfrom = \"Invoices <invoices@globex.example>\"\n",
    );
    std::fs::write(&cfg, text).unwrap();
    let id = common::dead_invoice(&cfg, "mailco");
    let out = gateway()
        .args([
            "dlq",
            "purge",
            "--partner",
            "mailco",
            "--tell-supplier",
            "--dry-run",
        ])
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("would purge 1 dead letter(s)")
            && stdout.contains(&id)
            && stdout.contains("supplier would be told by a mail to ap@mailco.example"),
        "{stdout}\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Operator commands open the embedded bus the configuration names only when it exists: a
/// wrong path (a relative one resolved in another folder) is an error that says so, and
/// nothing is created there.
#[test]
fn dlq_against_a_missing_bus_says_so_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = demo_config(dir.path());
    let out = gateway()
        .args(["dlq", "list", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let bus = dir.path().join("bus.sqlite");
    assert!(
        stderr.contains(&format!("no bus at {}", bus.display()))
            && stderr.contains("the gateway has not run with this configuration yet")
            && stderr.contains("relative paths resolve against the current directory"),
        "{stderr}"
    );
    assert!(!bus.exists(), "an empty bus was created");

    // A relative path, run from another folder: no var/ appears there.
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        &format!("embedded_path = \"{}\"", bus.display()),
        "embedded_path = \"var/bus.sqlite\"",
    );
    assert!(text.contains("\"var/bus.sqlite\""), "{text}");
    std::fs::write(&cfg, text).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let out = gateway()
        .args(["dlq", "list", "--config"])
        .arg(&cfg)
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no bus at var/bus.sqlite")
            && stderr.contains(&format!(
                "relative paths resolve against the current directory, here {}",
                elsewhere.path().canonicalize().unwrap().display()
            )),
        "{stderr}"
    );
    assert!(!elsewhere.path().join("var").exists(), "var/ was created");
}

/// A DOC_ID that names no dead letter is an error naming it (exit 1) for every verb, and
/// nothing is taken; one that is there but outside --partner says that.
#[test]
fn dlq_ids_that_match_no_dead_letter_are_named_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = demo_config(dir.path());
    let id = common::dead_invoice(&cfg, "acme");
    for verb in [
        &["show"][..],
        &["list"],
        &["replay"],
        &["purge", "--yes"],
        &["replay", "--dry-run"],
    ] {
        let out = gateway()
            .arg("dlq")
            .args(verb)
            .arg("nonexistent-id")
            .arg("--config")
            .arg(&cfg)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{verb:?}: {stderr}");
        assert!(
            stderr.contains(
                "no dead letter with id nonexistent-id in coupa-invoices, supplier-orders; \
                 `gateway dlq list` shows them"
            ),
            "{verb:?}: {stderr}"
        );
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("0 dead letter"),
            "{verb:?}"
        );
    }
    let out = gateway()
        .args(["dlq", "replay", "--partner", "globex"])
        .arg(&id)
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "dead letter {id} (in coupa-invoices) does not match"
        )),
        "{stderr}"
    );
    // Still there, and found by its id.
    let out = gateway()
        .args(["dlq", "list", "--consumer", "coupa-invoices"])
        .arg(&id)
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("coupa-invoices: 1 dead letter(s)"),
        "{stdout}"
    );
}

/// `gateway documents`: an unknown status is refused with the valid ones, an unknown partner
/// with the configured ones (exit 2); a partner the ledger knows but the configuration no
/// longer names is still listed.
#[test]
fn documents_refuses_an_unknown_status_or_partner() {
    use gateway_server::ledger::{Ledger, NewDocument};
    let dir = tempfile::tempdir().unwrap();
    let cfg = demo_config(dir.path());
    let ledger = Ledger::open(&dir.path().join("ledger.sqlite")).unwrap();
    ledger
        .claim(&NewDocument {
            idempotency_key: "k-gone",
            doc_id: "doc-gone",
            adapter: "x12",
            partner: "initech",
            kind: "invoice",
            number: "INV-OLD",
            business_key: None,
        })
        .unwrap();
    drop(ledger);
    let documents = |args: &[&str]| {
        gateway()
            .arg("documents")
            .arg("--config")
            .arg(&cfg)
            .args(args)
            .output()
            .unwrap()
    };
    let out = documents(&["--status", "bogus"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bogus")
            && [
                "received",
                "delivered",
                "dead",
                "purged",
                "partner_rejected"
            ]
            .iter()
            .all(|s| stderr.contains(s)),
        "{stderr}"
    );
    let out = documents(&["--partner", "nosuch"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no partner \"nosuch\"") && stderr.contains("acme, globex, nobody"),
        "{stderr}"
    );
    let out = documents(&["--partner", "initech"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        stdout.contains("INV-OLD") && stdout.contains("1 document(s)"),
        "{stdout}"
    );
    let out = documents(&["--partner", "nobody", "--status", "received"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 document(s)"));
}

/// The listing is in the order its header says (the last received first), and each line
/// starts with the time it is ordered by, though an older document changed since.
#[test]
fn documents_lines_start_with_the_time_they_are_ordered_by() {
    use gateway_server::ledger::{Ledger, NewDocument, Status};
    let dir = tempfile::tempdir().unwrap();
    let cfg = demo_config(dir.path());
    let ledger = Ledger::open(&dir.path().join("ledger.sqlite")).unwrap();
    for (key, number) in [("k-first", "INV-FIRST"), ("k-second", "INV-SECOND")] {
        ledger
            .claim(&NewDocument {
                idempotency_key: key,
                doc_id: &format!("doc-{key}"),
                adapter: "test",
                partner: "acme",
                kind: "invoice",
                number,
                business_key: None,
            })
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The first one received changes last.
    ledger
        .set_status("k-first", Status::Delivered, "delivered: ref")
        .unwrap();
    drop(ledger);
    let out = gateway()
        .args(["documents", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("received (last received first)"),
        "{text}"
    );
    let firsts: Vec<(&str, &str)> = lines
        .filter(|l| l.contains("INV-"))
        .map(|l| (l.split_whitespace().next().unwrap(), l))
        .collect();
    assert_eq!(firsts.len(), 2, "{text}");
    assert!(firsts[0].1.contains("INV-SECOND"), "{text}");
    assert!(firsts[0].0 > firsts[1].0, "not newest first: {text}");
    let json = gateway()
        .args(["documents", "--json", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&json.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for ((shown, _), row) in firsts.iter().zip(&rows) {
        assert_eq!(*shown, row["received_at"], "{text}");
    }
    assert!(
        firsts[1].1.contains(&format!(
            "last change {}",
            rows[1]["updated_at"].as_str().unwrap()
        )),
        "{text}"
    );
}

/// Output into a pipe its reader closed (`gateway schema | head -1`) ends quietly.
#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = gateway()
        .arg("schema")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

/// `gateway resend` of an invoice says what it is, in words, and what to do instead, before
/// it opens the bus.
#[test]
fn resend_of_an_invoice_says_it_is_an_invoice() {
    use gateway_server::ledger::{Ledger, NewDocument};
    let dir = tempfile::tempdir().unwrap();
    let cfg = demo_config(dir.path());
    let ledger = Ledger::open(&dir.path().join("ledger.sqlite")).unwrap();
    ledger
        .claim(&NewDocument {
            idempotency_key: "k-inv",
            doc_id: "doc-inv",
            adapter: "x12",
            partner: "acme",
            kind: "invoice",
            number: "INV-7",
            business_key: None,
        })
        .unwrap();
    drop(ledger);
    let out = gateway()
        .args(["resend", "--config"])
        .arg(&cfg)
        .arg("doc-inv")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("doc-inv is an invoice from x12, not a purchase order")
            && stderr.contains("gateway dlq replay doc-inv"),
        "{stderr}"
    );
    assert!(!stderr.contains("a invoice"), "{stderr}");
    assert!(!dir.path().join("bus.sqlite").exists());
}

/// Runs `gateway convert --to json --out-dir dir` (with `extra` arguments) on `documents`,
/// each a canonical invoice sent as one JSON line on standard input.
fn convert_into(
    dir: &std::path::Path,
    extra: &[&str],
    documents: &[serde_json::Value],
) -> std::process::Output {
    let input: String = documents.iter().map(|d| format!("{d}\n")).collect();
    let mut command = gateway();
    command
        .args(["convert", "--to", "json", "--out-dir"])
        .arg(dir)
        .args(extra)
        .arg("-");
    with_stdin(command, input.as_bytes())
}

/// The file names in `dir`, sorted: what a run left there, temporary files included.
fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

/// `--out-dir` never replaces a file silently: a second input whose document maps to a name
/// already there (same place, same number) is refused before anything is written, naming the
/// file and what to do (exit 2), and the first run's file is untouched; `--force` replaces
/// it. Before, the second run overwrote the first's file without a word.
#[test]
fn convert_out_dir_refuses_to_replace_a_file_unless_forced() {
    let invoice = |comment: &str, number: &str| {
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(repo("samples/json/invoice/rich.json")).unwrap())
                .unwrap();
        v["comments"] = comment.into();
        v["invoice_number"] = number.into();
        v
    };
    let dir = tempfile::tempdir().unwrap();
    let first = convert_into(
        dir.path(),
        &[],
        &[invoice("first run", "INV-7"), invoice("first run", "INV-8")],
    );
    assert!(first.status.success(), "{first:?}");
    assert_eq!(names_in(dir.path()), ["0001-INV-7.json", "0002-INV-8.json"]);
    let kept = std::fs::read_to_string(dir.path().join("0001-INV-7.json")).unwrap();
    assert!(kept.contains("first run"), "{kept}");

    // Another input: its first document is INV-7 too, its second a new name.
    let second = [
        invoice("second run", "INV-7"),
        invoice("second run", "INV-9"),
    ];
    let refused = convert_into(dir.path(), &[], &second);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("0001-INV-7.json already exists")
            && stderr.contains("--force")
            && stderr.contains("another --out-dir"),
        "{stderr}"
    );
    assert!(refused.stdout.is_empty(), "{refused:?}");
    // Nothing written, not even the document whose name was free, and no temporary file left.
    assert_eq!(names_in(dir.path()), ["0001-INV-7.json", "0002-INV-8.json"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("0001-INV-7.json")).unwrap(),
        kept
    );

    let forced = convert_into(dir.path(), &["--force"], &second);
    assert!(forced.status.success(), "{forced:?}");
    assert_eq!(
        names_in(dir.path()),
        ["0001-INV-7.json", "0002-INV-8.json", "0002-INV-9.json"]
    );
    let replaced = std::fs::read_to_string(dir.path().join("0001-INV-7.json")).unwrap();
    assert!(replaced.contains("second run"), "{replaced}");
    let listed = String::from_utf8(forced.stdout).unwrap();
    assert_eq!(listed.lines().count(), 2, "{listed}");

    // --force means nothing without --out-dir: refused, not ignored.
    let mut command = gateway();
    command.args(["convert", "--to", "json", "--force", "-"]);
    let bare = with_stdin(command, b"{}");
    assert_eq!(bare.status.code(), Some(2), "{bare:?}");
    let help = gateway().args(["convert", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--out-dir invoices/ --force"), "{help}");
}

/// Two documents of one run never share a file, the same number included: each name starts
/// with the document's place in the input, and each file reads back as its own document.
#[test]
fn convert_out_dir_keeps_two_documents_with_one_number_apart() {
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo("samples/json/invoice/rich.json")).unwrap())
            .unwrap();
    v["invoice_number"] = "INV/7".into();
    let mut other = v.clone();
    other["invoice_number"] = "INV:7".into();
    other["comments"] = "the other one".into();
    let dir = tempfile::tempdir().unwrap();
    let out = convert_into(dir.path(), &[], &[v, other]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(names_in(dir.path()), ["0001-INV_7.json", "0002-INV_7.json"]);
    let second = std::fs::read_to_string(dir.path().join("0002-INV_7.json")).unwrap();
    assert!(
        second.contains("the other one") && second.contains("INV:7"),
        "{second}"
    );
}

/// A CSV problem is named at its row and column as a spreadsheet shows them: rows counted from
/// the file's first (header rows included, as the CSV rejects count them), the column by its
/// header name and letter.
#[test]
fn validate_names_where_in_the_csv_a_problem_is() {
    let input = std::fs::read_to_string(repo("samples/csv/invoice/coupa_multi_po.csv")).unwrap();
    let broken = input
        .replacen("PPR-A4-5,45.00,2,BX", "PPR-A4-5,45.00,,BX", 1)
        .replacen("SUP-001,2026-04-02,USD", "SUP-001,,USD", 1);
    assert_ne!(broken, input);
    let row_of = |needle: &str| broken.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let (line_row, invoice_row) = (row_of("Printer paper A4"), row_of("Invoice,INV-2001"));
    assert_eq!((line_row, invoice_row), (5, 3));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("multi.csv");
    std::fs::write(&path, &broken).unwrap();
    let out = gateway().arg("validate").arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    // `Quantity` is the Invoice Line header's 8th column (H), `Invoice Date*` the Invoice
    // header's 5th (E); the `*` is Coupa's "required" mark, not part of the name.
    assert!(
        stdout.contains(&format!(
            r#"error: $.lines[1].quantity: missing: quantity is required (CSV: row {line_row}, column "Quantity" (H))"#
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            r#"$.invoice_date: missing: the invoice date is required (CSV: row {invoice_row}, column "Invoice Date" (E))"#
        )),
        "{stdout}"
    );
}

/// A Coupa PO its supplier's record leaves to Coupa (po-method prompt) is listed by `gateway
/// documents`, under `--status awaiting_operator`, with why and what sends it.
#[test]
fn documents_lists_a_po_awaiting_the_operator() {
    use gateway_server::ledger::{Ledger, NewDocument};
    let dir = tempfile::tempdir().unwrap();
    let cfg = demo_config(dir.path());
    let ledger = Ledger::open(&dir.path().join("ledger.sqlite")).unwrap();
    let po = NewDocument {
        idempotency_key: "coupa-po:4711:v1",
        doc_id: "doc-po",
        adapter: "coupa",
        partner: "coupa-supplier-7",
        kind: "purchase_order",
        number: "PO-HOOLI-1",
        business_key: None,
    };
    let detail = "waits for the operator: Coupa supplier 7 (Hooli) its po-method is prompt";
    assert!(ledger.record_awaiting_operator(&po, detail).unwrap());
    // The same wait again says nothing new: the poller logs it once.
    assert!(!ledger.record_awaiting_operator(&po, detail).unwrap());
    drop(ledger);
    let out = gateway()
        .args(["documents", "--config"])
        .arg(&cfg)
        .args(["--status", "awaiting_operator"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout.contains("awaiting_operator  coupa-supplier-7  purchase_order  PO-HOOLI-1")
            && stdout.contains(detail)
            && stdout.contains("1 document(s)"),
        "{stdout}"
    );
}

/// Waits for `child` at most `secs` seconds, killing it if it is still running then.
fn exited_within(mut child: std::process::Child, secs: u64) -> Option<std::process::Output> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return Some(child.wait_with_output().unwrap());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    None
}

/// A partner whose `[partners.x12]` makes interchanges no reader can parse (a component
/// separator equal to the element separator, an ISA15 that is not P/T/I, a GS08 that is not a
/// version code) stops `gateway serve` before it starts, named by partner, key and line: the
/// service started, wrote the partner's 850s unreadable and had Coupa mark them exported.
#[test]
fn serve_refuses_an_x12_partner_that_would_write_unreadable_interchanges() {
    let dir = tempfile::tempdir().unwrap();
    let base = gateway_server::demo::config_text(dir.path(), "http://127.0.0.1:9", None, "x12p");
    for (key, value, says) in [
        (
            "component_separator",
            "\"*\"",
            "'*' is also the element_separator",
        ),
        (
            "usage_indicator",
            "\"X\"",
            "'X' is not an ISA15 usage indicator",
        ),
        ("version", "\"4010\"", "\"4010\" is not a GS08 version code"),
        ("partner_qualifier", "\"ZZZ\"", "\"ZZZ\" is not an ISA05"),
        (
            "our_id",
            "\"1234567890123456\"",
            "\"1234567890123456\" is 16 characters long",
        ),
    ] {
        let text = format!(
            "{base}\n[[partners]]\nid = \"newco\"\n[partners.x12]\npartner_id = \"NEWCO\"\n\
             {key} = {value}\n[partners.outbound]\ntype = \"x12_file\"\ndir = \"{}/out\"\n",
            dir.path().display()
        );
        let cfg = dir.path().join("gateway.toml");
        std::fs::write(&cfg, &text).unwrap();
        let child = gateway()
            .args(["serve", "--config"])
            .arg(&cfg)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = exited_within(child, 20).unwrap_or_else(|| panic!("serve started with {key}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{key}: {stderr}");
        let lines: Vec<&str> = text.lines().collect();
        let line = lines.iter().rposition(|l| l.starts_with(key)).unwrap() + 1;
        assert!(
            stderr.contains(&format!(
                "line {line}, column {}: partner \"newco\" [partners.x12] {key} {says}",
                key.len() + 4
            )),
            "{key}: {stderr}"
        );
        assert!(!dir.path().join("ledger.sqlite").exists(), "{key}");
    }
}

/// `convert --to x12 --partner P.toml` refuses a profile whose `[x12]` would make an
/// interchange no reader can parse, before writing anything, naming the key and its line.
#[test]
fn convert_refuses_a_partner_file_whose_x12_would_be_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    for (key, value) in [
        ("component_separator", "\"*\""),
        ("segment_terminator", "\"*\""),
        ("usage_indicator", "\"X\""),
        ("version", "\"4010\""),
    ] {
        let version = if key == "version" {
            ""
        } else {
            "version = \"005010\"\nrepetition_separator = \"^\"\n"
        };
        let text =
            format!("id = \"newco\"\n\n[x12]\npartner_id = \"NEWCO\"\n{version}{key} = {value}\n");
        let profile = dir.path().join("newco.partner.toml");
        std::fs::write(&profile, &text).unwrap();
        let out = gateway()
            .args(["convert", "--to", "x12", "--partner"])
            .arg(&profile)
            .arg(repo("samples/json/purchase_order/rich.json"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{key}: {stderr}");
        assert!(out.stdout.is_empty(), "{key}: something was written");
        let lines: Vec<&str> = text.lines().collect();
        let line = lines.iter().rposition(|l| l.starts_with(key)).unwrap() + 1;
        assert!(
            stderr.contains("newco.partner.toml is not valid")
                && stderr.contains(&format!(
                    "line {line}, column {}: partner \"newco\" [x12] {key} ",
                    key.len() + 4
                )),
            "{key}: {stderr}"
        );
    }
}

/// Whatever delimiter a partner profile is let through with, what the gateway writes with it
/// the gateway reads back: every ASCII character in each delimiter's place (the others their
/// defaults), under a version without (004010) and with (005010) a repetition separator. A
/// profile refused names the key; one accepted writes a PO that reads as one document.
#[test]
fn every_delimiter_a_partner_profile_accepts_is_one_the_reader_reads() {
    use gateway_core::{Decode, Encode};
    let po: gateway_model::Document = gateway_model::from_json(
        br#"{"schema_version":1,"kind":"purchase_order","po_number":"PO7781","order_date":"2026-03-01",
            "purpose":"new","currency":"USD","supplier":{"name":"Acme"},
            "lines":[{"line_number":1,"quantity":"10","uom":"EA","unit_price":"12","amount":"120","description":"Gloves"}]}"#,
    )
    .unwrap();
    let codec = adapter_x12::X12Codec::new();
    let mut accepted = 0;
    for version in ["004010", "005010"] {
        for key in [
            "element_separator",
            "component_separator",
            "segment_terminator",
            "repetition_separator",
        ] {
            for b in 0u8..0x80 {
                let text = format!(
                    "id = \"p\"\n[x12]\nversion = \"{version}\"\n{key} = \"\\u{:04x}\"\n",
                    b
                );
                let partner = match gateway_core::PartnerProfile::from_toml(&text, "p.toml") {
                    Ok(p) => p,
                    Err(e) => {
                        assert!(e.to_string().contains(key), "{version} {key} {b:#x}: {e}");
                        continue;
                    }
                };
                // A value holding the delimiter is refused by the writer with its path.
                let Ok(raw) = codec.encode(std::slice::from_ref(&po), &partner) else {
                    continue;
                };
                accepted += 1;
                let read = codec.decode(&raw, &gateway_core::PartnerProfile::anonymous());
                assert!(
                    read.rejects.is_empty() && read.documents.len() == 1,
                    "{version} {key} {b:#x} accepted, and what it wrote is unreadable: {:?}\n{}",
                    read.rejects,
                    String::from_utf8_lossy(&raw)
                );
            }
        }
    }
    assert!(accepted > 100, "{accepted}");
}

/// `validate --ack --control-numbers` continues a partner's numbering: without `--partner` it
/// is refused, saying what to pass (it numbered a `default` counter from 1 and repeated the
/// ISA13/GS06 the service had sent that sender); with it the ack takes the next numbers of
/// that partner's counters, as the service keeps them.
#[test]
fn validate_ack_control_numbers_need_the_partner_whose_numbering_they_continue() {
    let input = std::fs::read(repo("samples/x12/invoice/rich.edi")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let counters = dir.path().join("x12-control");
    std::fs::create_dir_all(&counters).unwrap();
    // The service has sent acme interchanges up to 41 and groups up to 7.
    std::fs::write(counters.join("acme.isa"), "41\n").unwrap();
    std::fs::write(counters.join("acme.gs"), "7\n").unwrap();
    let refused = validate_ack(&["--control-numbers", counters.to_str().unwrap()], &input);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(refused.stdout.is_empty(), "an ack was written");
    assert!(
        stderr.contains("--control-numbers") && stderr.contains("add --partner"),
        "{stderr}"
    );
    let mut names: Vec<String> = std::fs::read_dir(&counters)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["acme.gs", "acme.isa"], "a counter was started");
    let profile = dir.path().join("acme.toml");
    std::fs::write(
        &profile,
        "id = \"acme\"\n[x12]\npartner_qualifier = \"ZZ\"\npartner_id = \"ACMESUPPLY\"\n",
    )
    .unwrap();
    let out = validate_ack(
        &[
            "--partner",
            profile.to_str().unwrap(),
            "--control-numbers",
            counters.to_str().unwrap(),
        ],
        &input,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let segs = x12_segments(&out.stdout);
    assert_eq!(segment(&segs, "ISA")[13], "000000042");
    assert_eq!(segment(&segs, "GS")[6], "8");
}

/// `gateway help --help` prints the help of `help` (clap's own help command took `--help` for
/// a command name and failed); `gateway help COMMAND` still prints that command's help.
#[test]
fn help_help_prints_the_help_command_s_help() {
    let out = gateway().args(["help", "--help"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("help of the given command") && stdout.contains("help [COMMAND]"),
        "{stdout}"
    );
    let out = gateway().args(["help", "validate"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        stdout.contains("validate [OPTIONS] <FILE|->") && stdout.contains("--control-numbers"),
        "{stdout}"
    );
    let all = gateway().arg("help").output().unwrap();
    assert!(all.status.success());
    assert!(String::from_utf8_lossy(&all.stdout).contains("Commands:"));
    let unknown = gateway().args(["help", "nosuch"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("'nosuch'"));
}

/// What the target format has no place for is named on standard error, not dropped without a
/// word: an invoice line's cXML comments (an 810's IT1 loop holds no free-form text), with the
/// document and the canonical path; the conversion itself succeeds.
#[test]
fn convert_names_what_x12_leaves_out() {
    let canonical =
        std::fs::read_to_string(repo("samples/cxml/invoice/rich.canonical.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&canonical).unwrap();
    let commented = doc["lines"]
        .as_array()
        .unwrap()
        .iter()
        .position(|l| l["extensions"]["cxml"]["comments"].is_string())
        .unwrap();
    let out = gateway()
        .args(["convert", "--to", "x12"])
        .arg(repo("samples/cxml/invoice/rich.xml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("IT1*"));
    assert!(
        stderr.contains(&format!(
            "warning: INV-2026-0042 x12 leaves out $.lines[{commented}].extensions.cxml.comments: an 810's IT1 loop has no segment for free-form text"
        )),
        "{stderr}"
    );
}

/// Invoice ORD-1's shipping charge comes after invoice ORD-2's rows: the charge row refuses
/// ORD-1 whole, after the reader had handed ORD-1 on. `{date}` is ORD-1's invoice date and
/// `{quantity}` ORD-2's line quantity.
const LATE_CHARGE: &str = "\
Invoice,Invoice Number*,Supplier Name,Supplier Number,Invoice Date*,Currency,Invoice Control Total
Invoice Line,Invoice Number*,Supplier Name,Line Number,Description*,Price*,Quantity,Unit of Measure*
Invoice Charge,Invoice Number*,Supplier Name,Type*,Total*
Invoice,ORD-1,Acme Supplies,ACME-1,{date},USD,125.00
Invoice Line,ORD-1,Acme Supplies,1,Gloves,100.00,1,EA
Invoice,ORD-2,Acme Supplies,ACME-1,2026-03-15,USD,5.00
Invoice Line,ORD-2,Acme Supplies,1,Paper,5.00,{quantity},EA
Invoice Charge,ORD-1,Acme Supplies,InvoiceShippingCharge,25.00
";

/// [`LATE_CHARGE`] with ORD-1's date and ORD-2's quantity, written to `dir/late.csv`.
fn late_charge(dir: &std::path::Path, date: &str, quantity: &str) -> PathBuf {
    let path = dir.join("late.csv");
    let text = LATE_CHARGE
        .replace("{date}", date)
        .replace("{quantity}", quantity);
    std::fs::write(&path, text).unwrap();
    path
}

/// `validate` of a CSV file whose later row refuses an invoice whole neither counts that
/// invoice as read nor prints its problems: it printed "2 document(s) read" and ORD-1's own
/// problem, though nothing of ORD-1 would be taken. The invoice that stands keeps its
/// problems, and the rejects say why ORD-1 is refused.
#[test]
fn validate_does_not_report_an_invoice_a_later_row_refuses_whole() {
    let dir = tempfile::tempdir().unwrap();
    // ORD-1 without its date, ORD-2 without its quantity: one problem each.
    let path = late_charge(dir.path(), "", "");
    let out = gateway().arg("validate").arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("1 document(s) read as csv, 3 error(s), 0 warning(s)"),
        "{stdout}"
    );
    assert!(!stdout.contains("(invoice ORD-1)"), "{stdout}");
    assert!(
        stdout.contains("(invoice ORD-2): error: $.lines[0].quantity: missing"),
        "{stdout}"
    );
    assert!(
        stdout.contains("error: rows 4-5: refused whole, nothing of it taken")
            && stdout.contains("error: row 8: "),
        "{stdout}"
    );
}

/// `convert` writes nothing of an invoice a later row of its CSV input refuses whole: as JSON
/// Lines (it printed ORD-1 as it was read), into `--out-dir` (it wrote `0001-ORD-1.json`) or
/// as one X12 interchange (it held an 810 for ORD-1); the invoice that stands is written, and
/// the run exits 1 for the refusal.
#[test]
fn convert_writes_nothing_of_an_invoice_a_later_row_refuses_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = late_charge(dir.path(), "2026-03-15", "1");

    let out = gateway()
        .args(["convert", "--to", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let numbers: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            gateway_model::from_json(l.as_bytes())
                .unwrap()
                .number()
                .to_string()
        })
        .collect();
    assert_eq!(numbers, ["ORD-2"], "{stderr}");
    assert!(
        stderr.contains("rejected (ORD-1) at rows 4-5: refused whole")
            && stderr.contains("1 document(s) converted, 2 rejected"),
        "{stderr}"
    );

    let written = dir.path().join("out");
    let out = gateway()
        .args(["convert", "--to", "json", "--out-dir"])
        .arg(&written)
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(names_in(&written), ["0001-ORD-2.json"]);

    let out = gateway()
        .args(["convert", "--to", "x12"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let segments = x12_segments(&out.stdout);
    let big: Vec<&Vec<String>> = segments.iter().filter(|s| s[0] == "BIG").collect();
    assert_eq!(big.len(), 1, "{segments:?}");
    assert_eq!(big[0][2], "ORD-2");
}

/// A `--partner` file is held to the checks the service holds its configuration's partners
/// to, each problem at its line: a column map naming a field the CSV adapter does not read, an
/// invoice map that cannot say the currency, a lower-case X12 `max_lengths` key. `validate`
/// and `convert` used such a profile as if it were sound (exit 0 or 1, files converted).
#[test]
fn validate_and_convert_refuse_a_partner_file_the_service_would_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "id = \"mapco\"\n\n[csv]\nkind = \"invoice\"\ncolumns = [\n  \
               { column = \"No\", field = \"invoice_number\" },\n  \
               { column = \"Datum\", field = \"invoice_dte\" },\n]\n";
    let x12 = "id = \"mlco\"\n\n[x12]\npartner_id = \"MLCO\"\nmax_lengths = { n102 = 10 }\n";
    // Each profile with what its refusal says, placed where the text has it.
    let place = |text: &str, needle: &str| {
        let offset = text.find(needle).unwrap();
        let line = text[..offset].matches('\n').count() + 1;
        let column = offset - text[..offset].rfind('\n').map_or(0, |n| n + 1) + 1;
        format!("line {line}, column {column}: ")
    };
    let cases = [
        (
            "mapco",
            csv,
            vec![
                format!(
                    "{}partner \"mapco\" [csv] columns maps no column to \"currency\"",
                    place(csv, "[\n")
                ),
                format!(
                    "{}partner \"mapco\" [csv] columns[1] maps column \"Datum\" to unknown field \"invoice_dte\"",
                    place(csv, "{ column = \"Datum\"")
                ),
            ],
        ),
        (
            "mlco",
            x12,
            vec![format!(
                "{}partner \"mlco\" [x12] max_lengths.n102 is not an element id as the writer reads them (upper case): write N102 = 10",
                place(x12, "10 }")
            )],
        ),
    ];
    let input = repo("samples/json/invoice/rich.json");
    for (id, text, says) in cases {
        let profile = dir.path().join(format!("{id}.partner.toml"));
        std::fs::write(&profile, text).unwrap();
        for command in [
            vec!["validate", "--partner"],
            vec!["convert", "--to", "json", "--partner"],
        ] {
            let out = gateway()
                .args(&command)
                .arg(&profile)
                .arg(&input)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{command:?} {id}: {stderr}");
            assert!(out.stdout.is_empty(), "{command:?} {id}: {out:?}");
            assert!(
                stderr.contains(&format!("{id}.partner.toml is not valid: ")),
                "{command:?} {id}: {stderr}"
            );
            for said in &says {
                assert!(stderr.contains(said), "{command:?} {id}: {said}\n{stderr}");
            }
        }
    }
}

/// An X12 `max_lengths` entry set by an environment variable is the element the variable
/// names: `GATEWAY__PARTNERS__GLOBEX__X12__MAX_LENGTHS__N102=10` limits N102, whose key the
/// variable's lower-cased name made `n102`, a key the service refused to start with.
#[test]
fn an_x12_max_length_is_set_by_an_environment_variable() {
    use gateway_core::Encode;
    let dir = tempfile::tempdir().unwrap();
    let cfg = demo_config(dir.path());
    drop(gateway_server::ledger::Ledger::open(&dir.path().join("ledger.sqlite")).unwrap());
    let variable = "GATEWAY__PARTNERS__GLOBEX__X12__MAX_LENGTHS__N102";
    let out = gateway()
        .args(["partners", "--config"])
        .arg(&cfg)
        .env(variable, "10")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    let po = canonical("samples/json/purchase_order/rich.json");
    let globex = |env: Vec<(String, String)>| {
        let config = gateway_server::config::Config::load(&cfg, env).unwrap();
        config.partner("globex").unwrap().clone()
    };
    let limited = globex(vec![(variable.to_string(), "10".to_string())]);
    let lengths = limited.x12.as_ref().unwrap().max_lengths.clone().unwrap();
    assert_eq!(
        lengths.into_iter().collect::<Vec<_>>(),
        [("N102".to_string(), 10)]
    );
    // The writer keeps to it: the ship-to's name (18 characters) no longer fits N102.
    let codec = adapter_x12::X12Codec::new();
    let err = codec
        .encode(std::slice::from_ref(&po), &limited)
        .unwrap_err()
        .to_string();
    assert!(err.contains("N102") && err.contains("at most 10"), "{err}");
    assert!(
        codec
            .encode(std::slice::from_ref(&po), &globex(Vec::new()))
            .is_ok()
    );
}

/// QA (qaC f5 item 4): the Coupa CSV's `Chart of Accounts` (`US COA`), kept in
/// `extensions.csv`, was dropped by `convert --to x12` and `--to cxml` without a warning.
/// Each names it among what it leaves out now.
#[test]
fn converting_a_coupa_csv_names_its_chart_of_accounts_as_left_out() {
    let dir = tempfile::tempdir().unwrap();
    // The partner's ids, which cXML needs to write its header.
    let profile = dir.path().join("acme.toml");
    std::fs::write(
        &profile,
        "id = \"acme\"\n[cxml]\nfrom_domain = \"DUNS\"\nfrom_identity = \"1\"\n\
         to_domain = \"NetworkID\"\nto_identity = \"GLOBEX\"\n\
         [x12]\npartner_id = \"ACME\"\nour_id = \"GLOBEX\"\n",
    )
    .unwrap();
    for to in ["x12", "cxml"] {
        let out_dir = dir.path().join(to);
        let out = gateway()
            .args(["convert", "--to", to, "--partner"])
            .arg(&profile)
            .arg("--out-dir")
            .arg(&out_dir)
            .arg(repo("samples/csv/invoice/coupa_import.csv"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{to}: {stderr}");
        for number in ["INV-1001", "INV-1002"] {
            let warning = format!(
                "warning: {number} {to} leaves out $.extensions.csv[\"Chart of Accounts\"]: the chart of accounts"
            );
            assert!(
                stderr.contains(&warning),
                "{to}: {warning:?} not in {stderr}"
            );
        }
    }
}
