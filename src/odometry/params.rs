//! The odometry's one configuration. Every `auto` value follows the measured sensor range
//! `R` (99th percentile of the first scan's point distances) by the rule written beside it,
//! so the same defaults serve 16- to 128-ring sensors, cars and hand-held rigs.

use super::auto::Auto;
use serde::{Deserialize, Serialize};

/// How the twist (linear and angular velocity) is estimated.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum VelocityMode {
    /// Pose and twist in one 12-DOF Gauss-Newton: each residual de-skews its point with the
    /// current twist at the point's own time.
    #[default]
    Joint,
    /// MOLA's alternation: de-skew with the last twist, 6-DOF ICP, re-estimate the twist
    /// from the pose change, repeat.
    Alternate,
    /// No de-skew; the twist only serves the motion prediction.
    Off,
}

/// Residual type.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ResidualKind {
    /// Point-to-plane where the map voxel is planar, point-to-point elsewhere.
    #[default]
    PointToPlane,
    /// Point-to-point everywhere (KISS-ICP).
    PointToPoint,
}

/// Robust kernel applied to residuals.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Kernel {
    /// Geman-McClure: weight `k² / (k + r²)²` with scale `k` (KISS-ICP's choice).
    #[default]
    GemanMcclure,
    /// Cauchy: weight `1 / (1 + r²/k²)`.
    Cauchy,
}

/// Odometry parameters. Defaults run every dataset unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct OdometryParams {
    /// Farthest range used, metres. auto: `R`.
    pub max_range: Auto,
    /// Closest range used, metres. auto: `max(0.5, 0.02 R)` (drops the platform).
    pub min_range: Auto,
    /// Voxel edge of the local map, metres. auto: `R / 100` (KISS-ICP's rule on its
    /// default range, here on the measured one), at least 0.05.
    pub voxel_size: Auto,
    /// Points kept per map voxel.
    pub max_points_per_voxel: usize,
    /// Voxel edge of the registration source, as a multiple of `voxel_size`.
    pub source_voxel_factor: f64,
    /// Voxel edge of the sparse source of the coarse stage (which chooses between the
    /// motion prediction and standing still), as a multiple of `voxel_size`.
    pub coarse_voxel_factor: f64,
    /// The coarse stage's voxel shrinks (by 1.5 at a time, down to the source's) until it
    /// keeps at least this many points. auto: `min(600, n / 5)` for a registration source of
    /// `n` points, so a sparse scene keeps enough for a reliable fit and a dense one
    /// is still thinned hard.
    pub coarse_min_points: Auto,
    /// The coarse stage's robust kernel is this many times wider than the fine stage's
    /// (`sigma / 3`): from a poor guess the right matches have large residuals, and a tight
    /// kernel lets the few points already aligned (the ground) hold the pose, so the stage
    /// creeps (balm: 38 iterations a scan at 1, 25 at 5 or 10). At 2 the 16-ring synthetic
    /// `aggressive` run loses track (ATE 0.27 m); 5 and 10 do alike there and on 32 and 64
    /// rings.
    pub coarse_kernel_factor: f64,
    /// The coarse stage stretches a pose step by this factor when it points the same way as
    /// the previous one, until a stretch makes the fit worse (1 = plain Gauss-Newton): from
    /// a poor guess ICP creeps towards the alignment in many small steps of one direction.
    /// At 2, balm runs 11 % faster at the same accuracy, and the synthetic profiles keep
    /// theirs; without the stop on a worse fit, riverside's poorly fitting scan 215 was
    /// pushed 4° further off the car's heading.
    pub coarse_over_relaxation: f64,
    /// The coarse stage first aligns every this-many-th of its points, then all of them from
    /// there (1: all at once); skipped when that would leave fewer than 100 points. From a
    /// poor guess most of the stage's iterations approach the alignment, which a fifth of
    /// the points do at a fifth of the cost; the whole set then refines in a few. When the
    /// subset fits worse than usual, all points go from the start instead: unguarded,
    /// riverside's scans 215–228 went backwards (a stretch where every coarse result fits
    /// poorly). At 5, balm registers in 9.9 instead of 11.5 ms a scan at the same accuracy
    /// (ATE 0.054 m; 17 of its 100 scans take the guard); at 3 (unguarded) the 16-ring
    /// synthetic `aggressive` run lost track more often (RPE 0.034 → 0.045 m).
    pub coarse_presample: usize,
    /// Voxel edge of the points inserted in the map, as a multiple of `voxel_size`.
    pub map_voxel_factor: f64,
    /// How the twist is estimated.
    pub velocity: VelocityMode,
    /// Residual type.
    pub residual: ResidualKind,
    /// Robust kernel.
    pub kernel: Kernel,
    /// Correspondence sigma before any motion was observed, metres (the threshold is 3
    /// sigma). auto: `max(0.5, 0.02 R)`.
    pub initial_sigma: Auto,
    /// Deviations from the prediction below this (metres) do not shrink the threshold.
    /// auto: `voxel_size / 10`.
    pub min_motion: Auto,
    /// Gauss-Newton iterations at most per registration.
    pub max_iterations: usize,
    /// Stop when the update is smaller than this (metres and radians).
    pub convergence: f64,
    /// A gap between scans longer than this (seconds) predicts no motion, with the initial
    /// sigma doubled, and the old motion continued competes with it on fit. auto: 10 times the
    /// median scan interval seen so far.
    pub max_gap: Auto,
    /// Noise of a point residual, metres: weighs the motion priors against the points.
    /// auto: `voxel_size / 10`.
    pub residual_sigma: Auto,
    /// Expected linear acceleration, m/s²: weighs the constant-velocity prior and the tie
    /// between pose change and twist.
    pub linear_acceleration: f64,
    /// Expected angular acceleration, rad/s².
    pub angular_acceleration: f64,
    /// Insert a scan in the local map when it moved this far from the last inserted one,
    /// metres. auto: `max(voxel_size, 0.2 s × speed)`, so it widens with speed.
    pub keyframe_distance: Auto,
    /// Insert a scan in the local map when it turned this much since the last inserted
    /// one, degrees (or moved `keyframe_distance`).
    pub keyframe_angle: f64,
    /// A registration matching fewer than this fraction of its points is reported bad and
    /// not inserted in the map.
    pub min_inlier_ratio: f64,
    /// A registration whose residual RMS is more than this many times the median of the last
    /// 50 scans' is first tried again from standing still (the better fit kept), then, still
    /// as poor, reported bad and not inserted in the map: in a small scene every point finds
    /// some correspondence within the threshold, so the inlier ratio alone passes a
    /// registration that settled in a wrong alignment. Good registrations reach 2.8× on
    /// riverside02, 3.4× on the synthetic `aggressive` 16-ring run (seed 3) and 3.8× on balm;
    /// balm's scan 70 put in place of scan 20 reaches 11.8×, and a hand-held turn that
    /// reversed (balm with `max_range` 20 m, scan 42) settled 14° off at 6.9×.
    pub max_rms_ratio: f64,
    /// Scans with fewer points than this after filtering are skipped (pose predicted).
    pub min_points: usize,
}

impl Default for OdometryParams {
    fn default() -> Self {
        OdometryParams {
            max_range: Auto::Auto,
            min_range: Auto::Auto,
            voxel_size: Auto::Auto,
            max_points_per_voxel: 8,
            source_voxel_factor: 2.0,
            map_voxel_factor: 0.5,
            coarse_voxel_factor: 6.0,
            coarse_min_points: Auto::Auto,
            coarse_kernel_factor: 5.0,
            coarse_over_relaxation: 2.0,
            coarse_presample: 5,
            velocity: VelocityMode::Joint,
            residual: ResidualKind::PointToPlane,
            kernel: Kernel::GemanMcclure,
            initial_sigma: Auto::Auto,
            min_motion: Auto::Auto,
            max_iterations: 100,
            convergence: 1e-3,
            max_gap: Auto::Auto,
            residual_sigma: Auto::Auto,
            linear_acceleration: 5.0,
            angular_acceleration: 10.0,
            keyframe_distance: Auto::Auto,
            keyframe_angle: 5.0,
            min_inlier_ratio: 0.2,
            max_rms_ratio: 5.0,
            min_points: 50,
        }
    }
}

/// Parameters with every `auto` resolved for a sensor of measured range `R`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedParams {
    /// Measured sensor range `R`, metres.
    pub sensor_range: f64,
    /// See [`OdometryParams::max_range`].
    pub max_range: f64,
    /// See [`OdometryParams::min_range`].
    pub min_range: f64,
    /// See [`OdometryParams::voxel_size`].
    pub voxel_size: f64,
    /// See [`OdometryParams::initial_sigma`].
    pub initial_sigma: f64,
    /// See [`OdometryParams::min_motion`].
    pub min_motion: f64,
    /// See [`OdometryParams::residual_sigma`].
    pub residual_sigma: f64,
}

impl OdometryParams {
    /// Resolves the range-derived `auto` values for measured range `r`.
    pub fn resolve(&self, r: f64) -> ResolvedParams {
        let max_range = self.max_range.resolve(|| r);
        let voxel_size = self.voxel_size.resolve(|| (max_range / 100.0).max(0.05));
        ResolvedParams {
            sensor_range: r,
            max_range,
            min_range: self.min_range.resolve(|| (0.02 * max_range).max(0.5)),
            voxel_size,
            initial_sigma: self.initial_sigma.resolve(|| (0.02 * max_range).max(0.5)),
            min_motion: self.min_motion.resolve(|| voxel_size / 10.0),
            residual_sigma: self.residual_sigma.resolve(|| voxel_size / 10.0),
        }
    }
}
