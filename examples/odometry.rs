//! Runs the odometry on a recording with the plain runner and prints the figures.
//!
//! ```text
//! cargo run --release --example odometry -- DATASET [--out DIR] [--velocity joint|alternate|off]
//! ```
//! Writes DIR/trajectory.tum, DIR/trajectory_kitti.txt and DIR/summary.json; when the
//! recording has reference poses, prints ATE and RPE against them.

use clap::Parser;
use lidarflow::eval::errors;
use lidarflow::odometry::runner::run_recording;
use lidarflow::odometry::{OdometryParams, VelocityMode};
use lidarflow::recordings::Recording;
use std::io::Write;
use std::path::PathBuf;

#[derive(Parser)]
struct Args {
    /// KITTI root or folder of scans.
    dataset: PathBuf,
    /// Output folder.
    #[arg(long, default_value = "out/odometry")]
    out: PathBuf,
    /// Velocity estimation.
    #[arg(long, default_value = "joint", value_parser = ["joint", "alternate", "off"])]
    velocity: String,
    /// Residual: point_to_plane or point_to_point.
    #[arg(long, default_value = "point_to_plane")]
    residual: String,
    /// KITTI sequence.
    #[arg(long)]
    sequence: Option<String>,
}

fn main() {
    let args = Args::parse();
    let rec = match Recording::open(&args.dataset, args.sequence.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let params = OdometryParams {
        velocity: match args.velocity.as_str() {
            "alternate" => VelocityMode::Alternate,
            "off" => VelocityMode::Off,
            _ => VelocityMode::Joint,
        },
        residual: serde_json::from_value(serde_json::Value::String(args.residual.clone()))
            .expect("point_to_plane or point_to_point"),
        ..Default::default()
    };
    let out = match run_recording(&rec, &params, &args.out, |_| {}) {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "error: {e} (trajectory so far written to {})",
                args.out.display()
            );
            std::process::exit(1);
        }
    };
    let s = &out.summary;
    // Figures go to stdout; a closed pipe (`| head`) ends the example quietly.
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(
        stdout,
        "{} scans in {:.2} s ({:.1} scans/s); per scan {:.1} ms mean, {:.1} ms p95, {:.1} ms max; stages {:.1}/{:.1}/{:.1} ms; {} keyframes; {} failures; path {:.2} m",
        s.scans, s.wall_seconds, s.scans_per_second, s.per_scan_ms.mean, s.per_scan_ms.p95, s.per_scan_ms.max,
        s.stage_mean_ms[0], s.stage_mean_ms[1], s.stage_mean_ms[2], s.keyframes, s.failures.len(), s.path_length
    );
    if let Some(reference) = rec.reference() {
        let e = errors(reference, &out.trajectory);
        let _ = writeln!(
            stdout,
            "ate {:.4} m  rpe_scan {:.4} m  rpe_scan_deg {:.3}",
            e.ate, e.rpe_scan, e.rpe_scan_deg
        );
    }
}
