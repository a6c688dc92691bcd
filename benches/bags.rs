//! Read throughput of the bag containers on the shared fixtures: every scan of the chosen
//! topic opened, read and decoded, median of 5 passes; prints scans/s and MB/s (of the whole
//! file or folder, the size a user has on disk).
//!
//! `cargo bench --no-default-features --bench bags` (more bags: `BAGS=a.mcap:b.bag`)

use lidarflow::recordings::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Bytes of a file, or of every file in a folder.
fn size_of(path: &Path) -> u64 {
    if path.is_dir() {
        std::fs::read_dir(path)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter_map(|e| e.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    } else {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/recordings");
    if !root.is_dir() {
        eprintln!("SKIPPED: {} is absent", root.display());
        return;
    }
    let mut cases = vec![
        (
            "ROS 1 bag, lz4 chunks",
            root.join("ros1-luminar/test.bag"),
            None,
        ),
        ("ROS 2 sqlite3 (.db3)", root.join("ros2-luminar-db3"), None),
        ("ROS 2 MCAP", root.join("ros2-luminar-mcap"), None),
        (
            "ROS 1 bag, LaserScan",
            root.join("ros1-luminar/test.bag"),
            Some("/base_scan"),
        ),
    ];
    // More bags to measure, as BAGS=a.mcap:b.bag (for instance the long synthetic MCAP that
    // scripts/bench-recordings.sh writes).
    for extra in std::env::var("BAGS").unwrap_or_default().split(':') {
        if !extra.is_empty() {
            cases.push(("(BAGS)", PathBuf::from(extra), None));
        }
    }
    println!(
        "{:<24} {:>6} {:>10} {:>10} {:>10}",
        "container", "scans", "points", "scans/s", "MB/s"
    );
    for (name, path, topic) in cases {
        if !path.exists() {
            eprintln!("SKIPPED: {} is absent", path.display());
            continue;
        }
        let options = OpenOptions {
            topic: topic.map(str::to_string),
            ..Default::default()
        };
        let mut scans = 0;
        let mut points = 0;
        let mut times: Vec<f64> = (0..5)
            .map(|_| {
                let t = Instant::now();
                let mut source = recordings::open(&path, &options).expect("open");
                scans = 0;
                points = 0;
                while let Some(scan) = source.next_scan() {
                    let scan = scan.expect("scan");
                    scans += 1;
                    points += scan.cloud.len();
                    std::hint::black_box(scan);
                }
                t.elapsed().as_secs_f64()
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let t = times[2];
        // MB/s of the file only where the topic is most of it (a LaserScan topic reads one
        // small chunk of this bag).
        let mb = if topic.is_none() {
            format!("{:.1}", size_of(&path) as f64 / 1e6 / t)
        } else {
            "-".to_string()
        };
        println!(
            "{:<24} {:>6} {:>10} {:>10.1} {:>10}",
            name,
            scans,
            points,
            scans as f64 / t,
            mb
        );
    }
}
