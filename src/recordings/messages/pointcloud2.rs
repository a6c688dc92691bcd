//! `sensor_msgs/PointCloud2` to a [`PointCloud`]: any layout (either endianness, any
//! `point_step` and `row_step`, height > 1, padding), x y z in any numeric type, intensity or
//! reflectivity, ring, and the per-point time conventions of the common drivers, converted to
//! seconds relative to the header stamp.

use super::{DecodeError, DecodeResult, Encoding, Header, MessageReader};
use crate::cloud::PointCloud;
use nalgebra::Point3;

/// One `sensor_msgs/PointField`.
#[derive(Debug, Clone, PartialEq)]
pub struct PointField {
    /// Field name (`x`, `intensity`, `t`...).
    pub name: String,
    /// Byte offset in a point.
    pub offset: u32,
    /// `INT8 = 1` … `FLOAT64 = 8`.
    pub datatype: u8,
    /// Elements in the field (1 for scalars).
    pub count: u32,
}

/// A parsed `sensor_msgs/PointCloud2`, its data borrowed from the message.
#[derive(Debug, Clone)]
pub struct PointCloud2<'a> {
    /// The message header (stamp, frame).
    pub header: Header,
    /// Rows (1 for unorganized clouds).
    pub height: u32,
    /// Points per row.
    pub width: u32,
    /// The layout of a point.
    pub fields: Vec<PointField>,
    /// Multi-byte values are big endian.
    pub is_bigendian: bool,
    /// Bytes per point.
    pub point_step: u32,
    /// Bytes per row.
    pub row_step: u32,
    /// The points.
    pub data: &'a [u8],
    /// The publisher's claim that no point is invalid.
    pub is_dense: bool,
}

/// A cloud decoded from a message, with what was dropped and where its times came from.
#[derive(Debug, Clone)]
pub struct DecodedCloud {
    /// The points, stamped with the header stamp, times relative to it.
    pub cloud: PointCloud,
    /// Points dropped because a coordinate was NaN or infinite.
    pub dropped_non_finite: usize,
    /// The field(s) per-point times came from (`t`, `time_sec+time_nsec`...).
    pub time_field: Option<String>,
}

/// Reads a `sensor_msgs/PointCloud2`.
pub fn parse<'a>(r: &mut MessageReader<'a>) -> DecodeResult<PointCloud2<'a>> {
    let header = r.header()?;
    let height = r.u32("height")?;
    let width = r.u32("width")?;
    let n_fields = r.seq_len(9, "fields")?;
    let mut fields = Vec::with_capacity(n_fields);
    for _ in 0..n_fields {
        let name = r.string("field name")?;
        let offset = r.u32("field offset")?;
        let datatype = r.u8("field datatype")?;
        let count = r.u32("field count")?;
        fields.push(PointField {
            name,
            offset,
            datatype,
            count,
        });
    }
    let is_bigendian = r.u8("is_bigendian")? != 0;
    let point_step = r.u32("point_step")?;
    let row_step = r.u32("row_step")?;
    let data = r.byte_seq("data")?;
    let is_dense = r.u8("is_dense").map(|b| b != 0).unwrap_or(false);
    Ok(PointCloud2 {
        header,
        height,
        width,
        fields,
        is_bigendian,
        point_step,
        row_step,
        data,
        is_dense,
    })
}

/// Decodes a serialized `sensor_msgs/PointCloud2` into a cloud.
pub fn decode(bytes: &[u8], encoding: Encoding) -> DecodeResult<DecodedCloud> {
    let mut r = MessageReader::new(bytes, encoding)?;
    to_cloud(&parse(&mut r)?)
}

/// The numeric types of a point field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Datatype {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    F32,
    F64,
}

impl Datatype {
    fn from_code(code: u8) -> Option<Datatype> {
        Some(match code {
            1 => Datatype::I8,
            2 => Datatype::U8,
            3 => Datatype::I16,
            4 => Datatype::U16,
            5 => Datatype::I32,
            6 => Datatype::U32,
            7 => Datatype::F32,
            8 => Datatype::F64,
            _ => return None,
        })
    }

    fn size(self) -> usize {
        match self {
            Datatype::I8 | Datatype::U8 => 1,
            Datatype::I16 | Datatype::U16 => 2,
            Datatype::I32 | Datatype::U32 | Datatype::F32 => 4,
            Datatype::F64 => 8,
        }
    }

    fn is_float(self) -> bool {
        matches!(self, Datatype::F32 | Datatype::F64)
    }
}

/// Where one scalar sits in a point, checked to lie inside `point_step`.
#[derive(Debug, Clone, Copy)]
struct Accessor {
    offset: usize,
    datatype: Datatype,
    big_endian: bool,
}

impl Accessor {
    /// The value in `point` (a slice of exactly `point_step` bytes; the accessor was checked
    /// against it). Inlined at every call site, so each field's type test is its own,
    /// perfectly predicted branch in the per-point loop.
    #[inline(always)]
    fn get(&self, point: &[u8]) -> f64 {
        let o = self.offset;
        macro_rules! read {
            ($t:ty, $n:expr) => {{
                let mut b = [0u8; $n];
                b.copy_from_slice(&point[o..o + $n]);
                if self.big_endian {
                    <$t>::from_be_bytes(b) as f64
                } else {
                    <$t>::from_le_bytes(b) as f64
                }
            }};
        }
        match self.datatype {
            Datatype::I8 => point[o] as i8 as f64,
            Datatype::U8 => point[o] as f64,
            Datatype::I16 => read!(i16, 2),
            Datatype::U16 => read!(u16, 2),
            Datatype::I32 => read!(i32, 4),
            Datatype::U32 => read!(u32, 4),
            Datatype::F32 => read!(f32, 4),
            Datatype::F64 => read!(f64, 8),
        }
    }
}

/// A little-endian float32 at `offset` of `point` (checked against `point_step`).
#[inline(always)]
fn f32_le(point: &[u8], offset: usize) -> f64 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&point[offset..offset + 4]);
    f32::from_le_bytes(b) as f64
}

/// How a cloud's per-point times are written.
#[derive(Debug, Clone, Copy)]
enum TimeSource {
    /// One field; integers are nanoseconds, floats seconds. `absolute_by_name`: the
    /// convention of this name is absolute time (Hesai's `timestamp`, a float `time_stamp`).
    Single {
        field: Accessor,
        absolute_by_name: bool,
    },
    /// Absolute time split in whole seconds and nanoseconds (`time_sec` + `time_nsec`).
    Split { sec: Accessor, nsec: Accessor },
}

impl TimeSource {
    /// Seconds as written (relative or absolute).
    #[inline(always)]
    fn seconds(&self, point: &[u8]) -> f64 {
        match self {
            TimeSource::Single { field, .. } => {
                let v = field.get(point);
                if field.datatype.is_float() {
                    v
                } else {
                    v * 1e-9
                }
            }
            TimeSource::Split { sec, nsec } => sec.get(point) + nsec.get(point) * 1e-9,
        }
    }
}

/// Decodes the points of a parsed message. A field of unknown type or one that runs past
/// `point_step`, data shorter than the layout says, or no x y z: an error saying which.
pub fn to_cloud(msg: &PointCloud2) -> DecodeResult<DecodedCloud> {
    let point_step = msg.point_step as usize;
    let mut layout = Vec::with_capacity(msg.fields.len());
    for f in &msg.fields {
        let datatype = Datatype::from_code(f.datatype).ok_or_else(|| {
            DecodeError(format!(
                "field '{}' has unknown datatype {} (PointField types are 1..=8)",
                f.name, f.datatype
            ))
        })?;
        let end = (f.offset as u64) + (datatype.size() as u64) * (f.count.max(1) as u64);
        if end > point_step as u64 {
            return Err(DecodeError(format!(
                "field '{}' (offset {}, {} bytes) runs past point_step {}",
                f.name,
                f.offset,
                end - f.offset as u64,
                point_step
            )));
        }
        layout.push((
            f.name.as_str(),
            Accessor {
                offset: f.offset as usize,
                datatype,
                big_endian: msg.is_bigendian,
            },
        ));
    }
    let find = |name: &str| layout.iter().find(|(n, _)| *n == name).map(|(_, a)| *a);
    let (Some(x), Some(y), Some(z)) = (find("x"), find("y"), find("z")) else {
        return Err(DecodeError(format!(
            "no x y z fields (fields: {})",
            msg.fields
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        )));
    };
    let intensity = find("intensity").or_else(|| find("reflectivity"));
    let ring = find("ring").or_else(|| find("channel"));
    let (time, time_field) = time_source(&find);

    let (height, width) = (msg.height as usize, msg.width as usize);
    let row_step = msg.row_step as usize;
    let n_points = height
        .checked_mul(width)
        .ok_or_else(|| DecodeError("height × width overflows".into()))?;
    if n_points > 0 {
        if point_step == 0 {
            return Err(DecodeError("point_step is 0".into()));
        }
        let row_bytes = width
            .checked_mul(point_step)
            .ok_or_else(|| DecodeError("width × point_step overflows".into()))?;
        if height > 1 && row_step < row_bytes {
            return Err(DecodeError(format!(
                "row_step {row_step} is shorter than width {width} × point_step {point_step}"
            )));
        }
        // The last row needs only its points, not a whole row_step.
        let needed = (height - 1)
            .checked_mul(row_step)
            .and_then(|b| b.checked_add(row_bytes))
            .ok_or_else(|| DecodeError("the cloud's size overflows".into()))?;
        if needed > msg.data.len() {
            return Err(DecodeError(format!(
                "data holds {} bytes, the layout ({height} × {width} points of {point_step} \
                 bytes, row_step {row_step}) needs {needed}",
                msg.data.len()
            )));
        }
    }

    // The layout nearly every driver writes, read without the per-field type test.
    let xyz_f32_le = [x, y, z]
        .iter()
        .all(|a| a.datatype == Datatype::F32 && !a.big_endian);
    let stamp = msg.header.stamp;
    let absolute = time.map(|t| is_absolute(&t, msg, stamp));
    let mut points = Vec::with_capacity(n_points);
    let mut intensities = intensity.map(|_| Vec::with_capacity(n_points));
    let mut times = time.map(|_| Vec::with_capacity(n_points));
    let mut rings = ring.map(|_| Vec::with_capacity(n_points));
    let mut dropped = 0usize;
    for row in 0..height {
        let row_start = row * row_step;
        for col in 0..width {
            let start = row_start + col * point_step;
            // In bounds: checked above against data's length.
            let Some(p) = msg.data.get(start..start + point_step) else {
                continue;
            };
            let (px, py, pz) = if xyz_f32_le {
                (
                    f32_le(p, x.offset),
                    f32_le(p, y.offset),
                    f32_le(p, z.offset),
                )
            } else {
                (x.get(p), y.get(p), z.get(p))
            };
            if !(px.is_finite() && py.is_finite() && pz.is_finite()) {
                dropped += 1;
                continue;
            }
            points.push(Point3::new(px, py, pz));
            if let (Some(v), Some(a)) = (intensities.as_mut(), intensity) {
                v.push(a.get(p) as f32);
            }
            if let (Some(v), Some(t)) = (times.as_mut(), time) {
                let s = t.seconds(p);
                v.push(if absolute == Some(true) { s - stamp } else { s } as f32);
            }
            if let (Some(v), Some(a)) = (rings.as_mut(), ring) {
                v.push(a.get(p).clamp(0.0, u16::MAX as f64) as u16);
            }
        }
    }
    let mut cloud = PointCloud::new(points)
        .with_stamp(stamp)
        .with_sensor(msg.header.frame_id.clone());
    let bad = |e: crate::error::Error| DecodeError(e.to_string());
    if let Some(v) = intensities {
        cloud = cloud.with_intensity(v).map_err(bad)?;
    }
    if let Some(v) = times {
        cloud = cloud.with_time(v).map_err(bad)?;
    }
    if let Some(v) = rings {
        cloud = cloud.with_ring(v).map_err(bad)?;
    }
    Ok(DecodedCloud {
        cloud,
        dropped_non_finite: dropped,
        time_field: time.and(time_field),
    })
}

/// The per-point time field of a layout, by the drivers' names: `t` (Ouster, ns from the scan
/// start), `time` (Velodyne, s relative), `timestamp` (Hesai, absolute s), `offset_time`
/// (Livox, ns), `time_stamp` (nebula: ns relative; absolute s when a float64), `time_sec` +
/// `time_nsec` (absolute, split).
fn time_source(find: &dyn Fn(&str) -> Option<Accessor>) -> (Option<TimeSource>, Option<String>) {
    for name in ["t", "time", "timestamp", "offset_time", "time_stamp"] {
        if let Some(field) = find(name) {
            let absolute_by_name = match name {
                "timestamp" => true,
                "time_stamp" => field.datatype == Datatype::F64,
                _ => false,
            };
            return (
                Some(TimeSource::Single {
                    field,
                    absolute_by_name,
                }),
                Some(name.to_string()),
            );
        }
    }
    if let (Some(sec), Some(nsec)) = (find("time_sec"), find("time_nsec")) {
        return (
            Some(TimeSource::Split { sec, nsec }),
            Some("time_sec+time_nsec".to_string()),
        );
    }
    (None, None)
}

/// Whether a cloud's times are absolute (to be made relative to the stamp). The name gives
/// the convention; the first point's value overrides it when it plainly disagrees: an
/// "absolute" value nearer zero than the stamp is relative, a "relative" value over a million
/// seconds and nearer the stamp than zero is absolute.
fn is_absolute(time: &TimeSource, msg: &PointCloud2, stamp: f64) -> bool {
    let first = msg
        .data
        .get(..msg.point_step as usize)
        .filter(|_| msg.point_step > 0)
        .map(|p| time.seconds(p))
        .filter(|v| v.is_finite());
    let by_name = match time {
        TimeSource::Single {
            absolute_by_name, ..
        } => *absolute_by_name,
        TimeSource::Split { .. } => true,
    };
    match first {
        None => by_name,
        Some(v) => {
            let nearer_stamp = (v - stamp).abs() < v.abs();
            if by_name {
                nearer_stamp
            } else {
                v.abs() > 1e6 && nearer_stamp
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::write::Writer;
    use super::*;

    /// A field of a hand-built layout: name, offset, datatype.
    type F = (&'static str, u32, u8);

    /// Serializes a PointCloud2 with `points` (each the bytes of one point, already laid out
    /// in the cloud's endianness) in `height` rows of `row_step` bytes.
    #[allow(clippy::too_many_arguments)]
    fn message(
        enc: Encoding,
        cdr_be: bool,
        fields: &[F],
        cloud_be: bool,
        point_step: u32,
        height: u32,
        width: u32,
        row_step: u32,
        data: &[u8],
    ) -> Vec<u8> {
        let mut w = Writer::new(enc, cdr_be);
        w.header(100, 250_000_000, "lidar");
        w.u32(height);
        w.u32(width);
        w.u32(fields.len() as u32);
        for (name, offset, dt) in fields {
            w.string(name);
            w.u32(*offset);
            w.u8(*dt);
            w.u32(1);
        }
        w.u8(cloud_be as u8);
        w.u32(point_step);
        w.u32(row_step);
        w.bytes(data);
        w.u8(1);
        w.buf
    }

    fn put32(buf: &mut Vec<u8>, v: [u8; 4], be: bool) {
        let mut v = v;
        if be {
            v.reverse();
        }
        buf.extend_from_slice(&v);
    }

    fn f32b(v: f32, be: bool) -> Vec<u8> {
        let mut b = Vec::new();
        put32(&mut b, v.to_le_bytes(), be);
        b
    }

    /// x y z float32, 4 padding bytes, intensity float32, t uint32 ns, ring uint16, 2 padding.
    fn ouster_like(be: bool, pts: &[(f32, f32, f32, f32, u32, u16)]) -> (Vec<F>, Vec<u8>) {
        let fields = vec![
            ("x", 0, 7),
            ("y", 4, 7),
            ("z", 8, 7),
            ("intensity", 16, 7),
            ("t", 20, 6),
            ("ring", 24, 4),
        ];
        let mut data = Vec::new();
        for &(x, y, z, i, t, ring) in pts {
            data.extend(f32b(x, be));
            data.extend(f32b(y, be));
            data.extend(f32b(z, be));
            data.extend([0xAA; 4]);
            data.extend(f32b(i, be));
            put32(&mut data, t.to_le_bytes(), be);
            let mut r = ring.to_le_bytes();
            if be {
                r.reverse();
            }
            data.extend(r);
            data.extend([0xBB; 2]);
        }
        (fields, data)
    }

    #[test]
    fn both_endiannesses_padding_and_both_encodings() {
        let pts = [
            (1.0, 2.0, 3.0, 10.0, 0, 0),
            (-4.0, 5.5, 0.25, 20.0, 50_000_000, 15),
        ];
        for enc in [Encoding::Ros1, Encoding::Cdr] {
            for cdr_be in [false, true] {
                for cloud_be in [false, true] {
                    let (fields, data) = ouster_like(cloud_be, &pts);
                    let msg = message(enc, cdr_be, &fields, cloud_be, 28, 1, 2, 56, &data);
                    let d = decode(&msg, enc).unwrap();
                    let c = &d.cloud;
                    assert_eq!(c.len(), 2);
                    assert_eq!(c.points()[1], Point3::new(-4.0, 5.5, 0.25));
                    assert_eq!(c.intensity().unwrap(), &[10.0, 20.0]);
                    assert_eq!(c.ring().unwrap(), &[0, 15]);
                    assert_eq!(c.time().unwrap(), &[0.0, 0.05]);
                    assert_eq!(c.stamp, 100.25);
                    assert_eq!(c.sensor, "lidar");
                    assert_eq!(d.time_field.as_deref(), Some("t"));
                }
            }
        }
    }

    #[test]
    fn float64_xyz_and_organized_rows_with_row_padding() {
        // 2 rows × 2 points of x y z float64 (24 bytes), rows padded to 64 bytes.
        let fields = [("x", 0, 8), ("y", 8, 8), ("z", 16, 8)];
        let mut data = Vec::new();
        for row in 0..2 {
            for col in 0..2 {
                for v in [row as f64, col as f64, 0.5] {
                    data.extend(v.to_le_bytes());
                }
            }
            data.extend([0u8; 16]);
        }
        let msg = message(Encoding::Cdr, false, &fields, false, 24, 2, 2, 64, &data);
        let c = decode(&msg, Encoding::Cdr).unwrap().cloud;
        assert_eq!(
            c.points(),
            &[
                Point3::new(0.0, 0.0, 0.5),
                Point3::new(0.0, 1.0, 0.5),
                Point3::new(1.0, 0.0, 0.5),
                Point3::new(1.0, 1.0, 0.5)
            ]
        );
        assert!(c.time().is_none() && c.intensity().is_none());
    }

    #[test]
    fn reflectivity_and_ring_of_any_integer_type() {
        // x y z float32, reflectivity uint16, ring uint8, big-endian cloud in ROS 1.
        let fields = [
            ("x", 0, 7),
            ("y", 4, 7),
            ("z", 8, 7),
            ("reflectivity", 12, 4),
            ("ring", 14, 2),
        ];
        let mut data = Vec::new();
        for (k, reflectivity, ring) in [(1.5f32, 300u16, 7u8), (2.5, 65535, 127)] {
            data.extend(f32b(k, true));
            data.extend(f32b(0.0, true));
            data.extend(f32b(-k, true));
            data.extend(reflectivity.to_be_bytes());
            data.push(ring);
            data.push(0);
        }
        let msg = message(Encoding::Ros1, false, &fields, true, 16, 1, 2, 32, &data);
        let c = decode(&msg, Encoding::Ros1).unwrap().cloud;
        assert_eq!(c.points()[1], Point3::new(2.5, 0.0, -2.5));
        assert_eq!(c.intensity().unwrap(), &[300.0, 65535.0]);
        assert_eq!(c.ring().unwrap(), &[7, 127]);
        assert!(c.time().is_none());
    }

    #[test]
    fn non_finite_points_are_dropped_and_counted() {
        let pts = [
            (f32::NAN, 0.0, 0.0, 1.0, 0, 0),
            (1.0, f32::INFINITY, 0.0, 1.0, 0, 0),
            (1.0, 1.0, 1.0, 7.0, 0, 3),
        ];
        let (fields, data) = ouster_like(false, &pts);
        let msg = message(Encoding::Ros1, false, &fields, false, 28, 1, 3, 84, &data);
        let d = decode(&msg, Encoding::Ros1).unwrap();
        assert_eq!(d.dropped_non_finite, 2);
        assert_eq!(d.cloud.len(), 1);
        assert_eq!(d.cloud.intensity().unwrap(), &[7.0]);
        assert_eq!(d.cloud.ring().unwrap(), &[3]);
    }

    /// One point at x = 1 with a single time field of `datatype` holding `raw` bytes.
    fn one_time_field(name: &'static str, datatype: u8, raw: &[u8]) -> DecodedCloud {
        let mut fields = vec![("x", 0, 7), ("y", 4, 7), ("z", 8, 7), (name, 12, datatype)];
        let mut data = Vec::new();
        for v in [1.0f32, 0.0, 0.0] {
            data.extend(v.to_le_bytes());
        }
        data.extend(raw);
        if name == "time_sec" {
            fields.push(("time_nsec", 16, 6));
        }
        let step = data.len() as u32;
        let msg = message(
            Encoding::Ros1,
            false,
            &fields,
            false,
            step,
            1,
            1,
            step,
            &data,
        );
        decode(&msg, Encoding::Ros1).unwrap()
    }

    #[test]
    fn every_time_convention_is_relative_to_the_stamp() {
        // The header stamp is 100.25 s.
        let close = |d: &DecodedCloud, want: f32| {
            let t = d.cloud.time().unwrap()[0];
            assert!((t - want).abs() < 1e-6, "{:?}: {t} != {want}", d.time_field);
        };
        // Ouster: t, uint32 ns from the scan start.
        close(&one_time_field("t", 6, &30_000_000u32.to_le_bytes()), 0.03);
        // Velodyne driver: time, float32 s relative (may be negative).
        close(&one_time_field("time", 7, &(-0.02f32).to_le_bytes()), -0.02);
        // Hesai: timestamp, float64 absolute s.
        close(
            &one_time_field("timestamp", 8, &100.30f64.to_le_bytes()),
            0.05,
        );
        // Livox: offset_time, uint32 ns.
        close(
            &one_time_field("offset_time", 6, &70_000_000u32.to_le_bytes()),
            0.07,
        );
        // nebula: time_stamp, uint32 ns relative.
        close(
            &one_time_field("time_stamp", 6, &10_000_000u32.to_le_bytes()),
            0.01,
        );
        // time_stamp as float64 absolute s.
        close(
            &one_time_field("time_stamp", 8, &100.2f64.to_le_bytes()),
            -0.05,
        );
        // Luminar: time_sec + time_nsec, absolute.
        let mut raw = 100u32.to_le_bytes().to_vec();
        raw.extend(260_000_000u32.to_le_bytes());
        let d = one_time_field("time_sec", 6, &raw);
        close(&d, 0.01);
        assert_eq!(d.time_field.as_deref(), Some("time_sec+time_nsec"));
        // A Hesai-named field written relative (small) stays relative.
        close(
            &one_time_field("timestamp", 8, &0.04f64.to_le_bytes()),
            0.04,
        );
    }

    #[test]
    fn bad_layouts_are_refused_with_a_reason() {
        let base = [("x", 0, 7), ("y", 4, 7), ("z", 8, 7)];
        let data = vec![0u8; 12];
        let mut unknown = base.to_vec();
        unknown.push(("intensity", 0, 9));
        let msg = message(Encoding::Ros1, false, &unknown, false, 12, 1, 1, 12, &data);
        assert!(decode(&msg, Encoding::Ros1)
            .unwrap_err()
            .0
            .contains("datatype 9"));
        let mut past = base.to_vec();
        past.push(("intensity", 10, 7));
        let msg = message(Encoding::Ros1, false, &past, false, 12, 1, 1, 12, &data);
        assert!(decode(&msg, Encoding::Ros1)
            .unwrap_err()
            .0
            .contains("point_step"));
        let msg = message(Encoding::Ros1, false, &base, false, 12, 1, 2, 24, &data);
        assert!(decode(&msg, Encoding::Ros1)
            .unwrap_err()
            .0
            .contains("needs 24"));
        let msg = message(
            Encoding::Ros1,
            false,
            &base[..2],
            false,
            12,
            1,
            1,
            12,
            &data,
        );
        assert!(decode(&msg, Encoding::Ros1)
            .unwrap_err()
            .0
            .contains("x y z"));
        let msg = message(
            Encoding::Ros1,
            false,
            &base,
            false,
            12,
            u32::MAX,
            u32::MAX,
            12,
            &data,
        );
        assert!(decode(&msg, Encoding::Ros1).is_err());
        // Cut anywhere, the message is an error, never a panic.
        let whole = message(Encoding::Cdr, false, &base, false, 12, 1, 1, 12, &data);
        for cut in 0..whole.len() - 1 {
            assert!(decode(&whole[..cut], Encoding::Cdr).is_err(), "cut {cut}");
        }
    }
}
