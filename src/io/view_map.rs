//! The view-based map on disk: a folder with `map.yaml` (the index) and one LAZ file per
//! keyframe in `keyframes/`, holding the raw scan in the sensor frame with every per-point
//! field. Per-point time is stored in the LAS `gps_time` field, in seconds relative to the
//! keyframe's stamp (not absolute), so that the stored twist de-skews it directly.
//!
//! ```yaml
//! format: lidarflow-view-map
//! version: 1
//! sensor: "velodyne"
//! keyframes:
//! - {"id": 0, "stamp": 1630577771.070493, "file": "keyframes/000000.laz", "pose": [x, y, z, qx, qy, qz, qw], "twist": [vx, vy, vz, wx, wy, wz], "points": 24133}
//! ```
//!
//! `stamp` in seconds, `file` relative to the map folder, `pose` T_world_sensor at the
//! stamp, `twist` the body twist over the sweep (m/s, rad/s), optional `reference` the
//! recording's reference pose. One keyframe per line (see [`super::map_index`]): adding a
//! keyframe writes its scan file (atomically) and then appends its line to the index, so the
//! cost of adding does not grow with the map, and a run killed half-way leaves a valid map of
//! the keyframes written so far (a line cut in the middle is dropped, with a warning, when the
//! map is opened). Maps written whole (cut, join) are written atomically.

use super::{atomic, las, map_index, read_scan};
use crate::cloud::PointCloud;
use crate::error::{Error, Result};
use crate::geometry::Twist;
use nalgebra::{Isometry3, Quaternion, Translation3, UnitQuaternion};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The value of `format:` in every map.yaml.
pub const FORMAT: &str = "lidarflow-view-map";
/// The version this build reads and writes.
pub const VERSION: u32 = 1;
/// The index file's name inside a map folder.
pub const INDEX: &str = "map.yaml";

/// One keyframe of the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keyframe {
    /// Keyframe number, unique in the map.
    pub id: u32,
    /// Stamp, seconds.
    pub stamp: f64,
    /// Scan file, relative to the map folder.
    pub file: PathBuf,
    /// Pose at the stamp: x y z qx qy qz qw.
    pub pose: [f64; 7],
    /// Body twist: vx vy vz (m/s) wx wy wz (rad/s).
    pub twist: [f64; 6],
    /// The recording's reference pose, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<[f64; 7]>,
    /// Points in the scan file.
    pub points: usize,
}

impl Keyframe {
    /// The pose as an isometry.
    pub fn pose(&self) -> Isometry3<f64> {
        from7(&self.pose)
    }

    /// The twist.
    pub fn twist(&self) -> Twist {
        Twist::from_column_slice(&self.twist)
    }

    /// The reference pose, when stored.
    pub fn reference(&self) -> Option<Isometry3<f64>> {
        self.reference.as_ref().map(from7)
    }
}

/// A pose as x y z qx qy qz qw.
pub fn to7(p: &Isometry3<f64>) -> [f64; 7] {
    let t = p.translation.vector;
    let q = p.rotation.coords;
    [t.x, t.y, t.z, q.x, q.y, q.z, q.w]
}

fn from7(v: &[f64; 7]) -> Isometry3<f64> {
    Isometry3::from_parts(
        Translation3::new(v[0], v[1], v[2]),
        UnitQuaternion::from_quaternion(Quaternion::new(v[6], v[3], v[4], v[5])),
    )
}

/// The index of a view-based map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapIndex {
    /// Always [`FORMAT`].
    pub format: String,
    /// Format version ([`VERSION`]).
    pub version: u32,
    /// Sensor label of the scans.
    pub sensor: String,
    /// Keyframes in the order they were taken.
    pub keyframes: Vec<Keyframe>,
}

impl MapIndex {
    /// An empty index for `sensor`.
    pub fn new(sensor: impl Into<String>) -> MapIndex {
        MapIndex {
            format: FORMAT.into(),
            version: VERSION,
            sensor: sensor.into(),
            keyframes: Vec::new(),
        }
    }
}

/// A map folder: where it is and its index.
#[derive(Debug, Clone)]
pub struct ViewMap {
    /// The folder.
    pub dir: PathBuf,
    /// The index.
    pub index: MapIndex,
    /// What opening the map noticed and got past (a cut last index line), to show the user.
    pub warnings: Vec<String>,
}

impl ViewMap {
    /// Opens the map in `dir` (or whose `map.yaml` is `dir`), checking format and version.
    pub fn open(dir: impl AsRef<Path>) -> Result<ViewMap> {
        let mut dir = dir.as_ref().to_path_buf();
        if dir.file_name().is_some_and(|n| n == INDEX) {
            dir.pop();
        }
        let path = dir.join(INDEX);
        if !dir.is_dir() {
            return Err(Error::format(&dir, "map folder does not exist"));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        // Check format and version first, so a map of another version says so rather than
        // failing on a field it does not know.
        #[derive(Deserialize)]
        struct Head {
            format: Option<String>,
            version: Option<u32>,
        }
        let head: Head = serde_norway::from_str(map_index::head_of(&text))
            .map_err(|e| Error::format(&path, format!("not a map index: {e}")))?;
        if head.format.as_deref() != Some(FORMAT) {
            return Err(Error::format(
                &path,
                format!("not a lidarflow view-based map (expected `format: {FORMAT}`)"),
            ));
        }
        match head.version {
            Some(VERSION) => {}
            Some(v) => {
                return Err(Error::format(
                    &path,
                    format!(
                        "map format version {v}; this lidarflow reads version {VERSION} \
                         (use the lidarflow that wrote it, or rebuild the map)"
                    ),
                ))
            }
            None => return Err(Error::format(&path, "no `version:` in the map index")),
        }
        let parsed = map_index::parse(&text)
            .map_err(|e| Error::format(&path, format!("bad map index: {e}")))?;
        let warnings = parsed
            .dropped_last_line
            .map(|w| format!("{}: {w}", path.display()))
            .into_iter()
            .collect();
        Ok(ViewMap {
            dir,
            index: parsed.index,
            warnings,
        })
    }

    /// Creates an empty map in `dir` (which must not hold a map already, unless `replace`).
    pub fn create(dir: impl AsRef<Path>, sensor: &str, replace: bool) -> Result<ViewMap> {
        let dir = dir.as_ref().to_path_buf();
        if !replace && dir.join(INDEX).exists() {
            return Err(Error::format(&dir, "a map exists here already"));
        }
        if replace && dir.join("keyframes").is_dir() {
            std::fs::remove_dir_all(dir.join("keyframes"))
                .map_err(|e| Error::io(dir.join("keyframes"), e))?;
        }
        std::fs::create_dir_all(dir.join("keyframes")).map_err(|e| Error::io(&dir, e))?;
        let map = ViewMap {
            dir,
            index: MapIndex::new(sensor),
            warnings: Vec::new(),
        };
        map.write_index()?;
        Ok(map)
    }

    /// The path of a keyframe's scan file.
    pub fn scan_path(&self, k: &Keyframe) -> PathBuf {
        self.dir.join(&k.file)
    }

    /// Reads a keyframe's scan: sensor frame, stamp set, per-point time relative to it.
    pub fn read_scan(&self, k: &Keyframe) -> Result<PointCloud> {
        let path = self.scan_path(k);
        if !path.exists() {
            return Err(Error::format(
                &path,
                format!("keyframe {} file is missing", k.id),
            ));
        }
        let scan = read_scan(&path)?;
        if scan.cloud.len() != k.points {
            return Err(Error::format(
                &path,
                format!(
                    "keyframe {} holds {} points, the index says {}",
                    k.id,
                    scan.cloud.len(),
                    k.points
                ),
            ));
        }
        Ok(scan
            .cloud
            .with_stamp(k.stamp)
            .with_sensor(self.index.sensor.clone()))
    }

    /// Adds a keyframe: writes its scan (sensor frame), then appends the index line naming
    /// it.
    pub fn append(
        &mut self,
        cloud: &PointCloud,
        pose: &Isometry3<f64>,
        twist: &Twist,
        reference: Option<&Isometry3<f64>>,
    ) -> Result<&Keyframe> {
        let id = self.index.keyframes.last().map_or(0, |k| k.id + 1);
        let file = PathBuf::from(format!("keyframes/{id:06}.laz"));
        // Times relative to the stamp: stamp 0 makes the LAS gps_time the relative time.
        let relative = cloud.clone().with_stamp(0.0);
        las::write(&self.dir.join(&file), &relative)?;
        let keyframe = Keyframe {
            id,
            stamp: cloud.stamp,
            file,
            pose: to7(pose),
            twist: twist.as_slice().try_into().expect("a twist has 6 values"),
            reference: reference.map(to7),
            points: cloud.len(),
        };
        self.append_line(&keyframe)?;
        self.index.keyframes.push(keyframe);
        Ok(self.index.keyframes.last().expect("just pushed"))
    }

    /// Appends one keyframe's line to the index file, in one write.
    fn append_line(&self, k: &Keyframe) -> Result<()> {
        let path = self.dir.join(INDEX);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(map_index::line(k).as_bytes()))
            .map_err(|e| Error::io(&path, e))
    }

    /// Writes the whole index atomically.
    pub fn write_index(&self) -> Result<()> {
        atomic::write_bytes(
            &self.dir.join(INDEX),
            map_index::encode(&self.index).as_bytes(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Point3;

    fn cloud(n: usize, stamp: f64) -> PointCloud {
        PointCloud::new((0..n).map(|i| Point3::new(i as f64, 1.0, 2.0)).collect())
            .with_intensity(vec![7.0; n])
            .unwrap()
            .with_time((0..n).map(|i| i as f32 * 0.01 - 0.02).collect())
            .unwrap()
            .with_stamp(stamp)
    }

    #[test]
    fn append_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut map = ViewMap::create(dir.path(), "lidar", false).unwrap();
        let pose = crate::geometry::pose_from_xyz_rpy(1.0, 2.0, 3.0, 0.1, 0.2, 0.3);
        let twist = Twist::from_column_slice(&[1.0, 0.0, 0.0, 0.0, 0.0, 0.5]);
        map.append(&cloud(10, 1.6e9), &pose, &twist, None).unwrap();
        map.append(&cloud(5, 1.6e9 + 0.1), &pose, &twist, Some(&pose))
            .unwrap();
        let map = ViewMap::open(dir.path()).unwrap();
        assert_eq!(map.index.keyframes.len(), 2);
        let k = &map.index.keyframes[1];
        assert_eq!(k.id, 1);
        assert!((k.pose().translation.vector - pose.translation.vector).norm() < 1e-12);
        assert!(k.reference().is_some());
        let scan = map.read_scan(k).unwrap();
        assert_eq!(scan.len(), 5);
        assert_eq!(scan.stamp, 1.6e9 + 0.1);
        // Relative times survive, negative ones too (points before the stamp).
        assert!((scan.time().unwrap()[0] + 0.02).abs() < 1e-6);
        assert!((scan.time().unwrap()[4] - 0.02).abs() < 1e-6);
        assert!(ViewMap::create(dir.path(), "lidar", false).is_err());
    }

    #[test]
    fn a_run_killed_while_appending_leaves_a_map_that_opens() {
        let dir = tempfile::tempdir().unwrap();
        let mut map = ViewMap::create(dir.path(), "lidar", false).unwrap();
        for k in 0..3 {
            map.append(
                &cloud(4, k as f64),
                &Isometry3::identity(),
                &Twist::zeros(),
                None,
            )
            .unwrap();
        }
        let index = dir.path().join(INDEX);
        let text = std::fs::read_to_string(&index).unwrap();
        // Each append added one line; the index names every keyframe.
        assert_eq!(text.lines().filter(|l| l.starts_with("- {")).count(), 3);
        std::fs::write(&index, &text[..text.len() - 30]).unwrap();
        let opened = ViewMap::open(dir.path()).unwrap();
        assert_eq!(opened.index.keyframes.len(), 2);
        assert_eq!(opened.index.keyframes, map.index.keyframes[..2]);
        assert!(
            opened.warnings.len() == 1 && opened.warnings[0].contains("map.yaml"),
            "{:?}",
            opened.warnings
        );
    }

    #[test]
    fn version_and_missing_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut map = ViewMap::create(dir.path(), "lidar", false).unwrap();
        map.append(
            &cloud(3, 1.0),
            &Isometry3::identity(),
            &Twist::zeros(),
            None,
        )
        .unwrap();
        let index = dir.path().join(INDEX);
        let text = std::fs::read_to_string(&index).unwrap();
        std::fs::write(&index, text.replace("version: 1", "version: 7")).unwrap();
        let e = ViewMap::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains("version 7") && e.contains("map.yaml"), "{e}");
        std::fs::write(&index, text).unwrap();
        std::fs::remove_file(dir.path().join("keyframes/000000.laz")).unwrap();
        let map = ViewMap::open(dir.path()).unwrap();
        let e = map
            .read_scan(&map.index.keyframes[0])
            .unwrap_err()
            .to_string();
        assert!(e.contains("000000.laz") && e.contains("missing"), "{e}");
    }
}
