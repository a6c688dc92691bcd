//! A synthetic sequence written as a ROS 2 bag in one MCAP file: `sensor_msgs/msg/PointCloud2`
//! messages in CDR on `/points` (x y z intensity float32, `t` uint32 nanoseconds from the
//! scan's start, as an Ouster driver publishes them), zstd chunks, with the exact reference
//! poses beside it in `poses.txt`. Scans are cast and written one at a time, so a sequence of
//! any length is written in flat memory: the long recordings the readers' benchmarks need.

use super::{Sequence, SynthParams, SynthReport};
use crate::cloud::PointCloud;
use crate::error::{Error, Result};
use crate::io::trajectory::{self, Trajectory};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::BufWriter;
use std::path::Path;

/// The topic the scans are written on.
pub const TOPIC: &str = "/points";
/// The frame id of every scan.
const FRAME_ID: &str = "lidar";

/// The ROS 2 message definition of `sensor_msgs/msg/PointCloud2`, with its dependencies, as
/// `ros2 bag record` stores it in an MCAP schema (`ros2msg` encoding).
const POINTCLOUD2_SCHEMA: &str = "\
std_msgs/Header header
uint32 height
uint32 width
PointField[] fields
bool    is_bigendian
uint32  point_step
uint32  row_step
uint8[] data
bool is_dense
================================================================================
MSG: std_msgs/Header
builtin_interfaces/Time stamp
string frame_id
================================================================================
MSG: builtin_interfaces/Time
int32 sec
uint32 nanosec
================================================================================
MSG: sensor_msgs/PointField
uint8 INT8    = 1
uint8 UINT8   = 2
uint8 INT16   = 3
uint8 UINT16  = 4
uint8 INT32   = 5
uint8 UINT32  = 6
uint8 FLOAT32 = 7
uint8 FLOAT64 = 8
string name
uint32 offset
uint8  datatype
uint32 count
";

/// Writes the sequence `params` describes into the MCAP file `out` (and `poses.txt`,
/// `times.txt` beside it, named after it: `OUT.poses.txt`, `OUT.times.txt`).
pub fn write_mcap(out: &Path, params: &SynthParams) -> Result<SynthReport> {
    let seq = Sequence::new(params.clone())?;
    let file = std::fs::File::create(out).map_err(|e| Error::io(out, e))?;
    let mcap_err = |e: ::mcap::McapError| Error::format(out, format!("writing MCAP: {e}"));
    let mut writer = ::mcap::WriteOptions::new()
        .profile("ros2")
        .compression(Some(::mcap::Compression::Zstd))
        .create(BufWriter::new(file))
        .map_err(mcap_err)?;
    let schema = writer
        .add_schema(
            "sensor_msgs/msg/PointCloud2",
            "ros2msg",
            POINTCLOUD2_SCHEMA.as_bytes(),
        )
        .map_err(mcap_err)?;
    let channel = writer
        .add_channel(schema, TOPIC, "cdr", &BTreeMap::new())
        .map_err(mcap_err)?;
    let mut reference = Trajectory::default();
    let mut points = 0;
    // Scans are cast in parallel a batch at a time and written in order: memory holds one
    // batch, whatever the sequence's length.
    let batch = 2 * rayon::current_num_threads().max(1);
    for first in (0..seq.len()).step_by(batch) {
        let end = (first + batch).min(seq.len());
        let messages: Vec<(usize, Vec<u8>)> = (first..end)
            .into_par_iter()
            .map(|i| {
                let cloud = seq.scan(i);
                let mut message = Vec::new();
                encode_pointcloud2(&cloud, &mut message);
                (cloud.len(), message)
            })
            .collect();
        for (i, (n, message)) in (first..end).zip(messages) {
            points += n;
            let ns = (seq.stamp(i) * 1e9).round() as u64;
            let header = ::mcap::records::MessageHeader {
                channel_id: channel,
                sequence: i as u32,
                log_time: ns,
                publish_time: ns,
            };
            writer
                .write_to_known_channel(&header, &message)
                .map_err(mcap_err)?;
            reference.push(seq.stamp(i), seq.reference_pose(i));
        }
    }
    writer.finish().map_err(mcap_err)?;
    let beside = |suffix: &str| {
        let mut name = out.file_name().unwrap_or_default().to_os_string();
        name.push(suffix);
        out.with_file_name(name)
    };
    trajectory::write_kitti(&beside(".poses.txt"), &reference)?;
    let times: String = reference.stamps.iter().map(|t| format!("{t}\n")).collect();
    crate::io::atomic::write_bytes(&beside(".times.txt"), times.as_bytes())?;
    Ok(SynthReport {
        frames: seq.len(),
        points,
        path_length: reference.path_length(),
    })
}

/// Encodes `cloud` as a little-endian CDR `sensor_msgs/msg/PointCloud2` into `out`
/// (replacing its content): height 1, fields x y z intensity (float32) and `t` (uint32
/// nanoseconds after the stamp).
pub fn encode_pointcloud2(cloud: &PointCloud, out: &mut Vec<u8>) {
    out.clear();
    // Encapsulation: CDR, little endian. Alignment counts from after these 4 bytes.
    out.extend_from_slice(&[0, 1, 0, 0]);
    let mut w = Cdr { out };
    let stamp = cloud.stamp;
    let sec = stamp.floor();
    w.u32(sec as i32 as u32);
    w.u32(((stamp - sec) * 1e9).round().min(999_999_999.0) as u32);
    w.string(FRAME_ID);
    w.u32(1);
    w.u32(cloud.len() as u32);
    let fields: [(&str, u32, u8); 5] = [
        ("x", 0, 7),
        ("y", 4, 7),
        ("z", 8, 7),
        ("intensity", 12, 7),
        ("t", 16, 6),
    ];
    w.u32(fields.len() as u32);
    for (name, offset, datatype) in fields {
        w.string(name);
        w.u32(offset);
        w.u8(datatype);
        w.u32(1);
    }
    w.u8(0);
    let point_step = 20u32;
    w.u32(point_step);
    w.u32(point_step * cloud.len() as u32);
    w.u32(point_step * cloud.len() as u32);
    let intensity = cloud.intensity();
    let time = cloud.time();
    for (k, p) in cloud.points().iter().enumerate() {
        for v in [p.x as f32, p.y as f32, p.z as f32] {
            w.out.extend_from_slice(&v.to_le_bytes());
        }
        let i = intensity.map_or(0.0, |v| v[k]);
        w.out.extend_from_slice(&i.to_le_bytes());
        let t = time.map_or(0, |v| (v[k].max(0.0) as f64 * 1e9).round() as u32);
        w.out.extend_from_slice(&t.to_le_bytes());
    }
    w.u8(1);
}

/// A little-endian CDR writer over a buffer that starts with the 4-byte encapsulation.
struct Cdr<'a> {
    out: &'a mut Vec<u8>,
}

impl Cdr<'_> {
    fn align(&mut self, n: usize) {
        while (self.out.len() - 4) % n != 0 {
            self.out.push(0);
        }
    }
    fn u8(&mut self, v: u8) {
        self.out.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.align(4);
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn string(&mut self, s: &str) {
        self.u32(s.len() as u32 + 1);
        self.out.extend_from_slice(s.as_bytes());
        self.out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Point3;

    #[test]
    fn pointcloud2_layout_is_aligned_cdr() {
        let cloud = PointCloud::new(vec![Point3::new(1.0, 2.0, 3.0)])
            .with_intensity(vec![5.0])
            .unwrap()
            .with_time(vec![0.05])
            .unwrap()
            .with_stamp(12.25);
        let mut m = Vec::new();
        encode_pointcloud2(&cloud, &mut m);
        assert_eq!(&m[..4], &[0, 1, 0, 0]);
        assert_eq!(u32::from_le_bytes(m[4..8].try_into().unwrap()), 12);
        assert_eq!(
            u32::from_le_bytes(m[8..12].try_into().unwrap()),
            250_000_000
        );
        // frame id "lidar\0" (6 bytes) then padding to 4 before height.
        assert_eq!(u32::from_le_bytes(m[12..16].try_into().unwrap()), 6);
        assert_eq!(&m[16..22], b"lidar\0");
        assert_eq!(u32::from_le_bytes(m[24..28].try_into().unwrap()), 1);
        // The point's data: the last 20 bytes before is_dense.
        let data = &m[m.len() - 21..m.len() - 1];
        assert_eq!(f32::from_le_bytes(data[8..12].try_into().unwrap()), 3.0);
        // Point times are f32 seconds in the cloud, so 0.05 s is 50 ms to within a nanosecond.
        let t = u32::from_le_bytes(data[16..20].try_into().unwrap());
        assert!(t.abs_diff(50_000_000) <= 1, "t = {t} ns");
        assert_eq!(m[m.len() - 1], 1);
    }
}
