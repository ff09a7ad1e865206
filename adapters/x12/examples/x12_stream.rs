//! Measures that streaming decode keeps memory flat on large files:
//!
//! ```text
//! cargo run --release -p adapter-x12 --example x12_stream -- generate big.edi 200
//! /usr/bin/time -v target/release/examples/x12_stream decode big.edi
//! ```
//! `generate FILE MB` writes one interchange of 810s of about MB megabytes; `decode FILE`
//! streams it through `decode_stream` and prints documents and rejects.

use std::io::{BufReader, BufWriter, Write};

use gateway_core::DecodeItem;

fn set(k: usize) -> String {
    let ctl = format!("{:09}", k + 1);
    let mut segs = vec![
        format!("ST*810*{ctl}"),
        format!("BIG*20260315*INV{k}**PO{k}"),
        "CUR*SE*USD".to_string(),
        "N1*SU*Acme Industrial Supply*92*SUP1".to_string(),
        "N3*100 Factory Road".to_string(),
        "N4*Springfield*IL*62701*US".to_string(),
    ];
    for l in 1..=10 {
        segs.push(format!("IT1*{l}*{l}*EA*12.50**VP*PART-{k}-{l}"));
        segs.push(format!("PID*F****Item {l} of invoice {k}"));
    }
    segs.push("TDS*68750".to_string());
    segs.push("CTT*10".to_string());
    let n = segs.len() + 1;
    let mut s = segs.join("~\n");
    s.push_str(&format!("~\nSE*{n}*{ctl}~\n"));
    s
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("generate") => {
            let path = args.get(2).cloned().unwrap_or_else(|| "big.edi".into());
            let mb: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(200);
            let mut w = BufWriter::new(std::fs::File::create(&path)?);
            w.write_all(b"ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*GLOBEXCORP     *260315*1030*U*00401*000000042*0*P*>~\nGS*IN*ACME*GLOBEX*20260315*1030*1*X*004010~\n")?;
            let mut written = 0usize;
            let mut k = 0usize;
            while written < mb * 1024 * 1024 {
                let s = set(k);
                written += s.len();
                w.write_all(s.as_bytes())?;
                k += 1;
            }
            w.write_all(format!("GE*{k}*1~\nIEA*1*000000042~\n").as_bytes())?;
            w.flush()?;
            println!("{path}: {k} invoices, {written} bytes");
        }
        Some("decode") => {
            let path = args.get(2).cloned().unwrap_or_else(|| "big.edi".into());
            let mut r = BufReader::new(std::fs::File::open(&path)?);
            let (mut docs, mut rejects) = (0usize, 0usize);
            let started = std::time::Instant::now();
            adapter_x12::decode_stream(&mut r, &mut |item| match item {
                DecodeItem::Document(_) => docs += 1,
                DecodeItem::Reject(_) => rejects += 1,
            })?;
            let secs = started.elapsed().as_secs_f64();
            let bytes = std::fs::metadata(&path)?.len() as f64;
            println!(
                "{docs} documents, {rejects} rejects in {secs:.2}s ({:.1} MB/s)",
                bytes / secs / 1e6
            );
        }
        _ => eprintln!("usage: x12_stream generate FILE MB | decode FILE"),
    }
    Ok(())
}
