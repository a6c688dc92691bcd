//! Every source of scans behind one interface ([`ScanSource`]), opened by sniffing the path
//! ([`open`]): a KITTI odometry tree, a folder of scan files, ROS 1 and ROS 2 bags (MCAP,
//! sqlite3), Ouster and Velodyne packet captures, and the synthetic generator. One file per
//! container or sensor; message and packet decoding lives apart, in [`messages`] and
//! [`packets`], so a packet from a bag and a packet from a capture go through the same
//! decoder.

pub mod carmen;
pub mod convert;
pub mod folder;
pub mod inspect;
pub mod kitti;
pub mod pcap;
pub mod recording;
pub mod sniff;
pub mod source;
pub mod synth;
pub mod times;

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
        Kind::Carmen => Ok(Box::new(carmen::open(path, options)?)),
        other => Err(Error::format(
            path,
            format!(
                "this is {}, which this build cannot read yet",
                other.describe()
            ),
        )),
    }
}
