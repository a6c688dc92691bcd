//! The synthetic generator: deterministic, and its reference poses are exact per point.

mod common;

use kiddo::{ImmutableKdTree, SquaredEuclidean};
use lidarflow::recordings::synth::{self, Sequence, SynthParams};
use lidarflow::recordings::Recording;
use nalgebra::{Isometry3, Matrix3, Point3, Vector3};

fn params(profile: &str, frames: usize, rings: usize) -> SynthParams {
    SynthParams {
        profile: profile.into(),
        frames,
        seed: 7,
        scene_seed: None,
        rings,
    }
}

#[test]
fn same_seed_gives_identical_files() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let p = params("car", 3, 16);
    synth::write(a.path(), &p).unwrap();
    synth::write(b.path(), &p).unwrap();
    for name in [
        "scans/000000.ply",
        "scans/000002.ply",
        "times.txt",
        "poses.txt",
        "synth.json",
    ] {
        assert_eq!(
            std::fs::read(a.path().join(name)).unwrap(),
            std::fs::read(b.path().join(name)).unwrap(),
            "{name} differs between two runs with the same seed"
        );
    }
    let c = tempfile::tempdir().unwrap();
    synth::write(c.path(), &SynthParams { seed: 8, ..p }).unwrap();
    assert_ne!(
        std::fs::read(a.path().join("scans/000001.ply")).unwrap(),
        std::fs::read(c.path().join("scans/000001.ply")).unwrap()
    );
    // The folder reads back as a recording with exact reference poses and stamps.
    let rec = Recording::open(a.path(), None).unwrap();
    assert_eq!(rec.len(), 3);
    assert_eq!(rec.stamps(), &[0.05, 0.15000000000000002, 0.25]);
    let scan = rec.read(1).unwrap().cloud;
    assert_eq!(
        scan.field_names(),
        vec!["x", "y", "z", "intensity", "t", "ring"]
    );
    let t = scan.time().unwrap();
    let (lo, hi) = t
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    assert!(
        lo >= -0.05 && hi <= 0.05 && hi - lo > 0.09,
        "t spans {lo}..{hi}"
    );
    assert!(scan.ring().unwrap().iter().all(|&r| r < 16));
    let r = rec.reference().unwrap();
    assert!(
        r.poses[0].translation.vector.norm() < 1e-12,
        "first pose is the world origin"
    );
}

/// How a scan's points are moved to the world.
#[derive(Clone, Copy, PartialEq)]
enum Placement {
    /// By the reference pose at each point's own time.
    PerPointTime,
    /// By the scan's single reference pose.
    SinglePose,
    /// The scan as an upstream motion compensation hands it on, by its single pose.
    Compensated,
}

/// Median distance from the points of scan `b` to the surface of scan `a` (a plane fitted
/// to the 8 nearest points of `a`), both moved to the world as `placement` says.
fn median_alignment(seq: &Sequence, a: usize, b: usize, placement: Placement) -> f64 {
    let world = |i: usize| -> Vec<[f64; 3]> {
        let c = if placement == Placement::Compensated {
            seq.compensated_scan(i)
        } else {
            seq.scan(i)
        };
        let single = seq.reference_pose(i);
        c.points()
            .iter()
            .zip(c.time().unwrap())
            .map(|(p, &t)| {
                let pose: Isometry3<f64> = if placement == Placement::PerPointTime {
                    seq.pose_at(c.stamp + t as f64)
                } else {
                    single
                };
                let w: Point3<f64> = pose * p;
                [w.x, w.y, w.z]
            })
            .collect()
    };
    let (pa, pb) = (world(a), world(b));
    let tree: ImmutableKdTree<f64, 3> = ImmutableKdTree::new_from_slice(&pa).unwrap();
    let k = std::num::NonZero::new(8).unwrap();
    let mut d: Vec<f64> = pb
        .iter()
        .step_by(5)
        .filter_map(|q| {
            let nn = tree
                .query(q)
                .nearest_n::<SquaredEuclidean<f64>>(k)
                .execute();
            if nn[nn.len() - 1].distance > 0.25 {
                return None; // not overlapping, or too sparse for a plane
            }
            let pts: Vec<Vector3<f64>> = nn
                .iter()
                .map(|n| Vector3::from(pa[n.item as usize]))
                .collect();
            let mean = pts.iter().sum::<Vector3<f64>>() / pts.len() as f64;
            let cov = pts.iter().fold(Matrix3::zeros(), |a, p| {
                a + (p - mean) * (p - mean).transpose()
            });
            let eig = cov.symmetric_eigen();
            let i = eig.eigenvalues.imin();
            Some(
                eig.eigenvectors
                    .column(i)
                    .dot(&(Vector3::from(*q) - mean))
                    .abs(),
            )
        })
        .collect();
    d.sort_by(f64::total_cmp);
    d[d.len() / 2]
}

#[test]
fn per_point_poses_or_compensated_scans_line_up_and_a_single_pose_does_not() {
    for profile in ["car", "aggressive", "fast"] {
        let seq = Sequence::new(params(profile, 12, 32)).unwrap();
        let exact = median_alignment(&seq, 10, 11, Placement::PerPointTime);
        let single = median_alignment(&seq, 10, 11, Placement::SinglePose);
        let compensated = median_alignment(&seq, 10, 11, Placement::Compensated);
        eprintln!("{profile}: median point-to-surface distance {exact:.4} m per-point, {single:.4} m single pose, {compensated:.4} m compensated");
        assert!(exact < 0.05, "{profile}: per-point poses leave {exact} m");
        // `--compensated` scans need only their single pose: the motion is taken out.
        assert!(
            compensated < 0.05,
            "{profile}: compensated scans leave {compensated} m"
        );
        if profile == "aggressive" {
            assert!(
                single > 2.0 * exact && single > 2.0 * compensated,
                "aggressive: single pose {single} m should be visibly worse than {exact} m"
            );
        }
    }
}

#[test]
fn every_ring_count_is_generated() {
    for rings in [16, 32, 64, 128] {
        let seq = Sequence::new(params("car", 1, rings)).unwrap();
        let c = seq.scan(0);
        let max_ring = *c.ring().unwrap().iter().max().unwrap() as usize;
        assert_eq!(max_ring, rings - 1);
        assert!(
            c.len() > rings * 1024 / 3,
            "{rings} rings: only {} points",
            c.len()
        );
    }
    assert!(Sequence::new(params("car", 1, 20)).is_err());
    assert!(Sequence::new(params("boat", 1, 16))
        .unwrap_err()
        .to_string()
        .contains("aggressive"));
}

#[test]
fn synth_command_writes_a_readable_recording() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("street");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_lidarflow"))
        .args([
            "synth",
            "--profile",
            "fast",
            "--frames",
            "3",
            "--seed",
            "4",
            "--rings",
            "16",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(common::ok(&run).contains("wrote 3 scans"));
    let rec = Recording::open(&out, None).unwrap();
    assert_eq!(rec.len(), 3);
    assert_eq!(rec.reference().unwrap().len(), 3);
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_lidarflow"))
        .args(["synth", "--rings", "20"])
        .arg(dir.path().join("x"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("choose 16, 32, 64 or 128"));
}
