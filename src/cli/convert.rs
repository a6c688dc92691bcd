//! `lidarflow convert`: any readable recording as a folder of scans.

use crate::error::Result;
use crate::recordings::convert::convert;
use crate::recordings::{self, OpenOptions};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Scan file formats `convert` writes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    /// KITTI `.bin`: float32 x y z intensity (no per-point time).
    Bin,
    /// Binary PCD, with intensity, per-point time and ring when present.
    Pcd,
    /// Binary little-endian PLY, with intensity, per-point time and ring when present.
    Ply,
    /// LASzip-compressed LAS, with intensity and per-point time (GPS time).
    Laz,
}

#[derive(Debug, Args)]
pub(crate) struct ConvertArgs {
    /// Any recording lidarflow reads (a bag, a capture, a log, a KITTI root, a folder).
    input: PathBuf,
    /// The folder to write (`000000.EXT`, … in scan order, `times.txt`, `poses.txt` when the
    /// recording has reference poses).
    output: PathBuf,
    /// The scan format to write.
    #[arg(long, value_enum)]
    format: Format,
    /// Bag topic (for a bag with several point-cloud topics).
    #[arg(long)]
    topic: Option<String>,
    /// KITTI sequence (for a root holding several).
    #[arg(long)]
    sequence: Option<String>,
    /// An Ouster capture's metadata .json, when it is not beside the .pcap.
    #[arg(long)]
    metadata: Option<PathBuf>,
    /// Velodyne model, when the packets' factory byte is wrong (VLP-16, VLP-32C, HDL-32E...).
    #[arg(long)]
    model: Option<String>,
}

pub(crate) fn run(args: ConvertArgs) -> Result<i32> {
    let options = OpenOptions {
        sequence: args.sequence,
        topic: args.topic,
        metadata: args.metadata,
        model: args.model,
        fov_deg: None,
    };
    let mut source = recordings::open(&args.input, &options)?;
    let total = source.info().scan_count;
    let counter = Arc::new(AtomicUsize::new(0));
    let guard = super::progress::show(counter.clone(), total, "scans");
    let ext = match args.format {
        Format::Bin => "bin",
        Format::Pcd => "pcd",
        Format::Ply => "ply",
        Format::Laz => "laz",
    };
    let done = convert(source.as_mut(), &args.output, ext, |n| {
        counter.store(n, Ordering::Relaxed)
    });
    drop(guard);
    let done = done?;
    for w in &done.warnings {
        eprintln!("warning: {}: {w}", args.input.display());
    }
    println!(
        "wrote {} scans ({} points) to {}",
        done.scans,
        done.points,
        args.output.display()
    );
    Ok(0)
}
