//! `lidarflow info`.

use crate::datasets::inspect::inspect;
use crate::datasets::recording::StampSource;
use crate::datasets::Recording;
use crate::error::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub(crate) struct InfoArgs {
    /// A KITTI odometry root or a folder of scans.
    path: PathBuf,
    /// KITTI sequence (for a root holding several).
    #[arg(long)]
    sequence: Option<String>,
    /// Read every scan and report every one that cannot be read (otherwise 20 scans
    /// spread over the recording are read for the point figures).
    #[arg(long)]
    check_all: bool,
}

pub(crate) fn run(args: InfoArgs) -> Result<i32> {
    let rec = Recording::open(&args.path, args.sequence.as_deref())?;
    let info = inspect(&rec, args.check_all, 20);
    println!("recording    {}", rec.name);
    let first = if rec.is_empty() {
        PathBuf::new()
    } else {
        rec.scan_path(0).to_path_buf()
    };
    println!(
        "scans        {} in {}",
        info.scans,
        first
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    );
    if let Some((min, mean, max)) = info.points {
        println!(
            "points/scan  min {min}, mean {mean:.0}, max {max} ({} of {} scans read{})",
            info.scans_read,
            info.scans,
            if args.check_all {
                ""
            } else {
                "; --check-all reads all"
            }
        );
    }
    println!("fields       {}", info.fields.join(" "));
    let (t0, t1) = info.time_span;
    let source = match rec.stamp_source {
        StampSource::TimesFile => "times.txt",
        StampSource::Assumed10Hz => "no times.txt: 10 Hz assumed",
    };
    let rate = if t1 > t0 {
        (info.scans as f64 - 1.0) / (t1 - t0)
    } else {
        0.0
    };
    println!(
        "time span    {:.3} s, {rate:.2} scans/s ({source})",
        t1 - t0
    );
    match info.reference {
        Some((n, length)) => println!("reference    {n} poses, path length {length:.2} m"),
        None => println!("reference    none"),
    }
    if info.dropped_non_finite > 0 {
        println!("non-finite   {} points dropped", info.dropped_non_finite);
    }
    for i in &info.empty_scans {
        println!("empty scan   {i}: {}", rec.scan_path(*i).display());
    }
    for (i, e) in &info.bad {
        println!("bad scan     {i}: {e}");
    }
    Ok(if info.bad.is_empty() { 0 } else { 1 })
}
