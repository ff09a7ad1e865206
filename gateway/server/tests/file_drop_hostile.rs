//! The file drop against what a hostile or careless sender can put in its landing folder: a
//! symbolic link (to a file outside the drop), a fifo, a name too long to take the claim's
//! time stamp. Each poll is called here. (A name with control characters in the logs:
//! `file_drop_log_names.rs`, a binary of its own for its log capture.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gateway_core::testkit::visible_files;
use gateway_server::codecs::Codecs;
use gateway_server::config::{Config, FileDropConfig};
use gateway_server::filedrop::FileDrop;
use gateway_server::ledger::{DocumentFilter, Entry, Ledger};

/// Partner `acme` (Coupa supplier ACME-1).
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
"#
    );
    Config::parse(&text, "test", std::iter::empty()).unwrap()
}

struct Env {
    dir: tempfile::TempDir,
    root: PathBuf,
    drop: FileDrop,
    ledger: Arc<Ledger>,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
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
        dir,
        root,
        drop,
        ledger,
    }
}

impl Env {
    fn documents(&self) -> Vec<Entry> {
        self.ledger
            .search(&DocumentFilter {
                partner: Some("acme"),
                limit: 100,
                ..Default::default()
            })
            .unwrap()
    }

    fn folder(&self, name: &str) -> PathBuf {
        self.root.join("acme").join(name)
    }

    /// A file outside the drop holding a good invoice of acme's, INV-OUTSIDE-1 (the sample's
    /// supplier number made acme's: another is refused at intake).
    fn outside(&self) -> (PathBuf, String) {
        let csv = std::fs::read_to_string(
            gateway_core::testkit::repo_root().join("samples/csv/invoice/coupa_import.csv"),
        )
        .unwrap()
        .replace("INV-1001", "INV-OUTSIDE-1")
        .replace("INV-1002", "INV-OUTSIDE-2")
        .replace("SUP-001", "ACME-1");
        let outside = self.dir.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        let secret = outside.join("secret.csv");
        std::fs::write(&secret, &csv).unwrap();
        (secret, csv)
    }

    /// Checks nothing of the outside file went anywhere: nothing published or archived, the
    /// entry named `name` (a link or a fifo) in error/ as it was, with a report saying why, one
    /// rejected ledger row, Incoming and processing/ empty.
    fn assert_refused_unread(&self, name: &str, what: &str) {
        let error = self.folder("error");
        let kept = std::fs::symlink_metadata(error.join(name)).unwrap();
        assert!(!kept.file_type().is_file(), "{name} in error/ is {kept:?}");
        let report = std::fs::read_to_string(error.join(format!("{name}.errors.txt"))).unwrap();
        assert!(
            report.contains(what) && report.contains("not a regular file"),
            "{report}"
        );
        assert!(!report.contains("INV-OUTSIDE"), "{report}");
        assert!(visible_files(&self.folder("archive")).is_empty());
        assert!(visible_files(&self.folder("processing")).is_empty());
        assert!(visible_files(&self.drop.incoming("acme")).is_empty());
        let rows = self.documents();
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(
            (rows[0].status.as_str(), rows[0].number.as_str()),
            ("rejected", format!("file {name}").as_str())
        );
        assert!(rows[0].detail.contains(what), "{:?}", rows[0]);
    }
}

/// QA: a symlink in Incoming to a file outside the partner's folder (the race swapped
/// `race.csv` between a file and such a link) had the outside file's invoice published and
/// the link archived. A link is now never followed: it goes to error/ as a link, with a
/// report, is kept in the ledger as refused, and the outside file is untouched.
#[tokio::test]
async fn a_symlink_in_incoming_is_refused_unread_and_never_archived() {
    let mut env = env().await;
    let (secret, csv) = env.outside();
    let incoming = env.drop.incoming("acme");
    std::os::unix::fs::symlink(&secret, incoming.join("race.csv")).unwrap();

    let mut documents = 0;
    let mut errored = Vec::new();
    for _ in 0..3 {
        let s = env.drop.poll().await;
        documents += s.documents;
        assert!(s.archived.is_empty(), "{s:?}");
        errored.extend(s.errored);
    }
    assert_eq!(documents, 0);
    assert_eq!(errored, vec![env.folder("error").join("race.csv")]);
    env.assert_refused_unread("race.csv", "symbolic link");
    assert!(
        std::fs::read_link(env.folder("error").join("race.csv")).unwrap() == secret,
        "the link itself was moved"
    );
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), csv);
}

/// The race's other half, made deterministic: the entry claimed into processing/ is a link
/// by the time it is opened (it was swapped in after the checks on the name). It is opened
/// without following links, so it is refused, not read.
#[tokio::test]
async fn a_link_in_place_of_a_claimed_file_is_not_read() {
    let mut env = env().await;
    let (secret, csv) = env.outside();
    let processing = env.folder("processing");
    std::os::unix::fs::symlink(&secret, processing.join("20250101T000000.000000--race.csv"))
        .unwrap();

    let s = env.drop.poll().await;
    assert_eq!((s.documents, s.archived.len()), (0, 0), "{s:?}");
    env.assert_refused_unread("race.csv", "symbolic link");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), csv);
}

/// A hard link in Incoming to a file outside the partner's folder is that file under a second
/// name: reading it published the outside file's invoices (only the kernel's
/// `protected_hardlinks`, which a host may turn off, stood in the way of making one). A file
/// with more than one name is refused unread into error/, with a report saying why; the
/// outside file keeps its content, and a plain copy dropped after it is taken.
#[tokio::test]
async fn a_hard_link_in_incoming_is_refused_unread() {
    let mut env = env().await;
    let (secret, csv) = env.outside();
    let incoming = env.drop.incoming("acme");
    std::fs::hard_link(&secret, incoming.join("linked.csv")).unwrap();

    let mut errored = Vec::new();
    for _ in 0..3 {
        let s = env.drop.poll().await;
        assert_eq!((s.documents, s.archived.len()), (0, 0), "{s:?}");
        errored.extend(s.errored);
    }
    assert_eq!(errored, vec![env.folder("error").join("linked.csv")]);
    let report =
        std::fs::read_to_string(env.folder("error").join("linked.csv.errors.txt")).unwrap();
    assert!(
        report.contains("hard link") && report.contains("not read"),
        "{report}"
    );
    assert!(!report.contains("INV-OUTSIDE"), "{report}");
    let rows = env.documents();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].status.as_str(), rows[0].number.as_str()),
        ("rejected", "file linked.csv")
    );
    assert!(visible_files(&env.folder("archive")).is_empty());
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), csv);

    // The same content dropped as a file of its own is taken.
    std::fs::write(incoming.join("copy.csv"), &csv).unwrap();
    let mut documents = 0;
    for _ in 0..3 {
        documents += env.drop.poll().await.documents;
    }
    assert_eq!(documents, 2);
}

/// A fifo dropped in Incoming is not opened for a read that would wait for a writer forever
/// (the poll would hang): refused like a link.
#[tokio::test]
async fn a_fifo_in_incoming_is_refused_without_waiting_on_it() {
    let mut env = env().await;
    let incoming = env.drop.incoming("acme");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        incoming.join("pipe.csv"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    let polls = async {
        for _ in 0..3 {
            env.drop.poll().await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), polls)
        .await
        .expect("the poll waited on the fifo");
    env.assert_refused_unread("pipe.csv", "fifo");
}

/// QA: a file named with more than ~231 bytes was never taken (`<stamp>--<name>` exceeds
/// 255 bytes: "File name too long", retried forever, nothing anywhere). Its kept name is now
/// shortened with a hash; it is read and archived like any other, and the ledger keeps its
/// full name.
#[tokio::test]
async fn a_file_with_a_250_byte_name_is_read_and_archived() {
    let mut env = env().await;
    let (_, csv) = env.outside();
    let name = format!("{}.csv", "n".repeat(246));
    assert_eq!(name.len(), 250);
    let incoming = env.drop.incoming("acme");
    std::fs::write(incoming.join(".upload.part"), &csv).unwrap();
    std::fs::rename(incoming.join(".upload.part"), incoming.join(&name)).unwrap();

    let mut documents = 0;
    for _ in 0..3 {
        documents += env.drop.poll().await.documents;
    }
    assert_eq!(documents, 2, "INV-OUTSIDE-1 and INV-OUTSIDE-2");
    assert!(visible_files(&incoming).is_empty());
    assert!(visible_files(&env.folder("processing")).is_empty());
    let archived = visible_files(&env.folder("archive"));
    assert_eq!(archived.len(), 1, "{archived:?}");
    let kept = &archived[0];
    assert!(
        kept.len() <= 200
            && kept.starts_with("nnnn")
            && kept.ends_with(".csv")
            && kept.contains('~'),
        "{kept}"
    );
    let rows = env.documents();
    assert_eq!(rows.len(), 2, "{rows:?}");
    for row in rows {
        assert_eq!(row.status, "published", "{row:?}");
        assert!(row.source.contains(&name), "the full name: {row:?}");
    }
}

/// Two long names that differ only at their ends are kept apart, and a long name refused
/// has its full name in its report.
#[tokio::test]
async fn long_names_are_kept_apart_and_reported_whole() {
    let mut env = env().await;
    let incoming = env.drop.incoming("acme");
    let stem = "x".repeat(240);
    let (a, b) = (format!("{stem}-a.csv"), format!("{stem}-b.csv"));
    std::fs::write(incoming.join(&a), "not an invoice\n").unwrap();
    std::fs::write(incoming.join(&b), "not an invoice either\n").unwrap();
    for _ in 0..3 {
        env.drop.poll().await;
    }
    assert!(visible_files(&incoming).is_empty());
    let error = visible_files(&env.folder("error"));
    assert_eq!(error.len(), 4, "two files and two reports: {error:?}");
    let reports: Vec<String> = error
        .iter()
        .filter(|n| n.ends_with(".errors.txt"))
        .map(|n| std::fs::read_to_string(env.folder("error").join(n)).unwrap())
        .collect();
    assert_eq!(reports.len(), 2);
    assert!(
        reports.iter().any(|r| r.starts_with(&format!("{a}: "))),
        "{reports:?}"
    );
    assert!(
        reports.iter().any(|r| r.starts_with(&format!("{b}: "))),
        "{reports:?}"
    );
}
