//! Stanford `.ply` point clouds: `ascii`, `binary_little_endian` and `binary_big_endian`.
//! Points are the `vertex` element; x, y and z are required, `intensity`,
//! `t`/`time`/`timestamp` and `ring` are picked up, other properties and elements (faces,
//! list properties) are skipped.

use super::columns::{Columns, Role};
use super::scalar::Scalar;
use super::{atomic, read_bytes, LoadedScan};
use crate::cloud::PointCloud;
use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

/// How the body of a PLY file is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Whitespace-separated text, one element per line.
    Ascii,
    /// Packed little-endian values.
    BinaryLittleEndian,
    /// Packed big-endian values.
    BinaryBigEndian,
}

#[derive(Debug, Clone)]
enum Property {
    Scalar { name: String, scalar: Scalar },
    List { count: Scalar, item: Scalar },
}

#[derive(Debug)]
struct Element {
    name: String,
    count: usize,
    properties: Vec<Property>,
}

fn scalar_of(name: &str) -> Option<Scalar> {
    Some(match name {
        "char" | "int8" => Scalar::I8,
        "uchar" | "uint8" => Scalar::U8,
        "short" | "int16" => Scalar::I16,
        "ushort" | "uint16" => Scalar::U16,
        "int" | "int32" => Scalar::I32,
        "uint" | "uint32" => Scalar::U32,
        "float" | "float32" => Scalar::F32,
        "double" | "float64" => Scalar::F64,
        _ => return None,
    })
}

struct Header {
    encoding: Encoding,
    elements: Vec<Element>,
    body_offset: usize,
    body_line: usize,
}

fn parse_header(path: &Path, bytes: &[u8]) -> Result<Header> {
    let mut offset = 0;
    let mut line_no = 0;
    let mut encoding = None;
    let mut elements: Vec<Element> = Vec::new();
    while offset < bytes.len() {
        line_no += 1;
        let end = bytes[offset..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |p| offset + p);
        let raw = &bytes[offset..end];
        offset = (end + 1).min(bytes.len());
        let line = std::str::from_utf8(raw)
            .map_err(|_| Error::line(path, line_no, "header line is not text"))?
            .trim();
        let words: Vec<&str> = line.split_whitespace().collect();
        if line_no == 1 {
            if line != "ply" {
                return Err(Error::line(
                    path,
                    1,
                    "first line is not 'ply': not a PLY file",
                ));
            }
            continue;
        }
        let bad = |msg: String| Error::line(path, line_no, msg);
        match words.as_slice() {
            [] => {}
            ["comment", ..] | ["obj_info", ..] => {}
            ["format", kind, _version] => {
                encoding = Some(match *kind {
                    "ascii" => Encoding::Ascii,
                    "binary_little_endian" => Encoding::BinaryLittleEndian,
                    "binary_big_endian" => Encoding::BinaryBigEndian,
                    other => return Err(bad(format!("unknown PLY format '{other}'"))),
                })
            }
            ["element", name, count] => elements.push(Element {
                name: name.to_string(),
                count: count
                    .parse()
                    .map_err(|_| bad(format!("element count '{count}' is not a whole number")))?,
                properties: Vec::new(),
            }),
            ["property", "list", count, item, _name] => {
                let element = elements
                    .last_mut()
                    .ok_or_else(|| bad("property before any element".into()))?;
                let count =
                    scalar_of(count).ok_or_else(|| bad(format!("unknown type '{count}'")))?;
                let item = scalar_of(item).ok_or_else(|| bad(format!("unknown type '{item}'")))?;
                element.properties.push(Property::List { count, item });
            }
            ["property", ty, name] => {
                let element = elements
                    .last_mut()
                    .ok_or_else(|| bad("property before any element".into()))?;
                let scalar = scalar_of(ty).ok_or_else(|| bad(format!("unknown type '{ty}'")))?;
                element.properties.push(Property::Scalar {
                    name: name.to_string(),
                    scalar,
                });
            }
            ["end_header"] => {
                let encoding =
                    encoding.ok_or_else(|| bad("end_header before any 'format' line".into()))?;
                return Ok(Header {
                    encoding,
                    elements,
                    body_offset: offset,
                    body_line: line_no,
                });
            }
            _ => {
                return Err(bad(format!(
                    "unexpected PLY header line '{}'",
                    line.chars().take(40).collect::<String>()
                )))
            }
        }
    }
    Err(Error::format(
        path,
        "PLY header has no end_header line: truncated or not a PLY file",
    ))
}

/// A cursor over the body that reports running out of bytes or text as "shorter than its
/// header promises".
struct Body<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    pos: usize,
    big_endian: bool,
    /// For ascii: the current line's remaining words and line number.
    words: std::vec::IntoIter<String>,
    line_no: usize,
}

impl<'a> Body<'a> {
    fn short(&self) -> Error {
        Error::format(self.path, "file is shorter than its header promises")
    }

    fn binary(&mut self, scalar: Scalar) -> Result<f64> {
        let size = scalar.size();
        let b = self
            .bytes
            .get(self.pos..self.pos + size)
            .ok_or_else(|| self.short())?;
        self.pos += size;
        Ok(scalar.decode(b, self.big_endian))
    }

    fn next_line(&mut self) -> Result<()> {
        loop {
            if self.pos >= self.bytes.len() {
                return Err(self.short());
            }
            let end = self.bytes[self.pos..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(self.bytes.len(), |p| self.pos + p);
            let line = String::from_utf8_lossy(&self.bytes[self.pos..end]).into_owned();
            self.pos = end + 1;
            self.line_no += 1;
            let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
            if !words.is_empty() {
                self.words = words.into_iter();
                return Ok(());
            }
        }
    }

    fn text(&mut self, scalar: Scalar) -> Result<f64> {
        let word = self
            .words
            .next()
            .ok_or_else(|| Error::line(self.path, self.line_no, "too few values on this line"))?;
        scalar.parse_text(&word).ok_or_else(|| {
            Error::line(
                self.path,
                self.line_no,
                format!("'{word}' is not a valid number"),
            )
        })
    }
}

/// Parses PLY bytes (`path` only names the file in errors).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<LoadedScan> {
    let header = parse_header(path, bytes)?;
    let vertex = header
        .elements
        .iter()
        .position(|e| e.name == "vertex")
        .ok_or_else(|| Error::format(path, "PLY header declares no 'vertex' element"))?;
    let roles: Vec<Option<Role>> = header.elements[vertex]
        .properties
        .iter()
        .map(|p| match p {
            Property::Scalar { name, .. } => Role::from_name(name),
            Property::List { .. } => None,
        })
        .collect();
    for (axis, role) in [("x", Role::X), ("y", Role::Y), ("z", Role::Z)] {
        if !roles.contains(&Some(role)) {
            return Err(Error::format(
                path,
                format!("vertex element has no '{axis}' property: x, y and z are required"),
            ));
        }
    }
    let present: Vec<Role> = roles.iter().flatten().copied().collect();
    let n = header.elements[vertex].count;
    let mut columns = Columns::with_roles(&present, n.min(bytes.len()));
    columns.time_in_nanoseconds =
        header.elements[vertex]
            .properties
            .iter()
            .zip(&roles)
            .any(|(p, r)| {
                *r == Some(Role::Time)
                    && matches!(p, Property::Scalar { scalar, .. } if scalar.is_integer())
            });
    let ascii = header.encoding == Encoding::Ascii;
    let mut body = Body {
        path,
        bytes,
        pos: header.body_offset,
        big_endian: header.encoding == Encoding::BinaryBigEndian,
        words: Vec::new().into_iter(),
        line_no: header.body_line,
    };
    for (k, element) in header.elements.iter().enumerate().take(vertex + 1) {
        for _ in 0..element.count {
            if ascii {
                body.next_line()?;
            }
            for (j, property) in element.properties.iter().enumerate() {
                let mut read = |s: Scalar| if ascii { body.text(s) } else { body.binary(s) };
                match property {
                    Property::Scalar { scalar, .. } => {
                        let v = read(*scalar)?;
                        if k == vertex {
                            if let Some(role) = roles[j] {
                                columns.push(role, v);
                            }
                        }
                    }
                    Property::List { count, item } => {
                        let len = read(*count)?;
                        if !(0.0..=1e6).contains(&len) {
                            return Err(Error::format(
                                path,
                                format!("list length {len} is not plausible"),
                            ));
                        }
                        for _ in 0..len as usize {
                            read(*item)?;
                        }
                    }
                }
            }
        }
    }
    columns.into_scan(path)
}

/// Reads a PLY file.
pub fn read(path: &Path) -> Result<LoadedScan> {
    parse(path, &read_bytes(path)?)
}

/// Writes a PLY file: vertex properties x y z (float), and intensity (float), t (float,
/// seconds relative to the stamp) and ring (ushort) when the cloud has them.
pub fn write(path: &Path, cloud: &PointCloud, encoding: Encoding) -> Result<()> {
    let format = match encoding {
        Encoding::Ascii => "ascii",
        Encoding::BinaryLittleEndian => "binary_little_endian",
        Encoding::BinaryBigEndian => "binary_big_endian",
    };
    let mut header = format!(
        "ply\nformat {format} 1.0\ncomment lidarflow scan, stamp {}\nelement vertex {}\nproperty float x\nproperty float y\nproperty float z\n",
        cloud.stamp,
        cloud.len()
    );
    if cloud.intensity().is_some() {
        header.push_str("property float intensity\n");
    }
    if cloud.time().is_some() {
        header.push_str("property float t\n");
    }
    if cloud.ring().is_some() {
        header.push_str("property ushort ring\n");
    }
    header.push_str("end_header\n");
    let big = encoding == Encoding::BinaryBigEndian;
    let f = |v: f32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    atomic::write_with(path, |w| {
        w.write_all(header.as_bytes())?;
        for (i, p) in cloud.points().iter().enumerate() {
            let mut floats = vec![p.x as f32, p.y as f32, p.z as f32];
            floats.extend(cloud.intensity().map(|v| v[i]));
            floats.extend(cloud.time().map(|v| v[i]));
            let ring = cloud.ring().map(|v| v[i]);
            if encoding == Encoding::Ascii {
                let mut words: Vec<String> = floats.iter().map(|v| v.to_string()).collect();
                words.extend(ring.map(|r| r.to_string()));
                writeln!(w, "{}", words.join(" "))?;
            } else {
                for v in floats {
                    w.write_all(&f(v))?;
                }
                if let Some(r) = ring {
                    w.write_all(&if big {
                        r.to_be_bytes()
                    } else {
                        r.to_le_bytes()
                    })?;
                }
            }
        }
        Ok(())
    })
}
