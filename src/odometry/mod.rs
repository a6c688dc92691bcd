//! Scan-to-map LiDAR odometry that estimates velocity: plain structs and functions, no
//! threads, channels or YAML, so tests and examples call them directly.

pub mod auto;
pub mod estimator;
pub mod local_map;
pub mod params;
pub mod planar;
pub mod planar_registration;
pub mod registration;
pub mod runner;
pub mod summary;
pub mod sweep_check;
pub mod threshold;

pub use estimator::{Odometry, ScanResult, ScanStatus};
pub use params::{OdometryParams, VelocityMode};
