//! Source blocks: a recording on disk (any kind lidarflow reads) and the synthetic
//! street. Each reads one scan at a time on its own thread, so reading scan n+1 overlaps
//! the work downstream on scan n.

use super::messages::{Scan, SCAN};
use crate::pipeline::{Block, BlockError, BlockIo, BlockType, ParamError};
use crate::recordings::synth::{Sequence, SynthParams};
use crate::recordings::{self, OpenOptions};
use schemars::JsonSchema;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;

/// Params of the `dataset` block.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatasetParams {
    /// Any recording lidarflow reads, recognised by its content: a ROS 1 `.bag`, a ROS 2 bag
    /// (folder with `metadata.yaml`, or its `.mcap` / `.db3`), an Ouster `.pcap` (metadata
    /// `.json` beside it), a Velodyne `.pcap`, a CARMEN `.clf` log, a KITTI odometry root, or
    /// a folder of scans (.bin, .pcd, .ply, .las, .laz) with optional `times.txt` and
    /// `poses.txt` beside them.
    pub path: PathBuf,
    /// KITTI sequence (`00`, `07`...); empty or absent takes the root's only sequence.
    #[serde(default)]
    pub sequence: Option<String>,
    /// Bag topic to read (`/points`); empty or absent takes the bag's only point-cloud topic
    /// (with several, the error lists them all).
    #[serde(default)]
    pub topic: Option<String>,
    /// An Ouster capture's metadata `.json`; empty or absent looks beside the `.pcap` (same
    /// stem, else the folder's only `.json`).
    #[serde(default)]
    pub metadata: Option<PathBuf>,
    /// Velodyne model (`VLP-16`, `VLP-32C`, `HDL-32E`, ...); empty or absent takes the
    /// packets' factory byte.
    #[serde(default)]
    pub model: Option<String>,
    /// Field of view of a planar scanner in degrees, for log lines that do not carry it
    /// (CARMEN `FLASER`); absent means 180.
    #[serde(default)]
    pub fov_deg: Option<f64>,
    /// Index of the first scan to read.
    #[serde(default)]
    pub first: usize,
    /// Scans to read at most; absent or 0 reads to the end.
    #[serde(default)]
    pub count: Option<usize>,
}

impl DatasetParams {
    /// The options to open the recording with (empty strings count as absent, so pipeline
    /// files can write `${TOPIC|}`).
    pub fn open_options(&self) -> OpenOptions {
        let given = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
        OpenOptions {
            sequence: given(&self.sequence),
            topic: given(&self.topic),
            metadata: self.metadata.clone().filter(|p| !p.as_os_str().is_empty()),
            model: given(&self.model),
            fov_deg: self.fov_deg,
        }
    }
}

struct DatasetReader {
    params: DatasetParams,
}

impl Block for DatasetReader {
    fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
        let p = &self.params;
        let mut source = recordings::open(&p.path, &p.open_options())?;
        source.skip_scans(p.first)?;
        let limit = match p.count {
            Some(n) if n > 0 => n,
            _ => usize::MAX,
        };
        let mut index = p.first;
        let mut sent = 0;
        while sent < limit && !io.stopping() {
            let next = source.next_scan();
            for w in source.take_warnings() {
                eprintln!("warning: {}: {w}", p.path.display());
            }
            let Some(scan) = next else { break };
            let scan = scan?;
            let message = Scan {
                index,
                stamp: scan.cloud.stamp,
                cloud: Arc::new(scan.cloud),
                source: scan.label.into(),
                reference: scan.reference,
                odometry: scan.odometry,
                pose: None,
                twist: None,
            };
            io.send("scans", Arc::new(message))?;
            index += 1;
            sent += 1;
        }
        for w in source.take_warnings() {
            eprintln!("warning: {}: {w}", p.path.display());
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
                odometry: None,
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
            "Reads any recording (ROS 1 and ROS 2 bags, Ouster and Velodyne captures, CARMEN \
             logs, KITTI roots, folders of scans) as a stream of scans in recording order, \
             with reference poses when the recording has them.",
            |p: DatasetParams| Ok(Box::new(DatasetReader { params: p }) as Box<dyn Block>),
        )
        .output("scans", SCAN, "every scan, in recording order"),
        BlockType::new(
            "synthetic",
            "Generates a street ray-cast by a moving spinning LiDAR, scan by scan, with exact \
             reference poses (no files needed).",
            |p: SynthParams| {
                crate::recordings::synth::motion::profile(&p.profile)
                    .map_err(|e| ParamError::field("profile", e.to_string()))?;
                crate::recordings::synth::lidar::LidarModel::with_rings(p.rings)
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
