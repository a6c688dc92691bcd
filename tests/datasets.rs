//! The recordings of ../shared/datasets, the KITTI layout, and `lidarflow info`.

mod common;

use lidarflow::io::{trajectory, write_scan};
use lidarflow::recordings::kitti;
use lidarflow::recordings::Recording;
use lidarflow::PointCloud;
use nalgebra::Point3;
use std::process::Command;

#[test]
fn balm_realworld_has_100_scans_with_reference() {
    let Some(root) = common::shared_dataset("balm-realworld") else {
        return;
    };
    let rec = Recording::open(&root, None).unwrap();
    assert_eq!(rec.len(), 100);
    assert!(rec.scan_path(99).ends_with("velodyne/000099.bin"));
    let r = rec.reference().expect("poses.txt");
    assert_eq!(r.len(), 100);
    let length = r.path_length();
    assert!((40.0..55.0).contains(&length), "path length {length}");
    let s = rec.read(50).unwrap();
    assert!(s.cloud.len() > 60_000);
    assert_eq!(s.cloud.stamp, rec.stamps()[50]);
}

#[test]
fn mulran_riverside_has_281_scans() {
    let Some(root) = common::shared_dataset("mulran-riverside02-keyframes") else {
        return;
    };
    let rec = Recording::open(&root, None).unwrap();
    assert_eq!(rec.len(), 281);
    assert!(
        rec.reference().is_none(),
        "its poses are named optimized_poses.txt"
    );
    let s = rec.read(280).unwrap();
    assert!(
        (5_000..16_000).contains(&s.cloud.len()),
        "{}",
        s.cloud.len()
    );
    let reference = trajectory::read(&root.join("optimized_poses.txt")).unwrap();
    assert_eq!(reference.len(), 281);
}

#[test]
fn kitti_tree_reads_and_moves_poses_to_the_lidar_frame() {
    let Some(gt) = common::shared_dataset("kitti00-gt-poses") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let seq = dir.path().join("sequences/00");
    std::fs::create_dir_all(seq.join("velodyne")).unwrap();
    std::fs::create_dir_all(dir.path().join("poses")).unwrap();
    let n = 50;
    let cloud = PointCloud::new(vec![Point3::new(1.0, 2.0, 3.0)])
        .with_intensity(vec![0.5])
        .unwrap();
    for i in 0..n {
        write_scan(seq.join(format!("velodyne/{i:06}.bin")), &cloud).unwrap();
    }
    let lines = |name: &str| -> String {
        std::fs::read_to_string(gt.join(name))
            .unwrap()
            .lines()
            .take(n)
            .map(|l| format!("{l}\n"))
            .collect()
    };
    std::fs::write(dir.path().join("poses/00.txt"), lines("00.txt")).unwrap();
    std::fs::write(seq.join("times.txt"), lines("times.txt")).unwrap();
    std::fs::copy(gt.join("calib.txt"), seq.join("calib.txt")).unwrap();
    let rec = Recording::open(dir.path(), None).unwrap();
    assert_eq!(rec.len(), n);
    let r = rec.reference().unwrap();
    // KITTI 00 starts by driving straight ahead: +z in the camera frame, +x in the LiDAR's.
    let last = r.poses[n - 1].translation.vector;
    assert!(
        last.x > 10.0 * last.y.abs() && last.x > 10.0 * last.z.abs(),
        "LiDAR-frame motion {last:?}"
    );
    let tr = kitti::read_calib_tr(&seq.join("calib.txt")).unwrap();
    assert!(
        (tr.translation.vector.norm() - 0.33).abs() < 0.05,
        "Tr lever arm {:?}",
        tr.translation
    );
    let e = Recording::open(dir.path(), Some("05"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("available: 00"), "{e}");
}

#[test]
fn info_command_describes_balm() {
    let Some(root) = common::shared_dataset("balm-realworld") else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_lidarflow"))
        .arg("info")
        .arg(&root)
        .output()
        .unwrap();
    let text = common::ok(&out);
    assert!(text.contains("scans        100"), "{text}");
    assert!(text.contains("fields       x y z intensity"), "{text}");
    assert!(text.contains("reference    100 poses"), "{text}");
}

#[test]
fn info_check_all_reports_every_bad_scan() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = PointCloud::new(vec![Point3::new(1.0, 2.0, 3.0)]);
    for i in 0..5 {
        write_scan(dir.path().join(format!("{i}.bin")), &cloud).unwrap();
    }
    std::fs::write(dir.path().join("1.bin"), [0u8; 15]).unwrap();
    std::fs::write(dir.path().join("3.bin"), [0u8; 33]).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lidarflow"))
        .args(["info", "--check-all"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("bad scan     1:") && text.contains("1.bin") && text.contains("15 bytes"),
        "{text}"
    );
    assert!(
        text.contains("bad scan     3:") && text.contains("33 bytes"),
        "{text}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_lidarflow"))
        .args(["info", "/nonexistent/place"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/place"));
}
