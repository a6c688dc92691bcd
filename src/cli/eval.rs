//! `lidarflow eval REFERENCE ESTIMATE [--json FILE] [--plot FILE.png]`: scores a trajectory against a
//! reference. TUM files are paired by time, KITTI files (and a KITTI file against a TUM
//! file) by line.

use crate::error::{Error, Result};
use crate::eval::report::{associate, report, Report, Stats};
use crate::io::atomic;
use crate::io::trajectory::{self, Format};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// Reference trajectory (TUM or KITTI).
    reference: PathBuf,
    /// Estimated trajectory (TUM or KITTI).
    estimate: PathBuf,
    /// Also write the figures as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also draw a PNG: top view of both trajectories and the error along the path.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Largest stamp difference when pairing TUM poses by time, seconds.
    #[arg(long, default_value_t = 0.01)]
    max_dt: f64,
}

pub(crate) fn run(args: EvalArgs) -> Result<i32> {
    let (reference, ref_format) = trajectory::read_with_format(&args.reference)?;
    let (estimate, est_format) = trajectory::read_with_format(&args.estimate)?;
    let by_time = ref_format == Format::Tum && est_format == Format::Tum;
    let (r, e) = if by_time {
        associate(&reference, &estimate, args.max_dt)
    } else {
        let n = reference.len().min(estimate.len());
        if reference.len() != estimate.len() {
            eprintln!(
                "warning: {} reference poses and {} estimated poses: comparing the first {n}",
                reference.len(),
                estimate.len()
            );
        }
        let mut r = reference.clone();
        let mut e = estimate.clone();
        r.poses.truncate(n);
        r.stamps.truncate(n);
        e.poses.truncate(n);
        e.stamps.truncate(n);
        (r, e)
    };
    if r.len() < 2 {
        return Err(Error::Invalid(format!(
            "only {} pose pairs between {} and {}{}",
            r.len(),
            args.reference.display(),
            args.estimate.display(),
            if by_time {
                format!(
                    " (paired by time within {} s: are the stamps of the same clock?)",
                    args.max_dt
                )
            } else {
                String::new()
            }
        )));
    }
    let rep = report(&r, &e);
    crate::cli::print(&table(&rep, by_time));
    if let Some(png) = &args.plot {
        let title = format!(
            "{} vs {}",
            args.estimate.display(),
            args.reference.display()
        );
        crate::eval::plot::draw(&rep, &title, png, 1400, 700)?;
    }
    if let Some(json) = &args.json {
        let text = serde_json::to_string_pretty(&rep).map_err(|e| Error::Invalid(e.to_string()))?;
        atomic::write_bytes(json, text.as_bytes())?;
    }
    Ok(0)
}

fn table(rep: &Report, by_time: bool) -> String {
    let row = |name: &str, unit: &str, s: &Stats| {
        format!(
            "{name:<24} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4}  {unit}\n",
            s.rmse, s.mean, s.median, s.std, s.min, s.max
        )
    };
    let mut t = format!(
        "{} pose pairs ({}), reference path {:.2} m\n\n{:<24} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
        rep.pairs,
        if by_time { "paired by time" } else { "paired by line" },
        rep.path_length,
        "",
        "rmse",
        "mean",
        "median",
        "std",
        "min",
        "max"
    );
    t += &row("ATE, origin aligned", "m", &rep.ate_origin);
    t += &row("ATE, SE(3) aligned", "m", &rep.ate_se3);
    t += &row("RPE per scan, transl.", "m", &rep.rpe_translation);
    t += &row("RPE per scan, rotation", "deg", &rep.rpe_rotation_deg);
    let segs = rep
        .drift_segments
        .first()
        .zip(rep.drift_segments.last())
        .map_or(String::new(), |(a, b)| format!("{a:.0}-{b:.0} m segments"));
    t += &format!("\ndrift {:.3} % ({segs})\n", rep.drift_pct);
    t
}
