//! The `rerun_viewer` block: sends the run to a rerun viewer or an `.rrd` file (entity
//! paths in [`crate::viz`]). With `target: none` (the default pipelines' default) it only
//! drains its inputs, so a pipeline can always carry it.

#[cfg(feature = "viz")]
use super::messages::{Estimate, Scan};
use super::messages::{ESTIMATE, SCAN};
#[cfg(feature = "viz")]
use crate::pipeline::downcast;
use crate::pipeline::{Block, BlockError, BlockIo, BlockType, ParamError};
use crate::viz::VizTarget;
use schemars::JsonSchema;
use serde::Deserialize;

/// Params of `rerun_viewer`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewerParams {
    /// `none`, `spawn` (start the `rerun` viewer from PATH), `connect=HOST:PORT` (a running
    /// viewer) or `save=FILE.rrd` (a recording). `lidarflow run --viz` sets `${VIZ}`.
    #[serde(default = "none")]
    pub target: String,
}

fn none() -> String {
    "none".into()
}

struct Viewer {
    #[cfg_attr(not(feature = "viz"), allow(dead_code))]
    target: VizTarget,
}

#[cfg(feature = "viz")]
impl Block for Viewer {
    fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
        if self.target == VizTarget::None {
            while io.recv().is_some() {}
            return Ok(());
        }
        let mut log = crate::viz::rerun_log::RerunLog::open(&self.target)?;
        while let Some((port, m)) = io.recv() {
            match port.as_str() {
                "scans" => {
                    let scan = downcast::<Scan>(m)?;
                    let Some(pose) = scan.pose else { continue };
                    let cloud = match (&scan.twist, scan.cloud.time()) {
                        (Some(t), Some(_)) => crate::filters::deskew(&scan.cloud, t),
                        _ => (*scan.cloud).clone(),
                    };
                    log.scan(scan.index, scan.stamp, &pose, &cloud)?;
                }
                "local_map" => {
                    let scan = downcast::<Scan>(m)?;
                    log.local_map(scan.index, scan.stamp, &scan.cloud)?;
                }
                _ => {
                    let e = downcast::<Estimate>(m)?;
                    let r = &e.result;
                    let figures = [
                        ("ms/preprocess", r.ms.preprocess),
                        ("ms/registration", r.ms.registration),
                        ("ms/map_update", r.ms.map_update),
                        ("ms/total", r.ms.total),
                        ("iterations", r.iterations as f64),
                        ("correspondences", r.correspondences as f64),
                        ("speed", r.twist.fixed_rows::<3>(0).norm()),
                    ];
                    log.estimate(
                        r.index,
                        r.stamp,
                        &r.pose,
                        &r.twist,
                        e.reference.as_ref(),
                        r.keyframe,
                        &figures,
                    )?;
                }
            }
        }
        log.flush()?;
        Ok(())
    }
}

#[cfg(not(feature = "viz"))]
impl Block for Viewer {
    fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
        while io.recv().is_some() {}
        Ok(())
    }
}

/// The viewer block type.
pub fn types() -> Vec<BlockType> {
    vec![BlockType::new(
        "rerun_viewer",
        "Shows the run in a rerun viewer, or records it to an .rrd file: the de-skewed scan, \
         the local map, the trajectory and reference, keyframes, the sensor pose and per-scan \
         figures, on `scan` and `sensor_time` timelines.",
        |p: ViewerParams| {
            let target: VizTarget = p
                .target
                .parse()
                .map_err(|e| ParamError::field("target", e))?;
            if cfg!(not(feature = "viz")) && target != VizTarget::None {
                return Err(ParamError::field(
                    "target",
                    "this lidarflow was built without the `viz` feature: rebuild with default \
                     features, or use target none",
                ));
            }
            Ok(Box::new(Viewer { target }) as Box<dyn Block>)
        },
    )
    .input(
        "scans",
        SCAN,
        "scans with pose and twist (the odometry's `scans` output)",
    )
    .input("poses", ESTIMATE, "the odometry's estimates")
    .optional_input("local_map", SCAN, "the odometry's `local_map` output")]
}
