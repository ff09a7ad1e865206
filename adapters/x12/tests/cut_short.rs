//! An input that ends right after its interchange header: nothing to read, said as a reject.

use gateway_core::{Decode, PartnerProfile};

/// The property test of noise after a valid ISA found that an ISA alone decoded to nothing at
/// all (no document, no reject): an input read as nothing, with no word why.
#[test]
fn an_isa_alone_is_a_located_reject_not_nothing() {
    let bytes = b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260101*1200*U*00401*000000001*0*P*>~";
    let d = adapter_x12::X12Codec::default().decode(bytes, &PartnerProfile::anonymous());
    assert!(d.documents.is_empty(), "{:?}", d.documents);
    assert_eq!(d.rejects.len(), 1, "{:?}", d.rejects);
    assert!(
        d.rejects[0].message.contains("before any transaction set"),
        "{:?}",
        d.rejects
    );
    assert!(
        d.rejects[0].location.contains("interchange 000000001"),
        "{:?}",
        d.rejects
    );
}
