//! cXML: the hardened reader and the decoder of every document type. None may panic.
#![no_main]

use adapter_cxml::CxmlCodec;
use gateway_core::{Decode, PartnerProfile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = CxmlCodec::default().decode(data, &PartnerProfile::anonymous());
});
