//! Trajectory error metrics against a reference, pose by pose (same count, same order).

pub mod align;
pub mod plot;
pub mod relations;
pub mod relations_plot;
pub mod report;

use crate::io::trajectory::Trajectory;
use nalgebra::Isometry3;

/// Errors of an estimate against a reference.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Errors {
    /// RMSE of positions after aligning the first poses, metres.
    pub ate: f64,
    /// RMSE of the translation error of consecutive relative poses, metres.
    pub rpe_scan: f64,
    /// RMSE of the rotation error of consecutive relative poses, degrees.
    pub rpe_scan_deg: f64,
    /// KITTI-style drift: mean translation error over path segments of 100..800 m (10..80 m
    /// when the path is shorter than 900 m), percent of the segment length. `NaN` when the
    /// path is too short for any segment.
    pub drift_pct: f64,
}

/// Compares `estimate` to `reference` over their common prefix.
pub fn errors(reference: &Trajectory, estimate: &Trajectory) -> Errors {
    let n = reference.len().min(estimate.len());
    if n == 0 {
        return Errors {
            ate: 0.0,
            rpe_scan: 0.0,
            rpe_scan_deg: 0.0,
            drift_pct: f64::NAN,
        };
    }
    // The RMSEs of the full report; a single pose has no relative pose, hence no error.
    let r = report::report(reference, estimate);
    let relative = |v: f64| if n < 2 { 0.0 } else { v };
    Errors {
        ate: r.ate_origin.rmse,
        rpe_scan: relative(r.rpe_translation.rmse),
        rpe_scan_deg: relative(r.rpe_rotation_deg.rmse),
        drift_pct: r.drift_pct,
    }
}

/// KITTI-style segment drift in percent (see [`Errors::drift_pct`]).
pub fn drift(reference: &[Isometry3<f64>], estimate: &[Isometry3<f64>]) -> f64 {
    drift_with_segments(reference, estimate).0
}

/// KITTI-style segment drift in percent, and the segment lengths it used (100..800 m, or
/// 10..80 m when the path is shorter than 900 m).
pub fn drift_with_segments(
    reference: &[Isometry3<f64>],
    estimate: &[Isometry3<f64>],
) -> (f64, Vec<f64>) {
    let mut dist = vec![0.0];
    for w in reference.windows(2) {
        let step = (w[1].translation.vector - w[0].translation.vector).norm();
        dist.push(dist[dist.len() - 1] + step);
    }
    let total = *dist.last().unwrap_or(&0.0);
    let segments: Vec<f64> = if total > 900.0 {
        (1..=8).map(|k| 100.0 * k as f64).collect()
    } else {
        (1..=8).map(|k| 10.0 * k as f64).collect()
    };
    let (mut sum, mut count) = (0.0, 0usize);
    for i in 0..reference.len().min(estimate.len()) {
        for &length in &segments {
            let j = dist.partition_point(|&d| d < dist[i] + length);
            if j >= reference.len().min(estimate.len()) {
                continue;
            }
            let dr = reference[i].inverse() * reference[j];
            let de = estimate[i].inverse() * estimate[j];
            sum += (dr.inverse() * de).translation.vector.norm() / length;
            count += 1;
        }
    }
    let pct = if count == 0 {
        f64::NAN
    } else {
        100.0 * sum / count as f64
    };
    (pct, segments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::pose_from_xyz_rpy;

    #[test]
    fn identical_and_offset_trajectories() {
        let mut a = Trajectory::default();
        let mut b = Trajectory::default();
        for i in 0..10 {
            let p = pose_from_xyz_rpy(i as f64, 0.0, 0.0, 0.0, 0.0, 0.1 * i as f64);
            a.push(i as f64, p);
            b.push(
                i as f64,
                pose_from_xyz_rpy(5.0, 5.0, 0.0, 0.0, 0.0, 1.0) * p,
            );
        }
        let e = errors(&a, &b);
        assert!(e.ate < 1e-9 && e.rpe_scan < 1e-9, "{e:?}");
        b.poses[5] *= pose_from_xyz_rpy(0.3, 0.0, 0.0, 0.0, 0.0, 0.0);
        let e = errors(&a, &b);
        assert!(e.rpe_scan > 0.1 && e.ate > 0.05, "{e:?}");
    }
}
