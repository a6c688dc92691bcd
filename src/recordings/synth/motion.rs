//! Motion profiles of the synthetic generator, and the platform's pose as a function of
//! time. The pose function is the exact reference: the generator casts every azimuth column
//! from it, and writes it at each scan's reference time.

use crate::error::{Error, Result};
use nalgebra::{Isometry3, Translation3, UnitQuaternion, Vector2};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::f64::consts::TAU;

/// One motion profile (see `datasets/synthetic/profiles.yaml` for the meaning of each).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Mean speed along the street, m/s.
    pub speed: f64,
    /// Amplitude of the speed's sine, m/s.
    pub speed_variation: f64,
    /// Period of the speed's sine, s.
    pub speed_period: f64,
    /// Peak turn rate of the street heading, deg/s.
    pub turn_rate: f64,
    /// Period of the turn rate's sine, s.
    pub turn_period: f64,
    /// Amplitude of the body's yaw oscillation, deg.
    pub yaw_amplitude: f64,
    /// Frequency of the body's yaw oscillation, Hz.
    pub yaw_frequency: f64,
    /// Amplitude of the body's roll and pitch oscillations, deg.
    pub roll_pitch_amplitude: f64,
    /// Frequency of the roll and pitch oscillations, Hz.
    pub roll_pitch_frequency: f64,
    /// Amplitude of vertical bobbing, m.
    pub bob_amplitude: f64,
    /// Frequency of vertical bobbing, Hz.
    pub bob_frequency: f64,
    /// Height of the sensor above the road, m.
    pub sensor_height: f64,
}

const PROFILES_YAML: &str = include_str!("../../../datasets/synthetic/profiles.yaml");

/// The profiles shipped in `datasets/synthetic/profiles.yaml`, by name.
pub fn builtin_profiles() -> BTreeMap<String, Profile> {
    serde_norway::from_str(PROFILES_YAML)
        .expect("datasets/synthetic/profiles.yaml is valid (checked by a test)")
}

/// The built-in profile `name`, or an error listing the names.
pub fn profile(name: &str) -> Result<Profile> {
    let all = builtin_profiles();
    all.get(name).cloned().ok_or_else(|| {
        Error::Invalid(format!(
            "unknown profile '{name}'; available: {}",
            all.keys().cloned().collect::<Vec<_>>().join(", ")
        ))
    })
}

/// Integration step of the path table, seconds.
const STEP: f64 = 5e-4;

/// The platform's motion: the street's centreline (as sampled positions and headings) and
/// the sensor pose at any time in `[-margin, duration + margin]`.
#[derive(Debug, Clone)]
pub struct Motion {
    profile: Profile,
    /// Start time of the table (negative: the path extends behind the start).
    t0: f64,
    /// Positions of the centreline point under the platform, every `STEP` seconds.
    xy: Vec<Vector2<f64>>,
}

impl Motion {
    /// Integrates the path of `profile` over `[-margin, duration + margin]` seconds.
    pub fn new(profile: Profile, duration: f64, margin: f64) -> Motion {
        // Midpoint rule, backward from t = 0 to -margin, then forward to duration + margin.
        let back = (margin / STEP).ceil() as usize;
        let forward = ((duration + margin) / STEP).ceil() as usize + 1;
        let mut xy = Vec::with_capacity(back + forward + 1);
        let mut q = Vector2::zeros();
        for k in 0..back {
            q -= Self::velocity(&profile, -(k as f64 + 0.5) * STEP) * STEP;
            xy.push(q);
        }
        xy.reverse();
        let mut p = Vector2::zeros();
        xy.push(p);
        for k in 0..forward {
            p += Self::velocity(&profile, (k as f64 + 0.5) * STEP) * STEP;
            xy.push(p);
        }
        Motion {
            profile,
            t0: -(back as f64) * STEP,
            xy,
        }
    }

    fn speed(profile: &Profile, t: f64) -> f64 {
        profile.speed + profile.speed_variation * (TAU * t / profile.speed_period).sin()
    }

    /// Heading of the street at time t (rad): integral of the turn rate.
    fn heading(profile: &Profile, t: f64) -> f64 {
        let w = profile.turn_rate.to_radians();
        w * profile.turn_period / TAU * (1.0 - (TAU * t / profile.turn_period).cos())
    }

    fn velocity(profile: &Profile, t: f64) -> Vector2<f64> {
        let h = Self::heading(profile, t);
        Vector2::new(h.cos(), h.sin()) * Self::speed(profile, t)
    }

    /// The profile this motion follows.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Centreline position and heading at time `t` (clamped to the table).
    pub fn centreline(&self, t: f64) -> (Vector2<f64>, f64) {
        let u = ((t - self.t0) / STEP).clamp(0.0, (self.xy.len() - 2) as f64);
        let k = u.floor() as usize;
        let f = u - k as f64;
        let p = self.xy[k] * (1.0 - f) + self.xy[k + 1] * f;
        (p, Self::heading(&self.profile, t))
    }

    /// First and last time the table covers.
    pub fn time_span(&self) -> (f64, f64) {
        (self.t0, self.t0 + (self.xy.len() - 2) as f64 * STEP)
    }

    /// Pose of the sensor (`T_world_sensor`) at time `t`.
    pub fn pose(&self, t: f64) -> Isometry3<f64> {
        let pr = &self.profile;
        let (p, heading) = self.centreline(t);
        let osc = |amp_deg: f64, freq: f64, phase: f64| {
            amp_deg.to_radians() * (TAU * freq * t + phase).sin()
        };
        let yaw = heading + osc(pr.yaw_amplitude, pr.yaw_frequency, 0.0);
        let roll = osc(pr.roll_pitch_amplitude, pr.roll_pitch_frequency, 0.3);
        let pitch = osc(pr.roll_pitch_amplitude, pr.roll_pitch_frequency * 0.83, 1.1);
        let z = pr.sensor_height + pr.bob_amplitude * (TAU * pr.bob_frequency * t).sin();
        Isometry3::from_parts(
            Translation3::new(p.x, p.y, z),
            UnitQuaternion::from_euler_angles(roll, pitch, yaw),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse_and_rates_match_their_description() {
        let all = builtin_profiles();
        assert_eq!(
            all.keys().collect::<Vec<_>>(),
            vec!["aggressive", "car", "fast"]
        );
        let a = &all["aggressive"];
        let peak_yaw = a.yaw_amplitude * TAU * a.yaw_frequency;
        assert!(
            (100.0..=130.0).contains(&peak_yaw),
            "aggressive yaw rate {peak_yaw}"
        );
        let motion = Motion::new(a.clone(), 10.0, 5.0);
        // Measured yaw rate from the pose function.
        let mut max_rate: f64 = 0.0;
        for k in 0..1000 {
            let t = k as f64 * 0.01;
            let d = motion.pose(t).rotation.inverse() * motion.pose(t + 0.001).rotation;
            max_rate = max_rate.max(d.angle() / 0.001);
        }
        assert!(max_rate.to_degrees() > 90.0, "{}", max_rate.to_degrees());
        assert!(profile("nope").unwrap_err().to_string().contains("car"));
    }

    #[test]
    fn speed_is_followed() {
        let car = profile("car").unwrap();
        let m = Motion::new(car, 20.0, 10.0);
        let d = (m.pose(10.0).translation.vector - m.pose(9.0).translation.vector).norm();
        assert!((8.0..12.0).contains(&d), "moved {d} m in 1 s");
        let (a, b) = m.time_span();
        assert!(a <= -10.0 + 1e-9 && b >= 30.0 - 1e-3, "{a} {b}");
    }
}
