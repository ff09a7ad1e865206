//! X12: the tokenizer over the whole input, the in-memory decoder, and the streaming decoder
//! reading through a small buffer (so sets and segments straddle reads). None may panic, and
//! decoding on several threads (batches of one set, so every set crosses threads) must give
//! exactly what decoding on one gives.
#![no_main]

use std::io::BufReader;

use adapter_x12::tokenizer::Tokenizer;
use adapter_x12::{Parallelism, X12Codec};
use gateway_core::{Decode, PartnerProfile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for step in Tokenizer::new(data).take(100_000) {
        if let Ok(seg) = step {
            let _ = seg.element(3);
            let _ = seg.elements().count();
        }
    }
    let sequential = X12Codec::new().decode(data, &PartnerProfile::anonymous());
    let parallel = Parallelism {
        threads: 2,
        batch: 1,
    };
    assert_eq!(
        adapter_x12::decode_all_with(data, parallel),
        sequential,
        "decoding on two threads differs"
    );
    let mut streamed = Vec::new();
    let mut reader = BufReader::with_capacity(64, data);
    let _ = adapter_x12::decode_stream(&mut reader, &mut |i| streamed.push(i));
    let mut streamed_parallel = Vec::new();
    let mut reader = BufReader::with_capacity(64, data);
    let _ = adapter_x12::decode_stream_with(&mut reader, 1 << 20, parallel, &mut |i| {
        streamed_parallel.push(i)
    });
    assert_eq!(streamed_parallel, streamed, "streaming on two threads differs");
});
