//! The MCAP container (ROS 2's default storage; also ROS 1 messages in MCAP), through the
//! `mcap` crate's sans-io readers over a `File`, never the whole file in memory. With a
//! summary (chunk indexes, statistics) a topic's messages stream chunk by chunk in log-time
//! order; without one (a file cut short, or written without a summary) the file is read
//! front to back, once to count the topics and once per stream, up to where it ends.

use super::bag::{cut_short, BagContainer, BagMessage, TopicInfo};
use super::messages::Encoding;
use crate::error::{Error, Result};
use mcap::records::Record;
use mcap::sans_io::indexed_reader::{
    IndexedReadEvent, IndexedReader, IndexedReaderOptions, ReadOrder,
};
use mcap::sans_io::linear_reader::{LinearReadEvent, LinearReader, LinearReaderOptions};
use mcap::sans_io::summary_reader::{SummaryReadEvent, SummaryReader, SummaryReaderOptions};
use mcap::{McapError, Summary};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

const MAGIC: &[u8] = b"\x89MCAP0\r\n";
/// Records (and chunks, compressed or not) larger than this are refused rather than
/// allocated.
const RECORD_LIMIT: usize = 256 << 20;
/// Bytes read from the file at a time by the linear reader.
const READ_BLOCK: usize = 1 << 20;
/// Events a reader may yield without progress before it is judged stuck.
const MAX_IDLE_EVENTS: usize = 1 << 16;

#[derive(Debug, Clone)]
struct ChannelInfo {
    topic: String,
    schema_id: u16,
    encoding: String,
}

/// An MCAP file, read lazily.
pub struct McapBag {
    path: PathBuf,
    file: File,
    len: u64,
    /// The summary, when the file has a usable one (chunk indexes within the file).
    summary: Option<Summary>,
    topics: Vec<TopicInfo>,
    compressions: BTreeSet<String>,
    warnings: Vec<String>,
    stream: Option<Stream>,
}

enum Stream {
    Indexed {
        reader: IndexedReader,
        buf: Vec<u8>,
    },
    Linear {
        records: LinearRecords,
        topic: String,
        channels: HashMap<u16, String>,
        delivered: u64,
    },
}

impl McapBag {
    /// Opens an MCAP file: its summary, or without one a first pass over its records.
    pub fn open(path: &Path) -> Result<McapBag> {
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let mut magic = [0u8; 8];
        if file.read_exact(&mut magic).is_err() || magic != MAGIC {
            return Err(Error::format(
                path,
                "not an MCAP file (its magic bytes are wrong)",
            ));
        }
        let mut bag = McapBag {
            path: path.to_path_buf(),
            file,
            len,
            summary: None,
            topics: Vec::new(),
            compressions: BTreeSet::new(),
            warnings: Vec::new(),
            stream: None,
        };
        let summary = match read_summary(&mut bag.file, len) {
            Ok(Some(s)) => Some(s),
            Ok(None) => {
                bag.warnings.push(format!(
                    "{}: the MCAP file has no summary (cut short, or written without one): \
                     it was read from the start",
                    path.display()
                ));
                None
            }
            Err(SummaryError::Mcap(McapError::BadMagic)) => {
                bag.warnings.push(format!(
                    "{}: the MCAP file does not end with its closing magic (cut short, or still \
                     being written): it was read from the start",
                    path.display()
                ));
                None
            }
            Err(e) => {
                bag.warnings.push(format!(
                    "{}: the MCAP file's summary is unreadable ({e}): it was read from the \
                     start",
                    path.display()
                ));
                None
            }
        };
        if let Some(summary) = summary {
            for c in &summary.chunk_indexes {
                if !matches!(c.compression.as_str(), "" | "zstd" | "lz4") {
                    return Err(unknown_compression(path, &c.compression));
                }
                bag.compressions.insert(c.compression.clone());
            }
            match check_chunk_indexes(&summary, len) {
                Ok(()) if !summary.chunk_indexes.is_empty() => {
                    bag.topics = topics_of_summary(&summary);
                    if summary.stats.is_none() {
                        // Without statistics the counts come from a pass over the file.
                        let counted = bag.count_pass()?;
                        for t in &mut bag.topics {
                            t.count = counted
                                .iter()
                                .find(|c| c.name == t.name)
                                .and_then(|c| c.count);
                        }
                    }
                    bag.summary = Some(summary);
                    return Ok(bag);
                }
                Ok(()) => {}
                Err(m) => bag.warnings.push(format!(
                    "{}: the MCAP file's chunk index is damaged ({m}): it was read from the \
                     start",
                    path.display()
                )),
            }
        }
        bag.topics = bag.count_pass()?;
        Ok(bag)
    }

    /// Reads every record once: channels, schemas and message counts, up to where the file
    /// ends (with a warning when that is inside a record).
    fn count_pass(&mut self) -> Result<Vec<TopicInfo>> {
        let file = self
            .file
            .try_clone()
            .map_err(|e| Error::io(&self.path, e))?;
        let mut records = LinearRecords::new(file)?;
        let mut schemas: HashMap<u16, String> = HashMap::new();
        let mut channels: BTreeMap<u16, ChannelInfo> = BTreeMap::new();
        let mut counts: HashMap<u16, u64> = HashMap::new();
        let mut total = 0u64;
        while let Some(item) = records.next_item(&|_| false) {
            match item {
                Ok(Item::Schema { id, name }) => {
                    schemas.insert(id, name);
                }
                Ok(Item::Channel { id, info }) => {
                    channels.entry(id).or_insert(info);
                }
                Ok(Item::Chunk { compression }) => {
                    if !matches!(compression.as_str(), "" | "zstd" | "lz4") {
                        return Err(unknown_compression(&self.path, &compression));
                    }
                    self.compressions.insert(compression);
                }
                Ok(Item::Message { channel, .. }) => {
                    *counts.entry(channel).or_insert(0) += 1;
                    total += 1;
                }
                Ok(Item::Other) => {}
                Err(e) => {
                    self.warnings
                        .push(read_error(&self.path, self.len, &e, total));
                    break;
                }
            }
        }
        let mut topics: Vec<TopicInfo> = Vec::new();
        for (id, ch) in &channels {
            let n = counts.get(id).copied().unwrap_or(0);
            let type_name = schemas
                .get(&ch.schema_id)
                .cloned()
                .unwrap_or_else(|| "unknown".to_string());
            push_topic(&mut topics, &ch.topic, &type_name, &ch.encoding, Some(n));
        }
        Ok(topics)
    }
}

fn push_topic(
    topics: &mut Vec<TopicInfo>,
    name: &str,
    type_name: &str,
    encoding: &str,
    n: Option<u64>,
) {
    if let Some(t) = topics.iter_mut().find(|t| t.name == name) {
        t.count = match (t.count, n) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
    } else {
        topics.push(TopicInfo {
            name: name.to_string(),
            type_name: type_name.to_string(),
            encoding: Encoding::from_name(encoding),
            count: n,
        });
    }
}

fn topics_of_summary(summary: &Summary) -> Vec<TopicInfo> {
    let counts = summary.stats.as_ref().map(|s| &s.channel_message_counts);
    let mut ids: Vec<_> = summary.channels.keys().copied().collect();
    ids.sort();
    let mut topics = Vec::new();
    for id in ids {
        let ch = &summary.channels[&id];
        let type_name = ch
            .schema
            .as_ref()
            .map(|s| s.name.clone())
            .unwrap_or_else(|| "unknown".to_string());
        let n = counts.map(|c| c.get(&id).copied().unwrap_or(0));
        push_topic(&mut topics, &ch.topic, &type_name, &ch.message_encoding, n);
    }
    topics
}

/// The chunk indexes point inside the file, within the size limits, and an uncompressed
/// chunk's two sizes agree (the indexed reader relies on all three).
fn check_chunk_indexes(summary: &Summary, len: u64) -> std::result::Result<(), String> {
    for c in &summary.chunk_indexes {
        let start = c.compressed_data_offset().map_err(|e| e.to_string())?;
        let end = start.checked_add(c.compressed_size);
        if end.is_none_or(|end| end > len) {
            return Err(format!(
                "a chunk at byte {} runs past the file's end",
                c.chunk_start_offset
            ));
        }
        if c.compressed_size > RECORD_LIMIT as u64 || c.uncompressed_size > RECORD_LIMIT as u64 {
            return Err(format!(
                "a chunk of {} bytes uncompressed is past the {} MiB lidarflow reads",
                c.uncompressed_size,
                RECORD_LIMIT >> 20
            ));
        }
        if c.compression.is_empty() && c.compressed_size != c.uncompressed_size {
            return Err(format!(
                "an uncompressed chunk at byte {} with two different sizes",
                c.chunk_start_offset
            ));
        }
    }
    Ok(())
}

/// Why the summary could not be read.
#[derive(Debug)]
enum SummaryError {
    Mcap(McapError),
    Other(String),
}

impl std::fmt::Display for SummaryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SummaryError::Mcap(e) => write!(f, "{e}"),
            SummaryError::Other(m) => f.write_str(m),
        }
    }
}

fn read_summary(file: &mut File, len: u64) -> std::result::Result<Option<Summary>, SummaryError> {
    let io = |e: std::io::Error| SummaryError::Other(e.to_string());
    let mut reader = SummaryReader::new_with_options(
        SummaryReaderOptions::default()
            .with_file_size(len)
            .with_record_length_limit(RECORD_LIMIT),
    );
    let mut idle = 0usize;
    while let Some(event) = reader.next_event() {
        idle += 1;
        if idle > MAX_IDLE_EVENTS {
            return Err(SummaryError::Other(
                "the summary reader makes no progress".into(),
            ));
        }
        match event.map_err(SummaryError::Mcap)? {
            SummaryReadEvent::ReadRequest(n) => {
                let buf = reader.insert(n.clamp(1, READ_BLOCK));
                let got = file.read(buf).map_err(io)?;
                reader.notify_read(got);
                if got > 0 {
                    idle = 0;
                }
            }
            SummaryReadEvent::SeekRequest(to) => {
                let pos = file.seek(to).map_err(io)?;
                reader.notify_seeked(pos);
            }
        }
    }
    Ok(reader.finish())
}

fn unknown_compression(path: &Path, c: &str) -> Error {
    Error::format(
        path,
        format!(
            "the MCAP file's chunks are compressed with '{c}', which lidarflow does not read \
             (it reads none, zstd and lz4): `mcap compress --compression zstd` converts it"
        ),
    )
}

fn read_error(path: &Path, len: u64, e: &McapError, messages: u64) -> String {
    match e {
        McapError::UnexpectedEof | McapError::UnexpectedEoc => {
            cut_short(path, len, "a record", messages)
        }
        other => format!(
            "{}: the MCAP file is damaged ({other}): read up to there ({messages} messages)",
            path.display()
        ),
    }
}

/// What the linear pass needs of a record.
enum Item {
    Schema {
        id: u16,
        name: String,
    },
    Channel {
        id: u16,
        info: ChannelInfo,
    },
    Chunk {
        compression: String,
    },
    Message {
        channel: u16,
        log_time: u64,
        data: Vec<u8>,
    },
    Other,
}

/// The records of an MCAP file front to back (chunks opened), read a block at a time.
struct LinearRecords {
    reader: LinearReader,
    file: File,
}

impl LinearRecords {
    fn new(mut file: File) -> Result<LinearRecords> {
        file.seek(SeekFrom::Start(0))
            .map_err(|e| Error::io("mcap", e))?;
        let reader = LinearReader::new_with_options(
            LinearReaderOptions::default()
                .with_skip_end_magic(false)
                .with_record_length_limit(RECORD_LIMIT),
        );
        Ok(LinearRecords { reader, file })
    }

    /// The next record; message data copied only for channels `keep` accepts.
    fn next_item(
        &mut self,
        keep: &dyn Fn(u16) -> bool,
    ) -> Option<std::result::Result<Item, McapError>> {
        let mut idle = 0usize;
        loop {
            idle += 1;
            if idle > MAX_IDLE_EVENTS {
                return Some(Err(McapError::UnexpectedEof));
            }
            match self.reader.next_event()? {
                Err(e) => return Some(Err(e)),
                Ok(LinearReadEvent::ReadRequest(n)) => {
                    let buf = self.reader.insert(n.clamp(1, READ_BLOCK));
                    let got = match self.file.read(buf) {
                        Ok(g) => g,
                        Err(e) => return Some(Err(McapError::Io(e))),
                    };
                    self.reader.notify_read(got);
                    if got > 0 {
                        idle = 0;
                    }
                }
                Ok(LinearReadEvent::Record { data, opcode }) => {
                    let record = match mcap::parse_record(opcode, data) {
                        Ok(r) => r,
                        Err(e) => return Some(Err(e)),
                    };
                    return Some(Ok(match record {
                        Record::Schema { header, .. } => Item::Schema {
                            id: header.id,
                            name: header.name,
                        },
                        Record::Channel(c) => Item::Channel {
                            id: c.id,
                            info: ChannelInfo {
                                topic: c.topic,
                                schema_id: c.schema_id,
                                encoding: c.message_encoding,
                            },
                        },
                        Record::Chunk { header, .. } => Item::Chunk {
                            compression: header.compression,
                        },
                        Record::Message { header, data } => Item::Message {
                            channel: header.channel_id,
                            log_time: header.log_time,
                            data: if keep(header.channel_id) {
                                data.into_owned()
                            } else {
                                Vec::new()
                            },
                        },
                        _ => Item::Other,
                    }));
                }
            }
        }
    }
}

impl BagContainer for McapBag {
    fn path(&self) -> &Path {
        &self.path
    }

    fn kind(&self) -> String {
        "MCAP".to_string()
    }

    fn details(&self) -> Vec<(String, String)> {
        let storage = match &self.summary {
            Some(s) => format!("MCAP, {} chunks (indexed)", s.chunk_indexes.len()),
            None => "MCAP (no summary: read front to back)".to_string(),
        };
        let compression = if self.compressions.is_empty() {
            "none".to_string()
        } else {
            self.compressions
                .iter()
                .map(|c| if c.is_empty() { "none" } else { c.as_str() })
                .collect::<Vec<_>>()
                .join(", ")
        };
        vec![
            ("storage".to_string(), storage),
            ("compression".to_string(), compression),
        ]
    }

    fn topics(&self) -> &[TopicInfo] {
        &self.topics
    }

    fn select(&mut self, topic: &str) -> Result<()> {
        self.stream = Some(match &self.summary {
            // The indexed reader reads every channel when none matches: a topic this file
            // does not hold (one part of a split bag) is an empty stream here.
            Some(summary) if !summary.channels.values().any(|c| c.topic == topic) => {
                self.stream = None;
                return Ok(());
            }
            Some(summary) => {
                let options = IndexedReaderOptions::new()
                    .with_order(ReadOrder::LogTime)
                    .include_topics([topic.to_string()])
                    .with_record_length_limit(RECORD_LIMIT);
                let reader = IndexedReader::new_with_options(summary, options)
                    .map_err(|e| Error::format(&self.path, format!("the chunk index: {e}")))?;
                Stream::Indexed {
                    reader,
                    buf: Vec::new(),
                }
            }
            None => {
                let file = self
                    .file
                    .try_clone()
                    .map_err(|e| Error::io(&self.path, e))?;
                Stream::Linear {
                    records: LinearRecords::new(file)?,
                    topic: topic.to_string(),
                    channels: HashMap::new(),
                    delivered: 0,
                }
            }
        });
        Ok(())
    }

    fn next_message(&mut self) -> Option<Result<BagMessage>> {
        let (path, len) = (self.path.clone(), self.len);
        match self.stream.as_mut()? {
            Stream::Indexed { reader, buf } => loop {
                let event = match reader.next_event()? {
                    Ok(e) => e,
                    Err(e) => {
                        self.warnings.push(format!(
                            "{}: a chunk is damaged ({e}): the topic was read up to there",
                            path.display()
                        ));
                        self.stream = None;
                        return None;
                    }
                };
                match event {
                    IndexedReadEvent::Message { header, data } => {
                        return Some(Ok(BagMessage {
                            time_ns: header.log_time,
                            data: data.to_vec(),
                        }))
                    }
                    IndexedReadEvent::ReadChunkRequest { offset, length } => {
                        buf.resize(length, 0);
                        let read = self
                            .file
                            .seek(SeekFrom::Start(offset))
                            .and_then(|_| self.file.read_exact(buf));
                        if let Err(e) = read {
                            return Some(Err(Error::io(&path, e)));
                        }
                        if let Err(e) = reader.insert_chunk_record_data(offset, buf) {
                            self.warnings.push(format!(
                                "{}: the chunk at byte {offset} does not decode ({e}): the \
                                 topic was read up to there",
                                path.display()
                            ));
                            self.stream = None;
                            return None;
                        }
                    }
                }
            },
            Stream::Linear {
                records,
                topic,
                channels,
                delivered,
            } => loop {
                let keep = |id: u16| channels.get(&id).is_some_and(|t| t == topic);
                match records.next_item(&keep)? {
                    Ok(Item::Channel { id, info }) => {
                        channels.entry(id).or_insert(info.topic);
                    }
                    Ok(Item::Message {
                        channel,
                        log_time,
                        data,
                    }) if keep(channel) => {
                        *delivered += 1;
                        return Some(Ok(BagMessage {
                            time_ns: log_time,
                            data,
                        }));
                    }
                    Ok(_) => {}
                    Err(e) => {
                        // The first pass already warned where the file ends.
                        if !matches!(e, McapError::UnexpectedEof | McapError::UnexpectedEoc) {
                            self.warnings.push(read_error(&path, len, &e, *delivered));
                        }
                        self.stream = None;
                        return None;
                    }
                }
            },
        }
    }

    fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcap::records::MessageHeader;
    use mcap::{Compression, WriteOptions};

    /// An MCAP with /a (3 messages per chunk, written out of time order across chunks) and /b.
    fn write(path: &Path, compression: Option<Compression>, summary: bool) {
        let file = std::io::BufWriter::new(File::create(path).unwrap());
        let mut w = WriteOptions::new()
            .compression(compression)
            .chunk_size(Some(64))
            .emit_summary_records(summary)
            .emit_summary_offsets(summary)
            .emit_statistics(summary)
            .emit_chunk_indexes(summary)
            .emit_message_indexes(summary)
            .create(file)
            .unwrap();
        let schema = w
            .add_schema("sensor_msgs/msg/PointCloud2", "ros2msg", b"")
            .unwrap();
        let a = w
            .add_channel(schema, "/a", "cdr", &BTreeMap::new())
            .unwrap();
        let b = w.add_channel(0, "/b", "json", &BTreeMap::new()).unwrap();
        // Two chunks overlapping in time: 10 20 30 then 15 25 35.
        for (k, t) in [10u64, 20, 30, 15, 25, 35].into_iter().enumerate() {
            let header = MessageHeader {
                channel_id: a,
                sequence: k as u32,
                log_time: t,
                publish_time: t,
            };
            w.write_to_known_channel(&header, &[t as u8; 40]).unwrap();
            let header = MessageHeader {
                channel_id: b,
                ..header
            };
            w.write_to_known_channel(&header, b"{}").unwrap();
        }
        w.finish().unwrap();
    }

    fn times(bag: &mut McapBag, topic: &str) -> Vec<u64> {
        bag.select(topic).unwrap();
        let mut out = Vec::new();
        while let Some(m) = bag.next_message() {
            let m = m.unwrap();
            assert_eq!(m.data, vec![m.time_ns as u8; 40]);
            out.push(m.time_ns);
        }
        out
    }

    #[test]
    fn every_chunk_compression_with_and_without_a_summary() {
        let dir = tempfile::tempdir().unwrap();
        for compression in [None, Some(Compression::Lz4), Some(Compression::Zstd)] {
            for summary in [true, false] {
                let p = dir.path().join("t.mcap");
                write(&p, compression, summary);
                let mut bag = McapBag::open(&p).unwrap();
                let a = &bag.topics()[0];
                assert_eq!((a.name.as_str(), a.count), ("/a", Some(6)));
                assert_eq!(a.type_name, "sensor_msgs/msg/PointCloud2");
                assert_eq!(a.encoding, Some(Encoding::Cdr));
                assert_eq!(bag.topics()[1].encoding, None);
                assert_eq!(bag.take_warnings().is_empty(), summary);
                let got = times(&mut bag, "/a");
                if summary {
                    // The index gives log-time order across overlapping chunks.
                    assert_eq!(got, vec![10, 15, 20, 25, 30, 35], "{compression:?}");
                } else {
                    assert_eq!(got, vec![10, 20, 30, 15, 25, 35], "{compression:?}");
                }
                assert!(times(&mut bag, "/missing").is_empty());
            }
        }
    }

    #[test]
    fn a_file_cut_short_is_read_up_to_the_cut() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("whole.mcap");
        write(&p, Some(Compression::Zstd), true);
        let whole = std::fs::read(&p).unwrap();
        let cut = dir.path().join("cut.mcap");
        let mut previous = usize::MAX;
        for n in (0..whole.len()).rev() {
            std::fs::write(&cut, &whole[..n]).unwrap();
            let Ok(mut bag) = McapBag::open(&cut) else {
                assert!(n < 8, "cut at {n}: not opened");
                continue;
            };
            let got = times(&mut bag, "/a");
            // Fewer messages as the cut moves toward the start, never more.
            assert!(
                got.len() <= previous,
                "cut at {n}: {} after {previous}",
                got.len()
            );
            assert!(
                bag.take_warnings()
                    .iter()
                    .any(|w| w.contains("read from the start")),
                "cut at {n}"
            );
            previous = got.len();
        }
        assert_eq!(previous, 0);
    }
}
