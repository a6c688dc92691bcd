//! Axis-aligned bounding-box filter: keeps the points inside a box, or removes them (the
//! vehicle's own body, a carried rig).

use crate::cloud::PointCloud;
use serde::{Deserialize, Serialize};

/// An axis-aligned box in the cloud's frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BoxFilter {
    /// Lowest corner (x, y, z), metres.
    pub min: [f64; 3],
    /// Highest corner (x, y, z), metres.
    pub max: [f64; 3],
    /// `true` keeps the points inside; `false` removes them.
    pub keep_inside: bool,
}

impl Default for BoxFilter {
    fn default() -> Self {
        BoxFilter {
            min: [-1.0, -1.0, -1.0],
            max: [1.0, 1.0, 1.0],
            keep_inside: false,
        }
    }
}

impl BoxFilter {
    /// Applies the filter in place.
    pub fn apply(&self, cloud: &mut PointCloud) {
        cloud.retain(|_, p| {
            let inside = (0..3).all(|k| p[k] >= self.min[k] && p[k] <= self.max[k]);
            inside == self.keep_inside
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Point3;

    #[test]
    fn keep_or_remove_inside() {
        let c = PointCloud::new(vec![Point3::new(0.0, 0.0, 0.0), Point3::new(5.0, 0.0, 0.0)]);
        let mut a = c.clone();
        BoxFilter::default().apply(&mut a);
        assert_eq!(a.points(), &[Point3::new(5.0, 0.0, 0.0)]);
        let mut b = c;
        BoxFilter {
            keep_inside: true,
            ..Default::default()
        }
        .apply(&mut b);
        assert_eq!(b.points(), &[Point3::origin()]);
    }
}
