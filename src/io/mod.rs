//! File formats: scans (KITTI `.bin`, PCD, PLY, LAS/LAZ) and trajectories (TUM, KITTI).
//! Every reader returns an [`Error`](crate::Error::Format) naming the file and what is
//! wrong, and none panics on bad bytes. Every writer writes atomically: a temporary file
//! beside the target, renamed over it once complete.

pub mod atomic;
pub mod columns;
pub mod kitti_bin;
pub mod las;
pub mod lzf;
pub mod map_index;
pub mod pcd;
pub mod ply;
pub mod scalar;
pub mod trajectory;
pub mod view_map;

use crate::cloud::PointCloud;
use crate::error::{Error, Result};
use std::path::Path;

/// A scan as read from a file.
#[derive(Debug, Clone)]
pub struct LoadedScan {
    /// The valid points with their fields.
    pub cloud: PointCloud,
    /// Points dropped because a coordinate was NaN or infinite.
    pub dropped_non_finite: usize,
}

/// Scan file formats lidarflow reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanFormat {
    /// KITTI velodyne `.bin`: float32 x y z intensity, no header.
    KittiBin,
    /// Point Cloud Library `.pcd` (ascii, binary, binary_compressed).
    Pcd,
    /// Stanford `.ply` (ascii, binary little and big endian).
    Ply,
    /// ASPRS LAS.
    Las,
    /// LAS compressed with LASzip.
    Laz,
}

/// Extensions lidarflow reads, as a user would type them.
pub const SCAN_EXTENSIONS: &[&str] = &["bin", "pcd", "ply", "las", "laz"];

impl ScanFormat {
    /// The format of `path`, from its extension (case-insensitive).
    pub fn from_path(path: &Path) -> Result<ScanFormat> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("bin") => Ok(ScanFormat::KittiBin),
            Some("pcd") => Ok(ScanFormat::Pcd),
            Some("ply") => Ok(ScanFormat::Ply),
            Some("las") => Ok(ScanFormat::Las),
            Some("laz") => Ok(ScanFormat::Laz),
            _ => Err(Error::format(
                path,
                format!(
                    "unknown scan file extension; supported: {}",
                    SCAN_EXTENSIONS
                        .iter()
                        .map(|e| format!(".{e}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
}

/// Reads one scan, choosing the format from the extension.
pub fn read_scan(path: impl AsRef<Path>) -> Result<LoadedScan> {
    let path = path.as_ref();
    match ScanFormat::from_path(path)? {
        ScanFormat::KittiBin => kitti_bin::read(path),
        ScanFormat::Pcd => pcd::read(path),
        ScanFormat::Ply => ply::read(path),
        ScanFormat::Las | ScanFormat::Laz => las::read(path),
    }
}

/// Writes one scan, choosing the format from the extension (PCD as binary, PLY as binary
/// little endian, LAZ compressed).
pub fn write_scan(path: impl AsRef<Path>, cloud: &PointCloud) -> Result<()> {
    let path = path.as_ref();
    match ScanFormat::from_path(path)? {
        ScanFormat::KittiBin => kitti_bin::write(path, cloud),
        ScanFormat::Pcd => pcd::write(path, cloud, pcd::DataKind::Binary),
        ScanFormat::Ply => ply::write(path, cloud, ply::Encoding::BinaryLittleEndian),
        ScanFormat::Las | ScanFormat::Laz => las::write(path, cloud),
    }
}

/// Reads a whole file, naming it in the error.
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}
