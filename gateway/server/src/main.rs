//! `gateway`: the coupa-gateway command line.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gateway_core::Format;
use gateway_server::codecs::Codecs;
use gateway_server::convert::{self, ConvertRequest};

#[derive(Debug, Parser)]
#[command(
    name = "gateway",
    version = gateway_server::VERSION,
    about = "coupa-gateway: B2B documents (cXML, X12, CSV, JSON) in and out of Coupa",
    long_about = None,
    // Our own `help` command ([`Command::Help`]): clap's answered `gateway help --help` with
    // "unrecognized subcommand '--help'".
    disable_help_subcommand = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FromFormat {
    Auto,
    Cxml,
    X12,
    Csv,
    Json,
    /// An RFC 5322 message (.eml): its cXML, X12 and CSV attachments are read.
    Email,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ToFormat {
    Json,
    Cxml,
    X12,
    Csv,
}

impl FromFormat {
    fn format(self) -> Option<Format> {
        match self {
            FromFormat::Auto => None,
            FromFormat::Cxml => Some(Format::Cxml),
            FromFormat::X12 => Some(Format::X12),
            FromFormat::Csv => Some(Format::Csv),
            FromFormat::Json => Some(Format::Json),
            FromFormat::Email => Some(Format::Email),
        }
    }
}

impl ToFormat {
    fn format(self) -> Format {
        match self {
            ToFormat::Json => Format::Json,
            ToFormat::Cxml => Format::Cxml,
            ToFormat::X12 => Format::X12,
            ToFormat::Csv => Format::Csv,
        }
    }
}

/// Named as in the canonical JSON (`purchase_order`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
enum KindArg {
    Invoice,
    PurchaseOrder,
}

impl KindArg {
    fn kind(self) -> gateway_model::DocumentKind {
        match self {
            KindArg::Invoice => gateway_model::DocumentKind::Invoice,
            KindArg::PurchaseOrder => gateway_model::DocumentKind::PurchaseOrder,
        }
    }
}

/// A kind as the ledger records it: a document kind, or `unknown` for what could not be read
/// as a document at all (kept as `rejected` with why).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
enum LedgerKindArg {
    Invoice,
    PurchaseOrder,
    Unknown,
}

impl LedgerKindArg {
    fn as_str(self) -> &'static str {
        match self {
            LedgerKindArg::Invoice => gateway_model::DocumentKind::Invoice.as_str(),
            LedgerKindArg::PurchaseOrder => gateway_model::DocumentKind::PurchaseOrder.as_str(),
            LedgerKindArg::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DlqVerb {
    /// Each dead letter per consumer: doc id, kind, partner, attempts, when, and why.
    List,
    /// Each dead letter in full: reason, first error, attempts, envelope and body.
    Show,
    /// Put the dead letters back on their consumer's queue (its idempotency key still holds:
    /// a replayed invoice that reached Coupa before is not made twice); the ledger shows each
    /// `published` again, and keeps that it died and was replayed.
    Replay,
    /// Delete the dead letters for good.
    Purge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum AcksVerb {
    /// Each acknowledgment mail waiting for the relay, queued again or given up: its id,
    /// partner, address, control numbers (ISA13), since when, and why it was given up.
    List,
    /// Queue given-up acknowledgment mails for the running gateway to mail as they were made
    /// (the same control numbers).
    Resend,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Convert documents between formats; canonical JSON Lines by default.
    #[command(after_help = "Examples:\n  \
        gateway convert --to json samples/json/invoice/rich.json\n  \
        gateway convert --from x12 --to json samples/x12/invoice/rich.edi\n  \
        gateway convert --x12-threads 2 --to json nightly-batch.edi\n  \
        cat samples/json/purchase_order/rich.json | gateway convert --to cxml --partner samples/cxml/purchase_order/rich.partner.toml -\n  \
        gateway convert --to cxml --partner samples/cxml/invoice/rich.partner.toml --out-dir invoices/ samples/csv/invoice/coupa_import.csv\n  \
        gateway convert --to cxml --partner samples/cxml/invoice/rich.partner.toml --out-dir invoices/ --force samples/csv/invoice/coupa_import.csv\n  \
        gateway convert --kind purchase_order --to cxml --partner acme.toml order-without-kind.json\n\n\
        With --out-dir a file already in DIR is never replaced: a run that would replace one \
        writes nothing and names it (exit 2); --force replaces such files. Each file is written \
        under a temporary name and renamed when complete.\n\n\
        Exit status: 0 all documents converted, 1 some input was rejected (each reject is \
        printed on standard error with its location), 2 usage or I/O error.")]
    Convert {
        /// Input format; `auto` detects it from the content (ISA → X12, `<` → cXML,
        /// `{` → JSON, else CSV).
        #[arg(long, value_enum, default_value = "auto")]
        from: FromFormat,
        /// Output format.
        #[arg(long, value_enum, default_value = "json")]
        to: ToFormat,
        /// Partner profile (TOML) with ids, delimiters, credentials and CSV column maps: one
        /// partner's table of gateway.toml without the `partners.` prefix (`id = "acme"`, then
        /// `[x12]`, `[csv]`, ...), like samples/*/*/*.partner.toml.
        #[arg(long, value_name = "PROFILE.toml")]
        partner: Option<PathBuf>,
        /// Threads mapping the transaction sets of a large X12 file (same output in the same
        /// order; 2 saved up to 15% of the time of a batch file for about 35% more CPU).
        #[arg(
            long,
            env = "GATEWAY_X12_THREADS",
            default_value_t = 1,
            value_name = "N"
        )]
        x12_threads: usize,
        /// The kind of a canonical JSON document that names none (`invoice` or
        /// `purchase_order`), so `--to cxml` knows to write an InvoiceDetailRequest or an
        /// OrderRequest; a document with `"kind"` keeps its own.
        #[arg(long, value_enum, value_name = "KIND")]
        kind: Option<KindArg>,
        /// Folder of the X12 control-number counters, so the ISA13/GS06 numbers of `--to
        /// x12` continue from the last ones issued (the service keeps its own in x12-control
        /// beside its ledger, the folder of `[ledger] path`: var/x12-control with
        /// gateway.example.toml); it must exist (mkdir it first for a numbering of its own).
        /// Without it numbering starts at 1 on every run.
        #[arg(long, value_name = "DIR")]
        control_numbers: Option<PathBuf>,
        /// Write each document to its own file in DIR (`0001-INV-7.xml`), each path printed,
        /// instead of all to standard output; needed for several documents to cXML, which
        /// carries one per message. A document that cannot be written is reported, the others
        /// are written. A file already in DIR is not replaced: the run writes nothing and says
        /// which (see --force).
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
        /// With --out-dir: replace files already in DIR (an earlier run's, or another input's
        /// with the same place and number) instead of refusing.
        #[arg(long, requires = "out_dir")]
        force: bool,
        /// Input file, or `-` for standard input.
        #[arg(value_name = "FILE|-")]
        input: PathBuf,
    },
    /// Check documents: every problem with its location; exit 1 when there are errors.
    #[command(after_help = "Examples:\n  \
        gateway validate samples/json/invoice/rich.json\n  \
        gateway validate --partner acme.toml invoices.csv\n  \
        gateway validate --ack samples/x12/invoice/rich.edi\n  \
        gateway validate --ack --partner acme.toml --control-numbers var/x12-control invoice.edi > invoice.997\n\n\
        --control-numbers needs --partner: the service numbers each partner's acknowledgments \
        from that partner's counter, which the profile's id names. The service keeps its \
        counters in x12-control beside its ledger, the folder of [ledger] path (var/x12-control \
        with gateway.example.toml); a folder that does not exist is refused, since numbering \
        there would start again from 1.\n\n\
        Without --partner the format's rules and the canonical model's are checked; with it, also \
        what the running gateway refuses for that partner on its way to Coupa (a line without a \
        description, a cancellation, an invoice number over 40 characters), so the 997 to send \
        a partner is the one made with its profile. \
        With --ack the acknowledgment is the only thing on standard output; the problems go to \
        standard error.")]
    Validate {
        /// Input format (auto: from the first bytes).
        #[arg(long, value_enum, default_value = "auto")]
        from: FromFormat,
        /// Partner profile (TOML) with ids, delimiters and CSV column maps: one partner's table
        /// of gateway.toml without the `partners.` prefix (`id = "acme"`, then `[x12]`,
        /// `[csv]`, ...), like samples/*/*/*.partner.toml.
        #[arg(long, value_name = "PROFILE.toml")]
        partner: Option<PathBuf>,
        /// X12 only: print the acknowledgment the gateway would send back (997 or 999 per
        /// functional group after its GS08, TA1 where the interchange needs one), sender and
        /// receiver swapped.
        #[arg(long)]
        ack: bool,
        /// Folder of the X12 control-number counters (with --ack and --partner), so the
        /// acknowledgment's ISA13/GS06 continue from the last ones issued to that partner (point
        /// it at the service's x12-control, beside its ledger: var/x12-control with
        /// gateway.example.toml, to share its numbering); it must exist. Without it numbering
        /// starts at 1, which suits checking but not sending.
        #[arg(long, value_name = "DIR", requires = "ack")]
        control_numbers: Option<PathBuf>,
        /// Input file, or `-` for standard input.
        #[arg(value_name = "FILE|-")]
        input: PathBuf,
    },
    /// Run a complete demo on this machine: a Coupa sandbox and the gateway on free ports,
    /// one invoice through every inbound path, a poison one (dead-lettered, then replayed by
    /// the operator once its cause is fixed), and the PO flow to suppliers.
    #[command(after_help = "Examples:\n  \
        cargo run --release -- demo\n  \
        gateway demo --amqp amqp://guest:guest@127.0.0.1:5672/%2f\n\n\
        Exit status 0 only when every expected outcome happened.")]
    Demo {
        /// Run on RabbitMQ instead of the embedded bus (a private namespace, deleted after).
        #[arg(long, value_name = "URL")]
        amqp: Option<String>,
        /// Show the gateway's log lines as well.
        #[arg(long)]
        verbose: bool,
    },
    /// Run the Coupa API sandbox (emulator) alone, for trying a configuration or a client.
    #[command(after_help = "Examples:\n  \
        gateway sandbox --port 8600\n  \
        curl -d 'grant_type=client_credentials&client_id=sandbox-client&client_secret=sandbox-secret' http://127.0.0.1:8600/oauth2/token")]
    Sandbox {
        /// Port to listen on.
        #[arg(long, default_value_t = 8600)]
        port: u16,
        /// Listen on every interface instead of 127.0.0.1.
        #[arg(long)]
        public: bool,
        /// Load state from this file at start and save it at Ctrl-C.
        #[arg(long, value_name = "FILE")]
        snapshot: Option<PathBuf>,
        /// Seed files (suppliers and POs as Coupa JSON).
        #[arg(long = "seed", value_name = "FILE")]
        seed_files: Vec<PathBuf>,
        /// Start empty (no demo supplier and POs).
        #[arg(long)]
        no_demo: bool,
    },
    /// Run the gateway: inbound endpoints, file drops, the bus consumers that deliver invoices
    /// to Coupa and purchase orders to suppliers, and the Coupa PO poller.
    #[command(after_help = "Examples:\n  \
        gateway serve --config gateway.toml\n  \
        GATEWAY__BUS__AMQP_URL=amqp://guest:guest@127.0.0.1:5672/%2f gateway serve --config gateway.toml\n\n\
        Stops gracefully on Ctrl-C or SIGTERM: no new work is taken, work in flight finishes.")]
    Serve {
        /// The service configuration (see gateway.example.toml for every key).
        #[arg(long, value_name = "gateway.toml", default_value = "gateway.toml")]
        config: PathBuf,
    },
    /// Dead letters: list them with their reasons, replay them after fixing the cause, purge.
    #[command(after_help = "Examples:\n  \
        gateway dlq list --config gateway.toml\n  \
        gateway dlq show --config gateway.toml 7f3c...\n  \
        gateway dlq replay --config gateway.toml --consumer coupa-invoices 7f3c...\n  \
        gateway dlq replay --config gateway.toml --partner acme --reason 'supplier not found' --dry-run\n  \
        gateway dlq purge --config gateway.toml --consumer supplier-orders 7f3c... --note 'resent as PO-2'\n  \
        gateway dlq purge --config gateway.toml --partner acme --reason 'supplier not found' --tell-supplier\n\n\
        Consumers: coupa-invoices (invoices to Coupa), supplier-orders (POs to suppliers).\n\
        replay and purge need a filter (DOC_ID, --partner, --kind, --reason) or --all; \
        --dry-run lists what they would take; for invoices, show and replay --dry-run also \
        ask Coupa what a replay would do now (create the invoice, take the one Coupa already \
        has, or fail again and why), and show prints the request it would send. purge asks for confirmation on a terminal \
        (--yes skips it); the ledger then shows each purged document as `purged`, with the \
        note and why it died, and each replayed one as `published` (on its way), with when it \
        was replayed and why it had died, which its history keeps once it is delivered. --tell-supplier first tells each invoice's supplier that it was \
        given up, and why, on the channel its [partners.outbound] names (a cXML \
        StatusUpdateRequest, an X12 824 in its folder, a text file beside its CSV files, or a \
        mail), and purges only those told; one whose supplier could not be told stays a dead \
        letter, named with why. With --dry-run it says how each would be told and sends nothing.")]
    Dlq {
        /// What to do with the dead letters.
        #[arg(value_enum)]
        action: DlqVerb,
        /// Only the document with this id (the same as --doc).
        #[arg(value_name = "DOC_ID", conflicts_with = "doc")]
        id: Option<String>,
        /// The gateway's configuration (partners, Coupa, RabbitMQ, state folder).
        #[arg(long, value_name = "gateway.toml", default_value = "gateway.toml")]
        config: PathBuf,
        /// Only this consumer's dead letters (default: every consumer).
        #[arg(long)]
        consumer: Option<String>,
        /// Only the document with this id.
        #[arg(long, value_name = "DOC_ID")]
        doc: Option<String>,
        /// Only this partner's dead letters (its id in the configuration).
        #[arg(long)]
        partner: Option<String>,
        /// Only dead letters of this kind of document.
        #[arg(long, value_enum)]
        kind: Option<KindArg>,
        /// Only dead letters whose reason contains this text.
        #[arg(long)]
        reason: Option<String>,
        /// Replay or purge every dead letter (required when no filter is given).
        #[arg(long)]
        all: bool,
        /// list: print JSON Lines instead of text.
        #[arg(long)]
        json: bool,
        /// list, show and --dry-run: at most this many per consumer.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// replay, purge: list the dead letters they would take, and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// purge: do not ask for confirmation on a terminal.
        #[arg(long)]
        yes: bool,
        /// purge: why, kept in the ledger with each purged document (`gateway documents`).
        #[arg(long, default_value = "")]
        note: String,
        /// purge: first tell each invoice's supplier that it was given up, and why; purge only
        /// those told.
        #[arg(long)]
        tell_supplier: bool,
    },
    /// Documents the gateway has seen, the last received first, with their fate: delivered,
    /// dead-lettered, or refused by the partner (its 997/999, in words). Reads the ledger of the
    /// configuration.
    #[command(after_help = "Examples:\n  \
        gateway documents --config gateway.toml\n  \
        gateway documents --config gateway.toml --number INV-2026-0042\n  \
        gateway documents --config gateway.toml --status partner_rejected\n  \
        gateway documents --config gateway.toml --unacknowledged-hours 24\n  \
        gateway documents --config gateway.toml --partner acme --noted\n  \
        gateway documents --config gateway.toml --from inv-0315.edi\n  \
        gateway documents --config gateway.toml --partner globex --kind purchase_order --json\n\n\
        Statuses: received (taken, not yet confirmed by the bus), interrupted (the gateway \
        stopped before the sender was told it was accepted: have the sender send it again), \
        published (on its way; a dead letter an operator replayed is published again, its \
        detail saying when and what it had died of), delivered, dead (see `gateway dlq`), \
        purged (dead, then purged by an operator), rejected (refused on arrival; kind unknown: not readable as a \
        document), partner_rejected (the partner's 997/999 refused what was sent), superseded \
        (a PO version a later one replaced before it went out), cancelled_unsent (a Coupa PO \
        cancelled before any version of it went to the supplier: not sent, not delivered), \
        awaiting_operator (a Coupa PO left to Coupa: its supplier's record says po-method \
        prompt, or its partner's profile has no [partners.outbound]; not sent, the detail says \
        why and what sends it).\n\n\
        A document that died and was replayed keeps that in an `earlier:` line (JSON: \
        `history`) whatever becomes of it.\n\n\
        A document received again (the same file dropped under another name) is not taken \
        twice: its row names the further file in its source (`again in file ..., not taken \
        again`), so --from finds it by either.")]
    Documents {
        /// The gateway's configuration (partners, Coupa, RabbitMQ, state folder).
        #[arg(long, value_name = "gateway.toml", default_value = "gateway.toml")]
        config: PathBuf,
        /// Only documents with this number (invoice or PO number).
        #[arg(long)]
        number: Option<String>,
        /// Only documents in this status (a value the ledger does not know is refused with
        /// the list, so a typo is never answered "0 document(s)").
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(
            gateway_server::ledger::Status::ALL.map(gateway_server::ledger::Status::as_str)
        ))]
        status: Option<String>,
        /// Only this partner's documents (its id in the configuration).
        #[arg(long)]
        partner: Option<String>,
        /// Only documents of this kind (`unknown`: what could not be read as a document).
        #[arg(long, value_enum)]
        kind: Option<LedgerKindArg>,
        /// Only the document with this doc id or idempotency key.
        #[arg(long, value_name = "DOC_ID")]
        doc: Option<String>,
        /// Only documents sent to an X12 partner at least HOURS ago that no 997/999/TA1 has
        /// answered (0: every one still waiting).
        #[arg(long, value_name = "HOURS")]
        unacknowledged_hours: Option<u32>,
        /// Only documents accepted with notes (what the gateway tolerated: an X12 set accepted
        /// with errors, totals that do not add up).
        #[arg(long)]
        noted: bool,
        /// Only documents that came from an input whose name (or place in it) contains this:
        /// what became of a dropped file's documents.
        #[arg(long, value_name = "TEXT")]
        from: Option<String>,
        /// At most this many, the last received first.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Print JSON Lines instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Every partner at a glance: its documents by fate (delivered, on the way, dead, rejected,
    /// refused by its 997, POs waiting for the operator, POs cancelled before any version was
    /// sent), how many were accepted with notes, and the 850s it has not acknowledged in time;
    /// below the table, hints for its profile (a character set to declare) and POs waiting.
    /// Reads the ledger of the configuration.
    #[command(after_help = "Examples:\n  \
        gateway partners --config gateway.toml\n  \
        gateway partners --config gateway.toml --json\n\n\
        Then `gateway documents --partner ID` (add --status dead, --unacknowledged-hours H) \
        lists the documents behind a number.")]
    Partners {
        /// The gateway's configuration (partners, Coupa, RabbitMQ, state folder).
        #[arg(long, value_name = "gateway.toml", default_value = "gateway.toml")]
        config: PathBuf,
        /// Print JSON Lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Send a purchase order to its supplier again, once the cause of its refusal (the
    /// supplier's 997/999) or of its missing acknowledgment is fixed: the same PO version is read
    /// from Coupa and queued under a new key; the running gateway delivers it.
    #[command(after_help = "Examples:\n  \
        gateway documents --config gateway.toml --status partner_rejected\n  \
        gateway resend --config gateway.toml coupa-po:4711:v2\n  \
        gateway documents --config gateway.toml --doc coupa-po:4711:v2:resend-1\n\n\
        Takes a doc id or key of a Coupa PO that was delivered or partner_rejected. A PO changed \
        in Coupa needs no resend: each new version goes out by itself. A dead letter is \
        replayed with `gateway dlq replay` instead.")]
    Resend {
        /// The gateway's configuration (partners, Coupa, RabbitMQ, state folder).
        #[arg(long, value_name = "gateway.toml", default_value = "gateway.toml")]
        config: PathBuf,
        /// The PO's doc id or idempotency key, as `gateway documents` prints them.
        #[arg(value_name = "DOC_ID|KEY")]
        doc: String,
    },
    /// The X12 acknowledgments (997/999/TA1) the gateway mails partners for the X12 they mail
    /// it: list those waiting for the SMTP relay and those given up, and send a given-up one
    /// again with its control numbers.
    #[command(after_help = "Examples:\n  \
        gateway acks list --config gateway.toml\n  \
        gateway acks list --config gateway.toml --json\n  \
        gateway acks resend --config gateway.toml ack.5f0c2e9b41d84c6e8f1a2b3c4d5e6f70\n  \
        gateway acks resend --config gateway.toml ack.5f0c2e9b41d84c6e8f1a2b3c4d5e6f70 --to edi@acme.example\n  \
        gateway acks resend --config gateway.toml --all-given-up\n\n\
        An acknowledgment the relay refuses is retried for hours, then given up: its documents \
        get a note (gateway documents --noted) and gateway partners counts them. resend queues \
        a given-up one for the running gateway, which takes it within [mailbox] \
        poll_interval_ms (or at its next start) and mails it as it was made: the same files \
        and control numbers (ISA13/GS06), so the partner sees no gap. The command mails \
        nothing itself, so an acknowledgment is never mailed twice beside the service. Follow \
        it with gateway acks list: gone once the relay took it (its documents' note then says \
        it was mailed late), or given up again with the relay's new answer. Exit status 1 when \
        an ID could not be queued (unknown, or not given up).")]
    Acks {
        /// What to do with the acknowledgment mails.
        #[arg(value_enum)]
        action: AcksVerb,
        /// resend: the acknowledgment mails, by the ids `gateway acks list` prints.
        #[arg(value_name = "ID")]
        ids: Vec<String>,
        /// The gateway's configuration (its state folder, where the mails are kept, and
        /// [mailbox.smtp]).
        #[arg(long, value_name = "gateway.toml", default_value = "gateway.toml")]
        config: PathBuf,
        /// resend: every given-up acknowledgment mail.
        #[arg(long, conflicts_with = "ids")]
        all_given_up: bool,
        /// resend (one ID): mail it to this address, or comma-separated addresses, instead of
        /// the one it was made for (the partner's, since corrected).
        #[arg(long, value_name = "ADDRESS")]
        to: Option<String>,
        /// list: print JSON Lines instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Remove what the gateway kept past its time ([retention] in the configuration): the file
    /// drop's archived day folders, mails already read, and invoice files no document needs
    /// any more. The running service does the same every hour; this is for a dry run, or a
    /// disk that is filling now.
    #[command(after_help = "Examples:\n  \
        gateway prune --config gateway.toml --dry-run\n  \
        gateway prune --config gateway.toml\n  \
        GATEWAY__RETENTION__ARCHIVE_DAYS=30 gateway prune --config gateway.toml\n\n\
        Never removed: the ledger (it keeps a resent invoice a duplicate however old it is), \
        error/ and quarantine/ folders (they wait for an operator: the report counts them), \
        a file any undelivered or dead-lettered document still needs. Exit status 1 when \
        something could not be removed.")]
    Prune {
        /// The gateway's configuration (folders, ledger, [retention] days).
        #[arg(long, value_name = "gateway.toml", default_value = "gateway.toml")]
        config: PathBuf,
        /// Say what would be removed; remove nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of the canonical document (the committed copy lives in
    /// `schemas/canonical.schema.json`).
    #[command(after_help = "Example:\n  gateway schema > schemas/canonical.schema.json")]
    Schema,
    /// Print this message or the help of the given command.
    #[command(after_help = "Examples:\n  \
        gateway help\n  \
        gateway help validate")]
    Help {
        /// The command to describe (the same as `gateway COMMAND --help`); none: every command.
        #[arg(value_name = "COMMAND")]
        command: Option<String>,
    },
}

/// `gateway help [COMMAND]`: exactly what `gateway [COMMAND] --help` prints, which clap's
/// own help command printed too (usage under the name the binary was run as; an unknown
/// command is clap's usage error, exit 2).
fn print_help(command: Option<&str>) -> anyhow::Result<ExitCode> {
    let arg0 = std::env::args_os()
        .next()
        .unwrap_or_else(|| "gateway".into());
    let args = std::iter::once(arg0)
        .chain(command.map(std::ffi::OsString::from))
        .chain(std::iter::once("--help".into()));
    match <Cli as clap::CommandFactory>::command().try_get_matches_from(args) {
        Err(e) => {
            e.print()?;
            Ok(ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2)))
        }
        // `--help` always ends the parse with the help; nothing else to print.
        Ok(_) => Ok(ExitCode::SUCCESS),
    }
}

/// mimalloc instead of glibc malloc: under load the service spent about a quarter of its CPU in
/// malloc/free (per-document JSON values and strings), and glibc's consolidation passes showed
/// up on their own in the profile. See BENCHMARKS.md for the measurement. The
/// `system-allocator` feature leaves it out, for heap profilers that see only malloc.
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Asks `question` on the terminal; true only for an answer of `y` or `yes`.
fn confirm(question: &str) -> anyhow::Result<bool> {
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        // The reader went away (`gateway documents | head`): what it wanted was printed.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Whether `e` comes from writing to a pipe whose reader has closed it.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
            .or_else(|| {
                cause
                    .downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind)
            })
            == Some(std::io::ErrorKind::BrokenPipe)
    })
}

/// What `gateway dlq purge --tell-supplier` sends notices with: the configuration's partners,
/// X12 numbered from the service's counters, its SMTP relay when it has one.
fn supplier_notices(
    config: &gateway_server::config::Config,
) -> anyhow::Result<gateway_server::supplier_notice::SupplierNotices> {
    let codecs = Codecs::with_x12_control_numbers_in(&config.state_dir().join("x12-control"));
    let notices = gateway_server::supplier_notice::SupplierNotices::new(
        gateway_server::partners::Partners::new(config.partners.clone()),
        codecs,
        std::time::Duration::from_millis(config.coupa.supplier_timeout_ms),
    )?;
    Ok(
        match config.mailbox.as_ref().and_then(|m| m.smtp.as_ref()) {
            Some(smtp) => notices.with_mailer(std::sync::Arc::new(
                adapter_email::SmtpMailer::new(smtp)
                    .map_err(|e| anyhow::anyhow!("[mailbox.smtp]: {e}"))?,
            )),
            None => notices,
        },
    )
}

/// The ledger of a gateway that has run with `config` (operator commands read it beside the
/// running service).
fn open_ledger(
    config: &gateway_server::config::Config,
) -> anyhow::Result<gateway_server::ledger::Ledger> {
    let path = &config.ledger.path;
    if !path.exists() {
        anyhow::bail!(
            "no ledger at {}: the gateway has not run with this configuration yet, or the \
             path is wrong ([ledger] path; {})",
            path.display(),
            gateway_server::config::how_paths_resolve(path)
        );
    }
    // The error names the file and `[ledger] path`.
    gateway_server::ledger::Ledger::open(path)
        .map_err(|e| anyhow::anyhow!("opening the ledger: {e}"))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn load_config(path: &std::path::Path) -> anyhow::Result<gateway_server::config::Config> {
    Ok(gateway_server::config::Config::load(
        path,
        std::env::vars(),
    )?)
}

/// `gateway acks`: the mailed X12 acknowledgments' outbox ([`gateway_server::ack_outbox`]).
fn acks(
    action: AcksVerb,
    ids: &[String],
    config: &std::path::Path,
    all_given_up: bool,
    to: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let config = load_config(config)?;
    let outbox = gateway_server::ack_outbox::AckOutbox::of(&config);
    let mut out = std::io::stdout().lock();
    if action == AcksVerb::List {
        if !ids.is_empty() || all_given_up || to.is_some() {
            anyhow::bail!("IDs, --all-given-up and --to go with resend (gateway acks resend ...)");
        }
        let (entries, problems) = outbox.list();
        for p in &problems {
            eprintln!("warning: {p}");
        }
        gateway_server::ack_outbox::print_list(&entries, json, &mut out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if json {
        anyhow::bail!("--json goes with list");
    }
    let Some(mailbox) = config.mailbox.as_ref().filter(|m| m.smtp.is_some()) else {
        anyhow::bail!(
            "this configuration has no [mailbox.smtp]: the gateway mails acknowledgments \
             through it, so nothing would send them; add it, then resend"
        );
    };
    let ids = if all_given_up {
        outbox.given_up_ids()
    } else if ids.is_empty() {
        anyhow::bail!(
            "name the acknowledgment mails to send again (their ids, as `gateway acks list` \
             prints them), or give --all-given-up"
        );
    } else {
        ids.to_vec()
    };
    if to.is_some() && (all_given_up || ids.len() != 1) {
        anyhow::bail!("--to goes with one ID: each acknowledgment answers one partner's message");
    }
    let mut failed = 0;
    let mut queued = 0;
    for id in &ids {
        match outbox.resend(id, to) {
            Ok(e) => {
                queued += 1;
                writeln!(
                    out,
                    "queued {}: partner {}, to {}, ISA13 {} ({})",
                    e.id,
                    e.partner,
                    e.to,
                    e.control_numbers.join(", "),
                    e.files.join(", ")
                )?;
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
            }
        }
    }
    if queued > 0 {
        writeln!(
            out,
            "{queued} acknowledgment mail(s) queued: the running gateway mails them as they \
             were made within {} ms ([mailbox] poll_interval_ms), or at its next start; follow \
             them with `gateway acks list`",
            mailbox.poll_interval_ms
        )?;
    } else if ids.is_empty() {
        writeln!(out, "no given-up acknowledgment mails")?;
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let codecs = Codecs::standard();
    match cli.command {
        Command::Convert {
            from,
            to,
            partner,
            x12_threads,
            kind,
            control_numbers,
            out_dir,
            force,
            input,
        } => {
            if let Some(dir) = &control_numbers {
                convert::existing_counters(dir)?;
            }
            let codecs = Codecs::for_cli(
                x12_threads,
                control_numbers.as_deref(),
                kind.map(KindArg::kind),
            );
            let req = ConvertRequest {
                input: &input,
                from: from.format(),
                to: to.format(),
                partner: convert::load_partner(partner.as_ref())?,
                out_dir: out_dir.as_deref(),
                force,
            };
            if req.to == Format::X12 && req.partner.x12.is_none() {
                // The interchange would name made-up parties; fine for a look, not to send.
                eprintln!(
                    "note: no partner profile with an [x12] section: the ISA names sender \
                     GATEWAY and receiver {} (qualifier ZZ); give --partner PROFILE.toml \
                     with the partner's ids before sending it",
                    req.partner.id.to_uppercase()
                );
            }
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let tally = convert::convert(&codecs, &req, &mut out)?;
            if tally.rejects > 0 {
                eprintln!(
                    "{}: {} document(s) converted, {} rejected",
                    input.display(),
                    tally.documents,
                    tally.rejects
                );
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate {
            from,
            partner,
            ack,
            control_numbers,
            input,
        } => {
            if let (Some(dir), None) = (&control_numbers, &partner) {
                // The service's counters are per partner (`<dir>/<partner id>.isa`): numbered
                // under no partner, the ack would start at 1 and repeat ISA13/GS06 the service
                // already sent that sender. Which partner it is, only its profile says.
                anyhow::bail!(
                    "--control-numbers {} continues a partner's numbering, and the gateway keeps \
                     one per partner (its id as in the configuration's [[partners]]): add \
                     --partner with the profile of the partner that sent the interchange, or \
                     leave out --control-numbers to number the acknowledgment from 1 for a look",
                    dir.display()
                );
            }
            if let Some(dir) = &control_numbers {
                convert::existing_counters(dir)?;
            }
            let partner = convert::load_partner(partner.as_ref())?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            let errors = if ack {
                let codecs = Codecs::for_cli(1, control_numbers.as_deref(), None);
                let stderr = std::io::stderr();
                convert::acknowledge(
                    &codecs,
                    &input,
                    from.format(),
                    &partner,
                    &mut out,
                    &mut stderr.lock(),
                )?
            } else {
                convert::validate(&codecs, &input, from.format(), &partner, &mut out)?.1
            };
            Ok(if errors > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Demo { amqp, verbose } => {
            gateway_server::logging::init(if verbose { "info" } else { "off" });
            let ok = runtime()?.block_on(async {
                let mut out = std::io::stdout();
                gateway_server::demo::run(
                    gateway_server::demo::DemoOptions {
                        amqp_url: amqp,
                        po_count: 2,
                        coupa_cap: false,
                    },
                    &mut out,
                )
                .await
            })?;
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Sandbox {
            port,
            public,
            snapshot,
            seed_files,
            no_demo,
        } => {
            gateway_server::logging::init("info");
            runtime()?.block_on(gateway_sandbox::run_cli(gateway_sandbox::CliOptions {
                port,
                public,
                snapshot,
                seed_files,
                no_demo,
            }))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { config } => {
            gateway_server::logging::init("info");
            let config = load_config(&config)?;
            runtime()?.block_on(gateway_server::service::serve(config))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Dlq {
            action,
            id,
            config,
            consumer,
            doc,
            partner,
            kind,
            reason,
            all,
            json,
            limit,
            dry_run,
            yes,
            note,
            tell_supplier,
        } => {
            use gateway_server::dlq::{DlqAction, DlqContext, run as dlq_run};
            if tell_supplier && !matches!(action, DlqVerb::Purge) {
                anyhow::bail!(
                    "--tell-supplier goes with purge: suppliers are told when their invoices are given up (gateway dlq purge ... --tell-supplier)"
                );
            }
            let config = load_config(&config)?;
            let filter = gateway_core::DeadFilter {
                doc_id: doc.or(id),
                partner,
                kind: kind.map(KindArg::kind),
                reason_contains: reason,
                doc_ids: None,
            };
            // An empty value (a script's unset variable) would match every dead letter.
            gateway_server::dlq::check_filter(&filter).map_err(anyhow::Error::msg)?;
            let action = match action {
                DlqVerb::List => DlqAction::List { limit, json },
                DlqVerb::Show => DlqAction::Show { limit },
                DlqVerb::Replay if dry_run => DlqAction::Preview {
                    verb: "replay",
                    limit,
                    tell_supplier: false,
                },
                DlqVerb::Purge if dry_run => DlqAction::Preview {
                    verb: "purge",
                    limit,
                    tell_supplier,
                },
                DlqVerb::Replay => DlqAction::Replay,
                DlqVerb::Purge => DlqAction::Purge {
                    note,
                    tell_supplier,
                },
            };
            if matches!(
                action,
                DlqAction::Replay | DlqAction::Purge { .. } | DlqAction::Preview { .. }
            ) && filter == gateway_core::DeadFilter::default()
                && !all
            {
                anyhow::bail!(
                    "refusing to take every dead letter without --all; narrow it with a DOC_ID, --partner, --kind or --reason (add --dry-run to see what it would take)"
                );
            }
            let consumers: Vec<&str> = match consumer.as_deref() {
                Some(c) if gateway_server::bus::CONSUMERS.contains(&c) => vec![c],
                Some(c) => anyhow::bail!(
                    "unknown consumer {c}; consumers are {}",
                    gateway_server::bus::CONSUMERS.join(", ")
                ),
                None => gateway_server::bus::CONSUMERS.to_vec(),
            };
            // Purged and replayed documents are marked in the ledger; without one (a bus shared
            // by another host's gateway), purging and replaying still work and say the ledger
            // was not told.
            let ledger = match &action {
                DlqAction::Purge { .. } => open_ledger(&config)
                    .map_err(|e| eprintln!("warning: {e}; purged documents stay `dead` in it"))
                    .ok(),
                DlqAction::Replay => open_ledger(&config)
                    .map_err(|e| {
                        eprintln!(
                            "warning: {e}; replayed documents stay `dead` in it until their redelivery ends"
                        )
                    })
                    .ok(),
                _ => None,
            };
            let wants_notices = matches!(
                &action,
                DlqAction::Purge {
                    tell_supplier: true,
                    ..
                } | DlqAction::Preview {
                    tell_supplier: true,
                    ..
                }
            );
            // `show` and `replay --dry-run` say what a replay would do in Coupa now; without a
            // usable [coupa] section they still list, and say why they cannot tell.
            let coupa = match &action {
                DlqAction::Show { .. } | DlqAction::Preview { verb: "replay", .. } => {
                    gateway_server::coupa_link::invoice_lookup(&config)
                        .map_err(|e| {
                            eprintln!("warning: {e:#}; not asking Coupa what a replay would do")
                        })
                        .ok()
                }
                _ => None,
            };
            // Another `gateway dlq` (or the service) reading the same dead letters makes this
            // one wait its turn: say why it pauses.
            let waiting = |consumer: &str| {
                eprintln!(
                    "waiting for another `gateway dlq` or the gateway service to finish reading the dead letters of {consumer} (at most {} s)...",
                    gateway_broker::DEAD_LETTER_WAIT.as_secs()
                );
            };
            runtime()?.block_on(gateway_broker::on_dead_letter_wait(waiting, async {
                // Made and dropped inside the runtime: the SMTP relay's connection pool, once a
                // notice went by mail, needs one to shut down.
                let notices = if wants_notices {
                    Some(supplier_notices(&config)?)
                } else {
                    None
                };
                let bus =
                    gateway_server::bus::open(&config.bus, gateway_server::bus::Role::Operator)
                        .await?;
                // A partner no one knows (a typo) is refused like `documents --partner`.
                if let Some(p) = filter.partner.as_deref()
                    && let Some(why) =
                        gateway_server::dlq::unknown_partner(bus.as_ref(), &consumers, &config, p)
                            .await?
                {
                    anyhow::bail!(why);
                }
                // A DOC_ID that names no dead letter is a mistake to point out, not "0".
                let unmatched =
                    gateway_server::dlq::unmatched_ids(bus.as_ref(), &consumers, &filter).await?;
                if !unmatched.is_empty() {
                    for why in &unmatched {
                        eprintln!("error: {why}");
                    }
                    return Ok(ExitCode::from(1));
                }
                let mut out = std::io::stdout().lock();
                if matches!(action, DlqAction::Purge { .. })
                    && !yes
                    && std::io::stdin().is_terminal()
                {
                    let preview = DlqAction::Preview {
                        verb: "purge",
                        limit,
                        tell_supplier,
                    };
                    let n = dlq_run(
                        bus.as_ref(),
                        DlqContext {
                            notices: notices.as_ref(),
                            ..DlqContext::default()
                        },
                        &consumers,
                        &filter,
                        &preview,
                        &mut out,
                    )
                    .await?;
                    if n == 0 || !confirm(&format!("purge these {n} dead letter(s) for good?"))? {
                        writeln!(out, "nothing purged")?;
                        return Ok(ExitCode::SUCCESS);
                    }
                }
                let cx = DlqContext {
                    ledger: ledger.as_ref(),
                    notices: notices.as_ref(),
                    coupa: coupa.as_ref(),
                };
                dlq_run(bus.as_ref(), cx, &consumers, &filter, &action, &mut out).await?;
                Ok(ExitCode::SUCCESS)
            }))
        }
        Command::Documents {
            config,
            number,
            status,
            partner,
            kind,
            doc,
            unacknowledged_hours,
            noted,
            from,
            limit,
            json,
        } => {
            let config = load_config(&config)?;
            let ledger = open_ledger(&config)?;
            if let Some(partner) = &partner {
                gateway_server::documents::check_partner(&config, &ledger, partner)?;
            }
            let kind = kind.map(LedgerKindArg::as_str);
            let entries = ledger.search(&gateway_server::ledger::DocumentFilter {
                number: number.as_deref(),
                status: status.as_deref(),
                partner: partner.as_deref(),
                kind,
                doc: doc.as_deref(),
                unacknowledged_hours,
                noted,
                from: from.as_deref(),
                limit,
            })?;
            let mut out = std::io::stdout().lock();
            let store = gateway_core::AttachmentStore::new(config.attachments_dir());
            gateway_server::documents::print(&entries, json, Some(&store), &mut out)?;
            if !json {
                let more = if entries.len() as u64 == u64::from(limit) {
                    " (the last received; --limit for more)"
                } else {
                    ""
                };
                writeln!(out, "{} document(s){more}", entries.len())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Partners { config, json } => {
            let config = load_config(&config)?;
            let ledger = open_ledger(&config)?;
            let partners = gateway_server::partners::Partners::new(config.partners.clone());
            let rows = gateway_server::documents::partner_rows(&ledger, &partners)?;
            gateway_server::documents::print_partners(&rows, json, &mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Resend { config, doc } => {
            let config = load_config(&config)?;
            let ledger = open_ledger(&config)?;
            gateway_server::documents::resendable_entry(&config, &ledger, &doc)?;
            let resent = runtime()?.block_on(async {
                let bus =
                    gateway_server::bus::open(&config.bus, gateway_server::bus::Role::Operator)
                        .await?;
                gateway_server::documents::resend(&config, std::sync::Arc::new(ledger), bus, &doc)
                    .await
            })?;
            writeln!(
                std::io::stdout().lock(),
                "PO {} queued for {} again as {}; the running gateway sends it (follow it with \
                 `gateway documents --doc {}`)",
                resent.number,
                resent.partner,
                resent.key,
                resent.key
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Acks {
            action,
            ids,
            config,
            all_given_up,
            to,
            json,
        } => acks(action, &ids, &config, all_given_up, to.as_deref(), json),
        Command::Prune {
            config,
            dry_run,
            json,
        } => {
            let config = load_config(&config)?;
            let ledger = open_ledger(&config)?;
            let report = gateway_server::retention::prune(
                &config,
                &ledger,
                std::time::SystemTime::now(),
                dry_run,
            );
            let mut out = std::io::stdout().lock();
            if json {
                writeln!(out, "{}", serde_json::to_string(&report)?)?;
            } else {
                write!(out, "{}", report.render())?;
            }
            Ok(if report.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Schema => {
            let schema = gateway_model::json_schema();
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", serde_json::to_string_pretty(&schema)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Help { command } => print_help(command.as_deref()),
    }
}
