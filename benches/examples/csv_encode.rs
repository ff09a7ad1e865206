//! Decodes the `csv` bench file and encodes the documents back once, for instruction counts
//! (callgrind) of the CSV encoder, which criterion shows far behind its baseline:
//!
//! ```text
//! cargo build --release -p gateway-benches --example csv_encode
//! valgrind --tool=callgrind target/release/examples/csv_encode 1000
//! ```
//!
//! The argument is the number of invoices (default 1,000). Read the inclusive cost of
//! `CsvCodec::encode` in `callgrind_annotate --inclusive=yes`.

use std::hint::black_box;

use adapter_csv::CsvCodec;
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::Document;

fn main() -> anyhow::Result<()> {
    let invoices: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 1_000,
    };
    let raw = gateway_benches::csv_invoice_import(invoices);
    let decoded = CsvCodec.decode(&raw, &PartnerProfile::anonymous());
    anyhow::ensure!(
        decoded.rejects.is_empty(),
        "rejects: {:?}",
        decoded.rejects.first()
    );
    let docs: Vec<Document> = decoded.documents.into_iter().map(|d| d.document).collect();
    let out = CsvCodec.encode(black_box(&docs), &PartnerProfile::anonymous())?;
    println!("{} documents, {} bytes written", docs.len(), out.len());
    Ok(())
}
