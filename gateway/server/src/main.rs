//! `gateway`: the coupa-gateway command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gateway_core::Format;
use gateway_server::codecs::Codecs;
use gateway_server::convert::{self, ConvertRequest};

#[derive(Debug, Parser)]
#[command(
    name = "gateway",
    version,
    about = "coupa-gateway: B2B documents (cXML, X12, CSV, JSON) in and out of Coupa",
    long_about = None
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

#[derive(Debug, Subcommand)]
enum Command {
    /// Convert documents between formats; canonical JSON Lines by default.
    #[command(after_help = "Examples:\n  \
        gateway convert --to json samples/json/invoice/rich.json\n  \
        gateway convert --from x12 --to json invoice.edi\n  \
        cat order.json | gateway convert --to cxml -\n\n\
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
        /// Partner profile (TOML) with ids, delimiters, credentials and CSV column maps.
        #[arg(long, value_name = "PROFILE.toml")]
        partner: Option<PathBuf>,
        /// Input file, or `-` for standard input.
        #[arg(value_name = "FILE|-")]
        input: PathBuf,
    },
    /// Check documents: every problem with its location; exit 1 when there are errors.
    #[command(after_help = "Examples:\n  \
        gateway validate samples/json/invoice/rich.json\n  \
        gateway validate --partner acme.toml invoices.csv")]
    Validate {
        #[arg(long, value_enum, default_value = "auto")]
        from: FromFormat,
        #[arg(long, value_name = "PROFILE.toml")]
        partner: Option<PathBuf>,
        /// Input file, or `-` for standard input.
        #[arg(value_name = "FILE|-")]
        input: PathBuf,
    },
    /// Print the JSON Schema of the canonical document (the committed copy lives in
    /// `schemas/canonical.schema.json`).
    #[command(after_help = "Example:\n  gateway schema > schemas/canonical.schema.json")]
    Schema,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let codecs = Codecs::standard();
    match cli.command {
        Command::Convert {
            from,
            to,
            partner,
            input,
        } => {
            let req = ConvertRequest {
                input: &input,
                from: from.format(),
                to: to.format(),
                partner: convert::load_partner(partner.as_ref())?,
            };
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
            input,
        } => {
            let partner = convert::load_partner(partner.as_ref())?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            let (_, errors, _) =
                convert::validate(&codecs, &input, from.format(), &partner, &mut out)?;
            Ok(if errors > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Schema => {
            let schema = gateway_model::json_schema();
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", serde_json::to_string_pretty(&schema)?)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
