//! The MIME path: a mail decoded with every document codec handed in, for a partner whose
//! sender check the fuzzer can pass (so parsing goes past it into the attachments). None may
//! panic.
#![no_main]

use std::sync::{Arc, LazyLock};

use adapter_email::EmailCodec;
use gateway_core::{Decode, PartnerProfile};
use libfuzzer_sys::fuzz_target;

static PARTNER: LazyLock<Option<PartnerProfile>> = LazyLock::new(|| {
    PartnerProfile::from_toml(
        "id = \"acme\"\n[email]\nfrom = [\"billing@acme.example\", \"@acme.example\"]\n",
        "fuzz.toml",
    )
    .ok()
});

static CODEC: LazyLock<EmailCodec> = LazyLock::new(|| {
    EmailCodec::new(vec![
        Arc::new(adapter_x12::X12Codec::new()) as Arc<dyn Decode>,
        Arc::new(adapter_cxml::CxmlCodec::default()),
        Arc::new(adapter_csv::CsvCodec),
    ])
});

fuzz_target!(|data: &[u8]| {
    if let Some(partner) = PARTNER.as_ref() {
        let _ = CODEC.decode(data, partner);
    }
    let _ = CODEC.decode(data, &PartnerProfile::anonymous());
});
