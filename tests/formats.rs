//! Round trips through every scan format, and the real files of the shared datasets.

mod common;

use lidarflow::io::{self, las, pcd, ply, read_scan, write_scan};
use lidarflow::PointCloud;
use nalgebra::Point3;

fn sample_cloud() -> PointCloud {
    let n = 500;
    let points = (0..n)
        .map(|i| {
            let a = i as f64 * 0.1;
            Point3::new(10.0 * a.cos(), -5.0 * a.sin(), 0.01 * i as f64 - 1.5)
        })
        .collect();
    PointCloud::new(points)
        .with_intensity((0..n).map(|i| (i % 256) as f32).collect())
        .unwrap()
        .with_time((0..n).map(|i| i as f32 * 1e-4 - 0.025).collect())
        .unwrap()
        .with_ring((0..n).map(|i| (i % 64) as u16).collect())
        .unwrap()
}

fn assert_same(a: &PointCloud, b: &PointCloud, tol: f64, fields: &[&str]) {
    assert_eq!(a.len(), b.len());
    for (p, q) in a.points().iter().zip(b.points()) {
        assert!((p - q).norm() <= tol, "{p} vs {q}");
    }
    if fields.contains(&"intensity") {
        assert_eq!(a.intensity().unwrap(), b.intensity().unwrap());
    }
    if fields.contains(&"t") {
        for (x, y) in a.time().unwrap().iter().zip(b.time().unwrap()) {
            assert!((x - y).abs() < 2e-6, "{x} vs {y}");
        }
    }
    if fields.contains(&"ring") {
        assert_eq!(a.ring().unwrap(), b.ring().unwrap());
    }
}

#[test]
fn every_format_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = sample_cloud();
    let all = ["intensity", "t", "ring"];
    // KITTI .bin keeps x y z intensity.
    let p = dir.path().join("a.bin");
    write_scan(&p, &cloud).unwrap();
    let back = read_scan(&p).unwrap();
    assert_same(&cloud, &back.cloud, 1e-5, &["intensity"]);
    assert_eq!(back.cloud.field_names(), vec!["x", "y", "z", "intensity"]);
    for kind in [
        pcd::DataKind::Ascii,
        pcd::DataKind::Binary,
        pcd::DataKind::BinaryCompressed,
    ] {
        let p = dir.path().join(format!("{kind:?}.pcd"));
        pcd::write(&p, &cloud, kind).unwrap();
        let back = read_scan(&p).unwrap();
        assert_same(&cloud, &back.cloud, 1e-5, &all);
        assert_eq!(back.dropped_non_finite, 0);
    }
    for enc in [
        ply::Encoding::Ascii,
        ply::Encoding::BinaryLittleEndian,
        ply::Encoding::BinaryBigEndian,
    ] {
        let p = dir.path().join(format!("{enc:?}.ply"));
        ply::write(&p, &cloud, enc).unwrap();
        assert_same(&cloud, &read_scan(&p).unwrap().cloud, 1e-5, &all);
    }
    for ext in ["las", "laz"] {
        let p = dir.path().join(format!("a.{ext}"));
        let stamped = cloud.clone().with_stamp(1630577771.25);
        las::write(&p, &stamped).unwrap();
        let back = read_scan(&p).unwrap().cloud;
        assert_same(&cloud, &back, 1e-4, &["intensity", "ring"]);
        // gps_time comes back relative to the earliest point, which becomes the stamp.
        let t0 = cloud.time().unwrap()[0] as f64;
        assert!(
            (back.stamp - (1630577771.25 + t0)).abs() < 1e-6,
            "{}",
            back.stamp
        );
        for (x, y) in cloud.time().unwrap().iter().zip(back.time().unwrap()) {
            assert!(((x - cloud.time().unwrap()[0]) - y).abs() < 1e-5);
        }
    }
    let laz = std::fs::metadata(dir.path().join("a.laz")).unwrap().len();
    let las = std::fs::metadata(dir.path().join("a.las")).unwrap().len();
    assert!(
        laz < las,
        "LAZ ({laz} B) should be compressed against LAS ({las} B)"
    );
}

#[test]
fn pcd_with_extra_fields_and_count_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.pcd");
    std::fs::write(
        &p,
        "VERSION .7\nFIELDS x y z normal_x rgb descriptor time ring\nSIZE 4 4 4 4 4 4 8 2\nTYPE F F F F U F F U\nCOUNT 1 1 1 1 1 3 1 1\nWIDTH 2\nHEIGHT 1\nPOINTS 2\nDATA ascii\n1 2 3 0.5 255 1 2 3 0.01 7\n4 5 6 0.5 255 1 2 3 0.02 8\n",
    )
    .unwrap();
    let c = read_scan(&p).unwrap().cloud;
    assert_eq!(c.field_names(), vec!["x", "y", "z", "t", "ring"]);
    assert_eq!(c.points()[1], Point3::new(4.0, 5.0, 6.0));
    assert_eq!(c.ring().unwrap(), &[7, 8]);
}

#[test]
fn ouster_integer_nanosecond_time_is_converted_to_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("o.pcd");
    let mut bytes =
        b"FIELDS x y z t\nSIZE 4 4 4 4\nTYPE F F F U\nWIDTH 1\nHEIGHT 1\nPOINTS 1\nDATA binary\n"
            .to_vec();
    for v in [1.0f32, 2.0, 3.0] {
        bytes.extend(v.to_le_bytes());
    }
    bytes.extend(50_000_000u32.to_le_bytes());
    std::fs::write(&p, bytes).unwrap();
    let c = read_scan(&p).unwrap().cloud;
    assert!((c.time().unwrap()[0] - 0.05).abs() < 1e-7);
}

#[test]
fn balm_original_pcd_matches_its_bin() {
    let Some(root) = common::shared_dataset("balm-realworld") else {
        return;
    };
    for (pcd_name, bin_name) in [("full25.pcd", "000000.bin"), ("full26.pcd", "000001.bin")] {
        let from_pcd = read_scan(root.join("original-pcd").join(pcd_name)).unwrap();
        let from_bin = read_scan(root.join("velodyne").join(bin_name)).unwrap();
        let (a, b) = (&from_pcd.cloud, &from_bin.cloud);
        assert!(a.len() > 60_000, "{pcd_name}: {} points", a.len());
        assert_eq!(
            a.len() + from_pcd.dropped_non_finite,
            b.len() + from_bin.dropped_non_finite
        );
        assert_eq!(a.len(), b.len());
        assert_eq!(
            a.points(),
            b.points(),
            "{pcd_name} vs {bin_name}: x y z differ"
        );
        assert_eq!(
            a.intensity(),
            b.intensity(),
            "{pcd_name} vs {bin_name}: intensity differs"
        );
        assert_eq!(
            a.field_names(),
            vec!["x", "y", "z", "intensity"],
            "normals and curvature are ignored"
        );
    }
}

#[test]
fn unknown_extension_lists_the_supported_ones() {
    let e = io::read_scan("scan.xyz").unwrap_err().to_string();
    assert!(
        e.contains("scan.xyz") && e.contains(".pcd") && e.contains(".laz"),
        "{e}"
    );
}
