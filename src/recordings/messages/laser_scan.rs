//! `sensor_msgs/LaserScan` to a planar [`PointCloud`] (z = 0): beam `i` at angle
//! `angle_min + i·angle_increment`, measured `i·time_increment` after the stamp.

use super::{DecodeError, DecodeResult, Encoding, Header, MessageReader};
use crate::cloud::PointCloud;
use nalgebra::Point3;

/// A parsed `sensor_msgs/LaserScan`.
#[derive(Debug, Clone, PartialEq)]
pub struct LaserScan {
    /// The message header (stamp of the first beam, frame).
    pub header: Header,
    /// Angle of the first beam, radians.
    pub angle_min: f32,
    /// Angle of the last beam, radians.
    pub angle_max: f32,
    /// Angle between beams, radians.
    pub angle_increment: f32,
    /// Time between beams, seconds.
    pub time_increment: f32,
    /// Time between scans, seconds.
    pub scan_time: f32,
    /// Shortest valid range, metres.
    pub range_min: f32,
    /// Longest valid range, metres.
    pub range_max: f32,
    /// One range per beam, metres.
    pub ranges: Vec<f32>,
    /// One intensity per beam, or none.
    pub intensities: Vec<f32>,
}

/// Reads a `sensor_msgs/LaserScan`.
pub fn parse(r: &mut MessageReader) -> DecodeResult<LaserScan> {
    Ok(LaserScan {
        header: r.header()?,
        angle_min: r.f32("angle_min")?,
        angle_max: r.f32("angle_max")?,
        angle_increment: r.f32("angle_increment")?,
        time_increment: r.f32("time_increment")?,
        scan_time: r.f32("scan_time")?,
        range_min: r.f32("range_min")?,
        range_max: r.f32("range_max")?,
        ranges: r.f32_seq("ranges")?,
        intensities: r.f32_seq("intensities")?,
    })
}

/// A planar scan decoded into a cloud.
#[derive(Debug, Clone)]
pub struct DecodedScan {
    /// The returns, z = 0, stamped with the header stamp, per-point times from it.
    pub cloud: PointCloud,
    /// Beams without a return (NaN, ≤ 0, outside `[range_min, range_max]`).
    pub no_return: usize,
}

/// Decodes a serialized `sensor_msgs/LaserScan` into a cloud.
pub fn decode(bytes: &[u8], encoding: Encoding) -> DecodeResult<DecodedScan> {
    let mut r = MessageReader::new(bytes, encoding)?;
    to_cloud(&parse(&mut r)?)
}

/// The returns of a scan as points; intensities kept when there is one per beam.
pub fn to_cloud(scan: &LaserScan) -> DecodeResult<DecodedScan> {
    if !scan.angle_min.is_finite() || !scan.angle_increment.is_finite() {
        return Err(DecodeError(format!(
            "angle_min {} / angle_increment {} are not finite",
            scan.angle_min, scan.angle_increment
        )));
    }
    let with_intensity = scan.intensities.len() == scan.ranges.len();
    let time_increment = if scan.time_increment.is_finite() {
        scan.time_increment as f64
    } else {
        0.0
    };
    let n = scan.ranges.len();
    let mut points = Vec::with_capacity(n);
    let mut times = Vec::with_capacity(n);
    let mut intensities = Vec::with_capacity(if with_intensity { n } else { 0 });
    let mut no_return = 0;
    for (i, &range) in scan.ranges.iter().enumerate() {
        // A NaN limit limits nothing.
        let valid = range.is_finite()
            && range > 0.0
            && (scan.range_min.is_nan() || range >= scan.range_min)
            && (scan.range_max.is_nan() || range <= scan.range_max);
        if !valid {
            no_return += 1;
            continue;
        }
        let angle = scan.angle_min as f64 + i as f64 * scan.angle_increment as f64;
        let r = range as f64;
        points.push(Point3::new(r * angle.cos(), r * angle.sin(), 0.0));
        times.push((i as f64 * time_increment) as f32);
        if with_intensity {
            intensities.push(scan.intensities[i]);
        }
    }
    let bad = |e: crate::error::Error| DecodeError(e.to_string());
    let mut cloud = PointCloud::new(points)
        .with_stamp(scan.header.stamp)
        .with_sensor(scan.header.frame_id.clone())
        .with_time(times)
        .map_err(bad)?;
    if with_intensity {
        cloud = cloud.with_intensity(intensities).map_err(bad)?;
    }
    Ok(DecodedScan { cloud, no_return })
}

#[cfg(test)]
mod tests {
    use super::super::write::Writer;
    use super::*;

    fn scan(enc: Encoding, be: bool, ranges: &[f32], intensities: &[f32]) -> Vec<u8> {
        let mut w = Writer::new(enc, be);
        w.header(5, 0, "laser");
        for v in [
            -std::f32::consts::FRAC_PI_2,
            std::f32::consts::FRAC_PI_2,
            std::f32::consts::FRAC_PI_2,
            0.01,
            0.1,
            0.5,
            10.0,
        ] {
            w.f32(v);
        }
        w.u32(ranges.len() as u32);
        for r in ranges {
            w.f32(*r);
        }
        w.u32(intensities.len() as u32);
        for i in intensities {
            w.f32(*i);
        }
        w.buf
    }

    #[test]
    fn beams_become_planar_points_and_no_returns_are_dropped() {
        for (enc, be) in [
            (Encoding::Ros1, false),
            (Encoding::Cdr, false),
            (Encoding::Cdr, true),
        ] {
            let msg = scan(
                enc,
                be,
                &[2.0, f32::NAN, 3.0, 0.2, 11.0],
                &[1., 2., 3., 4., 5.],
            );
            let d = decode(&msg, enc).unwrap();
            assert_eq!(d.no_return, 3);
            let c = &d.cloud;
            assert_eq!(c.len(), 2);
            // Beam 0 at -90°, beam 2 at +90°.
            assert!((c.points()[0] - Point3::new(0.0, -2.0, 0.0)).norm() < 1e-6);
            assert!((c.points()[1] - Point3::new(0.0, 3.0, 0.0)).norm() < 1e-6);
            assert_eq!(c.time().unwrap(), &[0.0, 0.02]);
            assert_eq!(c.intensity().unwrap(), &[1.0, 3.0]);
            assert_eq!(c.stamp, 5.0);
        }
        let msg = scan(Encoding::Ros1, false, &[1.0, 0.0], &[]);
        let d = decode(&msg, Encoding::Ros1).unwrap();
        assert_eq!((d.cloud.len(), d.no_return), (1, 1));
        assert!(d.cloud.intensity().is_none());
    }
}
