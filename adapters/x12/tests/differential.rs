//! Differential test against the `edi` crate (GPL-3, dev-dependency only): on every corpus file
//! it accepts, our element split equals its split — ISA and GS fields and every segment of every
//! transaction set, element by element (both trimmed, as `edi` trims).

// Test helpers outside #[test] functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use adapter_x12::tokenizer::{Segment, Tokenizer};
use gateway_core::testkit::{corpus_or_skip, files_under};

type Seg = Vec<String>;

/// interchanges → (ISA fields, groups → (GS fields, sets → segments between ST and SE))
type Shape = Vec<(Seg, Vec<(Seg, Vec<Vec<Seg>>)>)>;

fn ours(raw: &[u8]) -> (Shape, Option<(u8, u8, u8)>) {
    let mut shape: Shape = Vec::new();
    let mut delims = None;
    let mut in_set = false;
    for seg in Tokenizer::new(raw) {
        let seg: Segment<'_> = seg.unwrap();
        let d = seg.delimiters;
        delims.get_or_insert((d.element, d.component, d.segment));
        let els: Seg = seg
            .elements()
            .map(|e| String::from_utf8_lossy(e).trim().to_string())
            .collect();
        match seg.id() {
            b"ISA" => shape.push((els, Vec::new())),
            b"GS" => shape.last_mut().unwrap().1.push((els, Vec::new())),
            b"ST" => {
                in_set = true;
                shape
                    .last_mut()
                    .unwrap()
                    .1
                    .last_mut()
                    .unwrap()
                    .1
                    .push(Vec::new());
            }
            b"SE" => in_set = false,
            b"GE" | b"IEA" => {}
            _ if in_set => shape
                .last_mut()
                .unwrap()
                .1
                .last_mut()
                .unwrap()
                .1
                .last_mut()
                .unwrap()
                .push(els),
            _ => {}
        }
    }
    (shape, delims)
}

fn theirs(doc: &edi::EdiDocument<'_>) -> Shape {
    doc.interchanges
        .iter()
        .map(|i| {
            let isa: Seg = [
                "ISA",
                &i.authorization_qualifier,
                &i.authorization_information,
                &i.security_qualifier,
                &i.security_information,
                &i.sender_qualifier,
                &i.sender_id,
                &i.receiver_qualifier,
                &i.receiver_id,
                &i.date,
                &i.time,
                &i.standards_id,
                &i.version,
                &i.interchange_control_number,
                &i.acknowledgement_requested,
                &i.test_indicator,
            ]
            .iter()
            .map(|s| s.trim().to_string())
            .collect();
            let groups = i
                .functional_groups
                .iter()
                .map(|g| {
                    let gs: Seg = [
                        "GS",
                        &g.functional_identifier_code,
                        &g.application_sender_code,
                        &g.application_receiver_code,
                        &g.date,
                        &g.time,
                        &g.group_control_number,
                        &g.responsible_agency_code,
                        &g.version,
                    ]
                    .iter()
                    .map(|s| s.trim().to_string())
                    .collect();
                    let sets = g
                        .transactions
                        .iter()
                        .map(|t| {
                            t.segments
                                .iter()
                                .map(|s| {
                                    std::iter::once(s.segment_abbreviation.trim().to_string())
                                        .chain(s.elements.iter().map(|e| e.trim().to_string()))
                                        .collect()
                                })
                                .collect()
                        })
                        .collect();
                    (gs, sets)
                })
                .collect();
            (isa, groups)
        })
        .collect()
}

/// Our ISA keeps ISA16; `edi` stops at ISA15. GS: `edi` keeps GS01..GS08.
fn comparable(mut s: Shape) -> Shape {
    for (isa, groups) in &mut s {
        isa.truncate(16);
        for (gs, _) in groups {
            gs.truncate(9);
        }
    }
    s
}

#[test]
fn our_split_equals_the_edi_crate_split_on_every_file_it_accepts() {
    let mut compared = Vec::new();
    let mut skipped = Vec::new();
    for folder in common::X12_FOLDERS {
        let Some(dir) = corpus_or_skip(folder, "differential").unwrap() else {
            return;
        };
        for f in files_under(&dir) {
            let raw = std::fs::read(&f).unwrap();
            if gateway_core::detect_format(&raw) != gateway_core::Format::X12 {
                continue;
            }
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            let Ok(text) = std::str::from_utf8(&raw) else {
                skipped.push(format!("{name} (not UTF-8)"));
                continue;
            };
            // `edi` panics on some inputs and reads its delimiters at fixed offsets.
            let parsed = catch_unwind(AssertUnwindSafe(|| {
                edi::parse(text).ok().map(|d| {
                    (
                        theirs(&d),
                        d.element_delimiter,
                        d.sub_element_delimiter,
                        d.segment_delimiter,
                    )
                })
            }));
            let Ok(Some((their_shape, e, c, s))) = parsed else {
                skipped.push(format!("{name} (edi refused or panicked)"));
                continue;
            };
            let (our_shape, delims) = ours(&raw);
            if delims != Some((e as u8, c as u8, s as u8)) {
                skipped.push(format!(
                    "{name} (edi read other delimiters {e:?} {c:?} {s:?})"
                ));
                continue;
            }
            assert_eq!(
                comparable(our_shape),
                comparable(their_shape),
                "{name}: split differs from edi"
            );
            compared.push(name);
        }
    }
    eprintln!("compared with edi: {compared:?}\nskipped: {skipped:?}");
    assert!(
        compared.len() >= 12,
        "only {} files compared: {compared:?}; skipped {skipped:?}",
        compared.len()
    );
}
