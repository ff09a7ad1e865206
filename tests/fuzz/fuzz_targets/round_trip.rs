//! The round-trip check the cXML and CSV targets share (not a target itself): every document
//! decoded from `data` is written in the same format and read again, and must come back the
//! same, unless the writer refused it with a reason.

use gateway_core::{Decode, Encode, PartnerProfile};

pub fn assert_round_trip<C: Decode + Encode>(codec: &C, data: &[u8], partner: &PartnerProfile) {
    let name = Decode::format(codec);
    for d in &codec.decode(data, partner).documents {
        let doc = std::slice::from_ref(&d.document);
        let Ok(bytes) = codec.encode(doc, partner) else {
            continue;
        };
        let again = codec.decode(&bytes, partner);
        assert!(
            again.rejects.is_empty(),
            "re-encoded {name} rejected: {:?}\n{}",
            again.rejects,
            String::from_utf8_lossy(&bytes)
        );
        let back: Vec<_> = again.documents.into_iter().map(|d| d.document).collect();
        assert_eq!(
            back,
            doc,
            "{name} → canonical → {name} → canonical differs\n{}",
            String::from_utf8_lossy(&bytes)
        );
    }
}
