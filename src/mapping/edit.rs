//! Looking into and editing view-based maps: what a map holds, its trajectory, a slice of
//! it, two sessions joined.

use crate::error::{Error, Result};
use crate::io::trajectory::Trajectory;
use crate::io::view_map::{Keyframe, ViewMap, INDEX};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What `lidarflow map info` reports.
#[derive(Debug, Clone, Serialize)]
pub struct MapInfo {
    /// The map folder.
    pub dir: PathBuf,
    /// Sensor label.
    pub sensor: String,
    /// Keyframes.
    pub keyframes: usize,
    /// Points over all keyframes.
    pub points: usize,
    /// Length of the path through the keyframe positions, metres.
    pub path_length: f64,
    /// First and last stamp, seconds.
    pub time_span: Option<[f64; 2]>,
    /// Bounding box of the keyframe positions (min, max corners).
    pub positions_box: Option<[[f64; 3]; 2]>,
    /// Keyframes that store a reference pose.
    pub with_reference: usize,
}

/// Facts about `map` (from its index alone).
pub fn info(map: &ViewMap) -> MapInfo {
    let kfs = &map.index.keyframes;
    let traj = trajectory(map);
    let positions_box = (!kfs.is_empty()).then(|| {
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for k in kfs {
            for a in 0..3 {
                lo[a] = lo[a].min(k.pose[a]);
                hi[a] = hi[a].max(k.pose[a]);
            }
        }
        [lo, hi]
    });
    MapInfo {
        dir: map.dir.clone(),
        sensor: map.index.sensor.clone(),
        keyframes: kfs.len(),
        points: kfs.iter().map(|k| k.points).sum(),
        path_length: traj.path_length(),
        time_span: kfs.first().zip(kfs.last()).map(|(a, b)| [a.stamp, b.stamp]),
        positions_box,
        with_reference: kfs.iter().filter(|k| k.reference.is_some()).count(),
    }
}

/// The keyframe poses as a trajectory.
pub fn trajectory(map: &ViewMap) -> Trajectory {
    let mut t = Trajectory::default();
    for k in &map.index.keyframes {
        t.push(k.stamp, k.pose());
    }
    t
}

/// Copies keyframes into a new map at `out`, renumbered from 0, files copied.
fn copy_into<'a>(
    out: &Path,
    sensor: &str,
    parts: impl IntoIterator<Item = (&'a ViewMap, &'a Keyframe)>,
) -> Result<ViewMap> {
    if out.join(INDEX).exists() {
        return Err(Error::format(
            out,
            "a map exists here already; choose another folder",
        ));
    }
    let mut new = ViewMap::create(out, sensor, false)?;
    for (id, (map, k)) in parts.into_iter().enumerate() {
        let file = PathBuf::from(format!("keyframes/{id:06}.laz"));
        let from = map.scan_path(k);
        if !from.exists() {
            return Err(Error::format(
                &from,
                format!("keyframe {} file is missing", k.id),
            ));
        }
        std::fs::copy(&from, out.join(&file)).map_err(|e| Error::io(&from, e))?;
        new.index.keyframes.push(Keyframe {
            id: id as u32,
            file,
            ..k.clone()
        });
    }
    new.write_index()?;
    Ok(new)
}

/// Keyframes `from..=to` (by position in the map) of `map`, as a new map at `out`.
pub fn cut(map: &ViewMap, from: usize, to: usize, out: &Path) -> Result<ViewMap> {
    let n = map.index.keyframes.len();
    if from > to || to >= n {
        return Err(Error::Invalid(format!(
            "cannot cut keyframes {from}..={to} from a map of {n} (valid: 0..={})",
            n.saturating_sub(1)
        )));
    }
    copy_into(
        out,
        &map.index.sensor,
        map.index.keyframes[from..=to].iter().map(|k| (map, k)),
    )
}

/// The keyframes of `a` then those of `b` (sessions whose poses share a frame), as a new
/// map at `out`.
pub fn join(a: &ViewMap, b: &ViewMap, out: &Path) -> Result<ViewMap> {
    let parts = a
        .index
        .keyframes
        .iter()
        .map(|k| (a, k))
        .chain(b.index.keyframes.iter().map(|k| (b, k)));
    copy_into(out, &a.index.sensor, parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::PointCloud;
    use crate::geometry::{pose_from_xyz_rpy, Twist};
    use nalgebra::Point3;

    fn map_at(dir: &Path, n: usize, x0: f64) -> ViewMap {
        let mut m = ViewMap::create(dir, "lidar", false).unwrap();
        for i in 0..n {
            let c = PointCloud::new(vec![Point3::new(1.0, 0.0, 0.0); i + 1]).with_stamp(i as f64);
            let pose = pose_from_xyz_rpy(x0 + i as f64, 0.0, 0.0, 0.0, 0.0, 0.0);
            m.append(&c, &pose, &Twist::zeros(), None).unwrap();
        }
        m
    }

    #[test]
    fn info_cut_and_join() {
        let dir = tempfile::tempdir().unwrap();
        let a = map_at(&dir.path().join("a"), 5, 0.0);
        let b = map_at(&dir.path().join("b"), 2, 10.0);
        let i = info(&a);
        assert_eq!((i.keyframes, i.points), (5, 15));
        assert!((i.path_length - 4.0).abs() < 1e-12);
        assert_eq!(i.time_span, Some([0.0, 4.0]));
        let c = cut(&a, 1, 3, &dir.path().join("c")).unwrap();
        assert_eq!(c.index.keyframes.len(), 3);
        assert_eq!(c.index.keyframes[0].id, 0);
        assert_eq!(c.read_scan(&c.index.keyframes[0]).unwrap().len(), 2);
        assert!(cut(&a, 3, 9, &dir.path().join("d")).is_err());
        let j = join(&a, &b, &dir.path().join("j")).unwrap();
        let j = ViewMap::open(&j.dir).unwrap();
        assert_eq!(j.index.keyframes.len(), 7);
        assert_eq!(j.index.keyframes[6].id, 6);
        assert_eq!(j.read_scan(&j.index.keyframes[6]).unwrap().len(), 2);
        assert!(
            join(&a, &b, &dir.path().join("j")).is_err(),
            "refuses to overwrite"
        );
    }
}
