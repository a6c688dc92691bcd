//! SE(3) on nalgebra's types: the exponential and logarithm maps, twists and
//! interpolation. A twist is `[v; ω]`: linear velocity (m/s) then angular velocity
//! (rad/s), both in the body frame, so a constant twist `ξ` over `t` seconds moves the
//! body by `exp(ξ t)`.

use nalgebra::{Isometry3, Matrix3, Point3, Translation3, UnitQuaternion, Vector3, Vector6};

/// Linear then angular velocity in the body frame.
pub type Twist = Vector6<f64>;

/// Skew-symmetric matrix of `w`: `hat(w) * x == w.cross(&x)`.
pub fn hat(w: &Vector3<f64>) -> Matrix3<f64> {
    Matrix3::new(0.0, -w.z, w.y, w.z, 0.0, -w.x, -w.y, w.x, 0.0)
}

/// The left Jacobian of SO(3) at `w`, which maps the linear part of a twist to the
/// translation of its exponential.
fn so3_left_jacobian(w: &Vector3<f64>) -> Matrix3<f64> {
    let theta2 = w.norm_squared();
    let wx = hat(w);
    if theta2 < 1e-12 {
        return Matrix3::identity() + 0.5 * wx + wx * wx / 6.0;
    }
    let theta = theta2.sqrt();
    Matrix3::identity()
        + (1.0 - theta.cos()) / theta2 * wx
        + (theta - theta.sin()) / (theta2 * theta) * wx * wx
}

/// Inverse of [`so3_left_jacobian`].
fn so3_left_jacobian_inv(w: &Vector3<f64>) -> Matrix3<f64> {
    let theta2 = w.norm_squared();
    let wx = hat(w);
    if theta2 < 1e-12 {
        return Matrix3::identity() - 0.5 * wx + wx * wx / 12.0;
    }
    let theta = theta2.sqrt();
    let coef = (1.0 - theta * theta.sin() / (2.0 * (1.0 - theta.cos()))) / theta2;
    Matrix3::identity() - 0.5 * wx + coef * wx * wx
}

/// Exponential map: twist (times duration) to a rigid transform.
pub fn exp(xi: &Twist) -> Isometry3<f64> {
    let v = xi.fixed_rows::<3>(0).into_owned();
    let w = xi.fixed_rows::<3>(3).into_owned();
    let rotation = UnitQuaternion::from_scaled_axis(w);
    let translation = so3_left_jacobian(&w) * v;
    Isometry3::from_parts(Translation3::from(translation), rotation)
}

/// The motion of one constant twist over time, `exp(ξ t)` for many `t`: what depends on
/// the twist alone is computed once, so each time costs one sine and cosine and a few
/// products (Rodrigues' formula), not a whole exponential map. De-skewing evaluates it
/// for every point of a sweep, the registration for every point in every iteration.
#[derive(Debug, Clone, Copy)]
pub struct TwistMotion {
    v: Vector3<f64>,
    theta2: f64,
    /// `hat(ω)` and its square.
    wx: Matrix3<f64>,
    wx2: Matrix3<f64>,
    /// `hat(ω) v` and `hat(ω)² v`.
    wv: Vector3<f64>,
    wwv: Vector3<f64>,
}

impl TwistMotion {
    /// The motion of `xi`.
    pub fn new(xi: &Twist) -> TwistMotion {
        let v = xi.fixed_rows::<3>(0).into_owned();
        let w = xi.fixed_rows::<3>(3).into_owned();
        let wx = hat(&w);
        let wx2 = wx * wx;
        TwistMotion {
            v,
            theta2: w.norm_squared(),
            wx,
            wx2,
            wv: wx * v,
            wwv: wx2 * v,
        }
    }

    /// Rotation matrix and translation of `exp(ξ t)`.
    pub fn at(&self, t: f64) -> (Matrix3<f64>, Vector3<f64>) {
        // sin(θt)/θ, (1 − cos θt)/θ², (θt − sin θt)/θ³; by their series where θt is
        // small (the closed forms cancel there), exact to rounding either way.
        let x2 = self.theta2 * t * t;
        let (a, b, c) = if x2 < 1e-6 {
            let t2 = t * t;
            (
                t * (1.0 - x2 / 6.0 * (1.0 - x2 / 20.0)),
                t2 / 2.0 * (1.0 - x2 / 12.0),
                t2 * t / 6.0 * (1.0 - x2 / 20.0),
            )
        } else {
            let theta = self.theta2.sqrt();
            let (sin, cos) = (theta * t).sin_cos();
            (
                sin / theta,
                (1.0 - cos) / self.theta2,
                (theta * t - sin) / (self.theta2 * theta),
            )
        };
        let rotation = Matrix3::identity() + self.wx * a + self.wx2 * b;
        (rotation, self.v * t + self.wv * b + self.wwv * c)
    }

    /// `exp(ξ t) · p`.
    pub fn apply(&self, t: f64, p: &Point3<f64>) -> Point3<f64> {
        let (rotation, translation) = self.at(t);
        Point3::from(rotation * p.coords + translation)
    }
}

/// Logarithm map: rigid transform to the twist whose exponential it is.
pub fn log(pose: &Isometry3<f64>) -> Twist {
    let w = pose.rotation.scaled_axis();
    let v = so3_left_jacobian_inv(&w) * pose.translation.vector;
    let mut xi = Twist::zeros();
    xi.fixed_rows_mut::<3>(0).copy_from(&v);
    xi.fixed_rows_mut::<3>(3).copy_from(&w);
    xi
}

/// The pose a fraction `s` of the way from `a` to `b` along the constant-twist path
/// (`s = 0` gives `a`, `s = 1` gives `b`).
pub fn interpolate(a: &Isometry3<f64>, b: &Isometry3<f64>, s: f64) -> Isometry3<f64> {
    a * exp(&(log(&(a.inverse() * b)) * s))
}

/// A pose from position (metres) and roll, pitch, yaw (radians, applied as
/// `Rz(yaw) * Ry(pitch) * Rx(roll)`).
pub fn pose_from_xyz_rpy(
    x: f64,
    y: f64,
    z: f64,
    roll: f64,
    pitch: f64,
    yaw: f64,
) -> Isometry3<f64> {
    Isometry3::from_parts(
        Translation3::new(x, y, z),
        UnitQuaternion::from_euler_angles(roll, pitch, yaw),
    )
}

/// Translation distance (m) and rotation angle (rad) of a relative transform.
pub fn magnitude(pose: &Isometry3<f64>) -> (f64, f64) {
    (pose.translation.vector.norm(), pose.rotation.angle())
}

/// The best plane through `points`: their centroid and the unit normal (the direction of
/// least spread), when they are planar enough — the smallest spread at most `planarity`
/// times the middle one, and the middle one not zero (a line has no plane). `None` for
/// fewer than 3 points.
pub fn fit_plane(points: &[Point3<f64>], planarity: f64) -> Option<(Point3<f64>, Vector3<f64>)> {
    if points.len() < 3 {
        return None;
    }
    let (mean, cov) = mean_and_covariance(points);
    let [l0, l1, _] = eigenvalues(&cov);
    (l0 <= planarity * l1 && l1 > 0.0)
        .then(|| least_eigenvector(&cov, l0))
        .flatten()
        .map(|normal| (Point3::from(mean), normal))
}

/// Centroid and covariance of `points` (not empty).
fn mean_and_covariance(points: &[Point3<f64>]) -> (Vector3<f64>, Matrix3<f64>) {
    let n = points.len() as f64;
    let mean = points.iter().fold(Vector3::zeros(), |a, p| a + p.coords) / n;
    let cov = points.iter().fold(Matrix3::zeros(), |a, p| {
        let d = p.coords - mean;
        a + d * d.transpose()
    }) / n;
    (mean, cov)
}

/// Eigenvalues of a symmetric 3×3 matrix, ascending, in closed form (the trigonometric
/// solution of the characteristic cubic): a fraction of an iterative decomposition's cost,
/// which mattered where a plane is fitted to every changed map voxel.
fn eigenvalues(a: &Matrix3<f64>) -> [f64; 3] {
    let off = a[(0, 1)].powi(2) + a[(0, 2)].powi(2) + a[(1, 2)].powi(2);
    let q = a.trace() / 3.0;
    let diag = (a[(0, 0)] - q).powi(2) + (a[(1, 1)] - q).powi(2) + (a[(2, 2)] - q).powi(2);
    let p = ((diag + 2.0 * off) / 6.0).sqrt();
    if p == 0.0 || !p.is_finite() {
        return [q; 3];
    }
    let b = (a - Matrix3::identity() * q) / p;
    let phi = (b.determinant() / 2.0).clamp(-1.0, 1.0).acos() / 3.0;
    let largest = q + 2.0 * p * phi.cos();
    let smallest = q + 2.0 * p * (phi + 2.0 * std::f64::consts::FRAC_PI_3).cos();
    [smallest, 3.0 * q - smallest - largest, largest]
}

/// Unit eigenvector of symmetric `a` for its eigenvalue `l`, when `l` is a simple one: the
/// longest cross product of two rows of `a − l I` (each row is orthogonal to it).
fn least_eigenvector(a: &Matrix3<f64>, l: f64) -> Option<Vector3<f64>> {
    let m = a - Matrix3::identity() * l;
    let rows = [
        m.row(0).transpose(),
        m.row(1).transpose(),
        m.row(2).transpose(),
    ];
    [
        rows[0].cross(&rows[1]),
        rows[0].cross(&rows[2]),
        rows[1].cross(&rows[2]),
    ]
    .into_iter()
    .max_by(|x, y| x.norm_squared().total_cmp(&y.norm_squared()))
    .and_then(|v| v.try_normalize(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_log_round_trip() {
        for xi in [
            Twist::new(0.3, -0.2, 0.1, 0.4, -0.1, 0.9),
            Twist::new(1.0, 0.0, 0.0, 0.0, 0.0, 0.0),
            Twist::new(0.0, 0.0, 0.0, 1e-9, 0.0, 2e-9),
            Twist::new(2.0, 1.0, -1.0, 0.0, 3.0, 0.0),
        ] {
            let back = log(&exp(&xi));
            assert!((back - xi).norm() < 1e-9, "{xi:?} came back as {back:?}");
        }
    }

    #[test]
    fn exp_of_pure_rotation_twist_is_a_circle() {
        // 1 m/s forward while turning at 1 rad/s for pi/2 seconds: a quarter circle of radius 1.
        let xi = Twist::new(1.0, 0.0, 0.0, 0.0, 0.0, 1.0) * std::f64::consts::FRAC_PI_2;
        let t = exp(&xi).translation.vector;
        assert!((t - Vector3::new(1.0, 1.0, 0.0)).norm() < 1e-12, "{t:?}");
    }

    #[test]
    fn interpolation_ends_and_middle() {
        let a = pose_from_xyz_rpy(1.0, 2.0, 3.0, 0.1, 0.2, 0.3);
        let b = pose_from_xyz_rpy(2.0, 2.0, 3.0, 0.1, 0.2, 0.9);
        assert!((interpolate(&a, &b, 0.0).to_homogeneous() - a.to_homogeneous()).norm() < 1e-12);
        assert!((interpolate(&a, &b, 1.0).to_homogeneous() - b.to_homogeneous()).norm() < 1e-12);
        let m = interpolate(&a, &b, 0.5);
        let (_, angle_am) = magnitude(&(a.inverse() * m));
        let (_, angle_mb) = magnitude(&(m.inverse() * b));
        assert!((angle_am - angle_mb).abs() < 1e-12);
    }

    #[test]
    fn closed_form_eigen_matches_the_iterative_decomposition() {
        let mut seed = 11u64;
        let mut rand = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let mut planar = 0;
        for case in 0..2000usize {
            // Point sets from flat to round, at scales from millimetres to kilometres.
            let scale = 10f64.powi((case % 7) as i32 - 3);
            let flat = [1.0, 0.3, 1e-3, 0.0][case % 4];
            let frame = exp(&Twist::new(0.0, 0.0, 0.0, rand(), rand(), rand()));
            let points: Vec<Point3<f64>> = (0..20)
                .map(|_| {
                    let local = Point3::new(rand(), rand(), flat * rand()) * scale;
                    frame * local + Vector3::new(1e3, -2e3, 5.0)
                })
                .collect();
            let (_, cov) = mean_and_covariance(&points);
            let eig = nalgebra::SymmetricEigen::new(cov);
            let mut want: Vec<f64> = eig.eigenvalues.iter().copied().collect();
            want.sort_by(f64::total_cmp);
            let got = eigenvalues(&cov);
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() <= 1e-9 * want[2],
                    "case {case}: {got:?} vs {want:?}"
                );
            }
            let fitted = fit_plane(&points, 0.1);
            assert_eq!(fitted.is_some(), want[0] <= 0.1 * want[1], "case {case}");
            if let Some((_, normal)) = fitted {
                planar += 1;
                let k = (0..3).min_by(|&a, &b| eig.eigenvalues[a].total_cmp(&eig.eigenvalues[b]));
                let reference = eig.eigenvectors.column(k.unwrap()).into_owned();
                assert!((normal.norm() - 1.0).abs() < 1e-12);
                assert!(normal.dot(&reference).abs() > 1.0 - 1e-9, "case {case}");
            }
        }
        assert!(planar > 500 && planar < 1500, "{planar} planar");
    }

    #[test]
    fn twist_motion_matches_the_exponential() {
        let p = Point3::new(12.0, -7.0, 1.5);
        for xi in [
            Twist::new(0.3, -0.2, 0.1, 0.4, -0.1, 0.9),
            Twist::new(10.0, 0.5, 0.0, 0.0, 0.0, 2.5),
            Twist::new(1.0, 2.0, 3.0, 1e-5, 2e-5, -1e-5),
            Twist::new(1.0, 0.0, 0.0, 0.0, 0.0, 0.0),
            Twist::zeros(),
        ] {
            let motion = TwistMotion::new(&xi);
            for t in [-0.1, -0.05, -1e-3, -1e-7, 0.0, 1e-6, 0.02, 0.1, 1.0] {
                let want = exp(&(xi * t));
                let (rotation, translation) = motion.at(t);
                let got_rotation = want.rotation.to_rotation_matrix().into_inner();
                assert!((rotation - got_rotation).norm() < 1e-12, "{xi:?} {t}");
                // `exp` takes its closed form down to a rotation of 1e-6 rad, where its
                // (1 − cos θ)/θ² keeps only ten digits: 2e-11 m here.
                assert!(
                    (translation - want.translation.vector).norm() < 1e-10,
                    "{xi:?} {t}"
                );
                assert!(
                    (motion.apply(t, &p) - want * p).norm() < 1e-10,
                    "{xi:?} {t}"
                );
            }
        }
    }
}
