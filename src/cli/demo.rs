//! `lidarflow demo`: generates a synthetic sequence, runs the default pipeline on it and
//! prints the accuracy against the exact reference. Needs no download and no file of the
//! repository: the default pipeline is built in and written beside the results.

use crate::error::{Error, Result};
use crate::io::atomic;
use crate::pipeline::Vars;
use crate::recordings::synth::{self, SynthParams};
use clap::Args;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The default pipeline, as shipped in `pipelines/lidar3d-default.yaml`.
pub const DEFAULT_PIPELINE: &str = include_str!("../../pipelines/lidar3d-default.yaml");

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Output folder: the generated scans in `data/`, the results beside them.
    #[arg(long, default_value = "out/demo")]
    output: PathBuf,
    /// Motion profile of the generated sequence.
    #[arg(long, default_value = "aggressive", value_parser = ["car", "aggressive", "fast"])]
    profile: String,
    /// Number of scans (10 per second).
    #[arg(long, default_value_t = 100)]
    frames: usize,
    /// Seed of the street and the noise.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub(crate) fn run(args: DemoArgs) -> Result<i32> {
    let data = args.output.join("data");
    let params = SynthParams {
        profile: args.profile.clone(),
        frames: args.frames,
        seed: args.seed,
        ..SynthParams::default()
    };
    eprintln!(
        "generating {} scans of the `{}` profile into {} ...",
        args.frames,
        args.profile,
        data.display()
    );
    let report = synth::write(&data, &params)?;
    let pipeline = args.output.join("pipeline.yaml");
    std::fs::create_dir_all(&args.output).map_err(|e| Error::io(&args.output, e))?;
    atomic::write_bytes(&pipeline, DEFAULT_PIPELINE.as_bytes())?;
    eprintln!(
        "running {} on {} scans ({:.0} m path) ...",
        pipeline.display(),
        report.frames,
        report.path_length
    );
    let set: BTreeMap<String, String> = [
        ("DATASET".to_string(), data.display().to_string()),
        ("OUTPUT_DIR".to_string(), args.output.display().to_string()),
    ]
    .into();
    let vars = Vars {
        set,
        use_env: false,
    };
    let watch = ("odometry", "poses", Some(report.frames));
    let code = super::run::run_pipeline(&pipeline, &vars, &args.output, watch)?;
    if code == 0 {
        crate::cli::print(&format!(
            "next: `lidarflow run pipelines/lidar3d-default.yaml --dataset PATH` on your own \
             recording, or `--set VELOCITY=off` on {} to see what velocity estimation buys\n",
            data.display()
        ));
    }
    Ok(code)
}
