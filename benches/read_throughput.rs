//! Read throughput per scan format on balm-realworld: the first 20 scans converted to every
//! format in a temporary folder, then read back; prints scans/s and MB/s per format.
//!
//! `cargo bench --bench read_throughput`

use lidarflow::io::{las, pcd, ply, read_scan};
use lidarflow::PointCloud;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/datasets/balm-realworld/velodyne");
    if !root.is_dir() {
        eprintln!("SKIPPED: {} is absent", root.display());
        return;
    }
    let n = 20;
    let clouds: Vec<PointCloud> = (0..n)
        .map(|i| {
            read_scan(root.join(format!("{i:06}.bin")))
                .expect("balm scan")
                .cloud
        })
        .collect();
    let dir = tempfile::tempdir().expect("temporary folder");
    type Writer = fn(&Path, &PointCloud) -> lidarflow::Result<()>;
    let formats: Vec<(&str, &str, Writer)> = vec![
        ("bin", "bin", |p, c| lidarflow::io::write_scan(p, c)),
        ("pcd ascii", "pcd", |p, c| {
            pcd::write(p, c, pcd::DataKind::Ascii)
        }),
        ("pcd binary", "pcd", |p, c| {
            pcd::write(p, c, pcd::DataKind::Binary)
        }),
        ("pcd binary_compressed", "pcd", |p, c| {
            pcd::write(p, c, pcd::DataKind::BinaryCompressed)
        }),
        ("ply ascii", "ply", |p, c| {
            ply::write(p, c, ply::Encoding::Ascii)
        }),
        ("ply binary", "ply", |p, c| {
            ply::write(p, c, ply::Encoding::BinaryLittleEndian)
        }),
        ("las", "las", |p, c| las::write(p, c)),
        ("laz", "laz", |p, c| las::write(p, c)),
    ];
    println!(
        "{:<24} {:>10} {:>10} {:>12}",
        "format", "scans/s", "MB/s", "MB per scan"
    );
    for (name, ext, write) in formats {
        let files: Vec<PathBuf> = (0..n)
            .map(|i| {
                let p = dir
                    .path()
                    .join(format!("{}-{i}.{ext}", name.replace(' ', "_")));
                write(&p, &clouds[i]).expect("write");
                p
            })
            .collect();
        let bytes: u64 = files
            .iter()
            .map(|f| std::fs::metadata(f).expect("written").len())
            .sum();
        // Median of 3 passes (the files are in the page cache after the first write).
        let mut times: Vec<f64> = (0..3)
            .map(|_| {
                let t = Instant::now();
                for f in &files {
                    std::hint::black_box(read_scan(f).expect("read back"));
                }
                t.elapsed().as_secs_f64()
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let t = times[1];
        println!(
            "{:<24} {:>10.1} {:>10.1} {:>12.2}",
            name,
            n as f64 / t,
            bytes as f64 / 1e6 / t,
            bytes as f64 / 1e6 / n as f64
        );
    }
}
