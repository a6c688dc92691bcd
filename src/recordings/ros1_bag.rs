//! The ROS 1 bag container (format 2.0): records of `header_len, header, data_len, data`,
//! messages grouped in chunks (uncompressed, `bz2` or `lz4`; ROS's lz4 is the LZ4 frame
//! format), and at `index_pos` the connections and one chunk info per chunk (its position,
//! time span and message count per connection). Messages of a topic stream chunk by chunk in
//! time order, chunks that overlap in time merged. A bag without its index (cut short, or not
//! closed) is scanned once from the start instead, and read up to where it ends.

use super::bag::{cut_short, BagContainer, BagMessage, TopicInfo};
use super::messages::Encoding;
use crate::error::{Error, Result};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

const MAGIC: &[u8] = b"#ROSBAG V2.0\n";
const OP_MESSAGE: u8 = 0x02;
const OP_BAG_HEADER: u8 = 0x03;
const OP_CHUNK: u8 = 0x05;
const OP_CHUNK_INFO: u8 = 0x06;
const OP_CONNECTION: u8 = 0x07;
/// A record header longer than this is damage, not a header.
const MAX_HEADER: u64 = 1 << 20;
/// A chunk (compressed or not) larger than this is refused rather than allocated.
const MAX_CHUNK: u64 = 512 << 20;

/// Why a record could not be read.
enum RecordError {
    /// The file ends inside it.
    Cut,
    /// Its bytes do not hold together.
    Bad(String),
}

/// The `name=value` fields of a record header.
struct Fields(Vec<(String, Vec<u8>)>);

impl Fields {
    fn parse(mut buf: &[u8]) -> std::result::Result<Fields, String> {
        let mut out = Vec::new();
        while !buf.is_empty() {
            let (len, rest) = split_u32(buf).ok_or("a header field's length is cut")?;
            let field = rest
                .get(..len as usize)
                .ok_or("a header field runs past its header")?;
            let eq = field
                .iter()
                .position(|&b| b == b'=')
                .ok_or("a header field has no '='")?;
            out.push((
                String::from_utf8_lossy(&field[..eq]).into_owned(),
                field[eq + 1..].to_vec(),
            ));
            buf = &rest[len as usize..];
        }
        Ok(Fields(out))
    }

    fn get(&self, name: &str) -> std::result::Result<&[u8], String> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
            .ok_or_else(|| format!("the record has no '{name}' field"))
    }

    fn op(&self) -> std::result::Result<u8, String> {
        self.get("op")?
            .first()
            .copied()
            .ok_or_else(|| "empty 'op' field".to_string())
    }

    fn u32(&self, name: &str) -> std::result::Result<u32, String> {
        let v = self.get(name)?;
        let b: [u8; 4] = v
            .get(..4)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| format!("field '{name}' is {} bytes, not 4", v.len()))?;
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&self, name: &str) -> std::result::Result<u64, String> {
        let v = self.get(name)?;
        let b: [u8; 8] = v
            .get(..8)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| format!("field '{name}' is {} bytes, not 8", v.len()))?;
        Ok(u64::from_le_bytes(b))
    }

    /// A ROS `time` (`uint32` sec, `uint32` nsec) in nanoseconds.
    fn time_ns(&self, name: &str) -> std::result::Result<u64, String> {
        let v = self.u64(name)?;
        Ok(time_ns(v))
    }

    fn string(&self, name: &str) -> std::result::Result<String, String> {
        Ok(String::from_utf8_lossy(self.get(name)?).into_owned())
    }
}

fn time_ns(packed: u64) -> u64 {
    let sec = packed & 0xffff_ffff;
    let nsec = packed >> 32;
    sec * 1_000_000_000 + nsec
}

fn split_u32(buf: &[u8]) -> Option<(u32, &[u8])> {
    let (head, rest) = buf.split_first_chunk::<4>()?;
    Some((u32::from_le_bytes(*head), rest))
}

/// A record's header and where its data lies in the file.
struct RecordHead {
    fields: Fields,
    data_pos: u64,
    data_len: u64,
    end: u64,
}

/// Records of a buffer (a decompressed chunk): `(header fields, data)` each.
fn records_in(
    mut buf: &[u8],
) -> impl Iterator<Item = std::result::Result<(Fields, &[u8]), String>> {
    std::iter::from_fn(move || {
        if buf.is_empty() {
            return None;
        }
        let step = (|| {
            let (hl, rest) = split_u32(buf).ok_or("a record's header length is cut")?;
            let header = rest
                .get(..hl as usize)
                .ok_or("a record's header runs past the chunk")?;
            let rest = &rest[hl as usize..];
            let (dl, rest) = split_u32(rest).ok_or("a record's data length is cut")?;
            let data = rest
                .get(..dl as usize)
                .ok_or("a record's data runs past the chunk")?;
            let fields = Fields::parse(header)?;
            Ok::<_, String>((fields, data, &rest[dl as usize..]))
        })();
        match step {
            Ok((fields, data, rest)) => {
                buf = rest;
                Some(Ok((fields, data)))
            }
            Err(e) => {
                buf = &[];
                Some(Err(e.to_string()))
            }
        }
    })
}

/// One chunk: where it is, its time span, its messages per connection.
#[derive(Debug, Clone)]
struct ChunkInfo {
    pos: u64,
    start: u64,
    end: u64,
    counts: HashMap<u32, u64>,
}

#[derive(Debug, Clone)]
struct Connection {
    topic: String,
    type_name: String,
}

/// A message waiting to be yielded, ordered by time then by position read.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Pending {
    time_ns: u64,
    seq: u64,
    data: Vec<u8>,
}

/// A ROS 1 bag (v2.0), read chunk by chunk.
pub struct Ros1Bag {
    path: PathBuf,
    file: File,
    len: u64,
    connections: BTreeMap<u32, Connection>,
    chunks: Vec<ChunkInfo>,
    topics: Vec<TopicInfo>,
    compressions: BTreeSet<String>,
    indexed: bool,
    warnings: Vec<String>,
    // The stream of the selected topic.
    selected: HashSet<u32>,
    order: Vec<usize>,
    next_chunk: usize,
    pending: BinaryHeap<Reverse<Pending>>,
    seq: u64,
}

impl Ros1Bag {
    /// Opens a bag: reads its header and index (or, without an index, scans its chunks once).
    pub fn open(path: &Path) -> Result<Ros1Bag> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let mut bag = Ros1Bag {
            path: path.to_path_buf(),
            file,
            len,
            connections: BTreeMap::new(),
            chunks: Vec::new(),
            topics: Vec::new(),
            compressions: BTreeSet::new(),
            indexed: false,
            warnings: Vec::new(),
            selected: HashSet::new(),
            order: Vec::new(),
            next_chunk: 0,
            pending: BinaryHeap::new(),
            seq: 0,
        };
        let magic = bag.read_at(0, MAGIC.len() as u64).ok();
        if magic.as_deref() != Some(MAGIC) {
            return Err(Error::format(
                path,
                "not a ROS 1 bag: it does not start with '#ROSBAG V2.0' (bags of format 1.2 \
                 and older are not read; `rosbag fix` converts them)",
            ));
        }
        let header = match bag.record_at(MAGIC.len() as u64) {
            Ok(h) => h,
            Err(RecordError::Cut) => {
                return Err(Error::format(path, "the bag ends inside its header record"))
            }
            Err(RecordError::Bad(m)) => {
                return Err(Error::format(
                    path,
                    format!("the bag header is damaged: {m}"),
                ))
            }
        };
        let bad = |m: String| Error::format(path, format!("the bag header is damaged: {m}"));
        if header.fields.op().map_err(bad)? != OP_BAG_HEADER {
            return Err(bad("its first record is not the bag header".into()));
        }
        let index_pos = header.fields.u64("index_pos").map_err(bad)?;
        let chunk_count = header.fields.u32("chunk_count").map_err(bad)?;
        let indexed = if index_pos == 0 {
            bag.warnings.push(format!(
                "{}: the bag has no index (it was not closed; `rosbag reindex` repairs it): \
                 its chunks were scanned from the start",
                path.display()
            ));
            false
        } else if index_pos >= bag.len {
            bag.warnings.push(format!(
                "{}: the bag's index (at byte {index_pos}) lies past the file's end (byte {}): \
                 the file was cut short; its chunks were scanned from the start",
                path.display(),
                bag.len
            ));
            false
        } else {
            match bag.read_index(index_pos, header.end) {
                Ok(()) if bag.chunks.len() == chunk_count as usize => true,
                Ok(()) => {
                    bag.warnings.push(format!(
                        "{}: the bag's index lists {} chunks, its header {chunk_count}: its \
                         chunks were scanned from the start",
                        path.display(),
                        bag.chunks.len()
                    ));
                    false
                }
                Err(e) => {
                    bag.warnings.push(format!(
                        "{}: the bag's index at byte {index_pos} is unreadable ({e}): its \
                         chunks were scanned from the start",
                        path.display()
                    ));
                    false
                }
            }
        };
        if !indexed {
            bag.connections.clear();
            bag.chunks.clear();
            bag.scan(header.end)?;
        } else if let Some(first) = bag.chunks.iter().map(|c| c.pos).min() {
            let compression = bag
                .record_at(first)
                .ok()
                .and_then(|r| r.fields.string("compression").ok());
            if let Some(c) = compression {
                if !matches!(c.as_str(), "none" | "bz2" | "lz4") {
                    return Err(unknown_compression(path, &c));
                }
                bag.compressions.insert(c);
            }
        }
        bag.indexed = indexed;
        bag.topics = bag.topic_infos();
        Ok(bag)
    }

    fn read_at(&mut self, pos: u64, n: u64) -> std::result::Result<Vec<u8>, RecordError> {
        if pos.checked_add(n).is_none_or(|end| end > self.len) {
            return Err(RecordError::Cut);
        }
        let mut buf = vec![0u8; n as usize];
        self.file
            .seek(SeekFrom::Start(pos))
            .and_then(|_| self.file.read_exact(&mut buf))
            .map_err(|e| RecordError::Bad(format!("reading at byte {pos}: {e}")))?;
        Ok(buf)
    }

    fn record_at(&mut self, pos: u64) -> std::result::Result<RecordHead, RecordError> {
        let hl = u32::from_le_bytes(self.fixed4(pos)?) as u64;
        if hl > MAX_HEADER {
            return Err(RecordError::Bad(format!(
                "a record header of {hl} bytes at byte {pos}"
            )));
        }
        let header = self.read_at(pos + 4, hl)?;
        let dl = u32::from_le_bytes(self.fixed4(pos + 4 + hl)?) as u64;
        let data_pos = pos + 8 + hl;
        let end = data_pos + dl;
        if end > self.len {
            return Err(RecordError::Cut);
        }
        let fields = Fields::parse(&header).map_err(RecordError::Bad)?;
        Ok(RecordHead {
            fields,
            data_pos,
            data_len: dl,
            end,
        })
    }

    fn fixed4(&mut self, pos: u64) -> std::result::Result<[u8; 4], RecordError> {
        let b = self.read_at(pos, 4)?;
        Ok([b[0], b[1], b[2], b[3]])
    }

    /// Reads the connections and chunk infos after `index_pos`.
    fn read_index(&mut self, index_pos: u64, data_start: u64) -> std::result::Result<(), String> {
        let mut pos = index_pos;
        while pos < self.len {
            let rec = match self.record_at(pos) {
                Ok(r) => r,
                Err(RecordError::Cut) => return Err(format!("the file ends at byte {}", self.len)),
                Err(RecordError::Bad(m)) => return Err(m),
            };
            match rec.fields.op()? {
                OP_CONNECTION => {
                    let data = self.data_of(&rec)?;
                    self.add_connection(&rec.fields, &data)?
                }
                OP_CHUNK_INFO => {
                    let chunk_pos = rec.fields.u64("chunk_pos")?;
                    if chunk_pos < data_start || chunk_pos >= index_pos {
                        return Err(format!("a chunk at byte {chunk_pos}, outside the data"));
                    }
                    let data = self.data_of(&rec)?;
                    let mut counts = HashMap::new();
                    for pair in data.chunks_exact(8) {
                        let conn = u32::from_le_bytes([pair[0], pair[1], pair[2], pair[3]]);
                        let n = u32::from_le_bytes([pair[4], pair[5], pair[6], pair[7]]);
                        *counts.entry(conn).or_insert(0) += n as u64;
                    }
                    self.chunks.push(ChunkInfo {
                        pos: chunk_pos,
                        start: rec.fields.time_ns("start_time")?,
                        end: rec.fields.time_ns("end_time")?,
                        counts,
                    });
                }
                _ => {}
            }
            pos = rec.end;
        }
        Ok(())
    }

    fn data_of(&mut self, rec: &RecordHead) -> std::result::Result<Vec<u8>, String> {
        if rec.data_len > MAX_HEADER {
            return Err(format!("an index record of {} bytes", rec.data_len));
        }
        self.read_at(rec.data_pos, rec.data_len)
            .map_err(|e| match e {
                RecordError::Cut => "the file ends inside a record".to_string(),
                RecordError::Bad(m) => m,
            })
    }

    fn add_connection(&mut self, header: &Fields, data: &[u8]) -> std::result::Result<(), String> {
        let id = header.u32("conn")?;
        let topic = header.string("topic")?;
        let type_name = Fields::parse(data)
            .and_then(|f| f.string("type"))
            .unwrap_or_else(|_| "unknown".to_string());
        self.connections
            .entry(id)
            .or_insert(Connection { topic, type_name });
        Ok(())
    }

    /// Without an index: walks the records from `start`, reading each chunk once for its
    /// connections, message counts and time span; stops where the file ends or stops making
    /// sense, with a warning.
    fn scan(&mut self, start: u64) -> Result<()> {
        let mut pos = start;
        let mut messages = 0u64;
        while pos < self.len {
            let rec = match self.record_at(pos) {
                Ok(r) => r,
                Err(RecordError::Cut) => {
                    let w = cut_short(
                        &self.path,
                        self.len,
                        &format!("the record at byte {pos}"),
                        messages,
                    );
                    self.warnings.push(w);
                    break;
                }
                Err(RecordError::Bad(m)) => {
                    self.warnings.push(format!(
                        "{}: the record at byte {pos} is damaged ({m}): read up to there \
                         ({messages} messages)",
                        self.path.display()
                    ));
                    break;
                }
            };
            match rec.fields.op() {
                Ok(OP_CHUNK) => match self.chunk_data(&rec) {
                    Ok(buf) => {
                        let mut info = ChunkInfo {
                            pos,
                            start: u64::MAX,
                            end: 0,
                            counts: HashMap::new(),
                        };
                        for r in records_in(&buf) {
                            let Ok((fields, data)) = r else { break };
                            match fields.op() {
                                Ok(OP_CONNECTION) => {
                                    let _ = self.add_connection(&fields, data);
                                }
                                Ok(OP_MESSAGE) => {
                                    let (Ok(conn), Ok(t)) =
                                        (fields.u32("conn"), fields.time_ns("time"))
                                    else {
                                        continue;
                                    };
                                    *info.counts.entry(conn).or_insert(0) += 1;
                                    info.start = info.start.min(t);
                                    info.end = info.end.max(t);
                                    messages += 1;
                                }
                                _ => {}
                            }
                        }
                        if !info.counts.is_empty() {
                            self.chunks.push(info);
                        }
                    }
                    Err(ChunkError::UnknownCompression(c)) => {
                        return Err(unknown_compression(&self.path, &c))
                    }
                    Err(ChunkError::Bad(m)) => self.warnings.push(format!(
                        "{}: the chunk at byte {pos} was skipped: {m}",
                        self.path.display()
                    )),
                },
                Ok(OP_CONNECTION) => {
                    if let Ok(data) = self.data_of(&rec) {
                        let _ = self.add_connection(&rec.fields, &data);
                    }
                }
                _ => {}
            }
            pos = rec.end;
        }
        Ok(())
    }

    /// A chunk record's messages, decompressed.
    fn chunk_data(&mut self, rec: &RecordHead) -> std::result::Result<Vec<u8>, ChunkError> {
        let compression = rec.fields.string("compression").map_err(ChunkError::Bad)?;
        let size = rec.fields.u32("size").map_err(ChunkError::Bad)? as u64;
        if rec.data_len > MAX_CHUNK || size > MAX_CHUNK {
            return Err(ChunkError::Bad(format!(
                "a chunk of {} bytes ({size} uncompressed) is past the {} MiB lidarflow reads",
                rec.data_len,
                MAX_CHUNK >> 20
            )));
        }
        if !matches!(compression.as_str(), "none" | "bz2" | "lz4") {
            return Err(ChunkError::UnknownCompression(compression));
        }
        let data = self
            .read_at(rec.data_pos, rec.data_len)
            .map_err(|e| match e {
                RecordError::Cut => ChunkError::Bad("the file ends inside it".into()),
                RecordError::Bad(m) => ChunkError::Bad(m),
            })?;
        self.compressions.insert(compression.clone());
        let mut out = Vec::with_capacity(size.min(64 << 20) as usize);
        let read = match compression.as_str() {
            "none" => return Ok(data),
            "bz2" => bzip2::read::BzDecoder::new(&data[..])
                .take(size)
                .read_to_end(&mut out),
            _ => lz4_flex::frame::FrameDecoder::new(&data[..])
                .take(size)
                .read_to_end(&mut out),
        };
        read.map_err(|e| {
            ChunkError::Bad(format!("its {compression} data does not decompress: {e}"))
        })?;
        if out.len() as u64 != size {
            return Err(ChunkError::Bad(format!(
                "it decompresses to {} bytes, its header says {size}",
                out.len()
            )));
        }
        Ok(out)
    }

    fn topic_infos(&self) -> Vec<TopicInfo> {
        let mut counts: HashMap<u32, u64> = HashMap::new();
        for c in &self.chunks {
            for (conn, n) in &c.counts {
                *counts.entry(*conn).or_insert(0) += n;
            }
        }
        let mut topics: Vec<TopicInfo> = Vec::new();
        for (id, conn) in &self.connections {
            let n = counts.get(id).copied().unwrap_or(0);
            if let Some(t) = topics.iter_mut().find(|t| t.name == conn.topic) {
                t.count = t.count.map(|c| c + n);
            } else {
                topics.push(TopicInfo {
                    name: conn.topic.clone(),
                    type_name: conn.type_name.clone(),
                    encoding: Some(Encoding::Ros1),
                    count: Some(n),
                });
            }
        }
        topics
    }

    /// Reads chunk `i` and queues its messages of the selected topic.
    fn load_chunk(&mut self, i: usize) {
        let Some(pos) = self.chunks.get(i).map(|c| c.pos) else {
            return;
        };
        let rec = match self.record_at(pos) {
            Ok(r) => r,
            Err(RecordError::Cut) => {
                let w = cut_short(
                    &self.path,
                    self.len,
                    &format!("the chunk at byte {pos}"),
                    self.seq,
                );
                self.warnings.push(w);
                return;
            }
            Err(RecordError::Bad(m)) => {
                self.warnings.push(format!(
                    "{}: the chunk at byte {pos} was skipped: {m}",
                    self.path.display()
                ));
                return;
            }
        };
        let buf = match self.chunk_data(&rec) {
            Ok(b) => b,
            Err(ChunkError::Bad(m)) => {
                self.warnings.push(format!(
                    "{}: the chunk at byte {pos} was skipped: {m}",
                    self.path.display()
                ));
                return;
            }
            Err(ChunkError::UnknownCompression(c)) => {
                self.warnings.push(format!(
                    "{}: the chunk at byte {pos} was skipped: its compression '{c}' is none \
                     of none, bz2, lz4",
                    self.path.display()
                ));
                return;
            }
        };
        for r in records_in(&buf) {
            let (fields, data) = match r {
                Ok(x) => x,
                Err(m) => {
                    self.warnings.push(format!(
                        "{}: the chunk at byte {pos} is damaged past some point ({m}): the \
                         rest of it was skipped",
                        self.path.display()
                    ));
                    break;
                }
            };
            if fields.op() != Ok(OP_MESSAGE) {
                continue;
            }
            let (Ok(conn), Ok(time_ns)) = (fields.u32("conn"), fields.time_ns("time")) else {
                continue;
            };
            if self.selected.contains(&conn) {
                self.seq += 1;
                self.pending.push(Reverse(Pending {
                    time_ns,
                    seq: self.seq,
                    data: data.to_vec(),
                }));
            }
        }
    }
}

enum ChunkError {
    UnknownCompression(String),
    Bad(String),
}

fn unknown_compression(path: &Path, c: &str) -> Error {
    Error::format(
        path,
        format!(
            "the bag's chunks are compressed with '{c}', which lidarflow does not read (it \
             reads none, bz2 and lz4): `rosbag decompress` converts the bag"
        ),
    )
}

impl BagContainer for Ros1Bag {
    fn path(&self) -> &Path {
        &self.path
    }

    fn kind(&self) -> String {
        "ROS 1 bag".to_string()
    }

    fn details(&self) -> Vec<(String, String)> {
        let compression = if self.compressions.is_empty() {
            "none".to_string()
        } else {
            self.compressions
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        };
        vec![
            (
                "storage".to_string(),
                format!(
                    "ROS 1 bag v2.0, {} chunks{}",
                    self.chunks.len(),
                    if self.indexed {
                        ""
                    } else {
                        " (no index: scanned)"
                    }
                ),
            ),
            ("compression".to_string(), compression),
        ]
    }

    fn topics(&self) -> &[TopicInfo] {
        &self.topics
    }

    fn select(&mut self, topic: &str) -> Result<()> {
        self.selected = self
            .connections
            .iter()
            .filter(|(_, c)| c.topic == topic)
            .map(|(id, _)| *id)
            .collect();
        let mut order: Vec<usize> = (0..self.chunks.len())
            .filter(|&i| {
                self.chunks[i]
                    .counts
                    .keys()
                    .any(|c| self.selected.contains(c))
            })
            .collect();
        order.sort_by_key(|&i| (self.chunks[i].start, self.chunks[i].pos));
        self.order = order;
        self.next_chunk = 0;
        self.pending.clear();
        self.seq = 0;
        Ok(())
    }

    fn next_message(&mut self) -> Option<Result<BagMessage>> {
        loop {
            let next_start = self
                .order
                .get(self.next_chunk)
                .and_then(|&i| self.chunks.get(i))
                .map(|c| c.start);
            let head_time = self.pending.peek().map(|p| p.0.time_ns);
            match (next_start, head_time) {
                // A chunk starting no later than the earliest queued message may hold an
                // earlier one: read it first.
                (Some(start), head) if head.is_none_or(|t| start <= t) => {
                    let i = self.order[self.next_chunk];
                    self.next_chunk += 1;
                    self.load_chunk(i);
                }
                (_, Some(_)) => {
                    let Reverse(p) = self.pending.pop()?;
                    return Some(Ok(BagMessage {
                        time_ns: p.time_ns,
                        data: p.data,
                    }));
                }
                (_, None) => return None,
            }
        }
    }

    fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn field(name: &str, value: &[u8]) -> Vec<u8> {
        let mut f = ((name.len() + 1 + value.len()) as u32)
            .to_le_bytes()
            .to_vec();
        f.extend(name.as_bytes());
        f.push(b'=');
        f.extend(value);
        f
    }

    fn record(header: &[Vec<u8>], data: &[u8]) -> Vec<u8> {
        let header: Vec<u8> = header.concat();
        let mut r = (header.len() as u32).to_le_bytes().to_vec();
        r.extend(&header);
        r.extend((data.len() as u32).to_le_bytes());
        r.extend(data);
        r
    }

    fn time(sec: u32) -> [u8; 8] {
        (sec as u64 | (500u64 << 32)).to_le_bytes()
    }

    fn connection(id: u32, topic: &str) -> Vec<u8> {
        let data = [
            field("topic", topic.as_bytes()),
            field("type", b"std_msgs/UInt32"),
            field("md5sum", b"x"),
        ]
        .concat();
        record(
            &[
                field("op", &[OP_CONNECTION]),
                field("conn", &id.to_le_bytes()),
                field("topic", topic.as_bytes()),
            ],
            &data,
        )
    }

    /// A bag with connections 0 (/a) and 1 (/b) and the chunks given as (compression,
    /// messages (conn, sec)); each message's data is its second as a u32.
    fn bag(chunks: &[(&str, Vec<(u32, u32)>)], indexed: bool) -> Vec<u8> {
        // The bag header, padded as real bags pad it; its index_pos is written at the end.
        let header = |index_pos: u64| {
            record(
                &[
                    field("op", &[OP_BAG_HEADER]),
                    field("index_pos", &index_pos.to_le_bytes()),
                    field("conn_count", &2u32.to_le_bytes()),
                    field("chunk_count", &(chunks.len() as u32).to_le_bytes()),
                ],
                &[b' '; 64],
            )
        };
        let mut out = MAGIC.to_vec();
        out.extend(header(0));
        let mut infos = Vec::new();
        for (compression, messages) in chunks {
            let mut plain = connection(0, "/a");
            plain.extend(connection(1, "/b"));
            let mut counts = [0u32; 2];
            for &(conn, sec) in messages {
                counts[conn as usize] += 1;
                plain.extend(record(
                    &[
                        field("op", &[OP_MESSAGE]),
                        field("conn", &conn.to_le_bytes()),
                        field("time", &time(sec)),
                    ],
                    &sec.to_le_bytes(),
                ));
            }
            let packed = match *compression {
                "bz2" => {
                    let mut e =
                        bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
                    e.write_all(&plain).unwrap();
                    e.finish().unwrap()
                }
                "lz4" => {
                    let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
                    e.write_all(&plain).unwrap();
                    e.finish().unwrap()
                }
                _ => plain.clone(),
            };
            let pos = out.len() as u64;
            out.extend(record(
                &[
                    field("op", &[OP_CHUNK]),
                    field("compression", compression.as_bytes()),
                    field("size", &(plain.len() as u32).to_le_bytes()),
                ],
                &packed,
            ));
            let secs: Vec<u32> = messages.iter().map(|m| m.1).collect();
            infos.push((
                pos,
                *secs.iter().min().unwrap(),
                *secs.iter().max().unwrap(),
                counts,
            ));
        }
        let index_pos = out.len() as u64;
        out.extend(connection(0, "/a"));
        out.extend(connection(1, "/b"));
        for (pos, start, end, counts) in &infos {
            let mut data = Vec::new();
            for (conn, n) in counts.iter().enumerate() {
                data.extend((conn as u32).to_le_bytes());
                data.extend(n.to_le_bytes());
            }
            out.extend(record(
                &[
                    field("op", &[OP_CHUNK_INFO]),
                    field("ver", &1u32.to_le_bytes()),
                    field("chunk_pos", &pos.to_le_bytes()),
                    field("start_time", &time(*start)),
                    field("end_time", &time(*end)),
                    field("count", &2u32.to_le_bytes()),
                ],
                &data,
            ));
        }
        if indexed {
            let h = header(index_pos);
            out[MAGIC.len()..MAGIC.len() + h.len()].copy_from_slice(&h);
        }
        out
    }

    fn read(path: &Path, topic: &str) -> (Vec<u32>, Vec<String>, Ros1Bag) {
        let mut b = Ros1Bag::open(path).unwrap();
        b.select(topic).unwrap();
        let mut secs = Vec::new();
        while let Some(m) = b.next_message() {
            let m = m.unwrap();
            assert_eq!(m.time_ns % 1_000_000_000, 500);
            secs.push(u32::from_le_bytes(m.data.try_into().unwrap()));
        }
        let w = b.take_warnings();
        (secs, w, b)
    }

    #[test]
    fn chunks_of_every_compression_merge_in_time_order() {
        let chunks = [
            ("bz2", vec![(0, 1), (1, 2), (0, 3), (0, 5)]),
            ("lz4", vec![(0, 2), (0, 4), (1, 9)]),
            ("none", vec![(0, 6), (0, 7)]),
        ];
        let dir = tempfile::tempdir().unwrap();
        for indexed in [true, false] {
            let p = dir.path().join("t.bag");
            std::fs::write(&p, bag(&chunks, indexed)).unwrap();
            let (secs, w, b) = read(&p, "/a");
            assert_eq!(secs, vec![1, 2, 3, 4, 5, 6, 7], "indexed {indexed}");
            assert_eq!(w.is_empty(), indexed, "{w:?}");
            let a = &b.topics()[0];
            assert_eq!((a.name.as_str(), a.count), ("/a", Some(7)));
            assert_eq!(a.type_name, "std_msgs/UInt32");
            assert_eq!(b.topics()[1].count, Some(2));
            assert_eq!(b.details()[1].1, "bz2, lz4, none");
            let (secs, _, _) = read(&p, "/b");
            assert_eq!(secs, vec![2, 9]);
        }
    }

    #[test]
    fn a_bag_cut_short_is_read_up_to_the_cut() {
        let chunks = [("lz4", vec![(0, 1), (0, 2)]), ("bz2", vec![(0, 3), (0, 4)])];
        let whole = bag(&chunks, true);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cut.bag");
        // Cut inside the second chunk: the first chunk's messages, and where it ends.
        let second = whole.windows(4).rposition(|w| w == b"BZh1").unwrap();
        std::fs::write(&p, &whole[..second + 10]).unwrap();
        let (secs, w, _) = read(&p, "/a");
        assert_eq!(secs, vec![1, 2]);
        assert!(w.iter().any(|w| w.contains("past the file's end")), "{w:?}");
        assert!(
            w.iter()
                .any(|w| w.contains(&format!("ends at byte {}", second + 10))),
            "{w:?}"
        );
        for cut in 0..whole.len() {
            std::fs::write(&p, &whole[..cut]).unwrap();
            if let Ok(mut b) = Ros1Bag::open(&p) {
                b.select("/a").unwrap();
                let mut n = 0;
                while let Some(m) = b.next_message() {
                    assert!(m.is_ok());
                    n += 1;
                    assert!(n <= 4);
                }
            }
        }
    }

    #[test]
    fn unknown_chunk_compression_is_a_clear_error() {
        let whole = bag(&[("none", vec![(0, 1)])], true);
        let needle = b"compression=none";
        let at = whole
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap();
        let mut odd = whole.clone();
        odd[at + 12..at + 16].copy_from_slice(b"zzzz");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("odd.bag");
        std::fs::write(&p, odd).unwrap();
        let e = Ros1Bag::open(&p).err().unwrap().to_string();
        assert!(
            e.contains("odd.bag") && e.contains("'zzzz'") && e.contains("rosbag decompress"),
            "{e}"
        );
    }
}
