//! The figures of `lidarflow eval`: absolute trajectory error with origin and SE(3)
//! alignment, relative pose error per scan, KITTI-style drift, each with its statistics.
//! Computed as evo computes them (`evo_ape --align_origin`, `evo_ape -a`, `evo_rpe
//! --delta 1 --delta_unit f`), so the figures agree with it.

use super::align;
use crate::io::trajectory::Trajectory;
use nalgebra::{Isometry3, Point3};
use serde::Serialize;

/// Statistics of a list of errors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stats {
    /// Root mean square.
    pub rmse: f64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub median: f64,
    /// Standard deviation (population).
    pub std: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl Stats {
    /// Statistics of `v` (NaN everywhere when empty).
    pub fn of(v: &[f64]) -> Stats {
        if v.is_empty() {
            return Stats {
                rmse: f64::NAN,
                mean: f64::NAN,
                median: f64::NAN,
                std: f64::NAN,
                min: f64::NAN,
                max: f64::NAN,
            };
        }
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let mut sorted = v.to_vec();
        sorted.sort_by(f64::total_cmp);
        let median = if sorted.len() % 2 == 1 {
            sorted[sorted.len() / 2]
        } else {
            0.5 * (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2])
        };
        Stats {
            rmse: (v.iter().map(|x| x * x).sum::<f64>() / n).sqrt(),
            mean,
            median,
            std: (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt(),
            min: sorted[0],
            max: sorted[sorted.len() - 1],
        }
    }
}

/// Everything `lidarflow eval` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Pose pairs compared.
    pub pairs: usize,
    /// Length of the reference path over the pairs, metres.
    pub path_length: f64,
    /// Position errors after moving the estimate's first pose onto the reference's, metres.
    pub ate_origin: Stats,
    /// Position errors after the best rigid alignment of all positions, metres.
    pub ate_se3: Stats,
    /// Translation error of consecutive relative poses, metres.
    pub rpe_translation: Stats,
    /// Rotation error of consecutive relative poses, degrees.
    pub rpe_rotation_deg: Stats,
    /// KITTI-style drift: mean translation error over segments, percent of their length.
    pub drift_pct: f64,
    /// The segment lengths used for the drift, metres.
    pub drift_segments: Vec<f64>,
    /// Per pair: distance along the reference path and the origin-aligned position error,
    /// for plots.
    #[serde(skip)]
    pub along_path: Vec<(f64, f64)>,
    /// Per pair: reference and origin-aligned estimate positions (x, y), for plots.
    #[serde(skip)]
    pub top_view: Vec<([f64; 2], [f64; 2])>,
}

fn position_errors(
    reference: &[Isometry3<f64>],
    estimate: &[Isometry3<f64>],
    t: &Isometry3<f64>,
) -> Vec<f64> {
    reference
        .iter()
        .zip(estimate)
        .map(|(r, e)| ((t * e).translation.vector - r.translation.vector).norm())
        .collect()
}

/// Compares paired poses (same count, same order).
pub fn report(reference: &Trajectory, estimate: &Trajectory) -> Report {
    let n = reference.len().min(estimate.len());
    let (r, e) = (&reference.poses[..n], &estimate.poses[..n]);
    let origin = if n > 0 {
        align::origin(&r[0], &e[0])
    } else {
        Isometry3::identity()
    };
    let rp: Vec<Point3<f64>> = r
        .iter()
        .map(|p| Point3::from(p.translation.vector))
        .collect();
    let ep: Vec<Point3<f64>> = e
        .iter()
        .map(|p| Point3::from(p.translation.vector))
        .collect();
    let se3 = align::umeyama(&rp, &ep);
    let ate_origin = position_errors(r, e, &origin);
    let (mut rpe_t, mut rpe_r) = (Vec::new(), Vec::new());
    for i in 1..n {
        let dr = r[i - 1].inverse() * r[i];
        let de = e[i - 1].inverse() * e[i];
        let err = dr.inverse() * de;
        rpe_t.push(err.translation.vector.norm());
        rpe_r.push(err.rotation.angle().to_degrees());
    }
    let mut along = Vec::with_capacity(n);
    let mut dist = 0.0;
    for i in 0..n {
        if i > 0 {
            dist += (rp[i] - rp[i - 1]).norm();
        }
        along.push((dist, ate_origin[i]));
    }
    let (drift_pct, drift_segments) = super::drift_with_segments(r, e);
    let top_view = r
        .iter()
        .zip(e)
        .map(|(r, e)| {
            let a = (origin * e).translation.vector;
            let b = r.translation.vector;
            ([b.x, b.y], [a.x, a.y])
        })
        .collect();
    Report {
        pairs: n,
        path_length: dist,
        ate_origin: Stats::of(&ate_origin),
        ate_se3: Stats::of(&position_errors(r, e, &se3)),
        rpe_translation: Stats::of(&rpe_t),
        rpe_rotation_deg: Stats::of(&rpe_r),
        drift_pct,
        drift_segments,
        along_path: along,
        top_view,
    }
}

/// Pairs poses by time: each estimate pose with the reference pose nearest in time, when
/// within `max_dt` seconds, each reference pose used once (as evo's `associate`).
pub fn associate(
    reference: &Trajectory,
    estimate: &Trajectory,
    max_dt: f64,
) -> (Trajectory, Trajectory) {
    let mut used = vec![false; reference.len()];
    let (mut r, mut e) = (Trajectory::default(), Trajectory::default());
    for (t, pose) in estimate.stamps.iter().zip(&estimate.poses) {
        let k = reference.stamps.partition_point(|s| s < t);
        let best = [k.checked_sub(1), (k < reference.len()).then_some(k)]
            .into_iter()
            .flatten()
            .min_by(|&a, &b| {
                (reference.stamps[a] - t)
                    .abs()
                    .total_cmp(&(reference.stamps[b] - t).abs())
            });
        if let Some(j) = best {
            if (reference.stamps[j] - t).abs() <= max_dt && !used[j] {
                used[j] = true;
                r.push(reference.stamps[j], reference.poses[j]);
                e.push(*t, *pose);
            }
        }
    }
    (r, e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::pose_from_xyz_rpy;

    #[test]
    fn stats_and_association() {
        let s = Stats::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!((s.mean, s.median, s.min, s.max), (2.5, 2.5, 1.0, 4.0));
        assert!((s.rmse - 7.5f64.sqrt()).abs() < 1e-12);
        let mut a = Trajectory::default();
        let mut b = Trajectory::default();
        for i in 0..10 {
            a.push(
                i as f64 * 0.1,
                pose_from_xyz_rpy(i as f64, 0.0, 0.0, 0.0, 0.0, 0.0),
            );
            if i % 2 == 0 {
                b.push(
                    i as f64 * 0.1 + 0.004,
                    pose_from_xyz_rpy(i as f64 + 0.5, 0.0, 0.0, 0.0, 0.0, 0.0),
                );
            }
        }
        b.push(5.0, Isometry3::identity()); // no reference near t = 5 s
        let (r, e) = associate(&a, &b, 0.01);
        assert_eq!((r.len(), e.len()), (5, 5));
        let rep = report(&r, &e);
        // A constant offset: zero after either alignment, zero RPE.
        assert!(
            rep.ate_origin.max < 1e-9 && rep.ate_se3.max < 1e-9 && rep.rpe_translation.max < 1e-9
        );
        assert_eq!(rep.pairs, 5);
    }
}
