//! View-based map blocks: `keyframe_store` keeps keyframes (pose, stamp, twist, raw scan)
//! in a map folder as a run goes; `keyframes` reads them back as the source of a
//! map-building pipeline.

use super::messages::{Scan, SCAN};
use crate::io::view_map::ViewMap;
use crate::mapping::keyframes::{KeyframePolicy, KeyframeSelector};
use crate::pipeline::{downcast, Block, BlockError, BlockIo, BlockType};
use schemars::JsonSchema;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;

/// Params of `keyframe_store`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyframeStoreParams {
    /// The map folder (`map.yaml` and `keyframes/`); a map already there is replaced.
    pub dir: PathBuf,
    /// Which scans become keyframes.
    #[serde(default)]
    pub policy: KeyframePolicy,
}

struct KeyframeStore {
    params: KeyframeStoreParams,
}

impl Block for KeyframeStore {
    fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
        let mut selector = KeyframeSelector::new(self.params.policy);
        let mut map: Option<ViewMap> = None;
        while let Some((_, m)) = io.recv() {
            let scan = downcast::<Scan>(m)?;
            let (Some(pose), Some(twist)) = (scan.pose, scan.twist) else {
                return Err(format!(
                    "{}: the scan carries no pose: wire the odometry's `scans` output here",
                    scan.source
                )
                .into());
            };
            if !selector.take(scan.stamp, &pose, &twist) {
                continue;
            }
            if map.is_none() {
                map = Some(ViewMap::create(&self.params.dir, &scan.cloud.sensor, true)?);
            }
            if let Some(map) = map.as_mut() {
                map.append(&scan.cloud, &pose, &twist, scan.reference.as_ref())?;
            }
        }
        Ok(())
    }
}

/// Params of `keyframes`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyframesParams {
    /// The map folder (or its `map.yaml`).
    pub map: PathBuf,
    /// Skip keyframes whose file is missing or unreadable (with a warning) instead of
    /// stopping.
    #[serde(default)]
    pub skip_bad: bool,
    /// Which pose each keyframe carries: `estimated` (the odometry's) or `reference` (the
    /// recording's reference pose stored beside it, e.g. to build a ground-truth map).
    #[serde(default)]
    pub poses: PoseSource,
}

/// Which stored pose a keyframe is placed with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PoseSource {
    /// The pose the odometry estimated.
    #[default]
    Estimated,
    /// The recording's reference pose (an error for keyframes without one).
    Reference,
}

struct KeyframesReader {
    params: KeyframesParams,
}

impl Block for KeyframesReader {
    fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
        let map = ViewMap::open(&self.params.map)?;
        for w in &map.warnings {
            eprintln!("warning: {w}");
        }
        if map.index.keyframes.is_empty() {
            return Err(format!(
                "{}: the map has no keyframes: nothing to build",
                map.dir.display()
            )
            .into());
        }
        let mut skipped = 0;
        for k in &map.index.keyframes {
            if io.stopping() {
                break;
            }
            let cloud = match map.read_scan(k) {
                Ok(c) => c,
                Err(e) if self.params.skip_bad => {
                    eprintln!("warning: skipped keyframe {}: {e}", k.id);
                    skipped += 1;
                    continue;
                }
                Err(e) => return Err(format!("{e} (--skip-bad builds from the others)").into()),
            };
            let pose = match self.params.poses {
                PoseSource::Estimated => k.pose(),
                PoseSource::Reference => k.reference().ok_or_else(|| {
                    format!(
                        "{}: keyframe {} has no reference pose (the recording had none)",
                        map.dir.display(),
                        k.id
                    )
                })?,
            };
            let scan = Scan {
                index: k.id as usize,
                stamp: k.stamp,
                cloud: Arc::new(cloud),
                source: map.scan_path(k).display().to_string().into(),
                reference: k.reference(),
                odometry: None,
                pose: Some(pose),
                twist: Some(k.twist()),
            };
            io.send("scans", Arc::new(scan))?;
        }
        if skipped == map.index.keyframes.len() {
            return Err(format!(
                "{}: every keyframe was bad: nothing built",
                map.dir.display()
            )
            .into());
        }
        Ok(())
    }
}

/// The view-based map block types.
pub fn types() -> Vec<BlockType> {
    vec![
        BlockType::new(
            "keyframe_store",
            "Keeps keyframes (pose, stamp, twist, raw scan with every per-point field, \
             reference pose when known) in a map folder: map.yaml and one LAZ file per \
             keyframe, written incrementally and atomically.",
            |p: KeyframeStoreParams| Ok(Box::new(KeyframeStore { params: p }) as Box<dyn Block>),
        )
        .input(
            "scans",
            SCAN,
            "scans with their pose and twist (the odometry's `scans` output)",
        ),
        BlockType::new(
            "keyframes",
            "Reads the keyframes of a view-based map, in order: raw scans in the sensor frame \
             carrying their stored pose and twist (de-skew them with `deskew`).",
            |p: KeyframesParams| Ok(Box::new(KeyframesReader { params: p }) as Box<dyn Block>),
        )
        .output("scans", SCAN, "every keyframe's scan, with pose and twist"),
    ]
}
