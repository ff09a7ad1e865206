//! `gateway.toml`: the service configuration, layered as file then `GATEWAY__...` environment
//! overrides (`GATEWAY__COUPA__BASE_URL=http://...` sets `[coupa] base_url`; a partner's keys
//! by its id, `GATEWAY__PARTNERS__ACME__CXML__SHARED_SECRET=...`).
//!
//! Every key is documented in `gateway.example.toml`, which a test parses. Unknown keys are
//! refused with their name so a typo never silently disables a setting.

use std::path::{Path, PathBuf};

use gateway_core::{PartnerProfile, Secret};
use serde::Deserialize;

/// The whole service configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub http: HttpConfig,
    #[serde(default)]
    pub bus: BusConfig,
    #[serde(default)]
    pub ledger: LedgerConfig,
    #[serde(default)]
    pub attachments: AttachmentsConfig,
    pub coupa: CoupaSection,
    #[serde(default)]
    pub file_drop: Option<FileDropConfig>,
    #[serde(default)]
    pub po_poller: Option<PoPollerConfig>,
    #[serde(default)]
    pub mailbox: Option<crate::mailbox::MailboxConfig>,
    #[serde(default)]
    pub retention: crate::retention::RetentionConfig,
    #[serde(default)]
    pub partners: Vec<PartnerProfile>,
}

/// Inbound HTTP listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    pub listen: String,
    /// PEM certificate chain and key; both set → HTTPS (rustls), else plain HTTP.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    pub max_body_bytes: usize,
    pub header_timeout_ms: u64,
    /// How long a request's body may take to arrive, from its head: bounds slow senders (408
    /// naming this setting), never the work on a body received in full, which runs to its end
    /// even when the sender stops waiting.
    pub request_timeout_ms: u64,
    /// Connections open at once, idle ones included; more wait to be accepted.
    pub max_connections: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: "127.0.0.1:8080".into(),
            tls_cert: None,
            tls_key: None,
            max_body_bytes: 16 * 1024 * 1024,
            header_timeout_ms: 10_000,
            request_timeout_ms: 30_000,
            max_connections: 1024,
        }
    }
}

/// The bus: RabbitMQ when `amqp_url` is set, else the embedded file-backed bus.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusConfig {
    #[serde(default)]
    pub amqp_url: Option<Secret>,
    pub embedded_path: PathBuf,
    pub namespace: String,
    pub retry_tiers_ms: Vec<u64>,
    pub delivery_limit: u32,
    pub prefetch: u16,
    /// Longest wait for the broker to confirm what a request publishes. A broker that has
    /// blocked publishers (a memory or disk alarm) confirms nothing: past this the sender is
    /// told to ask again (HTTP 503, the file left for the next poll) rather than waiting
    /// for ever. The publish itself goes on, its documents held, so the sender's retry is
    /// answered with what became of them and never publishes them a second time.
    pub publish_timeout_ms: u64,
}

impl Default for BusConfig {
    fn default() -> Self {
        BusConfig {
            amqp_url: None,
            embedded_path: PathBuf::from("var/bus.sqlite"),
            namespace: "gw".into(),
            retry_tiers_ms: vec![5_000, 60_000, 600_000],
            delivery_limit: 20,
            prefetch: 32,
            publish_timeout_ms: 10_000,
        }
    }
}

/// The document ledger: every document received, its idempotency key and its fate.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LedgerConfig {
    pub path: PathBuf,
    /// `gateway serve` is not ready (`/readyz` 503, naming the folder), and refuses documents
    /// (503, send again), while the disk holding the ledger, the attachments or the embedded
    /// bus has less free than this, in MiB: a full disk refuses every document, a load
    /// balancer should send senders elsewhere, and what is left is kept for the ledger.
    pub min_free_mb: u64,
}

/// Where files sent with documents (an invoice's PDF copy) are kept until they are delivered.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttachmentsConfig {
    /// The folder; unset, `attachments/` beside the ledger.
    pub dir: Option<PathBuf>,
}

impl Config {
    /// The attachment store's folder: `[attachments] dir`, else `attachments/` beside the
    /// ledger (so one backup of that folder holds both).
    pub fn attachments_dir(&self) -> PathBuf {
        match &self.attachments.dir {
            Some(d) => d.clone(),
            None => self
                .ledger
                .path
                .parent()
                .unwrap_or_else(|| std::path::Path::new("."))
                .join("attachments"),
        }
    }
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            path: PathBuf::from("var/ledger.sqlite"),
            min_free_mb: 64,
        }
    }
}

/// The Coupa instance invoices go to and POs come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoupaSection {
    pub base_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    #[serde(default = "default_true")]
    pub submit_after_create: bool,
    #[serde(default = "default_rate")]
    pub rate_per_sec: u32,
    #[serde(default = "default_burst")]
    pub burst: u32,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// This Coupa is a test instance, so documents their senders mark as test data (X12
    /// ISA15 `T`, cXML `deploymentMode="test"`) are delivered to it. Off, the default: a test
    /// document is checked, acknowledged as test data is, and kept as rejected with why, never
    /// sent to a production Coupa where a supplier's test invoice could be paid.
    #[serde(default)]
    pub test_instance: bool,
    /// Wait after fetching an access token before using it (Coupa asks for at least 5 s; a
    /// token used sooner can be refused).
    #[serde(default = "default_token_activation")]
    pub token_activation_ms: u64,
    /// How long a supplier's endpoint may take to answer a PO we send it (cXML OrderRequest,
    /// notices). Coupa gives suppliers 60 s; with `timeout_ms` (meant for Coupa's own API) a
    /// supplier that took 12 s was sent the same PO again on every attempt.
    #[serde(default = "default_supplier_timeout")]
    pub supplier_timeout_ms: u64,
    /// The host part (after the `@`) of the payloadIDs of POs sent to suppliers by cXML, for
    /// suppliers whose profile names none (`[partners.cxml] payload_id_host`), those known only
    /// from their Coupa record included; unset, `coupa-gateway`. The part before it is unique to
    /// this Coupa instance already (`supplier::PayloadIds`); this names the buyer to a supplier
    /// reading it.
    #[serde(default)]
    pub payload_id_host: Option<String>,
    /// The chart of accounts (Coupa's `account-type`, by name: `US COA`) of invoices that name
    /// none of their own (the Coupa CSV's `Chart of Accounts` column wins): Coupa requires one
    /// on every invoice, and an instance with several charts takes none by default. Unset, an
    /// invoice without one is sent without it, as before.
    #[serde(default)]
    pub account_type: Option<String>,
}

fn default_scopes() -> Vec<String> {
    [
        "core.invoice.read",
        "core.invoice.write",
        "core.purchase_order.read",
        "core.purchase_order.write",
        "core.supplier.read",
    ]
    .map(String::from)
    .to_vec()
}
fn default_true() -> bool {
    true
}
fn default_rate() -> u32 {
    25
}
fn default_burst() -> u32 {
    20
}
fn default_timeout() -> u64 {
    30_000
}
fn default_token_activation() -> u64 {
    5_000
}
fn default_supplier_timeout() -> u64 {
    60_000
}

/// SFTP landing folders: `<root>/<partner>/Incoming` is read, `<root>/<partner>/Outgoing`
/// written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDropConfig {
    pub root: PathBuf,
    #[serde(default = "default_poll")]
    pub poll_interval_ms: u64,
    /// A file is picked only when its size and time did not change between two polls and it
    /// is at least this old (default 10 s). Nothing in a file tells that its upload ended, and
    /// SFTP clients pause mid-upload (a slow link, a client that flushes in bursts): a pause
    /// longer than this gets a partial file read. The gateway then reports it (the file drop
    /// watches every file it read for a while and puts one that grew after in `error/` with a
    /// note), but what came later was not read, so this is set well above such pauses. A
    /// sender that uploads under a temporary name (`.part`, `.tmp`, a dot name) and renames
    /// once done is never read early, and can be taken sooner with a smaller value.
    #[serde(default = "default_min_age")]
    pub min_age_ms: u64,
    #[serde(default = "default_max_file")]
    pub max_file_bytes: u64,
}

fn default_poll() -> u64 {
    1_000
}
/// Above the mid-upload pauses of SFTP clients: see [`FileDropConfig::min_age_ms`].
fn default_min_age() -> u64 {
    10_000
}
fn default_max_file() -> u64 {
    512 * 1024 * 1024
}

/// Polls Coupa for purchase orders not yet exported and sends them to suppliers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoPollerConfig {
    #[serde(default = "default_po_interval")]
    pub interval_ms: u64,
}

fn default_po_interval() -> u64 {
    60_000
}

/// A configuration error found after the overrides were applied, placed in `text` when the
/// file alone gives the same error: read from the merged table, "invalid type: integer
/// `4010`, expected a string" named neither the line nor the key of the partner at fault.
fn located(e: &toml::de::Error, text: &str) -> String {
    match toml::from_str::<Config>(text) {
        Err(in_file) if in_file.message() == e.message() => in_words(&in_file, text),
        // The file alone reads: an override is at fault.
        Ok(_) => format!("{} (after the GATEWAY__ overrides)", e.message().trim_end()),
        Err(_) => e.message().trim_end().to_string(),
    }
}

/// A TOML error in `text` in words and placed ([`gateway_core::toml_error_in_words`]), naming
/// the partner whose `[[partners]]` table holds it: `line 126, column 11: partner "acme":
/// unknown variant `latin9`, ...`, as the checks of partners' sections name theirs.
fn in_words(e: &toml::de::Error, text: &str) -> String {
    let words = gateway_core::toml_error_in_words(e, text);
    let partner = e.span().and_then(|span| partner_at(text, span.start));
    match (partner, words.split_once(": ")) {
        (Some(id), Some((place, what))) if place.starts_with("line ") => {
            format!("{place}: partner {id:?}: {what}")
        }
        _ => words,
    }
}

/// The id of the partner whose `[[partners]]` table (its sections included) holds byte
/// `offset` of `text`, when the text reads as TOML and names it.
fn partner_at(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?;
    let (mut at, mut seen) = (None, 0usize);
    for line in before.lines() {
        let t = line.trim_start();
        if t.starts_with("[[partners]]") {
            at = Some(seen);
            seen += 1;
        } else if t.starts_with('[')
            && !t.starts_with("[partners.")
            && !t.starts_with("[[partners.")
        {
            at = None;
        }
    }
    let table: toml::Table = toml::from_str(text).ok()?;
    let partner = table.get("partners")?.as_array()?.get(at?)?;
    partner.get("id")?.as_str().map(str::to_string)
}

/// Why the configuration could not be loaded. Not retryable: fix the file or environment.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "cannot read {path}: {cause}; pass --config with the path of your gateway.toml (see gateway.example.toml)"
    )]
    Io {
        path: String,
        /// In the message, not a `source`: a `{:#}` chain printed it twice.
        cause: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: String, message: String },
}

impl Config {
    /// Where the service keeps its state beside the ledger (X12 control numbers in
    /// `x12-control`), so commands run beside it share that state.
    pub fn state_dir(&self) -> std::path::PathBuf {
        self.ledger
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// Loads the file, applies `GATEWAY__...` overrides from `env`, and checks the result.
    pub fn load(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Io {
            path: shown.clone(),
            cause,
        })?;
        Self::parse(&text, &shown, env)
    }

    /// Parses TOML text with overrides; `shown` names the source in messages.
    pub fn parse(
        text: &str,
        shown: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut value: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: shown.to_string(),
            message: in_words(&e, text),
        })?;
        let mut overrides = Overrides::default();
        for (name, raw) in env {
            let Some(rest) = name.strip_prefix("GATEWAY__") else {
                continue;
            };
            let set =
                apply_override(&mut value, rest, &raw).map_err(|message| ConfigError::Env {
                    name: name.clone(),
                    message,
                })?;
            if let Some((partner, keys)) = set {
                overrides.0.push(PartnerOverride {
                    name: name.clone(),
                    partner,
                    keys,
                });
            }
        }
        let config: Config =
            toml::Value::Table(value)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Invalid {
                    path: shown.to_string(),
                    message: located(&e, text),
                })?;
        config.check().map_err(|message| ConfigError::Invalid {
            path: shown.to_string(),
            message,
        })?;
        check_x12_profiles(&config.partners, text, &overrides).map_err(|message| {
            ConfigError::Invalid {
                path: shown.to_string(),
                message,
            }
        })?;
        check_csv_profiles(&config.partners, text, &overrides).map_err(|message| {
            ConfigError::Invalid {
                path: shown.to_string(),
                message,
            }
        })?;
        check_coupa_suppliers(&config.partners, text).map_err(|message| ConfigError::Invalid {
            path: shown.to_string(),
            message,
        })?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for p in &self.partners {
            if p.id.is_empty()
                || !p
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(format!(
                    "partner id {:?}: use letters, digits, '-' or '_' (it names folders and routing keys)",
                    p.id
                ));
            }
            if !seen.insert(p.id.as_str()) {
                return Err(format!("partner id {:?} appears twice", p.id));
            }
        }
        check_partner_identities(&self.partners)?;
        if self.http.tls_cert.is_some() != self.http.tls_key.is_some() {
            return Err("[http] tls_cert and tls_key must be set together".into());
        }
        if self.bus.publish_timeout_ms == 0 {
            return Err(
                "[bus] publish_timeout_ms must be above 0: it is how long a sender waits for the \
                 broker's confirm before it is told to ask again (503)"
                    .into(),
            );
        }
        check_bus(&self.bus)?;
        if self.http.request_timeout_ms == 0 {
            return Err(
                "[http] request_timeout_ms must be above 0: it is how long a sender may take to \
                 send a request's body"
                    .into(),
            );
        }
        Ok(())
    }

    pub fn partner(&self, id: &str) -> Option<&PartnerProfile> {
        self.partners.iter().find(|p| p.id == id)
    }
}

/// Refuses `[bus]` settings under which the bus cannot do its job, naming the setting and
/// what makes sense; they were taken without a word. A `delivery_limit` of 0 parks a document
/// the first time its consumer stops while handling it (as does 1: the consumer parks at the
/// first redelivery either way), so 0 allows nothing 1 does not and reads as "no limit" to
/// some. An empty `retry_tiers_ms` makes every passing failure (a Coupa 503, a timeout) a dead
/// letter at once, for an operator to replay; a tier of 0 sends the retry straight back
/// to the failing target. Someone who wants no waiting retries still gives one short tier.
fn check_bus(bus: &BusConfig) -> Result<(), String> {
    if bus.delivery_limit == 0 {
        return Err(
            "[bus] delivery_limit must be at least 1: it is how many deliveries of one document \
             may end with its consumer stopping (a crash, a restart) before the document is \
             parked as a dead letter; 1 parks it at the first, so 5 to 20 leave room for \
             restarts (20 is the default)"
                .into(),
        );
    }
    if bus.retry_tiers_ms.is_empty() {
        return Err(
            "[bus] retry_tiers_ms is empty: a delivery failing for a passing reason (Coupa \
             answering 503, a timeout, a supplier's endpoint down) would become a dead letter \
             at once, for an operator to replay; give at least one delay in milliseconds, e.g. \
             [5000, 60000, 600000] (the default)"
                .into(),
        );
    }
    if bus.retry_tiers_ms.contains(&0) {
        return Err(format!(
            "[bus] retry_tiers_ms = {:?} has a delay of 0: that retry would go straight back to \
             the target that just failed; give each retry a delay in milliseconds, e.g. 5000",
            bus.retry_tiers_ms
        ));
    }
    Ok(())
}

/// For an operator told a file the configuration names is not there: how its path is read,
/// and for a relative one, the folder it was read against.
pub fn how_paths_resolve(path: &Path) -> String {
    let rule = "relative paths resolve against the current directory";
    if path.is_absolute() {
        return rule.to_string();
    }
    match std::env::current_dir() {
        Ok(dir) => format!("{rule}, here {}", dir.display()),
        Err(_) => rule.to_string(),
    }
}

/// Refuses two partners that one sender could be taken for: the same `api_token`, the same
/// X12 sender (`[partners.x12]` partner_qualifier and partner_id) or the same cXML From
/// credential (`[partners.cxml]` from_domain and from_identity). Documents are given to the
/// first partner that matches ([`crate::partners::Partners::by_sender`], the REST token
/// lookup), so the second would silently lose its documents to the first. Identities compare
/// as the lookups compare them: trimmed, ignoring ASCII case, and a partner that names no
/// qualifier (domain) matches a sender under any. The token itself is never printed.
fn check_partner_identities(partners: &[PartnerProfile]) -> Result<(), String> {
    let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => a.trim().eq_ignore_ascii_case(b.trim()),
        _ => false,
    };
    // A missing qualifier (domain) matches any, so it overlaps whatever the other names.
    let overlap = |a: &Option<String>, b: &Option<String>| a.is_none() || b.is_none() || same(a, b);
    let shown = |q: &Option<String>, id: &Option<String>| {
        format!(
            "{}:{}",
            q.as_deref().map(str::trim).unwrap_or("(any)"),
            id.as_deref().map(str::trim).unwrap_or_default()
        )
    };
    let fix = "each partner needs its own, or the first takes the other's documents";
    for (i, a) in partners.iter().enumerate() {
        for b in &partners[i + 1..] {
            if let (Some(ta), Some(tb)) = (&a.api_token, &b.api_token)
                && ta.matches(tb.expose())
            {
                return Err(format!(
                    "partners {:?} and {:?} have the same api_token; {fix} (a REST document \
                     with that token is taken as {:?}'s)",
                    a.id, b.id, a.id
                ));
            }
            if let (Some(xa), Some(xb)) = (&a.x12, &b.x12)
                && same(&xa.partner_id, &xb.partner_id)
                && overlap(&xa.partner_qualifier, &xb.partner_qualifier)
            {
                return Err(format!(
                    "partners {:?} and {:?} have the same X12 identity ([partners.x12] \
                     partner_qualifier:partner_id {} and {}); {fix} (an interchange from that \
                     ISA05:ISA06 is taken as {:?}'s)",
                    a.id,
                    b.id,
                    shown(&xa.partner_qualifier, &xa.partner_id),
                    shown(&xb.partner_qualifier, &xb.partner_id),
                    a.id
                ));
            }
            if let (Some(ca), Some(cb)) = (&a.cxml, &b.cxml)
                && same(&ca.from_identity, &cb.from_identity)
                && overlap(&ca.from_domain, &cb.from_domain)
            {
                return Err(format!(
                    "partners {:?} and {:?} have the same cXML From credential ([partners.cxml] \
                     from_domain:from_identity {} and {}); {fix} (a cXML document from that \
                     credential is taken as {:?}'s)",
                    a.id,
                    b.id,
                    shown(&ca.from_domain, &ca.from_identity),
                    shown(&cb.from_domain, &cb.from_identity),
                    a.id
                ));
            }
        }
    }
    Ok(())
}

/// Refuses a partner whose `[partners.x12]` would make interchanges no reader can parse
/// ([`gateway_core::profile::X12Profile::problems`]: clashing or data delimiters, an ISA15
/// other than P/T/I, a GS08 that is no version code, ids wider than their elements), each
/// problem placed at its line in `text`. At load, not at the first PO: the service would
/// otherwise start, write the partner's 850s unreadable and have Coupa mark them exported.
///
/// A problem of a key an environment variable set names the variable, not the file's line,
/// which holds the value the variable replaced.
fn check_x12_profiles(
    partners: &[PartnerProfile],
    text: &str,
    overrides: &Overrides,
) -> Result<(), String> {
    for (n, p) in partners.iter().enumerate() {
        let Some(x12) = &p.x12 else { continue };
        let problems = x12_section_problems(x12);
        if !problems.is_empty() {
            return Err(gateway_core::profile::problems_in_words_set_by(
                &problems,
                text,
                gateway_core::profile::SectionKind::X12,
                gateway_core::profile::SectionAt::Partner(n),
                &p.id,
                &|key| overrides.set_by(n, "x12", key),
            ));
        }
    }
    Ok(())
}

/// Every problem the gateway refuses a partner's `[x12]` section for: what would make its
/// interchanges unreadable ([`gateway_core::profile::X12Profile::problems`]) and `max_lengths`
/// keys the writer does not read (`n102`,
/// [`gateway_core::profile::X12Profile::max_length_key_problems`]). The one rule for the
/// service's configuration and for a `--partner` file ([`partner_file_problems`]).
pub fn x12_section_problems(
    x12: &gateway_core::profile::X12Profile,
) -> Vec<gateway_core::profile::SectionProblem> {
    let mut problems = x12.problems();
    problems.extend(x12.max_length_key_problems());
    problems
}

/// Every problem the gateway refuses a partner's `[csv]` section for: what would fail every
/// file ([`gateway_core::profile::CsvProfile::problems`]), an invoice map that cannot say the
/// currency ([`gateway_core::profile::CsvProfile::missing_currency_problem`]) and columns
/// mapped to fields the CSV adapter does not read ([`unknown_fields`]). The one rule for the
/// service's configuration and for a `--partner` file ([`partner_file_problems`]).
pub fn csv_section_problems(
    csv: &gateway_core::profile::CsvProfile,
) -> Vec<gateway_core::profile::SectionProblem> {
    let mut problems = csv.problems();
    problems.extend(csv.missing_currency_problem());
    problems.extend(unknown_fields(csv));
    problems
}

/// What the service would refuse in `profile`, a partner profile file read from `text`
/// (`gateway convert`/`validate --partner FILE`), by the rules it holds its configuration's
/// partners to ([`x12_section_problems`], [`csv_section_problems`]), each problem placed at
/// its line in `text`; `None` when there is none. Without it a profile the service refuses
/// (a column map's unknown field, lower-case `max_lengths` keys) converted and validated
/// files as if it were sound.
pub fn partner_file_problems(profile: &PartnerProfile, text: &str) -> Option<String> {
    use gateway_core::profile::{SectionAt, SectionKind, problems_in_words};
    let x12 = profile.x12.as_ref().map(x12_section_problems);
    let csv = profile.csv.as_ref().map(csv_section_problems);
    let found: Vec<String> = [(SectionKind::X12, x12), (SectionKind::Csv, csv)]
        .into_iter()
        .filter_map(|(kind, problems)| {
            let problems = problems.filter(|p| !p.is_empty())?;
            Some(problems_in_words(
                &problems,
                text,
                kind,
                SectionAt::File,
                &profile.id,
            ))
        })
        .collect();
    (!found.is_empty()).then(|| found.join("; "))
}

/// A `GATEWAY__PARTNERS__<ID>__...` override that was applied: the variable, the position of
/// the partner's table in `[[partners]]` and the keys below it it set (lower case,
/// `["x12", "component_separator"]`).
#[derive(Debug, Clone)]
struct PartnerOverride {
    name: String,
    partner: usize,
    keys: Vec<String>,
}

/// The partner overrides applied, in order, for naming the variable that set a value a check
/// refuses.
#[derive(Debug, Default)]
struct Overrides(Vec<PartnerOverride>);

impl Overrides {
    /// The variable that last set `key` of `section` of the `partner`th partner (itself, or
    /// the whole section, or the partner's whole table), if one did.
    fn set_by(&self, partner: usize, section: &str, key: &str) -> Option<String> {
        self.0
            .iter()
            .rev()
            .find(|o| {
                o.partner == partner
                    && match o.keys.as_slice() {
                        [s] => s == section,
                        [s, k, ..] => s == section && k == key,
                        [] => false,
                    }
            })
            .map(|o| o.name.clone())
    }
}

/// Keys whose values are secrets: an override of one is always a string (a numeric token read
/// as a TOML integer was refused with an error quoting it), and is never shown.
const SECRET_KEYS: [&str; 6] = [
    "api_token",
    "shared_secret",
    "outbound_shared_secret",
    "client_secret",
    "password",
    "amqp_url",
];

/// How a partner's keys are overridden, for the messages.
const PARTNER_OVERRIDE: &str = "GATEWAY__PARTNERS__<ID>__<KEY> (a section's key as \
     GATEWAY__PARTNERS__<ID>__CXML__SHARED_SECRET)";

/// Refuses a partner whose `[partners.csv]` would make each of its files fail
/// ([`gateway_core::profile::CsvProfile::problems`]: a `date_format` chrono does not know or
/// that does not read back a date, a `decimal_separator` other than `.` or `,`, a `delimiter`
/// that is the decimal separator or the quote, ...), every partner's problems at their lines.
/// At load: the service otherwise started, and every file went to `error/` with reasons about
/// its cells ("a date in the form %Q") that did not blame the setting.
///
/// Each column map's fields are checked by the CSV adapter's own rule ([`unknown_fields`]), so
/// a field it cannot read (`invoice_dte`) is refused at its column's line too, and an invoice
/// map that cannot say the currency is refused
/// ([`gateway_core::profile::CsvProfile::missing_currency_problem`]).
fn check_csv_profiles(
    partners: &[PartnerProfile],
    text: &str,
    overrides: &Overrides,
) -> Result<(), String> {
    let found: Vec<String> = partners
        .iter()
        .enumerate()
        .filter_map(|(n, p)| {
            let problems = csv_section_problems(p.csv.as_ref()?);
            (!problems.is_empty()).then(|| {
                gateway_core::profile::problems_in_words_set_by(
                    &problems,
                    text,
                    gateway_core::profile::SectionKind::Csv,
                    gateway_core::profile::SectionAt::Partner(n),
                    &p.id,
                    &|key| overrides.set_by(n, "csv", key),
                )
            })
        })
        .collect();
    if found.is_empty() {
        Ok(())
    } else {
        Err(found.join("; "))
    }
}

/// The columns of `csv`'s map whose field the CSV adapter cannot read, each with the adapter's
/// words (which name the fields a map may hold). The fields are the adapter's rule, a parser
/// in `adapter-csv` rather than data core could hold: it is asked through the [`Encode`] hook
/// the service writes with, for one column at a time and nothing to write, so its refusal
/// (`csv.columns[0]: unknown field ...`) is of that column alone and is placed at its line.
/// Without this the service started, and every file of the partner was refused.
///
/// [`Encode`]: gateway_core::Encode
fn unknown_fields(
    csv: &gateway_core::profile::CsvProfile,
) -> Vec<gateway_core::profile::SectionProblem> {
    use gateway_core::Encode;
    let mut found = Vec::new();
    for (i, column) in csv.columns.iter().enumerate() {
        // Only the kind and this column: any other setting at fault is reported by
        // `CsvProfile::problems`, not here under the column.
        let one = gateway_core::profile::CsvProfile {
            kind: csv.kind,
            columns: vec![column.clone()],
            ..Default::default()
        };
        let partner = PartnerProfile {
            csv: Some(one),
            ..PartnerProfile::default()
        };
        if let Err(gateway_core::EncodeError::Profile(why)) =
            adapter_csv::CsvCodec.encode(&[], &partner)
        {
            let why = why.strip_prefix("csv.columns[0]: ").unwrap_or(&why);
            found.push(gateway_core::profile::SectionProblem::at_entry(
                "columns",
                gateway_core::profile::Entry::Index(i),
                format!("maps column {:?} to {why}", column.column),
            ));
        }
    }
    found
}

/// Refuses two partners naming the same Coupa supplier (`[partners.coupa_supplier]`: the same
/// id, or number or name compared trimmed and ignoring ASCII case, as the lookups compare
/// them), naming both partners and each key's line. The supplier decides whose documents
/// are: a PO for it goes on the channel of the first partner that names it
/// ([`crate::partners::Partners::by_coupa_supplier`]), and a CSV file in the second's folder
/// naming it is refused as the first's, with a message asking the second to send it with
/// "its own" supplier, which is that very one. One supplier sending by several channels is one
/// partner with each channel's section; nothing in the gateway serves two partners with one
/// supplier.
fn check_coupa_suppliers(partners: &[PartnerProfile], text: &str) -> Result<(), String> {
    let places = toml::from_str::<PlacedPartners>(text).ok();
    // The place of `[partners.coupa_supplier] key` of the `n`th partner, when the text has it
    // for that partner (an override may have set it).
    let place = |n: usize, id: &str, key: &str| -> Option<String> {
        let p = places.as_ref()?.partners.get(n)?;
        if p.id.as_deref() != Some(id) {
            return None;
        }
        let section = p.coupa_supplier.as_ref()?;
        let offset = section
            .get_ref()
            .get(key)
            .map_or(section.span().start, |v| v.span().start);
        Some(line_and_column(text, offset))
    };
    let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => !a.trim().is_empty() && a.trim().eq_ignore_ascii_case(b.trim()),
        _ => false,
    };
    let mut found = Vec::new();
    for (i, a) in partners.iter().enumerate() {
        let Some(sa) = &a.coupa_supplier else {
            continue;
        };
        for (j, b) in partners.iter().enumerate().skip(i + 1) {
            let Some(sb) = &b.coupa_supplier else {
                continue;
            };
            let mut clashes = Vec::new();
            if let (Some(x), Some(y)) = (sa.id, sb.id)
                && x == y
            {
                clashes.push(("id", format!("id {x}")));
            }
            if same(&sa.number, &sb.number) {
                let n = sa.number.as_deref().unwrap_or_default().trim();
                clashes.push(("number", format!("number {n:?}")));
            }
            if same(&sa.name, &sb.name) {
                let n = sa.name.as_deref().unwrap_or_default().trim();
                clashes.push(("name", format!("name {n:?}")));
            }
            for (key, shown) in clashes {
                let at = |n: usize, p: &PartnerProfile| match place(n, &p.id, key) {
                    Some(at) => at,
                    None => "set by a GATEWAY__ override".to_string(),
                };
                found.push(format!(
                    "partners {:?} ({}) and {:?} ({}) name the same Coupa supplier \
                     ([partners.coupa_supplier] {shown}); each partner needs its own: the \
                     supplier tells whose a document is, so that supplier's POs would all go on \
                     {:?}'s channel and a CSV file naming it in {:?}'s folder would be refused \
                     as {:?}'s. One supplier sending by several channels is one partner with a \
                     section for each ([partners.x12], [partners.cxml], [partners.csv], \
                     [partners.email])",
                    a.id,
                    at(i, a),
                    b.id,
                    at(j, b),
                    a.id,
                    b.id,
                    a.id
                ));
            }
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(found.join("; "))
    }
}

/// Each key of a partner's section and the place of its value, and the section's own place.
type SpannedKeys =
    toml::Spanned<std::collections::BTreeMap<String, toml::Spanned<serde::de::IgnoredAny>>>;

/// The part of a `[[partners]]` table [`check_coupa_suppliers`] places problems with.
#[derive(Deserialize)]
struct PlacedPartner {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    coupa_supplier: Option<SpannedKeys>,
}

/// The partners of a configuration's text, for placing problems.
#[derive(Deserialize)]
struct PlacedPartners {
    #[serde(default)]
    partners: Vec<PlacedPartner>,
}

/// `line L, column C` of byte `offset` in `text`, as TOML errors are placed.
fn line_and_column(text: &str, offset: usize) -> String {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}")
}

/// Sets `a__b__c` (case-insensitive, lower-cased; an `x12.max_lengths` entry's key, an element
/// id, upper-cased) in `table` to `raw`, read as a TOML value
/// when it parses as one (numbers, booleans, arrays), else as a string; a string too where the
/// file has a string under that key, and for a secret ([`SECRET_KEYS`]). `[[partners]]` is a
/// list: the key after `PARTNERS` is the id of the partner whose table is set
/// (`PARTNERS__ACME__API_TOKEN`, [`partner_table`]), so a partner's secrets can come from the
/// environment like `[coupa] client_secret`. Messages name keys and ids, never the value.
///
/// Returns, for a partner's key, the position of the partner in `[[partners]]` and the keys
/// below its table that were set, so a check refusing the value can name the variable.
fn apply_override(
    table: &mut toml::Table,
    path: &str,
    raw: &str,
) -> Result<Option<(usize, Vec<String>)>, String> {
    let mut keys: Vec<String> = path.split("__").map(|k| k.to_ascii_lowercase()).collect();
    // An `x12.max_lengths` key is an X12 element id, which the writer reads in upper case
    // (`N102`): the variable's name keeps no case, so `...__X12__MAX_LENGTHS__N102` sets N102.
    if let Some(at) = keys
        .windows(2)
        .position(|w| matches!(w, [a, b] if a == "x12" && b == "max_lengths"))
    {
        for k in keys.iter_mut().skip(at + 2) {
            k.make_ascii_uppercase();
        }
    }
    let Some((last, parents)) = keys.split_last() else {
        return Err("empty key".into());
    };
    let mut cur = table;
    let mut set = None;
    let mut parents = parents.iter().enumerate();
    while let Some((_, k)) = parents.next() {
        if k == "partners" {
            let Some(toml::Value::Array(partners)) = cur.get_mut(k) else {
                return Err(format!(
                    "the configuration has no [[partners]] to override; a partner's keys are \
                     overridden as {PARTNER_OVERRIDE}"
                ));
            };
            let Some((at, id)) = parents.next() else {
                return Err(format!(
                    "name the partner and the key: {PARTNER_OVERRIDE}; {last:?} is taken for a \
                     partner id with no key after it"
                ));
            };
            let (table, n) = partner_table(partners, id)?;
            cur = table;
            set = Some((n, keys.get(at + 1..).unwrap_or_default().to_vec()));
            continue;
        }
        let entry = cur
            .entry(k.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = match entry {
            toml::Value::Table(t) => t,
            _ => return Err(format!("{k} is not a section")),
        };
    }
    let as_string = SECRET_KEYS.contains(&last.as_str())
        || matches!(cur.get(last.as_str()), Some(toml::Value::String(_)));
    let value = if as_string {
        toml::Value::String(raw.to_string())
    } else {
        toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.to_string()))
    };
    cur.insert(last.clone(), value);
    Ok(set)
}

/// The `[[partners]]` table whose `id` is `id` (lower-cased from the variable's name), matched
/// ignoring ASCII case and, since a shell cannot export a name with `-`, reading each `-` of
/// an id as `_` (`SCHRAUBEN_MUELLER` for `schrauben-mueller`), with its position in the list.
/// An id no partner has is an error naming the ids there are: an override that silently set
/// nothing would leave the file's secret in use. A name that reads as several partners' ids
/// (`EDI_CO` for `edi-co` and `edi_co`) is an error naming them: the override would set one
/// of them only, and which one would depend on how the file was written.
fn partner_table<'t>(
    partners: &'t mut [toml::Value],
    id: &str,
) -> Result<(&'t mut toml::Table, usize), String> {
    let id_of = |p: &toml::Value| {
        p.get("id")
            .and_then(toml::Value::as_str)
            .map(str::to_string)
    };
    let ids: Vec<(usize, String)> = partners
        .iter()
        .enumerate()
        .filter_map(|(at, p)| Some((at, id_of(p)?)))
        .collect();
    let named: Vec<&(usize, String)> = ids
        .iter()
        .filter(|(_, p)| {
            p.replace('-', "_")
                .eq_ignore_ascii_case(&id.replace('-', "_"))
        })
        .collect();
    let quoted = |list: &mut dyn Iterator<Item = &String>| {
        list.map(|p| format!("{p:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let at = match named.as_slice() {
        [(at, _)] => *at,
        [] => {
            let known = if ids.is_empty() {
                "the configuration's [[partners]] name no id".to_string()
            } else {
                format!(
                    "the partners are {}",
                    quoted(&mut ids.iter().map(|(_, p)| p))
                )
            };
            return Err(format!(
                "no partner has the id {id:?} ({known}); a partner's keys are \
                 overridden as {PARTNER_OVERRIDE}, its id in any letter case"
            ));
        }
        several => {
            return Err(format!(
                "{id:?} names several partners ({}), their ids being read in any letter case \
                 and with '-' as '_' (a shell cannot export a name with '-'); the override \
                 would set one of them only: rename one of the partners",
                quoted(&mut several.iter().map(|(_, p)| p))
            ));
        }
    };
    partners
        .get_mut(at)
        .and_then(toml::Value::as_table_mut)
        .map(|t| (t, at))
        .ok_or_else(|| format!("partner {id:?} is not a table"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = "[coupa]\nbase_url = \"http://127.0.0.1:8600\"\nclient_id = \"gw\"\nclient_secret = \"s3cret\"\n";

    /// A value of the wrong type in one partner is placed at its line: read from the merged
    /// table the error named neither the line nor the partner.
    #[test]
    fn a_wrong_value_in_a_partner_is_placed_at_its_line() {
        let text = format!(
            "{MIN}\n[[partners]]\nid = \"a\"\n\n[[partners]]\nid = \"b\"\n[partners.x12]\nversion = 4010\n"
        );
        let err = Config::parse(&text, "t.toml", Vec::new())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 12, column") && err.contains("expected a string"),
            "{err}"
        );
        // The same fault brought in by an override is said to be the override's.
        let env = vec![(
            "GATEWAY__HTTP__MAX_BODY_BYTES".to_string(),
            "\"big\"".to_string(),
        )];
        let err = Config::parse(MIN, "t.toml", env).unwrap_err().to_string();
        assert!(err.contains("after the GATEWAY__ overrides"), "{err}");
    }

    #[test]
    fn environment_overrides_the_file() {
        let env = vec![
            (
                "GATEWAY__COUPA__BASE_URL".to_string(),
                "http://other:1".to_string(),
            ),
            (
                "GATEWAY__HTTP__MAX_BODY_BYTES".to_string(),
                "1024".to_string(),
            ),
            ("PATH".to_string(), "/bin".to_string()),
        ];
        let c = Config::parse(MIN, "t.toml", env).map_err(|e| e.to_string());
        let c = c.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.coupa.base_url, "http://other:1");
        assert_eq!(c.http.max_body_bytes, 1024);
        assert_eq!(format!("{:?}", c.coupa.client_secret), "[redacted]");
        // The request timeout bounds sending a request, not its publish: a publish timeout
        // above it is fine; a zero one is not.
        let slow = vec![(
            "GATEWAY__BUS__PUBLISH_TIMEOUT_MS".to_string(),
            "60000".to_string(),
        )];
        let patient = Config::parse(MIN, "t.toml", slow).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(patient.bus.publish_timeout_ms, 60_000);
        let zero = vec![(
            "GATEWAY__BUS__PUBLISH_TIMEOUT_MS".to_string(),
            "0".to_string(),
        )];
        let err = Config::parse(MIN, "t.toml", zero).unwrap_err().to_string();
        assert!(err.contains("publish_timeout_ms must be above 0"), "{err}");
        // Test documents are kept from Coupa unless it is named a test instance.
        assert!(!c.coupa.test_instance);
        let test = vec![(
            "GATEWAY__COUPA__TEST_INSTANCE".to_string(),
            "true".to_string(),
        )];
        let c = Config::parse(MIN, "t.toml", test).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.coupa.test_instance);
    }

    /// QA: `delivery_limit = 0` and `retry_tiers_ms = []` were taken without a word; the
    /// service then parked an invoice at the first kill, or at Coupa's first 503. Refused when
    /// loaded now, the setting named with the values that make sense, as `request_timeout_ms =
    /// 0` is.
    #[test]
    fn bus_settings_the_bus_cannot_work_with_are_refused_naming_the_setting() {
        let refused = |section: &str| {
            Config::parse(&format!("{MIN}[bus]\n{section}\n"), "t.toml", Vec::new())
                .err()
                .map(|e| e.to_string())
                .unwrap_or_else(|| panic!("{section} was taken"))
        };
        let zero = refused("delivery_limit = 0");
        assert!(
            zero.contains("[bus] delivery_limit must be at least 1") && zero.contains("5 to 20"),
            "{zero}"
        );
        let none = refused("retry_tiers_ms = []");
        assert!(
            none.contains("[bus] retry_tiers_ms is empty")
                && none.contains("would become a dead letter at once")
                && none.contains("[5000, 60000, 600000]"),
            "{none}"
        );
        let instant = refused("retry_tiers_ms = [5000, 0]");
        assert!(
            instant.contains("[bus] retry_tiers_ms = [5000, 0] has a delay of 0"),
            "{instant}"
        );
        let fine = Config::parse(
            &format!("{MIN}[bus]\ndelivery_limit = 1\nretry_tiers_ms = [1000]\n"),
            "t.toml",
            Vec::new(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (fine.bus.delivery_limit, fine.bus.retry_tiers_ms),
            (1, vec![1000])
        );
        // The same from the environment, as an override sets it.
        let env = vec![("GATEWAY__BUS__DELIVERY_LIMIT".to_string(), "0".to_string())];
        let err = Config::parse(MIN, "t.toml", env).unwrap_err().to_string();
        assert!(err.contains("delivery_limit must be at least 1"), "{err}");
    }

    #[test]
    fn typos_are_named() {
        let text = format!("{MIN}[htp]\nlisten = \"x\"\n");
        let err = Config::parse(&text, "t.toml", Vec::new())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("htp"), "{err}");
    }

    #[test]
    fn duplicate_partners_are_refused() {
        let text = format!("{MIN}[[partners]]\nid = \"acme\"\n[[partners]]\nid = \"acme\"\n");
        let err = Config::parse(&text, "t.toml", Vec::new())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("appears twice"), "{err}");
    }

    /// The error `text` (two partners after [`MIN`]) is refused with, or "" when accepted.
    fn refusal(partners: &str) -> String {
        Config::parse(&format!("{MIN}{partners}"), "t.toml", Vec::new())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    /// An `[partners.x12]` that would write unreadable interchanges is refused at load, named
    /// by partner, key and line: the service started with one and wrote 850s no reader could
    /// parse, while Coupa marked the POs exported.
    #[test]
    fn an_x12_section_that_would_write_unreadable_interchanges_is_refused_at_its_line() {
        let err = refusal(
            "[[partners]]\nid = \"acme\"\n[partners.x12]\npartner_id = \"ACME\"\n\
             [[partners]]\nid = \"newco\"\n[partners.x12]\npartner_id = \"NEWCO\"\n\
             element_separator = \"*\"\ncomponent_separator = \"*\"\nusage_indicator = \"X\"\n",
        );
        assert!(
            err.starts_with(
                "t.toml: line 14, column 23: partner \"newco\" [partners.x12] component_separator '*' is also the element_separator"
            ) && err.contains(
                "; line 15, column 19: partner \"newco\" [partners.x12] usage_indicator 'X' is not an ISA15 usage indicator: use 'P' (production), 'T' (test) or 'I' (information)"
            ),
            "{err}"
        );
        let err = refusal("[[partners]]\nid = \"newco\"\n[partners.x12]\nversion = \"4010\"\n");
        assert!(
            err.contains("line 8, column 11: partner \"newco\" [partners.x12] version \"4010\" is not a GS08 version code")
                && err.contains("\"004010\""),
            "{err}"
        );
    }

    #[test]
    fn two_partners_with_the_same_api_token_are_refused_without_printing_it() {
        let err = refusal(
            "[[partners]]\nid = \"acme\"\napi_token = \"s3cr3t-tok\"\n\
             [[partners]]\nid = \"globex\"\napi_token = \"s3cr3t-tok\"\n",
        );
        assert!(
            err.contains("\"acme\"")
                && err.contains("\"globex\"")
                && err.contains("the same api_token"),
            "{err}"
        );
        assert!(!err.contains("s3cr3t-tok"), "the token is printed: {err}");
        let fine = refusal(
            "[[partners]]\nid = \"acme\"\napi_token = \"a\"\n\
             [[partners]]\nid = \"globex\"\napi_token = \"b\"\n[[partners]]\nid = \"nobody\"\n",
        );
        assert_eq!(fine, "");
    }

    #[test]
    fn two_partners_with_the_same_x12_identity_are_refused() {
        let x12 = |id: &str, q: &str, pid: &str| {
            format!("[[partners]]\nid = \"{id}\"\n[partners.x12]\n{q}partner_id = \"{pid}\"\n")
        };
        let zz = "partner_qualifier = \"ZZ\"\n";
        let err = refusal(
            &(x12("acme", zz, "ACME") + &x12("globex", "partner_qualifier = \"zz\"\n", " acme ")),
        );
        assert!(
            err.contains("\"acme\" and \"globex\"")
                && err.contains("the same X12 identity")
                && err.contains("ZZ:ACME"),
            "{err}"
        );
        // A partner without a qualifier takes a sender under any qualifier.
        let err = refusal(&(x12("acme", "", "ACME") + &x12("globex", zz, "ACME")));
        assert!(err.contains("the same X12 identity"), "{err}");
        // Another qualifier or another id is another sender.
        let other_q =
            x12("acme", zz, "ACME") + &x12("globex", "partner_qualifier = \"01\"\n", "ACME");
        assert_eq!(refusal(&other_q), "");
        assert_eq!(
            refusal(&(x12("acme", zz, "ACME") + &x12("globex", zz, "GLOBEX"))),
            ""
        );
    }

    /// A partner's keys are overridden by its id, in any letter case and in its sections:
    /// `GATEWAY__PARTNERS__ACME__API_TOKEN` stopped the service with "partners is not a
    /// section", though the example said any key could be overridden and a partner's secrets
    /// are what people set this way. The value is never in a message.
    #[test]
    fn a_partners_keys_are_overridden_by_its_id() {
        let text = format!(
            "{MIN}[[partners]]\nid = \"acme\"\napi_token = \"from-file\"\n\
             [[partners]]\nid = \"schrauben-mueller\"\n[partners.cxml]\nfrom_identity = \"1\"\n"
        );
        let env = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let c = Config::parse(
            &text,
            "t.toml",
            env(&[
                ("GATEWAY__PARTNERS__ACME__API_TOKEN", "tok-from-env"),
                // A section the file does not have, and an id with '-' as a shell writes it.
                ("GATEWAY__PARTNERS__acme__CXML__SHARED_SECRET", "4711"),
                (
                    "GATEWAY__PARTNERS__SCHRAUBEN_MUELLER__CXML__SHARED_SECRET",
                    "s2",
                ),
                (
                    "GATEWAY__PARTNERS__SCHRAUBEN_MUELLER__CXML__FROM_IDENTITY",
                    "123456789",
                ),
            ]),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let acme = c.partner("acme").unwrap_or_else(|| panic!("acme"));
        assert!(
            acme.api_token
                .as_ref()
                .is_some_and(|t| t.matches("tok-from-env"))
        );
        // A numeric secret stays the string it is (as a TOML integer it was refused, quoted).
        let secret = acme.cxml.as_ref().and_then(|x| x.shared_secret.as_ref());
        assert!(secret.is_some_and(|s| s.matches("4711")));
        let sm = c
            .partner("schrauben-mueller")
            .unwrap_or_else(|| panic!("sm"));
        let cxml = sm.cxml.as_ref().unwrap_or_else(|| panic!("cxml"));
        assert!(cxml.shared_secret.as_ref().is_some_and(|s| s.matches("s2")));
        // A string in the file stays a string when overridden with digits.
        assert_eq!(cxml.from_identity.as_deref(), Some("123456789"));
        assert_eq!(c.partners.len(), 2);
        // An id no partner has, or an index, is refused, naming the ids and never the value.
        for name in [
            "GATEWAY__PARTNERS__ACME2__API_TOKEN",
            "GATEWAY__PARTNERS__0__API_TOKEN",
        ] {
            let err = Config::parse(&text, "t.toml", env(&[(name, "very-secret-value")]))
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!(
                    "environment variable {name}: no partner has the id"
                )) && err.contains("\"acme\", \"schrauben-mueller\"")
                    && err.contains("GATEWAY__PARTNERS__<ID>__<KEY>"),
                "{err}"
            );
            assert!(!err.contains("very-secret-value"), "{err}");
        }
        let err = Config::parse(
            MIN,
            "t.toml",
            env(&[("GATEWAY__PARTNERS__ACME__API_TOKEN", "v")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("has no [[partners]]"), "{err}");
    }

    /// Two partners naming the same Coupa supplier are refused at start-up, naming both and
    /// each key's line: the second's folder refused its own supplier's files as the first's,
    /// with a message asking it to use "its own" supplier, the same one.
    #[test]
    fn two_partners_with_the_same_coupa_supplier_are_refused_at_their_lines() {
        let err = refusal(
            "[[partners]]\nid = \"frsup\"\n[partners.coupa_supplier]\nnumber = \"FR-1\"\n\
             [[partners]]\nid = \"frsup2\"\n[partners.coupa_supplier]\nnumber = \" fr-1\"\n",
        );
        assert!(
            err.contains(
                "partners \"frsup\" (line 8, column 10) and \"frsup2\" (line 12, column 10) name \
                 the same Coupa supplier ([partners.coupa_supplier] number \"FR-1\")"
            ) && err.contains("one partner with a section for each"),
            "{err}"
        );
        let err = refusal(
            "[[partners]]\nid = \"a\"\n[partners.coupa_supplier]\nid = 17\n\
             [[partners]]\nid = \"b\"\n[partners.coupa_supplier]\nid = 17\nname = \"B\"\n",
        );
        assert!(err.contains("([partners.coupa_supplier] id 17)"), "{err}");
        // Different suppliers, or only one partner naming any: accepted.
        assert_eq!(
            refusal(
                "[[partners]]\nid = \"a\"\n[partners.coupa_supplier]\nnumber = \"A-1\"\nname = \"X\"\n\
                 [[partners]]\nid = \"b\"\n[partners.coupa_supplier]\nnumber = \"B-1\"\n\
                 [[partners]]\nid = \"c\"\n"
            ),
            ""
        );
    }

    /// A `[partners.csv]` that would fail every file is refused at start-up, each problem at its
    /// line naming the partner: `date_format = "%Q"` and a decimal separator that is the
    /// delimiter were taken, and every file then failed with messages about its cells.
    #[test]
    fn a_csv_section_that_would_fail_every_file_is_refused_at_its_line() {
        let err = refusal(
            "[[partners]]\nid = \"eu\"\n[partners.csv]\ndate_format = \"%Q\"\n\
             [[partners]]\nid = \"fr\"\n[partners.csv]\ndelimiter = \";\"\ndecimal_separator = \";\"\n",
        );
        assert!(
            err.starts_with(
                "t.toml: line 8, column 15: partner \"eu\" [partners.csv] date_format \"%Q\" is not a chrono date format"
            ) && err.contains(
                "; line 13, column 21: partner \"fr\" [partners.csv] decimal_separator ';' is not a decimal separator"
            ),
            "{err}"
        );
        // A value the section cannot hold is placed and names its partner too.
        let err = refusal(
            "[[partners]]\nid = \"a\"\n[[partners]]\nid = \"x\"\n[partners.csv]\n\
             charset = \"latin9\"\n[partners.x12]\npartner_id = \"X\"\n",
        );
        assert!(
            err.starts_with("t.toml: line 10, column 11: partner \"x\": unknown variant `latin9`"),
            "{err}"
        );
        let err = refusal("[[partners]]\nid = \"x\"\n[partners.csv]\ndelimiter = \"ab\"\n");
        assert!(
            err.starts_with("t.toml: line 8, column 13: partner \"x\": invalid value"),
            "{err}"
        );
        // Outside the partners, no partner is named.
        let err = refusal("[[partners]]\nid = \"x\"\n[http]\nlisten = 1\n");
        assert!(!err.contains("partner \"x\""), "{err}");
    }

    #[test]
    fn two_partners_with_the_same_cxml_credential_are_refused() {
        let cxml = |id: &str, domain: &str, identity: &str| {
            format!(
                "[[partners]]\nid = \"{id}\"\n[partners.cxml]\nfrom_domain = \"{domain}\"\nfrom_identity = \"{identity}\"\n"
            )
        };
        let err = refusal(&(cxml("acme", "DUNS", "123") + &cxml("globex", "duns", "123")));
        assert!(
            err.contains("\"acme\" and \"globex\"")
                && err.contains("the same cXML From credential")
                && err.contains("DUNS:123"),
            "{err}"
        );
        assert_eq!(
            refusal(&(cxml("acme", "DUNS", "123") + &cxml("globex", "NetworkID", "123"))),
            ""
        );
        assert_eq!(
            refusal(&(cxml("acme", "DUNS", "123") + &cxml("globex", "DUNS", "124"))),
            ""
        );
    }

    fn env_of(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A column map field the CSV adapter cannot read (`invoice_dte`) is refused at its
    /// column's line with the adapter's words, and so are two columns sent to one field: the
    /// service started, and every file was refused (or read with the PO number as invoice
    /// number).
    #[test]
    fn a_column_map_the_adapter_cannot_read_is_refused_at_its_column() {
        let err = refusal(
            "[[partners]]\nid = \"mapco\"\n[partners.csv]\ncurrency = \"EUR\"\ncolumns = [\n\
             { column = \"No\", field = \"invoice_number\" },\n\
             { column = \"Datum\", field = \"invoice_dte\" },\n\
             { column = \"Best\", field = \"invoice_number\" },\n]\n",
        );
        assert!(
            err.contains(
                "line 11, column 1: partner \"mapco\" [partners.csv] columns[1] maps column \"Datum\" to unknown field \"invoice_dte\" for invoice documents; expected one of: invoice_number"
            ) && err.contains(
                "line 12, column 1: partner \"mapco\" [partners.csv] columns[2] maps column \"Best\" to \"invoice_number\", which column \"No\" (columns[0])"
            ),
            "{err}"
        );
        // An invoice map with no currency column and no csv.currency: every invoice failed.
        let err = refusal(
            "[[partners]]\nid = \"mapco\"\n[partners.csv]\nkind = \"invoice\"\n\
             columns = [ { column = \"No\", field = \"invoice_number\" } ]\n",
        );
        assert!(
            err.starts_with("t.toml: line 9, column 11: partner \"mapco\" [partners.csv] columns maps no column to \"currency\"")
                && err.contains("or add currency = \"EUR\""),
            "{err}"
        );
        // An X12 `max_lengths` key the writer refuses only at the first PO, and one it would
        // take without applying it.
        let err = refusal(
            "[[partners]]\nid = \"mlco\"\n[partners.x12]\npartner_id = \"MLCO\"\n\
             max_lengths = { n102 = 10, ZZZ01 = 5 }\n",
        );
        assert!(
            err.contains(
                "line 9, column 24: partner \"mlco\" [partners.x12] max_lengths.n102 is not an element id as the writer reads them (upper case): write N102 = 10"
            ) && err.contains("max_lengths.ZZZ01 names no element the X12 writer limits"),
            "{err}"
        );
        // An order map may name an order's fields.
        assert_eq!(
            refusal(
                "[[partners]]\nid = \"p\"\n[partners.csv]\nkind = \"purchase_order\"\n\
                 columns = [ { column = \"No\", field = \"po_number\" }, \
                 { column = \"D\", field = \"order_date\" } ]\n"
            ),
            ""
        );
    }

    /// A value an environment variable set is refused naming the variable, not the file's
    /// line, which holds the value it replaced: `line 63, column 23: ... component_separator
    /// '*'` pointed at `">"`.
    #[test]
    fn a_problem_in_an_overridden_value_names_the_variable() {
        let text = format!(
            "{MIN}[[partners]]\nid = \"edi-co\"\n[partners.x12]\npartner_id = \"EDICO\"\n\
             component_separator = \">\"\ndate = 1\n"
        )
        .replace("date = 1\n", "");
        let name = "GATEWAY__PARTNERS__EDI_CO__X12__COMPONENT_SEPARATOR";
        let err = Config::parse(&text, "t.toml", env_of(&[(name, "*")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!(
                "t.toml: environment variable {name}: partner \"edi-co\" [partners.x12] \
                 component_separator '*' is also the element_separator"
            )) && !err.contains("line "),
            "{err}"
        );
        // A CSV key the file does not have, set by the environment.
        let text = format!("{MIN}[[partners]]\nid = \"eu\"\n[partners.csv]\ndelimiter = \";\"\n");
        let name = "GATEWAY__PARTNERS__EU__CSV__DATE_FORMAT";
        let err = Config::parse(&text, "t.toml", env_of(&[(name, "%Q")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!(
                "t.toml: environment variable {name}: partner \"eu\" [partners.csv] date_format"
            )),
            "{err}"
        );
    }

    /// An override whose name reads as two partners' ids (`edi-co` and `edi_co`) is refused
    /// naming both: it set `edi_co`'s key only, whichever was meant.
    #[test]
    fn an_override_naming_two_partners_is_refused_as_ambiguous() {
        let text = format!("{MIN}[[partners]]\nid = \"edi-co\"\n[[partners]]\nid = \"edi_co\"\n");
        let name = "GATEWAY__PARTNERS__EDI_CO__API_TOKEN";
        let err = Config::parse(&text, "t.toml", env_of(&[(name, "very-secret-value")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!(
                "environment variable {name}: \"edi_co\" names several partners (\"edi-co\", \"edi_co\")"
            )),
            "{err}"
        );
        assert!(!err.contains("very-secret-value"), "{err}");
    }
}

#[cfg(test)]
mod example_tests {
    use super::*;

    #[test]
    fn the_example_config_parses_and_documents_every_section() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../gateway.example.toml");
        let c = Config::load(Path::new(path), Vec::new()).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            c.bus.amqp_url.is_none(),
            "the example runs on the embedded bus"
        );
        assert_eq!(c.partners.len(), 1);
        let acme = c.partner("acme").unwrap_or_else(|| panic!("acme missing"));
        assert!(acme.x12.is_some() && acme.cxml.is_some() && acme.outbound.is_some());
        assert!(c.file_drop.is_some() && c.po_poller.is_some());
        assert!(
            acme.email.is_some(),
            "the example documents [partners.email]"
        );
        assert!(
            c.mailbox
                .as_ref()
                .is_some_and(|m| m.maildir.is_some() && m.smtp.is_some()),
            "the example documents [mailbox]"
        );
        assert_eq!(c.coupa.rate_per_sec, 25);
        let r = crate::retention::RetentionConfig::default();
        assert_eq!(
            (
                c.retention.archive_days,
                c.retention.mail_days,
                c.retention.attachment_days,
                c.retention.interval_ms
            ),
            (
                r.archive_days,
                r.mail_days,
                r.attachment_days,
                r.interval_ms
            ),
            "the example shows the defaults"
        );
    }

    /// The optional partner keys the example shows commented out are real keys: uncommented,
    /// the `[partners.csv]` block parses as a CSV profile with every key it names (unknown keys
    /// are refused, so a renamed key fails here).
    #[test]
    fn the_commented_csv_profile_in_the_example_parses() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../gateway.example.toml");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}"));
        let block: String = text
            .lines()
            .skip_while(|l| !l.starts_with("# [partners.csv]"))
            .skip(1)
            .take_while(|l| l.starts_with('#'))
            .filter_map(|l| l.strip_prefix("# "))
            .map(|l| format!("{l}\n"))
            .collect();
        let csv: gateway_core::profile::CsvProfile =
            toml::from_str(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        assert_eq!(csv.delimiter, Some(';'));
        assert_eq!(csv.key_column.as_deref(), Some("Invoice No"));
        assert_eq!(csv.columns.len(), 7);
    }

    /// QA: `# type = "x12_file"   dir = "var/sftp/acme/Outgoing"` held two keys on one line,
    /// which is no TOML once uncommented. Every commented `key = value` line of the example is
    /// one key and its value, read alone (a value over several lines with the commented lines
    /// that continue it), and the commented outbound channels, each in place of the section's
    /// `type` and `url`, are channels.
    #[test]
    fn every_commented_key_of_the_example_is_valid_when_uncommented() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../gateway.example.toml");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}"));
        let lines: Vec<&str> = text.lines().collect();
        let uncommented = |l: &str| -> Option<String> {
            l.strip_prefix('#')
                .map(|rest| rest.strip_prefix(' ').unwrap_or(rest).to_string())
        };
        let is_key_line = |l: &str| {
            l.split_once(" = ").is_some_and(|(k, _)| {
                !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            })
        };
        let mut checked = 0;
        for (i, line) in lines.iter().enumerate() {
            let Some(body) = uncommented(line).filter(|b| is_key_line(b)) else {
                continue;
            };
            let mut value = format!("{body}\n");
            let mut next = i + 1;
            let table = loop {
                match toml::from_str::<toml::Table>(&value) {
                    Ok(table) => break table,
                    Err(e) => match lines.get(next).and_then(|l| uncommented(l)) {
                        Some(more) if !is_key_line(&more) => {
                            value.push_str(&more);
                            value.push('\n');
                            next += 1;
                        }
                        _ => panic!("line {}: {line}\n{e}", i + 1),
                    },
                }
            };
            assert_eq!(table.len(), 1, "line {}: {line}", i + 1);
            checked += 1;
        }
        assert!(checked >= 40, "{checked}");

        let outbound: Vec<String> = lines
            .iter()
            .skip_while(|l| !l.starts_with("[partners.outbound]"))
            .skip(1)
            .take_while(|l| !l.starts_with('['))
            .filter_map(|l| uncommented(l))
            .filter(|l| is_key_line(l))
            .collect();
        let mut channels = Vec::new();
        for line in outbound {
            if line.starts_with("type = ") || channels.is_empty() {
                channels.push(String::new());
            }
            if let Some(channel) = channels.last_mut() {
                channel.push_str(&format!("{line}\n"));
            }
        }
        let channels: Vec<gateway_core::profile::OutboundChannel> = channels
            .iter()
            .map(|c| toml::from_str(c).unwrap_or_else(|e| panic!("{e}\n{c}")))
            .collect();
        assert_eq!(channels.len(), 3, "{channels:?}");
    }

    /// The commented-out X12 keys of the example are real keys with values of the right type.
    #[test]
    fn the_commented_x12_keys_in_the_example_parse() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../gateway.example.toml");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}"));
        let block: String = text
            .lines()
            .skip_while(|l| !l.starts_with("[partners.x12]"))
            .skip(1)
            .take_while(|l| !l.starts_with('['))
            .map(|l| l.strip_prefix("# ").unwrap_or(l))
            .filter(|l| {
                l.split_once(" = ").is_some_and(|(k, _)| {
                    k.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                })
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let x12: gateway_core::profile::X12Profile =
            toml::from_str(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        assert_eq!(x12.request_ta1, Some(false));
        assert_eq!(x12.repetition_separator, Some('^'));
        let lengths = x12.max_lengths.unwrap_or_default();
        assert_eq!(lengths.get("N102"), Some(&35), "{block}");
    }
}
