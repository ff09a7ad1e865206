//! CSV: both Coupa layouts are detected from the header, so arbitrary bytes reach both. None
//! may panic.
#![no_main]

use adapter_csv::CsvCodec;
use gateway_core::{Decode, PartnerProfile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = CsvCodec.decode(data, &PartnerProfile::anonymous());
});
