//! criterion benches of the odometry's parts on a synthetic 64-ring scan: voxel
//! downsampling, map update, nearest-neighbour queries and one registration.
//!
//! `cargo bench --bench odometry`

use criterion::{criterion_group, criterion_main, Criterion};
use lidarflow::filters::{VoxelDownsample, VoxelMode};
use lidarflow::geometry::Twist;
use lidarflow::odometry::local_map::{Density, LocalMap};
use lidarflow::odometry::params::{Kernel, ResidualKind};
use lidarflow::odometry::registration::{register, RegistrationSettings};
use lidarflow::recordings::synth::{Sequence, SynthParams};
use nalgebra::{Isometry3, Point3, Translation3, Vector3};
use std::hint::black_box;

fn parts(c: &mut Criterion) {
    let seq = Sequence::new(SynthParams {
        profile: "car".into(),
        frames: 2,
        seed: 1,
        scene_seed: None,
        rings: 64,
    })
    .unwrap();
    let scan = seq.scan(0);
    let next = seq.scan(1);
    let voxel = 1.0;
    c.bench_function("voxel_downsample_64ring_first", |b| {
        b.iter(|| {
            VoxelDownsample {
                size: voxel * 0.5,
                mode: VoxelMode::First,
            }
            .apply(black_box(&scan))
        })
    });
    c.bench_function("voxel_downsample_64ring_closest", |b| {
        b.iter(|| {
            VoxelDownsample {
                size: voxel * 0.5,
                mode: VoxelMode::ClosestToCentroid,
            }
            .apply(black_box(&scan))
        })
    });
    let frame = VoxelDownsample {
        size: voxel * 0.5,
        mode: VoxelMode::First,
    }
    .apply(&scan);
    let world: Vec<Point3<f64>> = frame.points().to_vec();
    c.bench_function("map_update_one_scan", |b| {
        b.iter(|| {
            let mut map = LocalMap::new(voxel, 20);
            map.update(black_box(&world), &Point3::origin(), 100.0);
            map
        })
    });
    let mut map = LocalMap::new(voxel, 20);
    map.update(&world, &Point3::origin(), 100.0);
    let source = VoxelDownsample {
        size: voxel * 1.5,
        mode: VoxelMode::First,
    }
    .apply(&next);
    c.bench_function("nearest_neighbour_1000_queries", |b| {
        b.iter(|| {
            source
                .points()
                .iter()
                .take(1000)
                .filter(|p| map.nearest(p, 3.0).is_some())
                .count()
        })
    });
    // The same 1000 points, each moved by 1 cm a time over 5 steps (as Gauss-Newton moves
    // them): searched afresh each step, or answered from the last neighbourhood while its
    // certificate holds.
    let step = Vector3::new(0.006, -0.005, 0.006);
    c.bench_function("nearest_neighbour_1000_points_5_steps_searched", |b| {
        b.iter(|| {
            let mut found = 0;
            for p in source.points().iter().take(1000) {
                for k in 0..5 {
                    found += map.nearest(&(p + step * k as f64), 3.0).is_some() as usize;
                }
            }
            found
        })
    });
    c.bench_function("nearest_neighbour_1000_points_5_steps_certified", |b| {
        b.iter(|| {
            let mut found = 0;
            for p in source.points().iter().take(1000) {
                let mut hint = None;
                for k in 0..5 {
                    let q = p + step * k as f64;
                    found += map
                        .nearest_near(Density::Full, &q, 3.0, &mut hint)
                        .is_some() as usize;
                }
            }
            found
        })
    });
    let settings = RegistrationSettings {
        max_correspondence: 2.0,
        kernel_scale: 0.2,
        kernel: Kernel::GemanMcclure,
        residual: ResidualKind::PointToPlane,
        max_iterations: 30,
        convergence: 1e-4,
        estimate_twist: true,
        point_sigma: 0.3,
        density: Density::Full,
        reuse_neighbourhoods: true,
        over_relaxation: 1.0,
    };
    let guess = Isometry3::from_parts(Translation3::new(1.0, 0.0, 0.0), Default::default());
    c.bench_function("registration_joint_one_scan", |b| {
        b.iter(|| {
            register(
                source.points(),
                source.time(),
                &map,
                guess,
                Twist::new(10.0, 0.0, 0.0, 0.0, 0.0, 0.0),
                None,
                &settings,
            )
        })
    });
}

criterion_group!(benches, parts);
criterion_main!(benches);
