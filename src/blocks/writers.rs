//! Sink blocks: the trajectory files and the run summary. Both write when their input ends,
//! which also happens when the pipeline stops early (Ctrl-C, or a failing block): what was
//! estimated so far is written, atomically.

use super::messages::{Estimate, ESTIMATE};
use crate::io::atomic;
use crate::io::trajectory::{self, Trajectory};
use crate::odometry::summary::SummaryBuilder;
use crate::pipeline::{downcast, Block, BlockError, BlockIo, BlockType};
use schemars::JsonSchema;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Params of `trajectory_writer`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TrajectoryWriterParams {
    /// Folder written into (created if needed).
    pub dir: PathBuf,
    /// TUM file name (`stamp x y z qx qy qz qw`); empty writes none.
    pub tum: String,
    /// KITTI file name (3x4 row-major, one line per scan); empty writes none.
    pub kitti: String,
}

impl Default for TrajectoryWriterParams {
    fn default() -> Self {
        TrajectoryWriterParams {
            dir: PathBuf::from("out"),
            tum: "trajectory.tum".into(),
            kitti: "trajectory_kitti.txt".into(),
        }
    }
}

struct TrajectoryWriter {
    params: TrajectoryWriterParams,
}

fn create(dir: &Path) -> Result<(), BlockError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create output folder {}: {e}", dir.display()).into())
}

impl Block for TrajectoryWriter {
    fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
        let p = &self.params;
        create(&p.dir)?;
        let mut traj = Trajectory::default();
        while let Some((_, m)) = io.recv() {
            let e = downcast::<Estimate>(m)?;
            traj.push(e.result.stamp, e.result.pose);
        }
        if !p.tum.is_empty() {
            trajectory::write_tum(&p.dir.join(&p.tum), &traj)?;
        }
        if !p.kitti.is_empty() {
            trajectory::write_kitti(&p.dir.join(&p.kitti), &traj)?;
        }
        Ok(())
    }
}

/// Params of `summary`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SummaryParams {
    /// Folder written into (created if needed).
    pub dir: PathBuf,
    /// File name of the JSON summary.
    pub file: String,
}

impl Default for SummaryParams {
    fn default() -> Self {
        SummaryParams {
            dir: PathBuf::from("out"),
            file: "summary.json".into(),
        }
    }
}

struct SummaryBlock {
    params: SummaryParams,
}

impl Block for SummaryBlock {
    fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
        let start = Instant::now();
        create(&self.params.dir)?;
        let mut builder = SummaryBuilder::default();
        let (mut estimate, mut reference) = (Trajectory::default(), Trajectory::default());
        let mut every_scan_has_reference = true;
        let mut resolved = None;
        while let Some((_, m)) = io.recv() {
            let e = downcast::<Estimate>(m)?;
            builder.add(&e.result);
            estimate.push(e.result.stamp, e.result.pose);
            match e.reference {
                Some(r) => reference.push(e.result.stamp, r),
                None => every_scan_has_reference = false,
            }
            if e.resolved.is_some() {
                resolved.clone_from(&e.resolved);
            }
        }
        let summary = builder.finish(
            start.elapsed().as_secs_f64(),
            resolved.as_ref(),
            every_scan_has_reference.then_some(&reference),
            &estimate,
            io.stopping().then(|| {
                "stopped early (interrupted, or a block failed): figures cover the scans done"
                    .to_string()
            }),
        );
        let json = serde_json::to_string_pretty(&summary)?;
        atomic::write_bytes(&self.params.dir.join(&self.params.file), json.as_bytes())?;
        Ok(())
    }
}

/// The sink block types.
pub fn types() -> Vec<BlockType> {
    vec![
        BlockType::new(
            "trajectory_writer",
            "Writes the estimated trajectory as TUM and KITTI files, one pose per input scan \
             in input order, when the stream ends.",
            |p: TrajectoryWriterParams| {
                Ok(Box::new(TrajectoryWriter { params: p }) as Box<dyn Block>)
            },
        )
        .input("poses", ESTIMATE, "the odometry's estimates"),
        BlockType::new(
            "summary",
            "Writes summary.json: scans, wall time, scans/s, per-scan milliseconds \
             (mean/p95/max), keyframes, path length, failures, and accuracy against the \
             reference poses when every scan has one.",
            |p: SummaryParams| Ok(Box::new(SummaryBlock { params: p }) as Box<dyn Block>),
        )
        .input("poses", ESTIMATE, "the odometry's estimates"),
    ]
}
