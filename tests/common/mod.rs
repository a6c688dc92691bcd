//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

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
