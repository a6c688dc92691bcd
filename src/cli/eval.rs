//! `lidarflow eval REFERENCE ESTIMATE [--json FILE] [--plot FILE.png]`: scores a trajectory against a
//! reference. TUM files are paired by time, KITTI files (and a KITTI file against a TUM
//! file) by line.
//!
//! `lidarflow eval RELATIONS ESTIMATE --relations [--max-dt S]`: the 2D SLAM benchmark's
//! metric (Kümmerle et al. 2009) on a file of reference relations (see
//! [`crate::eval::relations`]).

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
    /// Largest stamp difference when pairing TUM poses by time, seconds (default 0.01).
    /// With `--relations`: relations whose two times are at most this far apart count as
    /// local (default 10, the benchmark's local relations).
    #[arg(long)]
    max_dt: Option<f64>,
    /// REFERENCE is a relations file of the 2D SLAM benchmark (`t1 t2 x y z roll pitch
    /// yaw` a line: the pose at t2 in the frame of the pose at t1): report the benchmark's
    /// metric, the estimate's poses matched to the relations' times within 1 ms.
    #[arg(long)]
    relations: bool,
}

/// Stamps of the estimate within this of a relation's time match it, seconds.
const RELATION_TOLERANCE: f64 = 1e-3;

/// Relations drawn on the plot.
const WORST_PLOTTED: usize = 10;

fn run_relations(args: &EvalArgs) -> Result<i32> {
    let relations = crate::eval::relations::read_relations(&args.reference)?;
    let estimate = trajectory::read(&args.estimate)?;
    let max_dt = args.max_dt.unwrap_or(10.0);
    let rep = crate::eval::relations::evaluate(&relations, &estimate, RELATION_TOLERANCE, max_dt);
    if rep.matched == 0 {
        return Err(Error::Invalid(format!(
            "none of the {} relations of {} matched poses of {} within {} s: are the times \
             of the same clock (a CARMEN log's ipc_timestamp)?",
            rep.relations,
            args.reference.display(),
            args.estimate.display(),
            RELATION_TOLERANCE
        )));
    }
    crate::cli::print(&relations_table(&rep));
    if let Some(png) = &args.plot {
        let title = format!(
            "{} on {}",
            args.estimate.display(),
            args.reference.display()
        );
        crate::eval::relations_plot::draw(&estimate, &rep, WORST_PLOTTED, &title, png, 1000)?;
    }
    if let Some(json) = &args.json {
        let text = serde_json::to_string_pretty(&rep).map_err(|e| Error::Invalid(e.to_string()))?;
        atomic::write_bytes(json, text.as_bytes())?;
    }
    Ok(0)
}

fn relations_table(rep: &crate::eval::relations::RelationsReport) -> String {
    use crate::eval::relations::{RelationStats, Spread};
    let cell = |s: &Spread| format!("{:>9.4} ± {:<9.4} max {:<9.4}", s.mean, s.std, s.max);
    let block = |name: &str, st: &RelationStats| {
        format!(
            "{name} ({} relations)\n  translation  {}  m\n  squared      {}  m²\n  \
             rotation     {}  deg\n  squared      {}  deg²\n",
            st.count,
            cell(&st.translation),
            cell(&st.translation_squared),
            cell(&st.rotation_deg),
            cell(&st.rotation_squared_deg2)
        )
    };
    let mut t = format!(
        "{} of {} relations matched (times within {} s); error E = δ_ref⁻¹·δ_est, mean ± std, \
         max (Kümmerle et al. 2009)\n\n",
        rep.matched, rep.relations, rep.tolerance
    );
    t += &block("all", &rep.all);
    t += &block(&format!("local, ≤ {} s apart", rep.max_dt), &rep.local);
    t += &block(&format!("the rest, > {} s apart", rep.max_dt), &rep.rest);
    t
}

pub(crate) fn run(args: EvalArgs) -> Result<i32> {
    if args.relations {
        return run_relations(&args);
    }
    let max_dt = args.max_dt.unwrap_or(0.01);
    let (reference, ref_format) = trajectory::read_with_format(&args.reference)?;
    let (estimate, est_format) = trajectory::read_with_format(&args.estimate)?;
    let by_time = ref_format == Format::Tum && est_format == Format::Tum;
    let (r, e) = if by_time {
        associate(&reference, &estimate, max_dt)
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
                    max_dt
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
