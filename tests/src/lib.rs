//! Harness for the integration tests: where the repository, its samples and the shared corpus
//! are, and a walk over the golden sample pairs.

use std::path::{Path, PathBuf};

pub mod proxy;
pub mod rabbit_node;

pub use gateway_core::testkit::{corpus_dir, files_under, repo_root};

/// One golden pair under `samples/<format>/<kind>/`: the source document, its expected
/// canonical JSON and an optional partner profile.
#[derive(Debug, Clone)]
pub struct SampleCase {
    pub format: String,
    pub kind: String,
    pub source: PathBuf,
    pub canonical: PathBuf,
    pub partner: Option<PathBuf>,
}

/// Every golden pair in `samples/`. A source file is any file that is not `*.canonical.json`
/// nor `*.partner.toml` nor a `README`; its pair is `<case>.canonical.json` beside it.
pub fn sample_cases() -> Vec<SampleCase> {
    let root = repo_root().join("samples");
    let mut out = Vec::new();
    for file in files_under(&root) {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if name.ends_with(".canonical.json")
            || name.ends_with(".partner.toml")
            || name.starts_with("README")
            || name.ends_with(".expected.txt")
        {
            continue;
        }
        let Ok(rel) = file.strip_prefix(&root) else {
            continue;
        };
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .collect();
        if parts.len() != 3 {
            continue;
        }
        let case = name.split('.').next().unwrap_or_default().to_string();
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let partner = dir.join(format!("{case}.partner.toml"));
        out.push(SampleCase {
            format: parts[0].clone(),
            kind: parts[1].clone(),
            source: file.clone(),
            canonical: dir.join(format!("{case}.canonical.json")),
            partner: partner.is_file().then_some(partner),
        });
    }
    out
}

/// Lower-case hex SHA-256 of `bytes`, to tell a file arrived whole.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `bytes` in base64 (RFC 4648), in lines of 76 characters ending in CRLF, as MIME bodies
/// carry it; written here so a test's input does not come from the parser under test.
pub fn base64_lines(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut flat = String::new();
    for c in bytes.chunks(3) {
        let b = [
            c.first().copied().unwrap_or(0),
            c.get(1).copied().unwrap_or(0),
            c.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= c.len() {
                flat.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                flat.push('=');
            }
        }
    }
    let mut out = String::new();
    for line in flat.as_bytes().chunks(76) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push_str("\r\n");
    }
    out
}
