//! Trajectories: TUM (`t x y z qx qy qz qw`) and KITTI (12 numbers, row-major 3x4 `[R|t]`),
//! written with every digit needed to read back the same `f64`.

use super::atomic;
use crate::error::{Error, Result};
use nalgebra::{Isometry3, Matrix3, Quaternion, Rotation3, Translation3, UnitQuaternion};
use std::io::Write;
use std::path::Path;

/// Poses (`T_world_sensor`), each with a stamp in seconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trajectory {
    /// Stamps, seconds; for KITTI files, which have none, the line index.
    pub stamps: Vec<f64>,
    /// Poses of the sensor in the world frame.
    pub poses: Vec<Isometry3<f64>>,
}

impl Trajectory {
    /// Number of poses.
    pub fn len(&self) -> usize {
        self.poses.len()
    }

    /// True when there are no poses.
    pub fn is_empty(&self) -> bool {
        self.poses.is_empty()
    }

    /// Appends a pose.
    pub fn push(&mut self, stamp: f64, pose: Isometry3<f64>) {
        self.stamps.push(stamp);
        self.poses.push(pose);
    }

    /// Length of the path through the positions, metres.
    pub fn path_length(&self) -> f64 {
        self.poses
            .windows(2)
            .map(|w| (w[1].translation.vector - w[0].translation.vector).norm())
            .sum()
    }
}

fn numbers(path: &Path, line_no: usize, line: &str) -> Result<Vec<f64>> {
    line.split_whitespace()
        .map(|w| {
            w.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| Error::line(path, line_no, format!("'{w}' is not a finite number")))
        })
        .collect()
}

fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

/// A pose from a row-major 3x4 `[R|t]`, re-orthonormalised (files carry rounding).
pub fn pose_from_3x4(v: &[f64]) -> Isometry3<f64> {
    let m = Matrix3::new(v[0], v[1], v[2], v[4], v[5], v[6], v[8], v[9], v[10]);
    let rotation = UnitQuaternion::from_rotation_matrix(&Rotation3::from_matrix(&m));
    Isometry3::from_parts(Translation3::new(v[3], v[7], v[11]), rotation)
}

/// The row-major 3x4 `[R|t]` of a pose.
pub fn pose_to_3x4(pose: &Isometry3<f64>) -> [f64; 12] {
    let m = pose.to_homogeneous();
    let mut out = [0.0; 12];
    for r in 0..3 {
        for c in 0..4 {
            out[4 * r + c] = m[(r, c)];
        }
    }
    out
}

/// Parses KITTI pose lines (stamps are the line indices).
pub fn parse_kitti(path: &Path, text: &str) -> Result<Trajectory> {
    let mut traj = Trajectory::default();
    for (line_no, line) in data_lines(text) {
        let v = numbers(path, line_no, line)?;
        if v.len() != 12 {
            return Err(Error::line(
                path,
                line_no,
                format!("{} numbers, a KITTI pose has 12", v.len()),
            ));
        }
        traj.push(traj.len() as f64, pose_from_3x4(&v));
    }
    Ok(traj)
}

/// Parses TUM lines.
pub fn parse_tum(path: &Path, text: &str) -> Result<Trajectory> {
    let mut traj = Trajectory::default();
    for (line_no, line) in data_lines(text) {
        let v = numbers(path, line_no, line)?;
        if v.len() != 8 {
            return Err(Error::line(
                path,
                line_no,
                format!(
                    "{} numbers, a TUM pose has 8 (t x y z qx qy qz qw)",
                    v.len()
                ),
            ));
        }
        let q = Quaternion::new(v[7], v[4], v[5], v[6]);
        if q.norm() < 1e-6 {
            return Err(Error::line(path, line_no, "quaternion has zero length"));
        }
        traj.push(
            v[0],
            Isometry3::from_parts(
                Translation3::new(v[1], v[2], v[3]),
                UnitQuaternion::from_quaternion(q),
            ),
        );
    }
    Ok(traj)
}

/// The two trajectory file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `stamp x y z qx qy qz qw` per line.
    Tum,
    /// A row-major 3x4 matrix per line, no stamps.
    Kitti,
}

/// Reads a trajectory, TUM or KITTI, told apart by the count of numbers on the first line.
pub fn read(path: &Path) -> Result<Trajectory> {
    read_with_format(path).map(|(t, _)| t)
}

/// Reads a trajectory and says which format it was in.
pub fn read_with_format(path: &Path) -> Result<(Trajectory, Format)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let columns = data_lines(&text)
        .next()
        .map(|(_, line)| line.split_whitespace().count());
    match columns {
        None => Err(Error::format(path, "trajectory file has no poses")),
        Some(8) => Ok((parse_tum(path, &text)?, Format::Tum)),
        Some(_) => Ok((parse_kitti(path, &text)?, Format::Kitti)),
    }
}

/// Writes TUM lines.
pub fn write_tum(path: &Path, traj: &Trajectory) -> Result<()> {
    atomic::write_with(path, |w| {
        for (t, p) in traj.stamps.iter().zip(&traj.poses) {
            let (x, y, z) = (p.translation.x, p.translation.y, p.translation.z);
            let q = p.rotation.quaternion();
            writeln!(w, "{t} {x} {y} {z} {} {} {} {}", q.i, q.j, q.k, q.w)?;
        }
        Ok(())
    })
}

/// Writes KITTI lines.
pub fn write_kitti(path: &Path, traj: &Trajectory) -> Result<()> {
    atomic::write_with(path, |w| {
        for p in &traj.poses {
            let v = pose_to_3x4(p).map(|x| x.to_string());
            writeln!(w, "{}", v.join(" "))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::pose_from_xyz_rpy;

    fn sample() -> Trajectory {
        let mut t = Trajectory::default();
        t.push(
            1630577771.070493,
            pose_from_xyz_rpy(0.1, -2.0, 3.3333333333333335, 0.1, -0.2, 2.9),
        );
        t.push(
            1630577771.567022,
            pose_from_xyz_rpy(1e-9, 7.0, -1.0, -3.0, 1.2, -1.0),
        );
        t
    }

    #[test]
    fn tum_round_trip_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.tum");
        let t = sample();
        write_tum(&path, &t).unwrap();
        let back = read(&path).unwrap();
        assert_eq!(back.stamps, t.stamps);
        for (a, b) in back.poses.iter().zip(&t.poses) {
            assert_eq!(a.translation, b.translation);
            assert!(a.rotation.angle_to(&b.rotation) < 1e-15);
        }
    }

    #[test]
    fn kitti_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.txt");
        let t = sample();
        write_kitti(&path, &t).unwrap();
        let back = read(&path).unwrap();
        assert_eq!(back.len(), 2);
        for (a, b) in back.poses.iter().zip(&t.poses) {
            assert_eq!(a.translation, b.translation);
            assert!(a.rotation.angle_to(&b.rotation) < 1e-12);
        }
    }

    #[test]
    fn bad_lines_are_named() {
        let p = Path::new("x.txt");
        let e = parse_kitti(p, "1 0 0 0 0 1 0 0 0 0 1 0\n1 2 3\n").unwrap_err();
        assert!(e.to_string().contains("x.txt:2"), "{e}");
        let e = parse_tum(p, "0 1 2 3 0 0 0 1\n0 1 2 nan 0 0 0 1\n").unwrap_err();
        assert!(
            e.to_string().contains("x.txt:2") && e.to_string().contains("nan"),
            "{e}"
        );
    }
}
