//! Synthetic recordings: a procedural street ray-cast by a moving spinning LiDAR, with
//! exact reference poses. `lidarflow synth` writes them as a folder of scans:
//!
//! - `scans/NNNNNN.ply`: x y z intensity t ring, in the sensor frame at each point's own
//!   time; `t` is seconds relative to the scan's reference time, from -0.05 to +0.05 (the
//!   reference time is the middle of the sweep; with `--compensated`, every point is in the
//!   sensor frame at the reference time instead, `t` kept, as scans come out of an upstream
//!   motion compensation);
//! - `times.txt`: each scan's reference time, seconds;
//! - `poses.txt`: the exact pose of the sensor at each reference time (KITTI 3x4,
//!   `T_world_sensor`, world = the sensor frame of the first scan);
//! - `synth.json`: the parameters that made it.

pub mod bag_writer;
pub mod lidar;
pub mod motion;
pub mod scene;

use crate::cloud::PointCloud;
use crate::error::{Error, Result};
use crate::io::trajectory::{self, Trajectory};
use crate::io::{atomic, ply};
use lidar::LidarModel;
use motion::Motion;
use nalgebra::Isometry3;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use scene::{Scene, StreetParams};
use serde::Serialize;
use std::path::Path;

/// What to generate (also the params of the `synthetic` pipeline block).
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SynthParams {
    /// Motion profile: `car`, `aggressive` (hand-held, fast turns) or `fast`.
    pub profile: String,
    /// Number of scans (10 per second).
    pub frames: usize,
    /// Seed of the range noise (and of the street, unless `scene_seed` is set).
    pub seed: u64,
    /// Seed of the street layout; absent, `seed` is used. The same scene seed with another
    /// seed gives a second pass through the same street.
    pub scene_seed: Option<u64>,
    /// Rings of the sensor: 16, 32, 64 or 128.
    pub rings: usize,
}

impl Default for SynthParams {
    fn default() -> Self {
        SynthParams {
            profile: "car".into(),
            frames: 100,
            seed: 1,
            scene_seed: None,
            rings: 64,
        }
    }
}

/// A synthetic sequence in memory: scans are cast on demand.
#[derive(Debug)]
pub struct Sequence {
    params: SynthParams,
    motion: Motion,
    scene: Scene,
    lidar: LidarModel,
    origin_inv: Isometry3<f64>,
}

impl Sequence {
    /// Builds the street and the motion for `params`.
    pub fn new(params: SynthParams) -> Result<Sequence> {
        if params.frames == 0 {
            return Err(Error::Invalid("frames must be at least 1".into()));
        }
        let profile = motion::profile(&params.profile)?;
        let lidar = LidarModel::with_rings(params.rings)?;
        let duration = params.frames as f64 * lidar.period;
        let motion = Motion::new(profile, duration, 2.0);
        let mut rng = ChaCha8Rng::seed_from_u64(params.scene_seed.unwrap_or(params.seed));
        let scene = Scene::along(
            &motion,
            &StreetParams::builtin(),
            -2.0,
            duration + 2.0,
            &mut rng,
        );
        let origin_inv = motion.pose(Self::reference_time_of(&lidar, 0)).inverse();
        Ok(Sequence {
            params,
            motion,
            scene,
            lidar,
            origin_inv,
        })
    }

    fn reference_time_of(lidar: &LidarModel, i: usize) -> f64 {
        (i as f64 + 0.5) * lidar.period
    }

    /// Number of scans.
    pub fn len(&self) -> usize {
        self.params.frames
    }

    /// True when the sequence has no scans (never: `new` refuses zero frames).
    pub fn is_empty(&self) -> bool {
        self.params.frames == 0
    }

    /// Reference time (middle of the sweep) of scan `i`, seconds.
    pub fn stamp(&self, i: usize) -> f64 {
        Self::reference_time_of(&self.lidar, i)
    }

    /// Exact pose of the sensor at time `t`, in the frame of the first scan.
    pub fn pose_at(&self, t: f64) -> Isometry3<f64> {
        self.origin_inv * self.motion.pose(t)
    }

    /// Exact reference pose of scan `i`.
    pub fn reference_pose(&self, i: usize) -> Isometry3<f64> {
        self.pose_at(self.stamp(i))
    }

    /// Casts scan `i`.
    pub fn scan(&self, i: usize) -> PointCloud {
        let noise_seed = self.params.seed.wrapping_mul(0x2545_F491_4F6C_DD1D)
            ^ (i as u64)
                .wrapping_add(1)
                .wrapping_mul(0xD6E8_FEB8_6659_FD93);
        self.lidar
            .sweep(&self.scene, &self.motion, self.stamp(i), noise_seed)
    }

    /// Scan `i` as an upstream motion compensation (a LiDAR-inertial odometry, a de-skew
    /// node) would hand it on: each point moved into the sensor frame at the stamp by the
    /// exact motion, its per-point time kept. De-skewing it again distorts it.
    pub fn compensated_scan(&self, i: usize) -> PointCloud {
        let mut cloud = self.scan(i);
        let stamp = self.stamp(i);
        let to_stamp = self.pose_at(stamp).inverse();
        let times = cloud.time().map(<[f32]>::to_vec).unwrap_or_default();
        for (p, &t) in cloud.points_mut().iter_mut().zip(&times) {
            *p = to_stamp * (self.pose_at(stamp + t as f64) * *p);
        }
        cloud
    }

    /// The sensor model.
    pub fn lidar(&self) -> &LidarModel {
        &self.lidar
    }

    /// The street.
    pub fn scene(&self) -> &Scene {
        &self.scene
    }
}

/// Figures about a written sequence.
#[derive(Debug, Clone)]
pub struct SynthReport {
    /// Scans written.
    pub frames: usize,
    /// Total points.
    pub points: usize,
    /// Length of the reference path, metres.
    pub path_length: f64,
}

/// Writes a synthetic sequence into `out` (created if needed) as described in the module
/// documentation. Scans are cast in parallel and written as they come.
pub fn write(out: &Path, params: &SynthParams) -> Result<SynthReport> {
    write_scans(out, params, false)
}

/// [`write()`], with each scan motion-compensated already when `compensated` (see
/// [`Sequence::compensated_scan`]); `synth.json` then says `"compensated": true`.
pub fn write_scans(out: &Path, params: &SynthParams, compensated: bool) -> Result<SynthReport> {
    let seq = Sequence::new(params.clone())?;
    let scans = out.join("scans");
    std::fs::create_dir_all(&scans).map_err(|e| Error::io(&scans, e))?;
    let points: Vec<Result<usize>> = (0..seq.len())
        .into_par_iter()
        .map(|i| {
            let cloud = if compensated {
                seq.compensated_scan(i)
            } else {
                seq.scan(i)
            };
            ply::write(
                &scans.join(format!("{i:06}.ply")),
                &cloud,
                ply::Encoding::BinaryLittleEndian,
            )?;
            Ok(cloud.len())
        })
        .collect();
    let points = points.into_iter().sum::<Result<usize>>()?;
    let mut reference = Trajectory::default();
    for i in 0..seq.len() {
        reference.push(seq.stamp(i), seq.reference_pose(i));
    }
    let times: String = reference.stamps.iter().map(|t| format!("{t}\n")).collect();
    atomic::write_bytes(&out.join("times.txt"), times.as_bytes())?;
    trajectory::write_kitti(&out.join("poses.txt"), &reference)?;
    let json = if compensated {
        let mut json = serde_json::to_value(params).map_err(|e| Error::Invalid(e.to_string()))?;
        json["compensated"] = true.into();
        serde_json::to_string_pretty(&json)
    } else {
        serde_json::to_string_pretty(params)
    }
    .map_err(|e| Error::Invalid(e.to_string()))?;
    atomic::write_bytes(&out.join("synth.json"), json.as_bytes())?;
    Ok(SynthReport {
        frames: seq.len(),
        points,
        path_length: reference.path_length(),
    })
}
