use lidarflow::datasets::Recording;
use lidarflow::filters::{VoxelDownsample, VoxelMode};
use lidarflow::geometry::{exp, Twist};
use lidarflow::odometry::local_map::LocalMap;
use lidarflow::odometry::params::{Kernel, ResidualKind};
use lidarflow::odometry::registration::{register, RegistrationSettings};
use nalgebra::Point3;
fn main() {
    let rec = Recording::open("../shared/datasets/balm-realworld", None).unwrap();
    let r = rec.reference().unwrap();
    let v = 0.23;
    let mut map = LocalMap::new(v, 20);
    let c0 = VoxelDownsample {
        size: v * 0.5,
        mode: VoxelMode::First,
    }
    .apply(&rec.read(0).unwrap().cloud);
    let w: Vec<Point3<f64>> = c0.points().iter().map(|p| r.poses[0] * p).collect();
    map.update(&w, &Point3::origin(), 100.0);
    let c1 = VoxelDownsample {
        size: v * 1.5,
        mode: VoxelMode::First,
    }
    .apply(
        &VoxelDownsample {
            size: v * 0.5,
            mode: VoxelMode::First,
        }
        .apply(&rec.read(1).unwrap().cloud),
    );
    for (thr, res) in [
        (1.5, ResidualKind::PointToPoint),
        (1.5, ResidualKind::PointToPlane),
        (6.0, ResidualKind::PointToPoint),
    ] {
        for iters in [1, 2, 5, 10, 30, 100] {
            let s = RegistrationSettings {
                max_correspondence: thr,
                kernel_scale: thr / 9.0,
                kernel: Kernel::GemanMcclure,
                residual: res,
                max_iterations: iters,
                convergence: 1e-4,
                estimate_twist: false,
                point_sigma: 0.02,
            };
            let start = r.poses[1] * exp(&Twist::new(0.2, 0.1, 0.0, 0.0, 0.0, 0.1));
            let out = register(c1.points(), None, &map, start, Twist::zeros(), None, &s);
            let e = r.poses[1].inverse() * out.pose;
            println!(
                "thr {thr} {res:?} iters {iters}: ran {} err {:.4} m {:.3} deg corr {} rms {:.3}",
                out.iterations,
                e.translation.vector.norm(),
                e.rotation.angle().to_degrees(),
                out.correspondences,
                out.rms
            );
        }
    }
}
