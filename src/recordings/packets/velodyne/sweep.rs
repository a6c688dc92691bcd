//! Rotations (sweeps) assembled from decoded packets, cut at a fixed azimuth.
//!
//! The cut falls between firing columns: the first column whose azimuth has passed the cut
//! angle starts the next sweep, so every point of a column (all its lasers, both returns)
//! stays in one sweep and consecutive sweeps neither overlap nor leave a gap. (The ROS
//! driver's `cut_angle` cuts between whole packets instead, the packet crossing the angle
//! going whole into the sweep it ends.) A sweep that did not both start and end at the cut
//! (the capture's first and last, or one broken by a pause in the packets) is marked
//! partial.

use super::DecodedPacket;
use crate::cloud::PointCloud;
use nalgebra::Point3;
use std::collections::VecDeque;

/// A pause in the packets longer than this (seconds) ends the sweep: at 20 Hz it is two
/// rotations, at 5 Hz half of one, and azimuths alone can no longer tell how many turns
/// were missed.
pub const MAX_PAUSE_S: f64 = 0.1;
/// A sweep missing more than this many degrees in one piece is marked partial.
pub const MAX_HOLE_DEG: f64 = 20.0;

/// One rotation's points.
#[derive(Debug, Clone, Default)]
pub struct Sweep {
    /// Time of the sweep's first firing, seconds.
    pub stamp: f64,
    /// Positions, metres, ROS frame.
    pub points: Vec<Point3<f64>>,
    /// Calibrated reflectivity, 0..255.
    pub intensity: Vec<f32>,
    /// Firing time, seconds after `stamp`.
    pub time: Vec<f32>,
    /// Ring (laser ordered by elevation, the lowest 0).
    pub ring: Vec<u16>,
    /// Azimuth of each point, degrees.
    pub azimuth_deg: Vec<f32>,
    /// True when the sweep is not a whole rotation from cut to cut.
    pub partial: bool,
    /// Packets that contributed columns.
    pub packets: usize,
    /// Firing columns.
    pub columns: usize,
    /// Degrees swept from the first column to the last.
    pub coverage_deg: f64,
    /// Largest azimuth step between consecutive columns, degrees (a hole when large).
    pub largest_step_deg: f64,
    /// Firings without a return.
    pub no_returns: usize,
    /// Dual-return second returns dropped as repeats of the first.
    pub duplicates: usize,
}

impl Sweep {
    /// The sweep as a point cloud with intensity, per-point time and ring (an error only
    /// if the per-point fields were not filled one per point, which the assembler never
    /// does).
    pub fn into_cloud(self) -> crate::error::Result<PointCloud> {
        Ok(PointCloud::new(self.points)
            .with_intensity(self.intensity)?
            .with_time(self.time)?
            .with_ring(self.ring)?
            .with_stamp(self.stamp))
    }
}

/// Cuts a stream of decoded packets into sweeps.
#[derive(Debug, Clone)]
pub struct SweepAssembler {
    /// Cut azimuth, degrees in [0, 360); `None` never cuts (one sweep of everything).
    cut_deg: Option<f64>,
    current: Option<Building>,
    last_azimuth: Option<f64>,
    last_time: Option<f64>,
    /// Whether the sweep being built started at the cut.
    started_at_cut: bool,
    done: VecDeque<Sweep>,
    pauses: usize,
    packet_seq: u64,
}

#[derive(Debug, Clone)]
struct Building {
    sweep: Sweep,
    last_packet: u64,
}

impl SweepAssembler {
    /// An assembler cutting at `cut_deg` (degrees in the packets' azimuth: 0 is the
    /// sensor's front, +x; angles grow clockwise seen from above, toward -y). 0 cuts at
    /// the azimuth wrap.
    pub fn new(cut_deg: f64) -> SweepAssembler {
        let cut = if cut_deg.is_finite() {
            cut_deg.rem_euclid(360.0)
        } else {
            0.0
        };
        SweepAssembler {
            cut_deg: Some(cut),
            ..SweepAssembler::whole()
        }
    }

    /// An assembler that never cuts: everything pushed is one sweep.
    pub fn whole() -> SweepAssembler {
        SweepAssembler {
            cut_deg: None,
            current: None,
            last_azimuth: None,
            last_time: None,
            started_at_cut: false,
            done: VecDeque::new(),
            pauses: 0,
            packet_seq: 0,
        }
    }

    /// Adds a decoded packet whose first firing was at `packet_time` (seconds).
    pub fn push(&mut self, packet_time: f64, packet: &DecodedPacket) {
        self.packet_seq += 1;
        for column in &packet.columns {
            let time = packet_time + column.time_us * 1e-6;
            let az = column.azimuth_deg;
            let mut step = 0.0;
            if let (Some(prev_az), Some(prev_t), Some(cut)) =
                (self.last_azimuth, self.last_time, self.cut_deg)
            {
                let forward = (az - prev_az).rem_euclid(360.0);
                if (time - prev_t).abs() > MAX_PAUSE_S {
                    self.pauses += 1;
                    self.end(false);
                } else if forward < 180.0 {
                    // A step backwards (over 180° forward) is a misordered packet: no cut.
                    step = forward;
                    let to_cut = (cut - prev_az).rem_euclid(360.0);
                    if to_cut > 0.0 && to_cut <= forward {
                        self.end(true);
                    }
                }
            } else if let Some(prev_az) = self.last_azimuth {
                let forward = (az - prev_az).rem_euclid(360.0);
                if forward < 180.0 {
                    step = forward;
                }
            }
            self.last_azimuth = Some(az);
            self.last_time = Some(time);
            let seq = self.packet_seq;
            let building = self.current.get_or_insert_with(|| Building {
                sweep: Sweep {
                    stamp: time,
                    ..Sweep::default()
                },
                last_packet: 0,
            });
            let s = &mut building.sweep;
            if s.columns > 0 {
                s.coverage_deg += step;
                s.largest_step_deg = s.largest_step_deg.max(step);
            }
            s.columns += 1;
            if building.last_packet != seq {
                building.last_packet = seq;
                s.packets += 1;
            }
            for r in packet.returns.get(column.returns.clone()).unwrap_or(&[]) {
                s.points.push(r.position);
                s.intensity.push(r.intensity as f32);
                s.time
                    .push((packet_time + r.time_us * 1e-6 - s.stamp) as f32);
                s.ring.push(r.ring);
                s.azimuth_deg.push(r.azimuth_deg as f32);
            }
        }
        if let Some(b) = &mut self.current {
            b.sweep.no_returns += packet.no_returns;
            b.sweep.duplicates += packet.duplicates;
        }
    }

    /// Ends the sweep being built; `at_cut` says whether it ended at the cut angle.
    fn end(&mut self, at_cut: bool) {
        if let Some(b) = self.current.take() {
            let mut sweep = b.sweep;
            sweep.partial = !(self.started_at_cut && at_cut && self.cut_deg.is_some())
                || sweep.largest_step_deg > MAX_HOLE_DEG;
            self.done.push_back(sweep);
        }
        self.started_at_cut = at_cut;
    }

    /// Ends the stream: the sweep being built is complete (marked partial: the stream
    /// stopped before it reached the cut again).
    pub fn finish(&mut self) {
        self.end(false);
        self.last_azimuth = None;
        self.last_time = None;
    }

    /// The next finished sweep.
    pub fn pop(&mut self) -> Option<Sweep> {
        self.done.pop_front()
    }

    /// Pauses longer than [`MAX_PAUSE_S`] seen so far.
    pub fn pauses(&self) -> usize {
        self.pauses
    }
}
