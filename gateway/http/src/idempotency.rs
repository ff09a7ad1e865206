//! `Idempotency-Key` support for the REST API: the same key with the same body returns the
//! first answer; the same key with another body is refused (422); the same key while the first
//! request is still running is refused (409) so it cannot be processed twice, and a copy that
//! finds the key free looks the answer up again once it holds it (the first may have ended
//! in between).
//!
//! "The same body" is what the request says: a JSON body byte for byte, a
//! `multipart/form-data` one by its parts ([`crate::form::FormBody::request_hash`]), not by
//! the boundary a client makes anew for each request.

/// A stored first answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// SHA-256 (hex) of what the request says: a JSON body's bytes, a form's parts.
    pub body_hash: String,
    pub status: u16,
    pub body: Vec<u8>,
}

/// Durable storage of first answers, scoped (per partner) so keys of two clients never clash.
pub trait IdempotencyStore: Send + Sync {
    fn get(&self, scope: &str, key: &str) -> Result<Option<StoredResponse>, String>;
    fn put(&self, scope: &str, key: &str, response: &StoredResponse) -> Result<(), String>;
}

/// Hex SHA-256 of a (JSON) body.
pub fn body_hash(body: &[u8]) -> String {
    gateway_core::sha256_hex(body)
}
