//! The plain runner: a recording through the odometry, one scan after another, writing
//! `trajectory.tum`, `trajectory_kitti.txt` and `summary.json` into an output folder. When a
//! scan cannot be read, or time goes backwards, the trajectory so far is still written and
//! the error names the scan's file.

use super::estimator::{Odometry, ScanResult, ScanStatus};
use super::params::OdometryParams;
use crate::datasets::Recording;
use crate::error::{Error, Result};
use crate::io::atomic;
use crate::io::trajectory::{self, Trajectory};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

/// Per-scan milliseconds: mean, 95th percentile, maximum.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct Latency {
    /// Mean.
    pub mean: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Maximum.
    pub max: f64,
}

impl Latency {
    /// Figures of `values` (zeros when empty).
    pub fn of(values: &[f64]) -> Latency {
        if values.is_empty() {
            return Latency::default();
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        Latency {
            mean: v.iter().sum::<f64>() / v.len() as f64,
            p95: v[((v.len() - 1) as f64 * 0.95).round() as usize],
            max: v[v.len() - 1],
        }
    }
}

/// A scan that was skipped or judged bad.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// Scan index.
    pub index: usize,
    /// Skipped or bad.
    pub status: ScanStatus,
    /// Why.
    pub note: String,
}

/// The `summary.json` of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Scans processed.
    pub scans: usize,
    /// Wall time of the whole run (reading included), seconds.
    pub wall_seconds: f64,
    /// Scans per second of wall time.
    pub scans_per_second: f64,
    /// Per-scan odometry milliseconds (reading excluded).
    pub per_scan_ms: Latency,
    /// Per-stage mean milliseconds: preprocess, registration, map update.
    pub stage_mean_ms: [f64; 3],
    /// Scans inserted in the local map.
    pub keyframes: usize,
    /// Length of the estimated path, metres.
    pub path_length: f64,
    /// Scans skipped or judged bad.
    pub failures: Vec<Failure>,
    /// Measured sensor range and the values `auto` resolved to.
    pub resolved: Option<serde_json::Value>,
    /// The error that stopped the run early, if any.
    pub error: Option<String>,
}

/// What a run produced.
#[derive(Debug)]
pub struct RunOutput {
    /// The estimated trajectory, one pose per scan processed.
    pub trajectory: Trajectory,
    /// Per-scan results.
    pub scans: Vec<ScanResult>,
    /// The summary written to `summary.json`.
    pub summary: Summary,
}

/// Runs `recording` through odometry with `params`, writing into `out` (created if needed).
/// `progress` is called after every scan.
pub fn run_recording(
    recording: &Recording,
    params: &OdometryParams,
    out: &Path,
    mut progress: impl FnMut(&ScanResult),
) -> Result<RunOutput> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let start = Instant::now();
    let mut odometry = Odometry::new(params.clone());
    let mut trajectory = Trajectory::default();
    let mut scans = Vec::with_capacity(recording.len());
    let mut error = None;
    for i in 0..recording.len() {
        let step = recording.read(i).and_then(|scan| {
            odometry
                .process(&scan.cloud)
                .map_err(|e| Error::format(recording.scan_path(i), e.to_string()))
        });
        match step {
            Ok(r) => {
                trajectory.push(r.stamp, r.pose);
                progress(&r);
                scans.push(r);
            }
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let totals: Vec<f64> = scans.iter().map(|s| s.ms.total).collect();
    let mean = |f: fn(&ScanResult) -> f64| {
        if scans.is_empty() {
            0.0
        } else {
            scans.iter().map(f).sum::<f64>() / scans.len() as f64
        }
    };
    let summary = Summary {
        scans: scans.len(),
        wall_seconds: wall,
        scans_per_second: if wall > 0.0 { scans.len() as f64 / wall } else { 0.0 },
        per_scan_ms: Latency::of(&totals),
        stage_mean_ms: [mean(|s| s.ms.preprocess), mean(|s| s.ms.registration), mean(|s| s.ms.map_update)],
        keyframes: scans.iter().filter(|s| s.keyframe).count(),
        path_length: trajectory.path_length(),
        failures: scans
            .iter()
            .filter(|s| s.status != ScanStatus::Ok)
            .map(|s| Failure {
                index: s.index,
                status: s.status,
                note: s.note.clone().unwrap_or_default(),
            })
            .collect(),
        resolved: odometry.resolved().map(|r| {
            serde_json::json!({
                "sensor_range": r.sensor_range, "max_range": r.max_range, "min_range": r.min_range,
                "voxel_size": r.voxel_size, "initial_sigma": r.initial_sigma, "min_motion": r.min_motion,
            })
        }),
        error: error.as_ref().map(|e| e.to_string()),
    };
    write_outputs(out, &trajectory, &summary)?;
    if let Some(e) = error {
        return Err(e);
    }
    Ok(RunOutput {
        trajectory,
        scans,
        summary,
    })
}

/// Writes the trajectory files and the summary (each atomically).
pub fn write_outputs(out: &Path, trajectory: &Trajectory, summary: &Summary) -> Result<()> {
    trajectory::write_tum(&out.join("trajectory.tum"), trajectory)?;
    trajectory::write_kitti(&out.join("trajectory_kitti.txt"), trajectory)?;
    let json = serde_json::to_string_pretty(summary).map_err(|e| Error::Invalid(e.to_string()))?;
    atomic::write_bytes(&out.join("summary.json"), json.as_bytes())
}
