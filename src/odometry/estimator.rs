//! The odometry: one call per scan, in time order. Filters the scan, predicts the pose from
//! the last pose and twist over the real time step, registers against the local map,
//! judges the result, and inserts keyframes into the map.

use super::local_map::{Density, LocalMap};
use super::params::{OdometryParams, ResolvedParams, VelocityMode};
use super::registration::{register, MotionPrior, Registration, RegistrationSettings};
use super::sweep_check::SweepCheck;
use super::threshold::AdaptiveThreshold;
use crate::cloud::PointCloud;
use crate::error::{Error, Result};
use crate::filters::range::measured_range;
use crate::filters::{deskew, deskewed, FilterChain, RangeCrop, VoxelDownsample, VoxelMode};
use crate::geometry::{exp, log, magnitude, Twist};
use nalgebra::{Isometry3, Point3};
use serde::Serialize;
use std::time::Instant;

/// How a scan was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    /// Registered and accepted.
    Ok,
    /// Registered, but matched too few points: reported, not inserted in the map.
    Bad,
    /// Too few points after filtering: pose predicted.
    Skipped,
}

/// Milliseconds spent per stage of one scan.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct StageTimes {
    /// Range crop and voxel downsampling.
    pub preprocess: f64,
    /// Registration (all iterations).
    pub registration: f64,
    /// Map insertion and rebuild of the previous keyframe, which runs alongside this scan's
    /// preprocessing (so the stages may add up to more than the total).
    pub map_update: f64,
    /// Whole scan.
    pub total: f64,
}

/// What the odometry says about one scan.
#[derive(Debug, Clone, Serialize)]
pub struct ScanResult {
    /// Index of the scan in the order given.
    pub index: usize,
    /// Stamp, seconds.
    pub stamp: f64,
    /// Pose of the sensor at the stamp (`T_world_sensor`).
    #[serde(skip)]
    pub pose: Isometry3<f64>,
    /// Body twist at the stamp: linear (m/s) then angular (rad/s).
    #[serde(skip)]
    pub twist: Twist,
    /// Handling.
    pub status: ScanStatus,
    /// Why the scan was skipped or judged bad.
    pub note: Option<String>,
    /// Something about the recording the user should know, said once (the scan is fine):
    /// per-point times that do not describe the sweep's motion (see
    /// [`super::sweep_check`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// Fraction of registration points that found a correspondence.
    pub inlier_ratio: f64,
    /// RMS of the residuals, metres.
    pub rms: f64,
    /// Gauss-Newton iterations.
    pub iterations: usize,
    /// Correspondences.
    pub correspondences: usize,
    /// Points used for registration.
    pub source_points: usize,
    /// Correspondence threshold used, metres.
    pub threshold: f64,
    /// Whether the scan was inserted in the local map.
    pub keyframe: bool,
    /// Milliseconds per stage.
    pub ms: StageTimes,
}

/// A keyframe waiting to enter the local map: its points (sensor frame, after the map
/// filters, not de-skewed), pose and twist. It is inserted at the start of the next scan,
/// alongside that scan's preprocessing, so the two serial stages share the cores; the map
/// is whole again before that scan is registered.
struct Pending {
    frame: PointCloud,
    pose: Isometry3<f64>,
    twist: Twist,
    /// Map voxels farther than this from the pose are dropped.
    max_range: f64,
}

#[derive(Debug, Clone, Copy)]
struct State {
    stamp: f64,
    pose: Isometry3<f64>,
    twist: Twist,
}

/// Scan-to-map odometry with velocity estimation.
pub struct Odometry {
    params: OdometryParams,
    resolved: Option<ResolvedParams>,
    map: Option<LocalMap>,
    threshold: Option<AdaptiveThreshold>,
    last: Option<State>,
    last_keyframe: Option<Isometry3<f64>>,
    intervals: Vec<f64>,
    index: usize,
    /// Whether the last twist was estimated from a registration (not assumed).
    twist_known: bool,
    /// The first scan's map points (sensor frame, not de-skewed: its twist is unknown)
    /// and pose, kept until the second scan tells the twist; the map is then rebuilt
    /// from it de-skewed.
    bootstrap: Option<(PointCloud, Isometry3<f64>)>,
    /// Fit scores (RMS over inlier ratio) of the last coarse registrations.
    coarse_scores: Vec<f64>,
    /// Residual RMS of the last registrations (bad ones included, so that a lasting change
    /// of scene moves the median along).
    recent_rms: Vec<f64>,
    /// Filters applied, in the sensor frame, to a keyframe's points before they enter the
    /// local map.
    map_filters: FilterChain,
    /// Localization: a prebuilt map (world frame) and the initial pose, until loaded.
    fixed_map: Option<(Vec<Point3<f64>>, Isometry3<f64>)>,
    /// Whether scans are inserted in the local map (off when localizing on a fixed map).
    mapping: bool,
    /// The pose the first scan is predicted at.
    origin: Isometry3<f64>,
    /// The last keyframe, until it is inserted in the local map.
    pending: Option<Pending>,
    /// Whether the twists estimated inside the sweeps follow the motion between scans.
    sweep_check: SweepCheck,
}

impl Odometry {
    /// Odometry with `params`; `auto` values are resolved on the first non-empty scan.
    pub fn new(params: OdometryParams) -> Odometry {
        Odometry {
            params,
            resolved: None,
            map: None,
            threshold: None,
            last: None,
            last_keyframe: None,
            intervals: Vec::new(),
            index: 0,
            twist_known: false,
            bootstrap: None,
            coarse_scores: Vec::new(),
            recent_rms: Vec::new(),
            map_filters: FilterChain::default(),
            fixed_map: None,
            mapping: true,
            origin: Isometry3::identity(),
            pending: None,
            sweep_check: SweepCheck::default(),
        }
    }

    /// The same odometry localizing on a prebuilt map: `points` (world frame) become the
    /// local map, fixed (no scan is inserted), and the first scan is registered from
    /// `initial` with the widened threshold of a gap.
    pub fn localize_in(mut self, points: Vec<Point3<f64>>, initial: Isometry3<f64>) -> Odometry {
        self.fixed_map = Some((points, initial));
        self.mapping = false;
        self.origin = initial;
        self
    }

    /// The same odometry, passing keyframe points through `chain` (in the sensor frame)
    /// before they enter the local map: remove the vehicle's body, thin the map further.
    pub fn with_map_filters(mut self, chain: FilterChain) -> Odometry {
        self.map_filters = chain;
        self
    }

    /// The parameters with `auto` resolved (after the first non-empty scan).
    pub fn resolved(&self) -> Option<&ResolvedParams> {
        self.resolved.as_ref()
    }

    /// The local map (after the first non-empty scan), with every keyframe so far.
    pub fn local_map(&mut self) -> Option<&LocalMap> {
        if let Some(map) = self.map.as_mut() {
            if let Some(p) = self.pending.take() {
                p.insert(map, self.params.velocity);
            }
        }
        self.map.as_ref()
    }

    fn max_gap(&self) -> f64 {
        self.params
            .max_gap
            .resolve(|| median(&self.intervals).map_or(f64::INFINITY, |m| 10.0 * m))
    }

    /// Processes the next scan. Errors only when time goes backwards.
    pub fn process(&mut self, cloud: &PointCloud) -> Result<ScanResult> {
        // On a pool thread, each of the scan's parallel steps (a few dozen) is shared with
        // the other pool threads by work stealing; from outside the pool, each would hand
        // its work over to the pool and sleep until it is done (twice the thread switches,
        // and a third busy thread on the cores).
        rayon::scope(|_| self.process_on_pool(cloud))
    }

    fn process_on_pool(&mut self, cloud: &PointCloud) -> Result<ScanResult> {
        let start = Instant::now();
        let index = self.index;
        if let Some(last) = &self.last {
            if cloud.stamp <= last.stamp {
                return Err(Error::Invalid(format!(
                    "scan {index}: time goes backwards: stamp {} s is not after the previous scan's {} s",
                    cloud.stamp, last.stamp
                )));
            }
        }
        self.index += 1;
        if self.resolved.is_none() {
            if let Some(r) = measured_range(cloud) {
                let resolved = self.params.resolve(r);
                self.map = Some(LocalMap::new(
                    resolved.voxel_size,
                    self.params.max_points_per_voxel,
                ));
                self.threshold = Some(AdaptiveThreshold::new(
                    resolved.initial_sigma,
                    resolved.min_motion,
                    resolved.max_range,
                ));
                self.resolved = Some(resolved);
            }
        }
        // Localization: the prebuilt map becomes the local map once its voxel size is known.
        let mut relocating = false;
        if let Some(map) = self.map.as_mut() {
            if let Some((points, initial)) = self.fixed_map.take() {
                map.update(
                    &points,
                    &Point3::from(initial.translation.vector),
                    f64::INFINITY,
                );
                relocating = true;
            }
        }
        let dt = self.last.map(|l| cloud.stamp - l.stamp);
        if let Some(dt) = dt {
            self.intervals.push(dt);
        }
        // The first scan on a fixed map is registered like one after a gap: from the
        // initial pose, no motion, a wide threshold.
        let gap = relocating || dt.is_some_and(|dt| dt > self.max_gap());
        // Prediction on the real time step; a long gap predicts no motion.
        let (predicted, predicted_twist) = match (&self.last, dt) {
            (Some(l), Some(dt)) if !gap => (l.pose * exp(&(l.twist * dt)), l.twist),
            (Some(l), _) => (l.pose, Twist::zeros()),
            (None, _) => (self.origin, Twist::zeros()),
        };
        let mut result = ScanResult {
            index,
            stamp: cloud.stamp,
            pose: predicted,
            twist: predicted_twist,
            status: ScanStatus::Skipped,
            note: None,
            warning: None,
            inlier_ratio: 0.0,
            rms: 0.0,
            iterations: 0,
            correspondences: 0,
            source_points: 0,
            threshold: 0.0,
            keyframe: false,
            ms: StageTimes::default(),
        };
        let Some(rp) = self.resolved.clone() else {
            result.note = Some("empty scan: pose predicted".into());
            return Ok(self.finish(result, start));
        };
        // Preprocess this scan while the last keyframe enters the map.
        let pending = self.pending.take();
        let velocity = self.params.velocity;
        let map = self.map.as_mut().expect("set with resolved");
        let ((frame, source, preprocess_ms), map_ms) = rayon::join(
            || {
                let t0 = Instant::now();
                let (frame, source) = preprocess(cloud, &rp, &self.params);
                (frame, source, ms(t0))
            },
            || {
                let t0 = Instant::now();
                if let Some(p) = pending {
                    p.insert(map, velocity);
                }
                ms(t0)
            },
        );
        result.ms.preprocess = preprocess_ms;
        result.ms.map_update = map_ms;
        result.source_points = source.len();
        if source.len() < self.params.min_points {
            result.note = Some(format!(
                "{} points after filtering (fewer than {}): pose predicted",
                source.len(),
                self.params.min_points
            ));
            return Ok(self.finish(result, start));
        }
        let typical_rms = (self.recent_rms.len() >= MIN_RMS_HISTORY)
            .then(|| median(&self.recent_rms))
            .flatten();
        let threshold = self.threshold.as_mut().expect("set with resolved");
        let map = self.map.as_mut().expect("set with resolved");
        let t1 = Instant::now();
        let first = map.is_empty();
        let (pose, twist) = if first {
            (predicted, predicted_twist)
        } else {
            // A wide threshold lets every point match something and ICP wander; beyond twice
            // the initial sigma the prediction is too poor for wider matching to help.
            let sigma = if gap {
                threshold.initial_sigma() * 2.0
            } else {
                threshold.sigma().min(2.0 * threshold.initial_sigma())
            };
            result.threshold = 3.0 * sigma;
            let settings = RegistrationSettings {
                max_correspondence: 3.0 * sigma,
                kernel_scale: sigma / 3.0,
                kernel: self.params.kernel,
                residual: self.params.residual,
                max_iterations: self.params.max_iterations,
                convergence: self.params.convergence,
                estimate_twist: false,
                point_sigma: rp.residual_sigma,
                density: Density::Full,
                reuse_neighbourhoods: true,
                over_relaxation: 1.0,
            };
            // Only a fixed map is filled before a first scan: start from its initial pose.
            let last = self.last.unwrap_or(State {
                stamp: cloud.stamp,
                pose: predicted,
                twist: Twist::zeros(),
            });
            let dt = dt.unwrap_or(0.1);
            let twist_of = |pose: &Isometry3<f64>| {
                if gap {
                    Twist::zeros()
                } else {
                    log(&(last.pose.inverse() * pose)) / dt
                }
            };
            // Coarse stage, 6-DOF on a sparse source: from the prediction, and from the
            // alternatives below when the prediction is in doubt; the better fit wins.
            let coarse_source = coarse_source(
                &source,
                rp.voxel_size,
                self.params.coarse_voxel_factor,
                self.params.source_voxel_factor,
                self.params
                    .coarse_min_points
                    .resolve(|| (source.len() / 5).min(600) as f64) as usize,
            );
            let coarse_source = if self.params.velocity == VelocityMode::Off {
                coarse_source
            } else {
                deskewed(coarse_source, &predicted_twist)
            };
            let n_coarse = coarse_source.len();
            let score = |r: &Registration| fit_score(r, n_coarse);
            // From a poor guess right matches have large residuals: a wider kernel lets them
            // pull, where a tight one lets the few already-aligned points (the ground) hold the
            // pose and the stage creeps. Its queries search far, so they go to one point per
            // map voxel.
            let coarse_settings = RegistrationSettings {
                kernel_scale: settings.kernel_scale * self.params.coarse_kernel_factor,
                density: Density::Sparse,
                reuse_neighbourhoods: false,
                over_relaxation: self.params.coarse_over_relaxation,
                ..settings
            };
            let usual = median(&self.coarse_scores).map_or(f64::INFINITY, |m| 1.5 * m);
            // A subset approaches the alignment first, at a fraction of the cost.
            let step = self.params.coarse_presample.max(1);
            let subset: Vec<Point3<f64>> = if step > 1 && n_coarse / step >= MIN_PRESAMPLE {
                coarse_source
                    .points()
                    .iter()
                    .step_by(step)
                    .copied()
                    .collect()
            } else {
                Vec::new()
            };
            let coarse_from = |start: Isometry3<f64>, map: &LocalMap| {
                let run = |points: &[Point3<f64>], start, settings: &RegistrationSettings| {
                    let zero = Twist::zeros();
                    register(points, None, map, start, zero, None, settings)
                };
                if subset.is_empty() {
                    return run(coarse_source.points(), start, &coarse_settings);
                }
                let approach = run(&subset, start, &coarse_settings);
                // When the subset fits worse than usual it may have been led astray (it has
                // fewer points to hold it): all points go from the start instead. From the
                // subset's alignment the points move little, so their neighbourhoods
                // answer most iterations.
                let r = if fit_score(&approach, subset.len()) > usual {
                    run(coarse_source.points(), start, &coarse_settings)
                } else {
                    let refine = RegistrationSettings {
                        reuse_neighbourhoods: true,
                        ..coarse_settings
                    };
                    run(coarse_source.points(), approach.pose, &refine)
                };
                Registration {
                    iterations: approach.iterations + r.iterations,
                    ..r
                }
            };
            let mut coarse = coarse_from(predicted, map);
            if gap {
                // After a long gap nothing is sure: the old motion, continued, competes with
                // the no-motion prediction on fit.
                let continued = coarse_from(last.pose * exp(&(last.twist * dt)), map);
                if score(&continued) < score(&coarse) {
                    coarse = continued;
                }
            }
            // Standing still, when the coarse stage tried it (and whether it won).
            let (mut from_still, mut still_unused) = (false, None);
            let (_, turned) = magnitude(&(last.pose.inverse() * predicted));
            if !gap && score(&coarse) > usual && turned.to_degrees() > 2.0 {
                // A worse fit than usual after a predicted turn: the turn may have reversed
                // (hand-held rigs do), so also try standing still. Not for straight motion:
                // along a road, standing still fits the map well and would win wrongly.
                let still = coarse_from(last.pose, map);
                if score(&still) < 0.5 * score(&coarse) {
                    coarse = still;
                    from_still = true;
                } else {
                    still_unused = Some(still);
                }
            }
            push_bounded(&mut self.coarse_scores, score(&coarse));
            // Fine stage, on the whole source: the pose, and the twist as the mode says.
            let prior = MotionPrior {
                previous_pose: last.pose,
                previous_twist: self.twist_known.then_some(last.twist),
                dt,
                linear_acceleration: self.params.linear_acceleration,
                angular_acceleration: self.params.angular_acceleration,
            };
            let velocity = self.params.velocity;
            let fine = |map: &LocalMap, pose: Isometry3<f64>| match velocity {
                VelocityMode::Off => {
                    let r = register(
                        source.points(),
                        None,
                        map,
                        pose,
                        Twist::zeros(),
                        None,
                        &settings,
                    );
                    Registration {
                        twist: twist_of(&r.pose),
                        ..r
                    }
                }
                VelocityMode::Alternate => {
                    // MOLA: de-skew with the twist, register, re-estimate the twist, repeat.
                    let (mut pose, mut twist) = (pose, twist_of(&pose));
                    let mut rounds = Vec::new();
                    for _ in 0..2 {
                        let straightened = deskew(&source, &twist);
                        let r = register(
                            straightened.points(),
                            None,
                            map,
                            pose,
                            twist,
                            None,
                            &settings,
                        );
                        pose = r.pose;
                        twist = twist_of(&pose);
                        rounds.push(Registration { twist, ..r });
                    }
                    let last_round = rounds[rounds.len() - 1];
                    Registration {
                        iterations: rounds.iter().map(|r| r.iterations).sum(),
                        ..last_round
                    }
                }
                VelocityMode::Joint => register(
                    source.points(),
                    source.time(),
                    map,
                    pose,
                    twist_of(&pose),
                    (!gap).then_some(&prior),
                    &RegistrationSettings {
                        estimate_twist: true,
                        ..settings
                    },
                ),
            };
            let mut reg = fine(map, coarse.pose);
            if let Some((first_frame, first_pose)) = self.bootstrap.take() {
                // The map holds the first scan with its skew (its twist was unknown). Once
                // this scan is registered, the pose change tells that twist: rebuild the map
                // de-skewed with it and register again. (Taking the twist from the coarse
                // stage instead lets one wrong coarse result distort the map, and every
                // twist after it, for good.)
                map.clear();
                insert(
                    map,
                    &deskewed(first_frame, &twist_of(&reg.pose)),
                    &first_pose,
                    rp.max_range,
                );
                let again = fine(map, reg.pose);
                reg = Registration {
                    iterations: reg.iterations + again.iterations,
                    ..again
                };
            }
            if !gap
                && !from_still
                && typical_rms.is_some_and(|m| reg.rms > self.params.max_rms_ratio * m)
            {
                // The fit is far worse than usual: the prediction may have led the stages into
                // a wrong alignment (a hand-held turn that reversed). Standing still gets a
                // second chance through the fine stage; the better fit is kept.
                let still = still_unused.unwrap_or_else(|| coarse_from(last.pose, map));
                let again = fine(map, still.pose);
                if again.rms < reg.rms {
                    reg = Registration {
                        iterations: reg.iterations + coarse.iterations + again.iterations,
                        ..again
                    };
                    coarse = still;
                }
            }
            if velocity == VelocityMode::Joint
                && !gap
                && self.twist_known
                && source.time().is_some()
            {
                result.warning = self.sweep_check.add(&reg.twist, &twist_of(&reg.pose));
            }
            reg.iterations += coarse.iterations;
            result.iterations = reg.iterations;
            result.correspondences = reg.correspondences;
            result.rms = reg.rms;
            result.inlier_ratio = reg.correspondences as f64 / source.len() as f64;
            if !gap {
                threshold.update(&(predicted.inverse() * reg.pose));
            }
            (reg.pose, reg.twist)
        };
        result.ms.registration = ms(t1);
        self.twist_known = !first && !gap;
        result.pose = pose;
        result.twist = twist;
        if !first {
            push_bounded(&mut self.recent_rms, result.rms);
        }
        result.note = if first {
            None
        } else if result.inlier_ratio < self.params.min_inlier_ratio {
            Some(format!(
                "only {:.0}% of points matched the map (threshold {:.2} m): not inserted",
                100.0 * result.inlier_ratio,
                result.threshold
            ))
        } else {
            typical_rms
                .filter(|&m| result.rms > self.params.max_rms_ratio * m)
                .map(|m| {
                    format!(
                        "residual RMS {:.3} m, {:.1} times the recent median: not inserted",
                        result.rms,
                        result.rms / m
                    )
                })
        };
        let good = result.note.is_none();
        result.status = if good {
            ScanStatus::Ok
        } else {
            ScanStatus::Bad
        };
        // Keyframe policy: distance (widening with speed) or angle since the last one.
        let speed = twist.fixed_rows::<3>(0).norm();
        let kf_distance = self
            .params
            .keyframe_distance
            .resolve(|| rp.voxel_size.max(0.2 * speed));
        let is_keyframe = good
            && self.mapping
            && self.last_keyframe.is_none_or(|k| {
                let (d, a) = magnitude(&(k.inverse() * pose));
                d >= kf_distance || a.to_degrees() >= self.params.keyframe_angle
            });
        if is_keyframe {
            let frame = if self.map_filters.is_empty() {
                frame
            } else {
                self.map_filters.apply(frame)
            };
            if first && self.params.velocity == VelocityMode::Joint {
                self.bootstrap = Some((frame.clone(), pose));
            }
            self.pending = Some(Pending {
                frame,
                pose,
                twist,
                max_range: rp.max_range,
            });
            self.last_keyframe = Some(pose);
            result.keyframe = true;
        }
        Ok(self.finish(result, start))
    }

    fn finish(&mut self, mut result: ScanResult, start: Instant) -> ScanResult {
        self.last = Some(State {
            stamp: result.stamp,
            pose: result.pose,
            twist: result.twist,
        });
        result.ms.total = ms(start);
        result
    }
}

impl Pending {
    /// De-skews the keyframe with its twist (unless velocity is off) and places it in `map`.
    fn insert(self, map: &mut LocalMap, velocity: VelocityMode) {
        let frame = if velocity == VelocityMode::Off {
            self.frame
        } else {
            deskewed(self.frame, &self.twist)
        };
        insert(map, &frame, &self.pose, self.max_range);
    }
}

/// Range crop, then the voxel grids: the points a keyframe gives the map (`frame`) and the
/// registration source, thinner.
fn preprocess(
    cloud: &PointCloud,
    rp: &ResolvedParams,
    params: &OdometryParams,
) -> (PointCloud, PointCloud) {
    let crop = RangeCrop {
        min: rp.min_range,
        max: rp.max_range,
    };
    let frame = VoxelDownsample {
        size: rp.voxel_size * params.map_voxel_factor,
        mode: VoxelMode::First,
    }
    .apply_where(cloud, |p| crop.keeps(p));
    let source = VoxelDownsample {
        size: rp.voxel_size * params.source_voxel_factor,
        mode: VoxelMode::First,
    }
    .apply(&frame);
    (frame, source)
}

/// How poorly a registration of `points` points fits: its RMS residual divided by the share
/// of the points that matched (fewer matches, worse fit).
fn fit_score(r: &Registration, points: usize) -> f64 {
    r.rms / (r.correspondences.max(1) as f64 / points.max(1) as f64)
}

/// How many recent registrations the fit statistics (coarse scores, residual RMS) keep.
const HISTORY: usize = 50;

/// Fewest registrations before the residual RMS is judged against their median.
const MIN_RMS_HISTORY: usize = 5;

/// Appends `value`, dropping the oldest beyond [`HISTORY`].
fn push_bounded(history: &mut Vec<f64>, value: f64) {
    history.push(value);
    if history.len() > HISTORY {
        history.remove(0);
    }
}

/// Fewest points the coarse stage's first subset may have (see
/// [`OdometryParams::coarse_presample`]).
const MIN_PRESAMPLE: usize = 100;

/// Places `frame` (sensor frame, already de-skewed) in `map` at `pose`, dropping map voxels
/// beyond `max_range` from the sensor.
fn insert(map: &mut LocalMap, frame: &PointCloud, pose: &Isometry3<f64>, max_range: f64) {
    let world: Vec<Point3<f64>> = frame.points().iter().map(|p| pose * p).collect();
    map.update(&world, &Point3::from(pose.translation.vector), max_range);
}

/// The sparse source of the coarse stage: `source` thinned with voxels of `factor` ×
/// `voxel`, the factor shrinking (down to `floor`, the source's own) until at least
/// `min_points` remain, so a sparse sensor (16 or 32 rings) keeps enough points to be
/// registered reliably while a dense one is thinned hard.
fn coarse_source(
    source: &PointCloud,
    voxel: f64,
    mut factor: f64,
    floor: f64,
    min_points: usize,
) -> PointCloud {
    loop {
        let coarse = VoxelDownsample {
            size: voxel * factor,
            mode: VoxelMode::First,
        }
        .apply(source);
        if coarse.len() >= min_points || factor <= floor {
            return coarse;
        }
        factor = (factor / 1.5).max(floor);
    }
}

/// Median of `v`, `None` when empty.
fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut v = v.to_vec();
    let k = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(k, f64::total_cmp);
    Some(*m)
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}
