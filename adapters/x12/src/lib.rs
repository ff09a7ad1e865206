//! EDI X12: streaming tokenizer, envelopes, 810/850 mapping, 997/999/TA1 acknowledgments.
//!
//! Layout: [`tokenizer`] splits bytes into segments without copying (and `fields` splits one
//! segment into its elements, once, for the mapping); [`envelope`] walks ISA/GS/ST and validates
//! control numbers, counts and widths; [`map810`]/[`map850`] turn one transaction set into a
//! canonical document and back, through the reading loop they share (`set_loop`) and the IT1/PO1
//! loop both ways (`line_loop`); [`encode`] writes interchanges with control numbers from
//! [`control`], through `writer`, which holds each element to the partner's length limits
//! (`lengths`), with party ids as X12 codes plus loop REFs (`party_ids`); [`codec`] ties it
//! together as [`X12Codec`], which also says where a canonical path is in a decoded set
//! (`source_path`: segment, element and the line's position in the set, for problems).
//! [`advice`] writes the 824 that tells a supplier an invoice it sent was given up, and why. [`received`] reads the 997/999 a partner sends back for what the
//! gateway wrote (they are neither documents nor acknowledged). With a [`Parallelism`] of more than one
//! thread, `parallel` maps complete sets on worker threads and hands the results on in source
//! order. Payment terms of several tiers are one ITD each (`tiers`); what an 810/850 has no
//! place for is named by [`left_out()`] rather than dropped without a word.

pub mod ack;
pub mod advice;
pub mod codec;
mod common;
pub mod control;
pub mod encode;
pub mod envelope;
mod fields;
mod left_out;
mod lengths;
mod line_loop;
pub mod map810;
pub mod map850;
pub mod order;
mod parallel;
mod party_ids;
pub mod received;
mod refusals;
mod set_loop;
mod set_segments;
mod source_path;
mod tiers;
pub mod tokenizer;
pub mod values;
mod writer;

pub use ack::{AckKind, AckStatus, Acknowledgment, acknowledge, acknowledge_with};
pub use advice::{InvoiceAdvice, encode_application_advice};
pub use codec::{
    X12Codec, decode_all, decode_all_with, decode_slice, decode_stream, decode_stream_limited,
    decode_stream_with,
};
pub use control::{
    ControlKind, ControlNumberError, ControlNumbers, FileControlNumbers, InMemoryControlNumbers,
};
pub use left_out::{LeftOut, left_out};
pub use parallel::Parallelism;
pub use received::{
    AckedSet, Received, ReceivedAck, ReceivedTa1, SentSet, Verdict, read_acknowledgments,
    read_received, read_ta1s, sets_in,
};
