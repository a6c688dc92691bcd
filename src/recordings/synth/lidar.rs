//! A spinning multi-ring LiDAR that keeps moving during its sweep: every azimuth column is
//! cast from the platform's pose at that column's own time.

use super::motion::Motion;
use super::scene::Scene;
use crate::cloud::PointCloud;
use crate::error::{Error, Result};
use nalgebra::{Point3, Vector3};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use std::f64::consts::{PI, TAU};

/// Geometry and timing of the simulated sensor.
#[derive(Debug, Clone)]
pub struct LidarModel {
    /// Number of rings (lasers).
    pub rings: usize,
    /// Azimuth columns per sweep.
    pub columns: usize,
    /// Lowest and highest ring elevation, degrees.
    pub elevation: (f64, f64),
    /// Duration of one sweep, seconds (10 Hz).
    pub period: f64,
    /// Returns closer than this are dropped (the platform itself), metres.
    pub min_range: f64,
    /// Returns farther than this are dropped, metres.
    pub max_range: f64,
    /// Standard deviation of the range noise, metres.
    pub range_noise: f64,
}

impl LidarModel {
    /// A sensor with 16, 32, 64 or 128 rings: 16 rings span ±15° (VLP-16 like), the others
    /// -25°..+15° (HDL/OS1 like); 1024 columns, 10 Hz, 100 m, 1.5 cm range noise.
    pub fn with_rings(rings: usize) -> Result<LidarModel> {
        let elevation = match rings {
            16 => (-15.0, 15.0),
            32 | 64 | 128 => (-25.0, 15.0),
            _ => {
                return Err(Error::Invalid(format!(
                    "{rings} rings: choose 16, 32, 64 or 128"
                )))
            }
        };
        Ok(LidarModel {
            rings,
            columns: 1024,
            elevation,
            period: 0.1,
            min_range: 1.0,
            max_range: 100.0,
            range_noise: 0.015,
        })
    }

    /// Elevation of ring `k`, radians.
    fn ring_elevation(&self, k: usize) -> f64 {
        let (lo, hi) = self.elevation;
        (lo + (hi - lo) * k as f64 / (self.rings - 1) as f64).to_radians()
    }

    /// Casts one sweep centred on time `t_ref`. Per-point time is relative to `t_ref`
    /// (from `-period/2` to `+period/2`); points are in the sensor frame at their own time.
    /// `noise_seed` makes the range noise reproducible.
    pub fn sweep(&self, scene: &Scene, motion: &Motion, t_ref: f64, noise_seed: u64) -> PointCloud {
        let centre = motion.pose(t_ref);
        let travel = (motion.pose(t_ref + self.period).translation.vector
            - motion.pose(t_ref - self.period).translation.vector)
            .norm();
        let candidates = scene.near(
            &Point3::from(centre.translation.vector),
            self.max_range + travel,
        );
        let normal = Normal::new(0.0, self.range_noise).expect("finite noise");
        let directions: Vec<Vector3<f64>> = (0..self.rings)
            .map(|k| {
                let e = self.ring_elevation(k);
                Vector3::new(e.cos(), 0.0, e.sin())
            })
            .collect();
        type Column = Vec<(Point3<f64>, f32, f32, u16)>;
        let columns: Vec<Column> = (0..self.columns)
            .into_par_iter()
            .map(|j| {
                let frac = (j as f64 + 0.5) / self.columns as f64;
                let dt = (frac - 0.5) * self.period;
                let azimuth = -PI + TAU * frac;
                let pose = motion.pose(t_ref + dt);
                let origin = Point3::from(pose.translation.vector);
                let mut rng = ChaCha8Rng::seed_from_u64(
                    noise_seed ^ (j as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
                let (s, c) = azimuth.sin_cos();
                let mut out = Vec::with_capacity(self.rings);
                for (k, d) in directions.iter().enumerate() {
                    let local = Vector3::new(d.x * c, d.x * s, d.z);
                    let world = pose.rotation * local;
                    if let Some(hit) = scene.cast(&origin, &world, &candidates, self.max_range) {
                        let r = hit.range + normal.sample(&mut rng);
                        if r < self.min_range || hit.range > self.max_range {
                            continue;
                        }
                        let incidence = hit.normal.dot(&world).abs() as f32;
                        let intensity = hit.reflectivity * (0.25 + 0.75 * incidence);
                        out.push((Point3::from(local * r), intensity, dt as f32, k as u16));
                    }
                }
                out
            })
            .collect();
        let n: usize = columns.iter().map(Vec::len).sum();
        let (mut pts, mut inten, mut time, mut ring) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for (p, i, t, r) in columns.into_iter().flatten() {
            pts.push(p);
            inten.push(i);
            time.push(t);
            ring.push(r);
        }
        PointCloud::new(pts)
            .with_intensity(inten)
            .and_then(|c| c.with_time(time))
            .and_then(|c| c.with_ring(ring))
            .expect("columns built with equal lengths")
            .with_stamp(t_ref)
            .with_sensor(format!("synthetic-{}", self.rings))
    }
}
