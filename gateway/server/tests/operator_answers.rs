//! What the gateway tells an operator about files dropped again, files refused twice under one
//! name, the statuses `gateway documents` lists, and a `--partner` file that is a whole
//! configuration. The file drop is polled by the tests themselves (no timing). Logs are
//! captured by one global subscriber for the whole binary, so tests running beside each other
//! cannot race over which call sites are listened to.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use gateway_core::testkit::visible_files;
use gateway_server::codecs::Codecs;
use gateway_server::config::{Config, FileDropConfig};
use gateway_server::filedrop::FileDrop;
use gateway_server::ledger::{DocumentFilter, Entry, Ledger, Status};

mod common;

fn gateway() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gateway"))
}

struct Env {
    _dir: tempfile::TempDir,
    root: PathBuf,
    drop: FileDrop,
    ledger: Arc<Ledger>,
}

/// A file drop for partner `csvco` (no Coupa supplier of its own, so Coupa's CSV sample is
/// its), polled by the test.
async fn env() -> Env {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
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
id = "csvco"
"#
    );
    let config = Config::parse(&text, "test", std::iter::empty()).unwrap();
    let root = dir.path().join("sftp");
    let drop_config: FileDropConfig =
        toml::from_str(&format!("root = \"{}\"\nmin_age_ms = 0", root.display())).unwrap();
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
    let drop = FileDrop::new(drop_config, pipeline);
    drop.prepare().unwrap();
    Env {
        _dir: dir,
        root,
        drop,
        ledger,
    }
}

impl Env {
    /// Drops a file as an SFTP upload under a temporary name ends, then polls until it was
    /// taken (seen once, claimed on the next poll); what the taking poll did.
    async fn drop_and_take(
        &mut self,
        name: &str,
        bytes: &[u8],
    ) -> gateway_server::filedrop::PollSummary {
        let incoming = self.drop.incoming("csvco");
        let tmp = incoming.join(format!(".{name}.part"));
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, incoming.join(name)).unwrap();
        self.drop.poll().await;
        let taken = self.drop.poll().await;
        assert!(!incoming.join(name).exists(), "{name} was not taken");
        taken
    }

    /// `gateway documents --from FILE`, as the command asks the ledger.
    fn from(&self, file: &str) -> Vec<Entry> {
        self.ledger
            .search(&DocumentFilter {
                from: Some(file),
                limit: 100,
                ..Default::default()
            })
            .unwrap()
    }

    fn folder(&self, name: &str) -> PathBuf {
        self.root.join("csvco").join(name)
    }
}

fn sample(path: &str) -> Vec<u8> {
    std::fs::read(gateway_core::testkit::repo_root().join(path)).unwrap()
}

/// All the files under `dir`, folders included, by name.
fn names_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            out.extend(names_under(&e.path()));
        } else {
            out.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    out
}

/// QA: the same file dropped again under another name was archived with no log line and no
/// ledger row naming it, and `gateway documents --from eu1_again.csv` answered "0
/// document(s)". Now a line says its documents were received before, with their doc ids, and
/// their rows name the copy as a further source, keeping their first source and status.
#[tokio::test]
async fn a_file_dropped_again_says_its_documents_were_received_before() {
    let mut env = env().await;
    let csv = sample("samples/csv/invoice/coupa_import.csv");
    let first = env.drop_and_take("eu1.csv", &csv).await;
    assert_eq!((first.documents, first.duplicates), (2, 0), "{first:?}");
    let taken = env.from("eu1.csv");
    assert_eq!(taken.len(), 2, "{taken:?}");

    let again = env.drop_and_take("eu1_again.csv", &csv).await;
    assert_eq!((again.documents, again.duplicates), (0, 2), "{again:?}");
    assert_eq!(
        names_under(&env.folder("archive")),
        vec!["eu1.csv", "eu1_again.csv"]
    );
    let found = env.from("eu1_again.csv");
    assert_eq!(found.len(), 2, "{found:?}");
    for e in &found {
        let first = taken.iter().find(|t| t.doc_id == e.doc_id).unwrap();
        assert!(
            e.source.starts_with(&first.source)
                && e.source
                    .ends_with("; again in file eu1_again.csv, not taken again"),
            "{}",
            e.source
        );
        assert_eq!(e.status, first.status, "the status is the first receipt's");
        assert_eq!(e.updated_at, first.updated_at);
    }
    // Found by the first file's name as before.
    assert_eq!(env.from("eu1.csv").len(), 2);

    let text = common::logged();
    let line = text
        .lines()
        .find(|l| {
            l.contains("every document of the file was received before")
                && l.contains("eu1_again.csv")
        })
        .unwrap_or_else(|| panic!("no line about the copy in:\n{text}"));
    assert!(line.contains("documents=2"), "{line}");
    for e in &found {
        assert!(
            line.contains(&e.doc_id) && line.contains(&e.number),
            "{line}"
        );
    }
    // The end-of-poll line is written for it too.
    assert!(again.worth_logging(), "{again:?}");

    // A third copy under a name already noted adds nothing to the rows.
    env.drop_and_take("eu1_again.csv", &csv).await;
    for e in env.from("eu1_again.csv") {
        assert_eq!(e.source.matches("eu1_again.csv").count(), 1, "{}", e.source);
    }
}

/// QA: a second `empty.csv` became `error/empty.csv.1` beside a report named
/// `1-empty.csv.errors.txt`; the report is named after the entry as kept.
#[tokio::test]
async fn a_second_refused_file_of_one_name_has_its_report_beside_it() {
    let mut env = env().await;
    for _ in 0..2 {
        let polled = env.drop_and_take("empty.csv", b"").await;
        assert_eq!(polled.errored.len(), 1, "{polled:?}");
    }
    // A report left without its file (an operator removed the file) is not taken over.
    std::fs::write(env.folder("error").join("empty.csv.2.errors.txt"), "old").unwrap();
    env.drop_and_take("empty.csv", b"").await;
    assert_eq!(
        visible_files(&env.folder("error")),
        vec![
            "empty.csv",
            "empty.csv.1",
            "empty.csv.1.errors.txt",
            "empty.csv.2.errors.txt",
            "empty.csv.3",
            "empty.csv.3.errors.txt",
            "empty.csv.errors.txt",
        ]
    );
    let report =
        std::fs::read_to_string(env.folder("error").join("empty.csv.1.errors.txt")).unwrap();
    assert!(report.starts_with("empty.csv: "), "{report}");
}

/// The statuses `gateway documents --help` explains are exactly those `--status` takes
/// (`Status::ALL`): `interrupted` was left out, and a new status could be again.
#[test]
fn documents_help_lists_every_status() {
    let out = gateway().args(["documents", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let (_, after) = help
        .split_once("Statuses:")
        .unwrap_or_else(|| panic!("no Statuses paragraph in:\n{help}"));
    let paragraph = after.split("\n\n").next().unwrap().replace('\n', " ");
    let paragraph = paragraph.trim().trim_end_matches('.');
    // Each item is `name` or `name (what it means, which may hold commas)`.
    let mut listed = Vec::new();
    let (mut depth, mut item) = (0usize, String::new());
    for c in paragraph.chars().chain([',']) {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                let name = item
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                listed.push(name);
                item.clear();
                continue;
            }
            _ => {}
        }
        item.push(c);
    }
    let all: Vec<String> = Status::ALL.iter().map(|s| s.as_str().to_string()).collect();
    assert_eq!(listed, all, "the help's statuses:\n{paragraph}");
}

/// QA: `gateway validate --partner gateway.toml f.csv` answered "unknown field `http`". A
/// whole configuration is told apart, with what a profile is and the partners to take one
/// from.
#[test]
fn a_whole_configuration_given_as_a_partner_profile_says_what_a_profile_is() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        "[http]\nlisten = \"127.0.0.1:8080\"\n[coupa]\nbase_url = \"x\"\nclient_id = \"a\"\n\
         client_secret = \"b\"\n[[partners]]\nid = \"eurosup\"\n[[partners]]\nid = \"frsup\"\n",
    )
    .unwrap();
    let csv = dir.path().join("f.csv");
    std::fs::write(&csv, "a,b\n1,2\n").unwrap();
    for command in ["validate", "convert"] {
        let out = gateway()
            .arg(command)
            .arg("--partner")
            .arg(&config)
            .arg(&csv)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("this is a whole gateway configuration")
                && err.contains("without the `partners.` prefix")
                && err.contains("(\"eurosup\", \"frsup\")")
                && !err.contains("unknown field"),
            "{command}: {err}"
        );
        let help = gateway().args([command, "--help"]).output().unwrap();
        // In one line, however clap wraps it.
        let help = String::from_utf8_lossy(&help.stdout)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            help.contains("without the `partners.` prefix"),
            "{command} --help:\n{help}"
        );
    }
}
