//! An NDT-like map: the points of each voxel summarised by their mean and covariance (a
//! Gaussian per voxel, as NDT registration uses). Written as a binary PLY whose vertices are
//! the voxel means, so any point-cloud viewer shows it, with per-vertex properties
//! `count` (points in the voxel) and `cov_xx cov_xy cov_xz cov_yy cov_yz cov_zz` (the
//! covariance's unique entries, m²); the voxel edge is in a `comment voxel_size` header line.

use crate::error::{Error, Result};
use crate::filters::voxel::voxel_of;
use crate::io::atomic;
use nalgebra::{Matrix3, Point3, Vector3};
use rustc_hash::FxHashMap;
use std::io::Write;
use std::path::Path;

/// One voxel's Gaussian.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    /// Mean of the points.
    pub mean: Point3<f64>,
    /// Covariance of the points (divided by n - 1).
    pub covariance: Matrix3<f64>,
    /// Number of points.
    pub count: usize,
}

/// Voxel Gaussians of a point set.
#[derive(Debug, Clone, Default)]
pub struct NdtMap {
    /// Voxel edge, metres.
    pub voxel_size: f64,
    /// Cells, in the order their voxels were first seen.
    pub cells: Vec<Cell>,
}

/// Running sums of one voxel.
#[derive(Debug, Clone, Copy)]
struct Sums {
    n: usize,
    sum: Vector3<f64>,
    outer: Matrix3<f64>,
}

/// Accumulates points into voxel sums, then yields the Gaussians.
#[derive(Debug, Default)]
pub struct NdtBuilder {
    voxel_size: f64,
    slots: FxHashMap<[i32; 3], usize>,
    sums: Vec<Sums>,
}

impl NdtBuilder {
    /// A builder with voxels of edge `voxel_size`.
    pub fn new(voxel_size: f64) -> NdtBuilder {
        NdtBuilder {
            voxel_size,
            ..Default::default()
        }
    }

    /// Adds world points.
    pub fn add(&mut self, points: impl IntoIterator<Item = Point3<f64>>) {
        for p in points {
            let k = *self
                .slots
                .entry(voxel_of(&p, self.voxel_size))
                .or_insert_with(|| {
                    self.sums.push(Sums {
                        n: 0,
                        sum: Vector3::zeros(),
                        outer: Matrix3::zeros(),
                    });
                    self.sums.len() - 1
                });
            let s = &mut self.sums[k];
            s.n += 1;
            s.sum += p.coords;
            s.outer += p.coords * p.coords.transpose();
        }
    }

    /// The Gaussians of voxels holding at least `min_points` points.
    pub fn finish(self, min_points: usize) -> NdtMap {
        let cells = self
            .sums
            .iter()
            .filter(|s| s.n >= min_points.max(2))
            .map(|s| {
                let n = s.n as f64;
                let mean = s.sum / n;
                // Σ (p - m)(p - m)ᵀ = Σ p pᵀ - n m mᵀ
                let covariance = (s.outer - mean * mean.transpose() * n) / (n - 1.0);
                Cell {
                    mean: Point3::from(mean),
                    covariance,
                    count: s.n,
                }
            })
            .collect();
        NdtMap {
            voxel_size: self.voxel_size,
            cells,
        }
    }
}

impl NdtMap {
    /// Writes the map as a binary little-endian PLY (see the module docs), atomically.
    pub fn write_ply(&self, path: &Path) -> Result<()> {
        let mut bytes = Vec::with_capacity(64 * self.cells.len() + 512);
        write!(
            bytes,
            "ply\nformat binary_little_endian 1.0\ncomment lidarflow NDT map: voxel means with covariance\n\
             comment voxel_size {}\nelement vertex {}\nproperty double x\nproperty double y\n\
             property double z\nproperty uint count\nproperty double cov_xx\nproperty double cov_xy\n\
             property double cov_xz\nproperty double cov_yy\nproperty double cov_yz\n\
             property double cov_zz\nend_header\n",
            self.voxel_size,
            self.cells.len()
        )
        .map_err(|e| Error::io(path, e))?;
        for c in &self.cells {
            for v in [c.mean.x, c.mean.y, c.mean.z] {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
            bytes.extend_from_slice(&(c.count.min(u32::MAX as usize) as u32).to_le_bytes());
            let m = &c.covariance;
            for v in [
                m[(0, 0)],
                m[(0, 1)],
                m[(0, 2)],
                m[(1, 1)],
                m[(1, 2)],
                m[(2, 2)],
            ] {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        atomic::write_bytes(path, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussians_of_a_plane() {
        let mut b = NdtBuilder::new(1.0);
        // A flat patch z = 0.5 in voxel (0,0,0), and one lone point elsewhere.
        let pts: Vec<Point3<f64>> = (0..10)
            .flat_map(|i| {
                (0..10).map(move |j| Point3::new(0.05 + 0.1 * i as f64, 0.05 + 0.1 * j as f64, 0.5))
            })
            .chain([Point3::new(5.5, 5.5, 5.5)])
            .collect();
        b.add(pts);
        let map = b.finish(5);
        assert_eq!(map.cells.len(), 1);
        let c = map.cells[0];
        assert_eq!(c.count, 100);
        assert!((c.mean - Point3::new(0.5, 0.5, 0.5)).norm() < 1e-9);
        assert!(c.covariance[(2, 2)].abs() < 1e-12, "flat in z");
        assert!(c.covariance[(0, 0)] > 0.05);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ndt.ply");
        map.write_ply(&path).unwrap();
        // Our own PLY reader opens it: the means as vertices.
        let back = crate::io::read_scan(&path).unwrap();
        assert_eq!(back.cloud.len(), 1);
        assert!((back.cloud.points()[0] - c.mean).norm() < 1e-9);
    }
}
