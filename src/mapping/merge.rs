//! Merging keyframes into one cloud in the world frame: positions moved by each keyframe's
//! pose, intensity kept, per-point time made relative to the first keyframe's stamp, and
//! the keyframe id of every point kept as its source.

use crate::cloud::PointCloud;
use crate::error::Result;
use nalgebra::{Isometry3, Point3};

/// A growing merged cloud.
#[derive(Debug, Default)]
pub struct CloudMerger {
    points: Vec<Point3<f64>>,
    intensity: Vec<f32>,
    time: Vec<f64>,
    source: Vec<u32>,
    any_intensity: bool,
    any_time: bool,
    keyframes: usize,
}

impl CloudMerger {
    /// An empty merger.
    pub fn new() -> CloudMerger {
        CloudMerger::default()
    }

    /// Adds `cloud` (sensor frame, stamped) seen from `pose`, as keyframe `id`.
    pub fn add(&mut self, cloud: &PointCloud, pose: &Isometry3<f64>, id: u32) {
        let n = cloud.len();
        self.points.extend(cloud.points().iter().map(|p| pose * p));
        match cloud.intensity() {
            Some(v) => {
                self.intensity.extend_from_slice(v);
                self.any_intensity = true;
            }
            None => self.intensity.extend(std::iter::repeat_n(0.0, n)),
        }
        match cloud.time() {
            Some(v) => {
                self.time.extend(v.iter().map(|&t| cloud.stamp + t as f64));
                self.any_time = true;
            }
            None => self.time.extend(std::iter::repeat_n(cloud.stamp, n)),
        }
        self.source.extend(std::iter::repeat_n(id, n));
        self.keyframes += 1;
    }

    /// Keyframes added.
    pub fn keyframes(&self) -> usize {
        self.keyframes
    }

    /// Points so far.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether no point was added.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The merged cloud: stamp = earliest point time, per-point time relative to it (so LAS
    /// writes absolute GPS time), intensity when any keyframe had it, source = keyframe id.
    pub fn finish(self) -> Result<PointCloud> {
        let base = self.time.iter().copied().fold(f64::INFINITY, f64::min);
        let base = if base.is_finite() { base } else { 0.0 };
        let mut cloud = PointCloud::new(self.points)
            .with_stamp(base)
            .with_source(self.source)?
            .with_time(self.time.iter().map(|&t| (t - base) as f32).collect())?;
        if self.any_intensity {
            cloud = cloud.with_intensity(self.intensity)?;
        }
        Ok(cloud)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::pose_from_xyz_rpy;

    #[test]
    fn merges_in_world_frame_with_sources() {
        let a = PointCloud::new(vec![Point3::new(1.0, 0.0, 0.0)])
            .with_intensity(vec![5.0])
            .unwrap()
            .with_stamp(100.0);
        let b = PointCloud::new(vec![Point3::new(1.0, 0.0, 0.0); 2])
            .with_time(vec![0.0, 0.05])
            .unwrap()
            .with_stamp(100.5);
        let mut m = CloudMerger::new();
        m.add(&a, &Isometry3::identity(), 0);
        m.add(&b, &pose_from_xyz_rpy(0.0, 2.0, 0.0, 0.0, 0.0, 0.0), 7);
        let c = m.finish().unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c.points()[2], Point3::new(1.0, 2.0, 0.0));
        assert_eq!(c.source().unwrap(), &[0, 7, 7]);
        assert_eq!(c.intensity().unwrap(), &[5.0, 0.0, 0.0]);
        assert_eq!(c.stamp, 100.0);
        assert!((c.time().unwrap()[2] - 0.55).abs() < 1e-6);
    }
}
