//! The KITTI odometry tree: `sequences/SS/velodyne/*.bin`, `sequences/SS/times.txt`,
//! `sequences/SS/calib.txt` and reference poses `poses/SS.txt`. KITTI gives reference
//! poses of the left camera; they are moved to the LiDAR frame with the calibration's `Tr`
//! (LiDAR to camera): `T_lidar0_lidar = Tr⁻¹ · T_cam0_cam · Tr`.

use super::folder::scan_files;
use super::recording::Recording;
use super::times;
use crate::error::{Error, Result};
use crate::io::trajectory::{self, pose_from_3x4, Trajectory};
use nalgebra::Isometry3;
use std::path::Path;

/// True when `path` looks like a KITTI odometry root (has a `sequences/` folder).
pub fn is_kitti_root(path: &Path) -> bool {
    path.join("sequences").is_dir()
}

/// Reads `Tr` (LiDAR to camera 0) from a KITTI `calib.txt`.
pub fn read_calib_tr(path: &Path) -> Result<Isometry3<f64>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    for (i, line) in text.lines().enumerate() {
        if let Some(rest) = line.trim().strip_prefix("Tr:") {
            let v: Vec<f64> = rest
                .split_whitespace()
                .map(|w| w.parse::<f64>())
                .collect::<std::result::Result<_, _>>()
                .map_err(|_| Error::line(path, i + 1, "Tr: holds a value that is not a number"))?;
            if v.len() != 12 {
                return Err(Error::line(
                    path,
                    i + 1,
                    format!("Tr: has {} numbers, expected 12", v.len()),
                ));
            }
            return Ok(pose_from_3x4(&v));
        }
    }
    Err(Error::format(
        path,
        "no 'Tr:' line (LiDAR to camera calibration)",
    ))
}

/// Moves camera-frame reference poses to the LiDAR frame.
pub fn camera_to_lidar(camera: &Trajectory, tr: &Isometry3<f64>) -> Trajectory {
    let tr_inv = tr.inverse();
    Trajectory {
        stamps: camera.stamps.clone(),
        poses: camera.poses.iter().map(|p| tr_inv * p * tr).collect(),
    }
}

/// Opens sequence `sequence` of a KITTI root (or its only sequence when `None`).
pub fn open(root: &Path, sequence: Option<&str>) -> Result<Recording> {
    let sequences = root.join("sequences");
    let mut available: Vec<String> = std::fs::read_dir(&sequences)
        .map_err(|e| Error::io(&sequences, e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("velodyne").is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    available.sort();
    let seq = match sequence {
        Some(s) => s.to_string(),
        None if available.len() == 1 => available[0].clone(),
        None => {
            return Err(Error::format(
                root,
                format!(
                    "KITTI root with {} sequences: choose one with SEQUENCE (available: {})",
                    available.len(),
                    available.join(", ")
                ),
            ))
        }
    };
    let dir = sequences.join(&seq);
    if !available.contains(&seq) {
        return Err(Error::format(
            &dir,
            format!(
                "no such KITTI sequence with a velodyne/ folder (available: {})",
                available.join(", ")
            ),
        ));
    }
    let scans = scan_files(&dir.join("velodyne"))?;
    if scans.is_empty() {
        return Err(Error::format(dir.join("velodyne"), "no scan files"));
    }
    let times_path = dir.join("times.txt");
    let stamps = if times_path.is_file() {
        let t = times::read(&times_path)?;
        times::check_one_per_scan(&times_path, t.len(), "time", scans.len())?;
        Some(t)
    } else {
        None
    };
    let poses_path = root.join("poses").join(format!("{seq}.txt"));
    let reference = if poses_path.is_file() {
        let camera = trajectory::read(&poses_path)?;
        times::check_one_per_scan(&poses_path, camera.len(), "pose", scans.len())?;
        let tr = read_calib_tr(&dir.join("calib.txt"))?;
        Some(camera_to_lidar(&camera, &tr))
    } else {
        None
    };
    Recording::from_parts(
        format!("kitti-{seq}"),
        "velodyne".into(),
        scans,
        stamps,
        reference,
    )
}
