//! Sets `GATEWAY_VERSION` for the `gateway` binary: the package version and, when the build
//! runs inside a git checkout with git installed, the short commit it was built from
//! (`0.1.0 (29cd847)`), so `gateway --version` tells two builds of one release apart. Without
//! git or `.git` (a source tarball) it is the package version alone, silently.
//!
//! Cargo runs this again only when the checkout's `HEAD` or the ref it points to changes (a
//! commit, a checkout of another branch), never on every build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let version = env("CARGO_PKG_VERSION");
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=build.rs");
    let shown = match commit(&manifest_dir) {
        Some(commit) => format!("{version} ({commit})"),
        None => version,
    };
    println!("cargo:rustc-env=GATEWAY_VERSION={shown}");
}

/// An environment variable Cargo sets for build scripts (empty if it did not).
fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

/// `git <args>` run in `dir`: its trimmed output, or `None` when git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (out.status.success() && !text.is_empty()).then(|| text.to_string())
}

/// The short commit of `HEAD` of the checkout `dir` is in, after telling Cargo which files to
/// watch for it.
fn commit(dir: &Path) -> Option<String> {
    let git_dir = dir.join(git(dir, &["rev-parse", "--git-dir"])?);
    let common_dir = dir.join(git(dir, &["rev-parse", "--git-common-dir"])?);
    let head = git_dir.join("HEAD");
    // Only files that exist: Cargo reruns a script watching a missing one on every build.
    watch(&head);
    if let Ok(text) = std::fs::read_to_string(&head)
        && let Some(reference) = text.trim().strip_prefix("ref: ")
    {
        // A branch's commit is in its ref file, or in `packed-refs` once git packed it; a
        // packed branch's next commit writes its ref file anew, into the folder watched then.
        let ref_file = common_dir.join(reference);
        if ref_file.exists() {
            watch(&ref_file);
        } else if let Some(folder) = ref_file.parent() {
            watch(folder);
        }
        watch(&common_dir.join("packed-refs"));
    }
    git(dir, &["rev-parse", "--short", "HEAD"])
}

/// Makes Cargo run this script again when `path` (a file, or anything in a folder) changes, if
/// it exists.
fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}
