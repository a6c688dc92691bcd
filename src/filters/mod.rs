//! Point-cloud filters: plain functions over [`PointCloud`](crate::PointCloud), each with a
//! params struct (serde, defaults) so a pipeline block or a nested filter chain can hold
//! them.

pub mod bbox;
pub mod deskew;
pub mod range;
pub mod voxel;

pub mod chain;

pub use bbox::BoxFilter;
pub use chain::{CloudFilter, FilterChain};
pub use deskew::{deskew, deskewed};
pub use range::RangeCrop;
pub use voxel::{VoxelDownsample, VoxelMode};
