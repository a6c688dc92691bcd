//! Which kind of recording a path holds, from its magic bytes, extension and folder
//! contents: the one place that decides which reader opens it.

use crate::error::{Error, Result};
use crate::io::ScanFormat;
use std::io::Read;
use std::path::Path;

/// The kinds of recording lidarflow reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A KITTI odometry root (`sequences/SS/velodyne/*.bin`).
    Kitti,
    /// A folder of scan files.
    Folder,
    /// A ROS 1 bag (`#ROSBAG V2.0`).
    Ros1Bag,
    /// A ROS 2 bag folder (`metadata.yaml` naming its storage and files).
    Ros2Folder,
    /// An MCAP file.
    Mcap,
    /// A ROS 2 sqlite3 bag file (`.db3`).
    Db3,
    /// A packet capture (pcap or pcapng) of an Ouster or Velodyne sensor.
    Pcap,
    /// A CARMEN log of a planar laser (`.clf`, `.log`).
    Carmen,
}

/// The first bytes of each container.
const ROSBAG_MAGIC: &[u8] = b"#ROSBAG V2.0\n";
const MCAP_MAGIC: &[u8] = b"\x89MCAP0\r\n";
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
const PCAP_MAGICS: [[u8; 4]; 5] = [
    [0xd4, 0xc3, 0xb2, 0xa1], // microseconds, little endian
    [0xa1, 0xb2, 0xc3, 0xd4], // microseconds, big endian
    [0x4d, 0x3c, 0xb2, 0xa1], // nanoseconds, little endian
    [0xa1, 0xb2, 0x3c, 0x4d], // nanoseconds, big endian
    [0x0a, 0x0d, 0x0d, 0x0a], // pcapng section header
];

impl Kind {
    /// The kind of recording at `path`, or an error saying what lidarflow reads.
    pub fn of(path: &Path) -> Result<Kind> {
        if !path.exists() {
            return Err(Error::format(path, "no such file or folder"));
        }
        if path.is_dir() {
            if path.join("metadata.yaml").is_file() {
                return Ok(Kind::Ros2Folder);
            }
            if super::kitti::is_kitti_root(path) {
                return Ok(Kind::Kitti);
            }
            return Ok(Kind::Folder);
        }
        let mut head = [0u8; 16];
        let n = std::fs::File::open(path)
            .and_then(|mut f| read_up_to(&mut f, &mut head))
            .map_err(|e| Error::io(path, e))?;
        if let Some(kind) = Kind::from_magic(&head[..n]) {
            return Ok(kind);
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("clf") | Some("log") => return Ok(Kind::Carmen),
            Some("bag") | Some("mcap") | Some("db3") | Some("pcap") | Some("pcapng") => {
                return Err(Error::format(
                    path,
                    format!(
                        "named .{} but its first bytes are not that format's (the file may be \
                         empty, cut short at its start, or another kind of file)",
                        ext.unwrap_or_default()
                    ),
                ))
            }
            _ => {}
        }
        if ScanFormat::from_path(path).is_ok() {
            return Err(Error::format(
                path,
                "this is one scan file; a dataset is a recording: give the folder that holds \
                 the scans",
            ));
        }
        Err(Error::format(
            path,
            "not a recording lidarflow reads: expected a ROS 1 bag, a ROS 2 bag (folder with \
             metadata.yaml, .mcap or .db3), an Ouster or Velodyne .pcap, a CARMEN .clf log, a \
             KITTI root or a folder of scans",
        ))
    }

    /// The kind whose magic bytes `head` starts with.
    pub fn from_magic(head: &[u8]) -> Option<Kind> {
        if head.starts_with(ROSBAG_MAGIC) {
            Some(Kind::Ros1Bag)
        } else if head.starts_with(MCAP_MAGIC) {
            Some(Kind::Mcap)
        } else if head.starts_with(SQLITE_MAGIC) {
            Some(Kind::Db3)
        } else if head.len() >= 4 && PCAP_MAGICS.iter().any(|m| head[..4] == m[..]) {
            Some(Kind::Pcap)
        } else {
            None
        }
    }

    /// The kind in words, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Kitti => "a KITTI odometry root",
            Kind::Folder => "a folder of scans",
            Kind::Ros1Bag => "a ROS 1 bag",
            Kind::Ros2Folder => "a ROS 2 bag folder",
            Kind::Mcap => "an MCAP file",
            Kind::Db3 => "a ROS 2 sqlite3 bag",
            Kind::Pcap => "a packet capture",
            Kind::Carmen => "a CARMEN log",
        }
    }
}

/// Reads as many bytes as fit in `buf` or the file holds.
fn read_up_to(f: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_name_the_container() {
        assert_eq!(Kind::from_magic(b"#ROSBAG V2.0\nxyz"), Some(Kind::Ros1Bag));
        assert_eq!(Kind::from_magic(b"\x89MCAP0\r\n\x01"), Some(Kind::Mcap));
        assert_eq!(Kind::from_magic(b"SQLite format 3\0"), Some(Kind::Db3));
        assert_eq!(
            Kind::from_magic(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]),
            Some(Kind::Pcap)
        );
        assert_eq!(
            Kind::from_magic(&[0x0a, 0x0d, 0x0d, 0x0a]),
            Some(Kind::Pcap)
        );
        assert_eq!(Kind::from_magic(b"#ROSBAG V1.2\n"), None);
        assert_eq!(Kind::from_magic(b""), None);
    }

    #[test]
    fn folders_and_misnamed_files() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Kind::of(dir.path()).unwrap(), Kind::Folder);
        std::fs::write(
            dir.path().join("metadata.yaml"),
            "rosbag2_bagfile_information:\n",
        )
        .unwrap();
        assert_eq!(Kind::of(dir.path()).unwrap(), Kind::Ros2Folder);
        let fake = dir.path().join("x.mcap");
        std::fs::write(&fake, b"hello").unwrap();
        let e = Kind::of(&fake).unwrap_err().to_string();
        assert!(e.contains("x.mcap") && e.contains("first bytes"), "{e}");
        let scan = dir.path().join("000000.pcd");
        std::fs::write(&scan, b"# .PCD").unwrap();
        assert!(Kind::of(&scan)
            .unwrap_err()
            .to_string()
            .contains("one scan file"));
        let missing = dir.path().join("nothing");
        assert!(Kind::of(&missing)
            .unwrap_err()
            .to_string()
            .contains("no such"));
    }
}
