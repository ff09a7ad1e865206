//! Decoding on several threads gives exactly what decoding on one gives: the same documents,
//! the same rejects, in the same order, for every X12 file of the shared corpus, the golden
//! samples, and inputs built to hit every kind of item the walker and the mapping produce
//! (envelope rejects between sets, rejected sets, sets the gateway does not map, text that is
//! not UTF-8, interchanges with other delimiters), in memory and streamed in small reads.

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;

use adapter_x12::{Parallelism, decode_all_with, decode_stream_with};
use gateway_core::testkit::{corpus_or_skip, files_under, repo_root};
use gateway_core::{DecodeItem, Decoded};

/// Thread counts and batch sizes: batches of one set hand every set to the workers
/// separately, odd sizes cut groups and interchanges at every place.
const SETTINGS: [(usize, usize); 4] = [(2, 1), (2, 7), (3, 2), (4, 32)];

fn streamed(raw: &[u8], par: Parallelism, read_size: usize) -> Vec<DecodeItem> {
    let mut items = Vec::new();
    let mut reader = std::io::BufReader::with_capacity(read_size, raw);
    decode_stream_with(&mut reader, 64 * 1024 * 1024, par, &mut |i| items.push(i)).unwrap();
    items
}

/// Asserts every setting gives the sequential result; returns that result.
fn assert_same_on_every_setting(name: &str, raw: &[u8]) -> Decoded {
    let sequential = decode_all_with(raw, Parallelism::sequential());
    let sequential_stream = streamed(raw, Parallelism::sequential(), 4096);
    for (threads, batch) in SETTINGS {
        let par = Parallelism { threads, batch };
        let parallel = decode_all_with(raw, par);
        assert_eq!(
            parallel, sequential,
            "{name}: {threads} threads, batches of {batch}: in-memory decode differs"
        );
        for read_size in [7, 4096] {
            assert_eq!(
                streamed(raw, par, read_size),
                sequential_stream,
                "{name}: {threads} threads, batches of {batch}, reads of {read_size}: \
                 streamed decode differs"
            );
        }
    }
    sequential
}

fn corpus_files() -> Option<Vec<PathBuf>> {
    let root = corpus_or_skip("", "parallel decode over the x12 corpus").unwrap()?;
    let mut files = Vec::new();
    for folder in common::X12_FOLDERS {
        files.extend(
            files_under(&root.join(folder))
                .into_iter()
                .filter(|f| f.extension().is_none_or(|e| e != "xml")),
        );
    }
    Some(files)
}

#[test]
fn every_corpus_file_decodes_the_same_on_several_threads() {
    let Some(files) = corpus_files() else {
        return;
    };
    assert!(files.len() >= 25, "corpus looks incomplete: {files:?}");
    let mut documents = 0;
    for f in &files {
        let raw = std::fs::read(f).unwrap();
        documents += assert_same_on_every_setting(&f.display().to_string(), &raw)
            .documents
            .len();
    }
    // The comparison is only worth something if the corpus gives documents to compare.
    assert!(
        documents >= 12,
        "only {documents} documents from the corpus"
    );
}

#[test]
fn golden_samples_decode_the_same_on_several_threads() {
    for kind in ["invoice", "purchase_order"] {
        let path = repo_root().join(format!("samples/x12/{kind}/rich.edi"));
        let raw = std::fs::read(&path).unwrap();
        let decoded = assert_same_on_every_setting(&path.display().to_string(), &raw);
        assert_eq!(decoded.documents.len(), 1, "{}", path.display());
    }
}

fn isa(control: &str, element: char, terminator: char) -> String {
    format!(
        "ISA{e}00{e}          {e}00{e}          {e}ZZ{e}SENDER         {e}ZZ{e}RECEIVER       {e}260315{e}1030{e}U{e}00401{e}{control}{e}0{e}P{e}>{t}\n",
        e = element,
        t = terminator
    )
}

fn invoice(ctl: &str, lines: usize, e: char, t: char) -> String {
    let mut segs = vec![
        format!("ST{e}810{e}{ctl}"),
        format!("BIG{e}20260315{e}INV{ctl}{e}{e}PO{ctl}"),
        format!("REF{e}VN{e}KEPT{ctl}"),
    ];
    for l in 1..=lines {
        segs.push(format!("IT1{e}{l}{e}{l}{e}EA{e}2.50{e}{e}VP{e}P{l}"));
        segs.push(format!("PID{e}F{e}{e}{e}{e}Item {l}"));
    }
    segs.push(format!("TDS{e}{}", 250 * lines * (lines + 1) / 2));
    let n = segs.len() + 1;
    format!("{}{t}\nSE{e}{n}{e}{ctl}{t}\n", segs.join(&format!("{t}\n")))
}

/// Two interchanges (the second with other delimiters) holding good invoices between sets
/// that are rejected, not mapped or located by the walker.
fn mixed_input() -> Vec<u8> {
    let mut s = isa("000000001", '*', '~');
    s.push_str("GS*IN*SENDER*RECEIVER*20260315*1030*1*X*004010~\n");
    for k in 0..40 {
        s.push_str(&invoice(&format!("{:04}", k + 1), 1 + k % 4, '*', '~'));
    }
    // SE01 counts wrong: the set is rejected, its neighbours are not.
    s.push_str("ST*810*0041~\nBIG*20260315*INVBAD~\nSE*9*0041~\n");
    // A control number the group already used.
    s.push_str(&invoice("0001", 1, '*', '~'));
    // A bad quantity: rejected by the mapping, located at the element.
    s.push_str("ST*810*0043~\nBIG*20260315*INV43~\nIT1*1*ABC*EA*1~\nSE*4*0043~\n");
    // Not UTF-8 in a kept segment and in a description.
    s.push_str("ST*810*0044~\nBIG*20260315*INV44~\nREF*ZZ*caf\u{e9}~\nIT1*1*1*EA*1~\n");
    let mut raw = s.into_bytes();
    raw.extend_from_slice(b"PID*F****Latin-1 \xe9t\xe9~\nSE*6*0044~\n");
    let mut s = String::new();
    // GE counts wrong: a group reject between sets.
    s.push_str("GE*99*1~\n");
    s.push_str("GS*PR*SENDER*RECEIVER*20260315*1030*2*X*004010~\n");
    // An 855 the gateway does not map.
    s.push_str("ST*855*0001~\nBAK*00*AC*PO1*20260315~\nSE*3*0001~\n");
    s.push_str("GE*1*2~\n");
    // A stray segment between groups.
    s.push_str("REF*ZZ*STRAY~\n");
    s.push_str("GS*IN*SENDER*RECEIVER*20260315*1030*3*X*005010~\n");
    for k in 0..25 {
        s.push_str(&invoice(&format!("{:04}", k + 1), 2, '*', '~'));
    }
    // IEA counts wrong: an interchange reject after the group.
    s.push_str("GE*25*3~\nIEA*5*000000001~\n");
    s.push_str(&isa("000000002", '|', '\n'));
    s.push_str("GS|IN|SENDER|RECEIVER|20260315|1030|4|X|004010\n");
    for k in 0..30 {
        s.push_str(&invoice(&format!("{:04}", k + 1), 3, '|', '\n'));
    }
    // The group is never closed: the missing GE and IEA are rejects at the end.
    raw.extend_from_slice(s.as_bytes());
    raw
}

#[test]
fn a_mixed_input_decodes_the_same_on_several_threads() {
    let raw = mixed_input();
    let decoded = assert_same_on_every_setting("mixed input", &raw);
    // What the input holds, counted by hand: 40 + 25 + 30 good invoices, and the 0044 set
    // whose bytes are not UTF-8 (replaced, not rejected).
    assert_eq!(decoded.documents.len(), 96, "{:#?}", decoded.rejects);
    let rejected: Vec<&str> = decoded
        .rejects
        .iter()
        .map(|r| r.location.as_str())
        .collect();
    for expected in [
        "set 0041",
        "set 0001",
        "set 0043",
        "set 0001 (855)",
        "group 1",
        "line",
        "interchange 000000001",
    ] {
        assert!(
            rejected.iter().any(|l| l.contains(expected)),
            "no reject at {expected:?}: {rejected:#?}"
        );
    }
}

/// Many interchanges of one set each (how partners often send batch files), with runs of
/// stray segments between them: rejects from the walker ride in the batches with the sets.
#[test]
fn one_set_interchanges_and_stray_runs_decode_the_same_on_several_threads() {
    let mut s = String::new();
    for k in 0..60 {
        let ctl = format!("{:09}", k + 1);
        s.push_str(&isa(&ctl, '*', '~'));
        s.push_str(&format!(
            "GS*IN*SENDER*RECEIVER*20260315*1030*{}*X*004010~\n",
            k + 1
        ));
        s.push_str(&invoice("0001", 2, '*', '~'));
        s.push_str(&format!("GE*1*{}~\nIEA*1*{ctl}~\n", k + 1));
        if k % 20 == 5 {
            for _ in 0..150 {
                s.push_str("REF*ZZ*STRAY~\n");
            }
        }
    }
    let decoded = assert_same_on_every_setting("one-set interchanges", s.as_bytes());
    assert_eq!(decoded.documents.len(), 60, "{:?}", decoded.rejects.first());
    assert_eq!(decoded.rejects.len(), 3 * 150);
}
