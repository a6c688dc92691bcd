//! Registration alone, against a map built from exact poses: pose and twist are recovered.

use lidarflow::cloud::PointCloud;
use lidarflow::filters::{VoxelDownsample, VoxelMode};
use lidarflow::geometry::{exp, log, Twist};
use lidarflow::odometry::local_map::{Density, LocalMap};
use lidarflow::odometry::params::{Kernel, ResidualKind};
use lidarflow::odometry::registration::{register, RegistrationSettings};
use lidarflow::recordings::synth::{Sequence, SynthParams};
use nalgebra::{Isometry3, Point3};

/// A map from scans 0..5 of a synthetic `profile` sequence, moved to the world by the exact
/// pose at each point's time; scan 6 thinned as a registration source; its reference pose
/// and twist.
fn scene(profile: &str) -> (LocalMap, PointCloud, Isometry3<f64>, Twist) {
    let seq = Sequence::new(SynthParams {
        profile: profile.into(),
        frames: 8,
        seed: 5,
        scene_seed: None,
        rings: 32,
    })
    .unwrap();
    // Map: scans 0..5 moved to the world by the exact pose at each point's time.
    let mut map = LocalMap::new(0.5, 20);
    let mut world = Vec::new();
    for i in 0..6 {
        let c = seq.scan(i);
        let c = VoxelDownsample {
            size: 0.25,
            mode: VoxelMode::First,
        }
        .apply(&c);
        for (p, &t) in c.points().iter().zip(c.time().unwrap()) {
            world.push(seq.pose_at(c.stamp + t as f64) * p);
        }
    }
    map.update(&world, &Point3::origin(), 200.0);
    let scan = seq.scan(6);
    let source = VoxelDownsample {
        size: 0.75,
        mode: VoxelMode::First,
    }
    .apply(&scan);
    let truth = seq.reference_pose(6);
    let truth_twist =
        log(&(seq.pose_at(seq.stamp(6) - 0.001).inverse() * seq.pose_at(seq.stamp(6) + 0.001)))
            / 0.002;
    (map, source, truth, truth_twist)
}

#[test]
fn joint_registration_recovers_pose_and_twist() {
    for profile in ["car", "aggressive"] {
        let (map, source, truth, truth_twist) = scene(profile);
        let start = truth * exp(&Twist::new(0.3, -0.2, 0.05, 0.01, -0.01, 0.03));
        let settings = RegistrationSettings {
            max_correspondence: 1.5,
            kernel_scale: 0.2,
            kernel: Kernel::GemanMcclure,
            residual: ResidualKind::PointToPlane,
            max_iterations: 50,
            convergence: 1e-6,
            estimate_twist: true,
            point_sigma: 0.05,
            density: Density::Full,
            reuse_neighbourhoods: true,
            over_relaxation: 1.0,
        };
        let r = register(
            source.points(),
            source.time(),
            &map,
            start,
            Twist::zeros(),
            None,
            &settings,
        );
        let err = truth.inverse() * r.pose;
        let twist_err = r.twist - truth_twist;
        eprintln!(
            "{profile}: {} iterations, pose error {:.4} m {:.3} deg, twist {:?} truth {:?}",
            r.iterations,
            err.translation.vector.norm(),
            err.rotation.angle().to_degrees(),
            r.twist.as_slice(),
            truth_twist.as_slice()
        );
        // A constant twist cannot follow the hand-held profile's angular acceleration within
        // a sweep, which bounds how close it can get there.
        let (max_m, max_deg, max_v, max_w) = if profile == "car" {
            (0.02, 0.1, 0.2, 0.1)
        } else {
            (0.06, 0.3, 0.6, 0.2)
        };
        assert!(err.translation.vector.norm() < max_m, "{profile}");
        assert!(err.rotation.angle().to_degrees() < max_deg, "{profile}");
        assert!(
            twist_err.fixed_rows::<3>(0).norm() < max_v,
            "{profile}: linear velocity off by {twist_err:?}"
        );
        assert!(
            twist_err.fixed_rows::<3>(3).norm() < max_w,
            "{profile}: angular velocity off by {twist_err:?}"
        );
    }
}

#[test]
fn over_relaxation_reaches_the_same_pose_in_fewer_iterations() {
    // A poor guess (1 m and 6° off), 6 degrees of freedom, as in the coarse stage.
    let (map, source, truth, _) = scene("car");
    let start = truth * exp(&Twist::new(0.8, -0.5, 0.1, 0.0, 0.0, 0.1));
    let run = |over_relaxation: f64| {
        let settings = RegistrationSettings {
            max_correspondence: 3.0,
            kernel_scale: 1.0,
            kernel: Kernel::GemanMcclure,
            residual: ResidualKind::PointToPlane,
            max_iterations: 100,
            convergence: 1e-4,
            estimate_twist: false,
            point_sigma: 0.05,
            density: Density::Full,
            reuse_neighbourhoods: true,
            over_relaxation,
        };
        register(
            source.points(),
            None,
            &map,
            start,
            Twist::zeros(),
            None,
            &settings,
        )
    };
    let (plain, stretched) = (run(1.0), run(2.0));
    let off = |r: &lidarflow::odometry::registration::Registration| {
        (truth.inverse() * r.pose).translation.vector.norm()
    };
    eprintln!(
        "plain: {} iterations, {:.4} m off; stretched: {} iterations, {:.4} m off",
        plain.iterations,
        off(&plain),
        stretched.iterations,
        off(&stretched)
    );
    assert!(off(&plain) < 0.1 && off(&stretched) < 0.1);
    assert!(
        ((plain.pose.inverse() * stretched.pose)
            .translation
            .vector
            .norm())
            < 0.01,
        "the stretched steps end elsewhere"
    );
    assert!(
        stretched.iterations < plain.iterations,
        "{} vs {} iterations",
        stretched.iterations,
        plain.iterations
    );
}
