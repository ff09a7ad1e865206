//! CSV: both Coupa layouts are detected from the header, so arbitrary bytes reach both. None
//! may panic. Every document decoded must also survive being written in the same layout and
//! read again unchanged, or be refused by the writer with a reason.
#![no_main]

use adapter_csv::CsvCodec;
use gateway_core::{Decode, Encode, PartnerProfile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let partner = PartnerProfile::anonymous();
    let decoded = CsvCodec.decode(data, &partner);
    for d in &decoded.documents {
        let doc = std::slice::from_ref(&d.document);
        let Ok(bytes) = CsvCodec.encode(doc, &partner) else {
            continue;
        };
        let again = CsvCodec.decode(&bytes, &partner);
        assert!(
            again.rejects.is_empty(),
            "re-encoded CSV rejected: {:?}\n{}",
            again.rejects,
            String::from_utf8_lossy(&bytes)
        );
        let back: Vec<_> = again.documents.into_iter().map(|d| d.document).collect();
        assert_eq!(
            back,
            doc,
            "CSV → canonical → CSV → canonical differs\n{}",
            String::from_utf8_lossy(&bytes)
        );
    }
});
