//! What every bag shares, whatever its container (ROS 1 `.bag`, MCAP, sqlite3 `.db3`, a
//! ROS 2 bag folder): the [`BagContainer`] interface (topics with their types and message
//! counts, a lazy time-ordered stream of one topic's messages), the choice of topic, and the
//! [`BagSource`] that decodes messages into scans, skipping and counting those that do not
//! decode.

use super::messages::{self, laser_scan, pointcloud2, velodyne_scan, Encoding};
use super::packets::velodyne::{self, Model};
use super::read_ahead::ReadAhead;
use super::source::{OpenOptions, ScanSource, SourceInfo, SourceScan};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// One topic of a bag.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicInfo {
    /// Topic name (`/points`).
    pub name: String,
    /// Message type as the bag writes it (`sensor_msgs/PointCloud2`,
    /// `sensor_msgs/msg/PointCloud2`).
    pub type_name: String,
    /// How its messages are serialized, when lidarflow knows the format (`None` for JSON,
    /// protobuf...).
    pub encoding: Option<Encoding>,
    /// Messages on the topic, when the bag's index or tables say (a bag cut short may not).
    pub count: Option<u64>,
}

/// One message of a topic, as the container stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct BagMessage {
    /// The time the bag recorded it at (receive or log time), nanoseconds.
    pub time_ns: u64,
    /// The serialized message.
    pub data: Vec<u8>,
}

/// A bag container: its topics, and a lazy stream of one topic's messages in time order.
/// Containers never hold more than a chunk (or a page of keys) in memory.
pub trait BagContainer: Send {
    /// The file or folder read.
    fn path(&self) -> &Path;
    /// What the container is (`ROS 1 bag`, `MCAP`, `ROS 2 bag (sqlite3)`...).
    fn kind(&self) -> String;
    /// Storage and compression facts, one `(label, value)` each, for `lidarflow info`.
    fn details(&self) -> Vec<(String, String)>;
    /// Every topic, with type and message count.
    fn topics(&self) -> &[TopicInfo];
    /// Starts streaming `topic` from its first message (a topic the container does not hold
    /// gives an empty stream).
    fn select(&mut self, topic: &str) -> Result<()>;
    /// The next message of the selected topic, in time order; `None` at the end, or where
    /// the file is cut short or damaged past reading (with a warning saying where). An error
    /// only when the file cannot be read at all.
    fn next_message(&mut self) -> Option<Result<BagMessage>>;
    /// Warnings gathered since the last call.
    fn take_warnings(&mut self) -> Vec<String>;
}

/// The message types lidarflow reads as scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanMessage {
    /// `sensor_msgs/PointCloud2`: a 3D scan.
    PointCloud2,
    /// `sensor_msgs/LaserScan`: a planar scan (read only when its topic is named).
    LaserScan,
    /// `velodyne_msgs/VelodyneScan`: the raw packets of one rotation.
    VelodyneScan,
}

impl ScanMessage {
    /// The kind of a message type name (ROS 1 or ROS 2 spelling).
    pub fn of(type_name: &str) -> Option<ScanMessage> {
        match messages::normalize_type(type_name).as_str() {
            "sensor_msgs/PointCloud2" => Some(ScanMessage::PointCloud2),
            "sensor_msgs/LaserScan" => Some(ScanMessage::LaserScan),
            "velodyne_msgs/VelodyneScan" => Some(ScanMessage::VelodyneScan),
            _ => None,
        }
    }
}

/// Every topic, one per line, for error messages and `info`.
pub fn topic_list(topics: &[TopicInfo]) -> String {
    if topics.is_empty() {
        return "  (the bag has no topics)".to_string();
    }
    topics
        .iter()
        .map(|t| format!("  {}", describe_topic(t)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `name  type  (N messages)`.
pub fn describe_topic(t: &TopicInfo) -> String {
    let count = match t.count {
        Some(1) => "1 message".to_string(),
        Some(n) => format!("{n} messages"),
        None => "message count unknown".to_string(),
    };
    format!("{}  {}  ({count})", t.name, t.type_name)
}

/// The topic to read: the named one, or else the only `PointCloud2` or `VelodyneScan` topic.
/// Errors list every topic with its type and count, so the user can name one.
pub fn choose_topic(
    path: &Path,
    topics: &[TopicInfo],
    requested: Option<&str>,
) -> Result<(TopicInfo, ScanMessage)> {
    let readable = "lidarflow reads sensor_msgs/PointCloud2, velodyne_msgs/VelodyneScan and \
                    (when named) sensor_msgs/LaserScan topics";
    if let Some(name) = requested {
        let Some(topic) = topics.iter().find(|t| t.name == name) else {
            return Err(Error::format(
                path,
                format!(
                    "no topic '{name}' in this bag; its topics are:\n{}",
                    topic_list(topics)
                ),
            ));
        };
        let Some(kind) = ScanMessage::of(&topic.type_name) else {
            return Err(Error::format(
                path,
                format!(
                    "topic '{name}' carries {}, which is not a scan: {readable}; the bag's \
                     topics are:\n{}",
                    topic.type_name,
                    topic_list(topics)
                ),
            ));
        };
        return Ok((topic.clone(), kind));
    }
    let candidates: Vec<_> = topics
        .iter()
        .filter(|t| {
            matches!(
                ScanMessage::of(&t.type_name),
                Some(ScanMessage::PointCloud2 | ScanMessage::VelodyneScan)
            )
        })
        .collect();
    match candidates.as_slice() {
        [one] => Ok((
            (*one).clone(),
            ScanMessage::of(&one.type_name).unwrap_or(ScanMessage::PointCloud2),
        )),
        [] => {
            let planar = topics
                .iter()
                .any(|t| ScanMessage::of(&t.type_name) == Some(ScanMessage::LaserScan));
            let hint = if planar {
                "; to read a sensor_msgs/LaserScan topic as planar scans, name it with --topic"
            } else {
                ""
            };
            Err(Error::format(
                path,
                format!(
                    "no point-cloud topic in this bag ({readable}){hint}; its topics are:\n{}",
                    topic_list(topics)
                ),
            ))
        }
        several => Err(Error::format(
            path,
            format!(
                "{} point-cloud topics in this bag: name one with --topic; its topics are:\n{}",
                several.len(),
                topic_list(topics)
            ),
        )),
    }
}

/// Skipped messages warned about one by one; past this, only counted.
const MAX_SKIP_WARNINGS: usize = 20;

/// A bag's chosen topic as a stream of scans.
pub struct BagSource {
    path: PathBuf,
    /// The container's messages, read a few ahead on a thread of its own.
    messages: ReadAhead,
    topic: TopicInfo,
    kind: ScanMessage,
    encoding: Encoding,
    info: SourceInfo,
    warnings: Vec<String>,
    read: usize,
    skipped: usize,
    finished: bool,
    /// The Velodyne model named for `VelodyneScan` packets (else each scan's factory byte).
    velodyne_model: Option<Model>,
}

impl BagSource {
    /// Chooses the topic (see [`choose_topic`]) and starts reading it.
    pub fn new(mut container: Box<dyn BagContainer>, options: &OpenOptions) -> Result<BagSource> {
        let path = container.path().to_path_buf();
        let (topic, kind) = choose_topic(&path, container.topics(), options.topic.as_deref())?;
        let velodyne_model = if kind == ScanMessage::VelodyneScan {
            super::velodyne_capture::model_option(&path, options)?
        } else {
            None
        };
        let Some(encoding) = topic.encoding else {
            return Err(Error::format(
                &path,
                format!(
                    "topic '{}' is not serialized as ROS 1 or CDR messages, which is all \
                     lidarflow decodes",
                    topic.name
                ),
            ));
        };
        container.select(&topic.name)?;
        let mut details = container.details();
        for t in container.topics() {
            details.push(("topic".to_string(), describe_topic(t)));
        }
        details.push(("reading".to_string(), topic.name.clone()));
        let info = SourceInfo {
            name: name_of(&path),
            kind: container.kind(),
            details,
            scan_count: topic.count.map(|n| n as usize),
            reference: None,
        };
        Ok(BagSource {
            messages: ReadAhead::start(container)?,
            path,
            topic,
            kind,
            encoding,
            info,
            warnings: Vec::new(),
            read: 0,
            skipped: 0,
            finished: false,
            velodyne_model,
        })
    }

    /// The topic read.
    pub fn topic(&self) -> &TopicInfo {
        &self.topic
    }

    /// Messages that did not decode, so far.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    fn decode(&self, message: &BagMessage) -> std::result::Result<SourceScan, String> {
        let bag_time = message.time_ns as f64 * 1e-9;
        let (mut cloud, dropped, time_field) = match self.kind {
            ScanMessage::PointCloud2 => {
                let d = pointcloud2::decode(&message.data, self.encoding).map_err(|e| e.0)?;
                (d.cloud, d.dropped_non_finite, d.time_field)
            }
            ScanMessage::LaserScan => {
                let d = laser_scan::decode(&message.data, self.encoding).map_err(|e| e.0)?;
                (d.cloud, d.no_return, Some("time_increment".to_string()))
            }
            ScanMessage::VelodyneScan => {
                let m = velodyne_scan::decode(&message.data, self.encoding).map_err(|e| e.0)?;
                let packets = m.packets.iter().map(|p| (p.stamp, p.data.as_slice()));
                let scan = velodyne::scan_from_packets(packets, self.velodyne_model)
                    .map_err(|e| e.to_string())?;
                let dropped = scan.sweep.no_returns;
                let cloud = scan
                    .sweep
                    .into_cloud()
                    .map_err(|e| e.to_string())?
                    .with_sensor(format!("Velodyne {}", scan.model));
                let field = "firing time (packet timestamp + firing table)";
                (cloud, dropped, Some(field.to_string()))
            }
        };
        // A header without a stamp (0) takes the bag's time.
        if cloud.stamp == 0.0 {
            cloud.stamp = bag_time;
        }
        let label = format!("{} @ {:.6}", self.topic.name, cloud.stamp);
        let mut scan = SourceScan::new(cloud, label);
        scan.dropped_non_finite = dropped;
        scan.time_field = time_field;
        Ok(scan)
    }
}

/// A recording's name: the file or folder name.
fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

impl ScanSource for BagSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn next_scan(&mut self) -> Option<Result<SourceScan>> {
        if self.finished {
            return None;
        }
        loop {
            let message = match self.messages.next_message() {
                Some(Ok(m)) => m,
                Some(Err(e)) => {
                    self.finished = true;
                    return Some(Err(e));
                }
                None => {
                    self.finished = true;
                    if self.skipped > MAX_SKIP_WARNINGS {
                        self.warnings.push(format!(
                            "{}: {} messages on {} did not decode and were skipped ({} more \
                             than listed)",
                            self.path.display(),
                            self.skipped,
                            self.topic.name,
                            self.skipped - MAX_SKIP_WARNINGS
                        ));
                    }
                    return None;
                }
            };
            self.read += 1;
            match self.decode(&message) {
                Ok(scan) => return Some(Ok(scan)),
                Err(reason) => {
                    self.skipped += 1;
                    if self.skipped <= MAX_SKIP_WARNINGS {
                        self.warnings.push(format!(
                            "{}: message {} on {} at {:.6} s skipped: {reason}",
                            self.path.display(),
                            self.read,
                            self.topic.name,
                            message.time_ns as f64 * 1e-9
                        ));
                    }
                }
            }
        }
    }

    fn take_warnings(&mut self) -> Vec<String> {
        let mut w = self.messages.take_warnings();
        w.append(&mut self.warnings);
        w
    }
}

/// Opens a bag's container (a ROS 1 bag, an MCAP or `.db3` file, or a ROS 2 bag folder),
/// for callers that want messages rather than scans.
pub fn open_container(path: &Path, kind: super::Kind) -> Result<Box<dyn BagContainer>> {
    use super::Kind;
    Ok(match kind {
        Kind::Ros1Bag => Box::new(super::ros1_bag::Ros1Bag::open(path)?),
        Kind::Mcap => Box::new(super::mcap_bag::McapBag::open(path)?),
        Kind::Db3 => Box::new(super::db3_bag::Db3Bag::open(path)?),
        Kind::Ros2Folder => Box::new(super::ros2_bag::Ros2Bag::open(path)?),
        other => {
            return Err(Error::format(
                path,
                format!("this is {}, not a bag", other.describe()),
            ))
        }
    })
}

/// Opens a bag of any kind as a stream of scans of its chosen topic.
pub fn open(path: &Path, kind: super::Kind, options: &OpenOptions) -> Result<BagSource> {
    BagSource::new(open_container(path, kind)?, options)
}

/// The warning for a file that ends inside a record: where, and what was read before.
pub fn cut_short(path: &Path, at: u64, what: &str, messages: u64) -> String {
    format!(
        "{}: the file ends at byte {at}, inside {what}: read up to there ({messages} messages \
         before the cut); the recording was probably cut short",
        path.display()
    )
}

/// A path for a temporary file (a ROS 2 bag file decompressed), removed when dropped.
#[derive(Debug)]
pub struct TempFile(PathBuf);

impl TempFile {
    /// A fresh path in the system's temporary folder, ending with `name`.
    pub fn new(name: &str) -> TempFile {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        TempFile(std::env::temp_dir().join(format!("lidarflow-{}-{n}-{name}", std::process::id())))
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(name: &str, ty: &str, n: u64) -> TopicInfo {
        TopicInfo {
            name: name.into(),
            type_name: ty.into(),
            encoding: Some(Encoding::Cdr),
            count: Some(n),
        }
    }

    /// A container of messages in memory.
    struct Memory {
        topics: Vec<TopicInfo>,
        messages: Vec<BagMessage>,
        next: usize,
    }

    impl BagContainer for Memory {
        fn path(&self) -> &Path {
            Path::new("memory.bag")
        }
        fn kind(&self) -> String {
            "memory".into()
        }
        fn details(&self) -> Vec<(String, String)> {
            Vec::new()
        }
        fn topics(&self) -> &[TopicInfo] {
            &self.topics
        }
        fn select(&mut self, _topic: &str) -> Result<()> {
            self.next = 0;
            Ok(())
        }
        fn next_message(&mut self) -> Option<Result<BagMessage>> {
            self.next += 1;
            self.messages.get(self.next - 1).cloned().map(Ok)
        }
        fn take_warnings(&mut self) -> Vec<String> {
            Vec::new()
        }
    }

    /// A CDR PointCloud2 of one point (1, 2, 3) stamped `sec` (0: no stamp).
    fn cloud_message(sec: u32) -> Vec<u8> {
        let mut w = messages::write::Writer::new(Encoding::Cdr, false);
        w.header(sec, 0, "lidar");
        w.u32(1);
        w.u32(1);
        w.u32(3);
        for (k, name) in ["x", "y", "z"].iter().enumerate() {
            w.string(name);
            w.u32(4 * k as u32);
            w.u8(7);
            w.u32(1);
        }
        w.u8(0);
        w.u32(12);
        w.u32(12);
        let data: Vec<u8> = [1.0f32, 2.0, 3.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        w.bytes(&data);
        w.u8(1);
        w.buf
    }

    #[test]
    fn messages_that_do_not_decode_are_skipped_counted_and_named() {
        let bad = cloud_message(9)[..30].to_vec();
        let container = Memory {
            topics: vec![topic("/points", "sensor_msgs/msg/PointCloud2", 3)],
            messages: vec![
                BagMessage {
                    time_ns: 1_000_000_000,
                    data: cloud_message(7),
                },
                BagMessage {
                    time_ns: 2_500_000_000,
                    data: bad,
                },
                BagMessage {
                    time_ns: 3_000_000_000,
                    data: cloud_message(0),
                },
            ],
            next: 0,
        };
        let mut source = BagSource::new(Box::new(container), &OpenOptions::default()).unwrap();
        assert_eq!(source.info().scan_count, Some(3));
        let first = source.next_scan().unwrap().unwrap();
        assert_eq!(first.cloud.stamp, 7.0);
        assert_eq!(first.label, "/points @ 7.000000");
        // The broken message is skipped; the next one, without a stamp, takes the bag's time.
        let second = source.next_scan().unwrap().unwrap();
        assert_eq!(second.cloud.stamp, 3.0);
        assert!(source.next_scan().is_none());
        assert_eq!(source.skipped(), 1);
        let w = source.take_warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("/points") && w[0].contains("2.500000"),
            "{w:?}"
        );
    }

    #[test]
    fn the_only_cloud_topic_is_taken_and_every_error_lists_the_topics() {
        let p = Path::new("x.bag");
        let topics = vec![
            topic("/points", "sensor_msgs/msg/PointCloud2", 5),
            topic("/scan", "sensor_msgs/msg/LaserScan", 7),
            topic("/odom", "nav_msgs/msg/Odometry", 9),
        ];
        let (t, k) = choose_topic(p, &topics, None).unwrap();
        assert_eq!((t.name.as_str(), k), ("/points", ScanMessage::PointCloud2));
        let (t, k) = choose_topic(p, &topics, Some("/scan")).unwrap();
        assert_eq!((t.name.as_str(), k), ("/scan", ScanMessage::LaserScan));
        let listed = |e: String| {
            for t in &topics {
                assert!(e.contains(&describe_topic(t)), "{e}");
            }
            assert!(e.contains("x.bag"), "{e}");
        };
        listed(
            choose_topic(p, &topics, Some("/nope"))
                .unwrap_err()
                .to_string(),
        );
        listed(
            choose_topic(p, &topics, Some("/odom"))
                .unwrap_err()
                .to_string(),
        );
        let mut two = topics.clone();
        two.push(topic("/velodyne_packets", "velodyne_msgs/VelodyneScan", 3));
        let e = choose_topic(p, &two, None).unwrap_err().to_string();
        assert!(
            e.contains("2 point-cloud topics") && e.contains("3 messages"),
            "{e}"
        );
        let e = choose_topic(p, &topics[1..], None).unwrap_err().to_string();
        assert!(e.contains("--topic") && e.contains("/scan"), "{e}");
    }
}
