//! Gauss-Newton registration of a planar scan against the local map, constrained to the
//! plane: the unknowns are x, y and yaw (z, roll and pitch stay 0). The map is the 3D
//! odometry's [`LocalMap`] (voxels, k-d trees, reused neighbourhoods) holding points at
//! z = 0. Its plane normals are not used: a voxel of a 2D scan holds a segment of a line,
//! whose least covariance direction is the vertical, not the wall's normal. Instead each
//! scan point carries the normal of the line through its neighbours in beam order (see
//! [`line_normals`]), and its residual is the distance to the nearest map point along that
//! normal (point-to-line); points on no line (corners, clutter) use the point-to-point
//! distance. A prior on the pose (the wheel odometry's motion) holds the directions the
//! scene leaves free, as along a corridor.

use super::local_map::{Density, LocalMap, Neighbourhood};
use super::params::Kernel;
use nalgebra::{Matrix3, Point3, Vector2, Vector3};

/// A pose on the plane: x, y (metres) and yaw (radians).
pub type Planar = Vector3<f64>;

/// Settings of one planar registration.
#[derive(Debug, Clone, Copy)]
pub struct PlanarSettings {
    /// Correspondences farther than this are ignored, metres.
    pub max_correspondence: f64,
    /// Scale of the robust kernel.
    pub kernel_scale: f64,
    /// Robust kernel.
    pub kernel: Kernel,
    /// Iterations at most.
    pub max_iterations: usize,
    /// Stop when the update (metres plus radians) falls below this.
    pub convergence: f64,
}

/// A Gaussian prior on the pose: `mean` with standard deviations of the position (metres,
/// the same in every direction) and of the yaw (radians), weighed against point residuals
/// of noise `point_sigma` (metres).
#[derive(Debug, Clone, Copy)]
pub struct PosePrior {
    /// Expected pose.
    pub mean: Planar,
    /// Standard deviation of the position, metres.
    pub sigma_position: f64,
    /// Standard deviation of the yaw, radians.
    pub sigma_yaw: f64,
    /// Noise of a point residual, metres.
    pub point_sigma: f64,
}

/// What a registration found.
#[derive(Debug, Clone, Copy)]
pub struct PlanarRegistration {
    /// The pose.
    pub pose: Planar,
    /// Iterations run.
    pub iterations: usize,
    /// Correspondences in the last iteration.
    pub correspondences: usize,
    /// RMS of the last iteration's residuals, metres.
    pub rms: f64,
}

/// The 2D rotation of `yaw` applied to `(x, y)`.
#[cfg(test)]
fn rotate(yaw: f64, v: Vector2<f64>) -> Vector2<f64> {
    turn(yaw.sin_cos(), v)
}

/// The 2D rotation of sine and cosine `(s, c)` applied to `(x, y)`.
fn turn((s, c): (f64, f64), v: Vector2<f64>) -> Vector2<f64> {
    Vector2::new(c * v.x - s * v.y, s * v.x + c * v.y)
}

fn kernel_weight(kernel: Kernel, scale: f64, r2: f64) -> f64 {
    match kernel {
        Kernel::GemanMcclure => scale * scale / ((scale + r2) * (scale + r2)),
        Kernel::Cauchy => 1.0 / (1.0 + r2 / (scale * scale)),
    }
}

/// Registers `points` (robot frame, on the plane) with their `normals` against `map` from
/// `pose`; `prior`, when given, pulls towards its mean.
pub fn register_planar(
    points: &[Vector2<f64>],
    normals: &[Option<Vector2<f64>>],
    map: &LocalMap,
    mut pose: Planar,
    prior: Option<&PosePrior>,
    s: &PlanarSettings,
) -> PlanarRegistration {
    let mut result = PlanarRegistration {
        pose,
        iterations: 0,
        correspondences: 0,
        rms: 0.0,
    };
    let mut hints: Vec<Option<Neighbourhood>> = vec![None; points.len()];
    for iteration in 1..=s.max_iterations.max(1) {
        let mut h = Matrix3::<f64>::zeros();
        let mut g = Vector3::<f64>::zeros();
        let (mut count, mut sse) = (0usize, 0.0);
        let sc = pose.z.sin_cos();
        for (i, p) in points.iter().enumerate() {
            let rp = turn(sc, *p);
            let q = rp + pose.xy();
            let query = Point3::new(q.x, q.y, 0.0);
            let Some(nn) =
                map.nearest_near(Density::Full, &query, s.max_correspondence, &mut hints[i])
            else {
                continue;
            };
            let diff = q - nn.point.coords.xy();
            // d q / d yaw
            let dq = Vector2::new(-rp.y, rp.x);
            match normals.get(i).copied().flatten() {
                Some(n) => {
                    let nw = turn(sc, n);
                    let r = nw.dot(&diff);
                    // The normal turns with the scan: d nw / d yaw = (−nw.y, nw.x).
                    let j = Vector3::new(
                        nw.x,
                        nw.y,
                        nw.dot(&dq) + Vector2::new(-nw.y, nw.x).dot(&diff),
                    );
                    let w = kernel_weight(s.kernel, s.kernel_scale, r * r);
                    h += w * j * j.transpose();
                    g += w * j * r;
                    sse += r * r;
                }
                None => {
                    let r2 = diff.norm_squared();
                    let w = kernel_weight(s.kernel, s.kernel_scale, r2);
                    let jx = Vector3::new(1.0, 0.0, dq.x);
                    let jy = Vector3::new(0.0, 1.0, dq.y);
                    h += w * (jx * jx.transpose() + jy * jy.transpose());
                    g += w * (jx * diff.x + jy * diff.y);
                    sse += r2;
                }
            }
            count += 1;
        }
        if let Some(m) = prior {
            let ps2 = m.point_sigma * m.point_sigma;
            let e = Vector3::new(
                pose.x - m.mean.x,
                pose.y - m.mean.y,
                super::planar::wrap(pose.z - m.mean.z),
            );
            let info = Vector3::new(
                ps2 / m.sigma_position.powi(2),
                ps2 / m.sigma_position.powi(2),
                ps2 / m.sigma_yaw.powi(2),
            );
            for k in 0..3 {
                h[(k, k)] += info[k];
                g[k] += info[k] * e[k];
            }
        }
        result.iterations = iteration;
        result.correspondences = count;
        result.rms = if count > 0 {
            (sse / count as f64).sqrt()
        } else {
            0.0
        };
        if count < 3 && prior.is_none() {
            break;
        }
        let delta = h
            .cholesky()
            .map(|c| c.solve(&(-g)))
            .or_else(|| (h + Matrix3::identity() * 1e-9).lu().solve(&(-g)));
        let Some(delta) = delta else { break };
        pose += delta;
        pose.z = super::planar::wrap(pose.z);
        result.pose = pose;
        if delta.xy().norm() + delta.z.abs() < s.convergence {
            break;
        }
    }
    result
}

/// The unit normal of the line through each point and its neighbours in beam order (up to
/// `window` on each side, within `radius` of it), in the points' frame; `None` where fewer
/// than 3 points lie near or they do not line up (the smaller spread across the line above
/// a tenth of the larger along it). Scans keep their beam order through the readers and
/// the range crop, so neighbours in the list are neighbours on the wall.
pub fn line_normals(
    points: &[Vector2<f64>],
    window: usize,
    radius: f64,
) -> Vec<Option<Vector2<f64>>> {
    let r2 = radius * radius;
    (0..points.len())
        .map(|i| {
            let p = points[i];
            let lo = i.saturating_sub(window);
            let hi = (i + window + 1).min(points.len());
            let near = || {
                points[lo..hi]
                    .iter()
                    .filter(|q| (*q - p).norm_squared() <= r2)
            };
            let n = near().count();
            if n < 3 {
                return None;
            }
            let mean = near().sum::<Vector2<f64>>() / n as f64;
            let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
            for q in near() {
                let d = q - mean;
                sxx += d.x * d.x;
                sxy += d.x * d.y;
                syy += d.y * d.y;
            }
            // Eigenvalues of [[sxx, sxy], [sxy, syy]].
            let half_trace = (sxx + syy) / 2.0;
            let root = (((sxx - syy) / 2.0).powi(2) + sxy * sxy).sqrt();
            let (large, small) = (half_trace + root, half_trace - root);
            if large.is_nan() || large <= 0.0 || small > 0.1 * large {
                return None;
            }
            // The line's direction is the large eigenvalue's eigenvector; the normal is
            // perpendicular to it.
            let along = if sxy.abs() > 1e-15 {
                Vector2::new(large - syy, sxy)
            } else if sxx >= syy {
                Vector2::new(1.0, 0.0)
            } else {
                Vector2::new(0.0, 1.0)
            };
            let along = along.try_normalize(1e-15)?;
            Some(Vector2::new(-along.y, along.x))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two walls meeting at a corner, and a third, as points 2 cm apart.
    fn room() -> Vec<Vector2<f64>> {
        let mut v = Vec::new();
        for i in 0..200 {
            v.push(Vector2::new(-2.0 + 0.02 * i as f64, 3.0));
            v.push(Vector2::new(2.0, -1.0 + 0.02 * i as f64));
            v.push(Vector2::new(-2.0, -1.0 + 0.01 * i as f64));
        }
        v
    }

    #[test]
    fn normals_of_a_line_are_perpendicular_to_it() {
        let line: Vec<Vector2<f64>> = (0..10)
            .map(|i| Vector2::new(i as f64 * 0.1, 0.5 * i as f64 * 0.1))
            .collect();
        let n = line_normals(&line, 3, 1.0);
        let dir = Vector2::new(1.0, 0.5).normalize();
        for k in n {
            let k = k.unwrap();
            assert!(k.dot(&dir).abs() < 1e-9 && (k.norm() - 1.0).abs() < 1e-12);
        }
        // Scattered points give none.
        let blob = [
            Vector2::new(0.0, 0.0),
            Vector2::new(0.1, 0.1),
            Vector2::new(0.0, 0.1),
            Vector2::new(0.1, 0.0),
        ];
        assert!(line_normals(&blob, 3, 1.0).iter().all(Option::is_none));
    }

    #[test]
    fn recovers_a_planar_offset() {
        let world = room();
        let mut map = LocalMap::new(0.05, 20);
        let pts: Vec<Point3<f64>> = world.iter().map(|p| Point3::new(p.x, p.y, 0.0)).collect();
        map.update(&pts, &Point3::origin(), 100.0);
        // The scan is the room seen from (0.1, −0.05) turned 2°.
        let truth = Planar::new(0.1, -0.05, 2f64.to_radians());
        let scan: Vec<Vector2<f64>> = world
            .iter()
            .map(|p| rotate(-truth.z, p - truth.xy()))
            .collect();
        // Beam order: along each wall.
        let mut ordered = Vec::new();
        for k in 0..3 {
            ordered.extend(scan.iter().skip(k).step_by(3).copied());
        }
        let normals = line_normals(&ordered, 4, 0.2);
        let s = PlanarSettings {
            max_correspondence: 0.5,
            kernel_scale: 0.1,
            kernel: Kernel::GemanMcclure,
            max_iterations: 50,
            convergence: 1e-7,
        };
        let r = register_planar(&ordered, &normals, &map, Planar::zeros(), None, &s);
        assert!((r.pose - truth).norm() < 2e-3, "{:?} vs {truth:?}", r.pose);
    }

    #[test]
    fn a_prior_holds_what_the_scene_leaves_free() {
        // One long wall along x: x is free, the prior holds it.
        let wall: Vec<Vector2<f64>> = (0..400)
            .map(|i| Vector2::new(-4.0 + 0.02 * i as f64, 1.0))
            .collect();
        let mut map = LocalMap::new(0.05, 20);
        let pts: Vec<Point3<f64>> = wall.iter().map(|p| Point3::new(p.x, p.y, 0.0)).collect();
        map.update(&pts, &Point3::origin(), 100.0);
        let scan: Vec<Vector2<f64>> = wall.iter().map(|p| p - Vector2::new(0.0, 0.03)).collect();
        let normals = line_normals(&scan, 4, 0.2);
        let s = PlanarSettings {
            max_correspondence: 0.5,
            kernel_scale: 0.1,
            kernel: Kernel::GemanMcclure,
            max_iterations: 50,
            convergence: 1e-8,
        };
        let prior = PosePrior {
            mean: Planar::new(0.25, 0.0, 0.0),
            sigma_position: 0.05,
            sigma_yaw: 0.05,
            point_sigma: 0.02,
        };
        let r = register_planar(&scan, &normals, &map, prior.mean, Some(&prior), &s);
        assert!((r.pose.x - 0.25).abs() < 1e-3, "{:?}", r.pose);
        assert!((r.pose.y - 0.03).abs() < 1e-3, "{:?}", r.pose);
    }
}
