//! The one small interface every source of scans offers: a lazy stream of scans in recording
//! order, a description for `lidarflow info`, and the warnings gathered while reading (a file
//! cut short, messages that did not decode). The reader block, `lidarflow info`,
//! `lidarflow convert` and the odometry's plain runner use nothing else.

use crate::cloud::PointCloud;
use crate::error::Result;
use crate::io::trajectory::Trajectory;
use nalgebra::Isometry3;

/// One scan as a source delivers it.
#[derive(Debug, Clone)]
pub struct SourceScan {
    /// The points, in the sensor frame, with the scan's stamp (seconds) and per-point times
    /// relative to it when the recording has them.
    pub cloud: PointCloud,
    /// Points dropped while decoding because a coordinate was NaN or infinite (or, for
    /// sensors, a return was absent).
    pub dropped_non_finite: usize,
    /// Where the scan came from, for messages: a file path, `topic @ stamp`, a frame id.
    pub label: String,
    /// The reference pose (`T_world_lidar`) of this scan, when the recording has them.
    pub reference: Option<Isometry3<f64>>,
    /// The name of the per-point time field the scan's times came from (`t`, `time`,
    /// `timestamp`, column timestamps...), when it had one.
    pub time_field: Option<String>,
    /// A rotation cut short by the start or end of a capture (fewer columns than a full
    /// sweep): still a scan, but `info` says so.
    pub partial: bool,
    /// Odometry pose from the platform's wheels (`T_odom_base`, planar robots' logs carry
    /// it with each scan), when the recording has it: the motion prior of planar odometry.
    pub odometry: Option<Isometry3<f64>>,
}

impl SourceScan {
    /// A scan with nothing but its cloud and label.
    pub fn new(cloud: PointCloud, label: impl Into<String>) -> SourceScan {
        SourceScan {
            cloud,
            dropped_non_finite: 0,
            label: label.into(),
            reference: None,
            time_field: None,
            partial: false,
            odometry: None,
        }
    }
}

/// What a source is, as `lidarflow info` prints it.
#[derive(Debug, Clone, Default)]
pub struct SourceInfo {
    /// What the recording is called in messages (folder or file name, KITTI sequence).
    pub name: String,
    /// The kind of container or sensor (`folder of scans`, `ROS 1 bag`, `MCAP`, `Ouster
    /// capture`...).
    pub kind: String,
    /// Further facts, one `(label, value)` line each, in the order to print them: storage and
    /// compression, topics with their types and message counts, sensor model, packet profile,
    /// frame size.
    pub details: Vec<(String, String)>,
    /// The number of scans, when the source knows it without reading them (an index, a
    /// folder listing, a message count).
    pub scan_count: Option<usize>,
    /// Reference poses (`T_world_lidar`, one per scan), when the recording has them.
    pub reference: Option<Trajectory>,
}

/// Everything a user may say about how to open a recording. Each source reads the options
/// that concern it and ignores the rest.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// KITTI sequence (`00`, `07`...), for a KITTI root holding several.
    pub sequence: Option<String>,
    /// The topic to read from a bag; `None` takes the only point-cloud topic.
    pub topic: Option<String>,
    /// An Ouster capture's metadata `.json`, when it is not beside the `.pcap`.
    pub metadata: Option<std::path::PathBuf>,
    /// A Velodyne model (`VLP-16`, `VLP-32C`, `HDL-32E`...) when the packets' factory byte
    /// is unset or wrong.
    pub model: Option<String>,
    /// A planar scanner's field of view in degrees, for logs whose laser lines do not say it
    /// (CARMEN `FLASER`).
    pub fov_deg: Option<f64>,
}

/// A stream of scans in recording order, read lazily: holding a source never holds the whole
/// recording in memory.
pub trait ScanSource: Send {
    /// What the source is.
    fn info(&self) -> &SourceInfo;

    /// The next scan, `None` at the end. An error ends the stream: a source skips (and
    /// counts, in its warnings) what it can skip, and errs only when it cannot go on.
    fn next_scan(&mut self) -> Option<Result<SourceScan>>;

    /// Skips `n` scans; sources that can jump do so without decoding them.
    fn skip_scans(&mut self, n: usize) -> Result<()> {
        for _ in 0..n {
            match self.next_scan() {
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => break,
            }
        }
        Ok(())
    }

    /// Warnings gathered since the last call: the file ends early (and where, after how many
    /// messages or packets), messages or packets skipped (with topic and time), time going
    /// backwards. Each is one line a user can act on.
    fn take_warnings(&mut self) -> Vec<String> {
        Vec::new()
    }
}

impl Iterator for dyn ScanSource + '_ {
    type Item = Result<SourceScan>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_scan()
    }
}
