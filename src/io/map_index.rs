//! The text of a view-based map's index (`map.yaml`), written so that it can grow by
//! appending: the head (format, version, sensor) and `keyframes:` first, then one line per
//! keyframe, a flow mapping that is JSON and YAML at once:
//!
//! ```yaml
//! format: lidarflow-view-map
//! version: 1
//! sensor: "velodyne"
//! keyframes:
//! - {"id": 0, "stamp": 1630577771.070493, "file": "keyframes/000000.laz", "pose": [...], ...}
//! ```
//!
//! Any prefix of whole lines is a valid index, so adding a keyframe appends one line (the cost
//! does not grow with the map), and a run killed in the middle of a line leaves a cut last
//! line, which [`parse`] drops with a warning. The lines are read with a JSON parser (a
//! 100 000-keyframe index in well under a second); an index in any other YAML layout (the
//! block style earlier lidarflow wrote, or one edited by hand) is read by the YAML parser.

use super::view_map::{Keyframe, MapIndex, FORMAT, VERSION};
use serde::Deserialize;

/// The head of an index, keyframes not included (`keyframes:` ends it).
pub fn head(sensor: &str) -> String {
    format!(
        "format: {FORMAT}\nversion: {VERSION}\nsensor: {}\nkeyframes:\n",
        serde_json::to_string(sensor).expect("a string encodes")
    )
}

/// One keyframe's line, newline included.
pub fn line(k: &Keyframe) -> String {
    let mut out = b"- ".to_vec();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Spaced);
    serde::Serialize::serialize(k, &mut ser).expect("a keyframe encodes");
    out.push(b'\n');
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// The whole index text.
pub fn encode(index: &MapIndex) -> String {
    let mut text = head(&index.sensor);
    for k in &index.keyframes {
        text.push_str(&line(k));
    }
    text
}

/// An index read, with what was noticed on the way.
#[derive(Debug)]
pub struct Parsed {
    /// The index.
    pub index: MapIndex,
    /// A cut last line that was dropped (a run stopped while appending to it), described.
    pub dropped_last_line: Option<String>,
}

/// Reads an index's text: keyframe lines through the JSON parser, anything else through
/// the YAML parser. `Err` holds the YAML parser's message.
pub fn parse(text: &str) -> Result<Parsed, String> {
    if let Some(parsed) = parse_lines(text) {
        return Ok(parsed);
    }
    let index: MapIndex = serde_norway::from_str(text).map_err(|e| e.to_string())?;
    Ok(Parsed {
        index,
        dropped_last_line: None,
    })
}

/// Where the keyframe lines start (after `keyframes:`), in the appendable layout.
fn body_start(text: &str) -> Option<usize> {
    let split = if text.starts_with("keyframes:\n") {
        0
    } else {
        text.find("\nkeyframes:\n")? + 1
    };
    Some(split)
}

/// The text before the keyframes (format, version, sensor) when the index is in the
/// appendable layout, else the whole text: enough to check format and version without
/// reading every keyframe.
pub fn head_of(text: &str) -> &str {
    body_start(text).map_or(text, |at| &text[..at])
}

/// The appendable layout; `None` when the text is laid out otherwise.
fn parse_lines(text: &str) -> Option<Parsed> {
    let (head, body) = text.split_at(body_start(text)?);
    #[derive(Deserialize)]
    struct Head {
        format: String,
        version: u32,
        sensor: String,
    }
    let h: Head = serde_norway::from_str(head).ok()?;
    let body = &body["keyframes:\n".len()..];
    let mut keyframes = Vec::new();
    let mut dropped_last_line = None;
    let cut = !body.is_empty() && !body.ends_with('\n');
    let mut lines = body.lines().peekable();
    while let Some(l) = lines.next() {
        let json = l.strip_prefix("- ")?;
        match serde_json::from_str::<Keyframe>(json) {
            Ok(k) => keyframes.push(k),
            Err(e) if cut && lines.peek().is_none() => {
                dropped_last_line = Some(format!(
                    "its last line is cut short ({e}): a run stopped while adding keyframe \
                     {}; the {} keyframes before it are kept",
                    keyframes.len(),
                    keyframes.len()
                ));
            }
            Err(_) => return None,
        }
    }
    Some(Parsed {
        index: MapIndex {
            format: h.format,
            version: h.version,
            sensor: h.sensor,
            keyframes,
        },
        dropped_last_line,
    })
}

/// JSON with a space after every `:` and `,`, so that each line is also plain YAML flow
/// style (which wants a space after `:` in a flow mapping).
struct Spaced;

/// `, ` before every element but the first.
fn separate<W: ?Sized + std::io::Write>(writer: &mut W, first: bool) -> std::io::Result<()> {
    if first {
        Ok(())
    } else {
        writer.write_all(b", ")
    }
}

impl serde_json::ser::Formatter for Spaced {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        separate(writer, first)
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        separate(writer, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn keyframe(id: u32) -> Keyframe {
        Keyframe {
            id,
            stamp: 1630577771.070493 + id as f64 * 0.1,
            file: PathBuf::from(format!("keyframes/{id:06}.laz")),
            pose: [
                1.5,
                -2.0,
                1e-7,
                0.0,
                0.0,
                0.38268343236508984,
                0.9238795325112867,
            ],
            twist: [10.0, 0.0, 0.0, 0.0, 0.0, -0.25],
            reference: (id % 2 == 1).then_some([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]),
            points: 24133 + id as usize,
        }
    }

    fn index(n: u32) -> MapIndex {
        let mut i = MapIndex::new("velodyne: \"front\"");
        i.keyframes = (0..n).map(keyframe).collect();
        i
    }

    #[test]
    fn the_text_is_yaml_and_json_lines_alike_and_reads_back_exactly() {
        let i = index(3);
        let text = encode(&i);
        // The JSON path.
        let parsed = parse(&text).unwrap();
        assert_eq!(parsed.index, i);
        assert!(parsed.dropped_last_line.is_none());
        // The same text through the YAML parser alone.
        let yaml: MapIndex = serde_norway::from_str(&text).unwrap();
        assert_eq!(yaml, i);
        // An empty map is a head alone, and reads as no keyframes.
        assert_eq!(parse(&encode(&index(0))).unwrap().index, index(0));
    }

    #[test]
    fn the_block_style_earlier_versions_wrote_still_reads() {
        let i = index(2);
        let block = serde_norway::to_string(&i).unwrap();
        assert!(!block.contains('{'));
        assert_eq!(parse(&block).unwrap().index, i);
    }

    #[test]
    fn a_cut_last_line_is_dropped_and_said_and_a_bad_middle_line_is_an_error() {
        let text = encode(&index(3));
        let cut = &text[..text.len() - 20];
        let parsed = parse(cut).unwrap();
        assert_eq!(parsed.index.keyframes, index(2).keyframes);
        let why = parsed.dropped_last_line.unwrap();
        assert!(
            why.contains("keyframe 2") && why.contains("2 keyframes"),
            "{why}"
        );
        // Cut exactly at a line's end: nothing lost, nothing said.
        let whole = &text[..text.rfind("- {").unwrap()];
        let parsed = parse(whole).unwrap();
        assert_eq!(parsed.index.keyframes.len(), 2);
        assert!(parsed.dropped_last_line.is_none());
        // Damage before the last line is not a cut: the YAML parser reports it.
        let damaged = text.replacen("\"points\": 24133", "\"points\": oops", 1);
        assert!(parse(&damaged).is_err());
    }
}
