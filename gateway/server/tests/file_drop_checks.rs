//! The file drop, driven one poll at a time on real folders (no timing: each poll is called
//! here): a file its writer was still writing when it was read is reported, once, in
//! `error/`; a document naming another partner as its sender is refused from a partner's
//! folder whatever its format, as X12 already was.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gateway_server::codecs::Codecs;
use gateway_server::config::{Config, FileDropConfig};
use gateway_server::filedrop::FileDrop;
use gateway_server::ledger::{DocumentFilter, Entry, Ledger};

/// Partners `acme` (Coupa supplier ACME-1, cXML From DUNS:123456789 with a shared secret,
/// X12 ZZ:ACMESUPPLY) and `globex` (Coupa supplier GLOBEX-7, no cXML identity).
fn config(dir: &Path) -> Config {
    let d = dir.display();
    let text = format!(
        r#"
[bus]
embedded_path = "{d}/bus.sqlite"
[ledger]
path = "{d}/ledger.sqlite"
[coupa]
base_url = "http://127.0.0.1:9"
client_id = "x"
client_secret = "y"
[[partners]]
id = "acme"
[partners.coupa_supplier]
number = "ACME-1"
[partners.cxml]
from_domain = "DUNS"
from_identity = "123456789"
shared_secret = "s3cret-acme"
[partners.x12]
partner_qualifier = "ZZ"
partner_id = "ACMESUPPLY"
our_qualifier = "ZZ"
our_id = "GLOBEXCORP"
[[partners]]
id = "globex"
[partners.coupa_supplier]
number = "GLOBEX-7"
"#
    );
    Config::parse(&text, "test", std::iter::empty()).unwrap()
}

struct Env {
    _dir: tempfile::TempDir,
    root: PathBuf,
    drop: FileDrop,
    ledger: Arc<Ledger>,
}

/// A file drop polled by the test itself; X12 files are acknowledged with a stand-in 997.
async fn env(min_age_ms: u64) -> Env {
    env_with(&format!("min_age_ms = {min_age_ms}")).await
}

/// [`env`] with `settings` (lines of `[file_drop]`) beside its root.
async fn env_with(settings: &str) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let root = dir.path().join("sftp");
    let drop_config: FileDropConfig =
        toml::from_str(&format!("root = \"{}\"\n{settings}", root.display())).unwrap();
    let bus = gateway_server::bus::open(&config.bus, gateway_server::bus::Role::Server)
        .await
        .unwrap();
    let ledger = Arc::new(Ledger::open(&config.ledger.path).unwrap());
    let pipeline = Arc::new(gateway_server::pipeline::Pipeline::new(
        Codecs::standard(),
        gateway_server::partners::Partners::new(config.partners.clone()),
        Arc::clone(&ledger),
        bus,
    ));
    let drop = FileDrop::new(drop_config, pipeline).with_acknowledger(
        gateway_core::Format::X12,
        Arc::new(|_: &[u8], _: &gateway_core::PartnerProfile| Some(b"997".to_vec())),
    );
    drop.prepare().unwrap();
    Env {
        _dir: dir,
        root,
        drop,
        ledger,
    }
}

impl Env {
    fn documents(&self, partner: &str) -> Vec<Entry> {
        self.ledger
            .search(&DocumentFilter {
                partner: Some(partner),
                limit: 100,
                ..Default::default()
            })
            .unwrap()
    }

    /// Drops a file as an SFTP upload under a temporary name ends, then polls until it was
    /// taken (seen once, claimed on the next poll).
    async fn drop_and_take(&mut self, partner: &str, name: &str, bytes: &[u8]) {
        let incoming = self.drop.incoming(partner);
        let tmp = incoming.join(format!(".{name}.part"));
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, incoming.join(name)).unwrap();
        self.drop.poll().await;
        self.drop.poll().await;
        assert!(!incoming.join(name).exists(), "{name} was not taken");
    }

    fn error_report(&self, partner: &str, name: &str) -> Option<String> {
        std::fs::read_to_string(
            self.root
                .join(partner)
                .join("error")
                .join(format!("{name}.errors.txt")),
        )
        .ok()
    }

    fn archived(&self, partner: &str) -> Vec<String> {
        visible_files(&self.root.join(partner).join("archive"))
    }
}

use gateway_core::testkit::visible_files;

fn sample(path: &str) -> String {
    std::fs::read_to_string(gateway_core::testkit::repo_root().join(path)).unwrap()
}

// ---- A file still being written when it was read ----

/// QA: a writer wrote the first 5 lines of `slow3.csv`, paused longer than `min_age`, and
/// wrote the rest into the file the gateway had already moved: INV-3001 went out with one of
/// its two lines, INV-3002 was never read, and nothing said so. Now the next poll finds the
/// file changed since it was read and reports it in error/, with what was read and done, once.
#[tokio::test]
async fn a_file_appended_to_after_it_was_read_is_reported_in_error_once() {
    use gateway_core::metrics::{Counter, value};
    let mut env = env(0).await;
    // acme's own supplier number: another is refused at intake.
    let csv = sample("samples/csv/invoice/coupa_import.csv")
        .replace("INV-1001", "INV-3001")
        .replace("INV-1002", "INV-3002")
        .replace("SUP-001", "ACME-1");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 11);
    let head = format!("{}\n", lines[..5].join("\n"));
    let rest = format!("{}\n", lines[5..].join("\n"));
    let whole = format!("{head}{rest}");
    let counted_before = value(Counter::Rejected, "file-drop", "file_cut_short");

    // The writer's first burst, flushed; the file is seen, then taken.
    let incoming = env.drop.incoming("acme");
    let mut writer = std::fs::File::create(incoming.join("slow3.csv")).unwrap();
    writer.write_all(head.as_bytes()).unwrap();
    writer.flush().unwrap();
    let first = env.drop.poll().await;
    assert!(
        first.archived.is_empty() && first.documents == 0,
        "{first:?}"
    );
    let taken = env.drop.poll().await;
    assert_eq!(
        taken.documents, 1,
        "INV-3001 as far as it was written: {taken:?}"
    );
    assert_eq!(env.archived("acme"), vec!["slow3.csv"]);
    // Nothing changed: nothing to say, however often it is polled.
    assert!(env.drop.poll().await.cut_short.is_empty());
    assert_eq!(env.drop.read_lately(), 1);

    // The writer goes on into the file it has open, now in archive/.
    writer.write_all(rest.as_bytes()).unwrap();
    writer.flush().unwrap();
    drop(writer);
    let noticed = env.drop.poll().await;
    let error = env.root.join("acme/error");
    assert_eq!(
        noticed.cut_short,
        vec![error.join("slow3.csv")],
        "{noticed:?}"
    );
    assert_eq!(
        visible_files(&error),
        vec!["slow3.csv", "slow3.csv.errors.txt"]
    );
    assert_eq!(
        std::fs::read_to_string(error.join("slow3.csv")).unwrap(),
        whole,
        "error/ holds the file as its writer finished it"
    );
    let note = env.error_report("acme", "slow3.csv").unwrap();
    for expected in [
        "still being written when the gateway read it",
        &format!("Only the first {} bytes were read", head.len()),
        &format!("it now holds {} bytes", whole.len()),
        "NOT read",
        "taken, on its way to delivery: invoice INV-3001",
        "The last document taken (invoice INV-3001) may itself be incomplete",
        "send the rest (or the whole file",
        "archive",
    ] {
        assert!(
            note.contains(expected),
            "{expected:?} missing from:\n{note}"
        );
    }
    assert!(!note.contains("INV-3002"), "never read: {note}");
    assert!(value(Counter::Rejected, "file-drop", "file_cut_short") > counted_before);

    // Exactly once: later polls say nothing more and write nothing more.
    for _ in 0..3 {
        assert!(env.drop.poll().await.cut_short.is_empty());
    }
    assert_eq!(
        visible_files(&error),
        vec!["slow3.csv", "slow3.csv.errors.txt"]
    );
    assert_eq!(env.drop.read_lately(), 0);
    // Only what was read reached the ledger.
    let numbers: Vec<String> = env
        .documents("acme")
        .into_iter()
        .map(|e| e.number)
        .collect();
    assert_eq!(numbers, vec!["INV-3001"]);
}

/// The sample 810 from ZZ:ACMESUPPLY as three sets (invoices INV-X-1..3) in one interchange,
/// cut before the third set: (the part a paused writer had written, the rest).
fn three_sets_cut_before_the_third() -> (String, String) {
    let edi = sample("samples/x12/invoice/rich.edi");
    let (envelope, rest) = edi.split_once("ST*810*0001~").unwrap();
    let (set_body, _) = rest.split_once("GE*1*42~").unwrap();
    let sep = if envelope.ends_with('\n') { "\n" } else { "" };
    let set = |k: u32| {
        format!("ST*810*000{k}~{set_body}")
            .replace("SE*34*0001~", &format!("SE*34*000{k}~"))
            .replace("INV-2026-0042", &format!("INV-X-{k}"))
            // Its heading REF*VN names the samples' supplier; acme's Coupa supplier is ACME-1.
            .replace("SUP-001", "ACME-1")
    };
    let head = format!("{envelope}{}{}", set(1), set(2));
    let tail = format!("{}GE*3*42~{sep}IEA*1*000000042~{sep}", set(3));
    (head, tail)
}

/// QA's X12 variant: sets 1-2 went out, the file in error/ was complete but its report said
/// "GE/IEA missing". The trailers missing at the end of what was read accept its sets with
/// errors (TA1 `E` 023, AK9 `E` 3: noted on the documents, no rejection), so the part read is
/// archived; once the file grows, the report in error/ says it was incomplete when read.
#[tokio::test]
async fn an_x12_file_cut_short_says_in_error_that_it_was_incomplete_when_read() {
    let mut env = env(0).await;
    let (head, tail) = three_sets_cut_before_the_third();
    let incoming = env.drop.incoming("acme");
    let mut writer = std::fs::File::create(incoming.join("slow.edi")).unwrap();
    writer.write_all(head.as_bytes()).unwrap();
    writer.flush().unwrap();
    env.drop.poll().await;
    let taken = env.drop.poll().await;
    assert_eq!(taken.documents, 2, "{taken:?}");
    assert!(taken.errored.is_empty(), "{taken:?}");
    assert_eq!(env.archived("acme").len(), 1, "{taken:?}");
    let error = env.root.join("acme/error");
    assert_eq!(
        visible_files(&env.root.join("acme/Outgoing")),
        vec!["slow.ack.edi"]
    );
    assert!(
        env.documents("acme").iter().all(|d| d
            .notes
            .contains("input ended without the trailer IEA (TA1 note 023)")),
        "{:?}",
        env.documents("acme")
    );

    writer.write_all(tail.as_bytes()).unwrap();
    drop(writer);
    let noticed = env.drop.poll().await;
    assert_eq!(noticed.cut_short, vec![error.join("slow.edi")]);
    // One copy, of the file its writer finished, with its report.
    assert_eq!(
        visible_files(&error),
        vec!["slow.edi", "slow.edi.errors.txt"]
    );
    let report = env.error_report("acme", "slow.edi").unwrap();
    assert!(
        report.starts_with("slow.edi: this file was still being written"),
        "{report}"
    );
    for expected in [
        "is a copy of the file as it was at",
        &format!("first {} bytes", head.len()),
        "taken, on its way to delivery: invoice INV-X-1",
        "taken, on its way to delivery: invoice INV-X-2",
        "The acknowledgment written to Outgoing for it answers only the part read",
    ] {
        assert!(
            report.contains(expected),
            "{expected:?} missing from:\n{report}"
        );
    }
    assert!(env.drop.poll().await.cut_short.is_empty());
    assert_eq!(env.error_report("acme", "slow.edi").unwrap(), report);
}

/// A file in processing/ that changed lately (its writer still at it when it was claimed, or
/// resumed after a restart) is read only once it held still for `min_age`.
#[tokio::test]
async fn a_file_in_processing_that_changed_lately_waits_for_min_age() {
    let mut env = env(3_600_000).await;
    let processing = env.root.join("acme/processing");
    let csv = sample("samples/csv/invoice/coupa_import.csv");
    std::fs::write(processing.join("20260315T103000.000000--fresh.csv"), &csv).unwrap();
    let summary = env.drop.poll().await;
    assert_eq!(summary.deferred.len(), 1, "{summary:?}");
    assert_eq!(summary.documents, 0);
    assert!(env.documents("acme").is_empty());
    assert_eq!(
        visible_files(&processing),
        vec!["20260315T103000.000000--fresh.csv"]
    );
}

// ---- Documents naming another partner as their sender ----

fn cxml_invoice(number: &str) -> String {
    sample("samples/cxml/invoice/rich.xml").replace("INV-2026-0042", number)
}

fn csv_invoice(number: &str, supplier_number: &str) -> String {
    sample("samples/csv/invoice/coupa_import.csv")
        .replace("INV-1001", number)
        .replace("INV-1002", &format!("{number}-B"))
        .replace("SUP-001", supplier_number)
}

/// Asserts the file went to `partner`'s error/ with a reason holding every `expected`, and
/// nothing of it is anyone's.
fn assert_refused(env: &Env, partner: &str, name: &str, expected: &[&str]) {
    let error = env.root.join(partner).join("error");
    assert!(
        error.join(name).exists(),
        "{name} is not in {partner}'s error/"
    );
    let reason = env.error_report(partner, name).unwrap();
    for e in expected {
        assert!(reason.contains(e), "{e:?} missing from:\n{reason}");
    }
    assert!(reason.contains("nothing was taken"), "{reason}");
    assert_kept_refused(env, partner, name, expected[0]);
}

/// Nothing of `name` was taken: the one row of `partner` is the refused file, kept where
/// operators look, its detail holding `why`; the other partner has none.
fn assert_kept_refused(env: &Env, partner: &str, name: &str, why: &str) {
    for p in ["acme", "globex"] {
        // Nothing taken: the one row is the refused file, kept where operators look.
        let rows = env.documents(p);
        if p == partner {
            assert_eq!(rows.len(), 1, "{p}: {rows:?}");
            let row = &rows[0];
            assert_eq!(
                (row.status.as_str(), row.kind.as_str(), row.adapter.as_str()),
                ("rejected", "unknown", "file-drop"),
                "{row:?}"
            );
            assert_eq!(row.number, format!("file {name}"));
            assert!(row.detail.contains(why), "{row:?}");
        } else {
            assert!(rows.is_empty(), "{p}: {rows:?}");
        }
        assert!(env.archived(p).is_empty());
    }
}

/// A zip that cannot be taken (here: two document files) was only in `error/`: now it is a
/// rejected row too, where `gateway documents` and the partner's status view show it.
#[tokio::test]
async fn a_zip_that_cannot_be_taken_is_kept_as_rejected() {
    let mut env = env(0).await;
    let mut zip = std::io::Cursor::new(Vec::new());
    {
        use std::io::Write;
        let mut z = zip::ZipWriter::new(&mut zip);
        let opts = zip::write::SimpleFileOptions::default();
        for name in ["a.csv", "b.csv"] {
            z.start_file(name, opts).unwrap();
            z.write_all(csv_invoice("Z-1", "GLOBEX-7").as_bytes())
                .unwrap();
        }
        z.finish().unwrap();
    }
    env.drop_and_take("globex", "two.zip", zip.get_ref()).await;
    let reason = env.error_report("globex", "two.zip").unwrap_or_default();
    assert!(
        reason.contains("the zip holds 2 document files"),
        "{reason}"
    );
    assert_kept_refused(&env, "globex", "two.zip", "the zip holds 2 document files");
}

/// QA: EM-6.xml, acme's cXML invoice (its From credential), dropped in globex's folder was
/// delivered as globex's.
#[tokio::test]
async fn a_cxml_document_from_another_partner_is_refused_from_a_partners_folder() {
    let mut env = env(0).await;
    env.drop_and_take("globex", "EM-6.xml", cxml_invoice("EM-6").as_bytes())
        .await;
    assert_refused(
        &env,
        "globex",
        "EM-6.xml",
        &[
            "From credential DUNS:123456789 is partner acme's",
            "globex",
            "acme/Incoming",
        ],
    );
}

/// QA: a CSV whose Supplier Number is ACME-1 (acme's Coupa supplier) in globex's folder was
/// delivered as GLOBEX.
#[tokio::test]
async fn a_csv_naming_another_partners_coupa_supplier_is_refused() {
    let mut env = env(0).await;
    env.drop_and_take(
        "globex",
        "acme-rows.csv",
        csv_invoice("CSV-ACME-1", "ACME-1").as_bytes(),
    )
    .await;
    assert_refused(
        &env,
        "globex",
        "acme-rows.csv",
        &[
            "Coupa supplier number ACME-1 (CSV-ACME-1, CSV-ACME-1-B) is partner acme's",
            "partner globex's folder takes only documents whose Coupa supplier is number GLOBEX-7",
            "acme/Incoming",
        ],
    );
}

/// QA: a cXML with an unknown From identity and a wrong SharedSecret was taken from acme's
/// folder. acme has a From identity: a From no profile names is refused there, as X12 refuses
/// an unknown ISA sender.
#[tokio::test]
async fn a_cxml_from_nobody_is_refused_where_the_owner_has_a_from_identity() {
    let mut env = env(0).await;
    let stranger = cxml_invoice("EM-7")
        .replace(
            "<Identity>123456789</Identity>",
            "<Identity>999999999</Identity>",
        )
        .replace("s3cret-acme", "wrong-secret");
    env.drop_and_take("acme", "stranger.xml", stranger.as_bytes())
        .await;
    assert_refused(
        &env,
        "acme",
        "stranger.xml",
        &[
            "From credential DUNS:999999999 is named by no partner profile",
            "partner acme's folder takes only documents whose From credential is DUNS:123456789",
        ],
    );
}

/// The owners' own documents still go through: acme's cXML in acme's folder, globex's CSV
/// (its own supplier number, or none) in globex's. (A supplier number no profile names is
/// not globex's either: the intake refuses it, as `supplier_intake.rs` shows.)
#[tokio::test]
async fn the_owners_own_cxml_and_csv_are_still_taken() {
    let mut env = env(0).await;
    env.drop_and_take("acme", "own.xml", cxml_invoice("EM-8").as_bytes())
        .await;
    env.drop_and_take(
        "globex",
        "own.csv",
        csv_invoice("CSV-GLOBEX-1", "GLOBEX-7").as_bytes(),
    )
    .await;
    env.drop_and_take(
        "globex",
        "unnamed.csv",
        csv_invoice("CSV-GLOBEX-2", "").as_bytes(),
    )
    .await;
    assert_eq!(env.archived("acme"), vec!["own.xml"]);
    assert_eq!(env.archived("globex"), vec!["own.csv", "unnamed.csv"]);
    let numbers = |p: &str| {
        let mut n: Vec<String> = env.documents(p).into_iter().map(|e| e.number).collect();
        n.sort();
        n
    };
    assert_eq!(numbers("acme"), vec!["EM-8"]);
    assert_eq!(
        numbers("globex"),
        vec![
            "CSV-GLOBEX-1",
            "CSV-GLOBEX-1-B",
            "CSV-GLOBEX-2",
            "CSV-GLOBEX-2-B"
        ]
    );
    for p in ["acme", "globex"] {
        assert!(visible_files(&env.root.join(p).join("error")).is_empty());
    }
}

/// A PDF dropped on its own was read as CSV: "row 1: not a Coupa invoice import".
#[tokio::test]
async fn a_pdf_dropped_alone_says_where_it_belongs() {
    let mut env = env(0).await;
    env.drop_and_take("globex", "INV-9.pdf", b"%PDF-1.7\n1 0 obj\n")
        .await;
    let reason = env.error_report("globex", "INV-9.pdf").unwrap_or_default();
    assert!(
        reason.contains("a PDF on its own") && reason.contains("put the PDF in a zip"),
        "{reason}"
    );
    assert_kept_refused(&env, "globex", "INV-9.pdf", "a PDF on its own");
}

/// The one row `gateway documents --from name` finds.
fn found_from(env: &Env, name: &str) -> Vec<Entry> {
    env.ledger
        .search(&DocumentFilter {
            from: Some(name),
            limit: 10,
            ..Default::default()
        })
        .unwrap()
}

/// QA: a file over `file_drop.max_file_bytes` went to error/ with a report but had no ledger
/// row, so `gateway documents --from`, `--status rejected` and `gateway partners` did not show
/// it. It is a rejected row of the folder's partner now, found by its name, as a refused zip
/// is.
#[tokio::test]
async fn a_file_over_max_file_bytes_is_kept_as_rejected_and_found_by_its_name() {
    let mut env = env_with("min_age_ms = 0\nmax_file_bytes = 200").await;
    let csv = csv_invoice("BIG-1", "GLOBEX-7");
    assert!(csv.len() > 200);
    env.drop_and_take("globex", "big.csv", csv.as_bytes()).await;
    let why = "the limit is 200 (file_drop.max_file_bytes)";
    let reason = env.error_report("globex", "big.csv").unwrap_or_default();
    assert!(reason.contains(why), "{reason}");
    assert_kept_refused(&env, "globex", "big.csv", why);
    let found = found_from(&env, "big.csv");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].source, "file big.csv");
    let summary = env.ledger.partner_summaries().unwrap();
    let globex = summary.iter().find(|s| s.partner == "globex").unwrap();
    assert_eq!((globex.documents, globex.rejected), (1, 1), "{globex:?}");
}

/// QA: a zip of a CSV and 250 PDFs was refused "the zip has 251 entries; the limit is 200"
/// with nothing said of what to do, and `gateway documents --from zp.zip` found nothing
/// (the row had no source). The refusal says how to send it now, and the row is found by the
/// zip's name.
#[tokio::test]
async fn a_zip_of_too_many_entries_says_what_to_do_and_is_found_by_its_name() {
    let mut env = env(0).await;
    let mut zip = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut zip);
        let opts = zip::write::SimpleFileOptions::default();
        z.start_file("invoices.csv", opts).unwrap();
        z.write_all(csv_invoice("ZP-1", "GLOBEX-7").as_bytes())
            .unwrap();
        for n in 1..=200 {
            z.start_file(format!("ZP-{n}.pdf"), opts).unwrap();
            z.write_all(b"%PDF-1.7\n").unwrap();
        }
        z.finish().unwrap();
    }
    env.drop_and_take("globex", "zp.zip", zip.get_ref()).await;
    let why = "the zip has 201 entries; the limit is 200";
    let reason = env.error_report("globex", "zp.zip").unwrap_or_default();
    for said in [
        why,
        "send it as several zips of at most 200 files each",
        "Coupa's own flat-file import takes a zip under 8 MB",
    ] {
        assert!(reason.contains(said), "{said:?} missing from:\n{reason}");
    }
    assert_kept_refused(&env, "globex", "zp.zip", why);
    let found = found_from(&env, "zp.zip");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].number, "file zp.zip");
}

/// QA: an invoice of more lines than Coupa takes was taken and died at Coupa. From a CSV
/// drop it is refused in the file's report, kept as rejected with the limit and what to do.
#[tokio::test]
async fn a_csv_invoice_of_more_lines_than_coupa_takes_is_refused() {
    let mut env = env(0).await;
    let lines = gateway_model::COUPA_MAX_INVOICE_LINES + 1;
    let mut csv = String::from(
        "Invoice,Invoice Number*,Supplier Number,Invoice Date*,Currency,Invoice Control Total,Chart of Accounts*\n\
         Invoice Line,Invoice Number*,Line Number,Description*,Price*,Quantity,Unit of Measure*\n",
    );
    csv.push_str(&format!(
        "Invoice,MANY-1,GLOBEX-7,2026-03-15,USD,{lines}.00,US COA\n"
    ));
    for n in 1..=lines {
        csv.push_str(&format!("Invoice Line,MANY-1,{n},Bolts,1.00,1,EA\n"));
    }
    env.drop_and_take("globex", "many.csv", csv.as_bytes())
        .await;
    let said = format!(
        "the invoice has {lines} lines; Coupa takes at most {} on one invoice",
        lines - 1
    );
    let reason = env.error_report("globex", "many.csv").unwrap_or_default();
    assert!(reason.contains(&said), "{reason}");
    let rows = env.documents("globex");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].status.as_str(), rows[0].number.as_str()),
        ("rejected", "MANY-1")
    );
    assert!(rows[0].detail.contains(&said), "{:?}", rows[0].detail);
    assert!(env.archived("globex").is_empty());
}

// ---- A file whose handling fails, or that the service died handling ----

/// QA's canonical JSON whose two line amounts add up past what a decimal holds
/// (`tests/data/qa_overflow/j_sumovf.json`, dropped as `poison_drop.json`).
fn overflowing_json() -> String {
    let path = format!(
        "{}/tests/data/qa_overflow/j_sumovf.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// [`overflowing_json`] with amounts that fit, numbered `number`.
fn fitting_json(number: &str) -> String {
    overflowing_json()
        .replace("79228162514264337593543950335", "100.00")
        .replace("\"215.00\"", "\"200.00\"")
        .replace("QJ-SUMOVF", number)
}

/// Everything in `dir`, hidden names (acknowledgments, handling marks) included.
fn all_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// QA: `poison_drop.json` (two line amounts of 79228162514264337593543950335) panicked
/// validation and stopped the drop: the file stayed in processing/, nothing in error/, no
/// ledger row, every later file of every partner left in Incoming, and after a restart the
/// file was resumed and stopped the drop again. Now the file resumed from processing/ (as the
/// old binary left it) and a new one both go to error/ with the located error, and the other
/// partners' files are taken in the same poll.
#[tokio::test]
async fn a_file_whose_amounts_overflow_goes_to_error_located_and_the_drop_goes_on() {
    let mut env = env(0).await;
    let processing = env.root.join("acme/processing");
    std::fs::write(
        processing.join("20261205T194235.604909--ovf.json"),
        overflowing_json(),
    )
    .unwrap();
    for (partner, name, body) in [
        (
            "acme",
            "ovf-again.json",
            overflowing_json().replace("QJ-SUMOVF", "QJ-SUMOVF-2"),
        ),
        ("acme", "ok.json", fitting_json("QJ-OK-A")),
        ("globex", "okg.json", fitting_json("QJ-OK-G")),
    ] {
        std::fs::write(env.drop.incoming(partner).join(name), body).unwrap();
    }
    env.drop.poll().await;
    let summary = env.drop.poll().await;
    assert_eq!(summary.documents, 2, "{summary:?}");

    for name in ["ovf.json", "ovf-again.json"] {
        let report = env.error_report("acme", name).unwrap_or_default();
        assert!(
            report.contains("$.lines[1].amount")
                && report.contains(
                    "more than an amount can hold (at most 79228162514264337593543950335)"
                ),
            "{name}: {report}"
        );
        let found = found_from(&env, name);
        assert!(
            found.iter().any(|e| e.status == "rejected"),
            "{name}: {found:?}"
        );
    }
    assert_eq!(env.archived("acme"), vec!["ok.json"]);
    assert_eq!(env.archived("globex"), vec!["okg.json"]);
    assert!(all_entries(&processing).is_empty());
}

/// Whatever fails inside the gateway while a file is handled (here its acknowledger panics,
/// after the file's invoice was published), the drop goes on: the file goes to error/ with a
/// report naming the failure, is kept in the ledger where `gateway documents --from` finds it,
/// and the next file of the partner and the other partner's are taken in the same poll.
#[tokio::test]
async fn a_file_whose_handling_panics_goes_to_error_and_the_drop_goes_on() {
    use gateway_core::metrics::{Counter, value};
    let Env {
        _dir,
        root,
        drop,
        ledger,
    } = env(0).await;
    let drop = drop.with_acknowledger(
        gateway_core::Format::Json,
        Arc::new(|raw: &[u8], _: &gateway_core::PartnerProfile| {
            if String::from_utf8_lossy(raw).contains("BOOM-1") {
                panic!("the acknowledger failed on BOOM-1");
            }
            None
        }),
    );
    let mut env = Env {
        _dir,
        root,
        drop,
        ledger,
    };
    let failed_before = value(Counter::Failed, "file-drop", "defect");
    for (partner, name, number) in [
        ("acme", "boom.json", "BOOM-1"),
        ("acme", "ok.json", "QJ-OK-A"),
        ("globex", "okg.json", "QJ-OK-G"),
    ] {
        std::fs::write(env.drop.incoming(partner).join(name), fitting_json(number)).unwrap();
    }
    env.drop.poll().await;
    let summary = env.drop.poll().await;
    assert_eq!(
        summary.errored,
        vec![env.root.join("acme/error/boom.json")],
        "{summary:?}"
    );

    let report = env.error_report("acme", "boom.json").unwrap_or_default();
    assert!(
        report.contains("handling this file failed inside the gateway")
            && report.contains("the acknowledger failed on BOOM-1"),
        "{report}"
    );
    let found = found_from(&env, "boom.json");
    assert!(
        found.iter().any(|e| e.status == "rejected"
            && e.kind == "unknown"
            && e.detail.contains("the acknowledger failed on BOOM-1")),
        "{found:?}"
    );
    // Its invoice was published before the failure, and is listed with it.
    assert!(found.iter().any(|e| e.number == "BOOM-1"), "{found:?}");
    assert!(value(Counter::Failed, "file-drop", "defect") > failed_before);
    assert_eq!(env.archived("acme"), vec!["ok.json"]);
    assert_eq!(env.archived("globex"), vec!["okg.json"]);
    assert!(all_entries(&env.root.join("acme/processing")).is_empty());
}

/// A crash no catch survives (an abort, a kill) while a file is handled leaves the file in
/// processing/ and, beside it, the mark of a handling that never ended. Resumed once more it
/// is handled (a restart may come mid-file); a file whose handling never ended twice is not
/// handled a third time, which would stop the service at every start, but goes to error/
/// saying so.
#[tokio::test]
async fn a_file_the_service_died_handling_twice_goes_to_error_unhandled() {
    let mut env = env(0).await;
    let processing = env.root.join("acme/processing");
    for (name, number, unfinished) in [("once.json", "ONCE-1", 1), ("twice.json", "TWICE-1", 2)] {
        let claimed = format!("20261205T194235.604909--{name}");
        std::fs::write(processing.join(&claimed), fitting_json(number)).unwrap();
        std::fs::write(
            processing.join(format!(".{claimed}.handling")),
            unfinished.to_string(),
        )
        .unwrap();
    }
    let summary = env.drop.poll().await;
    assert_eq!(summary.documents, 1, "{summary:?}");
    assert_eq!(env.archived("acme"), vec!["once.json"]);
    let report = env.error_report("acme", "twice.json").unwrap_or_default();
    assert!(
        report.contains("handling this file began 2 times and never ended"),
        "{report}"
    );
    let found = found_from(&env, "twice.json");
    assert_eq!(found.len(), 1, "nothing of it was read: {found:?}");
    assert_eq!(found[0].status, "rejected");
    assert!(all_entries(&processing).is_empty());
}
