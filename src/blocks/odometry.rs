//! The `odometry` block: [`Odometry`](crate::odometry::Odometry) over a stream of scans.
//! Its params are the odometry's own (every one documented in `OdometryParams`, with its
//! `auto` rule) plus `map_filters`, a nested filter chain applied to keyframe points before
//! they enter the local map.

use super::filters::{chain, FilterSpec};
use super::messages::{Estimate, Scan, ESTIMATE, SCAN};
use crate::odometry::{Odometry, OdometryParams};
use crate::pipeline::registry::parse_params;
use crate::pipeline::{downcast, Block, BlockError, BlockIo, BlockType, ParamError};
use std::sync::Arc;

struct OdometryBlock {
    odometry: Odometry,
}

impl Block for OdometryBlock {
    fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
        let send_scans = io.is_wired("scans");
        while let Some((_, m)) = io.recv() {
            let scan = downcast::<Scan>(m)?;
            let result = self
                .odometry
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
                resolved: self.odometry.resolved().cloned(),
            };
            io.send("poses", Arc::new(estimate))?;
        }
        Ok(())
    }
}

fn build(v: &serde_json::Value) -> Result<Box<dyn Block>, ParamError> {
    let mut rest = v.clone();
    let filters = match rest.as_object_mut().and_then(|o| o.remove("map_filters")) {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(f) => parse_params::<Vec<FilterSpec>>(&f)
            .map_err(|e| e.under(&["map_filters".to_string()]))?,
    };
    let params: OdometryParams = parse_params(&rest)?;
    let chain = chain("map_filters", &filters)?;
    Ok(Box::new(OdometryBlock {
        odometry: Odometry::new(params).with_map_filters(chain),
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
    if let Some(props) = s.get_mut("properties").and_then(|p| p.as_object_mut()) {
        props.insert("map_filters".into(), filters);
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
    )]
}
