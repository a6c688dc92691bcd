//! Aligning an estimated trajectory to a reference: at the first pose (the estimate starts
//! where the reference starts), or the rigid motion that best fits all positions (Umeyama,
//! without scale, as evo's `-a`).

use nalgebra::{Isometry3, Matrix3, Point3, Rotation3, Translation3, UnitQuaternion, Vector3};

/// The transform taking the estimate's first pose onto the reference's first pose.
pub fn origin(reference: &Isometry3<f64>, estimate: &Isometry3<f64>) -> Isometry3<f64> {
    reference * estimate.inverse()
}

/// The rigid transform `T` minimising `Σ |r_i - T e_i|²` (Umeyama 1991, no scale). Identity
/// for fewer than 3 points.
pub fn umeyama(reference: &[Point3<f64>], estimate: &[Point3<f64>]) -> Isometry3<f64> {
    let n = reference.len().min(estimate.len());
    if n < 3 {
        return Isometry3::identity();
    }
    let mean = |v: &[Point3<f64>]| v[..n].iter().map(|p| p.coords).sum::<Vector3<f64>>() / n as f64;
    let (mr, me) = (mean(reference), mean(estimate));
    let mut cov = Matrix3::zeros();
    for i in 0..n {
        cov += (reference[i].coords - mr) * (estimate[i].coords - me).transpose();
    }
    cov /= n as f64;
    let svd = cov.svd(true, true);
    let (Some(u), Some(v_t)) = (svd.u, svd.v_t) else {
        return Isometry3::identity();
    };
    let mut s = Matrix3::identity();
    if (u.determinant() * v_t.determinant()) < 0.0 {
        s[(2, 2)] = -1.0;
    }
    let r = u * s * v_t;
    let rotation = UnitQuaternion::from_rotation_matrix(&Rotation3::from_matrix_unchecked(r));
    let t = mr - rotation * me;
    Isometry3::from_parts(Translation3::from(t), rotation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::pose_from_xyz_rpy;

    #[test]
    fn recovers_a_rigid_motion() {
        let t = pose_from_xyz_rpy(1.0, -2.0, 0.5, 0.1, -0.2, 0.7);
        let est: Vec<Point3<f64>> = (0..20)
            .map(|i| Point3::new(i as f64, (i * i) as f64 * 0.1, (i % 3) as f64))
            .collect();
        let reference: Vec<Point3<f64>> = est.iter().map(|p| t * p).collect();
        let a = umeyama(&reference, &est);
        assert!((a.translation.vector - t.translation.vector).norm() < 1e-9);
        assert!(a.rotation.angle_to(&t.rotation) < 1e-9);
    }
}
