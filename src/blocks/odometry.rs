//! The `odometry` block: [`crate::odometry::Odometry`] over a stream of scans.
//! Its params are the odometry's own (every one documented in `OdometryParams`, with its
//! `auto` rule) plus `map_filters`, a nested filter chain applied to keyframe points before
//! they enter the local map, and, to localize on a prebuilt map, `map` and `initial_pose`.

use super::filters::{chain, FilterSpec};
use super::messages::{Estimate, Scan, ESTIMATE, SCAN};
use crate::geometry::pose_from_xyz_rpy;
use crate::io::read_scan;
use crate::odometry::{Odometry, OdometryParams};
use crate::pipeline::registry::parse_params;
use crate::pipeline::{downcast, Block, BlockError, BlockIo, BlockType, ParamError};
use crate::PointCloud;
use nalgebra::Isometry3;
use std::path::PathBuf;
use std::sync::Arc;

struct OdometryBlock {
    odometry: Option<Odometry>,
    /// Localization: the prebuilt map's file and the initial pose.
    localize: Option<(PathBuf, Isometry3<f64>)>,
    /// Send the local map every this many keyframes.
    publish_map_every: usize,
}

impl Block for OdometryBlock {
    fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
        let mut odometry = self.odometry.take().ok_or("the block runs once")?;
        if let Some((file, initial)) = &self.localize {
            let map =
                read_scan(file).map_err(|e| format!("cannot load the map to localize in: {e}"))?;
            if map.cloud.is_empty() {
                return Err(format!("{}: the map holds no point", file.display()).into());
            }
            odometry = odometry.localize_in(map.cloud.points().to_vec(), *initial);
        }
        self.odometry = Some(odometry);
        let odometry = self.odometry.as_mut().expect("just set");
        let send_scans = io.is_wired("scans");
        let send_map = io.is_wired("local_map");
        let mut keyframes = 0usize;
        while let Some((_, m)) = io.recv() {
            let scan = downcast::<Scan>(m)?;
            let result = odometry
                .process(&scan.cloud)
                .map_err(|e| format!("{}: {e}", scan.source))?;
            if send_scans {
                let mut out = (*scan).clone();
                out.pose = Some(result.pose);
                out.twist = Some(result.twist);
                io.send("scans", Arc::new(out))?;
            }
            let estimate = Estimate {
                result,
                reference: scan.reference,
                resolved: odometry.resolved().cloned(),
            };
            let keyframe = estimate.result.keyframe;
            io.send("poses", Arc::new(estimate))?;
            if send_map && keyframe {
                // The first keyframe's map, then every `publish_map_every`-th.
                if keyframes % self.publish_map_every == 0 {
                    if let Some(map) = odometry.local_map() {
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

/// Params of the odometry block beyond the odometry's own.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct BlockExtras {
    map_filters: Option<Vec<FilterSpec>>,
    map: Option<PathBuf>,
    initial_pose: Option<serde_json::Value>,
    publish_map_every: Option<usize>,
}

/// `"x y z roll pitch yaw"` (metres, degrees) or a list of the six numbers.
fn parse_initial_pose(v: &serde_json::Value) -> Result<Isometry3<f64>, ParamError> {
    let numbers: Option<Vec<f64>> = match v {
        serde_json::Value::String(s) => s
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .map(|t| t.parse().ok())
            .collect(),
        serde_json::Value::Array(a) => a.iter().map(serde_json::Value::as_f64).collect(),
        _ => None,
    };
    match numbers.as_deref() {
        Some([x, y, z, r, p, w]) => Ok(pose_from_xyz_rpy(
            *x,
            *y,
            *z,
            r.to_radians(),
            p.to_radians(),
            w.to_radians(),
        )),
        _ => Err(ParamError::field(
            "initial_pose",
            format!("expected \"x y z roll pitch yaw\" (metres, degrees), got {v}"),
        )),
    }
}

fn build(v: &serde_json::Value) -> Result<Box<dyn Block>, ParamError> {
    let mut rest = v.clone();
    let mut extras = serde_json::Map::new();
    if let Some(o) = rest.as_object_mut() {
        for key in ["map_filters", "map", "initial_pose", "publish_map_every"] {
            if let Some(x) = o.remove(key) {
                extras.insert(key.into(), x);
            }
        }
    }
    let extras: BlockExtras = parse_params(&serde_json::Value::Object(extras))?;
    let params: OdometryParams = parse_params(&rest)?;
    let chain = chain(
        "map_filters",
        extras.map_filters.as_deref().unwrap_or_default(),
    )?;
    let initial = match &extras.initial_pose {
        None => Isometry3::identity(),
        Some(v) => parse_initial_pose(v)?,
    };
    let map = extras.map.filter(|p| !p.as_os_str().is_empty());
    Ok(Box::new(OdometryBlock {
        odometry: Some(Odometry::new(params).with_map_filters(chain)),
        localize: map.map(|m| (m, initial)),
        publish_map_every: extras.publish_map_every.unwrap_or(10).max(1),
    }))
}

fn schema() -> schemars::Schema {
    let mut s = schemars::schema_for!(OdometryParams);
    let filters = serde_json::json!({
        "description": "Filters applied in order, in the sensor frame, to a keyframe's points \
                        before they enter the local map (e.g. a box_filter removing the \
                        vehicle). Each entry is `{type: range_crop|voxel_downsample|box_filter, \
                        params: {...}}`, the same types and params as the filter blocks.",
        "type": "array",
        "default": [],
    });
    let map = serde_json::json!({
        "description": "Localization: a prebuilt map (LAS, LAZ, PLY, PCD or .bin point cloud in \
                        the world frame, e.g. from `lidarflow map build`) used as the local map, \
                        fixed: no scan is inserted. Empty or absent: odometry with mapping.",
        "type": "string",
        "default": "",
    });
    let initial = serde_json::json!({
        "description": "Localization: the pose of the first scan in the map, \"x y z roll pitch \
                        yaw\" in metres and degrees; the first registration starts there with a \
                        wide threshold.",
        "type": "string",
        "default": "0 0 0 0 0 0",
    });
    let every = serde_json::json!({
        "description": "Send the local map on the `local_map` output every this many keyframes \
                        (when that output is wired, e.g. to a viewer).",
        "type": "integer",
        "default": 10,
    });
    if let Some(props) = s.get_mut("properties").and_then(|p| p.as_object_mut()) {
        props.insert("publish_map_every".into(), every);
        props.insert("map_filters".into(), filters);
        props.insert("map".into(), map);
        props.insert("initial_pose".into(), initial);
    }
    s
}

/// The odometry block type.
pub fn types() -> Vec<BlockType> {
    vec![BlockType::custom(
        "odometry",
        "Scan-to-map ICP that estimates pose and velocity together (12-DOF, each point \
         de-skewed at its own time), with a voxel local map, an adaptive threshold and \
         self-adaptive defaults.",
        schema(),
        build,
    )
    .input(
        "scans",
        SCAN,
        "scans in time order (raw, not pre-filtered: the odometry crops and downsamples itself)",
    )
    .output(
        "poses",
        ESTIMATE,
        "one estimate per input scan, in order: pose, twist, quality, timings",
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
