//! `gateway --version` as an operator upgrading reads it: every build of a release printed
//! `gateway 0.1.0`, so two builds could not be told apart. It names the commit it was built
//! from when the build knew it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

/// `git <args>` in this package's folder, if git answers there (a checkout, git installed).
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// The release first, then the short commit of `HEAD` when built inside a git checkout (as
/// tests are run); built from a tarball, the release alone.
#[test]
fn version_names_the_release_and_the_commit_it_was_built_from() {
    let out = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let printed = String::from_utf8(out.stdout).unwrap();
    let release = format!("gateway {}", env!("CARGO_PKG_VERSION"));
    assert!(printed.starts_with(&release), "{printed}");
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(commit) => assert_eq!(printed.trim_end(), format!("{release} ({commit})")),
        None => assert_eq!(printed.trim_end(), release),
    }
}
