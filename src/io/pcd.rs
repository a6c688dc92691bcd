//! Point Cloud Library `.pcd` files, versions 0.6 and 0.7: `ascii`, `binary` and
//! `binary_compressed` data, any set of fields. x, y and z are required; `intensity`,
//! `t`/`time`/`timestamp` and `ring` are picked up; other fields (normals, curvature, rgb,
//! padding) are skipped.

use super::columns::{Columns, Role};
use super::scalar::Scalar;
use super::{atomic, lzf, read_bytes, LoadedScan};
use crate::cloud::PointCloud;
use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

/// How the point data of a PCD file is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    /// Whitespace-separated text, one point per line.
    Ascii,
    /// Packed little-endian records, one per point.
    Binary,
    /// LZF-compressed, one column per field.
    BinaryCompressed,
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    scalar: Scalar,
    count: usize,
}

#[derive(Debug)]
struct Header {
    fields: Vec<Field>,
    points: usize,
    data: DataKind,
    /// Byte offset of the data after the DATA line.
    data_offset: usize,
    /// 1-based line number of the DATA line.
    data_line: usize,
}

fn scalar_of(ty: &str, size: usize) -> Option<Scalar> {
    Some(match (ty, size) {
        ("F", 4) => Scalar::F32,
        ("F", 8) => Scalar::F64,
        ("I", 1) => Scalar::I8,
        ("I", 2) => Scalar::I16,
        ("I", 4) => Scalar::I32,
        ("I", 8) => Scalar::I64,
        ("U", 1) => Scalar::U8,
        ("U", 2) => Scalar::U16,
        ("U", 4) => Scalar::U32,
        ("U", 8) => Scalar::U64,
        _ => return None,
    })
}

fn parse_header(path: &Path, bytes: &[u8]) -> Result<Header> {
    let mut names: Option<(usize, Vec<String>)> = None;
    let mut sizes: Option<(usize, Vec<usize>)> = None;
    let mut types: Option<(usize, Vec<String>)> = None;
    let mut counts: Option<(usize, Vec<usize>)> = None;
    let (mut width, mut height, mut points) = (None, None, None);
    let mut offset = 0;
    let mut line_no = 0;
    while offset < bytes.len() {
        line_no += 1;
        let end = bytes[offset..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |p| offset + p);
        let raw = &bytes[offset..end];
        offset = (end + 1).min(bytes.len());
        let line = std::str::from_utf8(raw)
            .map_err(|_| Error::line(path, line_no, "header line is not text: not a PCD file?"))?
            .trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let key = words.next().unwrap_or_default().to_ascii_uppercase();
        let rest: Vec<&str> = words.collect();
        let numbers = |what: &str| -> Result<Vec<usize>> {
            rest.iter()
                .map(|w| {
                    w.parse::<usize>().map_err(|_| {
                        Error::line(
                            path,
                            line_no,
                            format!("{what}: '{w}' is not a whole number"),
                        )
                    })
                })
                .collect()
        };
        let one = |what: &str| -> Result<usize> {
            match numbers(what)?.as_slice() {
                [v] => Ok(*v),
                _ => Err(Error::line(
                    path,
                    line_no,
                    format!("{what} takes one number"),
                )),
            }
        };
        match key.as_str() {
            "VERSION" | "VIEWPOINT" => {}
            "FIELDS" | "COLUMNS" => {
                names = Some((line_no, rest.iter().map(|s| s.to_string()).collect()))
            }
            "SIZE" => sizes = Some((line_no, numbers("SIZE")?)),
            "TYPE" => {
                types = Some((
                    line_no,
                    rest.iter().map(|s| s.to_ascii_uppercase()).collect(),
                ))
            }
            "COUNT" => counts = Some((line_no, numbers("COUNT")?)),
            "WIDTH" => width = Some(one("WIDTH")?),
            "HEIGHT" => height = Some(one("HEIGHT")?),
            "POINTS" => points = Some(one("POINTS")?),
            "DATA" => {
                let data = match rest.first().map(|s| s.to_ascii_lowercase()).as_deref() {
                    Some("ascii") => DataKind::Ascii,
                    Some("binary") => DataKind::Binary,
                    Some("binary_compressed") => DataKind::BinaryCompressed,
                    other => {
                        return Err(Error::line(
                            path,
                            line_no,
                            format!(
                                "DATA '{}' is not one of ascii, binary, binary_compressed",
                                other.unwrap_or("")
                            ),
                        ))
                    }
                };
                let (_, names) = names.ok_or_else(|| {
                    Error::line(path, line_no, "header has no FIELDS line before DATA")
                })?;
                let (size_line, sizes) = sizes.ok_or_else(|| {
                    Error::line(path, line_no, "header has no SIZE line before DATA")
                })?;
                let (type_line, types) = types.ok_or_else(|| {
                    Error::line(path, line_no, "header has no TYPE line before DATA")
                })?;
                let (count_line, counts) = counts.unwrap_or((0, vec![1; names.len()]));
                for (line, what, len) in [
                    (size_line, "SIZE", sizes.len()),
                    (type_line, "TYPE", types.len()),
                    (count_line, "COUNT", counts.len()),
                ] {
                    if len != names.len() {
                        return Err(Error::line(
                            path,
                            line,
                            format!("{what} has {len} entries for {} FIELDS", names.len()),
                        ));
                    }
                }
                let mut fields = Vec::with_capacity(names.len());
                for i in 0..names.len() {
                    let scalar = scalar_of(&types[i], sizes[i]).ok_or_else(|| {
                        Error::line(
                            path,
                            type_line,
                            format!(
                                "field '{}': TYPE {} with SIZE {} is not a valid PCD type",
                                names[i], types[i], sizes[i]
                            ),
                        )
                    })?;
                    if counts[i] == 0 {
                        return Err(Error::line(
                            path,
                            count_line,
                            format!("field '{}' has COUNT 0", names[i]),
                        ));
                    }
                    fields.push(Field {
                        name: names[i].clone(),
                        scalar,
                        count: counts[i],
                    });
                }
                for axis in ["x", "y", "z"] {
                    if !fields.iter().any(|f| f.name.eq_ignore_ascii_case(axis)) {
                        return Err(Error::line(
                            path,
                            type_line.max(1),
                            format!("FIELDS has no '{axis}': x, y and z are required"),
                        ));
                    }
                }
                let points = match (points, width, height) {
                    (Some(p), _, _) => p,
                    (None, Some(w), Some(h)) => w * h,
                    _ => {
                        return Err(Error::line(
                            path,
                            line_no,
                            "header has neither POINTS nor WIDTH and HEIGHT",
                        ))
                    }
                };
                return Ok(Header {
                    fields,
                    points,
                    data,
                    data_offset: offset,
                    data_line: line_no,
                });
            }
            _ => {
                return Err(Error::line(
                    path,
                    line_no,
                    format!("unknown PCD header line '{}'", truncate(line)),
                ))
            }
        }
    }
    Err(Error::format(
        path,
        "PCD header has no DATA line: not a PCD file, or truncated header",
    ))
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Parses PCD bytes (`path` only names the file in errors).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<LoadedScan> {
    let header = parse_header(path, bytes)?;
    let n = header.points;
    let roles: Vec<Option<Role>> = header
        .fields
        .iter()
        .map(|f| Role::from_name(&f.name))
        .collect();
    let present: Vec<Role> = roles.iter().flatten().copied().collect();
    let mut columns = Columns::with_roles(&present, n.min(bytes.len()));
    columns.time_in_nanoseconds = header
        .fields
        .iter()
        .zip(&roles)
        .any(|(f, r)| *r == Some(Role::Time) && f.scalar.is_integer());
    let data = &bytes[header.data_offset..];
    let stride: usize = header
        .fields
        .iter()
        .map(|f| f.scalar.size() * f.count)
        .sum();
    match header.data {
        DataKind::Ascii => {
            let text = String::from_utf8_lossy(data);
            let values_per_point: usize = header.fields.iter().map(|f| f.count).sum();
            let mut lines = text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty());
            for i in 0..n {
                let (k, line) = lines.next().ok_or_else(|| {
                    Error::format(
                        path,
                        format!("file ends after {i} of the {n} points its header promises"),
                    )
                })?;
                let line_no = header.data_line + k + 1;
                let words: Vec<&str> = line.split_whitespace().collect();
                if words.len() != values_per_point {
                    return Err(Error::line(
                        path,
                        line_no,
                        format!("{} values, expected {values_per_point}", words.len()),
                    ));
                }
                let mut w = 0;
                for (field, role) in header.fields.iter().zip(&roles) {
                    if let Some(role) = role {
                        let v = field.scalar.parse_text(words[w]).ok_or_else(|| {
                            Error::line(
                                path,
                                line_no,
                                format!("'{}' is not a valid {}", words[w], field.name),
                            )
                        })?;
                        columns.push(*role, v);
                    }
                    w += field.count;
                }
            }
        }
        DataKind::Binary => {
            let needed = n.saturating_mul(stride);
            if data.len() < needed {
                return Err(Error::format(
                    path,
                    format!(
                        "file is shorter than its header promises: {} bytes of data for {n} points of {stride} bytes ({needed} bytes)",
                        data.len()
                    ),
                ));
            }
            for record in data[..needed].chunks_exact(stride.max(1)) {
                let mut off = 0;
                for (field, role) in header.fields.iter().zip(&roles) {
                    if let Some(role) = role {
                        columns.push(*role, field.scalar.decode(&record[off..], false));
                    }
                    off += field.scalar.size() * field.count;
                }
            }
        }
        DataKind::BinaryCompressed => {
            if data.len() < 8 {
                return Err(Error::format(
                    path,
                    "binary_compressed data is missing its size words",
                ));
            }
            let packed = u32::from_le_bytes(data[0..4].try_into().expect("4 bytes")) as usize;
            let unpacked = u32::from_le_bytes(data[4..8].try_into().expect("4 bytes")) as usize;
            let needed = n.saturating_mul(stride);
            if unpacked != needed {
                return Err(Error::format(
                    path,
                    format!("binary_compressed data unpacks to {unpacked} bytes, but {n} points of {stride} bytes need {needed}"),
                ));
            }
            let body = data.get(8..8 + packed).ok_or_else(|| {
                Error::format(
                    path,
                    format!(
                        "file is shorter than its header promises: {} compressed bytes announced, {} present",
                        packed,
                        data.len() - 8
                    ),
                )
            })?;
            let raw = lzf::decompress(body, unpacked).ok_or_else(|| {
                Error::format(
                    path,
                    "binary_compressed data is corrupt (LZF stream does not decode)",
                )
            })?;
            let mut field_offset = 0;
            let mut per_role: Vec<(Role, Vec<f64>)> = Vec::new();
            for (field, role) in header.fields.iter().zip(&roles) {
                let width = field.scalar.size() * field.count;
                if let Some(role) = role {
                    let col = (0..n)
                        .map(|i| field.scalar.decode(&raw[field_offset + i * width..], false))
                        .collect();
                    per_role.push((*role, col));
                }
                field_offset += width * n;
            }
            for (role, col) in per_role {
                for v in col {
                    columns.push(role, v);
                }
            }
        }
    }
    columns.into_scan(path)
}

/// Reads a PCD file.
pub fn read(path: &Path) -> Result<LoadedScan> {
    parse(path, &read_bytes(path)?)
}

/// Writes a PCD file with fields x y z (float32), and intensity (float32), t (float32,
/// seconds) and ring (uint16) when the cloud has them.
pub fn write(path: &Path, cloud: &PointCloud, kind: DataKind) -> Result<()> {
    let mut names = vec!["x", "y", "z"];
    let mut sizes = vec!["4", "4", "4"];
    let mut types = vec!["F", "F", "F"];
    for (present, name, size, ty) in [
        (cloud.intensity().is_some(), "intensity", "4", "F"),
        (cloud.time().is_some(), "t", "4", "F"),
        (cloud.ring().is_some(), "ring", "2", "U"),
    ] {
        if present {
            names.push(name);
            sizes.push(size);
            types.push(ty);
        }
    }
    let n = cloud.len();
    let mode = match kind {
        DataKind::Ascii => "ascii",
        DataKind::Binary => "binary",
        DataKind::BinaryCompressed => "binary_compressed",
    };
    let header = format!(
        "# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\nFIELDS {}\nSIZE {}\nTYPE {}\nCOUNT {}\nWIDTH {n}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {n}\nDATA {mode}\n",
        names.join(" "),
        sizes.join(" "),
        types.join(" "),
        vec!["1"; names.len()].join(" ")
    );
    // Columns as little-endian bytes, in field order.
    let mut columns: Vec<(usize, Vec<u8>)> = Vec::new();
    let f32col = |f: &dyn Fn(usize) -> f32| -> (usize, Vec<u8>) {
        (4, (0..n).flat_map(|i| f(i).to_le_bytes()).collect())
    };
    let pts = cloud.points();
    columns.push(f32col(&|i| pts[i].x as f32));
    columns.push(f32col(&|i| pts[i].y as f32));
    columns.push(f32col(&|i| pts[i].z as f32));
    if let Some(v) = cloud.intensity() {
        columns.push(f32col(&|i| v[i]));
    }
    if let Some(v) = cloud.time() {
        columns.push(f32col(&|i| v[i]));
    }
    if let Some(v) = cloud.ring() {
        columns.push((2, v.iter().flat_map(|r| r.to_le_bytes()).collect()));
    }
    atomic::write_with(path, |w| {
        w.write_all(header.as_bytes())?;
        match kind {
            DataKind::Ascii => {
                for i in 0..n {
                    let line: Vec<String> = columns
                        .iter()
                        .map(|(size, bytes)| {
                            let b = &bytes[i * size..(i + 1) * size];
                            if *size == 4 {
                                f32::from_le_bytes(b.try_into().expect("4 bytes")).to_string()
                            } else {
                                u16::from_le_bytes(b.try_into().expect("2 bytes")).to_string()
                            }
                        })
                        .collect();
                    writeln!(w, "{}", line.join(" "))?;
                }
            }
            DataKind::Binary => {
                for i in 0..n {
                    for (size, bytes) in &columns {
                        w.write_all(&bytes[i * size..(i + 1) * size])?;
                    }
                }
            }
            DataKind::BinaryCompressed => {
                let raw: Vec<u8> = columns
                    .iter()
                    .flat_map(|(_, b)| b.iter().copied())
                    .collect();
                let packed = lzf::compress(&raw);
                w.write_all(&(packed.len() as u32).to_le_bytes())?;
                w.write_all(&(raw.len() as u32).to_le_bytes())?;
                w.write_all(&packed)?;
            }
        }
        Ok(())
    })
}
