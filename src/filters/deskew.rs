//! De-skewing: a spinning LiDAR moves during its sweep, so each point was measured from a
//! different pose. With a constant body twist `ξ` over the sweep, the point measured at time
//! `t` (relative to the stamp) is `exp(ξ t) · p` in the sensor frame at the stamp.

use crate::cloud::PointCloud;
use crate::geometry::{Twist, TwistMotion};
use rayon::prelude::*;

/// Moves every point to the sensor frame at the stamp, using its own time and the twist.
/// Clouds without per-point time are returned unchanged; afterwards every time is 0.
pub fn deskew(cloud: &PointCloud, twist: &Twist) -> PointCloud {
    deskewed(cloud.clone(), twist)
}

/// [`deskew`] for a cloud the caller gives up: its points are moved in place, and a cloud
/// without per-point time comes back as it is, without a copy.
pub fn deskewed(mut cloud: PointCloud, twist: &Twist) -> PointCloud {
    let Some(mut times) = cloud.time().map(<[f32]>::to_vec) else {
        return cloud;
    };
    let motion = TwistMotion::new(twist);
    cloud
        .points_mut()
        .par_iter_mut()
        .zip(times.par_iter())
        .for_each(|(p, &t)| *p = motion.apply(t as f64, p));
    times.fill(0.0);
    cloud.with_time(times).expect("same length")
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Point3;

    #[test]
    fn deskew_undoes_constant_motion() {
        // A wall at x = 10 seen while moving forward at 10 m/s: a point taken at t = +0.05 s
        // reads 0.5 m closer.
        let twist = Twist::new(10.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        let c = PointCloud::new(vec![
            Point3::new(9.5, 0.0, 0.0),
            Point3::new(10.5, 1.0, 0.0),
        ])
        .with_time(vec![0.05, -0.05])
        .unwrap();
        let d = deskew(&c, &twist);
        assert!((d.points()[0] - Point3::new(10.0, 0.0, 0.0)).norm() < 1e-6);
        assert!((d.points()[1] - Point3::new(10.0, 1.0, 0.0)).norm() < 1e-6);
        assert_eq!(d.time().unwrap(), &[0.0, 0.0]);
    }
}
