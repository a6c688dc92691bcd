//! KITTI velodyne `.bin`: no header, one record of four little-endian float32 per point
//! (x, y, z, intensity).

use super::columns::{Columns, Role};
use super::{atomic, read_bytes, LoadedScan};
use crate::cloud::PointCloud;
use crate::error::{Error, Result};
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
    let n = bytes.len() / RECORD;
    let roles = [Role::X, Role::Y, Role::Z, Role::Intensity];
    let mut columns = Columns::with_roles(&roles, n);
    for record in bytes.chunks_exact(RECORD) {
        for (k, role) in roles.iter().enumerate() {
            let v = f32::from_le_bytes(record[4 * k..4 * k + 4].try_into().expect("4 bytes"));
            columns.push(*role, v as f64);
        }
    }
    columns.into_scan(path)
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
