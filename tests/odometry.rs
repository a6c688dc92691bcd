//! The odometry on synthetic sequences (exact reference) and on the shared real recordings,
//! with the one default configuration.

mod common;

use lidarflow::eval::{errors, Errors};
use lidarflow::filters::{VoxelDownsample, VoxelMode};
use lidarflow::geometry::{log, Twist};
use lidarflow::io::trajectory::{self, Trajectory};
use lidarflow::odometry::auto::Auto;
use lidarflow::odometry::local_map::{Density, LocalMap};
use lidarflow::odometry::params::{Kernel, ResidualKind};
use lidarflow::odometry::registration::{register, RegistrationSettings};
use lidarflow::odometry::runner::run_recording;
use lidarflow::odometry::{Odometry, OdometryParams, ScanResult, ScanStatus, VelocityMode};
use lidarflow::recordings::synth::{Sequence, SynthParams};
use lidarflow::recordings::Recording;
use lidarflow::PointCloud;
use nalgebra::{Isometry3, Point3, UnitQuaternion, Vector3};

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
fn the_coarse_stages_first_subset_keeps_the_accuracy_of_all_points_at_once() {
    // 64 rings: the coarse stage has several hundred points, so the subset (every 5th) runs.
    let seq = synthetic("aggressive", 40, 64);
    let (subset, sf) = run(&seq, &OdometryParams::default());
    let (all, af) = run(
        &seq,
        &OdometryParams {
            coarse_presample: 1,
            ..Default::default()
        },
    );
    eprintln!("aggressive 64: subset first {subset:?}, all at once {all:?}");
    assert_eq!((sf, af), (0, 0));
    assert!(
        subset.rpe_scan <= 1.15 * all.rpe_scan + 0.001 && subset.ate <= 1.15 * all.ate + 0.005,
        "subset first {subset:?} vs all at once {all:?}"
    );
}

/// RMS error of the estimated angular velocity (rad/s) against the true one and the mean
/// true angular speed, over every scan but the first, and the trajectory's errors.
fn angular_twist_error(seq: &Sequence) -> (f64, f64, Errors) {
    let mut odo = Odometry::new(OdometryParams::default());
    let (mut sse, mut speed) = (0.0, 0.0);
    let (mut est, mut reference) = (Trajectory::default(), Trajectory::default());
    for i in 0..seq.len() {
        let r = odo.process(&seq.scan(i)).unwrap();
        est.push(r.stamp, r.pose);
        reference.push(seq.stamp(i), seq.reference_pose(i));
        if i == 0 {
            continue;
        }
        let h = 1e-4;
        let t = seq.stamp(i);
        let truth = log(&(seq.pose_at(t).inverse() * seq.pose_at(t + h))) / h;
        let w = truth.fixed_rows::<3>(3);
        sse += (r.twist.fixed_rows::<3>(3) - w).norm_squared();
        speed += w.norm();
    }
    let n = (seq.len() - 1) as f64;
    ((sse / n).sqrt(), speed / n, errors(&reference, &est))
}

#[test]
fn the_twist_follows_aggressive_motion_with_32_to_128_rings() {
    // The first scan enters the map with its skew. Its twist used to come from the second
    // scan's coarse stage: one wrong coarse result distorted the map and every twist after
    // it (128 rings, 100 frames: yaw rate 0.2 rad/s estimated for 1.9, ATE 0.36 m). Too
    // sparse a coarse source did the same at 64 rings (ATE 0.25 m).
    for rings in [32, 64, 128] {
        let seq = synthetic("aggressive", 100, rings);
        let (error, speed, e) = angular_twist_error(&seq);
        eprintln!(
            "aggressive, {rings} rings: angular twist error {error:.3} rad/s (mean {speed:.3}), {e:?}"
        );
        assert!(
            error < 0.25 * speed,
            "{rings} rings: {error} rad/s vs {speed}"
        );
        assert!(e.ate < 0.1, "{rings} rings: {e:?}");
    }
}

#[test]
fn scans_compensated_upstream_that_keep_their_times_are_reported() {
    // Such scans get de-skewed twice; the odometry cannot tell from one scan, but the twist
    // it estimates inside the sweeps stops following the motion between scans.
    for profile in ["car", "aggressive"] {
        let seq = synthetic(profile, 30, 32);
        let warnings = |compensated: bool| -> Vec<String> {
            let mut odo = Odometry::new(OdometryParams::default());
            (0..seq.len())
                .filter_map(|i| {
                    let scan = if compensated {
                        seq.compensated_scan(i)
                    } else {
                        seq.scan(i)
                    };
                    odo.process(&scan).unwrap().warning
                })
                .collect()
        };
        assert_eq!(
            warnings(false),
            Vec::<String>::new(),
            "{profile}: real sweeps"
        );
        let reported = warnings(true);
        assert_eq!(reported.len(), 1, "{profile}: {reported:?}");
        assert!(reported[0].contains("velocity: off"), "{}", reported[0]);
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
fn the_local_map_holds_every_keyframe_when_asked_and_asking_changes_nothing() {
    // A keyframe enters the map at the start of the next scan (alongside its
    // preprocessing); asking for the map inserts it at once. Either way the same insertion
    // happens before the next registration, so the trajectories are identical.
    let seq = synthetic("car", 8, 16);
    let mut asking = Odometry::new(OdometryParams::default());
    let mut quiet = Odometry::new(OdometryParams::default());
    let mut before = 0;
    let mut keyframes = 0;
    for i in 0..seq.len() {
        let a = asking.process(&seq.scan(i)).unwrap();
        let q = quiet.process(&seq.scan(i)).unwrap();
        assert_eq!(a.pose, q.pose, "scan {i}");
        assert_eq!(a.twist, q.twist, "scan {i}");
        let len = asking.local_map().expect("resolved").len();
        if a.keyframe {
            keyframes += 1;
            assert!(
                len > before,
                "scan {i}: keyframe not in the map ({len} points)"
            );
        } else {
            assert_eq!(len, before, "scan {i}");
        }
        before = len;
    }
    assert!(keyframes >= 3, "{keyframes} keyframes");
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
    // we reach about 0.055 m against a reference that is itself another SLAM's estimate, and
    // drifts 11 cm from where the scans put scan 96 (see the test after this one).
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

/// A scan's points (`source`) registered directly onto `map` (scan 0's points), starting
/// from `start`: point-to-plane ICP with a shrinking match distance. Gives the pose and the
/// fraction of the scan's points within 0.3 m of scan 0's there.
fn onto_first_scan(
    map: &LocalMap,
    source: &[Point3<f64>],
    start: Isometry3<f64>,
) -> (Isometry3<f64>, f64) {
    let mut pose = start;
    for max_correspondence in [1.0, 0.5, 0.3, 0.2] {
        let settings = RegistrationSettings {
            max_correspondence,
            kernel_scale: max_correspondence / 3.0,
            kernel: Kernel::GemanMcclure,
            residual: ResidualKind::PointToPlane,
            max_iterations: 30,
            convergence: 1e-6,
            estimate_twist: false,
            point_sigma: 0.05,
            density: Density::Full,
            reuse_neighbourhoods: true,
            over_relaxation: 1.0,
        };
        pose = register(source, None, map, pose, Twist::zeros(), None, &settings).pose;
    }
    let near = source
        .iter()
        .filter(|p| map.nearest(&(pose * *p), 0.3).is_some())
        .count();
    (pose, near as f64 / source.len() as f64)
}

#[test]
fn balm_realworld_agrees_with_each_scan_registered_directly_onto_the_first() {
    // Odometry drift accumulates; a scan registered straight onto scan 0 carries none. Where
    // they overlap well, the trajectory should sit where those direct registrations put the
    // scans. (balm's reference, another system's odometry, does not: about 6 cm RMS off them,
    // 11 cm by scan 96; see scripts/reference-fit.py anchor and the README.)
    let Some(root) = common::shared_dataset("balm-realworld") else {
        return;
    };
    let rec = Recording::open(&root, None).unwrap();
    let reference = rec.reference().unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = run_recording(&rec, &OdometryParams::default(), out.path(), |_| {}).unwrap();
    let ours = &run.trajectory.poses;
    let thin = |i: usize, size: f64| {
        VoxelDownsample {
            size,
            mode: VoxelMode::First,
        }
        .apply(&rec.read(i).unwrap().cloud)
        .points()
        .to_vec()
    };
    let mut map = LocalMap::new(0.5, 20);
    map.update(&thin(0, 0.1), &Point3::origin(), 200.0);
    let (mut sq_ours, mut sq_reference, mut kept) = (0.0, 0.0, 0);
    for j in (1..rec.len()).step_by(3) {
        let source = thin(j, 0.2);
        let from_reference = reference.poses[0].inverse() * reference.poses[j];
        let (direct, fit) = onto_first_scan(&map, &source, from_reference);
        // From our relative pose instead, the registration ends at the same place: the scans
        // decide, not the start.
        let (again, _) = onto_first_scan(&map, &source, ours[0].inverse() * ours[j]);
        let apart = (direct.inverse() * again).translation.vector.norm();
        if fit < 0.4 || apart > 0.01 {
            continue;
        }
        let off = |t: &[Isometry3<f64>]| {
            (t[0].inverse() * t[j]).translation.vector - direct.translation.vector
        };
        let (o, r) = (off(ours).norm(), off(&reference.poses).norm());
        eprintln!(
            "scan {j}: fit {fit:.2}, ours {o:.3} m, reference {r:.3} m off the direct registration"
        );
        sq_ours += o * o;
        sq_reference += r * r;
        kept += 1;
    }
    let (ours_rms, reference_rms) = (
        (sq_ours / kept as f64).sqrt(),
        (sq_reference / kept as f64).sqrt(),
    );
    eprintln!("{kept} scans: RMS off the direct registrations: ours {ours_rms:.4} m, reference {reference_rms:.4} m");
    assert!(kept >= 15, "only {kept} scans overlap scan 0 well");
    assert!(
        ours_rms <= 0.03,
        "ours {ours_rms} m RMS off the direct registrations"
    );
    assert!(
        ours_rms < reference_rms,
        "ours {ours_rms} m, reference {reference_rms} m"
    );
}

/// Angles (degrees) between each step's direction of travel and the car's heading at the
/// middle of the step, for steps longer than 1 m, with `forward` the sensor axis the car
/// drives along. A car does not move sideways: a few degrees of slip at most.
fn heading_errors(t: &Trajectory, forward: Vector3<f64>) -> Vec<(usize, f64)> {
    (1..t.len())
        .filter_map(|i| {
            let step = t.poses[i - 1].inverse() * t.poses[i];
            let d = step.translation.vector;
            (d.xy().norm() > 1.0).then(|| {
                let half = UnitQuaternion::from_scaled_axis(step.rotation.scaled_axis() / 2.0);
                let along = half.inverse() * d;
                (i, along.angle(&forward).to_degrees())
            })
        })
        .collect()
}

#[test]
fn mulran_riverside_keyframes_drive_like_a_car_and_drift_less_than_kiss_icp() {
    let Some(root) = common::shared_dataset("mulran-riverside02-keyframes") else {
        return;
    };
    let rec = Recording::open(&root, None).unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = run_recording(&rec, &OdometryParams::default(), out.path(), |_| {}).unwrap();
    assert_eq!(run.trajectory.len(), 281);
    assert!(
        run.summary.failures.is_empty(),
        "{:?}",
        run.summary.failures
    );
    // The Ouster is mounted so that the car drives along -x (SOURCE.txt).
    let forward = -Vector3::x();
    let reference = trajectory::read(&root.join("optimized_poses.txt")).unwrap();
    // The reference poses break down from scan 167: their heading turns up to 135° away
    // from their own direction of travel and their steps imply up to 190 km/h, while the
    // scans (registered pairwise) show a car driving straight ahead at ~50 km/h
    // (scripts/reference-fit.py: from step 167 on, ICP started at the reference's relative
    // pose does not stay there). Drift against them is therefore only meaningful before.
    let reference_sideways = heading_errors(&reference, forward)
        .iter()
        .filter(|(_, a)| *a > 20.0)
        .count();
    assert!(reference_sideways > 50, "{reference_sideways}");
    let ours = heading_errors(&run.trajectory, forward);
    let worst = ours
        .iter()
        .copied()
        .fold((0, 0.0), |w, x| if x.1 > w.1 { x } else { w });
    eprintln!("riverside02: worst heading vs travel {worst:?}, reference: {reference_sideways} steps > 20°");
    assert!(
        worst.1 < 20.0,
        "step {} moves {:.1}° off the heading",
        worst.0,
        worst.1
    );
    let fastest = (1..run.trajectory.len())
        .map(|i| {
            let d = run.trajectory.poses[i].translation.vector
                - run.trajectory.poses[i - 1].translation.vector;
            d.norm() / (run.trajectory.stamps[i] - run.trajectory.stamps[i - 1])
        })
        .fold(0.0, f64::max);
    assert!(fastest < 25.0, "{fastest} m/s");
    // Before that (the first 167 scans, 943 m, so segments of 100-800 m), KISS-ICP with its
    // defaults drifts 18.5 % (../shared/bench/kiss.sh, scored with score.sh on the same scans).
    let mut consistent = reference.clone();
    consistent.stamps.truncate(167);
    consistent.poses.truncate(167);
    let e = errors(&consistent, &run.trajectory);
    let full = errors(&reference, &run.trajectory);
    eprintln!("riverside02: first 167 scans {e:?}; all 281 {full:?}");
    assert!(
        e.drift_pct < 18.5 / 3.0,
        "drift {} % over the first 167 scans",
        e.drift_pct
    );
}

#[test]
fn a_corrupt_scan_stops_the_run_naming_it_and_keeps_the_trajectory_so_far() {
    let dir = tempfile::tempdir().unwrap();
    lidarflow::recordings::synth::write(
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

/// Runs the odometry with `params` over the first `n` scans of balm-realworld, scan `i` read
/// from `file(i)`, and returns each scan's result with its error against the reference
/// relative to the previous scan that was not bad (metres, degrees).
fn balm_steps(
    root: &std::path::Path,
    params: OdometryParams,
    n: usize,
    file: impl Fn(usize) -> usize,
) -> Vec<(ScanResult, f64, f64)> {
    let rec = Recording::open(root, None).unwrap();
    let reference = rec.reference().unwrap();
    let mut odo = Odometry::new(params);
    let mut previous = None;
    (0..n)
        .map(|i| {
            let mut scan = rec.read(file(i)).unwrap().cloud;
            scan.stamp = rec.stamps()[i];
            let r = odo.process(&scan).unwrap();
            let (dt, dr) = previous.map_or((0.0, 0.0), |(j, pose): (usize, Isometry3<f64>)| {
                let truth = reference.poses[j].inverse() * reference.poses[i];
                let e = truth.inverse() * (pose.inverse() * r.pose);
                (e.translation.vector.norm(), e.rotation.angle().to_degrees())
            });
            if r.status != ScanStatus::Bad {
                previous = Some((i, r.pose));
            }
            (r, dt, dr)
        })
        .collect()
}

#[test]
fn a_scan_from_elsewhere_is_reported_bad_and_kept_out_of_the_map() {
    let Some(root) = common::shared_dataset("balm-realworld") else {
        return;
    };
    // Scan 20 is replaced by scan 70, taken 10 m away: in a room every point finds some
    // correspondence within the threshold (85 % here), so only the residuals tell.
    let steps = balm_steps(&root, OdometryParams::default(), 30, |i| {
        if i == 20 {
            70
        } else {
            i
        }
    });
    let (bad, _, _) = &steps[20];
    assert_eq!(bad.status, ScanStatus::Bad, "{:?}", bad.note);
    assert!(!bad.keyframe);
    assert!(
        bad.note.as_deref().unwrap().contains("residual RMS"),
        "{:?}",
        bad.note
    );
    // The map kept out of it, the next scans register as before (scan 21 measured from 19).
    for (i, (r, dt, dr)) in steps.iter().enumerate().skip(21) {
        assert_eq!(r.status, ScanStatus::Ok, "scan {i}: {:?}", r.note);
        assert!(*dt < 0.03 && *dr < 0.3, "scan {i}: {dt} m, {dr}°");
    }
}

#[test]
fn a_fit_far_worse_than_usual_gets_a_second_start_from_standing_still() {
    let Some(root) = common::shared_dataset("balm-realworld") else {
        return;
    };
    // With a 20 m range and 0.229 m voxels, the hand-held turn of scans 40-42 (40° one way,
    // then 9° back) misleads the prediction by 49°, and the registration from it settled 14°
    // and 1.7 m off with a residual RMS 6.9 times the usual, was accepted and spoiled the map
    // (ATE 1.08 m over the recording). Started again from standing still it fits.
    let params = OdometryParams {
        max_range: Auto::Value(20.0),
        voxel_size: Auto::Value(0.229),
        ..Default::default()
    };
    let steps = balm_steps(&root, params, 50, |i| i);
    for (i, (r, dt, dr)) in steps.iter().enumerate() {
        assert_eq!(r.status, ScanStatus::Ok, "scan {i}: {:?}", r.note);
        assert!(*dt < 0.05 && *dr < 0.5, "scan {i}: {dt} m, {dr}°");
    }
}
