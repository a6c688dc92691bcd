//! Decode throughput of Ouster captures: reads each capture given (by default the shared
//! fixtures) whole, again and again for about two seconds, and prints scans and megabytes of
//! capture per second.
//!
//! ```text
//! cargo run --release --no-default-features --example ouster_throughput [CAPTURE.pcap...]
//! ```

use lidarflow::recordings::{self, OpenOptions};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut captures: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if captures.is_empty() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/recordings");
        captures = vec![
            root.join("ouster-os1-128/OS-1-128_v2.3.0_1024x10_lb_n3.pcap"),
            root.join("ouster-os1-64-legacy/os1-64.pcap"),
        ];
    }
    for pcap in &captures {
        let bytes = std::fs::metadata(pcap)?.len() as f64;
        let (mut scans, mut points, mut passes) = (0usize, 0usize, 0usize);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(2) || passes == 0 {
            let mut source = recordings::open(pcap, &OpenOptions::default())?;
            while let Some(scan) = source.next_scan() {
                let scan = scan?;
                scans += 1;
                points += scan.cloud.len();
            }
            passes += 1;
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{}: {passes} passes, {:.1} scans/s, {:.1} MB/s of capture, {:.2} Mpoints/s",
            pcap.display(),
            scans as f64 / secs,
            bytes * passes as f64 / secs / 1e6,
            points as f64 / secs / 1e6
        );
    }
    Ok(())
}
