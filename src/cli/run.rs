//! `lidarflow run PIPELINE.yaml --dataset PATH [--set NAME=VALUE]... [--output DIR]`.

use crate::blocks::registry;
use crate::error::{Error, Result};
use crate::pipeline::{self, Vars};
use clap::Args;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The pipeline file.
    pipeline: PathBuf,
    /// The recording: a ROS 1 or ROS 2 bag, an Ouster or Velodyne capture, a CARMEN log, a
    /// KITTI odometry root or a folder of scans (sets `${DATASET}`).
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// Output folder (sets `${OUTPUT_DIR}`).
    #[arg(long, default_value = "out")]
    output: PathBuf,
    /// Sets a pipeline variable, e.g. `--set SEQUENCE=00 --set VOXEL=0.5` (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    set: Vec<(String, String)>,
    /// Where the viewer block sends the run: none, spawn, connect=HOST:PORT or save=FILE.rrd
    /// (sets `${VIZ}`).
    #[arg(long, default_value = "none", value_parser = parse_viz)]
    viz: String,
}

fn parse_viz(s: &str) -> std::result::Result<String, String> {
    s.parse::<crate::viz::VizTarget>().map(|_| s.to_string())
}

pub(crate) fn parse_set(s: &str) -> std::result::Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{s}`: write NAME=VALUE")),
    }
}

pub(crate) fn run(args: RunArgs) -> Result<i32> {
    let mut set: BTreeMap<String, String> = args.set.into_iter().collect();
    if let Some(d) = &args.dataset {
        set.insert("DATASET".into(), d.display().to_string());
    }
    set.insert("OUTPUT_DIR".into(), args.output.display().to_string());
    set.insert("VIZ".into(), args.viz.clone());
    let vars = Vars::with_env(set);
    // The scans to expect, for the progress bar's ETA.
    let total = args.dataset.as_ref().and_then(|d| {
        let given = |name: &str| vars.get(name).filter(|s| !s.is_empty());
        let options = crate::recordings::OpenOptions {
            sequence: given("SEQUENCE"),
            topic: given("TOPIC"),
            ..Default::default()
        };
        crate::recordings::open(d, &options)
            .ok()
            .and_then(|s| s.info().scan_count)
    });
    run_pipeline(
        &args.pipeline,
        &vars,
        &args.output,
        ("odometry", "poses", total),
    )
}

/// Which output to count for the progress display: (block type, port, expected total).
pub(crate) type Watch = (&'static str, &'static str, Option<usize>);

/// Checks and runs the pipeline at `path`; prints the summary the run left in `output`.
/// Exit codes: 0 done, 1 a block failed, 2 the pipeline file is wrong, 130 interrupted.
pub(crate) fn run_pipeline(path: &Path, vars: &Vars, output: &Path, watch: Watch) -> Result<i32> {
    let mut graph = match pipeline::load(path, vars, &registry()) {
        Ok(g) => g,
        Err(diags) => {
            eprint!("{diags}");
            eprintln!(
                "error: {} problem{} in {}; nothing was run",
                diags.items.len(),
                if diags.items.len() == 1 { "" } else { "s" },
                path.display()
            );
            return Ok(2);
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let (stop, interrupted) = (stop.clone(), interrupted.clone());
        // A second Ctrl-C ends the process at once.
        let _ = ctrlc::set_handler(move || {
            if interrupted.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("\ninterrupted: stopping the pipeline and writing what was done (Ctrl-C again to quit now)");
            stop.store(true, Ordering::SeqCst);
        });
    }
    let started = SystemTime::now();
    let progress = graph
        .watch(watch.0, watch.1)
        .map(|counter| super::progress::show(counter, watch.2, "scans"));
    let result = pipeline::run(graph, stop);
    drop(progress);
    // Only a summary this run wrote (a map build writes none beside an older one).
    let summary = output.join("summary.json");
    let fresh = std::fs::metadata(&summary)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= started);
    if fresh {
        if let Ok(text) = std::fs::read_to_string(&summary) {
            crate::cli::print(&summary_line(&text, &summary));
        }
    }
    match result {
        Err(failure) => Err(Error::Invalid(failure.to_string())),
        Ok(()) if interrupted.load(Ordering::SeqCst) => Ok(130),
        Ok(()) => Ok(0),
    }
}

/// The end-of-run table from a summary.json.
fn summary_line(text: &str, path: &Path) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return String::new();
    };
    let f = |k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(f64::NAN)
    };
    let lat = |k: &str| v["per_scan_ms"][k].as_f64().unwrap_or(f64::NAN);
    let failures = v["failures"].as_array().map_or(0, Vec::len);
    let mut rows = vec![
        ("scans", format!("{}", f("scans"))),
        ("wall time", format!("{:.2} s", f("wall_seconds"))),
        ("scans/s", format!("{:.1}", f("scans_per_second"))),
        (
            "per scan",
            format!(
                "{:.1} ms mean, {:.1} ms p95, {:.1} ms max",
                lat("mean"),
                lat("p95"),
                lat("max")
            ),
        ),
        ("keyframes", format!("{}", f("keyframes"))),
        ("path length", format!("{:.2} m", f("path_length") + 0.0)),
        (
            "failures",
            if failures == 0 {
                "0".to_string()
            } else {
                format!("{failures} (see summary.json)")
            },
        ),
    ];
    // Said on stderr when they came, said again where the run's figures are read.
    for w in v["warnings"].as_array().into_iter().flatten() {
        rows.push(("warning", w.as_str().unwrap_or_default().to_string()));
    }
    if let Some(a) = v.get("accuracy").filter(|a| !a.is_null()) {
        let g = |k: &str| a[k].as_f64().unwrap_or(f64::NAN);
        rows.push(("ATE (origin aligned)", format!("{:.4} m", g("ate"))));
        rows.push((
            "RPE per scan",
            format!("{:.4} m, {:.3} deg", g("rpe_scan"), g("rpe_scan_deg")),
        ));
        if g("drift_pct").is_finite() {
            rows.push(("drift", format!("{:.2} %", g("drift_pct"))));
        }
    }
    if let Some(e) = v.get("error").and_then(serde_json::Value::as_str) {
        rows.push(("note", e.to_string()));
    }
    let mut s = String::new();
    for (k, val) in rows {
        s.push_str(&format!("  {k:<22} {val}\n"));
    }
    s.push_str(&format!("  {:<22} {}\n", "summary", path.display()));
    s
}
