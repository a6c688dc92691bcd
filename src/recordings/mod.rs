//! Every source of scans behind one interface ([`ScanSource`]), opened by sniffing the path
//! ([`open`]): a KITTI odometry tree, a folder of scan files, ROS 1 and ROS 2 bags (MCAP,
//! sqlite3), Ouster and Velodyne packet captures, and the synthetic generator. One file per
//! container or sensor; message and packet decoding lives apart, in [`messages`] and
//! [`packets`], so a packet from a bag and a packet from a capture go through the same
//! decoder.

pub mod bag;
pub mod capture;
pub mod carmen;
pub mod convert;
pub mod db3_bag;
pub mod folder;
pub mod inspect;
pub mod kitti;
pub mod mcap_bag;
pub mod messages;
pub mod ouster_capture;
pub mod packets;
pub mod pcap;
pub mod read_ahead;
pub mod recording;
pub mod ros1_bag;
pub mod ros2_bag;
pub mod sniff;
pub mod source;
pub mod synth;
pub mod times;
pub mod velodyne_capture;

pub use recording::{FileSource, Recording};
pub use sniff::Kind;
pub use source::{OpenOptions, ScanSource, SourceInfo, SourceScan};

use crate::error::{Error, Result};
use std::path::Path;

/// Opens any recording lidarflow reads, choosing the reader from what the path holds (magic
/// bytes, extension, folder contents; see [`Kind::of`]).
pub fn open(path: impl AsRef<Path>, options: &OpenOptions) -> Result<Box<dyn ScanSource>> {
    let path = path.as_ref();
    let kind = Kind::of(path)?;
    match kind {
        Kind::Kitti => Ok(Box::new(FileSource::new(
            kitti::open(path, options.sequence.as_deref())?,
            "KITTI odometry",
        ))),
        Kind::Folder => Ok(Box::new(FileSource::new(
            folder::open(path)?,
            "folder of scans",
        ))),
        Kind::Ros1Bag | Kind::Ros2Folder | Kind::Mcap | Kind::Db3 => {
            Ok(Box::new(bag::open(path, kind, options)?))
        }
        Kind::Pcap => capture::open(path, options),
        Kind::Carmen => Ok(Box::new(carmen::open(path, options)?)),
    }
}

// Here rather than in recording.rs, so that the file layouts depend on `Recording` and not
// the other way round.
impl Recording {
    /// Opens a KITTI odometry root (with `sequence`, or its only sequence) or a folder of
    /// scans, as DESIGN.md describes.
    pub fn open(path: impl AsRef<Path>, sequence: Option<&str>) -> Result<Recording> {
        let path = path.as_ref();
        if !path.exists() {
            return Err(Error::format(path, "dataset folder does not exist"));
        }
        if !path.is_dir() {
            return Err(Error::format(
                path,
                "a dataset is a folder (a KITTI root or a folder of scans), not a file",
            ));
        }
        if kitti::is_kitti_root(path) {
            kitti::open(path, sequence)
        } else {
            folder::open(path)
        }
    }
}
