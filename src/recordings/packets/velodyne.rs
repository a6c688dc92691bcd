//! Velodyne data packets (VLP-16, Puck LITE, Puck Hi-Res, VLP-32C, HDL-32E) decoded to
//! points, as the vendors' manuals describe them.
//!
//! A data packet is 1206 bytes: twelve 100-byte blocks, each a flag `0xFF 0xEE`, an azimuth
//! (little-endian, hundredths of a degree) and 32 returns of 3 bytes (distance in the
//! model's unit, little-endian; calibrated reflectivity); then a 4-byte timestamp
//! (microseconds past the hour, of the packet's first firing), the return-mode byte (0x37
//! strongest, 0x38 last, 0x39 dual) and the factory byte naming the model.
//!
//! Points are in the ROS driver's frame (x forward, y left, z up). The manuals give
//! `x = R cos ω sin α`, `y = R cos ω cos α`, `z = R sin ω` with α measured clockwise from
//! the front (their y axis); turned into the ROS frame that is `x = R cos ω cos α`,
//! `y = -R cos ω sin α`. Each point's azimuth α is interpolated to its own firing time from
//! the packet's rotation rate (the manuals' "precision azimuth"), plus the laser's azimuth
//! offset (VLP-32C); the laser's vertical offset is added to z (VLP-16, Puck LITE, Puck
//! Hi-Res), as the manuals say to.
//!
//! [`Decoder`] decodes one packet (a pure function of its bytes, the model and a rate
//! hint); [`sweep`] assembles packets into rotations; [`scan_from_packets`] makes one scan
//! of a list of packets, as a ROS `velodyne_msgs/VelodyneScan` message carries them.

pub mod clock;
pub mod model_check;
pub mod sweep;
pub mod tables;

pub use tables::{Model, MODELS};

use nalgebra::Point3;
use std::ops::Range;

/// Length of a data packet (the UDP payload).
pub const DATA_PACKET_LEN: usize = 1206;
/// Length of a position (GPS, telemetry) packet.
pub const POSITION_PACKET_LEN: usize = 512;
/// The port sensors send data packets to unless configured otherwise.
pub const DEFAULT_DATA_PORT: u16 = 2368;
/// The port sensors send position packets to unless configured otherwise.
pub const DEFAULT_POSITION_PORT: u16 = 8308;

const BLOCKS: usize = 12;
const BLOCK_LEN: usize = 100;
const BLOCK_FLAG: [u8; 2] = [0xFF, 0xEE];
/// A rotation faster than this (25 Hz; the fastest model spins at 20 Hz) is not believed:
/// the packet's azimuths are damaged, and the hint is used instead.
const MAX_RATE_DEG_PER_US: f64 = 25.0 * 360.0 * 1e-6;
/// Rotation rate assumed when neither the packet nor a hint gives one: 600 rpm, the
/// sensors' default.
const NOMINAL_RATE_DEG_PER_US: f64 = 10.0 * 360.0 * 1e-6;

/// Which returns the sensor reports (the return-mode byte, 1204).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnMode {
    /// The strongest return of each firing (0x37).
    Strongest,
    /// The last return of each firing (0x38).
    Last,
    /// Both: blocks come in pairs with the same azimuth, the first holding the last return
    /// and the second the strongest (or second strongest) one (0x39).
    Dual,
}

impl ReturnMode {
    /// The mode a return-mode byte names.
    pub fn from_byte(byte: u8) -> Option<ReturnMode> {
        match byte {
            0x37 => Some(ReturnMode::Strongest),
            0x38 => Some(ReturnMode::Last),
            0x39 => Some(ReturnMode::Dual),
            _ => None,
        }
    }

    /// The name a user reads (`strongest`, `last`, `dual`).
    pub fn name(self) -> &'static str {
        match self {
            ReturnMode::Strongest => "strongest",
            ReturnMode::Last => "last",
            ReturnMode::Dual => "dual",
        }
    }

    /// True for dual return mode.
    pub fn is_dual(self) -> bool {
        self == ReturnMode::Dual
    }
}

/// Why a packet cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacketError {
    /// Not 1206 bytes long.
    Length(usize),
    /// A block does not start with `0xFF 0xEE`.
    BlockFlag {
        /// The block (0..12).
        block: usize,
        /// The two bytes found.
        found: [u8; 2],
    },
    /// A block's azimuth is 360° or more.
    Azimuth {
        /// The block (0..12).
        block: usize,
        /// The value found, hundredths of a degree.
        value: u16,
    },
}

impl std::fmt::Display for PacketError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PacketError::Length(n) => {
                write!(f, "a data packet is {DATA_PACKET_LEN} bytes, this one {n}")
            }
            PacketError::BlockFlag { block, found } => write!(
                f,
                "block {block} starts with 0x{:02X} 0x{:02X}, not the flag 0xFF 0xEE",
                found[0], found[1]
            ),
            PacketError::Azimuth { block, value } => write!(
                f,
                "block {block} has azimuth {value} (hundredths of a degree; at most 35999)"
            ),
        }
    }
}

impl std::error::Error for PacketError {}

/// The packet's trailer: timestamp and factory bytes. `None` when the payload is not a data
/// packet's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    /// Microseconds past the hour of the packet's first firing (GPS time when the sensor
    /// is synchronised, else its own clock).
    pub timestamp_us: u32,
    /// The return-mode byte (1204).
    pub return_byte: u8,
    /// The factory byte naming the model (1205).
    pub factory_byte: u8,
}

/// The trailer of a data packet, `None` when the payload is not 1206 bytes.
pub fn trailer(payload: &[u8]) -> Option<Trailer> {
    if payload.len() != DATA_PACKET_LEN {
        return None;
    }
    let ts = payload.get(1200..1204)?;
    Some(Trailer {
        timestamp_us: u32::from_le_bytes([ts[0], ts[1], ts[2], ts[3]]),
        return_byte: *payload.get(1204)?,
        factory_byte: *payload.get(1205)?,
    })
}

/// True when a UDP payload is a Velodyne data packet: 1206 bytes whose blocks mostly start
/// with the block flag `0xFF 0xEE` (a packet with a few damaged flags still counts, so that
/// it is skipped and counted rather than taken for other traffic).
pub fn looks_like_velodyne(payload: &[u8]) -> bool {
    payload.len() == DATA_PACKET_LEN && good_flags(payload) * 2 > BLOCKS
}

fn good_flags(payload: &[u8]) -> usize {
    (0..BLOCKS)
        .filter(|b| payload.get(b * BLOCK_LEN..b * BLOCK_LEN + 2) == Some(&BLOCK_FLAG[..]))
        .count()
}

/// The azimuth of a block, hundredths of a degree, when the packet is long enough.
pub fn block_azimuth(payload: &[u8], block: usize) -> Option<u16> {
    let at = block.checked_mul(BLOCK_LEN)?.checked_add(2)?;
    let b = payload.get(at..at + 2)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

/// The return mode of a packet: its byte, or, when the byte is not one of the three (older
/// HDL-32E firmware leaves it 0), dual when its blocks come in pairs of equal azimuths.
pub fn return_mode_of(payload: &[u8]) -> ReturnMode {
    if let Some(mode) = trailer(payload).and_then(|t| ReturnMode::from_byte(t.return_byte)) {
        return mode;
    }
    let paired = (0..BLOCKS / 2).all(|p| {
        let a = block_azimuth(payload, 2 * p);
        a.is_some() && a == block_azimuth(payload, 2 * p + 1)
    });
    if paired {
        ReturnMode::Dual
    } else {
        ReturnMode::Strongest
    }
}

/// One return decoded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Return {
    /// Position, metres, ROS frame (x forward, y left, z up).
    pub position: Point3<f64>,
    /// Distance as measured, metres.
    pub distance: f64,
    /// The return's azimuth, degrees clockwise from the front seen from above, [0, 360).
    pub azimuth_deg: f64,
    /// The laser (0..16 or 0..32, the manuals' laser id).
    pub laser: u8,
    /// The laser's rank by elevation, the lowest 0 (the ROS driver's ring).
    pub ring: u16,
    /// Calibrated reflectivity, 0..255.
    pub intensity: u8,
    /// Firing time, µs after the packet's timestamp.
    pub time_us: f64,
    /// True for the second return of a dual-return pair (the strongest, where the first is
    /// the last).
    pub second: bool,
}

/// One firing column: every laser fired once (both returns in dual mode).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Azimuth at the column's first firing, degrees, [0, 360).
    pub azimuth_deg: f64,
    /// Time of the column's first firing, µs after the packet's timestamp.
    pub time_us: f64,
    /// Its returns, as a range of [`DecodedPacket::returns`].
    pub returns: Range<usize>,
}

/// A decoded packet. Reused from packet to packet so that decoding allocates nothing once
/// warm.
#[derive(Debug, Clone, Default)]
pub struct DecodedPacket {
    /// The packet's trailer.
    pub trailer: Option<Trailer>,
    /// Its return mode.
    pub mode: Option<ReturnMode>,
    /// Firing columns in firing order.
    pub columns: Vec<Column>,
    /// Returns, column by column.
    pub returns: Vec<Return>,
    /// Rotation rate used to interpolate azimuths, degrees per µs.
    pub rate_deg_per_us: f64,
    /// True when the rate came from the packet's own azimuths (not the hint).
    pub rate_measured: bool,
    /// Firings with no return (distance 0).
    pub no_returns: usize,
    /// Second returns dropped because they repeat the first (dual mode).
    pub duplicates: usize,
}

/// A decoder for one model: its tables precomputed.
#[derive(Debug, Clone)]
pub struct Decoder {
    model: Model,
    rings: Vec<u16>,
    cos_elevation: Vec<f64>,
    sin_elevation: Vec<f64>,
}

impl Decoder {
    /// A decoder for `model`.
    pub fn new(model: Model) -> Decoder {
        let table = model.table();
        Decoder {
            model,
            rings: model.rings(),
            cos_elevation: table
                .elevation_deg
                .iter()
                .map(|e| e.to_radians().cos())
                .collect(),
            sin_elevation: table
                .elevation_deg
                .iter()
                .map(|e| e.to_radians().sin())
                .collect(),
        }
    }

    /// The model decoded.
    pub fn model(&self) -> Model {
        self.model
    }

    /// The firing time of a block's channel, µs after the packet's timestamp (the manuals'
    /// timing tables: in dual mode a pair of blocks shares one firing).
    pub fn firing_time_us(&self, dual: bool, block: usize, channel: usize) -> f64 {
        let m = self.model;
        let lasers = m.lasers();
        let block_column = if dual { block / 2 } else { block } * m.columns_per_block();
        let column = block_column + channel / lasers;
        column as f64 * m.column_us() + m.firing_in_column_us(channel)
    }

    /// Decodes one data packet into `out` (cleared first). `rate_hint` (degrees per µs,
    /// the previous packet's) is used when this packet's own azimuths give no believable
    /// rotation rate.
    pub fn decode(
        &self,
        payload: &[u8],
        rate_hint: Option<f64>,
        out: &mut DecodedPacket,
    ) -> Result<(), PacketError> {
        out.columns.clear();
        out.returns.clear();
        out.no_returns = 0;
        out.duplicates = 0;
        out.trailer = None;
        out.mode = None;
        if payload.len() != DATA_PACKET_LEN {
            return Err(PacketError::Length(payload.len()));
        }
        let mut azimuth = [0u16; BLOCKS];
        for (block, az) in azimuth.iter_mut().enumerate() {
            let flag = payload
                .get(block * BLOCK_LEN..block * BLOCK_LEN + 2)
                .ok_or(PacketError::Length(payload.len()))?;
            if flag != BLOCK_FLAG {
                return Err(PacketError::BlockFlag {
                    block,
                    found: [flag[0], flag[1]],
                });
            }
            let value = block_azimuth(payload, block).ok_or(PacketError::Length(payload.len()))?;
            if value >= 36000 {
                return Err(PacketError::Azimuth { block, value });
            }
            *az = value;
        }
        let mode = return_mode_of(payload);
        let dual = mode.is_dual();
        out.trailer = trailer(payload);
        out.mode = Some(mode);

        // The rotation rate over the packet: first block to last.
        let span_deg = (azimuth[BLOCKS - 1] as f64 - azimuth[0] as f64).rem_euclid(36000.0) / 100.0;
        let span_us = self.firing_time_us(dual, BLOCKS - 1, 0) - self.firing_time_us(dual, 0, 0);
        let measured = span_deg / span_us;
        (out.rate_deg_per_us, out.rate_measured) =
            if span_us > 0.0 && measured <= MAX_RATE_DEG_PER_US {
                (measured, true)
            } else {
                (
                    rate_hint
                        .filter(|r| r.is_finite() && (0.0..=MAX_RATE_DEG_PER_US).contains(r))
                        .unwrap_or(NOMINAL_RATE_DEG_PER_US),
                    false,
                )
            };
        let rate = out.rate_deg_per_us;

        let table = self.model.table();
        let lasers = self.model.lasers();
        let blocks_per_column = if dual { 2 } else { 1 };
        for first_block in (0..BLOCKS).step_by(blocks_per_column) {
            let block_az = azimuth[first_block] as f64 / 100.0;
            let block_time = self.firing_time_us(dual, first_block, 0);
            for sub in 0..self.model.columns_per_block() {
                let channels = sub * lasers..(sub + 1) * lasers;
                let column_time = self.firing_time_us(dual, first_block, channels.start);
                let start = out.returns.len();
                for k in 0..blocks_per_column {
                    let block = first_block + k;
                    for channel in channels.clone() {
                        let Some((raw, intensity)) = raw_return(payload, block, channel) else {
                            continue;
                        };
                        if raw == 0 {
                            out.no_returns += 1;
                            continue;
                        }
                        if k == 1
                            && raw_return(payload, first_block, channel) == Some((raw, intensity))
                        {
                            out.duplicates += 1;
                            continue;
                        }
                        let laser = channel % lasers;
                        let time_us = self.firing_time_us(dual, block, channel);
                        let azimuth_deg = (block_az
                            + rate * (time_us - block_time)
                            + table.azimuth_offset_deg[laser])
                            .rem_euclid(360.0);
                        let distance = raw as f64 * table.distance_unit_m;
                        let (sin_a, cos_a) = azimuth_deg.to_radians().sin_cos();
                        let xy = distance * self.cos_elevation[laser];
                        let position = Point3::new(
                            xy * cos_a,
                            -xy * sin_a,
                            distance * self.sin_elevation[laser] + table.vertical_offset_m[laser],
                        );
                        out.returns.push(Return {
                            position,
                            distance,
                            azimuth_deg,
                            laser: laser as u8,
                            ring: self.rings[laser],
                            intensity,
                            time_us,
                            second: k == 1,
                        });
                    }
                }
                out.columns.push(Column {
                    azimuth_deg: (block_az + rate * (column_time - block_time)).rem_euclid(360.0),
                    time_us: column_time,
                    returns: start..out.returns.len(),
                });
            }
        }
        Ok(())
    }
}

/// A channel's raw distance and reflectivity.
fn raw_return(payload: &[u8], block: usize, channel: usize) -> Option<(u16, u8)> {
    let at = block * BLOCK_LEN + 4 + channel * 3;
    let b = payload.get(at..at + 3)?;
    Some((u16::from_le_bytes([b[0], b[1]]), b[2]))
}

/// One scan made of a list of packets, and what was skipped on the way.
#[derive(Debug, Clone)]
pub struct PacketScan {
    /// The scan (never marked partial: the list is taken as it is).
    pub sweep: sweep::Sweep,
    /// The model decoded.
    pub model: Model,
    /// The return mode of the first packet decoded.
    pub mode: ReturnMode,
    /// Packets that could not be decoded, with why (index in the list, error).
    pub skipped: Vec<(usize, PacketError)>,
}

/// Why no scan could be made of a list of packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanError {
    /// No packet in the list could be decoded (the first one's error, if any).
    NoPackets(Option<PacketError>),
    /// The model was not given and the packets' factory byte names none this decoder reads.
    UnknownModel(u8),
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScanError::NoPackets(None) => write!(f, "the scan holds no packets"),
            ScanError::NoPackets(Some(e)) => write!(f, "no packet of the scan decodes: {e}"),
            ScanError::UnknownModel(b) => write!(
                f,
                "the packets' factory byte names {}; say which model it is (VLP-16, Puck LITE, \
                 Puck Hi-Res, VLP-32C, HDL-32E)",
                Model::describe_factory_byte(*b)
            ),
        }
    }
}

impl std::error::Error for ScanError {}

/// One scan of a list of packets, each with its receive time (seconds), as a ROS
/// `velodyne_msgs/VelodyneScan` message holds them: every packet's returns, in order, with
/// times relative to the first packet's first firing. `model` `None` takes the first
/// packet's factory byte. Packets that do not decode are skipped and listed.
pub fn scan_from_packets<'a>(
    packets: impl IntoIterator<Item = (f64, &'a [u8])>,
    model: Option<Model>,
) -> Result<PacketScan, ScanError> {
    let mut decoder: Option<Decoder> = model.map(Decoder::new);
    let mut clock = clock::PacketClock::default();
    let mut assembler = sweep::SweepAssembler::whole();
    let mut decoded = DecodedPacket::default();
    let mut skipped = Vec::new();
    let mut mode = None;
    let mut hint = None;
    for (i, (time, payload)) in packets.into_iter().enumerate() {
        let dec = match &decoder {
            Some(d) => d,
            None => {
                let Some(t) = trailer(payload) else {
                    skipped.push((i, PacketError::Length(payload.len())));
                    continue;
                };
                let m = Model::from_factory_byte(t.factory_byte)
                    .ok_or(ScanError::UnknownModel(t.factory_byte))?;
                decoder.insert(Decoder::new(m))
            }
        };
        if let Err(e) = dec.decode(payload, hint, &mut decoded) {
            skipped.push((i, e));
            continue;
        }
        if decoded.rate_measured {
            hint = Some(decoded.rate_deg_per_us);
        }
        mode = mode.or(decoded.mode);
        let ts = decoded.trailer.map(|t| t.timestamp_us).unwrap_or(0);
        let t = clock.time(time, ts);
        assembler.push(t, &decoded);
    }
    assembler.finish();
    let (Some(decoder), Some(mode), Some(mut sweep)) = (decoder, mode, assembler.pop()) else {
        return Err(ScanError::NoPackets(skipped.first().map(|s| s.1.clone())));
    };
    sweep.partial = false;
    Ok(PacketScan {
        sweep,
        model: decoder.model(),
        mode,
        skipped,
    })
}

#[cfg(test)]
pub(crate) mod tests;
