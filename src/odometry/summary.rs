//! The `summary.json` of a run: scans, wall time, per-scan latency, keyframes, path length,
//! failures, the values `auto` resolved to and, when the recording has reference poses, the
//! accuracy against them. Built scan by scan, so the plain runner and the pipeline's summary
//! block write the same file.

use super::estimator::{ScanResult, ScanStatus};
use super::params::ResolvedParams;
use crate::eval::{errors, Errors};
use crate::io::trajectory::Trajectory;
use serde::Serialize;

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
    /// What the odometry noticed about the recording, each with the scan it was noticed at.
    pub warnings: Vec<String>,
    /// Measured sensor range and the values `auto` resolved to.
    pub resolved: Option<serde_json::Value>,
    /// Accuracy against the reference poses, when the recording has them.
    pub accuracy: Option<Errors>,
    /// The error that stopped the run early, if any.
    pub error: Option<String>,
}

/// Collects per-scan results into a [`Summary`].
#[derive(Debug, Default)]
pub struct SummaryBuilder {
    totals: Vec<f64>,
    stage_sums: [f64; 3],
    keyframes: usize,
    failures: Vec<Failure>,
    warnings: Vec<String>,
}

impl SummaryBuilder {
    /// Counts one scan's result; a warning is also printed to stderr as it comes, so a
    /// user sees it while the run goes on.
    pub fn add(&mut self, r: &ScanResult) {
        if let Some(w) = &r.warning {
            let w = format!("scan {}: {w}", r.index);
            eprintln!("warning: {w}");
            self.warnings.push(w);
        }
        self.totals.push(r.ms.total);
        self.stage_sums[0] += r.ms.preprocess;
        self.stage_sums[1] += r.ms.registration;
        self.stage_sums[2] += r.ms.map_update;
        self.keyframes += usize::from(r.keyframe);
        if r.status != ScanStatus::Ok {
            self.failures.push(Failure {
                index: r.index,
                status: r.status,
                note: r.note.clone().unwrap_or_default(),
            });
        }
    }

    /// The summary of a run that took `wall_seconds` and estimated `trajectory`.
    pub fn finish(
        self,
        wall_seconds: f64,
        resolved: Option<&ResolvedParams>,
        reference: Option<&Trajectory>,
        trajectory: &Trajectory,
        error: Option<String>,
    ) -> Summary {
        let scans = self.totals.len();
        let mean = |sum: f64| if scans == 0 { 0.0 } else { sum / scans as f64 };
        Summary {
            scans,
            wall_seconds,
            scans_per_second: if wall_seconds > 0.0 {
                scans as f64 / wall_seconds
            } else {
                0.0
            },
            per_scan_ms: Latency::of(&self.totals),
            stage_mean_ms: self.stage_sums.map(mean),
            keyframes: self.keyframes,
            path_length: trajectory.path_length(),
            failures: self.failures,
            warnings: self.warnings,
            resolved: resolved.map(|r| {
                serde_json::json!({
                    "sensor_range": r.sensor_range, "max_range": r.max_range, "min_range": r.min_range,
                    "voxel_size": r.voxel_size, "initial_sigma": r.initial_sigma, "min_motion": r.min_motion,
                })
            }),
            accuracy: reference
                .filter(|r| !r.is_empty() && !trajectory.is_empty())
                .map(|r| errors(r, trajectory)),
            error,
        }
    }
}
