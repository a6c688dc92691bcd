//! The `planar_odometry` block: [`PlanarOdometry`] over a stream of scans from a planar
//! laser, with the wheel odometry each scan carries (CARMEN logs) as the motion prior. Its
//! params are the odometry's own, every one documented in `PlanarParams` with its `auto`
//! rule; its ports are the `odometry` block's, so the same writers, map store and viewer
//! follow it.

use super::messages::{Estimate, Scan, ESTIMATE, SCAN};
use crate::odometry::planar::{PlanarOdometry, PlanarParams};
use crate::pipeline::registry::parse_params;
use crate::pipeline::{downcast, Block, BlockError, BlockIo, BlockType, ParamError};
use crate::PointCloud;
use nalgebra::Isometry3;
use std::sync::Arc;

/// Params of the block beyond the odometry's own.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct BlockExtras {
    publish_map_every: Option<usize>,
}

struct PlanarOdometryBlock {
    odometry: PlanarOdometry,
    /// Send the local map every this many keyframes.
    publish_map_every: usize,
}

impl Block for PlanarOdometryBlock {
    fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
        let send_scans = io.is_wired("scans");
        let send_map = io.is_wired("local_map");
        let mut keyframes = 0usize;
        while let Some((_, m)) = io.recv() {
            let scan = downcast::<Scan>(m)?;
            let result = self.odometry.process(&scan.cloud, scan.odometry.as_ref());
            if send_scans {
                let mut out = (*scan).clone();
                out.pose = Some(result.pose);
                out.twist = Some(result.twist);
                io.send("scans", Arc::new(out))?;
            }
            let keyframe = result.keyframe;
            let estimate = Estimate {
                result,
                reference: scan.reference,
                resolved: self.odometry.resolved().map(|r| r.as_resolved()),
            };
            io.send("poses", Arc::new(estimate))?;
            if send_map && keyframe {
                if keyframes % self.publish_map_every == 0 {
                    if let Some(map) = self.odometry.local_map() {
                        let cloud =
                            PointCloud::new(map.points().copied().collect()).with_stamp(scan.stamp);
                        let mut out = (*scan).clone();
                        out.cloud = Arc::new(cloud);
                        out.pose = Some(Isometry3::identity());
                        out.twist = None;
                        io.send("local_map", Arc::new(out))?;
                    }
                }
                keyframes += 1;
            }
        }
        Ok(())
    }
}

fn build(v: &serde_json::Value) -> Result<Box<dyn Block>, ParamError> {
    let mut rest = v.clone();
    let mut extras = serde_json::Map::new();
    if let Some(o) = rest.as_object_mut() {
        if let Some(x) = o.remove("publish_map_every") {
            extras.insert("publish_map_every".into(), x);
        }
    }
    let extras: BlockExtras = parse_params(&serde_json::Value::Object(extras))?;
    let params: PlanarParams = parse_params(&rest)?;
    Ok(Box::new(PlanarOdometryBlock {
        odometry: PlanarOdometry::new(params),
        publish_map_every: extras.publish_map_every.unwrap_or(10).max(1),
    }))
}

fn schema() -> schemars::Schema {
    let mut s = schemars::schema_for!(PlanarParams);
    let every = serde_json::json!({
        "description": "Send the local map on the `local_map` output every this many keyframes \
                        (when that output is wired, e.g. to a viewer).",
        "type": "integer",
        "default": 10,
    });
    if let Some(props) = s.get_mut("properties").and_then(|p| p.as_object_mut()) {
        props.insert("publish_map_every".into(), every);
    }
    s
}

/// The planar odometry block type.
pub fn types() -> Vec<BlockType> {
    vec![BlockType::custom(
        "planar_odometry",
        "Scan-to-map registration for planar (2D) lasers on x, y and yaw, point-to-line, with \
         the wheel odometry carried by the scans as the motion prior, a voxel local map, an \
         adaptive threshold and self-adaptive defaults (range and beam spacing measured).",
        schema(),
        build,
    )
    .input(
        "scans",
        SCAN,
        "scans of a planar laser in recording order, in the robot's frame (raw: the \
         odometry crops and thins itself)",
    )
    .output(
        "poses",
        ESTIMATE,
        "one estimate per input scan, in order: pose (z = 0), twist, quality, timings",
    )
    .output(
        "scans",
        SCAN,
        "the input scans, carrying their estimated pose and twist",
    )
    .output(
        "local_map",
        SCAN,
        "the local map's points (world frame, pose identity) every `publish_map_every` keyframes",
    )]
}
