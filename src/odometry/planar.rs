//! Odometry for planar (2D) lasers: scan-to-local-map registration on x, y and yaw, with
//! the wheel odometry, when the recording has it, as the motion prior of each registration.
//!
//! It reuses the 3D odometry's pieces where they hold in the plane: the voxel [`LocalMap`]
//! (points at z = 0; its queries and neighbourhoods, not its plane normals, see
//! [`super::planar_registration`]), the [`AdaptiveThreshold`] on the prediction's error,
//! the robust kernels and the keyframe rule. What differs is the registration (3 unknowns,
//! point-to-line with normals from the beam order) and the prediction: the wheels' motion
//! since the last scan when known, else the last motion continued over the real time step.
//!
//! Self-adaptive like the 3D default: the scanner's range `R` (99th percentile of the first
//! scan's ranges) and its beam spacing (median angle between neighbouring returns) are
//! measured on the first scan, and the `auto` values follow them by the rules beside each
//! parameter.

use super::auto::Auto;
use super::estimator::{ScanResult, ScanStatus, StageTimes};
use super::local_map::LocalMap;
use super::params::{Kernel, ResolvedParams};
use super::planar_registration::{
    line_normals, register_planar, Planar, PlanarRegistration, PlanarSettings, PosePrior,
};
use super::threshold::AdaptiveThreshold;
use crate::cloud::PointCloud;
use crate::filters::range::measured_range;
use crate::geometry::Twist;
use nalgebra::{Isometry3, Point3, Translation3, UnitQuaternion, Vector2, Vector3};
use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Parameters of the planar odometry. Defaults run any planar laser unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PlanarParams {
    /// Use the wheel odometry carried with the scans (CARMEN logs' poses) as the motion
    /// prior: it predicts each scan's pose and pulls the registration towards the wheels'
    /// motion with the trust below, which matters where the scene leaves a direction free
    /// (a corridor's length). Without wheel odometry in the recording, or with this off,
    /// the last motion is continued over the real time step, with no prior.
    pub wheel_odometry: bool,
    /// Trust in the wheels' translation: its standard deviation per scan is this many
    /// metres plus `wheel_slip` times the distance they report (so a standing robot is held
    /// tightly and a fast one loosely).
    pub wheel_sigma: f64,
    /// Fraction of the reported distance (and turn) added to the wheels' standard
    /// deviations: slip grows with motion.
    pub wheel_slip: f64,
    /// Trust in the wheels' heading change: its standard deviation per scan is this many
    /// degrees plus `wheel_slip` times the turn they report. Wheel headings drift (the
    /// benchmark logs' wheels err by degrees over metres), so it is loose: the scans, which
    /// see walls, decide the heading.
    pub wheel_yaw_sigma_deg: f64,
    /// Farthest range used, metres. auto: every return the scanner gives (no limit): a
    /// planar scan is thin, and its far returns (a corridor's end) hold the directions the
    /// near walls leave free. The local map keeps the voxels within the farthest range seen
    /// so far (99th percentile of each keyframe's ranges) of the robot.
    pub max_range: Auto,
    /// Closest range used, metres. auto: `max(0.05, 0.01 R)`.
    pub min_range: Auto,
    /// Voxel edge of the local map and of the registration source, metres. auto: twice the
    /// spacing of neighbouring beams at the median range (`2 · median range · beam
    /// spacing`), between 0.02 and `R / 50`: about two points per voxel along a wall at the
    /// usual distance.
    pub voxel_size: Auto,
    /// Points kept per map voxel.
    pub max_points_per_voxel: usize,
    /// Robust kernel.
    pub kernel: Kernel,
    /// Correspondence sigma before any motion was observed, metres (the threshold is 3
    /// sigma). auto: `max(0.1, 0.01 R)`.
    pub initial_sigma: Auto,
    /// Deviations from the prediction below this (metres) do not shrink the threshold.
    /// auto: `voxel_size / 10`.
    pub min_motion: Auto,
    /// Noise of a point residual, metres: weighs the wheel prior against the points.
    /// auto: `voxel_size / 2`.
    pub residual_sigma: Auto,
    /// The registration's last pass keeps matches within 3 times this (metres) and weighs
    /// them with a Cauchy kernel of this scale. auto: `residual_sigma / 2`.
    pub refine_sigma: Auto,
    /// Gauss-Newton iterations at most per registration.
    pub max_iterations: usize,
    /// Stop when the update is smaller than this (metres plus radians).
    pub convergence: f64,
    /// Beams on each side that a point's line normal is fitted to (those within three
    /// voxels of it).
    pub normal_window: usize,
    /// Insert a scan in the local map when it moved this far from the last inserted one,
    /// metres. auto: `3 × voxel_size` (a scan registers against keyframes it overlaps
    /// almost wholly; fewer keyframes, less drift stored in the map).
    pub keyframe_distance: Auto,
    /// Insert a scan in the local map when it turned this much since the last inserted
    /// one, degrees.
    pub keyframe_angle: f64,
    /// A registration matching fewer than this fraction of its points is reported bad and
    /// not inserted in the map.
    pub min_inlier_ratio: f64,
    /// Scans with fewer points than this after filtering are skipped (pose predicted).
    pub min_points: usize,
    /// A gap between scans longer than this (seconds) predicts no motion from the last one
    /// (the wheels, when known, still predict), with the initial sigma doubled. auto: 10
    /// times the median scan interval seen so far.
    pub max_gap: Auto,
}

impl Default for PlanarParams {
    fn default() -> Self {
        PlanarParams {
            wheel_odometry: true,
            wheel_sigma: 0.01,
            wheel_slip: 0.1,
            wheel_yaw_sigma_deg: 1.0,
            max_range: Auto::Auto,
            min_range: Auto::Auto,
            voxel_size: Auto::Auto,
            max_points_per_voxel: 10,
            kernel: Kernel::GemanMcclure,
            initial_sigma: Auto::Auto,
            min_motion: Auto::Auto,
            residual_sigma: Auto::Auto,
            refine_sigma: Auto::Auto,
            max_iterations: 50,
            convergence: 1e-5,
            normal_window: 5,
            keyframe_distance: Auto::Auto,
            keyframe_angle: 5.0,
            min_inlier_ratio: 0.2,
            min_points: 20,
            max_gap: Auto::Auto,
        }
    }
}

/// An angle in (−π, π].
pub fn wrap(a: f64) -> f64 {
    crate::recordings::carmen::wrap(a)
}

/// The planar pose of an isometry on the ground plane (its yaw about z).
pub fn planar_of(pose: &Isometry3<f64>) -> Planar {
    let t = pose.translation.vector;
    let x_axis = pose.rotation * Vector3::x();
    Planar::new(t.x, t.y, x_axis.y.atan2(x_axis.x))
}

/// The isometry of a planar pose (z = 0, level).
pub fn isometry_of(p: &Planar) -> Isometry3<f64> {
    Isometry3::from_parts(
        Translation3::new(p.x, p.y, 0.0),
        UnitQuaternion::from_axis_angle(&Vector3::z_axis(), p.z),
    )
}

/// `a⁻¹ · b`: `b` in the frame of `a`.
pub fn between(a: &Planar, b: &Planar) -> Planar {
    let (s, c) = a.z.sin_cos();
    let d = b.xy() - a.xy();
    Planar::new(c * d.x + s * d.y, -s * d.x + c * d.y, wrap(b.z - a.z))
}

/// `a · b`.
pub fn compose(a: &Planar, b: &Planar) -> Planar {
    let (s, c) = a.z.sin_cos();
    Planar::new(
        a.x + c * b.x - s * b.y,
        a.y + s * b.x + c * b.y,
        wrap(a.z + b.z),
    )
}

/// The `auto` values resolved on the first scan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanarResolved {
    /// Measured range `R`, metres.
    pub sensor_range: f64,
    /// Measured beam spacing, radians.
    pub beam_spacing: f64,
    /// Median range of the first scan, metres.
    pub median_range: f64,
    /// See [`PlanarParams::max_range`].
    pub max_range: f64,
    /// See [`PlanarParams::min_range`].
    pub min_range: f64,
    /// See [`PlanarParams::voxel_size`].
    pub voxel_size: f64,
    /// See [`PlanarParams::initial_sigma`].
    pub initial_sigma: f64,
    /// See [`PlanarParams::min_motion`].
    pub min_motion: f64,
    /// See [`PlanarParams::residual_sigma`].
    pub residual_sigma: f64,
    /// See [`PlanarParams::refine_sigma`].
    pub refine_sigma: f64,
    /// See [`PlanarParams::keyframe_distance`].
    pub keyframe_distance: f64,
}

impl PlanarResolved {
    /// The same figures in the 3D odometry's terms, for the blocks that report them.
    pub fn as_resolved(&self) -> ResolvedParams {
        ResolvedParams {
            sensor_range: self.sensor_range,
            max_range: self.max_range,
            min_range: self.min_range,
            voxel_size: self.voxel_size,
            initial_sigma: self.initial_sigma,
            min_motion: self.min_motion,
            residual_sigma: self.residual_sigma,
        }
    }
}

/// The median angle between neighbouring returns (in the cloud's order) that are less than
/// 5° apart, radians: the scanner's beam spacing, gaps of missing returns left out.
pub fn beam_spacing(cloud: &PointCloud) -> Option<f64> {
    let mut steps: Vec<f64> = cloud
        .points()
        .windows(2)
        .map(|w| wrap(w[1].y.atan2(w[1].x) - w[0].y.atan2(w[0].x)).abs())
        .filter(|a| *a > 1e-6 && *a < 5f64.to_radians())
        .collect();
    if steps.is_empty() {
        return None;
    }
    let k = steps.len() / 2;
    let (_, m, _) = steps.select_nth_unstable_by(k, f64::total_cmp);
    Some(*m)
}

impl PlanarParams {
    /// Resolves the `auto` values on a first scan; `None` when it has too few returns.
    pub fn resolve(&self, cloud: &PointCloud) -> Option<PlanarResolved> {
        let r = measured_range(cloud)?;
        let spacing = beam_spacing(cloud)?;
        let mut ranges: Vec<f64> = cloud
            .points()
            .iter()
            .map(|p| p.coords.xy().norm())
            .collect();
        let k = ranges.len() / 2;
        let (_, median, _) = ranges.select_nth_unstable_by(k, f64::total_cmp);
        let median = *median;
        let max_range = self.max_range.resolve(|| f64::INFINITY);
        let voxel_size = self
            .voxel_size
            .resolve(|| (2.0 * median * spacing).clamp(0.02, (r / 50.0).max(0.02)));
        let residual_sigma = self.residual_sigma.resolve(|| voxel_size / 2.0);
        Some(PlanarResolved {
            sensor_range: r,
            beam_spacing: spacing,
            median_range: median,
            max_range,
            min_range: self.min_range.resolve(|| (0.01 * r).max(0.05)),
            voxel_size,
            initial_sigma: self.initial_sigma.resolve(|| (0.01 * r).max(0.1)),
            min_motion: self.min_motion.resolve(|| voxel_size / 10.0),
            residual_sigma,
            refine_sigma: self.refine_sigma.resolve(|| residual_sigma / 2.0),
            keyframe_distance: self.keyframe_distance.resolve(|| 3.0 * voxel_size),
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct State {
    stamp: f64,
    pose: Planar,
}

/// Iterations of a candidate's coarse alignment at most.
const COARSE_ITERATIONS: usize = 15;

/// The 99th percentile of the points' ranges, metres.
fn far_range(points: &[Vector2<f64>]) -> Option<f64> {
    if points.is_empty() {
        return None;
    }
    let mut r: Vec<f64> = points.iter().map(|p| p.norm()).collect();
    let k = ((r.len() - 1) as f64 * 0.99) as usize;
    let (_, v, _) = r.select_nth_unstable_by(k, f64::total_cmp);
    Some(*v)
}

/// Planar scan-to-map odometry (see the module's documentation).
pub struct PlanarOdometry {
    params: PlanarParams,
    resolved: Option<PlanarResolved>,
    map: Option<LocalMap>,
    threshold: Option<AdaptiveThreshold>,
    last: Option<State>,
    /// Body velocity (x, y metres per second, yaw radians per second) between the last two
    /// scans.
    velocity: Planar,
    last_keyframe: Option<Planar>,
    intervals: Vec<f64>,
    index: usize,
    /// The estimated pose and the wheels' pose at the last scan whose wheel reading was
    /// fresh (not a repeat of the one before).
    anchor: Option<(Planar, Planar)>,
    /// The farthest range seen so far (99th percentile of each keyframe's): the local map
    /// keeps the voxels within it.
    reach: f64,
}

impl PlanarOdometry {
    /// Odometry with `params`; `auto` values are resolved on the first non-empty scan.
    pub fn new(params: PlanarParams) -> PlanarOdometry {
        PlanarOdometry {
            params,
            resolved: None,
            map: None,
            threshold: None,
            last: None,
            velocity: Planar::zeros(),
            last_keyframe: None,
            intervals: Vec::new(),
            index: 0,
            anchor: None,
            reach: 0.0,
        }
    }

    /// The parameters with `auto` resolved (after the first non-empty scan).
    pub fn resolved(&self) -> Option<&PlanarResolved> {
        self.resolved.as_ref()
    }

    /// The local map (after the first non-empty scan).
    pub fn local_map(&self) -> Option<&LocalMap> {
        self.map.as_ref()
    }

    fn max_gap(&self) -> f64 {
        self.params.max_gap.resolve(|| {
            if self.intervals.is_empty() {
                return f64::INFINITY;
            }
            let mut v = self.intervals.clone();
            let k = v.len() / 2;
            let (_, m, _) = v.select_nth_unstable_by(k, f64::total_cmp);
            10.0 * *m
        })
    }

    /// Processes the next scan (points in the robot's frame, on the plane), with the wheel
    /// odometry's pose at its time when the recording has it. Scans are taken in the order
    /// given, even when their stamps go backwards (some logs' do): such a step predicts
    /// from the wheels alone, or no motion.
    ///
    /// The prediction is in doubt when the wheels and the last motion continued disagree
    /// (wheels slip, and some logs' odometry stalls for a few scans and then jumps): each
    /// of the wheels' pose, the continued motion, and the wheels' position with the
    /// continued heading is then aligned coarsely, and the best fit goes on to the fine
    /// registration. The wheel prior holds there only in what the winner took from the
    /// wheels.
    pub fn process(&mut self, cloud: &PointCloud, wheels: Option<&Isometry3<f64>>) -> ScanResult {
        let start = Instant::now();
        let index = self.index;
        self.index += 1;
        let wheels = wheels
            .filter(|_| self.params.wheel_odometry)
            .map(planar_of)
            .filter(|w| w.iter().all(|v| v.is_finite()));
        if self.resolved.is_none() {
            if let Some(r) = self.params.resolve(cloud) {
                self.map = Some(
                    LocalMap::new(r.voxel_size, self.params.max_points_per_voxel).without_planes(),
                );
                self.threshold = Some(AdaptiveThreshold::new(
                    r.initial_sigma,
                    r.min_motion,
                    r.sensor_range,
                ));
                self.reach = r.sensor_range;
                self.resolved = Some(r);
            }
        }
        let dt = self.last.map(|l| cloud.stamp - l.stamp);
        let forward = dt.filter(|dt| *dt > 0.0);
        if let Some(dt) = forward {
            if self.intervals.len() < 1000 {
                self.intervals.push(dt);
            }
        }
        let gap = forward.is_some_and(|dt| dt > self.max_gap());
        // Wheels repeating the last reading exactly bring no news (a stalled odometry
        // message, or a robot standing still): the scan is predicted as without wheels, and
        // the next fresh reading is taken against the last fresh one.
        let fresh = wheels.filter(|w| self.anchor.is_none_or(|(_, a)| a != *w));
        let from_wheels = fresh
            .zip(self.anchor)
            .map(|(w, (pose, a))| compose(&pose, &between(&a, &w)));
        let continued = match (&self.last, forward) {
            (Some(l), Some(dt)) if !gap => compose(&l.pose, &(self.velocity * dt)),
            (Some(l), _) => l.pose,
            (None, _) => Planar::zeros(),
        };
        let predicted = from_wheels.unwrap_or(continued);
        let mut result = ScanResult {
            index,
            stamp: cloud.stamp,
            pose: isometry_of(&predicted),
            twist: Twist::zeros(),
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
            result.note = Some("too few returns to measure the scanner: pose predicted".into());
            return self.finish(result, predicted, fresh, start);
        };
        let t0 = Instant::now();
        let (frame, source, normals) = self.preprocess(cloud, &rp, forward);
        result.ms.preprocess = ms(t0);
        result.source_points = source.len();
        if source.len() < self.params.min_points {
            result.note = Some(format!(
                "{} points after filtering (fewer than {}): pose predicted",
                source.len(),
                self.params.min_points
            ));
            return self.finish(result, predicted, fresh, start);
        }
        let threshold = self.threshold.as_mut().expect("set with resolved");
        let map = self.map.as_mut().expect("set with resolved");
        let t1 = Instant::now();
        let first = map.is_empty();
        let pose = if first {
            predicted
        } else {
            let sigma = if gap || forward.is_none() {
                threshold.initial_sigma() * 2.0
            } else {
                threshold.sigma().min(2.0 * threshold.initial_sigma())
            };
            result.threshold = 3.0 * sigma;
            let settings = PlanarSettings {
                max_correspondence: 3.0 * sigma,
                kernel_scale: sigma / 3.0,
                kernel: self.params.kernel,
                max_iterations: self.params.max_iterations,
                convergence: self.params.convergence,
            };
            // The candidates, the wheels' first: (pose, takes the wheels' position, takes
            // their heading).
            let mut candidates = vec![(predicted, from_wheels.is_some(), from_wheels.is_some())];
            if let Some(w) = from_wheels {
                candidates.push((Planar::new(w.x, w.y, continued.z), true, false));
                candidates.push((continued, false, false));
            }
            // Candidates closer to the first than the fine stage reaches (a third of its
            // threshold, the rotation measured at the sensor's range) add nothing.
            let reach = sigma;
            let first_guess = candidates[0].0;
            candidates.retain(|c| {
                let d = between(&first_guess, &c.0);
                c.0 == first_guess || d.xy().norm() + rp.sensor_range * d.z.abs() > reach
            });
            let mut start_pose = predicted;
            let (mut use_position, mut use_heading) = (candidates[0].1, candidates[0].2);
            if candidates.len() > 1 {
                let coarse = PlanarSettings {
                    kernel_scale: settings.kernel_scale * 3.0,
                    max_iterations: COARSE_ITERATIONS,
                    convergence: 1e-4,
                    ..settings
                };
                let pts: Vec<_> = source.iter().step_by(2).copied().collect();
                let nrm: Vec<_> = normals.iter().step_by(2).copied().collect();
                let mut best = f64::INFINITY;
                for &(c, position, heading) in &candidates {
                    let r = register_planar(&pts, &nrm, map, c, None, &coarse);
                    result.iterations += r.iterations;
                    let score = r.rms / (r.correspondences.max(1) as f64 / pts.len() as f64);
                    if score < best {
                        best = score;
                        start_pose = r.pose;
                        (use_position, use_heading) = (position, heading);
                    }
                }
            }
            let prior = from_wheels.filter(|_| use_position).map(|mean| {
                let step = self
                    .anchor
                    .map_or(Planar::zeros(), |(p, _)| between(&p, &mean));
                PosePrior {
                    mean,
                    sigma_position: self.params.wheel_sigma
                        + self.params.wheel_slip * step.xy().norm(),
                    sigma_yaw: if use_heading {
                        self.params.wheel_yaw_sigma_deg.to_radians()
                            + self.params.wheel_slip * step.z.abs()
                    } else {
                        f64::INFINITY
                    },
                    point_sigma: rp.residual_sigma,
                }
            });
            let reg = register_planar(
                &source,
                &normals,
                map,
                start_pose,
                prior.as_ref(),
                &settings,
            );
            result.iterations += reg.iterations;
            // The last pass, tight: once aligned, a match farther than a few point noises is
            // another surface (clutter, a person), and the wide threshold that found the
            // alignment would let it pull.
            let refine = PlanarSettings {
                max_correspondence: 3.0 * rp.refine_sigma,
                kernel_scale: rp.refine_sigma,
                kernel: Kernel::Cauchy,
                ..settings
            };
            let last = register_planar(&source, &normals, map, reg.pose, prior.as_ref(), &refine);
            result.iterations += last.iterations;
            // The fit figures stay the wide pass's: they judge the alignment, not the noise.
            let reg = PlanarRegistration {
                correspondences: reg.correspondences,
                rms: reg.rms,
                ..last
            };
            result.correspondences = reg.correspondences;
            result.rms = reg.rms;
            result.inlier_ratio = reg.correspondences as f64 / source.len() as f64;
            if !gap && forward.is_some() {
                threshold.update(&isometry_of(&between(&predicted, &reg.pose)));
            }
            reg.pose
        };
        result.ms.registration = ms(t1);
        result.note = (!first && result.inlier_ratio < self.params.min_inlier_ratio).then(|| {
            format!(
                "only {:.0}% of points matched the map (threshold {:.2} m): not inserted",
                100.0 * result.inlier_ratio,
                result.threshold
            )
        });
        let good = result.note.is_none();
        result.status = if good {
            ScanStatus::Ok
        } else {
            ScanStatus::Bad
        };
        let is_keyframe = good
            && self.last_keyframe.is_none_or(|k| {
                let d = between(&k, &pose);
                d.xy().norm() >= rp.keyframe_distance
                    || d.z.abs().to_degrees() >= self.params.keyframe_angle
            });
        if is_keyframe {
            let t2 = Instant::now();
            if let Some(r) = far_range(&frame) {
                self.reach = self.reach.max(r);
            }
            let place = isometry_of(&pose);
            let world: Vec<Point3<f64>> = frame
                .iter()
                .map(|p| place * Point3::new(p.x, p.y, 0.0))
                .collect();
            let keep = self.reach.min(rp.max_range);
            map.update(&world, &Point3::new(pose.x, pose.y, 0.0), keep);
            self.last_keyframe = Some(pose);
            result.keyframe = true;
            result.ms.map_update = ms(t2);
        }
        self.finish(result, pose, fresh, start)
    }

    /// Range crop, the map's points (voxel / 2 grid) and the registration source (voxel
    /// grid) with its line normals, de-skewed with the last velocity when the points have
    /// times.
    fn preprocess(&self, cloud: &PointCloud, rp: &PlanarResolved, dt: Option<f64>) -> Preprocessed {
        let times = cloud.time().filter(|_| dt.is_some());
        let v = self.velocity;
        let kept: Vec<Vector2<f64>> = cloud
            .points()
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                let r = p.coords.xy().norm();
                r >= rp.min_range && r <= rp.max_range && p.x.is_finite() && p.y.is_finite()
            })
            .map(|(i, p)| {
                let q = p.coords.xy();
                match times.and_then(|t| t.get(i)) {
                    // The point moved with the robot for `t` seconds: place it at the stamp.
                    Some(&t) if t != 0.0 => {
                        let t = t as f64;
                        let m = Planar::new(v.x * t, v.y * t, v.z * t);
                        let (s, c) = m.z.sin_cos();
                        Vector2::new(c * q.x - s * q.y + m.x, s * q.x + c * q.y + m.y)
                    }
                    _ => q,
                }
            })
            .collect();
        let normals_all = line_normals(&kept, self.params.normal_window, 3.0 * rp.voxel_size);
        let frame_idx = first_per_voxel(&kept, rp.voxel_size / 2.0);
        let source_idx = first_per_voxel(&kept, rp.voxel_size);
        let frame = frame_idx.iter().map(|&i| kept[i]).collect();
        let source = source_idx.iter().map(|&i| kept[i]).collect();
        let normals = source_idx.iter().map(|&i| normals_all[i]).collect();
        (frame, source, normals)
    }

    fn finish(
        &mut self,
        mut result: ScanResult,
        pose: Planar,
        fresh: Option<Planar>,
        start: Instant,
    ) -> ScanResult {
        if let Some(l) = &self.last {
            let dt = result.stamp - l.stamp;
            if dt > 0.0 {
                let step = between(&l.pose, &pose);
                self.velocity = step / dt;
            }
        }
        if let Some(w) = fresh {
            self.anchor = Some((pose, w));
        }
        result.pose = isometry_of(&pose);
        let v = self.velocity;
        result.twist = Twist::new(v.x, v.y, 0.0, 0.0, 0.0, v.z);
        self.last = Some(State {
            stamp: result.stamp,
            pose,
        });
        result.ms.total = ms(start);
        result
    }
}

/// A scan made ready: the points a keyframe gives the map, the registration source, and
/// the source's line normals.
type Preprocessed = (
    Vec<Vector2<f64>>,
    Vec<Vector2<f64>>,
    Vec<Option<Vector2<f64>>>,
);

/// Indices of the first point in each square cell of edge `size`, in the points' order.
fn first_per_voxel(points: &[Vector2<f64>], size: f64) -> Vec<usize> {
    let mut seen: FxHashSet<(i64, i64)> = FxHashSet::default();
    seen.reserve(points.len());
    points
        .iter()
        .enumerate()
        .filter(|(_, p)| seen.insert(((p.x / size).floor() as i64, (p.y / size).floor() as i64)))
        .map(|(i, _)| i)
        .collect()
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A room 10 × 6 m with a pillar, seen by a 361-beam, 180° laser from `pose`.
    fn scan_from(pose: &Planar, stamp: f64) -> PointCloud {
        let walls = [
            ((-5.0, -3.0), (5.0, -3.0)),
            ((5.0, -3.0), (5.0, 3.0)),
            ((5.0, 3.0), (-5.0, 3.0)),
            ((-5.0, 3.0), (-5.0, -3.0)),
            ((1.0, 0.5), (1.5, 0.5)),
            ((1.5, 0.5), (1.5, 1.0)),
            ((1.5, 1.0), (1.0, 1.0)),
            ((1.0, 1.0), (1.0, 0.5)),
        ];
        let mut pts = Vec::new();
        for i in 0..361 {
            let a = pose.z + (-90.0 + 0.5 * i as f64).to_radians();
            let d = Vector2::new(a.cos(), a.sin());
            let o = pose.xy();
            let mut best = f64::INFINITY;
            for ((x0, y0), (x1, y1)) in walls {
                let (p, q) = (Vector2::new(x0, y0), Vector2::new(x1, y1));
                let e = q - p;
                let den = d.x * e.y - d.y * e.x;
                if den.abs() < 1e-12 {
                    continue;
                }
                let w = p - o;
                let t = (w.x * e.y - w.y * e.x) / den;
                let u = (w.x * d.y - w.y * d.x) / den;
                if t > 0.0 && (0.0..=1.0).contains(&u) {
                    best = best.min(t);
                }
            }
            if best.is_finite() {
                let l = (best * d).xy();
                let (s, c) = pose.z.sin_cos();
                pts.push(Point3::new(c * l.x + s * l.y, -s * l.x + c * l.y, 0.0));
            }
        }
        PointCloud::new(pts).with_stamp(stamp)
    }

    #[test]
    fn follows_a_path_in_a_room_with_and_without_wheels() {
        for with_wheels in [true, false] {
            let mut odo = PlanarOdometry::new(PlanarParams::default());
            let mut worst: f64 = 0.0;
            for i in 0..40 {
                let s = i as f64 * 0.2;
                let truth = Planar::new(
                    -3.0 + 0.05 * i as f64,
                    -1.0 + 0.02 * i as f64,
                    0.3 * s.sin(),
                );
                // Wheels that drift: 3 % long and turning 0.2° a scan too much.
                let wheels =
                    Planar::new(truth.x * 1.03, truth.y * 1.03, truth.z + 0.0035 * i as f64);
                let r = odo.process(
                    &scan_from(&truth, s),
                    with_wheels.then(|| isometry_of(&wheels)).as_ref(),
                );
                assert_ne!(r.status, ScanStatus::Skipped);
                // The estimate starts at the origin: compare in the first pose's frame.
                let first = Planar::new(-3.0, -1.0, 0.0);
                let est = planar_of(&r.pose);
                let want = between(&first, &truth);
                worst = worst.max((est.xy() - want.xy()).norm());
                assert!(
                    wrap(est.z - want.z).abs() < 0.3f64.to_radians(),
                    "scan {i}: {est:?} vs {want:?}"
                );
            }
            assert!(worst < 0.02, "wheels {with_wheels}: {worst}");
        }
    }

    #[test]
    fn time_going_backwards_keeps_the_order_and_the_track() {
        let mut odo = PlanarOdometry::new(PlanarParams::default());
        let stamps = [0.0, 0.2, 0.1, 0.3, 0.25, 0.5];
        for (i, &t) in stamps.iter().enumerate() {
            let truth = Planar::new(-3.0 + 0.05 * i as f64, -1.0, 0.02 * i as f64);
            let wheels = isometry_of(&truth);
            let r = odo.process(&scan_from(&truth, t), Some(&wheels));
            assert_eq!(r.stamp, t);
            assert_eq!(r.status, ScanStatus::Ok, "scan {i}: {:?}", r.note);
            let want = between(&Planar::new(-3.0, -1.0, 0.0), &truth);
            let est = planar_of(&r.pose);
            assert!((est - want).norm() < 0.01, "scan {i}: {est:?} vs {want:?}");
        }
    }

    #[test]
    fn measures_the_scanner() {
        let c = scan_from(&Planar::new(0.0, 0.0, 0.0), 0.0);
        let r = PlanarParams::default().resolve(&c).unwrap();
        assert!((r.beam_spacing - 0.5f64.to_radians()).abs() < 1e-6, "{r:?}");
        assert!(r.voxel_size > 0.02 && r.voxel_size < 0.2, "{r:?}");
    }

    #[test]
    fn planar_pose_helpers_agree() {
        let a = Planar::new(1.0, -2.0, 0.7);
        let b = Planar::new(0.3, 0.4, -2.9);
        let back = compose(&a, &between(&a, &b));
        assert!((back.xy() - b.xy()).norm() < 1e-12 && wrap(back.z - b.z).abs() < 1e-12);
        let i = isometry_of(&b);
        assert!((planar_of(&i) - b).norm() < 1e-12);
        let rel = isometry_of(&a).inverse() * i;
        assert!((planar_of(&rel) - between(&a, &b)).norm() < 1e-12);
    }
}
