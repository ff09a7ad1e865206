//! Canonical documents → one X12 interchange, with the partner's ids, qualifiers, version,
//! delimiters and usage indicator from `PartnerProfile.x12`, and control numbers from a
//! [`ControlNumbers`] store.

use chrono::{DateTime, Utc};
use gateway_core::{EncodeError, PartnerProfile, profile::X12Profile};
use gateway_model::Document;

use crate::control::{ControlKind, ControlNumbers};
use crate::lengths::Limits;
use crate::tokenizer::Delimiters;
use crate::writer::{Out, t};

/// Everything an envelope needs, resolved from the profile with defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identities {
    pub sender_qualifier: String,
    pub sender_id: String,
    pub sender_gs: String,
    pub receiver_qualifier: String,
    pub receiver_id: String,
    pub receiver_gs: String,
    /// GS08.
    pub version: String,
    pub usage: char,
    pub delimiters: Delimiters,
    /// Line break after each terminator (not when the terminator is a newline).
    pub line_break: bool,
    /// ISA14.
    pub request_ta1: bool,
    /// The partner's element length limits over the dictionary's (`x12.max_lengths`).
    pub max_lengths: std::collections::BTreeMap<String, usize>,
    /// The character set the partner reads (`x12.charset`).
    pub charset: gateway_model::charset::Charset,
}

/// Our identities as sender, the partner's as receiver.
pub fn outbound_identities(partner: &PartnerProfile) -> Identities {
    let x = partner.x12.clone().unwrap_or_default();
    let version = x.version.clone().unwrap_or_else(|| "004010".into());
    let our_id = x.our_id.clone().unwrap_or_else(|| "GATEWAY".into());
    let their_id = x
        .partner_id
        .clone()
        .unwrap_or_else(|| partner.id.to_uppercase());
    Identities {
        sender_qualifier: x.our_qualifier.clone().unwrap_or_else(|| "ZZ".into()),
        sender_gs: x.our_gs_id.clone().unwrap_or_else(|| our_id.clone()),
        sender_id: our_id,
        receiver_qualifier: x.partner_qualifier.clone().unwrap_or_else(|| "ZZ".into()),
        receiver_gs: x.partner_gs_id.clone().unwrap_or_else(|| their_id.clone()),
        receiver_id: their_id,
        delimiters: delimiters(&x, &version),
        version,
        usage: x.usage_indicator.unwrap_or('P'),
        line_break: x.line_break_after_segment.unwrap_or(true),
        request_ta1: x.request_ta1.unwrap_or(false),
        max_lengths: x.max_lengths.clone().unwrap_or_default(),
        charset: x.charset.unwrap_or_default(),
    }
}

fn byte(c: Option<char>, default: u8) -> u8 {
    c.filter(char::is_ascii).map(|c| c as u8).unwrap_or(default)
}

fn delimiters(x: &X12Profile, version: &str) -> Delimiters {
    let segment = byte(x.segment_terminator, b'~');
    Delimiters {
        element: byte(x.element_separator, b'*'),
        component: byte(x.component_separator, b'>'),
        segment,
        repetition: if isa12(version).as_str() >= "00402" {
            Some(byte(x.repetition_separator, b'^'))
        } else {
            None
        },
        trim_trailing: matches!(segment, b'\r' | b'\n'),
    }
}

/// ISA12 for a GS08 version (`004010` → `00401`, `005010X222A1` → `00501`).
pub fn isa12(version: &str) -> String {
    let v: String = version.chars().take(5).collect();
    if v.len() == 5 && v.bytes().all(|b| b.is_ascii_digit()) {
        v
    } else {
        "00401".into()
    }
}

/// Pads or refuses: ISA fields are fixed width.
pub fn fixed(value: &str, width: usize, field: &str) -> Result<String, EncodeError> {
    if value.len() > width {
        return Err(EncodeError::Profile(format!(
            "{field} {value:?} is longer than its {width} characters"
        )));
    }
    Ok(format!("{value:<width$}"))
}

/// The 16 ISA fields.
pub fn isa_fields(
    ids: &Identities,
    control: u64,
    ack_requested: bool,
    now: DateTime<Utc>,
) -> Result<Vec<String>, EncodeError> {
    let d = ids.delimiters;
    Ok(vec![
        "00".into(),
        " ".repeat(10),
        "00".into(),
        " ".repeat(10),
        fixed(&ids.sender_qualifier, 2, "ISA05")?,
        fixed(&ids.sender_id, 15, "ISA06")?,
        fixed(&ids.receiver_qualifier, 2, "ISA07")?,
        fixed(&ids.receiver_id, 15, "ISA08")?,
        now.format("%y%m%d").to_string(),
        now.format("%H%M").to_string(),
        match d.repetition {
            Some(r) => (r as char).to_string(),
            None => "U".into(),
        },
        isa12(&ids.version),
        format!("{control:09}"),
        if ack_requested { "1" } else { "0" }.into(),
        ids.usage.to_string(),
        (d.component as char).to_string(),
    ])
}

/// Writes a whole interchange around `body`, which writes the groups.
pub fn interchange(
    ids: &Identities,
    numbers: &dyn ControlNumbers,
    partner_key: &str,
    now: DateTime<Utc>,
    body: impl FnOnce(&mut Out) -> Result<u32, EncodeError>,
) -> Result<Vec<u8>, EncodeError> {
    let line_break: &'static [u8] = if ids.delimiters.trim_trailing || !ids.line_break {
        b""
    } else {
        b"\n"
    };
    let limits = Limits::new(&ids.version, &ids.max_lengths)?;
    let mut out = Out::new(ids.delimiters, line_break)
        .with_limits(limits)
        .with_charset(ids.charset);
    let control = numbers
        .next(partner_key, ControlKind::Interchange)
        .map_err(|e| EncodeError::ControlNumbers(e.to_string()))?;
    out.raw_isa(&isa_fields(ids, control, ids.request_ta1, now)?)?;
    let groups = body(&mut out)?;
    out.segment(
        "$",
        "IEA",
        &[t(groups.to_string()), t(format!("{control:09}"))],
    )?;
    Ok(out.buf)
}

/// Writes one functional group of sets; `set` writes one set body for each index.
#[allow(clippy::too_many_arguments)]
pub fn group(
    out: &mut Out,
    ids: &Identities,
    numbers: &dyn ControlNumbers,
    partner_key: &str,
    now: DateTime<Utc>,
    function: &str,
    set_id: &str,
    count: usize,
    mut set: impl FnMut(&mut Out, usize) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let gctl = numbers
        .next(partner_key, ControlKind::Group)
        .map_err(|e| EncodeError::ControlNumbers(e.to_string()))?;
    out.segment(
        "$",
        "GS",
        &[
            t(function),
            t(ids.sender_gs.as_str()),
            t(ids.receiver_gs.as_str()),
            t(now.format("%Y%m%d").to_string()),
            t(now.format("%H%M").to_string()),
            t(gctl.to_string()),
            t("X"),
            t(ids.version.as_str()),
        ],
    )?;
    for n in 0..count {
        let ctl = format!("{:04}", n + 1);
        out.reset_count();
        out.segment("$", "ST", &[t(set_id), t(ctl.as_str())])?;
        set(out, n)?;
        let segments = out.count + 1;
        out.segment("$", "SE", &[t(segments.to_string()), t(ctl)])?;
    }
    out.segment("$", "GE", &[t(count.to_string()), t(gctl.to_string())])?;
    Ok(())
}

/// Documents → one interchange: a functional group per run of same-kind documents (IN for
/// invoices, PO for orders), in input order.
pub fn encode_documents(
    docs: &[Document],
    partner: &PartnerProfile,
    numbers: &dyn ControlNumbers,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, EncodeError> {
    let ids = outbound_identities(partner);
    let key = partner.id.as_str();
    let mut runs: Vec<&[Document]> = Vec::new();
    let mut start = 0;
    for i in 1..=docs.len() {
        let boundary = match (docs.get(i), docs.get(i.saturating_sub(1))) {
            (Some(a), Some(b)) => a.kind() != b.kind(),
            _ => true,
        };
        if boundary && i > start {
            if let Some(run) = docs.get(start..i) {
                runs.push(run);
            }
            start = i;
        }
    }
    let mut first_index = 0usize;
    interchange(&ids, numbers, key, now, |out| {
        for run in &runs {
            let (function, set_id) = match run.first() {
                Some(Document::Invoice(_)) => ("IN", "810"),
                Some(Document::PurchaseOrder(_)) => ("PO", "850"),
                None => continue,
            };
            let offset = first_index;
            first_index += run.len();
            group(
                out,
                &ids,
                numbers,
                key,
                now,
                function,
                set_id,
                run.len(),
                |out, n| {
                    let written = match run.get(n) {
                        Some(Document::Invoice(inv)) => crate::map810::write_invoice(out, inv),
                        Some(Document::PurchaseOrder(po)) => crate::map850::write_order(out, po),
                        None => Ok(()),
                    };
                    written.map_err(|e| in_document(e, offset + n, docs.len()))
                },
            )?;
        }
        Ok(runs.len() as u32)
    })
}

/// Prefixes a path with the document's position when a batch holds several.
fn in_document(e: EncodeError, index: usize, total: usize) -> EncodeError {
    match e {
        EncodeError::Invalid { path, message } if total > 1 => EncodeError::Invalid {
            path: format!("document {}: {path}", index + 1),
            message,
        },
        other => other,
    }
}
