//! Prints the canonical JSON (one document per line) and the rejects of an X12 file:
//! `cargo run -p adapter-x12 --example x12_to_json -- FILE.edi [--ack]`. With `--ack`, prints
//! the 997/999/TA1 instead.

use gateway_core::{Decode, PartnerProfile};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: x12_to_json FILE [--ack]");
        return Ok(());
    };
    let raw = std::fs::read(path)?;
    let partner = PartnerProfile::anonymous();
    if args.iter().any(|a| a == "--ack") {
        let ack = adapter_x12::acknowledge(&raw, &partner);
        println!("{}", String::from_utf8_lossy(&ack));
        return Ok(());
    }
    let decoded = adapter_x12::X12Codec::new().decode(&raw, &partner);
    for d in &decoded.documents {
        println!("{}", gateway_model::to_json_line(&d.document));
    }
    for r in &decoded.rejects {
        eprintln!("reject: {r}");
    }
    Ok(())
}
