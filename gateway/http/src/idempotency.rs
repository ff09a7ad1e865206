//! `Idempotency-Key` support for the REST API: the same key with the same body returns the
//! first answer; the same key with another body is refused (422); the same key while the first
//! request is still running is refused (409) so it cannot be processed twice.

/// A stored first answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// SHA-256 of the request body, hex.
    pub body_hash: String,
    pub status: u16,
    pub body: Vec<u8>,
}

/// Durable storage of first answers, scoped (per partner) so keys of two clients never clash.
pub trait IdempotencyStore: Send + Sync {
    fn get(&self, scope: &str, key: &str) -> Result<Option<StoredResponse>, String>;
    fn put(&self, scope: &str, key: &str, response: &StoredResponse) -> Result<(), String>;
}

/// Hex SHA-256 of a body.
pub fn body_hash(body: &[u8]) -> String {
    gateway_core::sha256_hex(body)
}
