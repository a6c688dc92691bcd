//! Gauss-Newton registration of a scan against the local map on SE(3), optionally with the
//! body twist in the state (12 degrees of freedom): each residual de-skews its point with
//! the current twist at the point's own time, so pose and velocity converge together.
//!
//! A point `p` measured at time `t` lands in the world at `T · exp(ξ t) · p`. The pose is
//! perturbed on the right (`T ← T · exp(δ)`), the twist additively. Correspondences and
//! normal equations are computed in parallel with rayon.

use super::local_map::{Density, LocalMap, Neighbourhood};
use super::params::{Kernel, ResidualKind};
use crate::geometry::{exp, hat, log, Twist, TwistMotion};
use nalgebra::{Isometry3, Matrix3, Point3, SMatrix, SVector, Vector3};
use rayon::prelude::*;

/// Points per parallel chunk of the normal equations at most: large enough that a chunk's
/// partial sums cost little to merge.
const CHUNK: usize = 128;
/// A registration's points go in at least this many chunks (of at least `MIN_CHUNK`
/// points), so that a few hundred (the coarse stage's subset) still spread evenly over the
/// cores: in two chunks of 128 and 63, one core waited a third of every iteration. The
/// chunking depends on the point count alone, not on the threads, so the sums stay
/// deterministic.
const MIN_CHUNKS: usize = 16;
/// Fewest points per chunk.
const MIN_CHUNK: usize = 16;

type Mat12 = SMatrix<f64, 12, 12>;
type Vec12 = SVector<f64, 12>;

/// Settings of one registration.
#[derive(Debug, Clone, Copy)]
pub struct RegistrationSettings {
    /// Correspondences farther than this are ignored, metres.
    pub max_correspondence: f64,
    /// Scale of the robust kernel.
    pub kernel_scale: f64,
    /// Robust kernel.
    pub kernel: Kernel,
    /// Residual type.
    pub residual: ResidualKind,
    /// Iterations at most.
    pub max_iterations: usize,
    /// Stop when the update norm falls below this.
    pub convergence: f64,
    /// Estimate the twist with the pose (needs per-point times to be observable from the
    /// scan itself; the priors tie it to the pose change otherwise).
    pub estimate_twist: bool,
    /// Noise of a correspondence, metres: scales the priors against the point residuals.
    pub point_sigma: f64,
    /// Which map points correspondences are searched among.
    pub density: Density,
    /// A pose step pointing the same way as the previous one (cosine above
    /// [`AGREEING_STEPS`]) is stretched by this factor, as long as stretching has not made
    /// the fit worse; 1 is plain Gauss-Newton. From a poor guess nearest-neighbour
    /// correspondences drag behind the true alignment, so ICP creeps towards it in many small
    /// steps of one direction; stretching them shortens the creep.
    pub over_relaxation: f64,
    /// Keep each point's map neighbourhood between iterations and answer from it while it
    /// certainly holds the exact nearest point (see [`Neighbourhood`]): worth it where points
    /// move millimetres per iteration (a fine alignment), not where they move decimetres
    /// (a coarse one from a poor guess, where most certificates fail and the search for a
    /// neighbourhood costs more than one for the nearest point).
    pub reuse_neighbourhoods: bool,
}

/// Cosine between two successive pose steps above which they count as one direction.
pub const AGREEING_STEPS: f64 = 0.7;

/// Motion priors tying the twist to the previous state.
#[derive(Debug, Clone, Copy)]
pub struct MotionPrior {
    /// Pose of the previous scan.
    pub previous_pose: Isometry3<f64>,
    /// Twist of the previous scan, when it was estimated (not on the first registration).
    pub previous_twist: Option<Twist>,
    /// Time since the previous scan, seconds.
    pub dt: f64,
    /// Expected linear acceleration, m/s².
    pub linear_acceleration: f64,
    /// Expected angular acceleration, rad/s².
    pub angular_acceleration: f64,
}

/// What a registration found.
#[derive(Debug, Clone, Copy)]
pub struct Registration {
    /// Pose at the scan's stamp.
    pub pose: Isometry3<f64>,
    /// Body twist.
    pub twist: Twist,
    /// Iterations run.
    pub iterations: usize,
    /// Correspondences in the last iteration.
    pub correspondences: usize,
    /// RMS of the last iteration's residuals, metres.
    pub rms: f64,
}

fn kernel_weight(kernel: Kernel, scale: f64, r2: f64) -> f64 {
    match kernel {
        Kernel::GemanMcclure => scale * scale / ((scale + r2) * (scale + r2)),
        Kernel::Cauchy => 1.0 / (1.0 + r2 / (scale * scale)),
    }
}

struct Accumulator {
    h: Mat12,
    g: Vec12,
    count: usize,
    sse: f64,
}

impl Accumulator {
    fn zero() -> Self {
        Accumulator {
            h: Mat12::zeros(),
            g: Vec12::zeros(),
            count: 0,
            sse: 0.0,
        }
    }

    /// Adds one residual `r` with Jacobian row `jr` and weight `w`, on the first `N`
    /// unknowns, to `g` and to the lower triangle of `h` (mirrored once all are summed).
    fn add<const N: usize>(&mut self, jr: &Vec12, r: f64, w: f64) {
        for a in 0..N {
            let wa = w * jr[a];
            self.g[a] += wa * r;
            for b in 0..=a {
                self.h[(a, b)] += wa * jr[b];
            }
        }
    }

    fn merge(&mut self, o: &Accumulator) {
        self.h += o.h;
        self.g += o.g;
        self.count += o.count;
        self.sse += o.sse;
    }
}

/// Registers `source` (sensor-frame points, with per-point `times` relative to the stamp
/// when available) against `map`, starting from `pose` and `twist`.
pub fn register(
    source: &[Point3<f64>],
    times: Option<&[f32]>,
    map: &LocalMap,
    mut pose: Isometry3<f64>,
    mut twist: Twist,
    prior: Option<&MotionPrior>,
    s: &RegistrationSettings,
) -> Registration {
    let mut result = Registration {
        pose,
        twist,
        iterations: 0,
        correspondences: 0,
        rms: 0.0,
    };
    let dof = if s.estimate_twist { 12 } else { 6 };
    // Each point's map neighbourhood from its last search: while the point stays inside it,
    // its exact nearest map point needs no tree search.
    let mut hints: Vec<Option<Neighbourhood>> = vec![None; source.len()];
    // Without neighbourhoods, each point's last match: it bounds the point's next search.
    let mut matches: Vec<Option<Point3<f64>>> = vec![None; source.len()];
    let per_chunk = (source.len() / MIN_CHUNKS).clamp(MIN_CHUNK, CHUNK);
    let mut previous_step = Twist::zeros();
    let mut stretched = false;
    let mut stretching = s.over_relaxation != 1.0;
    let mut previous_rms = f64::INFINITY;
    for iteration in 1..=s.max_iterations.max(1) {
        let rotation: Matrix3<f64> = pose.rotation.to_rotation_matrix().into_inner();
        let sweep = TwistMotion::new(&twist);
        // The accumulator is passed by reference: by value, its 1.2 kB matrix would be
        // copied for every point.
        let accumulate = |acc: &mut Accumulator,
                          i: usize,
                          p: &Point3<f64>,
                          hint: &mut Option<Neighbourhood>,
                          last: &mut Option<Point3<f64>>| {
            let t = times.map_or(0.0, |v| v[i] as f64);
            let motion = (s.estimate_twist && t != 0.0).then(|| sweep.at(t));
            let deskewed = motion.map_or(*p, |(r, d)| Point3::from(r * p.coords + d));
            let world = pose * deskewed;
            let found = if s.reuse_neighbourhoods {
                map.nearest_near(s.density, &world, s.max_correspondence, hint)
            } else {
                map.nearest_tracked(s.density, &world, s.max_correspondence, last)
            };
            let Some(nn) = found else {
                return;
            };
            // d(world)/d(pose perturbation) and d(world)/d(twist), 3x6 each.
            let mut j = SMatrix::<f64, 3, 12>::zeros();
            j.fixed_view_mut::<3, 3>(0, 0).copy_from(&rotation);
            j.fixed_view_mut::<3, 3>(0, 3)
                .copy_from(&(-rotation * hat(&deskewed.coords)));
            if let Some((m, _)) = motion {
                // exp((ξ+δ)t) ≈ exp(ξt)·exp(δt): the twist moves the point in the frame
                // of the point's own time.
                let r = rotation * m;
                j.fixed_view_mut::<3, 3>(0, 6).copy_from(&(r * t));
                j.fixed_view_mut::<3, 3>(0, 9)
                    .copy_from(&(-r * hat(&p.coords) * t));
            }
            let diff: Vector3<f64> = world - nn.point;
            // Without a time (or a twist to estimate) the twist columns are zero: only the
            // pose block is summed.
            let add = if motion.is_some() {
                Accumulator::add::<12>
            } else {
                Accumulator::add::<6>
            };
            match (s.residual, nn.normal) {
                (ResidualKind::PointToPlane, Some(n)) => {
                    let r = n.dot(&diff);
                    let w = kernel_weight(s.kernel, s.kernel_scale, r * r);
                    add(acc, &(j.transpose() * n), r, w);
                    acc.sse += r * r;
                }
                _ => {
                    let r2 = diff.norm_squared();
                    let w = kernel_weight(s.kernel, s.kernel_scale, r2);
                    for k in 0..3 {
                        add(acc, &j.row(k).transpose(), diff[k], w);
                    }
                    acc.sse += r2;
                }
            }
            acc.count += 1;
        };
        // Fixed chunks summed in order: the same input gives bit-identical normal equations
        // whatever the number of threads or how rayon schedules them (a fold/reduce would
        // add in a different order from run to run).
        let partials: Vec<Accumulator> = source
            .par_chunks(per_chunk)
            .zip(hints.par_chunks_mut(per_chunk))
            .zip(matches.par_chunks_mut(per_chunk))
            .enumerate()
            .map(|(c, ((chunk, hints), matches))| {
                let mut acc = Accumulator::zero();
                let points = chunk.iter().zip(hints.iter_mut()).zip(matches.iter_mut());
                for (k, ((p, hint), last)) in points.enumerate() {
                    accumulate(&mut acc, c * per_chunk + k, p, hint, last);
                }
                acc
            })
            .collect();
        let mut acc = Accumulator::zero();
        partials.iter().for_each(|p| acc.merge(p));
        acc.h.fill_upper_triangle_with_lower_triangle();
        let (mut h, mut g) = (acc.h, acc.g);
        if let (Some(m), true) = (prior, s.estimate_twist) {
            add_priors(&mut h, &mut g, m, &pose, &twist, s.point_sigma);
        }
        result.iterations = iteration;
        result.correspondences = acc.count;
        result.rms = if acc.count > 0 {
            (acc.sse / acc.count as f64).sqrt()
        } else {
            0.0
        };
        if acc.count < 6 {
            break;
        }
        let delta = solve(&h, &g, dof);
        let mut dp = Twist::zeros();
        dp.copy_from(&delta.fixed_rows::<6>(0));
        if stretched && result.rms > previous_rms {
            // The last stretch made the fit worse: plain steps from here on.
            stretching = false;
        }
        previous_rms = result.rms;
        let agreeing = dp.dot(&previous_step) > AGREEING_STEPS * dp.norm() * previous_step.norm();
        previous_step = dp;
        stretched = stretching && agreeing;
        if stretched {
            dp *= s.over_relaxation;
        }
        pose *= exp(&dp);
        if s.estimate_twist {
            twist += delta.fixed_rows::<6>(6);
        }
        result.pose = pose;
        result.twist = twist;
        // A twist change matters through the sweep's duration (about 0.1 s): weigh it so.
        let step = delta.fixed_rows::<6>(0).norm() + 0.05 * delta.fixed_rows::<6>(6).norm();
        if step < s.convergence {
            break;
        }
    }
    result
}

/// Adds the constant-velocity prior (`ξ ≈ ξ_prev`) and the tie between pose change and
/// twist (`ξ Δt ≈ log(T_prev⁻¹ T)`), each weighed by the expected acceleration.
fn add_priors(
    h: &mut Mat12,
    g: &mut Vec12,
    m: &MotionPrior,
    pose: &Isometry3<f64>,
    twist: &Twist,
    point_sigma: f64,
) {
    let dt = m.dt.max(1e-3);
    let sigma_vel = |k: usize| {
        if k < 3 {
            m.linear_acceleration * dt
        } else {
            m.angular_acceleration * dt
        }
    };
    let ps2 = point_sigma * point_sigma;
    // Constant velocity: e = ξ − ξ_prev, d e / d ξ = I.
    if let Some(previous) = m.previous_twist {
        let e_cv = twist - previous;
        for k in 0..6 {
            let info = ps2 / sigma_vel(k).powi(2);
            h[(6 + k, 6 + k)] += info;
            g[6 + k] += info * e_cv[k];
        }
    }
    // Pose change: e = ξ Δt − log(T_prev⁻¹ T), d e / d δ ≈ −I, d e / d ξ = Δt I.
    let e_tie = twist * dt - log(&(m.previous_pose.inverse() * pose));
    for k in 0..6 {
        let sigma = sigma_vel(k) * dt / 2.0;
        let info = ps2 / (sigma * sigma);
        let (a, b) = (k, 6 + k);
        h[(a, a)] += info;
        h[(b, b)] += info * dt * dt;
        h[(a, b)] -= info * dt;
        h[(b, a)] -= info * dt;
        g[a] -= info * e_tie[k];
        g[b] += info * dt * e_tie[k];
    }
}

/// Solves `H δ = −g` on the first `dof` unknowns (Cholesky, with a little damping when
/// the system is singular).
fn solve(h: &Mat12, g: &Vec12, dof: usize) -> Vec12 {
    let mut out = Vec12::zeros();
    if dof == 6 {
        let h6 = h.fixed_view::<6, 6>(0, 0).into_owned();
        let g6 = g.fixed_rows::<6>(0).into_owned();
        let d = h6.cholesky().map(|c| c.solve(&(-g6))).unwrap_or_else(|| {
            (h6 + SMatrix::<f64, 6, 6>::identity() * 1e-6)
                .lu()
                .solve(&(-g6))
                .unwrap_or_default()
        });
        out.fixed_rows_mut::<6>(0).copy_from(&d);
        return out;
    }
    h.cholesky().map(|c| c.solve(&(-g))).unwrap_or_else(|| {
        (h + Mat12::identity() * 1e-6)
            .lu()
            .solve(&(-g))
            .unwrap_or_default()
    })
}
