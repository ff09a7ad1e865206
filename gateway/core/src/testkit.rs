//! Where the repository, the shared corpus and the test broker are, for every crate's tests. Lives here, once,
//! so adapters' corpus tests do not each carry their own copy of the lookup.

use std::path::{Path, PathBuf};

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The RabbitMQ the tests and benches use: `GATEWAY_AMQP_URL`, else `GATEWAY_TEST_AMQP` (the
/// older name), else the local broker with the default account.
pub fn test_amqp_url() -> String {
    ["GATEWAY_AMQP_URL", "GATEWAY_TEST_AMQP"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// The shared corpus of documents written by others (`../shared/corpus` beside the checkout,
/// or `GATEWAY_CORPUS`). `None` on a clone without it: callers print that they skipped. In CI
/// (`CI` set) a missing corpus is an error the caller should fail on, see [`corpus_or_skip`].
pub fn corpus_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GATEWAY_CORPUS") {
        return Some(PathBuf::from(p));
    }
    let candidate = repo_root().join("../shared/corpus");
    candidate.is_dir().then_some(candidate)
}

/// The corpus sub-folder `name` (`x12-810`, `cxml-order`, ...), or `None` after printing a loud
/// skip message when the corpus is absent on a developer's clone. Under CI it returns
/// `Err` so the test fails rather than silently passing.
pub fn corpus_or_skip(name: &str, test: &str) -> Result<Option<PathBuf>, String> {
    match corpus_dir() {
        Some(dir) => Ok(Some(dir.join(name))),
        None if std::env::var_os("CI").is_some() => Err(format!(
            "{test}: the shared corpus (../shared/corpus) is missing under CI"
        )),
        None => {
            eprintln!(
                "SKIPPED {test}: ../shared/corpus not found beside the checkout (set GATEWAY_CORPUS)"
            );
            Ok(None)
        }
    }
}

/// Every file under `dir`, recursively, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The names of the files under `dir` (recursively), sorted, leaving out hidden ones (a
/// leading `.`: temporary uploads, the file drop's own markers) and what is under a hidden
/// folder.
pub fn visible_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        if e.path().is_dir() {
            out.extend(visible_files(&e.path()));
        } else {
            out.push(name);
        }
    }
    out.sort();
    out
}

/// Sets `path`'s modification time, so a test can make a file as old as it needs (retention
/// decides by it) without waiting.
pub fn set_modified(path: &Path, when: std::time::SystemTime) -> std::io::Result<()> {
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(when))
}

/// Every invoice field CANONICAL.md maps to X12 and cXML, as validation names it: what a
/// codec's `Decode::source_path` is checked against (each format leaves out what it has no
/// place for, and says why).
pub const CANONICAL_INVOICE_PATHS: &[&str] = &[
    "$.invoice_number",
    "$.invoice_date",
    "$.purpose",
    "$.po_number",
    "$.currency",
    "$.supplier",
    "$.supplier.name",
    "$.supplier.ids",
    "$.supplier.address.city",
    "$.buyer",
    "$.bill_to",
    "$.remit_to",
    "$.ship_to",
    "$.payment_terms",
    "$.payment_terms.net_days",
    "$.payment_terms.discount_percent",
    "$.payment_terms.discount_days",
    "$.lines",
    "$.lines[0]",
    "$.lines[0].line_number",
    "$.lines[0].quantity",
    "$.lines[0].uom",
    "$.lines[0].unit_price",
    "$.lines[0].amount",
    "$.lines[0].description",
    "$.lines[0].supplier_part_id",
    "$.lines[0].buyer_part_id",
    "$.lines[0].po_line_number",
    "$.lines[0].taxes[0]",
    "$.lines[0].charges[0].amount",
    "$.taxes[0]",
    "$.charges[0].amount",
    "$.subtotal",
    "$.tax_total",
    "$.total",
];

/// [`CANONICAL_INVOICE_PATHS`] for a purchase order.
pub const CANONICAL_ORDER_PATHS: &[&str] = &[
    "$.po_number",
    "$.order_date",
    "$.purpose",
    "$.version",
    "$.currency",
    "$.supplier",
    "$.buyer",
    "$.bill_to",
    "$.ship_to",
    "$.ship_to.address.postal_code",
    "$.payment_terms",
    "$.lines",
    "$.lines[0]",
    "$.lines[0].line_number",
    "$.lines[0].quantity",
    "$.lines[0].uom",
    "$.lines[0].unit_price",
    "$.lines[0].description",
    "$.lines[0].supplier_part_id",
    "$.lines[0].buyer_part_id",
    "$.lines[0].need_by",
    "$.total",
];

/// A relay on loopback for tests of mail the gateway sends, speaking as little SMTP as lettre
/// needs: it keeps each message it is given (dots unstuffed) and answers `250`, or, while
/// [`SmtpSink::lose_replies`] is set, closes the connection after the DATA's final dot without
/// answering (the mail taken, its `250` lost), or, while [`SmtpSink::refuse_recipients`] is
/// set, refuses every recipient for good (a relay a mail cannot go through until it is fixed).
#[derive(Debug, Clone)]
pub struct SmtpSink {
    /// Where it listens on 127.0.0.1.
    pub port: u16,
    /// Every message taken, in order.
    pub mails: std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
    /// Set: the reply to each message's final dot is never sent.
    pub lose_replies: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Set: every `RCPT TO` is answered `550 5.7.1` (relaying refused, a permanent failure),
    /// so no message is taken.
    pub refuse_recipients: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl SmtpSink {
    /// Starts the relay on a free port, answering every message.
    pub async fn start() -> std::io::Result<SmtpSink> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let sink = SmtpSink {
            port: listener.local_addr()?.port(),
            mails: std::sync::Arc::default(),
            lose_replies: std::sync::Arc::default(),
            refuse_recipients: std::sync::Arc::default(),
        };
        let shared = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(shared.clone().serve(stream));
            }
        });
        Ok(sink)
    }

    /// The messages taken so far, as text.
    pub fn texts(&self) -> Vec<String> {
        self.mails
            .lock()
            .map(|m| {
                m.iter()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn serve(self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        write.write_all(b"220 sink ESMTP\r\n").await?;
        let mut line = Vec::new();
        loop {
            line.clear();
            if read.read_until(b'\n', &mut line).await? == 0 {
                return Ok(());
            }
            let verb = String::from_utf8_lossy(&line).to_ascii_uppercase();
            if verb.starts_with("DATA") {
                write.write_all(b"354 go on\r\n").await?;
                let mut mail = Vec::new();
                loop {
                    line.clear();
                    if read.read_until(b'\n', &mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == b".\r\n" {
                        break;
                    }
                    mail.extend_from_slice(line.strip_prefix(b".").unwrap_or(&line));
                }
                if let Ok(mut kept) = self.mails.lock() {
                    kept.push(mail);
                }
                if self.lose_replies.load(Ordering::SeqCst) {
                    return Ok(());
                }
                write.write_all(b"250 2.0.0 Ok: queued\r\n").await?;
            } else if verb.starts_with("RCPT") && self.refuse_recipients.load(Ordering::SeqCst) {
                write.write_all(b"550 5.7.1 relaying refused\r\n").await?;
            } else if verb.starts_with("QUIT") {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                write.write_all(b"250 ok\r\n").await?;
            }
        }
    }
}
