//! Source blocks: a recording on disk (KITTI root or folder of scans) and the synthetic
//! street. Each reads one scan at a time on its own thread, so reading scan n+1 overlaps
//! the work downstream on scan n.

use super::messages::{Scan, SCAN};
use crate::datasets::synth::{Sequence, SynthParams};
use crate::datasets::Recording;
use crate::pipeline::{Block, BlockError, BlockIo, BlockType, ParamError};
use schemars::JsonSchema;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;

/// Params of the `dataset` block.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatasetParams {
    /// A KITTI odometry root (`sequences/SS/velodyne/*.bin`) or a folder of scans (.bin,
    /// .pcd, .ply, .las, .laz), directly or in `velodyne/` or `scans/`, with optional
    /// `times.txt` and `poses.txt` beside them.
    pub path: PathBuf,
    /// KITTI sequence (`00`, `07`...); empty or absent takes the root's only sequence.
    #[serde(default)]
    pub sequence: Option<String>,
    /// Index of the first scan to read.
    #[serde(default)]
    pub first: usize,
    /// Scans to read at most; absent or 0 reads to the end.
    #[serde(default)]
    pub count: Option<usize>,
}

struct DatasetReader {
    params: DatasetParams,
}

impl Block for DatasetReader {
    fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
        let p = &self.params;
        let sequence = p.sequence.as_deref().filter(|s| !s.is_empty());
        let recording = Recording::open(&p.path, sequence)?;
        let end = match p.count {
            Some(n) if n > 0 => (p.first + n).min(recording.len()),
            _ => recording.len(),
        };
        for i in p.first..end {
            if io.stopping() {
                break;
            }
            let loaded = recording.read(i)?;
            let scan = Scan {
                index: i,
                stamp: loaded.cloud.stamp,
                cloud: Arc::new(loaded.cloud),
                source: recording.scan_path(i).display().to_string().into(),
                reference: recording.reference().and_then(|r| r.poses.get(i).copied()),
                pose: None,
                twist: None,
            };
            io.send("scans", Arc::new(scan))?;
        }
        Ok(())
    }
}

struct SyntheticReader {
    params: SynthParams,
}

impl Block for SyntheticReader {
    fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
        let sequence = Sequence::new(self.params.clone())?;
        for i in 0..sequence.len() {
            if io.stopping() {
                break;
            }
            let scan = Scan {
                index: i,
                stamp: sequence.stamp(i),
                cloud: Arc::new(sequence.scan(i)),
                source: format!("synthetic scan {i}").into(),
                reference: Some(sequence.reference_pose(i)),
                pose: None,
                twist: None,
            };
            io.send("scans", Arc::new(scan))?;
        }
        Ok(())
    }
}

/// The reader block types.
pub fn types() -> Vec<BlockType> {
    vec![
        BlockType::new(
            "dataset",
            "Reads a recording: a KITTI odometry root or a folder of scans, in order, with \
             stamps from times.txt and reference poses from poses.txt when present.",
            |p: DatasetParams| Ok(Box::new(DatasetReader { params: p }) as Box<dyn Block>),
        )
        .output("scans", SCAN, "every scan, in recording order"),
        BlockType::new(
            "synthetic",
            "Generates a street ray-cast by a moving spinning LiDAR, scan by scan, with exact \
             reference poses (no files needed).",
            |p: SynthParams| {
                crate::datasets::synth::motion::profile(&p.profile)
                    .map_err(|e| ParamError::field("profile", e.to_string()))?;
                crate::datasets::synth::lidar::LidarModel::with_rings(p.rings)
                    .map_err(|e| ParamError::field("rings", e.to_string()))?;
                if p.frames == 0 {
                    return Err(ParamError::field("frames", "must be at least 1"));
                }
                Ok(Box::new(SyntheticReader { params: p }) as Box<dyn Block>)
            },
        )
        .output(
            "scans",
            SCAN,
            "every generated scan, with its exact reference pose",
        ),
    ]
}
