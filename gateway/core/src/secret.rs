//! A string that must never reach a log: shared secrets, client secrets, passwords.

use serde::{Deserialize, Deserializer};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A secret value. `Debug` and `Display` print `[redacted]`; it cannot be serialised.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must send or compare it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether a value is set: an empty secret (`shared_secret = ""`) authenticates no one,
    /// so a check that finds none configured must refuse rather than let anyone through.
    pub fn is_set(&self) -> bool {
        !self.0.is_empty()
    }

    /// `secret` when it is set ([`Secret::is_set`]): what an inbound check compares with;
    /// `None` means the profile has no credential and the sender is refused.
    pub fn configured(secret: Option<&Secret>) -> Option<&Secret> {
        secret.filter(|s| s.is_set())
    }

    /// Compares with `candidate` without leaking through timing how much of it matched:
    /// both sides are hashed to fixed-length digests, then compared in constant time.
    pub fn matches(&self, candidate: &str) -> bool {
        let a = Sha256::digest(self.0.as_bytes());
        let b = Sha256::digest(candidate.as_bytes());
        a.ct_eq(&b).into()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed_and_compares_by_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "[redacted] [redacted]");
        assert!(s.matches("hunter2"));
        assert!(!s.matches("hunter3"));
        assert!(!s.matches(""));
    }
}
