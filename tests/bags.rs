//! ROS 1 and ROS 2 bags as recordings, on the shared fixtures: the Luminar bag as ROS 1
//! (LZ4 chunks) and as its ROS 2 conversions by rosbags-convert (sqlite3, MCAP), a Velodyne
//! ROS 2 bag of raw packets; then the same files cut short, with bytes flipped, and
//! recompressed the ways rosbag2 compresses.

mod common;

use common::shared_dataset;
use kiddo::{ImmutableKdTree, SquaredEuclidean};
use lidarflow::recordings::bag::{open_container, BagContainer};
use lidarflow::recordings::messages::{velodyne_scan, Encoding, MessageReader};
use lidarflow::recordings::{self, Kind, OpenOptions, SourceScan};
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};

/// Every scan of a recording, and the warnings given while reading it.
fn read_all(path: &Path, topic: Option<&str>) -> (Vec<SourceScan>, Vec<String>) {
    let options = OpenOptions {
        topic: topic.map(str::to_string),
        ..Default::default()
    };
    let mut source = recordings::open(path, &options).unwrap_or_else(|e| panic!("{e}"));
    let mut scans = Vec::new();
    while let Some(s) = source.next_scan() {
        scans.push(s.unwrap_or_else(|e| panic!("{e}")));
        assert!(scans.len() < 1000, "runaway stream");
    }
    let warnings = source.take_warnings();
    (scans, warnings)
}

/// The Luminar bag in its three containers, and its ROS 2 files opened directly.
fn luminar_paths() -> Option<Vec<PathBuf>> {
    let ros1 = shared_dataset("recordings/ros1-luminar")?;
    let db3 = shared_dataset("recordings/ros2-luminar-db3")?;
    let mcap = shared_dataset("recordings/ros2-luminar-mcap")?;
    Some(vec![
        ros1.join("test.bag"),
        db3.clone(),
        db3.join("ros2-luminar-db3.db3"),
        mcap.clone(),
        mcap.join("ros2-luminar-mcap.mcap"),
    ])
}

#[test]
fn luminar_point_clouds_from_every_container() {
    let Some(paths) = luminar_paths() else { return };
    let (reference, w) = read_all(&paths[0], None);
    assert!(w.is_empty(), "{w:?}");
    // SOURCE.txt: 5 clouds of 35.7k-36.5k points at 10 Hz, absolute per-point time split in
    // time_sec + time_nsec.
    assert_eq!(reference.len(), 5);
    for (i, s) in reference.iter().enumerate() {
        let c = &s.cloud;
        assert!(
            (35_000..37_000).contains(&c.len()),
            "scan {i}: {} points",
            c.len()
        );
        assert_eq!(s.time_field.as_deref(), Some("time_sec+time_nsec"));
        assert!(c.intensity().is_some());
        assert!(s.label.starts_with("/luminar_pointcloud @ "), "{}", s.label);
        // Relative to the header stamp: within one 10 Hz sweep of it.
        let t = c.time().unwrap();
        let (lo, hi) = t
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        assert!(
            lo > -0.15 && hi < 0.15 && hi - lo > 0.01,
            "times {lo}..{hi}"
        );
        // Luminar ranges 7-253 m.
        let far = c
            .points()
            .iter()
            .map(|p| p.coords.norm())
            .fold(0.0, f64::max);
        assert!(far > 50.0 && far < 300.0, "farthest {far}");
        if i > 0 {
            let dt = c.stamp - reference[i - 1].cloud.stamp;
            assert!(dt > 0.05 && dt < 0.15, "stamps {dt} s apart");
        }
    }
    // The ROS 2 conversions decode to the very same clouds.
    for path in &paths[1..] {
        let (scans, w) = read_all(path, None);
        assert!(w.is_empty(), "{}: {w:?}", path.display());
        assert_eq!(scans.len(), reference.len(), "{}", path.display());
        for (a, b) in scans.iter().zip(&reference) {
            assert_eq!(a.cloud, b.cloud, "{}", path.display());
            assert_eq!(a.dropped_non_finite, b.dropped_non_finite);
            assert_eq!(a.time_field, b.time_field);
        }
    }
}

#[test]
fn laser_scans_are_read_when_named() {
    let Some(paths) = luminar_paths() else { return };
    let (reference, _) = read_all(&paths[0], Some("/base_scan"));
    // embag's own test of this bag: 90 ranges per scan, frame base_laser_link.
    assert_eq!(reference.len(), 5);
    for s in &reference {
        assert!(!s.cloud.is_empty());
        assert_eq!(s.cloud.len() + s.dropped_non_finite, 90);
        assert_eq!(s.cloud.sensor, "base_laser_link");
        assert!(s.cloud.points().iter().all(|p| p.z == 0.0));
        assert!(s.cloud.time().is_some());
    }
    for path in &paths[1..] {
        let (scans, _) = read_all(path, Some("/base_scan"));
        let clouds: Vec<_> = scans.iter().map(|s| &s.cloud).collect();
        let want: Vec<_> = reference.iter().map(|s| &s.cloud).collect();
        assert_eq!(clouds, want, "{}", path.display());
    }
}

#[test]
fn info_lists_every_topic_and_topic_errors_list_them_too() {
    let Some(paths) = luminar_paths() else { return };
    for path in &paths {
        let source = recordings::open(path, &OpenOptions::default()).unwrap();
        let info = source.info();
        assert_eq!(info.scan_count, Some(5), "{}", path.display());
        let topics: Vec<_> = info.details.iter().filter(|(l, _)| l == "topic").collect();
        assert_eq!(topics.len(), 3, "{:?}", info.details);
        assert!(topics.iter().all(|(_, v)| v.contains("(5 messages)")));
        assert!(info.details.iter().any(|(l, _)| l == "compression"));
        for bad in ["/nope", "/base_pose_ground_truth"] {
            let options = OpenOptions {
                topic: Some(bad.into()),
                ..Default::default()
            };
            let e = recordings::open(path, &options).err().unwrap().to_string();
            for t in [
                "/luminar_pointcloud",
                "/base_scan",
                "/base_pose_ground_truth",
            ] {
                assert!(e.contains(t), "{e}");
            }
            assert!(e.contains("Odometry") && e.contains("5 messages"), "{e}");
        }
    }
    let mcap = recordings::open(&paths[4], &OpenOptions::default()).unwrap();
    let compression = &mcap.info().details[1].1;
    assert!(!compression.is_empty());
}

#[test]
fn velodyne_scans_hand_over_their_packets() {
    let Some(dir) = shared_dataset("recordings/velodyne-vlp16-ros2") else {
        return;
    };
    let bag = dir.join("bag");
    let mut c: Box<dyn BagContainer> = open_container(&bag, Kind::Ros2Folder).unwrap();
    assert_eq!(c.topics()[0].count, Some(4));
    c.select("/velodyne_packets").unwrap();
    let mut messages = 0;
    let mut stamps = Vec::new();
    while let Some(m) = c.next_message() {
        let m = m.unwrap();
        let mut r = MessageReader::new(&m.data, Encoding::Cdr).unwrap();
        let scan = velodyne_scan::parse(&mut r).unwrap();
        // The message holds the header and the packets, nothing else (CDR pads its end to
        // 4 bytes).
        assert!(r.remaining() < 4, "{} bytes left", r.remaining());
        assert!(scan.packets.len() > 100, "{} packets", scan.packets.len());
        let bag_time = m.time_ns as f64 * 1e-9;
        for (k, p) in scan.packets.iter().enumerate() {
            // Every VLP-16 data packet: 12 blocks flagged 0xFFEE, factory byte 0x22.
            for b in 0..12 {
                assert_eq!(&p.data[b * 100..b * 100 + 2], &[0xff, 0xee], "packet {k}");
            }
            assert_eq!(p.data[1205], 0x22, "packet {k}: not a VLP-16");
            assert!(
                (p.stamp - bag_time).abs() < 0.5,
                "packet {k} at {}",
                p.stamp
            );
            if k > 0 {
                assert!(p.stamp >= scan.packets[k - 1].stamp);
            }
        }
        let span = scan.packets.last().unwrap().stamp - scan.packets[0].stamp;
        assert!(span > 0.05 && span < 0.12, "a rotation spans {span} s");
        stamps.push(m.time_ns);
        messages += 1;
    }
    assert_eq!(messages, 4);
    // The decode beside the bag is of the message logged at its name's time.
    assert_eq!(stamps[3], 1_673_400_472_138_016_708);
    assert!(stamps.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn velodyne_scans_decode_as_autowares_driver_does() {
    let Some(dir) = shared_dataset("recordings/velodyne-vlp16-ros2") else {
        return;
    };
    let (scans, warnings) = read_all(&dir.join("bag"), None);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(scans.len(), 4);
    // The decode beside the bag is of the fourth message (logged at its name's time).
    let ours = &scans[3].cloud;
    let theirs = lidarflow::io::pcd::read(&dir.join("nebula-1673400472138016708.pcd"))
        .unwrap()
        .cloud;
    assert_eq!(ours.sensor, "Velodyne VLP-16");
    assert!(ours.ring().is_some() && ours.time().is_some());
    let n = theirs.len() as f64;
    assert!(
        (ours.len() as f64 - n).abs() < 0.01 * n,
        "{} points, the driver's decode {}",
        ours.len(),
        theirs.len()
    );
    let coords: Vec<[f64; 3]> = ours.points().iter().map(|p| [p.x, p.y, p.z]).collect();
    let tree: ImmutableKdTree<f64, 3> = ImmutableKdTree::new_from_slice(&coords).unwrap();
    // We apply the VLP-16 manual's per-laser vertical offsets (up to 11.2 mm), which the
    // driver leaves out, so points are compared horizontally, and vertically within the
    // largest offset.
    let (mut horizontal, mut vertical) = (Vec::new(), Vec::new());
    for p in theirs.points() {
        let nn = tree
            .query(&[p.x, p.y, p.z])
            .nearest_one::<SquaredEuclidean<f64>>()
            .execute();
        let q = &coords[nn.item as usize];
        horizontal.push((q[0] - p.x).hypot(q[1] - p.y));
        vertical.push((q[2] - p.z).abs());
    }
    vertical.sort_by(f64::total_cmp);
    // (Near the sensor the nearest point can be another laser's, hence the 99th percentile.)
    let v99 = vertical[vertical.len() * 99 / 100];
    assert!(v99 < 0.0125, "99% of vertical differences within {v99} m");
    horizontal.sort_by(f64::total_cmp);
    let median = horizontal[horizontal.len() / 2];
    let within_2mm = horizontal.iter().filter(|&&h| h < 0.002).count() as f64 / n;
    let max = horizontal[horizontal.len() - 1];
    assert!(median < 0.001, "median horizontal difference {median} m");
    // About one point in eight sits 0.1°-0.3° round, either way, from its match in the
    // driver's decode (measured 86.7% within 2 mm; the cause is not pinned down: the driver
    // interpolates azimuth block to block, we over the whole packet as the manual does).
    assert!(within_2mm > 0.85, "{within_2mm} within 2 mm horizontally");
    assert!(max < 0.08, "largest horizontal difference {max} m");
}

/// Opens `path` and reads every scan; must neither panic nor run away. Returns the scans
/// read and the warnings, or the error.
fn survive(path: &Path) -> Result<(usize, Vec<String>), String> {
    let mut source = recordings::open(path, &OpenOptions::default()).map_err(|e| e.to_string())?;
    let mut n = 0;
    while let Some(s) = source.next_scan() {
        if s.is_err() {
            break;
        }
        n += 1;
        assert!(n < 100, "runaway stream");
    }
    Ok((n, source.take_warnings()))
}

/// The fixtures' single files, to damage.
fn single_files() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(p) = luminar_paths() {
        v.push(p[0].clone());
        v.push(p[2].clone());
        v.push(p[4].clone());
    }
    v
}

#[test]
fn bags_cut_short_are_read_up_to_the_cut() {
    let dir = tempfile::tempdir().unwrap();
    for src in single_files() {
        let bytes = std::fs::read(&src).unwrap();
        let name = src.file_name().unwrap();
        let path = dir.path().join(name);
        let len = bytes.len();
        // Cuts everywhere: inside the header, then across the file.
        let mut cuts: Vec<usize> = (0..64).collect();
        cuts.extend((1..60).map(|k| len * k / 60));
        cuts.extend([len - 1, len - 100, len - 5000]);
        for cut in cuts {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            match survive(&path) {
                Ok((_, warnings)) => {
                    assert!(
                        !warnings.is_empty() || cut >= len - 5000,
                        "{name:?} cut at {cut}: no warning"
                    );
                }
                Err(e) => assert!(e.contains(&*name.to_string_lossy()), "{e}"),
            }
        }
        // Cut after the point clouds (the first 5.8 MB of 5.8 or 3.8 MB hold them), the
        // clouds are all there; cut at two thirds, some are, with a warning saying where.
        let ext = src.extension().unwrap().to_string_lossy().to_string();
        if ext != "db3" {
            std::fs::write(&path, &bytes[..len * 2 / 3]).unwrap();
            let (n, w) = survive(&path).unwrap();
            assert!((1..5).contains(&n), "{name:?}: {n} scans");
            assert!(w.iter().any(|w| w.contains("ends at byte")), "{w:?}");
        }
    }
}

#[test]
fn flipped_bytes_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(19);
    for src in single_files() {
        let bytes = std::fs::read(&src).unwrap();
        let path = dir.path().join(src.file_name().unwrap());
        for round in 0..40 {
            let mut damaged = bytes.clone();
            // Few flips anywhere, or many in the first 64 kB (headers, schemas, tables).
            let (flips, span) = if round % 2 == 0 {
                (4, damaged.len())
            } else {
                (64, damaged.len().min(65536))
            };
            for _ in 0..flips {
                let i = rng.random_range(0..span);
                damaged[i] ^= 1 << rng.random_range(0..8);
            }
            std::fs::write(&path, &damaged).unwrap();
            if let Err(e) = survive(&path) {
                assert!(
                    e.contains(&*path.file_name().unwrap().to_string_lossy()),
                    "{e}"
                );
            }
        }
    }
}

#[test]
fn damaged_metadata_never_panics() {
    let Some(paths) = luminar_paths() else { return };
    let dir = tempfile::tempdir().unwrap();
    let meta = std::fs::read(paths[1].join("metadata.yaml")).unwrap();
    std::fs::copy(
        paths[1].join("ros2-luminar-db3.db3"),
        dir.path().join("ros2-luminar-db3.db3"),
    )
    .unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
    for round in 0..60 {
        let mut damaged = meta.clone();
        if round % 3 == 0 {
            damaged.truncate(rng.random_range(0..meta.len()));
        } else {
            for _ in 0..3 {
                let i = rng.random_range(0..damaged.len());
                damaged[i] ^= 1 << rng.random_range(0..8);
            }
        }
        std::fs::write(dir.path().join("metadata.yaml"), &damaged).unwrap();
        if let Err(e) = survive(dir.path()) {
            assert!(e.contains(&*dir.path().to_string_lossy()), "{e}");
        }
    }
}

/// Copies a ROS 2 bag folder, its files compressed with zstd by `mode` (`file` or `message`).
fn compressed_copy(src: &Path, dst: &Path, mode: &str) {
    std::fs::create_dir_all(dst).unwrap();
    let meta = std::fs::read_to_string(src.join("metadata.yaml")).unwrap();
    let file = meta
        .lines()
        .skip_while(|l| !l.starts_with("  relative_file_paths"))
        .nth(1)
        .unwrap()
        .trim_start_matches("  - ")
        .trim()
        .to_string();
    let mut meta = meta
        .replace("compression_format: ''", "compression_format: zstd")
        .replace("compression_format: \"\"", "compression_format: zstd")
        .replace(
            "compression_mode: ''",
            &format!("compression_mode: {}", mode.to_uppercase()),
        )
        .replace(
            "compression_mode: \"\"",
            &format!("compression_mode: {}", mode.to_uppercase()),
        );
    if mode == "file" {
        meta = meta.replace(&file, &format!("{file}.zstd"));
        let data = std::fs::read(src.join(&file)).unwrap();
        let packed = zstd::bulk::compress(&data, 3).unwrap();
        std::fs::write(dst.join(format!("{file}.zstd")), packed).unwrap();
    } else {
        // Message compression: every message's data compressed on its own.
        let out = dst.join(&file);
        std::fs::copy(src.join(&file), &out).unwrap();
        let mut perms = std::fs::metadata(&out).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        std::fs::set_permissions(&out, perms).unwrap();
        let db = rusqlite::Connection::open(&out).unwrap();
        let rows: Vec<(i64, Vec<u8>)> = db
            .prepare("SELECT id, data FROM messages")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (id, data) in rows {
            let packed = zstd::bulk::compress(&data, 3).unwrap();
            db.execute(
                "UPDATE messages SET data = ?1 WHERE id = ?2",
                rusqlite::params![packed, id],
            )
            .unwrap();
        }
    }
    std::fs::write(dst.join("metadata.yaml"), meta).unwrap();
}

#[test]
fn zstd_compressed_ros2_bags_by_file_and_by_message() {
    let Some(paths) = luminar_paths() else { return };
    let (reference, _) = read_all(&paths[0], None);
    let dir = tempfile::tempdir().unwrap();
    for (src, mode) in [
        (&paths[1], "file"),
        (&paths[1], "message"),
        (&paths[3], "file"),
    ] {
        let dst = dir.path().join(format!(
            "{mode}-{}",
            src.file_name().unwrap().to_string_lossy()
        ));
        compressed_copy(src, &dst, mode);
        let (scans, w) = read_all(&dst, None);
        assert!(w.is_empty(), "{w:?}");
        let clouds: Vec<_> = scans.iter().map(|s| &s.cloud).collect();
        let want: Vec<_> = reference.iter().map(|s| &s.cloud).collect();
        assert_eq!(clouds, want, "{mode} {}", src.display());
        let source = recordings::open(&dst, &OpenOptions::default()).unwrap();
        let compression = &source.info().details[1].1;
        assert_eq!(compression, &format!("zstd by {mode}"));
    }
    // A split bag: the same file listed twice reads its clouds twice, in file order.
    let split = dir.path().join("split");
    std::fs::create_dir_all(&split).unwrap();
    let meta = std::fs::read_to_string(paths[1].join("metadata.yaml")).unwrap();
    std::fs::write(
        split.join("metadata.yaml"),
        meta.replace(
            "relative_file_paths:\n  - ros2-luminar-db3.db3",
            "relative_file_paths:\n  - a.db3\n  - b.db3",
        ),
    )
    .unwrap();
    for n in ["a.db3", "b.db3"] {
        std::fs::copy(paths[1].join("ros2-luminar-db3.db3"), split.join(n)).unwrap();
    }
    let (scans, _) = read_all(&split, None);
    assert_eq!(scans.len(), 10);
    assert_eq!(scans[5].cloud, reference[0].cloud);
}

#[test]
fn unknown_compression_is_one_clear_error() {
    let Some(paths) = luminar_paths() else { return };
    let dir = tempfile::tempdir().unwrap();
    let meta = std::fs::read_to_string(paths[1].join("metadata.yaml")).unwrap();
    std::fs::write(
        dir.path().join("metadata.yaml"),
        meta.replace("compression_format: ''", "compression_format: lz4")
            .replace("compression_mode: ''", "compression_mode: FILE"),
    )
    .unwrap();
    let e = recordings::open(dir.path(), &OpenOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("metadata.yaml") && e.contains("'lz4'"), "{e}");
}
