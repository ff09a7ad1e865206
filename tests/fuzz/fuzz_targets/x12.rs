//! X12: the tokenizer over the whole input, the in-memory decoder, and the streaming decoder
//! reading through a small buffer (so sets and segments straddle reads). None may panic.
#![no_main]

use std::io::BufReader;

use adapter_x12::X12Codec;
use adapter_x12::tokenizer::Tokenizer;
use gateway_core::{Decode, PartnerProfile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for step in Tokenizer::new(data).take(100_000) {
        if let Ok(seg) = step {
            let _ = seg.element(3);
            let _ = seg.elements().count();
        }
    }
    let _ = X12Codec::new().decode(data, &PartnerProfile::anonymous());
    let mut reader = BufReader::with_capacity(64, data);
    let _ = adapter_x12::decode_stream(&mut reader, &mut |_| {});
});
