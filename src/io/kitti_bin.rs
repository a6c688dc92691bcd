//! KITTI velodyne `.bin`: no header, one record of four little-endian float32 per point
//! (x, y, z, intensity).

use super::{atomic, read_bytes, LoadedScan};
use crate::cloud::PointCloud;
use crate::error::{Error, Result};
use nalgebra::Point3;
use std::io::Write;
use std::path::Path;

const RECORD: usize = 16;

/// Reads a `.bin` scan.
pub fn read(path: &Path) -> Result<LoadedScan> {
    let bytes = read_bytes(path)?;
    if bytes.len() % RECORD != 0 {
        return Err(Error::format(
            path,
            format!(
                "size {} bytes is not a multiple of 16 (x y z intensity as float32): the file is truncated or not a KITTI scan",
                bytes.len()
            ),
        ));
    }
    // Decoded straight into the cloud, non-finite points dropped on the way: the fixed
    // record needs none of the field handling of the self-describing formats' columns.
    let n = bytes.len() / RECORD;
    let mut points = Vec::with_capacity(n);
    let mut intensity = Vec::with_capacity(n);
    for record in bytes.chunks_exact(RECORD) {
        let value =
            |k: usize| f32::from_le_bytes(record[4 * k..4 * k + 4].try_into().expect("4 bytes"));
        let (x, y, z) = (value(0), value(1), value(2));
        if x.is_finite() && y.is_finite() && z.is_finite() {
            points.push(Point3::new(x as f64, y as f64, z as f64));
            intensity.push(value(3));
        }
    }
    let dropped_non_finite = n - points.len();
    let cloud = PointCloud::new(points)
        .with_intensity(intensity)
        .map_err(|e| Error::format(path, e.to_string()))?;
    Ok(LoadedScan {
        cloud,
        dropped_non_finite,
    })
}

/// Writes a `.bin` scan (intensity 0 where the cloud has none).
pub fn write(path: &Path, cloud: &PointCloud) -> Result<()> {
    atomic::write_with(path, |w| {
        for (i, p) in cloud.points().iter().enumerate() {
            let intensity = cloud.intensity().map_or(0.0, |v| v[i]);
            for v in [p.x as f32, p.y as f32, p.z as f32, intensity] {
                w.write_all(&v.to_le_bytes())?;
            }
        }
        Ok(())
    })
}
