//! X12: the tokenizer over the whole input, the in-memory decoder, and the streaming decoder
//! reading through a small buffer (so sets and segments straddle reads). None may panic, and
//! decoding on several threads (batches of one set, so every set crosses threads) must give
//! exactly what decoding on one gives. Every document decoded must also survive being written
//! as X12 and read again unchanged, or be refused by the writer with a reason (a value the
//! partner's delimiters or lengths cannot hold).
#![no_main]

use std::io::BufReader;

use adapter_x12::tokenizer::Tokenizer;
use adapter_x12::{Parallelism, X12Codec};
use gateway_core::{Decode, Encode, PartnerProfile};
use gateway_model::Document;
use libfuzzer_sys::fuzz_target;

/// What the writer makes of a document: a line break in free text becomes a space (in ids and
/// codes it is refused, so such documents never get here), except in `comments` at any depth,
/// whose lines become NTE segments (the document's) or MSG segments (an 850 line's).
fn one_line(doc: &Document) -> Document {
    fn flatten(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) => {
                *s = s.replace("\r\n", " ").replace(['\r', '\n'], " ");
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(flatten),
            serde_json::Value::Object(o) => o
                .iter_mut()
                .filter(|(k, _)| k.as_str() != "comments")
                .for_each(|(_, f)| flatten(f)),
            _ => {}
        }
    }
    let Ok(mut v) = serde_json::to_value(doc) else {
        return doc.clone();
    };
    flatten(&mut v);
    serde_json::from_value(v).unwrap_or_else(|_| doc.clone())
}

fuzz_target!(|data: &[u8]| {
    for step in Tokenizer::new(data).take(100_000) {
        if let Ok(seg) = step {
            let _ = seg.element(3);
            let _ = seg.elements().count();
        }
    }
    let codec = X12Codec::new();
    let partner = PartnerProfile::anonymous();
    let sequential = codec.decode(data, &partner);
    let docs: Vec<_> = sequential
        .documents
        .iter()
        .map(|d| d.document.clone())
        .collect();
    if !docs.is_empty()
        && let Ok(bytes) = codec.encode(&docs, &partner)
    {
        let again = codec.decode(&bytes, &partner);
        assert!(again.rejects.is_empty(), "re-encoded X12 rejected: {:?}", again.rejects);
        let back: Vec<_> = again.documents.into_iter().map(|d| d.document).collect();
        let want: Vec<_> = docs.iter().map(one_line).collect();
        assert_eq!(back, want, "X12 → canonical → X12 → canonical differs");
    }
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
    // The acknowledgment (which validates every mapped set, as the pipeline does) and the
    // sender check of POST /x12 never panic.
    let _ = adapter_x12::envelope::interchange_senders(data);
    let _ = adapter_x12::acknowledge(data, &partner);
});
