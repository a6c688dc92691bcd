//! `lidarflow synth`.

use crate::error::Result;
use crate::recordings::synth::{self, SynthParams};
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Args)]
pub(crate) struct SynthArgs {
    /// Output folder (scans/, times.txt, poses.txt, synth.json).
    out: PathBuf,
    /// Motion profile.
    #[arg(long, default_value = "car", value_parser = ["car", "aggressive", "fast"])]
    profile: String,
    /// Number of scans (10 per second).
    #[arg(long, default_value_t = 100)]
    frames: usize,
    /// Seed of the range noise and, unless --scene-seed is given, of the street.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Seed of the street layout (a second pass of the same street: same --scene-seed,
    /// another --seed).
    #[arg(long)]
    scene_seed: Option<u64>,
    /// Rings of the simulated sensor.
    #[arg(long, default_value_t = 64, value_parser = parse_rings)]
    rings: usize,
    /// Write the scans motion-compensated already, per-point times kept, as a LiDAR-inertial
    /// odometry or a de-skew node passes them on (de-skewing them again distorts them).
    #[arg(long)]
    compensated: bool,
}

pub(crate) fn run(args: SynthArgs) -> Result<i32> {
    let params = SynthParams {
        profile: args.profile,
        frames: args.frames,
        seed: args.seed,
        scene_seed: args.scene_seed,
        rings: args.rings,
    };
    let start = Instant::now();
    let report = synth::write_scans(&args.out, &params, args.compensated)?;
    println!(
        "wrote {}{} scans ({} points, {:.1} m path, profile {}, {} rings) to {} in {:.1} s",
        report.frames,
        if args.compensated {
            " motion-compensated"
        } else {
            ""
        },
        report.points,
        report.path_length,
        params.profile,
        params.rings,
        args.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(0)
}

fn parse_rings(s: &str) -> Result<usize, String> {
    match s {
        "16" | "32" | "64" | "128" => Ok(s.parse().expect("listed values are numbers")),
        _ => Err(format!("'{s}' rings: choose 16, 32, 64 or 128")),
    }
}
