//! Mapping: the keyframe policy of the view-based map, and the metric maps generated from
//! keyframes afterwards (a merged point cloud, an NDT-like voxel map, a 2D occupancy grid),
//! plus a sharpness measure of a built cloud. Plain structs and functions.

pub mod edit;
pub mod grid2d;
pub mod keyframes;
pub mod merge;
pub mod ndt;
pub mod sharpness;
