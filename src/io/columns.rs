//! Per-field columns decoded from a self-describing scan file (PCD, PLY, LAS), and the one
//! place that turns them into a [`PointCloud`]: field names recognised, non-finite points
//! dropped and counted, per-point time normalised.

use super::LoadedScan;
use crate::cloud::PointCloud;
use crate::error::{Error, Result};
use nalgebra::Point3;
use std::path::Path;

/// What a named field means to lidarflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Coordinate x.
    X,
    /// Coordinate y.
    Y,
    /// Coordinate z.
    Z,
    /// Return intensity.
    Intensity,
    /// Per-point time.
    Time,
    /// Laser ring index.
    Ring,
}

impl Role {
    /// The role of a field called `name`, if lidarflow uses it (other fields are ignored).
    pub fn from_name(name: &str) -> Option<Role> {
        match name.to_ascii_lowercase().as_str() {
            "x" => Some(Role::X),
            "y" => Some(Role::Y),
            "z" => Some(Role::Z),
            "intensity" | "scalar_intensity" => Some(Role::Intensity),
            "t" | "time" | "timestamp" => Some(Role::Time),
            "ring" => Some(Role::Ring),
            _ => None,
        }
    }
}

/// Decoded columns of one scan.
#[derive(Debug, Default)]
pub struct Columns {
    /// x coordinates.
    pub x: Vec<f64>,
    /// y coordinates.
    pub y: Vec<f64>,
    /// z coordinates.
    pub z: Vec<f64>,
    /// Intensity, if present.
    pub intensity: Option<Vec<f64>>,
    /// Time, if present, in the file's unit.
    pub time: Option<Vec<f64>>,
    /// True when the time field was stored as an integer: nanoseconds (Ouster's `t`).
    pub time_in_nanoseconds: bool,
    /// Ring, if present.
    pub ring: Option<Vec<f64>>,
}

/// Times above this (seconds) are absolute (unix or GPS time), not relative to the scan.
const ABSOLUTE_TIME_THRESHOLD: f64 = 1.0e5;

impl Columns {
    /// Empty columns for the roles present, with room for `n` points.
    pub fn with_roles(roles: &[Role], n: usize) -> Columns {
        let col = |r: Role| roles.contains(&r).then(|| Vec::with_capacity(n));
        Columns {
            x: Vec::with_capacity(n),
            y: Vec::with_capacity(n),
            z: Vec::with_capacity(n),
            intensity: col(Role::Intensity),
            time: col(Role::Time),
            time_in_nanoseconds: false,
            ring: col(Role::Ring),
        }
    }

    /// Appends a value to the column of `role`.
    pub fn push(&mut self, role: Role, value: f64) {
        match role {
            Role::X => self.x.push(value),
            Role::Y => self.y.push(value),
            Role::Z => self.z.push(value),
            Role::Intensity => self.intensity.get_or_insert_with(Vec::new).push(value),
            Role::Time => self.time.get_or_insert_with(Vec::new).push(value),
            Role::Ring => self.ring.get_or_insert_with(Vec::new).push(value),
        }
    }

    /// Builds the scan: drops points with a non-finite coordinate, converts time to seconds
    /// (relative to the earliest point when the file holds absolute times, which then
    /// becomes the stamp).
    pub fn into_scan(self, path: &Path) -> Result<LoadedScan> {
        let n = self.x.len();
        if self.y.len() != n || self.z.len() != n {
            return Err(Error::format(path, "x, y and z columns differ in length"));
        }
        let keep: Vec<bool> = (0..n)
            .map(|i| self.x[i].is_finite() && self.y[i].is_finite() && self.z[i].is_finite())
            .collect();
        let kept = keep.iter().filter(|&&k| k).count();
        let pick = |v: &[f64]| -> Vec<f64> {
            v.iter()
                .zip(&keep)
                .filter(|(_, &k)| k)
                .map(|(&x, _)| x)
                .collect()
        };
        let points = (0..n)
            .filter(|&i| keep[i])
            .map(|i| Point3::new(self.x[i], self.y[i], self.z[i]))
            .collect();
        let mut cloud = PointCloud::new(points);
        let invalid = |e: Error| Error::format(path, e.to_string());
        if let Some(v) = &self.intensity {
            cloud = cloud
                .with_intensity(pick(v).into_iter().map(|x| x as f32).collect())
                .map_err(invalid)?;
        }
        if let Some(v) = &self.time {
            let mut t = pick(v);
            if self.time_in_nanoseconds {
                t.iter_mut().for_each(|x| *x *= 1e-9);
            }
            let finite = t.iter().copied().filter(|x| x.is_finite());
            let min = finite.clone().fold(f64::INFINITY, f64::min);
            let max_abs = finite.fold(0.0f64, |m, x| m.max(x.abs()));
            if max_abs > ABSOLUTE_TIME_THRESHOLD {
                cloud.stamp = min;
                t.iter_mut().for_each(|x| *x -= min);
            }
            let t = t
                .into_iter()
                .map(|x| if x.is_finite() { x as f32 } else { 0.0 })
                .collect();
            cloud = cloud.with_time(t).map_err(invalid)?;
        }
        if let Some(v) = &self.ring {
            cloud = cloud
                .with_ring(
                    pick(v)
                        .into_iter()
                        .map(|x| x.clamp(0.0, u16::MAX as f64) as u16)
                        .collect(),
                )
                .map_err(invalid)?;
        }
        Ok(LoadedScan {
            cloud,
            dropped_non_finite: n - kept,
        })
    }
}
