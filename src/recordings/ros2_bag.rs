//! A ROS 2 bag folder: `metadata.yaml` (`rosbag2_bagfile_information`) names the storage
//! (`sqlite3` or `mcap`), the files (several = a split bag, read in order), the topics with
//! their types and message counts, and the compression (`zstd` per file or per message).
//! Files are opened one at a time, when the stream reaches them; a file compressed whole is
//! decompressed to a temporary file first (sqlite needs a file), removed when done.

use super::bag::{BagContainer, BagMessage, TempFile, TopicInfo};
use super::db3_bag::Db3Bag;
use super::mcap_bag::McapBag;
use super::messages::Encoding;
use super::sniff::Kind;
use crate::error::{Error, Result};
use serde::Deserialize;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A message decompressed to more than this is refused.
const MAX_MESSAGE: u64 = 256 << 20;

#[derive(Debug, Deserialize)]
struct MetadataFile {
    rosbag2_bagfile_information: Metadata,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    #[serde(default)]
    storage_identifier: Option<String>,
    #[serde(default)]
    relative_file_paths: Vec<String>,
    #[serde(default)]
    compression_format: Option<String>,
    #[serde(default)]
    compression_mode: Option<String>,
    #[serde(default)]
    topics_with_message_count: Vec<TopicWithCount>,
}

#[derive(Debug, Deserialize)]
struct TopicWithCount {
    topic_metadata: TopicMetadata,
    #[serde(default)]
    message_count: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct TopicMetadata {
    name: String,
    #[serde(rename = "type")]
    type_name: String,
    #[serde(default)]
    serialization_format: Option<String>,
}

/// How a ROS 2 bag is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// Each file compressed whole with zstd (`.db3.zstd`, `.mcap.zstd`).
    ZstdFile,
    /// Each message's data compressed with zstd.
    ZstdMessage,
}

/// A ROS 2 bag folder.
pub struct Ros2Bag {
    folder: PathBuf,
    storage: String,
    compression: Compression,
    files: Vec<PathBuf>,
    topics: Vec<TopicInfo>,
    warnings: Vec<String>,
    // The stream of the selected topic.
    selected: Option<String>,
    next_file: usize,
    current: Option<(Box<dyn BagContainer>, Option<TempFile>)>,
    undecompressed: u64,
}

impl Ros2Bag {
    /// Opens a bag folder from its `metadata.yaml`.
    pub fn open(folder: &Path) -> Result<Ros2Bag> {
        let meta_path = folder.join("metadata.yaml");
        let text = std::fs::read_to_string(&meta_path).map_err(|e| Error::io(&meta_path, e))?;
        let meta: MetadataFile = serde_norway::from_str(&text).map_err(|e| {
            Error::format(
                &meta_path,
                format!("not a ROS 2 bag's metadata (rosbag2_bagfile_information): {e}"),
            )
        })?;
        let meta = meta.rosbag2_bagfile_information;
        let storage = meta.storage_identifier.clone().unwrap_or_default();
        if !matches!(storage.as_str(), "sqlite3" | "mcap" | "") {
            return Err(Error::format(
                &meta_path,
                format!(
                    "storage '{storage}' is not one lidarflow reads (sqlite3, mcap): `ros2 bag \
                     convert` rewrites the bag as mcap"
                ),
            ));
        }
        let format = meta.compression_format.clone().unwrap_or_default();
        let mode = meta
            .compression_mode
            .clone()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let compression = match (format.as_str(), mode.as_str()) {
            (_, "" | "none") | ("", _) => Compression::None,
            ("zstd", "file") => Compression::ZstdFile,
            ("zstd", "message") => Compression::ZstdMessage,
            _ => {
                return Err(Error::format(
                    &meta_path,
                    format!(
                        "compression '{format}' by {mode} is not one lidarflow reads (zstd by \
                         file or by message): `ros2 bag convert` rewrites the bag uncompressed"
                    ),
                ))
            }
        };
        let mut files = Vec::new();
        let mut warnings = Vec::new();
        for rel in &meta.relative_file_paths {
            let direct = folder.join(rel);
            // Older bags name their files with the bag folder in front.
            let by_name = Path::new(rel).file_name().map(|n| folder.join(n));
            match (direct.is_file(), by_name) {
                (true, _) => files.push(direct),
                (false, Some(p)) if p.is_file() => files.push(p),
                _ => warnings.push(format!(
                    "{}: the bag's file '{rel}' is missing: its messages are not read",
                    folder.display()
                )),
            }
        }
        if files.is_empty() {
            return Err(Error::format(
                &meta_path,
                format!(
                    "none of the bag's files is there (metadata.yaml lists: {})",
                    if meta.relative_file_paths.is_empty() {
                        "none".to_string()
                    } else {
                        meta.relative_file_paths.join(", ")
                    }
                ),
            ));
        }
        let topics = meta
            .topics_with_message_count
            .iter()
            .map(|t| TopicInfo {
                name: t.topic_metadata.name.clone(),
                type_name: t.topic_metadata.type_name.clone(),
                encoding: Encoding::from_name(
                    t.topic_metadata
                        .serialization_format
                        .as_deref()
                        .unwrap_or("cdr"),
                ),
                count: t.message_count,
            })
            .collect();
        Ok(Ros2Bag {
            folder: folder.to_path_buf(),
            storage,
            compression,
            files,
            topics,
            warnings,
            selected: None,
            next_file: 0,
            current: None,
            undecompressed: 0,
        })
    }

    /// The bag's files, in reading order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Its compression.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Opens file `i` (decompressing it first when the bag is compressed by file).
    fn open_file(
        &mut self,
        i: usize,
    ) -> std::result::Result<(Box<dyn BagContainer>, Option<TempFile>), String> {
        let path = &self.files[i];
        let (readable, temp) = if self.compression == Compression::ZstdFile {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().trim_end_matches(".zstd").to_string())
                .unwrap_or_else(|| "bag".to_string());
            let temp = TempFile::new(&name);
            let copied = std::fs::File::open(path).and_then(|src| {
                let dst = std::fs::File::create(temp.path())?;
                zstd::stream::copy_decode(src, dst)
            });
            copied.map_err(|e| format!("it does not decompress as zstd: {e}"))?;
            (temp.path().to_path_buf(), Some(temp))
        } else {
            (path.clone(), None)
        };
        let mut head = [0u8; 16];
        let n = std::fs::File::open(&readable)
            .and_then(|mut f| f.read(&mut head))
            .map_err(|e| e.to_string())?;
        let container: Box<dyn BagContainer> = match Kind::from_magic(&head[..n]) {
            Some(Kind::Db3) => Box::new(Db3Bag::open(&readable).map_err(|e| e.to_string())?),
            Some(Kind::Mcap) => Box::new(McapBag::open(&readable).map_err(|e| e.to_string())?),
            _ => {
                return Err(format!(
                    "it is neither sqlite3 nor MCAP (storage '{}')",
                    self.storage
                ))
            }
        };
        Ok((container, temp))
    }
}

impl BagContainer for Ros2Bag {
    fn path(&self) -> &Path {
        &self.folder
    }

    fn kind(&self) -> String {
        format!(
            "ROS 2 bag ({})",
            if self.storage.is_empty() {
                "sqlite3"
            } else {
                &self.storage
            }
        )
    }

    fn details(&self) -> Vec<(String, String)> {
        vec![
            (
                "storage".to_string(),
                format!(
                    "{}, {} file{}",
                    self.storage,
                    self.files.len(),
                    if self.files.len() == 1 {
                        ""
                    } else {
                        "s (split bag)"
                    }
                ),
            ),
            (
                "compression".to_string(),
                match self.compression {
                    Compression::None => "none".to_string(),
                    Compression::ZstdFile => "zstd by file".to_string(),
                    Compression::ZstdMessage => "zstd by message".to_string(),
                },
            ),
        ]
    }

    fn topics(&self) -> &[TopicInfo] {
        &self.topics
    }

    fn select(&mut self, topic: &str) -> Result<()> {
        self.selected = Some(topic.to_string());
        self.next_file = 0;
        self.current = None;
        Ok(())
    }

    fn next_message(&mut self) -> Option<Result<BagMessage>> {
        let topic = self.selected.clone()?;
        // Each turn either yields, finishes a file, or opens the next: bounded by the files.
        loop {
            if let Some((container, _)) = self.current.as_mut() {
                match container.next_message() {
                    Some(Ok(mut m)) => {
                        if self.compression == Compression::ZstdMessage {
                            let mut out = Vec::new();
                            let read = zstd::stream::read::Decoder::new(&m.data[..])
                                .and_then(|d| d.take(MAX_MESSAGE).read_to_end(&mut out));
                            if let Err(e) = read {
                                self.undecompressed += 1;
                                self.warnings.push(format!(
                                    "{}: a message on {topic} at {:.6} s does not decompress \
                                     ({e}): skipped",
                                    self.folder.display(),
                                    m.time_ns as f64 * 1e-9
                                ));
                                continue;
                            }
                            m.data = out;
                        }
                        return Some(Ok(m));
                    }
                    Some(Err(e)) => return Some(Err(e)),
                    None => {
                        let mut done = self.current.take()?.0;
                        self.warnings.extend(done.take_warnings());
                    }
                }
            }
            let i = self.next_file;
            if i >= self.files.len() {
                return None;
            }
            self.next_file += 1;
            match self.open_file(i) {
                Ok((mut container, temp)) => {
                    self.warnings.extend(container.take_warnings());
                    if let Err(e) = container.select(&topic) {
                        self.warnings.push(e.to_string());
                        continue;
                    }
                    self.current = Some((container, temp));
                }
                Err(m) => self.warnings.push(format!(
                    "{}: the bag's file {} was skipped: {m}",
                    self.folder.display(),
                    self.files[i].display()
                )),
            }
        }
    }

    fn take_warnings(&mut self) -> Vec<String> {
        let mut w = std::mem::take(&mut self.warnings);
        if let Some((c, _)) = self.current.as_mut() {
            w.extend(c.take_warnings());
        }
        w
    }
}
