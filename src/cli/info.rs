//! `lidarflow info`.

use crate::error::Result;
use crate::recordings::inspect::{inspect, inspect_stream};
use crate::recordings::recording::StampSource;
use crate::recordings::{self, Kind, OpenOptions, Recording};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub(crate) struct InfoArgs {
    /// Any recording: a ROS 1 or ROS 2 bag, an Ouster or Velodyne capture, a CARMEN log, a
    /// KITTI odometry root or a folder of scans.
    path: PathBuf,
    /// KITTI sequence (for a root holding several).
    #[arg(long)]
    sequence: Option<String>,
    /// Bag topic (for a bag with several point-cloud topics).
    #[arg(long)]
    topic: Option<String>,
    /// An Ouster capture's metadata .json, when it is not beside the .pcap.
    #[arg(long)]
    metadata: Option<PathBuf>,
    /// Velodyne model, when the packets' factory byte is wrong (VLP-16, VLP-32C, HDL-32E...).
    #[arg(long)]
    model: Option<String>,
    /// Read every scan and report every one that cannot be read (otherwise 20 scans
    /// spread over the recording are read for the point figures; a stream whose scan count
    /// is not known beforehand is always read whole).
    #[arg(long)]
    check_all: bool,
}

pub(crate) fn run(args: InfoArgs) -> Result<i32> {
    match Kind::of(&args.path)? {
        Kind::Folder | Kind::Kitti => files(args),
        _ => stream(args),
    }
}

/// A streamed recording: its description, then figures from reading its scans in order.
fn stream(args: InfoArgs) -> Result<i32> {
    let options = OpenOptions {
        sequence: args.sequence.clone(),
        topic: args.topic.clone(),
        metadata: args.metadata.clone(),
        model: args.model.clone(),
        fov_deg: None,
    };
    let mut source = recordings::open(&args.path, &options)?;
    let described = source.info().clone();
    println!("recording    {}", described.name);
    println!("kind         {}", described.kind);
    for (label, value) in &described.details {
        println!("{label:<12} {value}");
    }
    let limit = match described.scan_count {
        Some(_) if !args.check_all => Some(20),
        _ => None,
    };
    let info = inspect_stream(source.as_mut(), limit);
    let scans = match (described.scan_count, info.complete) {
        (_, true) => info.scans_read.to_string(),
        (Some(n), false) => format!("{n} (by the index)"),
        (None, false) => format!("at least {}", info.scans_read),
    };
    let partial = if info.partial.is_empty() {
        String::new()
    } else {
        format!(
            "; partial rotations (cut by the recording's start or end): {}",
            info.partial
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    println!("scans        {scans}{partial}");
    if let Some((min, mean, max)) = info.points {
        println!(
            "points/scan  min {min}, mean {mean:.0}, max {max} ({} scans read{})",
            info.scans_read,
            if info.complete {
                ""
            } else {
                "; --check-all reads all"
            }
        );
    }
    println!("fields       {}", info.fields.join(" "));
    if info.time_fields.is_empty() {
        println!("point time   none (scans are not de-skewed)");
    }
    for (field, span) in &info.time_fields {
        println!(
            "point time   field `{field}`, up to {:.1} ms within a scan",
            span * 1e3
        );
    }
    if let Some((t0, t1)) = info.time_span {
        let rate = if t1 > t0 {
            (info.scans_read as f64 - 1.0) / (t1 - t0)
        } else {
            0.0
        };
        println!(
            "time span    {:.3} s ({t0:.6} to {t1:.6}), {rate:.2} scans/s",
            t1 - t0
        );
    }
    if info.backwards > 0 {
        println!(
            "time order   {} scans not after the previous one",
            info.backwards
        );
    }
    match &described.reference {
        Some(r) => println!(
            "reference    {} poses, path length {:.2} m",
            r.len(),
            r.path_length()
        ),
        None => println!("reference    none"),
    }
    if info.dropped > 0 {
        println!(
            "dropped      {} points (non-finite or no return)",
            info.dropped
        );
    }
    for i in &info.empty_scans {
        println!("empty scan   {i}");
    }
    for w in &info.warnings {
        println!("warning      {w}");
    }
    match &info.error {
        Some(e) => {
            println!("bad scan     {}: {e}", info.scans_read);
            Ok(1)
        }
        None => Ok(0),
    }
}

/// A KITTI root or a folder of scans: sampled in parallel, or read whole with --check-all.
fn files(args: InfoArgs) -> Result<i32> {
    let rec = Recording::open(&args.path, args.sequence.as_deref())?;
    let info = inspect(&rec, args.check_all, 20);
    println!("recording    {}", rec.name);
    println!(
        "kind         {}",
        match Kind::of(&args.path)? {
            Kind::Kitti => "KITTI odometry",
            _ => "folder of scans",
        }
    );
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
