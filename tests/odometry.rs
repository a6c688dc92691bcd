//! The odometry on synthetic sequences (exact reference) and on the shared real recordings,
//! with the one default configuration.

mod common;

use lidarflow::datasets::synth::{Sequence, SynthParams};
use lidarflow::datasets::Recording;
use lidarflow::eval::{errors, Errors};
use lidarflow::io::trajectory::{self, Trajectory};
use lidarflow::odometry::runner::run_recording;
use lidarflow::odometry::{Odometry, OdometryParams, ScanStatus, VelocityMode};
use lidarflow::PointCloud;
use nalgebra::Point3;

fn synthetic(profile: &str, frames: usize, rings: usize) -> Sequence {
    Sequence::new(SynthParams {
        profile: profile.into(),
        frames,
        seed: 3,
        scene_seed: None,
        rings,
    })
    .unwrap()
}

fn run(seq: &Sequence, params: &OdometryParams) -> (Errors, usize) {
    let mut odo = Odometry::new(params.clone());
    let (mut est, mut reference) = (Trajectory::default(), Trajectory::default());
    let mut failures = 0;
    for i in 0..seq.len() {
        let r = odo.process(&seq.scan(i)).unwrap();
        failures += usize::from(r.status != ScanStatus::Ok);
        est.push(r.stamp, r.pose);
        reference.push(seq.stamp(i), seq.reference_pose(i));
    }
    (errors(&reference, &est), failures)
}

#[test]
fn velocity_estimation_cuts_rpe_on_aggressive_motion() {
    let seq = synthetic("aggressive", 60, 32);
    let (joint, jf) = run(&seq, &OdometryParams::default());
    let (off, _) = run(
        &seq,
        &OdometryParams {
            velocity: VelocityMode::Off,
            ..Default::default()
        },
    );
    eprintln!("aggressive: joint {joint:?}, off {off:?}");
    assert_eq!(jf, 0);
    assert!(
        joint.rpe_scan <= 0.7 * off.rpe_scan,
        "joint {} vs off {}",
        joint.rpe_scan,
        off.rpe_scan
    );
    assert!(joint.ate < 0.1, "{joint:?}");
}

#[test]
fn same_defaults_run_every_ring_count() {
    for rings in [16, 32, 64, 128] {
        let seq = synthetic("car", 25, rings);
        let (e, failures) = run(&seq, &OdometryParams::default());
        eprintln!("car, {rings} rings: {e:?}");
        assert_eq!(failures, 0, "{rings} rings");
        assert!(e.rpe_scan < 0.05 && e.ate < 0.15, "{rings} rings: {e:?}");
    }
}

#[test]
fn time_going_backwards_is_an_error_naming_the_scan() {
    let seq = synthetic("car", 2, 16);
    let mut odo = Odometry::new(OdometryParams::default());
    odo.process(&seq.scan(1)).unwrap();
    let e = odo.process(&seq.scan(0)).unwrap_err().to_string();
    assert!(e.contains("scan 1") && e.contains("backwards"), "{e}");
}

#[test]
fn empty_nan_and_tiny_scans_are_skipped_with_a_predicted_pose() {
    let seq = synthetic("car", 6, 16);
    let mut odo = Odometry::new(OdometryParams::default());
    let mut poses = Vec::new();
    for i in 0..4 {
        let r = odo.process(&seq.scan(i)).unwrap();
        assert_eq!(r.status, ScanStatus::Ok);
        poses.push(r.pose);
    }
    // An empty scan (what an all-NaN file becomes once NaNs are dropped), then a tiny one.
    let empty = PointCloud::default().with_stamp(seq.stamp(4));
    let r = odo.process(&empty).unwrap();
    assert_eq!(r.status, ScanStatus::Skipped);
    assert!(r.note.unwrap().contains("pose predicted"));
    // The prediction continues the motion: about one step further than the last pose.
    let step = (poses[3].translation.vector - poses[2].translation.vector).norm();
    let moved = (r.pose.translation.vector - poses[3].translation.vector).norm();
    assert!(
        (moved - step).abs() < 0.2 * step,
        "moved {moved} vs step {step}"
    );
    let tiny = PointCloud::new(vec![Point3::new(5.0, 0.0, 0.0); 3]).with_stamp(seq.stamp(5));
    assert_eq!(odo.process(&tiny).unwrap().status, ScanStatus::Skipped);
}

#[test]
fn balm_realworld_beats_kiss_icp_accuracy() {
    let Some(root) = common::shared_dataset("balm-realworld") else {
        return;
    };
    let rec = Recording::open(&root, None).unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = run_recording(&rec, &OdometryParams::default(), out.path(), |_| {}).unwrap();
    let e = errors(rec.reference().unwrap(), &run.trajectory);
    eprintln!(
        "balm-realworld: {e:?}, {:.1} scans/s",
        run.summary.scans_per_second
    );
    // KISS-ICP with its defaults: ATE 0.078 m, RPE 0.035 m. The goal is ATE 0.05 m;
    // we reach about 0.055 m against a reference that is itself another SLAM's estimate.
    assert!(e.ate <= 0.06, "ATE {} m", e.ate);
    assert!(e.rpe_scan <= 0.030, "RPE {} m", e.rpe_scan);
    // The files the runner promises, one line per scan.
    let kitti = trajectory::read(&out.path().join("trajectory_kitti.txt")).unwrap();
    assert_eq!(kitti.len(), 100);
    let tum = trajectory::read(&out.path().join("trajectory.tum")).unwrap();
    assert_eq!(tum.stamps, rec.stamps());
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["scans"], 100);
    assert!(summary["per_scan_ms"]["p95"].as_f64().unwrap() > 0.0);
}

#[test]
fn mulran_riverside_keyframes_complete_with_less_drift_than_kiss_icp() {
    let Some(root) = common::shared_dataset("mulran-riverside02-keyframes") else {
        return;
    };
    let rec = Recording::open(&root, None).unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = run_recording(&rec, &OdometryParams::default(), out.path(), |_| {}).unwrap();
    let reference = trajectory::read(&root.join("optimized_poses.txt")).unwrap();
    let e = errors(&reference, &run.trajectory);
    eprintln!(
        "riverside02: {e:?}, failures {}",
        run.summary.failures.len()
    );
    assert_eq!(run.trajectory.len(), 281);
    // KISS-ICP diverges here (53 % drift). The goal, 2 %, is not reached yet: the
    // long gaps between keyframes (up to 41 m) along straight roads still break registration.
    assert!(
        e.drift_pct < 53.0,
        "drift {} % is no better than KISS-ICP's 53 %",
        e.drift_pct
    );
}

#[test]
fn a_corrupt_scan_stops_the_run_naming_it_and_keeps_the_trajectory_so_far() {
    let dir = tempfile::tempdir().unwrap();
    lidarflow::datasets::synth::write(
        dir.path(),
        &SynthParams {
            profile: "car".into(),
            frames: 6,
            seed: 1,
            scene_seed: None,
            rings: 16,
        },
    )
    .unwrap();
    let bad = dir.path().join("scans/000004.ply");
    let bytes = std::fs::read(&bad).unwrap();
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    let rec = Recording::open(dir.path(), None).unwrap();
    let out = dir.path().join("out");
    let e = run_recording(&rec, &OdometryParams::default(), &out, |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("000004.ply"), "{e}");
    let kept = trajectory::read(&out.join("trajectory.tum")).unwrap();
    assert_eq!(kept.len(), 4, "the four scans before the bad one");
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(summary.contains("000004.ply"));
}
