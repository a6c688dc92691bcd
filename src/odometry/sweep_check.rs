//! Do the scans' per-point times describe the motion during each sweep?
//!
//! Scans that an upstream motion compensation (a LiDAR-inertial odometry, a de-skew node)
//! already straightened, but that still carry their per-point time field, get de-skewed a
//! second time by velocity estimation: the twist found inside the sweep then no longer
//! follows the motion between scans (it warps each scan to fit a map built from scans
//! warped alike, and drifts away from the real motion). With real sweeps the two agree up
//! to the change of motion within a scan interval and what a 0.1 s sweep cannot observe.
//!
//! Measured on synthetic sequences (`lidarflow synth`, with and without `--compensated`),
//! as medians over windows of 20 scans of the disagreement relative to the motion between
//! scans (angular, linear): in 15 runs with real sweeps (car, fast and aggressive motion, 16
//! to 128 rings) no window passed about 0.27 angular where the linear one passed 0.1
//! (hand-held motion: the linear velocity inside a sweep is poorly observed), nor 0.05
//! linear where the angular one passed 0.4 (a car on 16 or 32 rings, turning slowly); 7
//! compensated runs reached 0.57–1.87 angular and 0.14–2.99 linear in their first window.
//! A warning needs both limits passed: [`MAX_ANGULAR`], [`MAX_LINEAR`]. With the limits
//! set, 7 more runs with real sweeps and 5 compensated ones (fresh seeds) were all judged
//! right, and so were balm-realworld's real scans (compensated by their source) given
//! per-point times from their azimuth: 94–103 % angular, 169–199 % linear.

use crate::geometry::Twist;

/// Scans whose twists are compared before judging, and the span of each judgement.
pub const WINDOW: usize = 20;

/// Median angular disagreement, relative to the angular velocity between scans, above which
/// (with [`MAX_LINEAR`]) the times are judged not to describe the sweep.
pub const MAX_ANGULAR: f64 = 0.4;

/// Median linear disagreement, relative to the speed between scans, above which (with
/// [`MAX_ANGULAR`]) the times are judged not to describe the sweep.
pub const MAX_LINEAR: f64 = 0.09;

/// Angular velocity (rad/s, 5°/s) below which the motion between scans counts as this
/// much when a disagreement is made relative: a sensor that barely turns gives no scale.
pub const ANGULAR_FLOOR: f64 = 5.0 * std::f64::consts::PI / 180.0;

/// Speed (m/s) below which the motion between scans counts as this much, likewise.
pub const LINEAR_FLOOR: f64 = 0.5;

/// Compares, scan by scan, the twist estimated inside each sweep with the motion between
/// scans, and says once when they disagree persistently.
#[derive(Debug, Default)]
pub struct SweepCheck {
    /// Relative disagreements (angular, linear) of the scans of the current window.
    window: Vec<(f64, f64)>,
    warned: bool,
}

impl SweepCheck {
    /// Counts one scan: `in_sweep` is the twist the registration estimated from the scan's
    /// per-point times, `between` the pose change since the previous scan over the time
    /// step. Every [`WINDOW`] scans, judges their median disagreements; returns a warning
    /// the first time both exceed their limits.
    pub fn add(&mut self, in_sweep: &Twist, between: &Twist) -> Option<String> {
        if self.warned {
            return None;
        }
        let relative = |row: usize, floor: f64| {
            let (a, b) = (in_sweep.fixed_rows::<3>(row), between.fixed_rows::<3>(row));
            (a - b).norm() / b.norm().max(floor)
        };
        self.window
            .push((relative(3, ANGULAR_FLOOR), relative(0, LINEAR_FLOOR)));
        if self.window.len() < WINDOW {
            return None;
        }
        let window = std::mem::take(&mut self.window);
        let median = |pick: fn(&(f64, f64)) -> f64| {
            let mut v: Vec<f64> = window.iter().map(pick).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (angular, linear) = (median(|d| d.0), median(|d| d.1));
        if angular <= MAX_ANGULAR || linear <= MAX_LINEAR {
            return None;
        }
        self.warned = true;
        Some(format!(
            "the twist estimated inside each sweep disagrees with the motion between scans \
             (median {:.0}% angular, {:.0}% linear over {WINDOW} scans; real sweeps do not pass \
             both {:.0}% and {:.0}%): the scans look motion-compensated already while keeping \
             per-point times; run them with velocity: off",
            100.0 * angular,
            100.0 * linear,
            100.0 * MAX_ANGULAR,
            100.0 * MAX_LINEAR
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A twist of 2 m/s forward times `v`, turning at `w` rad/s about z.
    fn twist(v: f64, w: f64) -> Twist {
        Twist::new(2.0 * v, 0.0, 0.0, 0.0, 0.0, w)
    }

    fn warnings(check: &mut SweepCheck, in_sweep: Twist, between: Twist) -> usize {
        (0..3 * WINDOW)
            .filter_map(|_| check.add(&in_sweep, &between))
            .count()
    }

    #[test]
    fn a_persistent_disagreement_of_both_velocities_warns_once() {
        let mut check = SweepCheck::default();
        // 20 % off in both, like a real sweep: silent.
        assert_eq!(warnings(&mut check, twist(1.2, 1.2), twist(1.0, 1.0)), 0);
        // Twice the real motion for three windows: one warning.
        let mut check = SweepCheck::default();
        assert_eq!(warnings(&mut check, twist(2.0, 2.0), twist(1.0, 1.0)), 1);
        let mut check = SweepCheck::default();
        check.add(&twist(2.0, 2.0), &twist(1.0, 1.0));
        let text = (1..WINDOW)
            .find_map(|_| check.add(&twist(2.0, 2.0), &twist(1.0, 1.0)))
            .unwrap();
        assert!(text.contains("velocity: off"), "{text}");
    }

    #[test]
    fn one_velocity_off_alone_does_not_warn() {
        // Hand-held: the linear velocity inside a sweep is poorly observed.
        let mut check = SweepCheck::default();
        assert_eq!(warnings(&mut check, twist(2.0, 1.1), twist(1.0, 1.0)), 0);
        // A car turning slowly: the angular one is noisy against the floor.
        let mut check = SweepCheck::default();
        let slow = 1f64.to_radians();
        assert_eq!(
            warnings(&mut check, twist(1.02, 4.0 * slow), twist(1.0, slow)),
            0
        );
    }

    #[test]
    fn a_sensor_that_barely_turns_is_judged_against_the_floor() {
        // 1°/s off while turning 0.1°/s: a fifth of the floor, not ten times the motion.
        let mut check = SweepCheck::default();
        let degrees = |d: f64| d.to_radians();
        assert_eq!(
            warnings(
                &mut check,
                twist(2.0, degrees(1.1)),
                twist(1.0, degrees(0.1))
            ),
            0
        );
        // 10°/s off while not turning at all: twice the floor.
        let mut check = SweepCheck::default();
        assert_eq!(
            warnings(&mut check, twist(2.0, degrees(10.0)), twist(1.0, 0.0)),
            1
        );
    }
}
