//! LAS and LAZ through the `las` crate. Per point: x y z (stored at 0.1 mm), intensity,
//! `gps_time` as per-point time when present, ring in `user_data`, and on writing the
//! source (keyframe id of a merged map) in `point_source_id` (saturating at 65535).

use super::columns::{Columns, Role};
use super::{atomic, LoadedScan};
use crate::cloud::PointCloud;
use crate::error::{Error, Result};
use las::point::Format;
use las::{Builder, Transform, Vector};
use std::path::Path;

/// Coordinate resolution of written files, metres.
const SCALE: f64 = 1e-4;

/// Reads a LAS or LAZ file.
pub fn read(path: &Path) -> Result<LoadedScan> {
    let err = |e: las::Error| Error::format(path, format!("not a readable LAS/LAZ file: {e}"));
    let mut reader = las::Reader::from_path(path).map_err(err)?;
    let has_time = reader.header().point_format().has_gps_time;
    let data = reader.read_all().map_err(err)?;
    let mut roles = vec![Role::X, Role::Y, Role::Z, Role::Intensity, Role::Ring];
    if has_time {
        roles.push(Role::Time);
    }
    let n = data.points().len();
    let mut columns = Columns::with_roles(&roles, n);
    for p in data.points() {
        let p = p.map_err(err)?;
        columns.push(Role::X, p.x);
        columns.push(Role::Y, p.y);
        columns.push(Role::Z, p.z);
        columns.push(Role::Intensity, p.intensity as f64);
        columns.push(Role::Ring, p.user_data as f64);
        if let Some(t) = p.gps_time.filter(|_| has_time) {
            columns.push(Role::Time, t);
        }
    }
    columns.into_scan(path)
}

/// Writes a LAS file, or LAZ when `path` ends in `.laz`. Point format 1 (with GPS time)
/// when the cloud has per-point time (written as stamp + time), else 0. Intensity is
/// rounded to the nearest 16-bit integer.
pub fn write(path: &Path, cloud: &PointCloud) -> Result<()> {
    let mut builder = Builder::from((1, 2));
    let has_time = cloud.time().is_some();
    builder.point_format =
        Format::new(if has_time { 1 } else { 0 }).map_err(|e| Error::Invalid(e.to_string()))?;
    builder.generating_software = "lidarflow".into();
    let origin = |f: fn(&nalgebra::Point3<f64>) -> f64| {
        cloud.points().iter().map(f).fold(f64::INFINITY, f64::min)
    };
    let offset = |v: f64| if v.is_finite() { v.floor() } else { 0.0 };
    builder.transforms = Vector {
        x: Transform {
            scale: SCALE,
            offset: offset(origin(|p| p.x)),
        },
        y: Transform {
            scale: SCALE,
            offset: offset(origin(|p| p.y)),
        },
        z: Transform {
            scale: SCALE,
            offset: offset(origin(|p| p.z)),
        },
    };
    let header = builder
        .into_header()
        .map_err(|e| Error::Invalid(e.to_string()))?;
    atomic::write_via_temporary(path, |tmp| {
        let err = |e: las::Error| Error::format(path, format!("cannot write LAS/LAZ: {e}"));
        let mut writer = las::Writer::from_path(tmp, header).map_err(err)?;
        for (i, p) in cloud.points().iter().enumerate() {
            let point = las::Point {
                x: p.x,
                y: p.y,
                z: p.z,
                intensity: cloud
                    .intensity()
                    .map_or(0, |v| v[i].round().clamp(0.0, u16::MAX as f32) as u16),
                user_data: cloud.ring().map_or(0, |v| v[i].min(255) as u8),
                point_source_id: cloud
                    .source()
                    .map_or(0, |v| v[i].min(u16::MAX as u32) as u16),
                gps_time: has_time.then(|| cloud.stamp + cloud.time().map_or(0.0, |v| v[i] as f64)),
                ..Default::default()
            };
            writer.write_point(point).map_err(err)?;
        }
        writer.close().map_err(err)
    })
}
