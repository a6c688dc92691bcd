//! Which scans the view-based map keeps. Its own policy, apart from the odometry's local
//! map: the stored map wants scans far enough apart to be worth storing, but close enough
//! that every surface is seen from a few places.

use crate::geometry::{magnitude, Twist};
use crate::odometry::auto::Auto;
use nalgebra::Isometry3;
use serde::{Deserialize, Serialize};

/// Keyframe policy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct KeyframePolicy {
    /// Keep a scan once the sensor moved this far from the last kept one, metres.
    /// auto: `max(1.0, 0.5 s × speed)`, so it widens with speed.
    pub distance: Auto,
    /// Keep a scan once the sensor turned this much since the last kept one, degrees.
    pub angle: f64,
    /// Keep a scan once this much time passed since the last kept one, seconds (0: no
    /// time rule).
    pub interval: f64,
}

impl Default for KeyframePolicy {
    fn default() -> Self {
        KeyframePolicy {
            distance: Auto::Auto,
            angle: 10.0,
            interval: 0.0,
        }
    }
}

/// The policy's memory: the last keyframe kept.
#[derive(Debug, Clone, Default)]
pub struct KeyframeSelector {
    policy: KeyframePolicy,
    last: Option<(f64, Isometry3<f64>)>,
}

impl KeyframeSelector {
    /// A selector applying `policy`.
    pub fn new(policy: KeyframePolicy) -> KeyframeSelector {
        KeyframeSelector { policy, last: None }
    }

    /// Whether the scan at `stamp` and `pose`, moving with `twist`, is kept (the first
    /// always is); remembers it when kept.
    pub fn take(&mut self, stamp: f64, pose: &Isometry3<f64>, twist: &Twist) -> bool {
        let keep = match self.last {
            None => true,
            Some((t, last)) => {
                let speed = twist.fixed_rows::<3>(0).norm();
                let distance = self.policy.distance.resolve(|| (0.5 * speed).max(1.0));
                let (d, a) = magnitude(&(last.inverse() * pose));
                d >= distance
                    || a.to_degrees() >= self.policy.angle
                    || (self.policy.interval > 0.0 && stamp - t >= self.policy.interval)
            }
        };
        if keep {
            self.last = Some((stamp, *pose));
        }
        keep
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::pose_from_xyz_rpy;

    #[test]
    fn distance_angle_and_speed() {
        let mut s = KeyframeSelector::new(KeyframePolicy::default());
        let slow = Twist::from_column_slice(&[1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        let fast = Twist::from_column_slice(&[10.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        let at = |x: f64, yaw: f64| pose_from_xyz_rpy(x, 0.0, 0.0, 0.0, 0.0, yaw.to_radians());
        assert!(s.take(0.0, &at(0.0, 0.0), &slow));
        assert!(!s.take(0.1, &at(0.5, 0.0), &slow));
        assert!(s.take(0.2, &at(1.0, 0.0), &slow));
        assert!(s.take(0.3, &at(1.0, 11.0), &slow), "turned 11 degrees");
        // At 10 m/s the distance widens to 5 m.
        assert!(!s.take(0.4, &at(4.0, 11.0), &fast));
        assert!(s.take(0.5, &at(6.5, 11.0), &fast));
    }
}
