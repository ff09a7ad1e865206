//! A `multipart/related` HTTP body (a cXML invoice POST with its files) split by the same
//! bounded MIME parser as mail, under a fuzzed `Content-Type` (boundary, `start`): never a
//! panic.
#![no_main]

use adapter_email::Limits;
use adapter_email::related::split_related;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first line is the Content-Type header value, the rest the body.
    let (header, body) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => data.split_at(at),
        None => (data, &[][..]),
    };
    let content_type = format!(
        "multipart/related; boundary=B; {}",
        String::from_utf8_lossy(header)
    );
    let _ = split_related(&content_type, body, &Limits::default());
    let _ = split_related("multipart/related; boundary=B", data, &Limits::default());
});
