//! cXML: the hardened reader and the decoder of every document type. None may panic. Every
//! document decoded must also survive being written as cXML and read again unchanged, or be
//! refused by the writer with a reason.
#![no_main]

use adapter_cxml::CxmlCodec;
use gateway_core::PartnerProfile;
use libfuzzer_sys::fuzz_target;

#[path = "round_trip.rs"]
mod round_trip;

/// A partner the writer can address (the cXML header needs credentials).
fn partner() -> Option<PartnerProfile> {
    PartnerProfile::from_toml(
        r#"
id = "fuzz"
[cxml]
from_domain = "DUNS"
from_identity = "123456789"
to_domain = "NetworkID"
to_identity = "AN01000000123"
sender_domain = "DUNS"
sender_identity = "123456789-S"
shared_secret = "in"
outbound_shared_secret = "out"
payload_id_host = "fuzz.example"
"#,
        "fuzz.toml",
    )
    .ok()
}

fuzz_target!(|data: &[u8]| {
    let codec = CxmlCodec::default();
    let Some(partner) = partner() else {
        panic!("the fuzz partner profile does not parse");
    };
    round_trip::assert_round_trip(&codec, data, &partner);
});
