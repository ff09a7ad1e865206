//! EDI X12: streaming tokenizer, envelopes, 810/850 mapping, 997/999/TA1 acknowledgments.
//!
//! Layout: [`tokenizer`] splits bytes into segments; [`envelope`] walks ISA/GS/ST and
//! validates control numbers and counts; [`map810`]/[`map850`] turn one transaction set into a
//! canonical document and back; [`ack`] builds 997/999/TA1; [`encode`] writes interchanges;
//! [`codec`] ties it together as [`X12Codec`].

pub mod envelope;
pub mod tokenizer;
