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
    let err = |e: las::Error| Error::format(path, format!("cannot write LAS/LAZ: {e}"));
    let slab = las::PointDataBuilder::new().for_header(&header);
    atomic::write_via_temporary(path, |tmp| {
        let mut writer = las::Writer::from_path(tmp, header.clone()).map_err(err)?;
        // In slabs, so a large map needs little memory beyond its cloud.
        for start in (0..cloud.len()).step_by(SLAB) {
            let range = start..(start + SLAB).min(cloud.len());
            let records = encode(cloud, range, &header).map_err(|e| Error::format(path, e))?;
            let data = slab.clone().build_from_bytes(records).map_err(err)?;
            writer.write_points(&data).map_err(err)?;
        }
        writer.close().map_err(err)
    })
}

/// Points packed and handed to the writer at a time.
const SLAB: usize = 1 << 16;

/// The cloud as point records of format 0 or 1 (the header's), packed as LAS stores them:
/// X Y Z as `i32` through the header's transforms, intensity, a zero flags byte (no return
/// number), class 0, scan angle 0, ring as user data, source id, then GPS time in
/// format 1. Packing the bytes directly spares building a `las::Point` per point, which
/// cost as much as compressing them.
fn encode(
    cloud: &PointCloud,
    range: std::ops::Range<usize>,
    header: &las::Header,
) -> std::result::Result<Vec<u8>, String> {
    let format = header.point_format();
    let has_time = format.has_gps_time;
    let record_len = if has_time { 28 } else { 20 };
    debug_assert_eq!(usize::from(format.len()), record_len);
    let t = header.transforms();
    let mut out = Vec::with_capacity(range.len() * record_len);
    for i in range {
        let p = &cloud.points()[i];
        for (v, tr, axis) in [(p.x, &t.x, "x"), (p.y, &t.y, "y"), (p.z, &t.z, "z")] {
            let n = ((v - tr.offset) / tr.scale).round();
            if !(f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&n) {
                return Err(format!(
                    "point {i}: {axis} = {v} cannot be stored at {} m resolution",
                    tr.scale
                ));
            }
            out.extend_from_slice(&(n as i32).to_le_bytes());
        }
        let intensity = cloud
            .intensity()
            .map_or(0, |v| v[i].round().clamp(0.0, u16::MAX as f32) as u16);
        out.extend_from_slice(&intensity.to_le_bytes());
        // Return flags, classification, scan angle rank.
        out.extend_from_slice(&[0, 0, 0]);
        out.push(cloud.ring().map_or(0, |v| v[i].min(255) as u8));
        let source = cloud
            .source()
            .map_or(0, |v| v[i].min(u16::MAX as u32) as u16);
        out.extend_from_slice(&source.to_le_bytes());
        if has_time {
            let t = cloud.stamp + cloud.time().map_or(0.0, |v| v[i] as f64);
            out.extend_from_slice(&t.to_le_bytes());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Point3;

    fn header(format: u8) -> las::Header {
        let mut builder = Builder::from((1, 2));
        builder.point_format = Format::new(format).unwrap();
        builder.transforms = Vector {
            x: Transform {
                scale: SCALE,
                offset: -3.0,
            },
            y: Transform {
                scale: SCALE,
                offset: 10.0,
            },
            z: Transform {
                scale: SCALE,
                offset: 0.0,
            },
        };
        builder.into_header().unwrap()
    }

    #[test]
    fn packed_records_equal_the_las_crates_own_encoding() {
        let points: Vec<Point3<f64>> = (0..50)
            .map(|i| {
                let f = i as f64;
                Point3::new(-2.5 + 0.123456 * f, 10.0 + 0.00005 * f, -1.0 + f * 0.37)
            })
            .collect();
        let n = points.len();
        let cloud = PointCloud::new(points)
            .with_intensity((0..n).map(|i| i as f32 * 1500.7 - 20.0).collect())
            .unwrap()
            .with_ring((0..n).map(|i| i as u16 * 7).collect())
            .unwrap()
            .with_time((0..n).map(|i| i as f32 * 0.001 - 0.02).collect())
            .unwrap()
            .with_stamp(1.6e9);
        for format in [0, 1] {
            let h = header(format);
            // Two slabs, as `write` packs them.
            let ours = [
                encode(&cloud, 0..20, &h).unwrap(),
                encode(&cloud, 20..n, &h).unwrap(),
            ]
            .concat();
            let theirs = las::PointDataBuilder::new()
                .for_header(&h)
                .build_from_points(cloud.points().iter().enumerate().map(|(i, p)| las::Point {
                    x: p.x,
                    y: p.y,
                    z: p.z,
                    intensity: cloud.intensity().unwrap()[i].round().clamp(0.0, 65535.0) as u16,
                    user_data: cloud.ring().unwrap()[i].min(255) as u8,
                    gps_time: (format == 1).then(|| cloud.stamp + cloud.time().unwrap()[i] as f64),
                    ..Default::default()
                }))
                .unwrap();
            assert_eq!(ours.len(), n * usize::from(h.point_format().len()));
            assert_eq!(ours, theirs.raw_bytes(), "format {format}");
        }
    }

    #[test]
    fn a_coordinate_beyond_the_resolution_is_an_error_naming_the_point() {
        let cloud = PointCloud::new(vec![Point3::origin(), Point3::new(1e6, 0.0, 0.0)]);
        let e = encode(&cloud, 0..2, &header(0)).unwrap_err();
        assert!(e.contains("point 1") && e.contains("x = "), "{e}");
    }
}
