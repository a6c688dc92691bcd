//! Packet times: the packets' own microsecond timestamps, placed on the capture's clock.
//!
//! A data packet carries only microseconds past the hour. When the sensor is synchronised
//! to GPS, that is the true time of its first firing, and the capture time (when the
//! capturing machine received it, a few hundred µs later) gives the date and hour. When it
//! is not, the sensor counts from its own power-up, and the value bears no relation to the
//! capture time.
//!
//! Choice: the first packet decides. Its microseconds are placed in the capture time's hour
//! (the nearest of the three hours around it); if that lands within [`COHERENT_S`] of the
//! capture time, the packets' clock is taken as GPS time and used as is (the true firing
//! times, free of the capturing machine's network and scheduling jitter). Otherwise the
//! packets' clock is anchored on the capture time of the first packet: times keep the
//! packets' precise spacing, on the capturing machine's time scale, which is what other
//! recordings of the same session (cameras, IMU on the same host) were stamped with. Either
//! way the hour's roll-over is followed, and a jump of the packets' clock away from the
//! capture clock (GPS lock gained or lost, a sensor reboot) re-anchors it, counted.

/// How close (seconds) the packets' time must be to the capture time to be taken as GPS
/// time. An unsynchronised clock lands this close by chance once in 900 captures.
pub const COHERENT_S: f64 = 2.0;
/// A drift of the packets' clock from the capture clock beyond this (seconds) is a jump.
pub const JUMP_S: f64 = 1.0;

/// Where packet times come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeBase {
    /// The packets' timestamps are GPS time, placed in the capture's hour.
    Gps {
        /// The capture time minus the packet time, seconds, at the first packet (network
        /// delay plus the capturing machine's clock error).
        capture_lag_s: f64,
    },
    /// The packets' clock is not the capture's: anchored on the first packet's capture time.
    Anchored {
        /// How far the packets' clock was from the capture's, seconds (within the hour).
        offset_s: f64,
    },
}

impl TimeBase {
    /// One line saying what the times are, for `lidarflow info`.
    pub fn describe(&self) -> String {
        match self {
            TimeBase::Gps { capture_lag_s } => format!(
                "packets' GPS time (top-of-hour µs in the capture's hour; capture {:.3} s later)",
                capture_lag_s
            ),
            TimeBase::Anchored { offset_s } => format!(
                "packets' µs clock anchored on the capture time (it is {:.1} s off the \
                 capture's hour: not GPS-synchronised)",
                offset_s
            ),
        }
    }
}

/// Turns packets' microsecond timestamps into seconds on the capture's time scale.
#[derive(Debug, Clone, Default)]
pub struct PacketClock {
    /// Seconds to add to `timestamp_us × 1e-6`.
    base: f64,
    last_us: Option<u32>,
    base_kind: Option<TimeBase>,
    /// Packet time minus capture time at the last anchoring.
    lead: f64,
    jumps: usize,
}

impl PacketClock {
    /// The time of a packet (its first firing), seconds: `capture_time` is when it was
    /// captured, `timestamp_us` its own microseconds past the hour.
    pub fn time(&mut self, capture_time: f64, timestamp_us: u32) -> f64 {
        let us = timestamp_us as f64 * 1e-6;
        let Some(last) = self.last_us else {
            self.first(capture_time, us);
            self.last_us = Some(timestamp_us);
            return self.base + us;
        };
        // The hour rolled over (the microseconds fell by more than half an hour).
        if timestamp_us < last && last - timestamp_us > 1_800_000_000 {
            self.base += 3600.0;
        } else if timestamp_us > last && timestamp_us - last > 1_800_000_000 {
            // A packet from before the roll-over, arriving after it.
            self.last_us = Some(timestamp_us);
            return self.base - 3600.0 + us;
        }
        self.last_us = Some(timestamp_us);
        let t = self.base + us;
        if capture_time.is_finite() && ((t - capture_time) - self.lead).abs() > JUMP_S {
            self.jumps += 1;
            self.base = capture_time - us;
            self.lead = 0.0;
            if let Some(TimeBase::Gps { .. }) = self.base_kind {
                self.base_kind = Some(TimeBase::Anchored {
                    offset_s: t - capture_time,
                });
            }
            return capture_time;
        }
        t
    }

    fn first(&mut self, capture: f64, us: f64) {
        if !capture.is_finite() {
            self.base = 0.0;
            self.base_kind = Some(TimeBase::Anchored { offset_s: 0.0 });
            return;
        }
        let hour = (capture / 3600.0).floor() * 3600.0;
        let mut best = hour;
        for h in [hour - 3600.0, hour + 3600.0] {
            if (h + us - capture).abs() < (best + us - capture).abs() {
                best = h;
            }
        }
        let lead = best + us - capture;
        if lead.abs() <= COHERENT_S {
            self.base = best;
            self.lead = lead;
            self.base_kind = Some(TimeBase::Gps {
                capture_lag_s: -lead,
            });
        } else {
            self.base = capture - us;
            self.lead = 0.0;
            self.base_kind = Some(TimeBase::Anchored { offset_s: lead });
        }
    }

    /// What the times are based on (after the first packet).
    pub fn base(&self) -> Option<TimeBase> {
        self.base_kind
    }

    /// Times the packets' clock jumped away from the capture's and was re-anchored.
    pub fn jumps(&self) -> usize {
        self.jumps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gps_time_is_placed_in_the_capture_hour() {
        let mut c = PacketClock::default();
        // 12:00:10.5 captured, the packet says 10.4999 s past the hour.
        let capture = 1_700_000_000.0 - (1_700_000_000.0f64 % 3600.0) + 10.5;
        let t = c.time(capture, 10_499_900);
        assert!((t - (capture - 0.0001)).abs() < 1e-6, "{t} {capture}");
        assert!(matches!(c.base(), Some(TimeBase::Gps { .. })));
        // Later packets keep their own spacing, not the capture's jitter.
        let t2 = c.time(capture + 0.0031, 10_500_453);
        assert!((t2 - t - 0.000553).abs() < 1e-6);
    }

    #[test]
    fn gps_time_near_the_hour_takes_the_nearest_hour() {
        let mut c = PacketClock::default();
        let hour = 1_700_000_000.0 - (1_700_000_000.0f64 % 3600.0);
        // Captured just after the hour, the packet fired just before it.
        let t = c.time(hour + 0.0002, 3_599_999_900);
        assert!((t - (hour - 0.0001)).abs() < 1e-6, "{}", t - hour);
        // The hour rolls over: the microseconds restart, time goes on.
        let t2 = c.time(hour + 0.0008, 400);
        assert!((t2 - (hour + 0.0004)).abs() < 1e-6, "{}", t2 - hour);
    }

    #[test]
    fn an_unsynchronised_clock_is_anchored_on_the_capture() {
        let mut c = PacketClock::default();
        let t = c.time(1_415_644_617.383_637, 332_917_037);
        assert_eq!(t, 1_415_644_617.383_637);
        assert!(matches!(c.base(), Some(TimeBase::Anchored { .. })));
        let t2 = c.time(1_415_644_617.384_911, 332_918_364);
        assert!((t2 - t - 0.001327).abs() < 1e-6);
        // A jump of the packets' clock (a reboot) re-anchors on the capture time.
        let t3 = c.time(1_415_644_617.386, 5);
        assert_eq!(t3, 1_415_644_617.386);
        assert_eq!(c.jumps(), 1);
    }
}
