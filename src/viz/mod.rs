//! Seeing a run: where the viewer's data goes ([`VizTarget`]) and, with the `viz` cargo
//! feature (on by default), the rerun logger that sends scans, maps, trajectories and
//! per-scan figures to a rerun viewer or an `.rrd` recording.
//!
//! Entity paths (see the README): `world/sensor` (the sensor pose, a transform),
//! `world/sensor/scan` (the current de-skewed scan), `world/local_map`, `world/trajectory`,
//! `world/reference`, `world/keyframes`, and scalars under `metrics/` (`ms/preprocess`,
//! `ms/registration`, `ms/map_update`, `ms/total`, `iterations`, `correspondences`,
//! `speed`, `twist/vx` .. `twist/wz`); timelines `scan` (index) and `sensor_time` (seconds).

#[cfg(feature = "viz")]
pub mod rerun_log;

use std::path::PathBuf;

/// Where the viewer's data goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VizTarget {
    /// Nowhere: the viewer block drains its inputs.
    None,
    /// A rerun viewer started from PATH (or one already listening).
    Spawn,
    /// A running rerun viewer at this gRPC address (`rerun+http://HOST:PORT/proxy`).
    Connect(String),
    /// An `.rrd` recording file.
    Save(PathBuf),
}

impl std::str::FromStr for VizTarget {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "" | "none" => Ok(VizTarget::None),
            "spawn" => Ok(VizTarget::Spawn),
            other => {
                if let Some(addr) = other.strip_prefix("connect=") {
                    let addr = if addr.contains("://") {
                        addr.to_string()
                    } else {
                        format!("rerun+http://{addr}/proxy")
                    };
                    Ok(VizTarget::Connect(addr))
                } else if let Some(file) = other.strip_prefix("save=") {
                    if file.is_empty() {
                        return Err("save= needs a file name, e.g. save=run.rrd".into());
                    }
                    Ok(VizTarget::Save(PathBuf::from(file)))
                } else {
                    Err(format!(
                        "`{other}`: choose none, spawn, connect=HOST:PORT or save=FILE.rrd"
                    ))
                }
            }
        }
    }
}

/// A colour for `v` in `[0, 1]`: blue, cyan, green, yellow, red (a turbo-like ramp).
pub fn ramp(v: f32) -> [u8; 3] {
    let v = if v.is_finite() {
        v.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let stops: [[f32; 3]; 5] = [
        [48.0, 18.0, 59.0],
        [40.0, 188.0, 235.0],
        [164.0, 252.0, 60.0],
        [251.0, 185.0, 56.0],
        [122.0, 4.0, 3.0],
    ];
    let x = v * 4.0;
    let i = (x.floor() as usize).min(3);
    let f = x - i as f32;
    let c = |k: usize| (stops[i][k] + (stops[i + 1][k] - stops[i][k]) * f).round() as u8;
    [c(0), c(1), c(2)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        assert_eq!("none".parse::<VizTarget>(), Ok(VizTarget::None));
        assert_eq!("spawn".parse::<VizTarget>(), Ok(VizTarget::Spawn));
        assert_eq!(
            "connect=127.0.0.1:9876".parse::<VizTarget>(),
            Ok(VizTarget::Connect(
                "rerun+http://127.0.0.1:9876/proxy".into()
            ))
        );
        assert_eq!(
            "save=a.rrd".parse::<VizTarget>(),
            Ok(VizTarget::Save(PathBuf::from("a.rrd")))
        );
        assert!("show".parse::<VizTarget>().is_err());
        assert!("save=".parse::<VizTarget>().is_err());
        assert_eq!(ramp(0.0), [48, 18, 59]);
        assert_eq!(ramp(1.0), [122, 4, 3]);
    }
}
