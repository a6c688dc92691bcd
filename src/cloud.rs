//! The point cloud: positions plus optional per-point intensity, time, ring and source (the
//! scan a point came from, in merged maps), the scan's stamp and the sensor's label. Plain data; per-point fields always have one value per
//! point, checked when they are attached.

use crate::error::{Error, Result};
use nalgebra::{Isometry3, Point3};

/// One LiDAR scan.
///
/// ```
/// use lidarflow::cloud::PointCloud;
/// use nalgebra::Point3;
/// let cloud = PointCloud::new(vec![Point3::new(1.0, 2.0, 3.0)])
///     .with_intensity(vec![0.5])
///     .unwrap();
/// assert_eq!(cloud.len(), 1);
/// assert!(cloud.with_time(vec![0.0, 0.1]).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PointCloud {
    points: Vec<Point3<f64>>,
    intensity: Option<Vec<f32>>,
    time: Option<Vec<f32>>,
    ring: Option<Vec<u16>>,
    source: Option<Vec<u32>>,
    /// Reference time of the scan, seconds (unix time or recording time). Per-point times
    /// are relative to it.
    pub stamp: f64,
    /// Label of the sensor that took the scan (free text, e.g. `velodyne`).
    pub sensor: String,
}

impl PointCloud {
    /// A cloud of positions only, stamp 0.
    pub fn new(points: Vec<Point3<f64>>) -> Self {
        PointCloud {
            points,
            ..Default::default()
        }
    }

    fn check_len(&self, what: &str, n: usize) -> Result<()> {
        if n != self.points.len() {
            return Err(Error::Invalid(format!(
                "{what} has {n} values for {} points",
                self.points.len()
            )));
        }
        Ok(())
    }

    /// Attaches per-point intensity (one value per point).
    pub fn with_intensity(mut self, intensity: Vec<f32>) -> Result<Self> {
        self.check_len("intensity", intensity.len())?;
        self.intensity = Some(intensity);
        Ok(self)
    }

    /// Attaches per-point time, seconds relative to [`PointCloud::stamp`].
    pub fn with_time(mut self, time: Vec<f32>) -> Result<Self> {
        self.check_len("time", time.len())?;
        self.time = Some(time);
        Ok(self)
    }

    /// Attaches per-point ring (laser channel) index.
    pub fn with_ring(mut self, ring: Vec<u16>) -> Result<Self> {
        self.check_len("ring", ring.len())?;
        self.ring = Some(ring);
        Ok(self)
    }

    /// Attaches per-point source: the index of the scan or keyframe each point came from
    /// (set when scans are merged into a map).
    pub fn with_source(mut self, source: Vec<u32>) -> Result<Self> {
        self.check_len("source", source.len())?;
        self.source = Some(source);
        Ok(self)
    }

    /// Sets the stamp.
    pub fn with_stamp(mut self, stamp: f64) -> Self {
        self.stamp = stamp;
        self
    }

    /// Sets the sensor label.
    pub fn with_sensor(mut self, sensor: impl Into<String>) -> Self {
        self.sensor = sensor.into();
        self
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// True when the cloud has no points.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Positions, metres, in the sensor frame (or whatever frame the cloud was moved to).
    pub fn points(&self) -> &[Point3<f64>] {
        &self.points
    }

    /// Mutable positions (the number of points cannot change through this).
    pub fn points_mut(&mut self) -> &mut [Point3<f64>] {
        &mut self.points
    }

    /// Per-point intensity, when the sensor gave one.
    pub fn intensity(&self) -> Option<&[f32]> {
        self.intensity.as_deref()
    }

    /// Per-point time, seconds relative to the stamp, when the sensor gave one.
    pub fn time(&self) -> Option<&[f32]> {
        self.time.as_deref()
    }

    /// Per-point ring index, when the sensor gave one.
    pub fn ring(&self) -> Option<&[u16]> {
        self.ring.as_deref()
    }

    /// Per-point source index, if present.
    pub fn source(&self) -> Option<&[u32]> {
        self.source.as_deref()
    }

    /// Names of the fields present, `x y z` first.
    pub fn field_names(&self) -> Vec<&'static str> {
        let mut names = vec!["x", "y", "z"];
        if self.intensity.is_some() {
            names.push("intensity");
        }
        if self.time.is_some() {
            names.push("t");
        }
        if self.ring.is_some() {
            names.push("ring");
        }
        if self.source.is_some() {
            names.push("source");
        }
        names
    }

    /// Keeps the points for which `keep(index, point)` is true, with their per-point fields.
    pub fn retain(&mut self, mut keep: impl FnMut(usize, &Point3<f64>) -> bool) {
        let mask: Vec<bool> = self
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| keep(i, p))
            .collect();
        fn apply<T>(v: &mut Vec<T>, mask: &[bool]) {
            let mut i = 0;
            v.retain(|_| {
                i += 1;
                mask[i - 1]
            });
        }
        apply(&mut self.points, &mask);
        if let Some(v) = self.intensity.as_mut() {
            apply(v, &mask);
        }
        if let Some(v) = self.time.as_mut() {
            apply(v, &mask);
        }
        if let Some(v) = self.ring.as_mut() {
            apply(v, &mask);
        }
        if let Some(v) = self.source.as_mut() {
            apply(v, &mask);
        }
    }

    /// A new cloud holding the points at `indices` (in that order), with their fields.
    pub fn select(&self, indices: &[usize]) -> PointCloud {
        PointCloud {
            points: indices.iter().map(|&i| self.points[i]).collect(),
            intensity: self
                .intensity
                .as_ref()
                .map(|v| indices.iter().map(|&i| v[i]).collect()),
            time: self
                .time
                .as_ref()
                .map(|v| indices.iter().map(|&i| v[i]).collect()),
            ring: self
                .ring
                .as_ref()
                .map(|v| indices.iter().map(|&i| v[i]).collect()),
            source: self
                .source
                .as_ref()
                .map(|v| indices.iter().map(|&i| v[i]).collect()),
            stamp: self.stamp,
            sensor: self.sensor.clone(),
        }
    }

    /// Moves every point by `pose` (points in the frame the pose maps from).
    pub fn transform(&mut self, pose: &Isometry3<f64>) {
        for p in &mut self.points {
            *p = pose * *p;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cloud3() -> PointCloud {
        PointCloud::new(vec![
            Point3::new(0.0, 0.0, 0.0),
            Point3::new(1.0, 0.0, 0.0),
            Point3::new(2.0, 0.0, 0.0),
        ])
    }

    #[test]
    fn field_lengths_are_checked() {
        assert!(cloud3().with_intensity(vec![1.0; 2]).is_err());
        assert!(cloud3().with_ring(vec![1; 4]).is_err());
        let c = cloud3().with_time(vec![0.0, 0.1, 0.2]).unwrap();
        assert_eq!(c.field_names(), vec!["x", "y", "z", "t"]);
    }

    #[test]
    fn retain_and_select_keep_fields_aligned() {
        let mut c = cloud3()
            .with_intensity(vec![10.0, 11.0, 12.0])
            .unwrap()
            .with_ring(vec![0, 1, 2])
            .unwrap();
        c.retain(|_, p| p.x != 1.0);
        assert_eq!(c.intensity().unwrap(), &[10.0, 12.0]);
        assert_eq!(c.ring().unwrap(), &[0, 2]);
        let s = c.select(&[1]);
        assert_eq!(s.points()[0].x, 2.0);
        assert_eq!(s.intensity().unwrap(), &[12.0]);
    }
}
