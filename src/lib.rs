//! lidarflow: LiDAR odometry and mapping where a pipeline is a YAML file that wires
//! reusable blocks.
//!
//! The rooms of the code (see DESIGN.md): [`cloud`] (the point cloud type), [`geometry`]
//! (SE(3) on nalgebra), [`io`] (file formats), [`recordings`] (every source of scans and the
//! synthetic generator), [`filters`], [`odometry`] and [`eval`] (the algorithms, plain
//! structs and functions) and [`cli`] (the command line).

#![warn(missing_docs)]

pub mod blocks;
pub mod cli;
pub mod cloud;
pub mod error;
pub mod eval;
pub mod filters;
pub mod geometry;
pub mod io;
pub mod mapping;
pub mod odometry;
pub mod pipeline;
pub mod recordings;
pub mod viz;

pub use cloud::PointCloud;
pub use error::{Error, Result};
