//! Metric maps built from posed scans (a map-building pipeline's sinks): a merged point
//! cloud (LAS, LAZ or PLY), an NDT-like voxel map, a 2D occupancy grid. Each moves every
//! scan to the world frame with the pose it carries and writes when its input ends.

use super::filters::{chain, FilterSpec};
use super::messages::{Scan, SCAN};
use crate::io::ply::Encoding;
use crate::io::{las, ply};
use crate::mapping::grid2d::OccupancyGrid;
use crate::mapping::merge::CloudMerger;
use crate::mapping::ndt::NdtBuilder;
use crate::pipeline::{downcast, Block, BlockError, BlockIo, BlockType, ParamError};
use nalgebra::{Isometry3, Point3};
use schemars::JsonSchema;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Calls `each` with every scan of the input and its pose, until the input ends; a scan
/// without a pose is an error naming it.
fn each_posed_scan(
    io: &mut BlockIo,
    mut each: impl FnMut(&Scan, &Isometry3<f64>),
) -> Result<(), BlockError> {
    while let Some((_, m)) = io.recv() {
        let scan = downcast::<Scan>(m)?;
        let pose = scan.pose.ok_or_else(|| {
            format!(
                "{}: the scan carries no pose (feed keyframes, or the odometry's `scans` output)",
                scan.source
            )
        })?;
        each(&scan, &pose);
    }
    Ok(())
}

fn create_parent(file: &Path) -> Result<(), BlockError> {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    Ok(())
}

/// Params of `point_cloud_writer`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PointCloudWriterParams {
    /// Output file: `.las`, `.laz` (world coordinates, intensity, GPS time, keyframe id as
    /// point source id) or `.ply` (binary; x y z intensity t).
    pub file: PathBuf,
    /// Filters applied to the merged cloud before writing (e.g. a voxel_downsample that
    /// thins points seen from several keyframes), same types and params as the filter
    /// blocks.
    #[serde(default)]
    pub final_filters: Vec<FilterSpec>,
}

struct PointCloudWriter {
    file: PathBuf,
    final_filters: crate::filters::FilterChain,
}

impl Block for PointCloudWriter {
    fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
        create_parent(&self.file)?;
        let mut merger = CloudMerger::new();
        each_posed_scan(io, |scan, pose| {
            merger.add(&scan.cloud, pose, scan.index as u32)
        })?;
        if merger.is_empty() {
            return Err("no point reached the writer: nothing written".into());
        }
        let cloud = self.final_filters.apply(merger.finish()?);
        match extension(&self.file).as_str() {
            "ply" => ply::write(&self.file, &cloud, Encoding::BinaryLittleEndian)?,
            _ => las::write(&self.file, &cloud)?,
        }
        Ok(())
    }
}

fn extension(p: &Path) -> String {
    p.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Params of `ndt_writer`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NdtWriterParams {
    /// Output file (`.ply`: voxel means as vertices with `count` and `cov_xx`..`cov_zz`).
    pub file: PathBuf,
    /// Voxel edge, metres.
    #[serde(default = "one")]
    pub voxel_size: f64,
    /// Voxels with fewer points are left out.
    #[serde(default = "six")]
    pub min_points: usize,
}

fn one() -> f64 {
    1.0
}

fn six() -> usize {
    6
}

struct NdtWriter {
    params: NdtWriterParams,
}

impl Block for NdtWriter {
    fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
        create_parent(&self.params.file)?;
        let mut ndt = NdtBuilder::new(self.params.voxel_size);
        each_posed_scan(io, |scan, pose| {
            ndt.add(scan.cloud.points().iter().map(|p| pose * p))
        })?;
        let map = ndt.finish(self.params.min_points);
        if map.cells.is_empty() {
            return Err("no voxel held enough points: nothing written".into());
        }
        map.write_ply(&self.params.file)?;
        Ok(())
    }
}

/// Params of `occupancy_grid_writer`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GridWriterParams {
    /// Output image (`.png`); the ROS map_server YAML is written beside it (`.yaml`).
    pub file: PathBuf,
    /// Cell edge, metres.
    #[serde(default = "tenth")]
    pub resolution: f64,
    /// Lowest height relative to the sensor taken as an obstacle, metres.
    #[serde(default = "minus_half")]
    pub min_height: f64,
    /// Highest height relative to the sensor taken as an obstacle, metres.
    #[serde(default = "half")]
    pub max_height: f64,
    /// Farthest horizontal range cast, metres.
    #[serde(default = "thirty")]
    pub max_range: f64,
}

fn tenth() -> f64 {
    0.1
}
fn minus_half() -> f64 {
    -0.5
}
fn half() -> f64 {
    0.5
}
fn thirty() -> f64 {
    30.0
}

struct GridWriter {
    params: GridWriterParams,
}

impl Block for GridWriter {
    fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
        let p = &self.params;
        create_parent(&p.file)?;
        let mut grid = OccupancyGrid::new(p.resolution, p.min_height, p.max_height, p.max_range);
        each_posed_scan(io, |scan, pose| {
            let world: Vec<Point3<f64>> = scan.cloud.points().iter().map(|q| pose * q).collect();
            grid.add_scan(&Point3::from(pose.translation.vector), &world);
        })?;
        grid.write(&p.file)?;
        Ok(())
    }
}

/// The metric-map writer block types.
pub fn types() -> Vec<BlockType> {
    vec![
        BlockType::new(
            "point_cloud_writer",
            "Merges posed scans into one cloud in the world frame and writes it as LAS, LAZ or \
             PLY when the stream ends.",
            |p: PointCloudWriterParams| {
                let final_filters = chain("final_filters", &p.final_filters)?;
                Ok(Box::new(PointCloudWriter {
                    file: p.file,
                    final_filters,
                }) as Box<dyn Block>)
            },
        )
        .input(
            "scans",
            SCAN,
            "posed scans (keyframes, de-skewed and filtered)",
        ),
        BlockType::new(
            "ndt_writer",
            "Summarises posed scans as per-voxel Gaussians (mean and covariance, an NDT-like \
             map) and writes them as PLY.",
            |p: NdtWriterParams| {
                if p.voxel_size.is_nan() || p.voxel_size <= 0.0 {
                    return Err(ParamError::field("voxel_size", "must be > 0"));
                }
                Ok(Box::new(NdtWriter { params: p }) as Box<dyn Block>)
            },
        )
        .input("scans", SCAN, "posed scans"),
        BlockType::new(
            "occupancy_grid_writer",
            "Casts the points of posed scans within a height band as rays on the ground plane \
             and writes a 2D occupancy grid: PNG plus YAML in the ROS map_server convention.",
            |p: GridWriterParams| {
                if p.resolution.is_nan() || p.resolution <= 0.0 {
                    return Err(ParamError::field("resolution", "must be > 0"));
                }
                if p.min_height.is_nan() || p.max_height.is_nan() || p.min_height >= p.max_height {
                    return Err(ParamError::field("max_height", "must be above min_height"));
                }
                Ok(Box::new(GridWriter { params: p }) as Box<dyn Block>)
            },
        )
        .input("scans", SCAN, "posed scans"),
    ]
}
