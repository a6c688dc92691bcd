//! SE(3) on nalgebra's types: the exponential and logarithm maps, twists and
//! interpolation. A twist is `[v; ω]`: linear velocity (m/s) then angular velocity
//! (rad/s), both in the body frame, so a constant twist `ξ` over `t` seconds moves the
//! body by `exp(ξ t)`.

use nalgebra::{
    Isometry3, Matrix3, Point3, SymmetricEigen, Translation3, UnitQuaternion, Vector3, Vector6,
};

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
    let n = points.len() as f64;
    let mean = points.iter().fold(Vector3::zeros(), |a, p| a + p.coords) / n;
    let cov = points.iter().fold(Matrix3::zeros(), |a, p| {
        let d = p.coords - mean;
        a + d * d.transpose()
    }) / n;
    let eig = SymmetricEigen::new(cov);
    let mut order = [0usize, 1, 2];
    order.sort_by(|&a, &b| eig.eigenvalues[a].total_cmp(&eig.eigenvalues[b]));
    let (l0, l1) = (eig.eigenvalues[order[0]], eig.eigenvalues[order[1]]);
    (l0 <= planarity * l1 && l1 > 0.0).then(|| {
        (
            Point3::from(mean),
            eig.eigenvectors.column(order[0]).normalize(),
        )
    })
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
}
