//! The messages LiDAR blocks exchange, and the names their ports declare.

use crate::cloud::PointCloud;
use crate::geometry::Twist;
use crate::odometry::params::ResolvedParams;
use crate::odometry::ScanResult;
use nalgebra::Isometry3;
use std::sync::Arc;

/// Port type of [`Scan`] messages.
pub const SCAN: &str = "scan";
/// Port type of [`Estimate`] messages.
pub const ESTIMATE: &str = "estimate";

/// One scan travelling through a pipeline. The cloud is shared: fanning a scan out to
/// several blocks copies pointers, and a filter makes a new cloud only for its output.
#[derive(Debug, Clone)]
pub struct Scan {
    /// Index in the recording.
    pub index: usize,
    /// Stamp, seconds.
    pub stamp: f64,
    /// The points, in the sensor frame.
    pub cloud: Arc<PointCloud>,
    /// Where it came from (file path, or `synthetic scan N`), for messages.
    pub source: Arc<str>,
    /// Reference pose of the recording, when known.
    pub reference: Option<Isometry3<f64>>,
    /// Odometry pose from the platform's wheels, when the recording has it (planar robots'
    /// logs): the motion prior of the planar odometry.
    pub odometry: Option<Isometry3<f64>>,
    /// Estimated pose, once the odometry has seen the scan.
    pub pose: Option<Isometry3<f64>>,
    /// Estimated body twist over the sweep, once the odometry has seen the scan.
    pub twist: Option<Twist>,
}

impl Scan {
    /// The same scan with another cloud.
    pub fn with_cloud(&self, cloud: PointCloud) -> Scan {
        Scan {
            cloud: Arc::new(cloud),
            ..self.clone()
        }
    }
}

/// What the odometry estimated for one scan.
#[derive(Debug, Clone)]
pub struct Estimate {
    /// Pose, twist, quality and timings.
    pub result: ScanResult,
    /// Reference pose of the scan, when the recording has one.
    pub reference: Option<Isometry3<f64>>,
    /// The values `auto` resolved to (after the first non-empty scan).
    pub resolved: Option<ResolvedParams>,
}
