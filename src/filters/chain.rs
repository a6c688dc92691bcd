//! Filters as values: a [`CloudFilter`] is any filter that needs nothing but the cloud, and
//! a [`FilterChain`] applies several in order (the odometry's map-insertion chain, or a
//! map-building pipeline's per-keyframe filters).

use super::{BoxFilter, RangeCrop, VoxelDownsample};
use crate::cloud::PointCloud;

/// A filter that maps a cloud to a filtered cloud.
pub trait CloudFilter: Send + Sync {
    /// The filtered cloud.
    fn filter(&self, cloud: PointCloud) -> PointCloud;
}

impl CloudFilter for RangeCrop {
    fn filter(&self, mut cloud: PointCloud) -> PointCloud {
        self.apply(&mut cloud);
        cloud
    }
}

impl CloudFilter for BoxFilter {
    fn filter(&self, mut cloud: PointCloud) -> PointCloud {
        self.apply(&mut cloud);
        cloud
    }
}

impl CloudFilter for VoxelDownsample {
    fn filter(&self, cloud: PointCloud) -> PointCloud {
        self.apply(&cloud)
    }
}

/// Filters applied one after the other; an empty chain changes nothing.
#[derive(Default)]
pub struct FilterChain(pub Vec<Box<dyn CloudFilter>>);

impl FilterChain {
    /// Whether the chain has no filter.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The cloud after every filter.
    pub fn apply(&self, cloud: PointCloud) -> PointCloud {
        self.0.iter().fold(cloud, |c, f| f.filter(c))
    }
}

impl std::fmt::Debug for FilterChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FilterChain({} filters)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Point3;

    #[test]
    fn chain_applies_in_order() {
        let cloud = PointCloud::new(vec![
            Point3::new(0.1, 0.0, 0.0),
            Point3::new(5.0, 0.0, 0.0),
            Point3::new(5.01, 0.0, 0.0),
            Point3::new(50.0, 0.0, 0.0),
        ]);
        let chain = FilterChain(vec![
            Box::new(RangeCrop {
                min: 1.0,
                max: 10.0,
            }),
            Box::new(VoxelDownsample {
                size: 1.0,
                ..Default::default()
            }),
        ]);
        assert_eq!(chain.apply(cloud.clone()).len(), 1);
        assert_eq!(FilterChain::default().apply(cloud).len(), 4);
    }
}
