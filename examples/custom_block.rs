//! A block written outside lidarflow, registered beside the built-in ones and used from a
//! YAML file (`examples/custom_block.yaml`).
//!
//! ```text
//! cargo run --release --example custom_block -- DATASET [OUTPUT_DIR]
//! ```
//!
//! A block is three things: a params struct (serde + schemars, so unknown params are
//! rejected with file:line and `lidarflow blocks`-style docs come for free), a struct that
//! implements [`Block`], and a [`BlockType`] declaring its ports.

use lidarflow::blocks::messages::{Scan, SCAN};
use lidarflow::pipeline::{
    self, downcast, Block, BlockError, BlockIo, BlockType, ParamError, Vars,
};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Params of `intensity_filter`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct IntensityParams {
    /// Weakest intensity kept (in the recording's own units).
    min: f32,
}

/// Keeps the points whose intensity is at least `min`; scans without intensity pass.
struct IntensityFilter {
    min: f32,
}

impl Block for IntensityFilter {
    fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
        while let Some((_, message)) = io.recv() {
            let scan = downcast::<Scan>(message)?;
            let Some(intensity) = scan.cloud.intensity() else {
                io.send("output", scan)?;
                continue;
            };
            let keep: Vec<usize> = (0..scan.cloud.len())
                .filter(|&i| intensity[i] >= self.min)
                .collect();
            let filtered = scan.with_cloud(scan.cloud.select(&keep));
            io.send("output", Arc::new(filtered))?;
        }
        Ok(())
    }
}

fn intensity_filter() -> BlockType {
    BlockType::new(
        "intensity_filter",
        "Keeps points whose intensity is at least `min`.",
        |p: IntensityParams| {
            if !p.min.is_finite() {
                return Err(ParamError::field("min", "must be a finite number"));
            }
            Ok(Box::new(IntensityFilter { min: p.min }) as Box<dyn Block>)
        },
    )
    .input("input", SCAN, "scans")
    .output("output", SCAN, "scans without their weak returns")
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dataset) = args.next() else {
        eprintln!("usage: custom_block DATASET [OUTPUT_DIR]");
        std::process::exit(2);
    };
    let output = args.next().unwrap_or_else(|| "out/custom".into());
    let mut registry = lidarflow::blocks::registry();
    registry.register(intensity_filter());

    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/custom_block.yaml");
    let vars = Vars::with_env(
        [
            ("DATASET".to_string(), dataset),
            ("OUTPUT_DIR".to_string(), output.clone()),
        ]
        .into(),
    );
    let graph = match pipeline::load(&file, &vars, &registry) {
        Ok(g) => g,
        Err(diagnostics) => {
            eprint!("{diagnostics}");
            std::process::exit(2);
        }
    };
    if let Err(failure) = pipeline::run(graph, Arc::new(AtomicBool::new(false))) {
        eprintln!("error: {failure}");
        std::process::exit(1);
    }
    println!("wrote {output}/trajectory.tum, trajectory_kitti.txt and summary.json");
}
