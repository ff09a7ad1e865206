//! The CSV section of a partner profile (owned by `adapter-csv`).

use serde::Deserialize;

/// Which CSV layout a partner uses and how to read it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvProfile {
    /// Field delimiter; sniffed when absent.
    #[serde(default)]
    pub delimiter: Option<char>,
}
