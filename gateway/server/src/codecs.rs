//! The codec registry: the one place that knows every format adapter.

use std::collections::BTreeMap;
use std::sync::Arc;

use gateway_core::{Decode, Encode, Format, JsonCodec};

/// Every decoder and encoder the gateway has, by format.
#[derive(Clone)]
pub struct Codecs {
    decoders: BTreeMap<&'static str, (Format, Arc<dyn Decode>)>,
    encoders: BTreeMap<&'static str, (Format, Arc<dyn Encode>)>,
    /// The X12 codec itself, for acknowledgments (997/999/TA1) with its control numbers.
    x12: Arc<adapter_x12::X12Codec>,
}

impl std::fmt::Debug for Codecs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codecs")
            .field("decoders", &self.decoders.keys().collect::<Vec<_>>())
            .field("encoders", &self.encoders.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// How many threads map the sets of one X12 input: `GATEWAY_X12_THREADS` (default 1, the
/// caller's thread). More threads pay little where the consumer of the documents is not cheap:
/// in `gateway convert` and the pipeline each document is serialised or published on the
/// caller's thread, and two threads saved at most 15% of wall time for about 35% more CPU
/// (BENCHMARKS.md). Inputs of fewer than a batch of sets (32) never start a thread.
fn x12_parallelism() -> adapter_x12::Parallelism {
    let Ok(value) = std::env::var("GATEWAY_X12_THREADS") else {
        return x12_threads(1);
    };
    match value.trim().parse::<usize>() {
        Ok(threads) => x12_threads(threads),
        Err(_) => {
            tracing::warn!(
                value = %value,
                "GATEWAY_X12_THREADS is not a whole number; decoding X12 on one thread \
                 (set it to e.g. 2, or unset it)"
            );
            x12_threads(1)
        }
    }
}

fn x12_threads(threads: usize) -> adapter_x12::Parallelism {
    adapter_x12::Parallelism {
        threads: threads.clamp(1, 64),
        ..adapter_x12::Parallelism::sequential()
    }
}

/// The X12 codec with control numbers kept in `dir` (else counted in memory from 1).
fn x12_codec(
    dir: Option<&std::path::Path>,
    parallelism: adapter_x12::Parallelism,
) -> adapter_x12::X12Codec {
    let codec = match dir {
        Some(dir) => adapter_x12::X12Codec::with_control_numbers(Arc::new(
            adapter_x12::FileControlNumbers::new(dir),
        )),
        None => adapter_x12::X12Codec::new(),
    };
    codec.with_parallelism(parallelism)
}

impl Codecs {
    /// The codecs built into this binary.
    pub fn standard() -> Self {
        Self::build(x12_codec(None, x12_parallelism()), None)
    }

    /// The standard codecs as the command line asks for them: X12 sets mapped on `threads`
    /// threads (`--x12-threads`); X12 control numbers (ISA13/GS06 of what is written,
    /// acknowledgments included) kept in `control_numbers` when given (`--control-numbers`;
    /// the service's `x12-control` beside its ledger, [`crate::config::Config::state_dir`],
    /// continues its numbering; `main` refuses a folder that does not exist,
    /// [`crate::convert::existing_counters`]), else counted from 1 in
    /// memory, which suits checking but not sending; and canonical JSON documents that name no
    /// `"kind"` read as `json_kind` (`--kind`).
    pub fn for_cli(
        threads: usize,
        control_numbers: Option<&std::path::Path>,
        json_kind: Option<gateway_model::DocumentKind>,
    ) -> Self {
        Self::build(x12_codec(control_numbers, x12_threads(threads)), json_kind)
    }

    /// The standard codecs, with X12 control numbers (ISA13/GS06/ST02 of what we send, acks
    /// included) kept in `dir` so they keep counting up across restarts, as partners require.
    ///
    /// `dir` is made here when its parent exists (the service's state folder, beside its
    /// ledger), not on the first number issued: `--control-numbers` refuses a folder that does
    /// not exist ([`crate::convert::existing_counters`]), and the service's own must be taken
    /// from its first start. Its parents are not made, so a mistyped `[ledger] path` still
    /// fails where the ledger is opened rather than leaving folders behind.
    pub fn with_x12_control_numbers_in(dir: &std::path::Path) -> Self {
        match std::fs::create_dir(dir) {
            Ok(()) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::NotFound
                ) => {}
            Err(e) => tracing::warn!(
                dir = %dir.display(),
                error = %e,
                "cannot make the X12 control-number folder; it is made again when a number is issued"
            ),
        }
        Self::build(x12_codec(Some(dir), x12_parallelism()), None)
    }

    /// The registry around `x12`, with canonical JSON reading documents that name no kind as
    /// `json_kind` (also inside e-mail, whose decoder takes the others as they are here).
    fn build(x12: adapter_x12::X12Codec, json_kind: Option<gateway_model::DocumentKind>) -> Self {
        let x12 = Arc::new(x12);
        let mut c = Codecs {
            decoders: BTreeMap::new(),
            encoders: BTreeMap::new(),
            x12: Arc::clone(&x12),
        };
        c.add_decoder(Arc::new(JsonCodec::with_default_kind(json_kind)));
        c.add_encoder(Arc::new(JsonCodec::default()));
        c.add_decoder(x12.clone());
        c.add_encoder(x12);
        let cxml = Arc::new(adapter_cxml::CxmlCodec::new());
        c.add_decoder(cxml.clone());
        c.add_encoder(cxml);
        let csv = Arc::new(adapter_csv::CsvCodec);
        c.add_decoder(csv.clone());
        c.add_encoder(csv);
        // e-mail reads whole messages and hands each attachment to the codecs above
        c.add_decoder(Arc::new(adapter_email::EmailCodec::new(
            c.attachment_readers(),
        )));
        c
    }

    /// The decoders a mail's attachments are read with: every one but e-mail's own. The
    /// registry's e-mail decoder and the mailbox's router (`mailbox::judge`) are built on it.
    pub fn attachment_readers(&self) -> Vec<Arc<dyn Decode>> {
        self.decoders
            .values()
            .filter(|(f, _)| *f != Format::Email)
            .map(|(_, d)| d.clone())
            .collect()
    }

    fn add_decoder(&mut self, d: Arc<dyn Decode>) {
        let f = d.format();
        self.decoders.insert(f.as_str(), (f, d));
    }

    fn add_encoder(&mut self, e: Arc<dyn Encode>) {
        let f = e.format();
        self.encoders.insert(f.as_str(), (f, e));
    }

    /// The X12 codec, for acknowledgments.
    pub fn x12(&self) -> &adapter_x12::X12Codec {
        &self.x12
    }

    pub fn decoder(&self, format: Format) -> Option<Arc<dyn Decode>> {
        self.decoders.get(format.as_str()).map(|(_, d)| d.clone())
    }

    pub fn encoder(&self, format: Format) -> Option<Arc<dyn Encode>> {
        self.encoders.get(format.as_str()).map(|(_, e)| e.clone())
    }

    /// Formats that can be read, for help and error messages.
    pub fn readable(&self) -> Vec<Format> {
        self.decoders.values().map(|(f, _)| *f).collect()
    }

    /// Formats that can be written.
    pub fn writable(&self) -> Vec<Format> {
        self.encoders.values().map(|(f, _)| *f).collect()
    }
}

/// `json, x12` style list for messages.
pub fn list(formats: &[Format]) -> String {
    formats
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_core::PartnerProfile;

    fn isa13(x12: &[u8]) -> String {
        let text = String::from_utf8_lossy(x12);
        let sep = text.chars().nth(3).unwrap_or('*');
        text.split(sep).nth(13).unwrap_or_default().to_string()
    }

    #[test]
    fn x12_control_numbers_keep_counting_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let po = std::fs::read(
            gateway_core::testkit::repo_root().join("samples/json/purchase_order/rich.json"),
        )
        .unwrap();
        let doc = gateway_model::from_json(&po).unwrap();
        let partner = PartnerProfile::from_toml(
            "id = \"acme\"\n[x12]\npartner_id = \"ACME\"\nour_id = \"US\"\n",
            "t",
        )
        .unwrap();
        let encode = || {
            let codecs = Codecs::with_x12_control_numbers_in(dir.path());
            let enc = codecs.encoder(Format::X12).unwrap();
            isa13(&enc.encode(std::slice::from_ref(&doc), &partner).unwrap())
        };
        let first = encode();
        let second = encode(); // a new process, the same folder
        assert_ne!(first, second, "ISA13 repeated after a restart");
        assert!(second.parse::<u64>().unwrap() > first.parse::<u64>().unwrap());
    }

    /// QA: a service that had issued no X12 yet had no `x12-control` folder, so
    /// `--control-numbers var/x12-control`, the service's own, was refused as one that does
    /// not exist. The folder is made when the service's codecs are, beside the ledger; a
    /// missing state folder is not made.
    #[test]
    fn the_service_s_counters_folder_exists_from_its_start() {
        let state = tempfile::tempdir().unwrap();
        let counters = state.path().join("x12-control");
        let _codecs = Codecs::with_x12_control_numbers_in(&counters);
        assert!(counters.is_dir());
        assert!(crate::convert::existing_counters(&counters).is_ok());
        let _again = Codecs::with_x12_control_numbers_in(&counters);
        let typo = state.path().join("no-such-state").join("x12-control");
        let _codecs = Codecs::with_x12_control_numbers_in(&typo);
        assert!(!state.path().join("no-such-state").exists());
    }
}
