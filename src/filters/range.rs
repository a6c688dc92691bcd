//! Range crop: keeps points whose distance from the sensor lies in `[min, max]`, and the
//! measured range of a sensor, from which `auto` values are derived.

use crate::cloud::PointCloud;
use nalgebra::Point3;
use serde::{Deserialize, Serialize};

/// Keeps points with `min <= |p| <= max` (metres, sensor frame).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RangeCrop {
    /// Closest range kept, metres (drops the platform and the operator).
    pub min: f64,
    /// Farthest range kept, metres.
    pub max: f64,
}

impl Default for RangeCrop {
    fn default() -> Self {
        RangeCrop {
            min: 1.0,
            max: 100.0,
        }
    }
}

impl RangeCrop {
    /// Applies the crop in place.
    pub fn apply(&self, cloud: &mut PointCloud) {
        cloud.retain(|_, p| self.keeps(p));
    }

    /// The cropped copy of `cloud`: only the kept points are copied.
    pub fn cropped(&self, cloud: &PointCloud) -> PointCloud {
        let kept: Vec<usize> = (0..cloud.len())
            .filter(|&i| self.keeps(&cloud.points()[i]))
            .collect();
        cloud.select(&kept)
    }

    /// Whether `p` (sensor frame) lies within the range.
    pub fn keeps(&self, p: &Point3<f64>) -> bool {
        let r2 = p.coords.norm_squared();
        r2 >= self.min * self.min && r2 <= self.max * self.max
    }
}

/// The sensor's measured range: the 99th percentile of the point distances, metres
/// (robust to a few far outliers). `None` for an empty cloud.
pub fn measured_range(cloud: &PointCloud) -> Option<f64> {
    if cloud.is_empty() {
        return None;
    }
    let step = (cloud.len() / 20_000).max(1);
    let mut r: Vec<f64> = cloud
        .points()
        .iter()
        .step_by(step)
        .map(|p| p.coords.norm())
        .collect();
    let k = ((r.len() - 1) as f64 * 0.99) as usize;
    let (_, v, _) = r.select_nth_unstable_by(k, f64::total_cmp);
    Some(*v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_and_measured_range() {
        let c = PointCloud::new(
            (1..=200)
                .map(|i| Point3::new(i as f64 * 0.5, 0.0, 0.0))
                .collect(),
        );
        assert!((measured_range(&c).unwrap() - 99.0).abs() < 0.6);
        let c = c.with_time((1..=200).map(|i| i as f32).collect()).unwrap();
        let crop = RangeCrop {
            min: 2.0,
            max: 10.0,
        };
        let copy = crop.cropped(&c);
        let mut c = c;
        crop.apply(&mut c);
        assert_eq!(c.len(), 17);
        // The copy keeps the same points with their fields.
        assert_eq!(copy.points(), c.points());
        assert_eq!(copy.time(), c.time());
        assert!(c.points().iter().all(|p| (2.0..=10.0).contains(&p.x)));
        assert!(measured_range(&PointCloud::default()).is_none());
    }
}
