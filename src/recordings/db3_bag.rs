//! The ROS 2 sqlite3 container (`.db3`): a `topics` table (id, name, type, serialization
//! format) and a `messages` table (id, topic_id, timestamp, data). A topic's messages are
//! paged through with keyset queries (`ORDER BY timestamp, id LIMIT n`, continuing after the
//! last key seen), and each message's data is fetched alone, so no statement is held across
//! calls and memory holds one message and one page of keys. The file is opened read-only and
//! immutable (no journal, no lock), as recordings sit on read-only media.

use super::bag::{BagContainer, BagMessage, TopicInfo};
use super::messages::Encoding;
use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};

/// Keys fetched per page.
const PAGE: i64 = 512;

/// A ROS 2 sqlite3 bag file.
pub struct Db3Bag {
    path: PathBuf,
    db: Connection,
    topics: Vec<TopicInfo>,
    /// `(topics.id, name)`.
    ids: Vec<(i64, String)>,
    warnings: Vec<String>,
    // The stream of the selected topic.
    topic_id: Option<i64>,
    after: Option<(i64, i64)>,
    keys: VecDeque<(i64, i64)>,
    done: bool,
    delivered: u64,
    unreadable: u64,
    first_unreadable: String,
}

/// A `file:` URI for sqlite, with the characters URIs reserve escaped.
fn uri_of(path: &Path) -> String {
    let mut uri = String::from("file:");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    uri
}

impl Db3Bag {
    /// Opens a `.db3` file and reads its topics and their message counts.
    pub fn open(path: &Path) -> Result<Db3Bag> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let sql_err = |e: rusqlite::Error| {
            Error::format(path, format!("not a readable sqlite3 database: {e}"))
        };
        let db = Connection::open_with_flags(uri_of(path), flags).map_err(sql_err)?;
        let cut = cut_short_database(path);
        if cut.is_some() {
            // sqlite refuses a file shorter than its header says unless told to read what is
            // there (harmless on a read-only connection: nothing is written).
            db.execute_batch("PRAGMA writable_schema = ON")
                .map_err(sql_err)?;
        }
        let tables: Vec<String> = db
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .and_then(|mut s| {
                s.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(sql_err)?;
        if !(tables.iter().any(|t| t == "messages") && tables.iter().any(|t| t == "topics")) {
            return Err(Error::format(
                path,
                format!(
                    "a sqlite3 database, but not a ROS 2 bag: it has no 'messages' and 'topics' \
                     tables (its tables: {}); give a ROS 2 bag's .db3 file or its folder",
                    if tables.is_empty() {
                        "none".to_string()
                    } else {
                        tables.join(", ")
                    }
                ),
            ));
        }
        let rows: Vec<(i64, String, String, String)> = db
            .prepare("SELECT id, name, type, serialization_format FROM topics ORDER BY id")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| Error::format(path, format!("its topics table is unreadable: {e}")))?;
        let mut warnings = Vec::new();
        let counts: Option<Vec<(i64, i64)>> = db
            .prepare("SELECT topic_id, COUNT(*) FROM messages GROUP BY topic_id")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| {
                warnings.push(format!(
                    "{}: the messages table cannot be counted ({e}): the database is damaged \
                     or cut short; its messages are read up to the damage",
                    path.display()
                ))
            })
            .ok();
        if let Some(w) = cut {
            warnings.push(w);
        }
        let mut topics = Vec::new();
        let mut ids = Vec::new();
        for (id, name, type_name, format) in rows {
            let count = counts.as_ref().map(|c| {
                c.iter()
                    .filter(|(t, _)| *t == id)
                    .map(|(_, n)| (*n).max(0) as u64)
                    .sum()
            });
            ids.push((id, name.clone()));
            topics.push(TopicInfo {
                name,
                type_name,
                encoding: Encoding::from_name(&format),
                count,
            });
        }
        Ok(Db3Bag {
            path: path.to_path_buf(),
            db,
            topics,
            ids,
            warnings,
            topic_id: None,
            after: None,
            keys: VecDeque::new(),
            done: true,
            delivered: 0,
            unreadable: 0,
            first_unreadable: String::new(),
        })
    }

    /// The next page of `(timestamp, id)` keys after the last one seen.
    fn next_page(&mut self) -> rusqlite::Result<()> {
        let Some(topic) = self.topic_id else {
            self.done = true;
            return Ok(());
        };
        let (ts, id) = self.after.unwrap_or((i64::MIN, i64::MIN));
        let mut stmt = self.db.prepare_cached(
            "SELECT timestamp, id FROM messages WHERE topic_id = ?1 \
             AND (timestamp > ?2 OR (timestamp = ?2 AND id > ?3)) \
             ORDER BY timestamp, id LIMIT ?4",
        )?;
        let page = stmt
            .query_map(rusqlite::params![topic, ts, id, PAGE], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if (page.len() as i64) < PAGE {
            self.done = true;
        }
        if let Some(last) = page.last() {
            self.after = Some(*last);
        }
        self.keys.extend(page);
        Ok(())
    }

    fn report_unreadable(&mut self) {
        if self.unreadable > 0 {
            self.warnings.push(format!(
                "{}: {} messages of the topic are unreadable ({}): the database is damaged or \
                 cut short; they were skipped",
                self.path.display(),
                self.unreadable,
                self.first_unreadable
            ));
            self.unreadable = 0;
        }
    }

    fn damaged(&mut self, e: rusqlite::Error) {
        self.report_unreadable();
        self.warnings.push(format!(
            "{}: the database is damaged or cut short ({e}): the topic was read up to there \
             ({} messages)",
            self.path.display(),
            self.delivered
        ));
        self.done = true;
        self.keys.clear();
    }
}

/// A warning when the file is shorter than its header's page count says: cut short (sqlite
/// reads the missing pages as damage, or, past the last used one, not at all).
fn cut_short_database(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut head = [0u8; 32];
    let mut f = std::fs::File::open(path).ok()?;
    f.read_exact(&mut head).ok()?;
    let len = f.metadata().ok()?.len();
    let page_size = match u16::from_be_bytes([head[16], head[17]]) {
        1 => 65536,
        n => n as u64,
    };
    let pages = u32::from_be_bytes([head[28], head[29], head[30], head[31]]) as u64;
    let expected = page_size * pages;
    (expected > len).then(|| {
        format!(
            "{}: the file is {len} bytes, its header says {expected}: it was cut short; its \
             messages are read up to the cut",
            path.display()
        )
    })
}

impl BagContainer for Db3Bag {
    fn path(&self) -> &Path {
        &self.path
    }

    fn kind(&self) -> String {
        "ROS 2 bag (sqlite3)".to_string()
    }

    fn details(&self) -> Vec<(String, String)> {
        vec![
            ("storage".to_string(), "sqlite3 (.db3)".to_string()),
            ("compression".to_string(), "none".to_string()),
        ]
    }

    fn topics(&self) -> &[TopicInfo] {
        &self.topics
    }

    fn select(&mut self, topic: &str) -> Result<()> {
        self.topic_id = self.ids.iter().find(|(_, n)| n == topic).map(|(id, _)| *id);
        self.after = None;
        self.keys.clear();
        self.done = self.topic_id.is_none();
        self.delivered = 0;
        self.unreadable = 0;
        Ok(())
    }

    fn next_message(&mut self) -> Option<Result<BagMessage>> {
        loop {
            if self.keys.is_empty() {
                if self.done {
                    self.report_unreadable();
                    return None;
                }
                if let Err(e) = self.next_page() {
                    self.damaged(e);
                    return None;
                }
                continue;
            }
            let (ts, id) = self.keys.pop_front()?;
            let data = self
                .db
                .prepare_cached("SELECT data FROM messages WHERE id = ?1")
                .and_then(|mut s| s.query_row([id], |r| r.get::<_, Vec<u8>>(0)).optional());
            match data {
                Ok(Some(data)) => {
                    self.delivered += 1;
                    return Some(Ok(BagMessage {
                        time_ns: ts.max(0) as u64,
                        data,
                    }));
                }
                Ok(None) => continue,
                Err(e) => {
                    // One message's pages may be lost while the next ones are there: skip
                    // it, count it, say so once at the end.
                    self.unreadable += 1;
                    if self.unreadable == 1 {
                        self.first_unreadable = e.to_string();
                    }
                }
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

    #[test]
    fn uris_escape_what_sqlite_would_read_as_query() {
        assert_eq!(
            uri_of(Path::new("/a b/x?#%.db3")),
            "file:/a%20b/x%3F%23%25.db3?immutable=1"
        );
    }

    #[test]
    fn a_database_that_is_not_a_bag_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("other.db3");
        let db = Connection::open(&p).unwrap();
        db.execute("CREATE TABLE things (id INTEGER)", []).unwrap();
        drop(db);
        let e = Db3Bag::open(&p).err().unwrap().to_string();
        assert!(
            e.contains("other.db3") && e.contains("not a ROS 2 bag") && e.contains("things"),
            "{e}"
        );
    }

    #[test]
    fn messages_stream_in_time_order_across_pages() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bag.db3");
        let db = Connection::open(&p).unwrap();
        db.execute_batch(
            "CREATE TABLE topics(id INTEGER PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL,
               serialization_format TEXT NOT NULL, offered_qos_profiles TEXT NOT NULL);
             CREATE TABLE messages(id INTEGER PRIMARY KEY, topic_id INTEGER NOT NULL,
               timestamp INTEGER NOT NULL, data BLOB NOT NULL);
             INSERT INTO topics VALUES (1, '/a', 'sensor_msgs/msg/PointCloud2', 'cdr', ''),
               (2, '/b', 'std_msgs/msg/String', 'cdr', '');",
        )
        .unwrap();
        // 1200 messages on /a inserted out of time order, with ties, and some on /b.
        let n = 1200i64;
        for i in 0..n {
            let ts = (i * 7919) % 1000;
            db.execute(
                "INSERT INTO messages (topic_id, timestamp, data) VALUES (1, ?1, ?2)",
                rusqlite::params![ts, i.to_le_bytes().to_vec()],
            )
            .unwrap();
            if i % 100 == 0 {
                db.execute(
                    "INSERT INTO messages (topic_id, timestamp, data) VALUES (2, ?1, x'00')",
                    [ts],
                )
                .unwrap();
            }
        }
        drop(db);
        let mut bag = Db3Bag::open(&p).unwrap();
        assert_eq!(bag.topics()[0].count, Some(n as u64));
        assert_eq!(bag.topics()[1].count, Some(12));
        bag.select("/a").unwrap();
        let mut last = (0u64, -1i64);
        let mut seen = 0;
        while let Some(m) = bag.next_message() {
            let m = m.unwrap();
            let i = i64::from_le_bytes(m.data.try_into().unwrap());
            assert!((m.time_ns, i) > last, "{:?} after {last:?}", (m.time_ns, i));
            last = (m.time_ns, i);
            seen += 1;
        }
        assert_eq!(seen, n);
        bag.select("/missing").unwrap();
        assert!(bag.next_message().is_none());
    }
}
