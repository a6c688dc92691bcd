//! Filter blocks. The filters that need nothing but the cloud (range crop, voxel downsample,
//! box) are listed once in [`CLOUD_FILTERS`]: each is both a block of the graph and an entry
//! of a nested chain (`{type: range_crop, params: {...}}`) inside another block's params,
//! such as the odometry's `map_filters`. `deskew` needs the twist a scan carries, so it is a
//! block only.

use super::messages::{Scan, SCAN};
use crate::filters::{deskew, BoxFilter, CloudFilter, FilterChain, RangeCrop, VoxelDownsample};
use crate::pipeline::registry::parse_params;
use crate::pipeline::{downcast, Block, BlockError, BlockIo, BlockType, ParamError};
use schemars::{JsonSchema, Schema};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::sync::Arc;

/// One filter type usable in a chain: name, description, how to build it, its params.
pub struct FilterKind {
    /// Type name, as in `type:`.
    pub name: &'static str,
    /// What it does.
    pub doc: &'static str,
    /// Builds the filter from its params.
    pub build: fn(&serde_json::Value) -> Result<Box<dyn CloudFilter>, ParamError>,
    /// The params' schema.
    pub schema: fn() -> Schema,
}

fn build<F: CloudFilter + DeserializeOwned + 'static>(
    v: &serde_json::Value,
) -> Result<Box<dyn CloudFilter>, ParamError> {
    Ok(Box::new(parse_params::<F>(v)?))
}

fn schema<F: JsonSchema>() -> Schema {
    schemars::schema_for!(F)
}

fn checked_range(v: &serde_json::Value) -> Result<Box<dyn CloudFilter>, ParamError> {
    let f: RangeCrop = parse_params(v)?;
    if f.min.is_nan() || f.max.is_nan() || f.min < 0.0 || f.max <= f.min {
        return Err(ParamError::whole(format!(
            "need 0 <= min < max, got min {} and max {}",
            f.min, f.max
        )));
    }
    Ok(Box::new(f))
}

fn checked_voxel(v: &serde_json::Value) -> Result<Box<dyn CloudFilter>, ParamError> {
    let f: VoxelDownsample = parse_params(v)?;
    if f.size.is_nan() || f.size <= 0.0 {
        return Err(ParamError::field(
            "size",
            format!("must be > 0, got {}", f.size),
        ));
    }
    Ok(Box::new(f))
}

/// The filters that work on a cloud alone.
pub const CLOUD_FILTERS: [FilterKind; 3] = [
    FilterKind {
        name: "range_crop",
        doc: "Keeps points whose distance from the sensor lies in [min, max].",
        build: checked_range,
        schema: schema::<RangeCrop>,
    },
    FilterKind {
        name: "voxel_downsample",
        doc: "Keeps one point per voxel of a regular grid (first, centroid, or closest to it).",
        build: checked_voxel,
        schema: schema::<VoxelDownsample>,
    },
    FilterKind {
        name: "box_filter",
        doc: "Keeps, or removes, the points inside an axis-aligned box (the vehicle's body).",
        build: build::<BoxFilter>,
        schema: schema::<BoxFilter>,
    },
];

/// One entry of a nested filter chain.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterSpec {
    /// Filter type: `range_crop`, `voxel_downsample` or `box_filter`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its params (see `lidarflow blocks TYPE`).
    #[serde(default)]
    pub params: serde_json::Value,
}

/// Builds a chain from its specs; errors carry the path from `field` down.
pub fn chain(field: &str, specs: &[FilterSpec]) -> Result<FilterChain, ParamError> {
    let mut filters: Vec<Box<dyn CloudFilter>> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let at = |last: &str| vec![field.to_string(), i.to_string(), last.to_string()];
        let kind = CLOUD_FILTERS
            .iter()
            .find(|k| k.name == spec.kind)
            .ok_or_else(|| ParamError {
                path: at("type"),
                message: format!(
                    "unknown filter type `{}`{}",
                    spec.kind,
                    crate::pipeline::diagnostic::suggestion(
                        &spec.kind,
                        CLOUD_FILTERS.iter().map(|k| k.name)
                    )
                ),
            })?;
        let params = if spec.params.is_null() {
            serde_json::json!({})
        } else {
            spec.params.clone()
        };
        let f = (kind.build)(&params).map_err(|e| e.under(&at("params")))?;
        filters.push(f);
    }
    Ok(FilterChain(filters))
}

struct FilterBlock(Box<dyn CloudFilter>);

impl Block for FilterBlock {
    fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
        while let Some((_, m)) = io.recv() {
            let scan = downcast::<Scan>(m)?;
            let out = scan.with_cloud(self.0.filter((*scan.cloud).clone()));
            io.send("output", Arc::new(out))?;
        }
        Ok(())
    }
}

/// Params of `deskew` (none).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeskewParams {}

struct DeskewBlock;

impl Block for DeskewBlock {
    fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
        while let Some((_, m)) = io.recv() {
            let scan = downcast::<Scan>(m)?;
            let out = match &scan.twist {
                Some(twist) if scan.cloud.time().is_some() => {
                    Arc::new(scan.with_cloud(deskew(&scan.cloud, twist)))
                }
                _ => scan,
            };
            io.send("output", out)?;
        }
        Ok(())
    }
}

/// The filter block types.
pub fn types() -> Vec<BlockType> {
    let mut types: Vec<BlockType> = CLOUD_FILTERS
        .iter()
        .map(|k| {
            let build = k.build;
            BlockType::custom(k.name, k.doc, (k.schema)(), move |v| {
                Ok(Box::new(FilterBlock(build(v)?)) as Box<dyn Block>)
            })
            .input("input", SCAN, "scans to filter")
            .output("output", SCAN, "the filtered scans")
        })
        .collect();
    types.push(
        BlockType::new(
            "deskew",
            "Moves every point to the sensor pose at the scan's stamp, with the twist the scan \
             carries (set by the odometry) and each point's own time. Scans without a twist or \
             per-point time pass unchanged.",
            |_: DeskewParams| Ok(Box::new(DeskewBlock) as Box<dyn Block>),
        )
        .input(
            "input",
            SCAN,
            "scans with a twist (the odometry's `scans` output)",
        )
        .output("output", SCAN, "the de-skewed scans"),
    );
    types
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_errors_point_into_the_list() {
        let specs: Vec<FilterSpec> = serde_json::from_value(serde_json::json!([
            {"type": "range_crop", "params": {"min": 1.0, "max": 50.0}},
            {"type": "voxel_downsampel"},
            {"type": "voxel_downsample", "params": {"size": -1.0}},
        ]))
        .unwrap();
        assert_eq!(chain("f", &specs[..1]).unwrap().0.len(), 1);
        let e = chain("f", &specs[..2]).err().unwrap();
        assert_eq!(e.path, vec!["f", "1", "type"]);
        assert!(
            e.message.contains("did you mean `voxel_downsample`"),
            "{}",
            e.message
        );
        let e = chain("f", &specs[2..]).err().unwrap();
        assert_eq!(e.path, vec!["f", "0", "params", "size"]);
    }
}
