//! The metric of the 2D SLAM benchmark (Kümmerle, Steder, Dornhege, Ruhnke, Grisetti,
//! Stachniss and Kleiner, "On measuring the accuracy of SLAM algorithms", Autonomous Robots
//! 27, 2009), as the paper defines it: the error of an estimate is measured on relative
//! poses between pairs of scans, not on a global frame.
//!
//! Each reference relation `t1 t2 x y z roll pitch yaw` is `δ* = T(t1)⁻¹ T(t2)`, the pose
//! at `t2` in the frame of the pose at `t1` (metres, radians). The estimate's relation `δ`
//! is formed from its own poses at those times (each matched to the estimate's nearest stamp
//! within a tolerance, 1 ms by default; a relation with either time unmatched is left out
//! and counted). The error of a relation is `E = δ*⁻¹ · δ` (the paper's `δ ⊖ δ*`); its
//! translational part is `‖trans(E)‖` (metres) and its rotational part `|rot(E)|`, the angle
//! of `E`'s rotation (degrees). As the paper's tables, each is reported absolute and
//! squared, each as mean, standard deviation and maximum, over all matched relations and
//! split into local relations (`t2 − t1` at most `--max-dt` seconds apart) and the rest.
//! The paper's ε is the mean of the squared translational plus squared rotational error.
//! Standard deviations are the population's (divided by N).

use crate::error::{Error, Result};
use crate::geometry::pose_from_xyz_rpy;
use crate::io::trajectory::Trajectory;
use nalgebra::Isometry3;
use serde::Serialize;
use std::path::Path;

/// One reference relation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Relation {
    /// Time of the first pose, seconds.
    pub t1: f64,
    /// Time of the second pose, seconds.
    pub t2: f64,
    /// The pose at `t2` in the frame of the pose at `t1`.
    pub delta: Isometry3<f64>,
}

/// Reads a relations file: one relation a line, `t1 t2 x y z roll pitch yaw` (seconds,
/// metres, radians); blank lines and `#` comments skipped.
pub fn read_relations(path: &Path) -> Result<Vec<Relation>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_relations(path, &text)
}

/// Parses the text of a relations file (see [`read_relations`]); `path` names it in errors.
pub fn parse_relations(path: &Path, text: &str) -> Result<Vec<Relation>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let v: Vec<f64> = line
            .split_whitespace()
            .map(|w| w.parse::<f64>().ok().filter(|v| v.is_finite()))
            .collect::<Option<_>>()
            .ok_or_else(|| Error::line(path, i + 1, "a field is not a finite number"))?;
        let [t1, t2, x, y, z, roll, pitch, yaw] = v[..] else {
            return Err(Error::line(
                path,
                i + 1,
                format!("{} fields, expected 8: t1 t2 x y z roll pitch yaw", v.len()),
            ));
        };
        out.push(Relation {
            t1,
            t2,
            delta: pose_from_xyz_rpy(x, y, z, roll, pitch, yaw),
        });
    }
    if out.is_empty() {
        return Err(Error::format(path, "no relations in this file"));
    }
    Ok(out)
}

/// The error of one matched relation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RelationError {
    /// Time of the first pose, seconds.
    pub t1: f64,
    /// Time of the second pose, seconds.
    pub t2: f64,
    /// Index of the estimate's pose matched to `t1`.
    pub i1: usize,
    /// Index of the estimate's pose matched to `t2`.
    pub i2: usize,
    /// `‖trans(E)‖`, metres.
    pub translation: f64,
    /// `|rot(E)|`, degrees.
    pub rotation_deg: f64,
}

/// Mean, standard deviation (population) and maximum of some values.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Spread {
    /// Mean.
    pub mean: f64,
    /// Standard deviation (divided by N).
    pub std: f64,
    /// Largest value.
    pub max: f64,
}

impl Spread {
    /// The spread of `v` (zeros when empty).
    pub fn of(v: impl Iterator<Item = f64> + Clone) -> Spread {
        let (n, sum, max) = v.clone().fold((0usize, 0.0, 0.0f64), |(n, s, m), x| {
            (n + 1, s + x, m.max(x))
        });
        if n == 0 {
            return Spread::default();
        }
        let mean = sum / n as f64;
        let var = v.map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        Spread {
            mean,
            std: var.sqrt(),
            max,
        }
    }
}

/// The paper's four figures over a set of relations.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct RelationStats {
    /// Relations in the set.
    pub count: usize,
    /// Absolute translational error, metres.
    pub translation: Spread,
    /// Squared translational error, m².
    pub translation_squared: Spread,
    /// Absolute rotational error, degrees.
    pub rotation_deg: Spread,
    /// Squared rotational error, deg².
    pub rotation_squared_deg2: Spread,
}

impl RelationStats {
    /// The figures over `errors`.
    pub fn of<'a>(errors: impl Iterator<Item = &'a RelationError> + Clone) -> RelationStats {
        RelationStats {
            count: errors.clone().count(),
            translation: Spread::of(errors.clone().map(|e| e.translation)),
            translation_squared: Spread::of(errors.clone().map(|e| e.translation.powi(2))),
            rotation_deg: Spread::of(errors.clone().map(|e| e.rotation_deg)),
            rotation_squared_deg2: Spread::of(errors.map(|e| e.rotation_deg.powi(2))),
        }
    }
}

/// The metric over a whole relations file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RelationsReport {
    /// Relations in the file.
    pub relations: usize,
    /// Relations whose two times both matched an estimated pose.
    pub matched: usize,
    /// Largest stamp difference accepted when matching a time, seconds.
    pub tolerance: f64,
    /// Relations at most this far apart in time count as local, seconds.
    pub max_dt: f64,
    /// Over every matched relation.
    pub all: RelationStats,
    /// Over the local relations (`t2 − t1` ≤ `max_dt`).
    pub local: RelationStats,
    /// Over the others.
    pub rest: RelationStats,
    /// Every matched relation's error, in the file's order.
    pub errors: Vec<RelationError>,
}

/// The index of the pose whose stamp is nearest `t` within `tolerance`, in `order` (indices
/// of `stamps` sorted by stamp).
fn nearest(stamps: &[f64], order: &[usize], t: f64, tolerance: f64) -> Option<usize> {
    let k = order.partition_point(|&i| stamps[i] < t);
    [k.checked_sub(1), Some(k)]
        .into_iter()
        .flatten()
        .filter_map(|k| order.get(k).copied())
        .map(|i| (i, (stamps[i] - t).abs()))
        .filter(|(_, d)| *d <= tolerance)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// Scores `estimate` on `relations` (see the module's documentation): times matched within
/// `tolerance` seconds, relations at most `max_dt` seconds long counted as local. The
/// estimate's stamps need not be sorted (some logs' times go backwards).
pub fn evaluate(
    relations: &[Relation],
    estimate: &Trajectory,
    tolerance: f64,
    max_dt: f64,
) -> RelationsReport {
    let stamps = &estimate.stamps;
    let mut order: Vec<usize> = (0..stamps.len().min(estimate.poses.len())).collect();
    order.sort_by(|&a, &b| stamps[a].total_cmp(&stamps[b]));
    let mut errors = Vec::with_capacity(relations.len());
    for r in relations {
        let (Some(i1), Some(i2)) = (
            nearest(stamps, &order, r.t1, tolerance),
            nearest(stamps, &order, r.t2, tolerance),
        ) else {
            continue;
        };
        let delta = estimate.poses[i1].inverse() * estimate.poses[i2];
        let e = r.delta.inverse() * delta;
        errors.push(RelationError {
            t1: r.t1,
            t2: r.t2,
            i1,
            i2,
            translation: e.translation.vector.norm(),
            rotation_deg: e.rotation.angle().to_degrees(),
        });
    }
    let is_local = |e: &&RelationError| (e.t2 - e.t1).abs() <= max_dt;
    RelationsReport {
        relations: relations.len(),
        matched: errors.len(),
        tolerance,
        max_dt,
        all: RelationStats::of(errors.iter()),
        local: RelationStats::of(errors.iter().filter(is_local)),
        rest: RelationStats::of(errors.iter().filter(|e| !is_local(e))),
        errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planar(x: f64, y: f64, yaw_deg: f64) -> Isometry3<f64> {
        pose_from_xyz_rpy(x, y, 0.0, 0.0, 0.0, yaw_deg.to_radians())
    }

    #[test]
    fn spread_is_the_population_one() {
        let s = Spread::of([1.0, 3.0].into_iter());
        assert_eq!((s.mean, s.std, s.max), (2.0, 1.0, 3.0));
        assert_eq!(Spread::of(std::iter::empty()), Spread::default());
    }

    #[test]
    fn a_relation_error_by_hand() {
        // Estimate: at t=0 the origin, at t=1 (1, 0) turned 90°.
        let mut est = Trajectory::default();
        est.push(0.0, planar(0.0, 0.0, 0.0));
        est.push(1.0, planar(1.0, 0.0, 90.0));
        // Reference: (1, 0.1) turned 80°. E = δ*⁻¹ δ: rotation 10°, translation
        // R(−80°)·((1, 0) − (1, 0.1)) = R(−80°)·(0, −0.1), of length 0.1.
        let rel = [Relation {
            t1: 0.0005,
            t2: 0.9995,
            delta: planar(1.0, 0.1, 80.0),
        }];
        let r = evaluate(&rel, &est, 1e-3, 10.0);
        assert_eq!(r.matched, 1);
        let e = r.errors[0];
        assert!((e.translation - 0.1).abs() < 1e-12, "{e:?}");
        assert!((e.rotation_deg - 10.0).abs() < 1e-9, "{e:?}");
        assert!((r.all.rotation_squared_deg2.mean - 100.0).abs() < 1e-6);
        assert_eq!(r.local.count, 1);
        assert_eq!(r.rest.count, 0);
    }

    #[test]
    fn unmatched_times_and_the_local_split() {
        let mut est = Trajectory::default();
        // Stamps out of order, as logs whose time goes backwards give them.
        est.push(20.0, planar(2.0, 0.0, 0.0));
        est.push(0.0, planar(0.0, 0.0, 0.0));
        est.push(5.0, planar(1.0, 0.0, 0.0));
        let rel = [
            Relation {
                t1: 0.0,
                t2: 5.0,
                delta: planar(1.0, 0.0, 0.0),
            },
            Relation {
                t1: 0.0,
                t2: 20.0,
                delta: planar(2.5, 0.0, 0.0),
            },
            Relation {
                t1: 0.0,
                t2: 5.002,
                delta: planar(1.0, 0.0, 0.0),
            },
        ];
        let r = evaluate(&rel, &est, 1e-3, 10.0);
        assert_eq!((r.relations, r.matched), (3, 2));
        assert_eq!((r.local.count, r.rest.count), (1, 1));
        assert!(r.local.translation.max < 1e-12);
        assert!((r.rest.translation.mean - 0.5).abs() < 1e-12);
        assert!((r.all.translation.mean - 0.25).abs() < 1e-12);
        assert!((r.all.translation.std - 0.25).abs() < 1e-12);
        assert!((r.all.translation_squared.mean - 0.125).abs() < 1e-12);
    }

    #[test]
    fn relations_files_parse_and_name_bad_lines() {
        let p = Path::new("x.relations");
        let r = parse_relations(p, "# c\n1 2 0.5 0 0 0 0 0.1\n\n").unwrap();
        assert_eq!(r.len(), 1);
        assert!((r[0].delta.rotation.angle() - 0.1).abs() < 1e-12);
        let e = parse_relations(p, "1 2 0.5 0 0 0 0\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("x.relations") && e.contains('1') && e.contains("8"),
            "{e}"
        );
        let e = parse_relations(p, "1 2 a 0 0 0 0 0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a finite number"), "{e}");
        assert!(parse_relations(p, "# nothing\n").is_err());
    }
}
