//! Layouts of recordings: a KITTI odometry tree, a folder of scans, and the synthetic
//! generator that writes folders of scans with exact reference poses.

pub mod folder;
pub mod inspect;
pub mod kitti;
pub mod recording;
pub mod synth;
pub mod times;

pub use recording::Recording;
