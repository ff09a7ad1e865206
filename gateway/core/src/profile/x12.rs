//! The X12 section of a partner profile (owned by `adapter-x12`).

use serde::Deserialize;

/// Interchange and group identities and the delimiters this partner uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct X12Profile {
    /// Partner's ISA05/ISA06 (qualifier and id) and GS02.
    #[serde(default)]
    pub partner_qualifier: Option<String>,
    #[serde(default)]
    pub partner_id: Option<String>,
    #[serde(default)]
    pub partner_gs_id: Option<String>,
    /// Our ISA07/ISA08 and GS03 when sending to this partner.
    #[serde(default)]
    pub our_qualifier: Option<String>,
    #[serde(default)]
    pub our_id: Option<String>,
    #[serde(default)]
    pub our_gs_id: Option<String>,
    /// GS08 version, e.g. `004010` or `005010`.
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub element_separator: Option<char>,
    #[serde(default)]
    pub segment_terminator: Option<char>,
    #[serde(default)]
    pub component_separator: Option<char>,
    #[serde(default)]
    pub repetition_separator: Option<char>,
    /// ISA15: `P` production or `T` test.
    #[serde(default)]
    pub usage_indicator: Option<char>,
    /// Write a line break after each segment terminator (default true; ignored when the
    /// terminator is itself a newline). Some partners' translators want one unbroken line.
    #[serde(default)]
    pub line_break_after_segment: Option<bool>,
    /// ISA14: ask the partner for a TA1 on interchanges we send (default false).
    #[serde(default)]
    pub request_ta1: Option<bool>,
    /// Element length limits from the partner's implementation guide, where they differ from
    /// the X12 dictionary (`schemas/x12/element-lengths.csv`): `{ N102 = 35, PID05 = 40 }`.
    /// Outbound values longer than the limit are refused with their path, except descriptions,
    /// which continue in further PID segments.
    #[serde(default)]
    pub max_lengths: Option<std::collections::BTreeMap<String, usize>>,
    /// Hours the partner has, by agreement, to answer what we send with a 997/999 (default
    /// [`X12Profile::DEFAULT_ACK_WITHIN_HOURS`]; 0 for a partner that sends none). A document
    /// left unanswered longer may never have reached the partner's translator: the service
    /// counts it in `gateway_x12_acknowledgments_overdue` and logs a warning.
    #[serde(default)]
    pub ack_within_hours: Option<u32>,
    /// The character set the partner's translator writes and reads: `"utf-8"` (default) or
    /// `"windows-1252"` (older systems; ISO-8859-1 readers take it too). What we send is
    /// written in it, and a value with a character it lacks is refused with its path rather
    /// than sent changed. Under the default, what it sends is read as UTF-8 and bytes that are
    /// not UTF-8 as Windows-1252, the document's notes saying where; under `"windows-1252"`
    /// every byte is read as Windows-1252, even a pair that would also be UTF-8 (`Ö€`).
    #[serde(default)]
    pub charset: Option<gateway_model::charset::Charset>,
}

impl X12Profile {
    /// The usual trading-partner agreement: a functional acknowledgment within a day.
    pub const DEFAULT_ACK_WITHIN_HOURS: u32 = 24;
}
