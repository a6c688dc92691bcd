//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Output;

/// `../shared/datasets/NAME`, or `None` (with a message saying the test is skipped) when the
/// shared datasets are not beside the repository, as on a user's machine.
pub fn shared_dataset(name: &str) -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets");
    let path = root.join(name);
    if path.is_dir() {
        Some(path)
    } else {
        eprintln!(
            "SKIPPED: {} is absent (the shared datasets live beside the repository)",
            path.display()
        );
        None
    }
}

/// Asserts that a `lidarflow` command succeeded (naming its exit code, stderr and stdout
/// otherwise) and returns its stdout.
pub fn ok(o: &Output) -> String {
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(
        o.status.success(),
        "exit {:?}: {err}\n{out}",
        o.status.code()
    );
    out.into_owned()
}
