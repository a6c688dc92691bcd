//! The plain runner: a recording through the odometry, one scan after another, writing
//! `trajectory.tum`, `trajectory_kitti.txt` and `summary.json` into an output folder. When a
//! scan cannot be read, or time goes backwards, the trajectory so far is still written and
//! the error names the scan's file.

use super::estimator::{Odometry, ScanResult};
use super::params::OdometryParams;
use super::summary::{Summary, SummaryBuilder};
use crate::error::{Error, Result};
use crate::io::atomic;
use crate::io::trajectory::{self, Trajectory};
use crate::recordings::Recording;
use std::path::Path;
use std::time::Instant;

/// Scans read ahead of the one being processed.
const READ_AHEAD: usize = 1;

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
    let mut summary = SummaryBuilder::default();
    let mut error = None;
    // The next scan is read on a second thread while this one is processed: reading and
    // decoding a scan is serial work that the odometry's parallel parts leave room for.
    std::thread::scope(|s| {
        let (tx, rx) = crossbeam_channel::bounded(READ_AHEAD);
        s.spawn(move || {
            for i in 0..recording.len() {
                let scan = recording.read(i);
                let failed = scan.is_err();
                if tx.send((i, scan)).is_err() || failed {
                    break;
                }
            }
        });
        for (i, scan) in rx {
            let step = scan.and_then(|scan| {
                odometry
                    .process(&scan.cloud)
                    .map_err(|e| Error::format(recording.scan_path(i), e.to_string()))
            });
            match step {
                Ok(r) => {
                    trajectory.push(r.stamp, r.pose);
                    summary.add(&r);
                    progress(&r);
                    scans.push(r);
                }
                Err(e) => {
                    error = Some(e);
                    // Dropping the receiver stops the reader at its next scan.
                    break;
                }
            }
        }
    });
    let summary = summary.finish(
        start.elapsed().as_secs_f64(),
        odometry.resolved(),
        recording.reference(),
        &trajectory,
        error.as_ref().map(|e| e.to_string()),
    );
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
