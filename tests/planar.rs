//! The 2D path end to end: CARMEN logs read (every line kind, every bad input), the 2D SLAM
//! benchmark's relations metric on hand-computed cases, and the planar pipeline on the
//! shared MIT CSAIL log scored against the benchmark's relations and its published figures.

mod common;

use lidarflow::eval::relations::{evaluate, read_relations};
use lidarflow::io::trajectory;
use lidarflow::recordings::{self, OpenOptions, ScanSource, SourceScan};
use std::path::Path;
use std::process::{Command, Output};

fn lidarflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lidarflow"))
        .args(args)
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Every scan of a log, and the warnings said while reading it.
fn read_all(path: &Path, options: &OpenOptions) -> (Vec<SourceScan>, Vec<String>) {
    let mut src = recordings::open(path, options).unwrap();
    let mut scans = Vec::new();
    let mut warnings = src.take_warnings();
    while let Some(s) = src.next_scan() {
        scans.push(s.unwrap());
        warnings.extend(src.take_warnings());
    }
    warnings.extend(src.take_warnings());
    (scans, warnings)
}

fn detail<'a>(src: &'a dyn ScanSource, label: &str) -> &'a str {
    src.info()
        .details
        .iter()
        .find(|(l, _)| l == label)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no `{label}` in {:?}", src.info().details))
}

const FLASER_LOG: &str = "\
# message formats defined: PARAM SYNC ODOM FLASER
PARAM robot_frontlaser_offset 0.5 nohost 0 
SYNC tag 1 h 1
ODOM 0 0 0 0 0 0 9.0 h 9.0
FLASER 5 1.0 2.0 81.91 nan -1.0 0 0 0 1.0 2.0 0.5 10.0 h 10.01
TRUEPOS 0 0 0 0 0 0 10.1 h 10.1
FLASER 5 81.91 2.0 3.0 4.0 5.0 0 0 0 1.1 2.0 0.5 10.25 h 10.26
FLASER 5 1.0 81.91 3.0 4.0 5.0 0 0 0 1.2 2.0 0.5 10.5 h 10.51
";

#[test]
fn flaser_lines_become_scans_with_the_wheels_pose() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(dir.path(), "a.clf", FLASER_LOG);
    let src = recordings::open(&log, &OpenOptions::default()).unwrap();
    assert_eq!(src.info().scan_count, Some(3));
    assert_eq!(detail(&*src, "beams"), "5");
    assert!(detail(&*src, "field of view").starts_with("180.0° from -90.0°"));
    assert!(detail(&*src, "rate").starts_with("4.00 Hz"));
    assert!(detail(&*src, "wheel odometry").starts_with("yes"));
    assert!(detail(&*src, "max range").starts_with("81.91"));
    drop(src);
    let (scans, warnings) = read_all(&log, &OpenOptions::default());
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(scans.len(), 3);
    let stamps: Vec<f64> = scans.iter().map(|s| s.cloud.stamp).collect();
    assert_eq!(stamps, vec![10.0, 10.25, 10.5], "the ipc_timestamp");
    // First scan: 1 m at −90°, 2 m at −45°; 81.91 (saturated), NaN and −1 are no returns.
    // The laser sits 0.5 m ahead of the robot (PARAM), so the points are shifted by it.
    let c = &scans[0].cloud;
    assert_eq!(c.len(), 2);
    assert!((c.points()[0] - nalgebra::Point3::new(0.5, -1.0, 0.0)).norm() < 1e-9);
    let h = 2.0 / 2f64.sqrt();
    assert!((c.points()[1] - nalgebra::Point3::new(0.5 + h, -h, 0.0)).norm() < 1e-9);
    let odo = scans[0].odometry.expect("the line's odometry pose");
    assert!((odo.translation.vector - nalgebra::Vector3::new(1.0, 2.0, 0.0)).norm() < 1e-12);
    assert!((odo.rotation.angle() - 0.5).abs() < 1e-12);
    assert_eq!(scans[1].cloud.len(), 4);
    // A narrower field of view, as `fov_deg` says.
    let narrow = OpenOptions {
        fov_deg: Some(90.0),
        ..Default::default()
    };
    let (scans, _) = read_all(&log, &narrow);
    let p = scans[0].cloud.points()[0];
    assert!(
        (p - nalgebra::Point3::new(0.5 + 1.0 / 2f64.sqrt(), -1.0 / 2f64.sqrt(), 0.0)).norm() < 1e-9
    );
}

#[test]
fn robotlaser_is_preferred_and_rawlaser_takes_odom_lines() {
    let dir = tempfile::tempdir().unwrap();
    // The same scan as ROBOTLASER1 and FLASER: only the ROBOTLASER1 lines are read.
    let both = write(
        dir.path(),
        "b.log",
        "FLASER 2 1 1 0 0 0 0 0 0 5.0 h 5\n\
         ROBOTLASER1 0 -1.5707963 3.1415926 3.1415926 50 0.01 0 2 1.0 60 2 10 20 \
         0.1 0 0 0 0 0 0.3 0 0 0 0 5.0 h 5\n\
         FLASER 2 1 1 0 0 0 0 0 0 5.2 h 5.2\n\
         ROBOTLASER1 0 -1.5707963 3.1415926 3.1415926 50 0.01 0 2 1.0 2.0 2 10 20 \
         0.1 0 0 0 0 0 0.3 0 0 0 0 5.2 h 5.2\n",
    );
    let (scans, _) = read_all(&both, &OpenOptions::default());
    assert_eq!(scans.len(), 2);
    assert_eq!(scans[0].cloud.len(), 1, "60 m is beyond the 50 m max range");
    let p = scans[0].cloud.points()[0];
    assert!(
        (p - nalgebra::Point3::new(0.1, -1.0, 0.0)).norm() < 1e-6,
        "{p}"
    );
    assert_eq!(scans[1].cloud.intensity(), Some(&[10.0f32, 20.0][..]));
    // RAWLASER1 has no pose: the last ODOM line, carried forward at its rates.
    let raw = write(
        dir.path(),
        "c.log",
        "ODOM 1.0 0.0 0.0 0.5 0.0 0.0 1.0 h 1\n\
         RAWLASER1 0 0 1 1 50 0.01 0 2 1.0 2.0 0 1.2 h 1.2\n",
    );
    let (scans, _) = read_all(&raw, &OpenOptions::default());
    let odo = scans[0].odometry.expect("from ODOM");
    assert!((odo.translation.vector.x - 1.1).abs() < 1e-9, "{odo}");
    let src = recordings::open(&raw, &OpenOptions::default()).unwrap();
    assert!(detail(&*src, "wheel odometry").contains("ODOM"));
}

#[test]
fn bad_logs_are_named_skipped_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Time going backwards twice: kept in order, one warning with the count.
    let back = write(
        dir.path(),
        "back.clf",
        "FLASER 1 1 0 0 0 0 0 0 3.0 h 3\nFLASER 1 1 0 0 0 0 0 0 2.0 h 2\n\
         FLASER 1 1 0 0 0 0 0 0 4.0 h 4\nFLASER 1 1 0 0 0 0 0 0 1.0 h 1\n",
    );
    let (scans, warnings) = read_all(&back, &OpenOptions::default());
    let stamps: Vec<f64> = scans.iter().map(|s| s.cloud.stamp).collect();
    assert_eq!(stamps, vec![3.0, 2.0, 4.0, 1.0]);
    let said: Vec<_> = warnings
        .iter()
        .filter(|w| w.contains("backwards"))
        .collect();
    assert_eq!(said.len(), 1, "{warnings:?}");
    assert!(said[0].contains("2 times"), "{}", said[0]);

    // A malformed line: named by its number, skipped, counted; unknown messages skipped.
    let malformed = write(
        dir.path(),
        "m.clf",
        "WHATEVER 1 2 3\nFLASER 1 1 0 0 0 0 0 0 3.0 h 3\nFLASER 1 x 0 0 0 0 0 0 3.1 h 3\n\
         FLASER two 1 0 0 0 0 0 0 3.2 h 3\nFLASER 1 1 0 0 0 0 0 0 3.3 h 3\n",
    );
    let (scans, warnings) = read_all(&malformed, &OpenOptions::default());
    assert_eq!(scans.len(), 2);
    assert!(
        warnings.iter().any(|w| w.contains("line 3")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("line 4")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("2 malformed")),
        "{warnings:?}"
    );

    // Fewer readings than the header says, after good lines: skipped with a warning naming
    // the line; on the first laser line it is a layout this does not read, an error.
    let short = write(
        dir.path(),
        "s.clf",
        "FLASER 2 1 1 0 0 0 0 0 0 3.0 h 3\nFLASER 3 1 1 0 0 0 0 0 0 3.2 h 3\n\
         FLASER 2 1 1 0 0 0 0 0 0 3.4 h 3\n",
    );
    let (scans, warnings) = read_all(&short, &OpenOptions::default());
    assert_eq!(scans.len(), 2);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("line 2") && w.contains("3 readings")),
        "{warnings:?}"
    );
    let first = write(dir.path(), "f.clf", "FLASER 3 1 1 0 0 0 0 0 0 3.2 h 3\n");
    let mut src = recordings::open(&first, &OpenOptions::default()).unwrap();
    let e = src.next_scan().unwrap().unwrap_err().to_string();
    assert!(
        e.contains("f.clf") && e.contains("line 1") && e.contains("3 readings"),
        "{e}"
    );
    assert!(src.next_scan().is_none());

    // Cut in the middle of its last line: what came before, and a warning saying so.
    let cut = write(
        dir.path(),
        "c.clf",
        "FLASER 2 1 1 0 0 0 0 0 0 3.0 h 3\nFLASER 2 1 1 0 0 0",
    );
    let (scans, warnings) = read_all(&cut, &OpenOptions::default());
    assert_eq!(scans.len(), 1);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("line 2") && w.contains("cut short")),
        "{warnings:?}"
    );

    // No laser lines at all.
    let none = write(dir.path(), "n.clf", "# nothing\nODOM 0 0 0 0 0 0 1 h 1\n");
    let e = recordings::open(&none, &OpenOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("n.clf") && e.contains("no laser lines") && e.contains("ODOM"),
        "{e}"
    );
    let empty = write(dir.path(), "e.log", "");
    let e = recordings::open(&empty, &OpenOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("no laser lines"), "{e}");
    // Bytes that are not text do not panic.
    let junk = dir.path().join("j.clf");
    std::fs::write(&junk, [0xffu8, 0xfe, b'\n', b'F', 0x80, b'\n']).unwrap();
    assert!(recordings::open(&junk, &OpenOptions::default()).is_err());
}

#[test]
fn the_relations_metric_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    // Estimate: the origin at t=100, (1, 0) turned 90° at t=101, (1, 1) at t=130.
    let est = write(
        dir.path(),
        "est.tum",
        "100.0 0 0 0 0 0 0 1\n101.0 1 0 0 0 0 0.7071067811865476 0.7071067811865476\n\
         130.0 1 1 0 0 0 0.7071067811865476 0.7071067811865476\n",
    );
    // Relation 1 (local): (1, 0.1) turned 80° → errors 0.1 m and 10°.
    // Relation 2 (not local): the pose at 130 in the frame of 101 is (1, 0) turned 0;
    // the reference says (1.3, 0): 0.3 m, 0°. Relation 3 has no pose at its time.
    let rel = write(
        dir.path(),
        "x.relations",
        "100.0004 101.0 1 0.1 0 0 0 1.3962634015954636\n\
         101.0 130.0 1.3 0 0 0 0 0\n\
         100.0 150.0 1 0 0 0 0 0\n",
    );
    let json = dir.path().join("r.json");
    let out = common::ok(&lidarflow(&[
        "eval",
        s(&rel),
        s(&est),
        "--relations",
        "--json",
        s(&json),
    ]));
    assert!(out.contains("2 of 3 relations matched"), "{out}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let f = |p: &str| v.pointer(p).and_then(|x| x.as_f64()).unwrap();
    assert!((f("/local/translation/mean") - 0.1).abs() < 1e-9);
    assert!((f("/local/rotation_deg/mean") - 10.0).abs() < 1e-6);
    assert!((f("/rest/translation/mean") - 0.3).abs() < 1e-9);
    assert!((f("/all/translation/mean") - 0.2).abs() < 1e-9);
    assert!((f("/all/translation/std") - 0.1).abs() < 1e-9);
    assert!((f("/all/translation/max") - 0.3).abs() < 1e-9);
    assert!((f("/all/translation_squared/mean") - 0.05).abs() < 1e-9);
    assert!((f("/all/rotation_squared_deg2/mean") - 50.0).abs() < 1e-4);
    // With a split at 40 s, both are local.
    let out = common::ok(&lidarflow(&[
        "eval",
        s(&rel),
        s(&est),
        "--relations",
        "--max-dt",
        "40",
    ]));
    assert!(out.contains("local, ≤ 40 s apart (2 relations)"), "{out}");
    let png = dir.path().join("worst.png");
    common::ok(&lidarflow(&[
        "eval",
        s(&rel),
        s(&est),
        "--relations",
        "--plot",
        s(&png),
    ]));
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
}

/// The published figures on MIT CSAIL (Kümmerle et al. 2009): scan matching on all
/// relations, raw wheel odometry on the local ones (≤ 10 s). Issue 20's tighter local goals
/// (0.020 m, 0.3°) are not reached yet (see the README); these are the published baselines
/// the odometry must beat.
const SCAN_MATCHING_ALL_M: f64 = 0.106;
const WHEELS_LOCAL_M: f64 = 0.033;
const WHEELS_LOCAL_DEG: f64 = 2.9;

#[test]
fn mit_csail_odometry_beats_the_published_scan_matching() {
    let Some(data) = common::shared_dataset("freiburg-mit-csail-2d") else {
        return;
    };
    let log = data.join("mit-csail.clf");
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let pipeline = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/lidar2d.yaml");
    common::ok(&lidarflow(&[
        "run",
        s(&pipeline),
        "--dataset",
        s(&log),
        "--output",
        s(&out_dir),
        "--viz",
        "none",
    ]));
    let est = trajectory::read(&out_dir.join("trajectory.tum")).unwrap();
    // One row per scan, at the scans' ipc_timestamps, on the plane.
    let src = recordings::open(&log, &OpenOptions::default()).unwrap();
    assert_eq!(Some(est.len()), src.info().scan_count);
    assert!(
        (est.stamps[0] - 1134864629.895).abs() < 1e-3,
        "{}",
        est.stamps[0]
    );
    assert!(est.poses.iter().all(|p| p.translation.vector.z == 0.0));
    assert!(out_dir.join("summary.json").is_file() && out_dir.join("map").is_dir());

    let relations = read_relations(&data.join("mit-csail.relations")).unwrap();
    let rep = evaluate(&relations, &est, 1e-3, 10.0);
    assert_eq!(
        rep.matched, rep.relations,
        "every relation's times are scans' times"
    );
    eprintln!(
        "MIT CSAIL: all {:.4} ± {:.4} m, {:.3}°; local {:.4} m {:.3}°",
        rep.all.translation.mean,
        rep.all.translation.std,
        rep.all.rotation_deg.mean,
        rep.local.translation.mean,
        rep.local.rotation_deg.mean
    );
    assert!(
        rep.local.translation.mean < WHEELS_LOCAL_M,
        "{:?}",
        rep.local
    );
    assert!(
        rep.local.rotation_deg.mean < WHEELS_LOCAL_DEG,
        "{:?}",
        rep.local
    );
    assert!(
        rep.all.translation.mean < SCAN_MATCHING_ALL_M,
        "{:?}",
        rep.all
    );

    // An occupancy grid from the view-based map.
    let grid = dir.path().join("grid.png");
    let map_pipeline = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/map-grid2d.yaml");
    common::ok(&lidarflow(&[
        "map",
        "build",
        s(&out_dir.join("map")),
        "--pipeline",
        s(&map_pipeline),
        "--output",
        s(&grid),
    ]));
    assert!(std::fs::metadata(&grid).unwrap().len() > 1000);
    assert!(grid.with_extension("yaml").is_file());
}
