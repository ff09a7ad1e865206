//! CSV: both Coupa layouts are detected from the header, so arbitrary bytes reach both. None
//! may panic. Every document decoded must also survive being written in the same layout and
//! read again unchanged, or be refused by the writer with a reason.
#![no_main]

use adapter_csv::CsvCodec;
use gateway_core::PartnerProfile;
use libfuzzer_sys::fuzz_target;

#[path = "round_trip.rs"]
mod round_trip;

fuzz_target!(|data: &[u8]| {
    round_trip::assert_round_trip(&CsvCodec, data, &PartnerProfile::anonymous());
});
