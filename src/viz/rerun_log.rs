//! The rerun side of the viewer: a recording stream and what is logged on it.

use super::{ramp, VizTarget};
use crate::cloud::PointCloud;
use crate::geometry::Twist;
use nalgebra::{Isometry3, Point3};

/// A rerun recording stream with lidarflow's entity paths.
pub struct RerunLog {
    rec: rerun::RecordingStream,
    trajectory: Vec<[f32; 3]>,
    reference: Vec<[f32; 3]>,
    keyframes: Vec<[f32; 3]>,
}

fn f32x3(p: &Point3<f64>) -> [f32; 3] {
    [p.x as f32, p.y as f32, p.z as f32]
}

fn position(pose: &Isometry3<f64>) -> [f32; 3] {
    f32x3(&Point3::from(pose.translation.vector))
}

/// Colours by intensity when the cloud has it, else by height.
fn colours(cloud: &PointCloud) -> Vec<rerun::Color> {
    let (values, lo, hi): (Vec<f32>, f32, f32) = match cloud.intensity() {
        Some(i) => {
            let mut sorted: Vec<f32> = i.to_vec();
            sorted.sort_by(f32::total_cmp);
            let hi = sorted.get(sorted.len() * 95 / 100).copied().unwrap_or(1.0);
            (i.to_vec(), 0.0, hi.max(1e-6))
        }
        None => {
            let z: Vec<f32> = cloud.points().iter().map(|p| p.z as f32).collect();
            (z, -2.0, 4.0)
        }
    };
    values
        .iter()
        .map(|v| {
            let [r, g, b] = ramp((v - lo) / (hi - lo));
            rerun::Color::from_rgb(r, g, b)
        })
        .collect()
}

impl RerunLog {
    /// Opens the stream to `target` (`None` is not a target: the caller drains instead).
    pub fn open(target: &VizTarget) -> Result<RerunLog, String> {
        let builder = rerun::RecordingStreamBuilder::new("lidarflow");
        let rec = match target {
            VizTarget::None => return Err("no viewer target".into()),
            VizTarget::Spawn => builder.spawn(),
            VizTarget::Connect(addr) => builder.connect_grpc_opts(addr.clone()),
            VizTarget::Save(path) => builder.save(path),
        }
        .map_err(|e| format!("cannot open the rerun viewer: {e}"))?;
        rec.log_static("world", &rerun::ViewCoordinates::RIGHT_HAND_Z_UP())
            .map_err(|e| e.to_string())?;
        Ok(RerunLog {
            rec,
            trajectory: Vec::new(),
            reference: Vec::new(),
            keyframes: Vec::new(),
        })
    }

    fn at(&self, index: usize, stamp: f64) {
        self.rec.set_time_sequence("scan", index as i64);
        self.rec.set_duration_secs("sensor_time", stamp);
    }

    /// The sensor pose and its de-skewed scan (sensor frame).
    pub fn scan(
        &self,
        index: usize,
        stamp: f64,
        pose: &Isometry3<f64>,
        cloud: &PointCloud,
    ) -> Result<(), String> {
        self.at(index, stamp);
        let q = pose.rotation.coords;
        let transform = rerun::Transform3D::from_translation_rotation(
            position(pose),
            rerun::Quaternion::from_xyzw([q.x as f32, q.y as f32, q.z as f32, q.w as f32]),
        );
        self.rec
            .log("world/sensor", &transform)
            .map_err(|e| e.to_string())?;
        let points: Vec<[f32; 3]> = cloud.points().iter().map(f32x3).collect();
        self.rec
            .log(
                "world/sensor/scan",
                &rerun::Points3D::new(points)
                    .with_colors(colours(cloud))
                    .with_radii([0.03]),
            )
            .map_err(|e| e.to_string())
    }

    /// The local map (world frame).
    pub fn local_map(&self, index: usize, stamp: f64, cloud: &PointCloud) -> Result<(), String> {
        self.at(index, stamp);
        let points: Vec<[f32; 3]> = cloud.points().iter().map(f32x3).collect();
        self.rec
            .log(
                "world/local_map",
                &rerun::Points3D::new(points)
                    .with_colors([rerun::Color::from_rgb(160, 160, 160)])
                    .with_radii([0.02]),
            )
            .map_err(|e| e.to_string())
    }

    /// One estimate: the trajectory so far, the reference, keyframes and the figures.
    #[allow(clippy::too_many_arguments)]
    pub fn estimate(
        &mut self,
        index: usize,
        stamp: f64,
        pose: &Isometry3<f64>,
        twist: &Twist,
        reference: Option<&Isometry3<f64>>,
        keyframe: bool,
        figures: &[(&str, f64)],
    ) -> Result<(), String> {
        self.at(index, stamp);
        let e = |r: rerun::RecordingStreamResult<()>| r.map_err(|e| e.to_string());
        self.trajectory.push(position(pose));
        e(self.rec.log(
            "world/trajectory",
            &rerun::LineStrips3D::new([self.trajectory.clone()])
                .with_colors([rerun::Color::from_rgb(255, 140, 0)]),
        ))?;
        if let Some(r) = reference {
            self.reference.push(position(r));
            e(self.rec.log(
                "world/reference",
                &rerun::LineStrips3D::new([self.reference.clone()])
                    .with_colors([rerun::Color::from_rgb(0, 170, 255)]),
            ))?;
        }
        if keyframe {
            self.keyframes.push(position(pose));
            e(self.rec.log(
                "world/keyframes",
                &rerun::Points3D::new(self.keyframes.clone())
                    .with_colors([rerun::Color::from_rgb(255, 255, 255)])
                    .with_radii([0.08]),
            ))?;
        }
        for (name, value) in figures {
            e(self
                .rec
                .log(format!("metrics/{name}"), &rerun::Scalars::single(*value)))?;
        }
        let names = ["vx", "vy", "vz", "wx", "wy", "wz"];
        for (name, v) in names.iter().zip(twist.iter()) {
            e(self
                .rec
                .log(format!("metrics/twist/{name}"), &rerun::Scalars::single(*v)))?;
        }
        Ok(())
    }

    /// Sends everything still buffered.
    pub fn flush(&self) -> Result<(), String> {
        self.rec.flush_blocking().map_err(|e| e.to_string())
    }
}
