//! Bad input: every rule of the foundation issue gives a clear error naming the file (and
//! line), and no input bytes make a reader panic.

use lidarflow::io::{pcd, ply, read_scan, write_scan};
use lidarflow::recordings::Recording;
use lidarflow::PointCloud;
use nalgebra::Point3;
use std::path::Path;

fn cloud(n: usize) -> PointCloud {
    PointCloud::new((0..n).map(|i| Point3::new(i as f64, 1.0, 2.0)).collect())
        .with_intensity(vec![1.0; n])
        .unwrap()
        .with_time(vec![0.0; n])
        .unwrap()
        .with_ring(vec![3; n])
        .unwrap()
}

fn err_of(path: &Path) -> String {
    read_scan(path).unwrap_err().to_string()
}

#[test]
fn truncated_bin_names_file_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("000001.bin");
    std::fs::write(&p, vec![0u8; 16 * 10 + 7]).unwrap();
    let e = err_of(&p);
    assert!(e.contains("000001.bin") && e.contains("167"), "{e}");
}

#[test]
fn broken_headers_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.pcd");
    std::fs::write(&p, "VERSION .7\nFIELDS x y z\nSIZE 4 4\nTYPE F F F\nWIDTH 1\nHEIGHT 1\nPOINTS 1\nDATA ascii\n1 2 3\n").unwrap();
    let e = err_of(&p);
    assert!(e.contains("bad.pcd:3") && e.contains("SIZE"), "{e}");
    std::fs::write(&p, "VERSION .7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F Q\nWIDTH 1\nHEIGHT 1\nPOINTS 1\nDATA ascii\n1 2 3\n").unwrap();
    assert!(err_of(&p).contains("bad.pcd:4"), "{}", err_of(&p));
    std::fs::write(
        &p,
        "VERSION .7\nFIELDS x y\nSIZE 4 4\nTYPE F F\nPOINTS 1\nDATA ascii\n1 2\n",
    )
    .unwrap();
    assert!(err_of(&p).contains("'z'"), "{}", err_of(&p));
    std::fs::write(&p, "VERSION .7\nBOGUS 1\n").unwrap();
    assert!(err_of(&p).contains("bad.pcd:2"), "{}", err_of(&p));
    std::fs::write(
        &p,
        "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nPOINTS 1\nDATA zipped\n",
    )
    .unwrap();
    assert!(err_of(&p).contains("bad.pcd:5") && err_of(&p).contains("zipped"));

    let p = dir.path().join("bad.ply");
    std::fs::write(
        &p,
        "ply\nformat ascii 1.0\nelement vertex 1\nproperty flaot x\nend_header\n1\n",
    )
    .unwrap();
    let e = err_of(&p);
    assert!(e.contains("bad.ply:4") && e.contains("flaot"), "{e}");
    std::fs::write(&p, "plx\n").unwrap();
    assert!(err_of(&p).contains("bad.ply:1"));
    std::fs::write(
        &p,
        "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n",
    )
    .unwrap();
    assert!(err_of(&p).contains("end_header"));
}

#[test]
fn files_shorter_than_their_header_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let c = cloud(100);
    for name in ["a.pcd", "b.ply"] {
        let p = dir.path().join(name);
        write_scan(&p, &c).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() - 10]).unwrap();
        let e = err_of(&p);
        assert!(
            e.contains(name) && e.contains("shorter than its header promises"),
            "{e}"
        );
    }
    let p = dir.path().join("c.pcd");
    pcd::write(&p, &c, pcd::DataKind::Ascii).unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    let cut: String = text.lines().take(30).map(|l| format!("{l}\n")).collect();
    std::fs::write(&p, cut).unwrap();
    assert!(err_of(&p).contains("of the 100 points"), "{}", err_of(&p));
    let p = dir.path().join("d.pcd");
    pcd::write(&p, &c, pcd::DataKind::BinaryCompressed).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() - 5]).unwrap();
    assert!(
        err_of(&p).contains("shorter than its header promises"),
        "{}",
        err_of(&p)
    );
}

#[test]
fn nan_and_infinite_points_are_dropped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("n.bin");
    let mut bytes = Vec::new();
    for v in [
        [1.0f32, 2.0, 3.0, 0.5],
        [f32::NAN, 0.0, 0.0, 0.1],
        [0.0, f32::INFINITY, 0.0, 0.2],
        [4.0, 5.0, 6.0, 0.7],
    ] {
        for x in v {
            bytes.extend(x.to_le_bytes());
        }
    }
    std::fs::write(&p, bytes).unwrap();
    let s = read_scan(&p).unwrap();
    assert_eq!(s.cloud.len(), 2);
    assert_eq!(s.dropped_non_finite, 2);
    assert_eq!(s.cloud.intensity().unwrap(), &[0.5, 0.7]);
    let p = dir.path().join("n.pcd");
    std::fs::write(
        &p,
        "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nPOINTS 2\nDATA ascii\nnan nan nan\n1 2 3\n",
    )
    .unwrap();
    let s = read_scan(&p).unwrap();
    assert_eq!((s.cloud.len(), s.dropped_non_finite), (1, 1));
}

#[test]
fn empty_scans_are_reported_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scans")).unwrap();
    write_scan(dir.path().join("scans/0.pcd"), &cloud(5)).unwrap();
    write_scan(dir.path().join("scans/1.pcd"), &cloud(0)).unwrap();
    std::fs::write(dir.path().join("scans/2.bin"), b"").unwrap();
    let rec = Recording::open(dir.path(), None).unwrap();
    assert_eq!(rec.len(), 3);
    assert!(rec.read(1).unwrap().cloud.is_empty());
    let info = lidarflow::recordings::inspect::inspect(&rec, true, 20);
    assert_eq!(info.empty_scans, vec![1, 2]);
    assert!(info.bad.is_empty());
}

#[test]
fn folder_errors() {
    let dir = tempfile::tempdir().unwrap();
    let e = Recording::open(dir.path(), None).unwrap_err().to_string();
    assert!(e.contains("no scan files") && e.contains(".laz"), "{e}");
    let e = Recording::open(dir.path().join("missing"), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing") && e.contains("does not exist"), "{e}");
    for i in 0..3 {
        write_scan(dir.path().join(format!("{i}.bin")), &cloud(4)).unwrap();
    }
    std::fs::write(dir.path().join("times.txt"), "0.0\n0.1\n").unwrap();
    let e = Recording::open(dir.path(), None).unwrap_err().to_string();
    assert!(
        e.contains("times.txt") && e.contains("2 times for 3 scans"),
        "{e}"
    );
    std::fs::write(dir.path().join("times.txt"), "0.0\n0.2\n0.1\n").unwrap();
    let e = Recording::open(dir.path(), None).unwrap_err().to_string();
    assert!(
        e.contains("times.txt:3") && e.contains("scan 2") && e.contains("backwards"),
        "{e}"
    );
    std::fs::write(dir.path().join("times.txt"), "0.0\n0.1\n0.2\n").unwrap();
    std::fs::write(dir.path().join("poses.txt"), "1 0 0 0 0 1 0 0 0 0 1 0\n").unwrap();
    let e = Recording::open(dir.path(), None).unwrap_err().to_string();
    assert!(
        e.contains("poses.txt") && e.contains("1 poses for 3 scans"),
        "{e}"
    );
}

/// Deterministic pseudo-random bytes.
fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 33) as u8
        })
        .collect()
}

#[test]
fn no_input_bytes_make_a_reader_panic() {
    let dir = tempfile::tempdir().unwrap();
    let c = cloud(50);
    let mut originals = Vec::new();
    for (name, write) in [
        (
            "a.pcd",
            Box::new(|p: &Path| pcd::write(p, &c, pcd::DataKind::Ascii))
                as Box<dyn Fn(&Path) -> lidarflow::Result<()>>,
        ),
        (
            "b.pcd",
            Box::new(|p: &Path| pcd::write(p, &c, pcd::DataKind::Binary)),
        ),
        (
            "c.pcd",
            Box::new(|p: &Path| pcd::write(p, &c, pcd::DataKind::BinaryCompressed)),
        ),
        (
            "d.ply",
            Box::new(|p: &Path| ply::write(p, &c, ply::Encoding::Ascii)),
        ),
        (
            "e.ply",
            Box::new(|p: &Path| ply::write(p, &c, ply::Encoding::BinaryBigEndian)),
        ),
        ("f.bin", Box::new(|p: &Path| write_scan(p, &c))),
        ("g.laz", Box::new(|p: &Path| write_scan(p, &c))),
        ("h.las", Box::new(|p: &Path| write_scan(p, &c))),
    ] {
        let p = dir.path().join(name);
        write(&p).unwrap();
        originals.push((name, std::fs::read(&p).unwrap()));
    }
    let target = |name: &str| dir.path().join(format!("fuzz-{name}"));
    for (k, (name, bytes)) in originals.iter().enumerate() {
        let p = target(name);
        // Every truncation length near the header, plus a spread over the body.
        let mut cuts: Vec<usize> = (0..bytes.len().min(400)).collect();
        cuts.extend((0..60).map(|i| i * bytes.len() / 60));
        for cut in cuts {
            std::fs::write(&p, &bytes[..cut]).unwrap();
            let _ = read_scan(&p);
        }
        // Random byte flips.
        for round in 0..200u64 {
            let mut b = bytes.clone();
            let r = noise(round * 31 + k as u64, 8);
            for j in 0..4 {
                let at =
                    (u32::from_le_bytes([r[2 * j], r[2 * j + 1], 0, 0]) as usize * 7919) % b.len();
                b[at] = r[j + 4];
            }
            std::fs::write(&p, &b).unwrap();
            let _ = read_scan(&p);
        }
        // Pure noise.
        for round in 0..20u64 {
            std::fs::write(&p, noise(round + 1000 * k as u64, 2000)).unwrap();
            let _ = read_scan(&p);
        }
    }
}
