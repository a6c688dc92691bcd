//! CARMEN logs of planar lasers (`.clf`, `.log`), the format of the classic 2D SLAM
//! benchmarks: one message per line, `NAME fields... ipc_timestamp ipc_hostname
//! logger_timestamp`. The laser lines read are
//!
//! - `FLASER n r1..rn x y theta odom_x odom_y odom_theta ...` (no angles in the line: the
//!   beams spread evenly over [`OpenOptions::fov_deg`], 180° unless said, centred ahead),
//! - `ROBOTLASER1 type start_angle fov resolution max_range accuracy remission_mode n r1..rn
//!   m e1..em laser_x laser_y laser_theta robot_x robot_y robot_theta tv rv forward_safety
//!   side_safety turn_axis ...`,
//! - `RAWLASER1 type start_angle fov resolution max_range accuracy remission_mode n r1..rn
//!   m e1..em ...`,
//!
//! and `ODOM x y theta tv rv accel ...` gives the wheel odometry of `RAWLASER1` scans, whose
//! lines carry no pose. Each scan's stamp is its line's `ipc_timestamp` (the benchmark's
//! relations refer to it). `PARAM robot_frontlaser_offset` (metres ahead of the robot's
//! centre) and `ROBOTLASER1`'s laser pose place the points in the robot's frame, so that
//! poses estimated from them are the robot's, as the odometry and the relations are.
//!
//! A log may hold the same scans in several kinds of line; one kind is read, the first of
//! `ROBOTLASER1`, `FLASER`, `RAWLASER1` that the log has. A first pass over the file (line
//! names and stamps only) counts them, for `lidarflow info` and to choose; then the scans
//! stream line by line.
//!
//! No returns: NaN, negative and zero ranges, and readings at or beyond the maximum range
//! (given by `ROBOTLASER1` and `RAWLASER1` lines; for `FLASER`, the largest reading of the
//! log's first laser lines when it recurs, as a scanner's saturation value does).

use super::source::{OpenOptions, ScanSource, SourceInfo, SourceScan};
use crate::cloud::PointCloud;
use crate::error::{Error, Result};
use nalgebra::{Isometry3, Point3, Translation3, UnitQuaternion, Vector3};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Readings per line at most: a count read from the file beyond this is malformed (the
/// widest planar scanners give a few thousand beams).
pub const MAX_BEAMS: usize = 100_000;

/// Malformed lines named one by one in warnings; beyond, only counted.
const NAMED_MALFORMED: usize = 10;

/// Laser lines looked at for the saturation value of `FLASER` readings.
const SATURATION_LINES: usize = 200;

/// The kinds of laser line read, in order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaserKind {
    /// `ROBOTLASER1`: geometry, laser and robot poses in the line.
    RobotLaser1,
    /// `FLASER`: ranges and the robot's pose; geometry assumed.
    Flaser,
    /// `RAWLASER1`: geometry, no pose.
    RawLaser1,
}

impl LaserKind {
    /// The message name in the log.
    pub fn name(self) -> &'static str {
        match self {
            LaserKind::RobotLaser1 => "ROBOTLASER1",
            LaserKind::Flaser => "FLASER",
            LaserKind::RawLaser1 => "RAWLASER1",
        }
    }

    fn of(name: &str) -> Option<LaserKind> {
        match name {
            "ROBOTLASER1" => Some(LaserKind::RobotLaser1),
            "FLASER" => Some(LaserKind::Flaser),
            "RAWLASER1" => Some(LaserKind::RawLaser1),
            _ => None,
        }
    }
}

/// A planar pose: metres and radians.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Pose2 {
    /// Ahead, metres.
    pub x: f64,
    /// Left, metres.
    pub y: f64,
    /// Heading, radians (counter-clockwise).
    pub theta: f64,
}

impl Pose2 {
    /// The pose in 3D, on the ground plane (z = 0).
    pub fn to_isometry(self) -> Isometry3<f64> {
        Isometry3::from_parts(
            Translation3::new(self.x, self.y, 0.0),
            UnitQuaternion::from_axis_angle(&Vector3::z_axis(), self.theta),
        )
    }

    /// `self⁻¹ · other`: `other` in the frame of `self`.
    pub fn between(self, other: Pose2) -> Pose2 {
        let (s, c) = self.theta.sin_cos();
        let (dx, dy) = (other.x - self.x, other.y - self.y);
        Pose2 {
            x: c * dx + s * dy,
            y: -s * dx + c * dy,
            theta: wrap(other.theta - self.theta),
        }
    }

    /// `self · other`.
    pub fn compose(self, other: Pose2) -> Pose2 {
        let (s, c) = self.theta.sin_cos();
        Pose2 {
            x: self.x + c * other.x - s * other.y,
            y: self.y + s * other.x + c * other.y,
            theta: wrap(self.theta + other.theta),
        }
    }
}

/// An angle in (−π, π].
pub fn wrap(a: f64) -> f64 {
    let mut a = a % std::f64::consts::TAU;
    if a > std::f64::consts::PI {
        a -= std::f64::consts::TAU;
    } else if a <= -std::f64::consts::PI {
        a += std::f64::consts::TAU;
    }
    a
}

/// One decoded laser line.
#[derive(Debug, Clone, PartialEq)]
pub struct LaserLine {
    /// Which kind of line.
    pub kind: LaserKind,
    /// Angle of the first beam, radians.
    pub start_angle: f64,
    /// Angle between beams, radians.
    pub resolution: f64,
    /// Readings at or beyond this are no returns, metres (`None`: not in the line).
    pub max_range: Option<f64>,
    /// The readings, metres, in beam order.
    pub ranges: Vec<f64>,
    /// Remission (intensity) per beam, when the line has one per reading.
    pub remissions: Option<Vec<f64>>,
    /// The robot's odometry pose, when the line carries it.
    pub odometry: Option<Pose2>,
    /// The laser's pose in the robot's frame, when the line says it (`ROBOTLASER1`).
    pub laser_offset: Option<Pose2>,
    /// `ipc_timestamp`, seconds.
    pub stamp: f64,
}

/// Why a laser line was not decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum LineError {
    /// A field is not a number (or a count is absurd): the line is skipped and counted.
    Malformed(String),
    /// The line holds another number of fields than its counts say: the log is not what
    /// the reader thinks, an error.
    CountMismatch(String),
}

fn number(tokens: &[&str], i: usize, what: &str) -> std::result::Result<f64, LineError> {
    let t = tokens
        .get(i)
        .ok_or_else(|| LineError::Malformed(format!("ends before its {what}")))?;
    t.parse::<f64>()
        .map_err(|_| LineError::Malformed(format!("{what} `{t}` is not a number")))
}

fn finite(tokens: &[&str], i: usize, what: &str) -> std::result::Result<f64, LineError> {
    let v = number(tokens, i, what)?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(LineError::Malformed(format!("{what} is {v}")))
    }
}

fn count(tokens: &[&str], i: usize, what: &str) -> std::result::Result<usize, LineError> {
    let t = tokens
        .get(i)
        .ok_or_else(|| LineError::Malformed(format!("ends before its {what}")))?;
    let n: usize = t
        .parse()
        .map_err(|_| LineError::Malformed(format!("{what} `{t}` is not a count")))?;
    if n > MAX_BEAMS {
        return Err(LineError::Malformed(format!(
            "{what} {n} is more than {MAX_BEAMS}"
        )));
    }
    Ok(n)
}

fn pose(tokens: &[&str], i: usize, what: &str) -> std::result::Result<Pose2, LineError> {
    Ok(Pose2 {
        x: finite(tokens, i, what)?,
        y: finite(tokens, i + 1, what)?,
        theta: finite(tokens, i + 2, what)?,
    })
}

/// Readings `tokens[at..at + n]`; NaN stays NaN (a no return), other words are malformed.
fn readings(
    tokens: &[&str],
    at: usize,
    n: usize,
    what: &str,
) -> std::result::Result<Vec<f64>, LineError> {
    let end = at
        .checked_add(n)
        .ok_or_else(|| LineError::Malformed(format!("{what} count overflows")))?;
    let slice = tokens
        .get(at..end)
        .ok_or_else(|| LineError::Malformed(format!("ends before its {what}")))?;
    slice
        .iter()
        .map(|t| {
            t.parse::<f64>()
                .map_err(|_| LineError::Malformed(format!("{what} `{t}` is not a number")))
        })
        .collect()
}

/// Decodes the whitespace-separated `tokens` of a laser line (the message name first).
/// `fov_deg` is the field of view of `FLASER` lines, which do not say it.
pub fn parse_laser_line(
    tokens: &[&str],
    fov_deg: f64,
) -> std::result::Result<LaserLine, LineError> {
    let name = tokens.first().copied().unwrap_or_default();
    let kind = LaserKind::of(name)
        .ok_or_else(|| LineError::Malformed(format!("`{name}` is not a laser line")))?;
    let mismatch = |expected: usize, counts: &str| {
        LineError::CountMismatch(format!(
            "{} fields where its {counts} make {expected}",
            tokens.len()
        ))
    };
    match kind {
        LaserKind::Flaser => {
            let n = count(tokens, 1, "reading count")?;
            // name, n, readings, pose, odometry pose, ipc time, host, logger time
            let expected = 2 + n + 6 + 3;
            if tokens.len() != expected {
                return Err(mismatch(expected, &format!("{n} readings")));
            }
            let ranges = readings(tokens, 2, n, "reading")?;
            let odometry = pose(tokens, 2 + n + 3, "odometry pose")?;
            let stamp = finite(tokens, 2 + n + 6, "ipc_timestamp")?;
            let fov = fov_deg.to_radians();
            let resolution = if n > 1 { fov / (n - 1) as f64 } else { 0.0 };
            Ok(LaserLine {
                kind,
                start_angle: -fov / 2.0,
                resolution,
                max_range: None,
                ranges,
                remissions: None,
                odometry: Some(odometry),
                laser_offset: None,
                stamp,
            })
        }
        LaserKind::RobotLaser1 | LaserKind::RawLaser1 => {
            let start_angle = finite(tokens, 2, "start angle")?;
            let resolution = finite(tokens, 4, "angular resolution")?;
            let max_range = number(tokens, 5, "maximum range")?;
            let n = count(tokens, 8, "reading count")?;
            let m = count(tokens, 9 + n, "remission count")?;
            let tail = if kind == LaserKind::RobotLaser1 {
                14
            } else {
                3
            };
            let expected = 10 + n + m + tail;
            if tokens.len() != expected {
                return Err(mismatch(
                    expected,
                    &format!("{n} readings and {m} remissions"),
                ));
            }
            let ranges = readings(tokens, 9, n, "reading")?;
            let remissions = readings(tokens, 10 + n, m, "remission")?;
            let after = 10 + n + m;
            let (odometry, laser_offset, stamp_at) = if kind == LaserKind::RobotLaser1 {
                let laser = pose(tokens, after, "laser pose")?;
                let robot = pose(tokens, after + 3, "robot pose")?;
                (Some(robot), Some(robot.between(laser)), after + 11)
            } else {
                (None, None, after)
            };
            let stamp = finite(tokens, stamp_at, "ipc_timestamp")?;
            Ok(LaserLine {
                kind,
                start_angle,
                resolution,
                max_range: (max_range.is_finite() && max_range > 0.0).then_some(max_range),
                remissions: (m == n && n > 0).then_some(remissions),
                ranges,
                odometry,
                laser_offset,
                stamp,
            })
        }
    }
}

impl LaserLine {
    /// The returns as points in the robot's frame (the laser placed by `offset`), with their
    /// remissions when the line has them. `max_range` applies when the line gives none.
    pub fn cloud(&self, offset: Pose2, max_range: Option<f64>) -> Result<PointCloud> {
        let limit = self.max_range.or(max_range).unwrap_or(f64::INFINITY);
        let mount = self.laser_offset.unwrap_or(offset);
        let (s, c) = mount.theta.sin_cos();
        let mut points = Vec::with_capacity(self.ranges.len());
        let mut intensity = Vec::new();
        for (i, &r) in self.ranges.iter().enumerate() {
            // NaN fails both comparisons: no return.
            if !(r > 0.0 && r < limit) {
                continue;
            }
            let a = self.start_angle + i as f64 * self.resolution;
            let (lx, ly) = (r * a.cos(), r * a.sin());
            points.push(Point3::new(
                mount.x + c * lx - s * ly,
                mount.y + s * lx + c * ly,
                0.0,
            ));
            if let Some(e) = &self.remissions {
                intensity.push(e.get(i).copied().unwrap_or(0.0) as f32);
            }
        }
        let mut cloud = PointCloud::new(points);
        if self.remissions.is_some() {
            cloud = cloud.with_intensity(intensity)?;
        }
        Ok(cloud.with_stamp(self.stamp).with_sensor("planar laser"))
    }
}

/// What the first pass over a log found.
#[derive(Debug, Clone, Default)]
pub struct Survey {
    /// Lines per message name (comments and blank lines left out).
    pub messages: BTreeMap<String, usize>,
    /// The laser kind read, when the log has any.
    pub laser: Option<LaserKind>,
    /// Lines of that kind.
    pub scans: usize,
    /// Readings in the first line of that kind.
    pub beams: Option<usize>,
    /// First beam angle and spacing of the first line of that kind, radians.
    pub geometry: Option<(f64, f64)>,
    /// Maximum range of the first line of that kind (or the saturation value), metres.
    pub max_range: Option<f64>,
    /// First and last stamp of the scans.
    pub span: Option<(f64, f64)>,
    /// Median time between scans, seconds.
    pub median_interval: Option<f64>,
    /// How often a scan's stamp is before the previous scan's, and the first line where.
    pub backwards: (usize, usize),
    /// `PARAM robot_frontlaser_offset`, metres ahead.
    pub front_offset: Option<f64>,
}

/// The last field but two of a line: its `ipc_timestamp`.
fn ipc_stamp(tokens: &[&str]) -> Option<f64> {
    let i = tokens.len().checked_sub(3)?;
    tokens.get(i)?.parse::<f64>().ok().filter(|t| t.is_finite())
}

/// The first pass: message counts, the laser kind to read and its figures.
pub fn survey(path: &Path, fov_deg: f64) -> Result<Survey> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::new(file);
    let mut s = Survey::default();
    let mut line = String::new();
    // Stamps per laser kind, gathered for the one that will be read.
    let mut stamps: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    let mut first_lines: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    loop {
        line.clear();
        let n = read_line(&mut reader, &mut line).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        let mut tokens = line.split_whitespace();
        let Some(name) = tokens.next() else { continue };
        if name.starts_with('#') {
            continue;
        }
        *s.messages.entry(name.to_string()).or_default() += 1;
        if name == "PARAM" {
            if tokens.next() == Some("robot_frontlaser_offset") {
                s.front_offset = tokens
                    .next()
                    .and_then(|v| v.parse::<f64>().ok())
                    .filter(|v| v.is_finite());
            }
            continue;
        }
        if let Some(kind) = LaserKind::of(name) {
            let all: Vec<&str> = line.split_whitespace().collect();
            let list = stamps.entry(kind.name()).or_default();
            list.push(ipc_stamp(&all).unwrap_or(f64::NAN));
            let firsts = first_lines.entry(kind.name()).or_default();
            if firsts.len() < SATURATION_LINES {
                firsts.push(line.clone());
            }
        }
    }
    let kind = [
        LaserKind::RobotLaser1,
        LaserKind::Flaser,
        LaserKind::RawLaser1,
    ]
    .into_iter()
    .find(|k| stamps.contains_key(k.name()));
    let Some(kind) = kind else {
        return Ok(s);
    };
    s.laser = Some(kind);
    let list = stamps.remove(kind.name()).unwrap_or_default();
    s.scans = list.len();
    let good: Vec<f64> = list.iter().copied().filter(|t| t.is_finite()).collect();
    s.span = good.first().zip(good.last()).map(|(a, b)| (*a, *b));
    let mut intervals = Vec::new();
    for (i, w) in good.windows(2).enumerate() {
        if w[1] < w[0] {
            if s.backwards.0 == 0 {
                s.backwards.1 = i + 1;
            }
            s.backwards.0 += 1;
        } else {
            intervals.push(w[1] - w[0]);
        }
    }
    if !intervals.is_empty() {
        let k = intervals.len() / 2;
        let (_, m, _) = intervals.select_nth_unstable_by(k, f64::total_cmp);
        s.median_interval = Some(*m);
    }
    // Geometry from the first line that decodes; for FLASER, the saturation value.
    let lines = first_lines.remove(kind.name()).unwrap_or_default();
    let decoded: Vec<LaserLine> = lines
        .iter()
        .filter_map(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            parse_laser_line(&t, fov_deg).ok()
        })
        .collect();
    if let Some(first) = decoded.first() {
        s.beams = Some(first.ranges.len());
        s.geometry = Some((first.start_angle, first.resolution));
        s.max_range = first.max_range;
    }
    if kind == LaserKind::Flaser {
        s.max_range = saturation(&decoded);
    }
    Ok(s)
}

/// The largest finite reading of `lines`, when at least a tenth of them hold it exactly:
/// a scanner reports beams without a return at its saturation value (81.91 m for a SICK
/// LMS in centimetre mode), which recurs; a true far return does not recur to the
/// millimetre.
pub fn saturation(lines: &[LaserLine]) -> Option<f64> {
    let max = lines
        .iter()
        .flat_map(|l| l.ranges.iter().copied())
        .filter(|r| r.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() || max <= 0.0 {
        return None;
    }
    let holding = lines.iter().filter(|l| l.ranges.contains(&max)).count();
    (holding * 10 >= lines.len() && holding >= 2).then_some(max)
}

/// Reads one line, bytes that are not UTF-8 replaced (a log is text; a stray byte makes its
/// line malformed, not the whole log unreadable).
fn read_line(reader: &mut impl BufRead, line: &mut String) -> std::io::Result<usize> {
    let mut bytes = Vec::new();
    let n = reader.read_until(b'\n', &mut bytes)?;
    line.push_str(&String::from_utf8_lossy(&bytes));
    Ok(n)
}

/// A CARMEN log as a stream of scans (see the module's documentation).
pub struct CarmenSource {
    path: PathBuf,
    reader: BufReader<File>,
    line: String,
    line_no: usize,
    kind: LaserKind,
    fov_deg: f64,
    offset: Pose2,
    max_range: Option<f64>,
    info: SourceInfo,
    warnings: Vec<String>,
    malformed: usize,
    /// The last `ODOM` line: stamp, pose, forward and turn rates.
    last_odom: Option<(f64, Pose2, f64, f64)>,
    /// Whether the end of the file was reached.
    done: bool,
    /// Scans delivered so far.
    delivered: usize,
}

/// Opens a CARMEN log.
pub fn open(path: &Path, options: &OpenOptions) -> Result<CarmenSource> {
    let fov_deg = options.fov_deg.unwrap_or(180.0);
    if !(fov_deg.is_finite() && fov_deg > 0.0 && fov_deg <= 360.0) {
        return Err(Error::format(
            path,
            format!("field of view {fov_deg}° is not in (0, 360]"),
        ));
    }
    let s = survey(path, fov_deg)?;
    let Some(kind) = s.laser else {
        let seen = if s.messages.is_empty() {
            "no messages at all".to_string()
        } else {
            s.messages
                .iter()
                .map(|(k, v)| format!("{k} ×{v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(Error::format(
            path,
            format!("no laser lines (FLASER, ROBOTLASER1 or RAWLASER1) in this CARMEN log: {seen}"),
        ));
    };
    let mut warnings = Vec::new();
    if s.backwards.0 > 0 {
        warnings.push(format!(
            "time goes backwards {} times between {} lines (first at scan {}): scans kept in \
             the log's order",
            s.backwards.0,
            kind.name(),
            s.backwards.1
        ));
    }
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let info = describe(path, &s, kind, fov_deg);
    Ok(CarmenSource {
        path: path.to_path_buf(),
        reader: BufReader::new(file),
        line: String::new(),
        line_no: 0,
        kind,
        fov_deg,
        offset: Pose2 {
            x: s.front_offset.unwrap_or(0.0),
            ..Pose2::default()
        },
        max_range: s.max_range,
        info,
        warnings,
        malformed: 0,
        last_odom: None,
        done: false,
        delivered: 0,
    })
}

fn describe(path: &Path, s: &Survey, kind: LaserKind, fov_deg: f64) -> SourceInfo {
    let mut details = vec![
        ("laser lines".to_string(), kind.name().to_string()),
        ("scans".to_string(), s.scans.to_string()),
    ];
    if let Some(b) = s.beams {
        details.push(("beams".into(), b.to_string()));
    }
    if let (Some((start, res)), Some(b)) = (s.geometry, s.beams) {
        let fov = res * b.saturating_sub(1) as f64;
        let given = if kind == LaserKind::Flaser {
            if fov_deg == 180.0 {
                " (FLASER lines do not say it: 180° assumed, `fov_deg` changes it)"
            } else {
                " (given by `fov_deg`)"
            }
        } else {
            ""
        };
        details.push((
            "field of view".into(),
            format!(
                "{:.1}° from {:.1}°, beams {:.3}° apart{given}",
                fov.to_degrees(),
                start.to_degrees(),
                res.to_degrees()
            ),
        ));
    }
    details.push((
        "max range".into(),
        match s.max_range {
            Some(r) => format!("{r} m (readings at or beyond are no returns)"),
            None => "not given (every positive reading is a return)".into(),
        },
    ));
    if let Some(m) = s.median_interval.filter(|m| *m > 0.0) {
        details.push((
            "rate".into(),
            format!("{:.2} Hz (median interval {:.3} s)", 1.0 / m, m),
        ));
    }
    if let Some((a, b)) = s.span {
        details.push((
            "time".into(),
            format!("{a:.3} to {b:.3} s ipc_timestamp ({:.1} s)", b - a),
        ));
    }
    let odom_lines = s.messages.get("ODOM").copied().unwrap_or(0);
    let odometry = match kind {
        LaserKind::Flaser | LaserKind::RobotLaser1 => {
            format!("yes: the robot's pose in each {} line", kind.name())
        }
        LaserKind::RawLaser1 if odom_lines > 0 => {
            format!("yes: {odom_lines} ODOM lines (the last before each scan)")
        }
        LaserKind::RawLaser1 => "no".to_string(),
    };
    details.push(("wheel odometry".into(), odometry));
    if let Some(o) = s.front_offset {
        details.push(("laser offset".into(), format!("{o} m ahead (PARAM)")));
    }
    if s.backwards.0 > 0 {
        details.push((
            "time backwards".into(),
            format!("{} times (scans kept in the log's order)", s.backwards.0),
        ));
    }
    details.push((
        "messages".into(),
        s.messages
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", "),
    ));
    SourceInfo {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        kind: "CARMEN log".into(),
        details,
        scan_count: Some(s.scans),
        reference: None,
    }
}

impl CarmenSource {
    /// The laser kind read.
    pub fn laser(&self) -> LaserKind {
        self.kind
    }

    /// Laser lines skipped as malformed so far.
    pub fn malformed(&self) -> usize {
        self.malformed
    }

    fn odometry_at(&self, stamp: f64) -> Option<Pose2> {
        let (t, pose, tv, rv) = self.last_odom?;
        // The last ODOM before the scan, carried forward at its rates over the short wait.
        let dt = stamp - t;
        if !(0.0..=0.5).contains(&dt) {
            return Some(pose);
        }
        let (dtheta, ds) = (rv * dt, tv * dt);
        Some(pose.compose(Pose2 {
            x: ds * (dtheta / 2.0).cos(),
            y: ds * (dtheta / 2.0).sin(),
            theta: dtheta,
        }))
    }

    fn finish(&mut self) {
        if self.malformed > 0 {
            self.warnings.push(format!(
                "{} malformed {} lines skipped",
                self.malformed,
                self.kind.name()
            ));
        }
    }
}

impl ScanSource for CarmenSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn next_scan(&mut self) -> Option<Result<SourceScan>> {
        if self.done {
            return None;
        }
        loop {
            self.line.clear();
            match read_line(&mut self.reader, &mut self.line) {
                Ok(0) => {
                    self.done = true;
                    self.finish();
                    return None;
                }
                Ok(_) => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(Error::io(&self.path, e)));
                }
            }
            self.line_no += 1;
            let tokens: Vec<&str> = self.line.split_whitespace().collect();
            let Some(&name) = tokens.first() else {
                continue;
            };
            if name == "ODOM" && self.kind == LaserKind::RawLaser1 {
                let parsed = (|| {
                    let p = pose(&tokens, 1, "pose").ok()?;
                    let tv = finite(&tokens, 4, "tv").ok()?;
                    let rv = finite(&tokens, 5, "rv").ok()?;
                    Some((ipc_stamp(&tokens)?, p, tv, rv))
                })();
                if parsed.is_some() {
                    self.last_odom = parsed;
                }
                continue;
            }
            if LaserKind::of(name) != Some(self.kind) {
                continue;
            }
            match parse_laser_line(&tokens, self.fov_deg) {
                Ok(l) => {
                    let odometry = l
                        .odometry
                        .or_else(|| self.odometry_at(l.stamp))
                        .map(Pose2::to_isometry);
                    let cloud = match l.cloud(self.offset, self.max_range) {
                        Ok(c) => c,
                        Err(e) => {
                            self.done = true;
                            let msg = format!("line {}: {e}", self.line_no);
                            return Some(Err(Error::format(&self.path, msg)));
                        }
                    };
                    let dropped = l.ranges.iter().filter(|r| r.is_nan()).count();
                    let mut scan = SourceScan::new(
                        cloud,
                        format!("{} line {}", self.path.display(), self.line_no),
                    );
                    scan.dropped_non_finite = dropped;
                    scan.odometry = odometry;
                    self.delivered += 1;
                    return Some(Ok(scan));
                }
                Err(LineError::Malformed(why)) => {
                    self.malformed += 1;
                    if self.malformed <= NAMED_MALFORMED {
                        self.warnings.push(format!(
                            "line {}: malformed {} line skipped: {why}",
                            self.line_no, name
                        ));
                    }
                }
                Err(LineError::CountMismatch(why)) if !self.line.ends_with('\n') => {
                    // The last line, without its newline: a log cut short.
                    self.warnings.push(format!(
                        "line {}: the log ends in the middle of this {name} line ({why}): it \
                         was cut short; the {} scans before it are delivered",
                        self.line_no, self.delivered
                    ));
                }
                Err(LineError::CountMismatch(why)) if self.delivered > 0 => {
                    // One damaged line among good ones: skipped and counted.
                    self.malformed += 1;
                    if self.malformed <= NAMED_MALFORMED {
                        self.warnings.push(format!(
                            "line {}: {name} line has {why}; skipped",
                            self.line_no
                        ));
                    }
                }
                Err(LineError::CountMismatch(why)) => {
                    // The first laser line already disagrees: not a layout this reads.
                    self.done = true;
                    return Some(Err(Error::format(
                        &self.path,
                        format!("line {}: {name} line has {why}", self.line_no),
                    )));
                }
            }
        }
    }

    fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    #[test]
    fn flaser_beams_spread_over_the_field_of_view() {
        let l = parse_laser_line(
            &line("FLASER 3 1.0 2.0 81.91 0 0 0 1.5 2.5 0.25 100.5 host 100.6"),
            180.0,
        )
        .unwrap();
        assert_eq!(l.ranges, vec![1.0, 2.0, 81.91]);
        assert!((l.start_angle + std::f64::consts::FRAC_PI_2).abs() < 1e-12);
        assert!((l.resolution - std::f64::consts::FRAC_PI_2).abs() < 1e-12);
        assert_eq!(
            l.odometry,
            Some(Pose2 {
                x: 1.5,
                y: 2.5,
                theta: 0.25
            })
        );
        assert_eq!(l.stamp, 100.5);
        let c = l.cloud(Pose2::default(), Some(81.91)).unwrap();
        assert_eq!(c.len(), 2, "the saturated reading is no return");
        // First beam at −90°: straight to the right.
        assert!((c.points()[0] - Point3::new(0.0, -1.0, 0.0)).norm() < 1e-12);
        assert!((c.points()[1] - Point3::new(2.0, 0.0, 0.0)).norm() < 1e-12);
        assert_eq!(c.stamp, 100.5);
    }

    #[test]
    fn robotlaser_places_points_in_the_robot_frame() {
        // Laser 0.2 m ahead of a robot at (1, 0) heading 0; one beam straight ahead.
        let l = parse_laser_line(
            &line(
                "ROBOTLASER1 0 0.0 0.0 0.01 50 0.01 0 1 3.0 1 77 1.2 0 0 1.0 0 0 0.1 0 0 0 0 \
                 7.0 h 7.1",
            ),
            180.0,
        )
        .unwrap();
        assert!((l.laser_offset.unwrap().x - 0.2).abs() < 1e-12);
        let c = l.cloud(Pose2::default(), None).unwrap();
        assert!((c.points()[0] - Point3::new(3.2, 0.0, 0.0)).norm() < 1e-12);
        assert_eq!(c.intensity(), Some(&[77.0f32][..]));
        assert_eq!(l.stamp, 7.0);
    }

    #[test]
    fn bad_fields_are_malformed_and_wrong_counts_are_mismatches() {
        let e = parse_laser_line(&line("FLASER 2 1.0 x 0 0 0 0 0 0 1 h 1"), 180.0);
        assert!(matches!(e, Err(LineError::Malformed(_))), "{e:?}");
        let e = parse_laser_line(&line("FLASER 3 1.0 2.0 0 0 0 0 0 0 1 h 1"), 180.0);
        assert!(matches!(e, Err(LineError::CountMismatch(_))), "{e:?}");
        let e = parse_laser_line(&line("FLASER 99999999999 1.0"), 180.0);
        assert!(matches!(e, Err(LineError::Malformed(_))), "{e:?}");
        let e = parse_laser_line(
            &line("RAWLASER1 0 0 3.1 0.1 50 0.01 0 18446744073709551615"),
            180.0,
        );
        assert!(matches!(e, Err(LineError::Malformed(_))), "{e:?}");
    }

    #[test]
    fn nan_and_negative_readings_are_no_returns() {
        let l = parse_laser_line(&line("FLASER 3 nan -1.0 2.0 0 0 0 0 0 0 1 h 1"), 90.0).unwrap();
        assert_eq!(l.cloud(Pose2::default(), None).unwrap().len(), 1);
    }

    #[test]
    fn poses_compose_and_invert() {
        let a = Pose2 {
            x: 1.0,
            y: 2.0,
            theta: 0.5,
        };
        let b = Pose2 {
            x: -0.3,
            y: 0.7,
            theta: 3.0,
        };
        let back = a.compose(a.between(b));
        assert!((back.x - b.x).abs() < 1e-12 && (back.y - b.y).abs() < 1e-12);
        assert!(wrap(back.theta - b.theta).abs() < 1e-12);
        assert!((wrap(3.0 * std::f64::consts::PI) - std::f64::consts::PI).abs() < 1e-12);
    }

    #[test]
    fn saturation_needs_to_recur() {
        let mk = |r: Vec<f64>| LaserLine {
            kind: LaserKind::Flaser,
            start_angle: 0.0,
            resolution: 0.1,
            max_range: None,
            ranges: r,
            remissions: None,
            odometry: None,
            laser_offset: None,
            stamp: 0.0,
        };
        let lines = vec![mk(vec![1.0, 81.91]), mk(vec![81.91, 2.0]), mk(vec![3.0])];
        assert_eq!(saturation(&lines), Some(81.91));
        let lines = vec![mk(vec![1.0, 40.0]), mk(vec![3.0, 2.0]), mk(vec![3.0])];
        assert_eq!(saturation(&lines), None);
    }
}
