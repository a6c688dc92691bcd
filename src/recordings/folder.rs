//! A folder of scans (`.bin`, `.pcd`, `.ply`, `.las`, `.laz`), directly or in a `velodyne/`
//! or `scans/` subfolder, in natural order of their names, with optional `times.txt` (one
//! time per scan, seconds) and `poses.txt` (reference, KITTI 3x4) beside them.

use super::recording::Recording;
use super::times;
use crate::error::{Error, Result};
use crate::io::{trajectory, ScanFormat, SCAN_EXTENSIONS};
use std::cmp::Ordering;
use std::path::{Path, PathBuf};

/// Compares names so that `scan2` comes before `scan10`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for (x, y) in ca.iter().zip(&cb) {
        let ord = match (x, y) {
            ((true, xs), (true, ys)) => {
                let (xt, yt) = (xs.trim_start_matches('0'), ys.trim_start_matches('0'));
                xt.len()
                    .cmp(&yt.len())
                    .then(xt.cmp(yt))
                    .then(xs.len().cmp(&ys.len()))
            }
            ((_, xs), (_, ys)) => xs.cmp(ys),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    ca.len().cmp(&cb.len())
}

/// Scan files directly in `dir`, naturally sorted.
pub fn scan_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && ScanFormat::from_path(p).is_ok())
        .collect();
    files.sort_by(|a, b| {
        natural_cmp(
            &a.file_name().unwrap_or_default().to_string_lossy(),
            &b.file_name().unwrap_or_default().to_string_lossy(),
        )
    });
    Ok(files)
}

/// Opens a folder of scans.
pub fn open(root: &Path) -> Result<Recording> {
    let mut scans_dir = None;
    for candidate in [
        root.to_path_buf(),
        root.join("velodyne"),
        root.join("scans"),
    ] {
        if candidate.is_dir() && !scan_files(&candidate)?.is_empty() {
            scans_dir = Some(candidate);
            break;
        }
    }
    let scans_dir = scans_dir.ok_or_else(|| {
        Error::format(
            root,
            format!(
                "no scan files here or in velodyne/ or scans/ (looked for {})",
                SCAN_EXTENSIONS
                    .iter()
                    .map(|e| format!(".{e}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    let scans = scan_files(&scans_dir)?;
    let beside = |name: &str| -> Option<PathBuf> {
        [root.join(name), scans_dir.join(name)]
            .into_iter()
            .find(|p| p.is_file())
    };
    let stamps = match beside("times.txt") {
        Some(p) => {
            let t = times::read(&p)?;
            times::check_one_per_scan(&p, t.len(), "time", scans.len())?;
            Some(t)
        }
        None => None,
    };
    let reference = match beside("poses.txt") {
        Some(p) => {
            let r = trajectory::read(&p)?;
            times::check_one_per_scan(&p, r.len(), "pose", scans.len())?;
            Some(r)
        }
        None => None,
    };
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| root.display().to_string());
    Recording::from_parts(name, "lidar".into(), scans, stamps, reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut v = vec![
            "scan10.pcd",
            "scan2.pcd",
            "scan1.pcd",
            "scan02.pcd",
            "a.pcd",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            vec![
                "a.pcd",
                "scan1.pcd",
                "scan2.pcd",
                "scan02.pcd",
                "scan10.pcd"
            ]
        );
    }
}
