//! Voxel downsampling: one point per occupied voxel of a regular grid. The output keeps the
//! order in which voxels were first seen, so it is deterministic.

use crate::cloud::PointCloud;
use nalgebra::Point3;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// Which point represents a voxel.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum VoxelMode {
    /// The first point that fell in the voxel (fastest; what KISS-ICP does).
    #[default]
    First,
    /// The mean of the voxel's points (per-point fields of the first point).
    Centroid,
    /// The real point closest to the mean (keeps measured positions and their fields).
    ClosestToCentroid,
}

/// Voxel downsampling parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct VoxelDownsample {
    /// Edge of a voxel, metres.
    pub size: f64,
    /// Representative point of each voxel.
    pub mode: VoxelMode,
}

impl Default for VoxelDownsample {
    fn default() -> Self {
        VoxelDownsample {
            size: 0.5,
            mode: VoxelMode::First,
        }
    }
}

/// Integer voxel coordinates of `p` for voxels of edge `size`.
#[inline]
pub fn voxel_of(p: &Point3<f64>, size: f64) -> [i32; 3] {
    [
        floor_i32(p.x / size),
        floor_i32(p.y / size),
        floor_i32(p.z / size),
    ]
}

/// `v.floor() as i32` (saturating, NaN to 0) without the call to libm's `floor` that
/// x86-64 without SSE 4.1 makes for it: voxel keys are computed for every point of every
/// scan.
#[inline]
fn floor_i32(v: f64) -> i32 {
    let t = v as i32;
    if f64::from(t) > v {
        t.saturating_sub(1)
    } else {
        t
    }
}

impl VoxelDownsample {
    /// The downsampled cloud.
    pub fn apply(&self, cloud: &PointCloud) -> PointCloud {
        self.apply_where(cloud, |_| true)
    }

    /// The downsampled cloud of the points for which `keep` holds: the same as
    /// downsampling the cloud of those points, without copying it out first.
    pub fn apply_where(
        &self,
        cloud: &PointCloud,
        keep: impl Fn(&Point3<f64>) -> bool,
    ) -> PointCloud {
        let mut slot: FxHashMap<[i32; 3], usize> = FxHashMap::default();
        slot.reserve(cloud.len() / 4);
        // Per voxel: first index, sum of positions, count.
        let mut voxels: Vec<(usize, nalgebra::Vector3<f64>, usize)> = Vec::new();
        let mut owner = Vec::with_capacity(if self.mode == VoxelMode::ClosestToCentroid {
            cloud.len()
        } else {
            0
        });
        let mut kept = Vec::with_capacity(owner.capacity());
        for (i, p) in cloud.points().iter().enumerate() {
            if !keep(p) {
                continue;
            }
            let k = *slot.entry(voxel_of(p, self.size)).or_insert_with(|| {
                voxels.push((i, nalgebra::Vector3::zeros(), 0));
                voxels.len() - 1
            });
            if self.mode != VoxelMode::First {
                voxels[k].1 += p.coords;
                voxels[k].2 += 1;
            }
            if self.mode == VoxelMode::ClosestToCentroid {
                owner.push(k);
                kept.push(i);
            }
        }
        match self.mode {
            VoxelMode::First => {
                let idx: Vec<usize> = voxels.iter().map(|v| v.0).collect();
                cloud.select(&idx)
            }
            VoxelMode::Centroid => {
                let idx: Vec<usize> = voxels.iter().map(|v| v.0).collect();
                let mut out = cloud.select(&idx);
                for (p, v) in out.points_mut().iter_mut().zip(&voxels) {
                    *p = Point3::from(v.1 / v.2 as f64);
                }
                out
            }
            VoxelMode::ClosestToCentroid => {
                let mut best: Vec<(usize, f64)> =
                    voxels.iter().map(|v| (v.0, f64::INFINITY)).collect();
                for (&i, &k) in kept.iter().zip(&owner) {
                    let p = &cloud.points()[i];
                    let d = (p.coords - voxels[k].1 / voxels[k].2 as f64).norm_squared();
                    if d < best[k].1 {
                        best[k] = (i, d);
                    }
                }
                let idx: Vec<usize> = best.iter().map(|b| b.0).collect();
                cloud.select(&idx)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_matches_the_standard_floor() {
        for v in [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            2.999,
            -2.999,
            -3.0,
            1e9,
            -1e9,
            3e9,
            -3e9,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -1e-300,
        ] {
            assert_eq!(floor_i32(v), v.floor() as i32, "{v}");
        }
    }

    #[test]
    fn modes() {
        let c = PointCloud::new(vec![
            Point3::new(0.1, 0.1, 0.1),
            Point3::new(0.3, 0.1, 0.1),
            Point3::new(0.2, 0.1, 0.1),
            Point3::new(1.5, 0.1, 0.1),
        ])
        .with_intensity(vec![1.0, 2.0, 3.0, 4.0])
        .unwrap();
        let first = VoxelDownsample {
            size: 1.0,
            mode: VoxelMode::First,
        }
        .apply(&c);
        assert_eq!(first.len(), 2);
        assert_eq!(first.intensity().unwrap(), &[1.0, 4.0]);
        let centroid = VoxelDownsample {
            size: 1.0,
            mode: VoxelMode::Centroid,
        }
        .apply(&c);
        assert!((centroid.points()[0].x - 0.2).abs() < 1e-12);
        let closest = VoxelDownsample {
            size: 1.0,
            mode: VoxelMode::ClosestToCentroid,
        }
        .apply(&c);
        assert_eq!(closest.intensity().unwrap(), &[3.0, 4.0]);
        assert_eq!(closest.points()[0], Point3::new(0.2, 0.1, 0.1));
    }

    #[test]
    fn downsampling_where_a_test_holds_equals_downsampling_the_points_it_keeps() {
        let points: Vec<Point3<f64>> = (0..500)
            .map(|i| {
                let a = i as f64 * 0.37;
                Point3::new(
                    a.sin() * (1.0 + i as f64 * 0.01),
                    a.cos() * 2.0,
                    (a * 0.3).sin(),
                )
            })
            .collect();
        let intensity: Vec<f32> = (0..points.len()).map(|i| i as f32).collect();
        let cloud = PointCloud::new(points).with_intensity(intensity).unwrap();
        let near = |p: &Point3<f64>| p.x < 0.2;
        let kept: Vec<usize> = (0..cloud.len())
            .filter(|&i| near(&cloud.points()[i]))
            .collect();
        assert!(kept.len() > 100 && kept.len() < cloud.len());
        let subset = cloud.select(&kept);
        for mode in [
            VoxelMode::First,
            VoxelMode::Centroid,
            VoxelMode::ClosestToCentroid,
        ] {
            let v = VoxelDownsample { size: 0.3, mode };
            let (a, b) = (v.apply_where(&cloud, near), v.apply(&subset));
            assert_eq!(a.points(), b.points(), "{mode:?}");
            assert_eq!(a.intensity(), b.intensity(), "{mode:?}");
        }
    }
}
