//! Ouster lidar data packets, per the sensor documentation's "Lidar Data Packet Format" and
//! "Lidar data profiles", and the XYZ lookup table of the vendor SDK.
//!
//! A packet is `columns_per_packet` columns of `pixels_per_column` pixels, all little endian:
//!
//! - LEGACY: no packet header; each column is a 16-byte header (timestamp ns `u64`,
//!   measurement id `u16`, frame id `u16`, encoder count `u32`), the pixels, and a 4-byte
//!   status word (`0xffffffff` when the column is valid).
//! - the other profiles: a 32-byte packet header (packet type `u16` = 1, frame id `u16`,
//!   initialization id 24 bits, serial number 40 bits, status bytes), columns of a 12-byte
//!   header (timestamp ns `u64`, measurement id `u16`, status `u16` whose bit 0 says the
//!   column is valid) and the pixels, and a 32-byte packet footer.
//!
//! [`decode_into`] is a pure function from the bytes of one packet to its columns;
//! [`XyzLut`] turns a pixel's range into a point in the sensor frame.

use super::ouster_meta::{OusterMeta, Profile};
use nalgebra::{Matrix3, Point3, Vector3};
use std::fmt;

/// The byte layout of a lidar packet of one profile and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketLayout {
    /// The profile.
    pub profile: Profile,
    /// Pixels per column.
    pub pixels_per_column: usize,
    /// Columns per packet.
    pub columns_per_packet: usize,
    /// Bytes before the first column (0 for LEGACY, 32 otherwise).
    pub header_bytes: usize,
    /// Bytes of a column's header (16 for LEGACY, 12 otherwise).
    pub column_header_bytes: usize,
    /// Bytes after a column's pixels (the 4-byte status word of LEGACY, else 0).
    pub column_footer_bytes: usize,
    /// Bytes after the last column (0 for LEGACY, 32 otherwise).
    pub footer_bytes: usize,
    /// Bytes of one column, header and footer included.
    pub column_bytes: usize,
    /// Bytes of the whole packet.
    pub packet_bytes: usize,
}

/// The lidar packet type of non-LEGACY profiles.
pub const LIDAR_PACKET_TYPE: u16 = 1;

impl PacketLayout {
    /// The layout of `profile` packets with these dimensions.
    pub fn new(profile: Profile, pixels_per_column: usize, columns_per_packet: usize) -> Self {
        let legacy = profile == Profile::Legacy;
        let header_bytes: usize = if legacy { 0 } else { 32 };
        let column_header_bytes: usize = if legacy { 16 } else { 12 };
        let column_footer_bytes = if legacy { 4 } else { 0 };
        let footer_bytes = if legacy { 0 } else { 32 };
        let column_bytes = column_header_bytes
            .saturating_add(pixels_per_column.saturating_mul(profile.pixel_bytes()))
            .saturating_add(column_footer_bytes);
        let packet_bytes = header_bytes
            .saturating_add(columns_per_packet.saturating_mul(column_bytes))
            .saturating_add(footer_bytes);
        PacketLayout {
            profile,
            pixels_per_column,
            columns_per_packet,
            header_bytes,
            column_header_bytes,
            column_footer_bytes,
            footer_bytes,
            column_bytes,
            packet_bytes,
        }
    }

    /// The layout the metadata describes.
    pub fn of(meta: &OusterMeta) -> Self {
        PacketLayout::new(
            meta.profile,
            meta.pixels_per_column,
            meta.columns_per_packet,
        )
    }
}

/// What the header of a non-LEGACY packet says (zeros for LEGACY, which has none, except the
/// frame id, taken from the first column).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacketHeader {
    /// Packet type (1 for lidar data; 0 for LEGACY).
    pub packet_type: u16,
    /// Frame id: which rotation the packet belongs to.
    pub frame_id: u16,
    /// Initialization id of the sensor session (24 bits).
    pub init_id: u32,
    /// Serial number of the sensor (40 bits).
    pub serial: u64,
}

/// The header of one column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ColumnHeader {
    /// Timestamp, nanoseconds (of the sensor's clock).
    pub timestamp_ns: u64,
    /// Measurement id: the column's index in the rotation, from 0 to `columns_per_frame - 1`.
    pub measurement_id: u16,
    /// Frame id (the packet's, for non-LEGACY profiles).
    pub frame_id: u16,
    /// Encoder count (LEGACY only; 0 otherwise).
    pub encoder_count: u32,
    /// Whether the sensor marks the column valid (status).
    pub valid: bool,
}

/// The columns of one packet, pixel fields stored column after column
/// (`field[column * pixels_per_column + pixel]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DecodedPacket {
    /// The packet header.
    pub header: PacketHeader,
    /// One header per column.
    pub columns: Vec<ColumnHeader>,
    /// Range of the first return, millimetres (0: no return).
    pub range_mm: Vec<u32>,
    /// Reflectivity of the first return.
    pub reflectivity: Vec<u16>,
    /// Signal photons of the first return; empty for profiles without it (RNG15_RFL8_NIR8).
    pub signal: Vec<u16>,
    /// Near-infrared ambient photons (scaled to 16 bits for RNG15_RFL8_NIR8).
    pub near_ir: Vec<u16>,
}

/// Why a datagram is not a lidar packet of the expected layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketError {
    /// The datagram's size is not the layout's.
    WrongSize {
        /// The layout's packet size.
        expected: usize,
        /// The datagram's size.
        found: usize,
    },
    /// The packet type is not lidar data.
    NotLidar {
        /// The packet type found.
        packet_type: u16,
    },
}

impl fmt::Display for PacketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PacketError::WrongSize { expected, found } => write!(
                f,
                "a {found}-byte datagram where the metadata's profile makes {expected}-byte \
                 lidar packets"
            ),
            PacketError::NotLidar { packet_type } => {
                write!(f, "packet type {packet_type}, not lidar data (1)")
            }
        }
    }
}

impl std::error::Error for PacketError {}

fn u16_at(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .unwrap_or(0)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .unwrap_or(0)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map(u64::from_le_bytes)
        .unwrap_or(0)
}

/// Decodes one lidar packet into `out` (its vectors reused), or says why the bytes are not a
/// packet of `layout`.
pub fn decode_into(
    bytes: &[u8],
    layout: &PacketLayout,
    out: &mut DecodedPacket,
) -> Result<(), PacketError> {
    if bytes.len() != layout.packet_bytes {
        return Err(PacketError::WrongSize {
            expected: layout.packet_bytes,
            found: bytes.len(),
        });
    }
    let legacy = layout.profile == Profile::Legacy;
    let header = if legacy {
        PacketHeader {
            frame_id: u16_at(bytes, 10),
            ..PacketHeader::default()
        }
    } else {
        let packet_type = u16_at(bytes, 0);
        if packet_type != LIDAR_PACKET_TYPE {
            return Err(PacketError::NotLidar { packet_type });
        }
        PacketHeader {
            packet_type,
            frame_id: u16_at(bytes, 2),
            init_id: u32_at(bytes, 4) & 0x00ff_ffff,
            serial: u64_at(bytes, 7) & 0x00ff_ffff_ffff,
        }
    };
    out.header = header;
    let (cols, px) = (layout.columns_per_packet, layout.pixels_per_column);
    out.columns.clear();
    out.range_mm.clear();
    out.reflectivity.clear();
    out.signal.clear();
    out.near_ir.clear();
    // Never more pixels than the packet has bytes.
    let n = cols.saturating_mul(px).min(bytes.len());
    out.range_mm.reserve(n);
    out.reflectivity.reserve(n);
    out.near_ir.reserve(n);
    let pixel_bytes = layout.profile.pixel_bytes();
    // A layout made by hand may not hold together: its columns are then not read.
    let columns = cols
        .checked_mul(layout.column_bytes)
        .and_then(|n| n.checked_add(layout.header_bytes))
        .and_then(|end| bytes.get(layout.header_bytes..end))
        .unwrap_or(&[]);
    let pixels_end = px
        .checked_mul(pixel_bytes)
        .and_then(|n| n.checked_add(layout.column_header_bytes))
        .unwrap_or(usize::MAX);
    if layout.column_bytes == 0 {
        return Ok(());
    }
    for column in columns.chunks_exact(layout.column_bytes) {
        let (frame_id, encoder_count, valid) = if legacy {
            let status = u32_at(column, layout.column_bytes.saturating_sub(4));
            (
                u16_at(column, 10),
                u32_at(column, 12),
                status == 0xffff_ffff,
            )
        } else {
            (header.frame_id, 0, u16_at(column, 10) & 1 == 1)
        };
        out.columns.push(ColumnHeader {
            timestamp_ns: u64_at(column, 0),
            measurement_id: u16_at(column, 8),
            frame_id,
            encoder_count,
            valid,
        });
        let pixels = column
            .get(layout.column_header_bytes..pixels_end)
            .unwrap_or(&[]);
        for p in pixels.chunks_exact(pixel_bytes) {
            match layout.profile {
                Profile::Legacy => {
                    out.range_mm.push(u32_at(p, 0) & 0x000f_ffff);
                    out.reflectivity.push(u16_at(p, 4));
                    out.signal.push(u16_at(p, 6));
                    out.near_ir.push(u16_at(p, 8));
                }
                Profile::Rng19Rfl8Sig16Nir16 => {
                    out.range_mm.push(u32_at(p, 0) & 0x0007_ffff);
                    out.reflectivity.push(p[4] as u16);
                    out.signal.push(u16_at(p, 6));
                    out.near_ir.push(u16_at(p, 8));
                }
                Profile::Rng19Rfl8Sig16Nir16Dual => {
                    out.range_mm.push(u32_at(p, 0) & 0x0007_ffff);
                    out.reflectivity.push(p[3] as u16);
                    out.signal.push(u16_at(p, 8));
                    out.near_ir.push(u16_at(p, 12));
                }
                Profile::Rng15Rfl8Nir8 => {
                    // Range in units of 8 mm; near-IR in units of 16 photons.
                    out.range_mm.push((u16_at(p, 0) as u32 & 0x7fff) << 3);
                    out.reflectivity.push(p[2] as u16);
                    out.near_ir.push((p[3] as u16) << 4);
                }
            }
        }
    }
    Ok(())
}

/// Decodes one lidar packet.
pub fn decode(bytes: &[u8], layout: &PacketLayout) -> Result<DecodedPacket, PacketError> {
    let mut out = DecodedPacket::default();
    decode_into(bytes, layout, &mut out)?;
    Ok(out)
}

/// The vendor SDK's XYZ lookup table: for every (column, beam), a direction and an offset such
/// that the point of a range `r` (mm) is `direction * r + offset`, in metres, in the sensor
/// frame (`lidar_to_sensor_transform` applied).
///
/// The beam fires at the encoder angle `2π (1 - column / columns_per_frame)` plus its azimuth
/// offset, at its altitude; it leaves from the beam origin, `lidar_origin_to_beam_origin_mm`
/// out along the encoder angle (and the `beam_to_lidar_transform`'s z offset up), and the
/// range is measured from there.
#[derive(Debug, Clone)]
pub struct XyzLut {
    columns: usize,
    pixels: usize,
    /// `[column * pixels + pixel]`, metres per mm of range.
    direction: Vec<Vector3<f64>>,
    /// `[column * pixels + pixel]`, metres.
    offset: Vec<Vector3<f64>>,
}

impl XyzLut {
    /// The table of a sensor's metadata.
    pub fn new(meta: &OusterMeta) -> XyzLut {
        XyzLut::from_intrinsics(
            meta.columns_per_frame,
            &meta.beam_altitude_angles,
            &meta.beam_azimuth_angles,
            &meta.beam_to_lidar_transform,
            &meta.lidar_to_sensor_transform,
        )
    }

    /// The table from the beam intrinsics: one beam per altitude angle (the azimuth angles
    /// are as many), translations of the transforms in millimetres.
    pub fn from_intrinsics(
        columns_per_frame: usize,
        altitude_deg: &[f64],
        azimuth_deg: &[f64],
        beam_to_lidar: &nalgebra::Matrix4<f64>,
        lidar_to_sensor: &nalgebra::Matrix4<f64>,
    ) -> XyzLut {
        let pixels = altitude_deg.len().min(azimuth_deg.len());
        let columns = columns_per_frame;
        let n_x = beam_to_lidar[(0, 3)];
        let n_z = beam_to_lidar[(2, 3)];
        // The range is measured from the beam origin, this far from the lidar origin.
        let origin_distance = if n_z != 0.0 { n_x.hypot(n_z) } else { n_x };
        let rotation: Matrix3<f64> = lidar_to_sensor.fixed_view::<3, 3>(0, 0).into_owned();
        let translation: Vector3<f64> = lidar_to_sensor.fixed_view::<3, 1>(0, 3).into_owned();
        let mut direction = Vec::with_capacity(columns * pixels);
        let mut offset = Vec::with_capacity(columns * pixels);
        let step = 2.0 * std::f64::consts::PI / columns.max(1) as f64;
        for c in 0..columns {
            let encoder = 2.0 * std::f64::consts::PI - c as f64 * step;
            for p in 0..pixels {
                let azimuth = encoder - azimuth_deg[p].to_radians();
                let altitude = altitude_deg[p].to_radians();
                let d = Vector3::new(
                    azimuth.cos() * altitude.cos(),
                    azimuth.sin() * altitude.cos(),
                    altitude.sin(),
                );
                let o = Vector3::new(
                    encoder.cos() * n_x - d.x * origin_distance,
                    encoder.sin() * n_x - d.y * origin_distance,
                    -d.z * origin_distance + n_z,
                );
                direction.push(rotation * d * 1e-3);
                offset.push((rotation * o + translation) * 1e-3);
            }
        }
        XyzLut {
            columns,
            pixels,
            direction,
            offset,
        }
    }

    /// Columns per frame of the table.
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Pixels per column of the table.
    pub fn pixels(&self) -> usize {
        self.pixels
    }

    /// The point of range `range_mm` at (`column`, `pixel`), metres; `None` outside the table.
    pub fn point(&self, column: usize, pixel: usize, range_mm: u32) -> Option<Point3<f64>> {
        if pixel >= self.pixels {
            return None;
        }
        let i = column.checked_mul(self.pixels)?.checked_add(pixel)?;
        let (d, o) = (self.direction.get(i)?, self.offset.get(i)?);
        Some(Point3::from(d * range_mm as f64 + o))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a packet of `layout` from columns of (timestamp, measurement id, valid) and a
    /// pixel writer `(column, pixel, pixel bytes)`, as the documentation lays it out.
    pub(crate) fn build_packet(
        layout: &PacketLayout,
        frame_id: u16,
        init_id: u32,
        serial: u64,
        columns: &[(u64, u16, bool)],
        mut pixel: impl FnMut(usize, usize, &mut [u8]),
    ) -> Vec<u8> {
        let mut b = vec![0u8; layout.packet_bytes];
        if layout.profile != Profile::Legacy {
            b[0..2].copy_from_slice(&LIDAR_PACKET_TYPE.to_le_bytes());
            b[2..4].copy_from_slice(&frame_id.to_le_bytes());
            b[4..7].copy_from_slice(&init_id.to_le_bytes()[..3]);
            b[7..12].copy_from_slice(&serial.to_le_bytes()[..5]);
        }
        let pb = layout.profile.pixel_bytes();
        for (c, &(ts, mid, valid)) in columns.iter().enumerate() {
            let at = layout.header_bytes + c * layout.column_bytes;
            let col = &mut b[at..at + layout.column_bytes];
            col[0..8].copy_from_slice(&ts.to_le_bytes());
            col[8..10].copy_from_slice(&mid.to_le_bytes());
            if layout.profile == Profile::Legacy {
                col[10..12].copy_from_slice(&frame_id.to_le_bytes());
                col[12..16].copy_from_slice(&(mid as u32 * 88).to_le_bytes());
                let status: u32 = if valid { 0xffff_ffff } else { 0 };
                let end = layout.column_bytes;
                col[end - 4..end].copy_from_slice(&status.to_le_bytes());
            } else {
                col[10..12].copy_from_slice(&(valid as u16).to_le_bytes());
            }
            for p in 0..layout.pixels_per_column {
                let s = layout.column_header_bytes + p * pb;
                pixel(c, p, &mut col[s..s + pb]);
            }
        }
        b
    }

    #[test]
    fn sizes_follow_the_documented_layouts() {
        // OS1-64 LEGACY: 16 columns of (16 + 64 * 12 + 4) bytes.
        assert_eq!(
            PacketLayout::new(Profile::Legacy, 64, 16).packet_bytes,
            12608
        );
        // OS-1-128 single return: 32 + 16 * (12 + 128 * 12) + 32.
        assert_eq!(
            PacketLayout::new(Profile::Rng19Rfl8Sig16Nir16, 128, 16).packet_bytes,
            24832
        );
        assert_eq!(
            PacketLayout::new(Profile::Rng19Rfl8Sig16Nir16Dual, 64, 16).packet_bytes,
            32 + 16 * (12 + 64 * 16) + 32
        );
        assert_eq!(
            PacketLayout::new(Profile::Rng15Rfl8Nir8, 128, 16).packet_bytes,
            32 + 16 * (12 + 128 * 4) + 32
        );
    }

    #[test]
    fn legacy_packet_decodes() {
        let layout = PacketLayout::new(Profile::Legacy, 3, 2);
        let bytes = build_packet(
            &layout,
            777,
            0,
            0,
            &[(1_000, 10, true), (2_000, 11, false)],
            |c, p, px| {
                // 20-bit range with flag bits above it, which must be masked off.
                let range = 0xf000_0000u32 | (100_000 * (c as u32 + 1) + p as u32);
                px[0..4].copy_from_slice(&range.to_le_bytes());
                px[4..6].copy_from_slice(&(300 + p as u16).to_le_bytes());
                px[6..8].copy_from_slice(&(40 + p as u16).to_le_bytes());
                px[8..10].copy_from_slice(&(5000u16).to_le_bytes());
            },
        );
        let d = decode(&bytes, &layout).unwrap();
        assert_eq!(d.header.frame_id, 777);
        assert_eq!(d.columns.len(), 2);
        assert_eq!(d.columns[0].timestamp_ns, 1_000);
        assert_eq!(d.columns[1].measurement_id, 11);
        assert_eq!(d.columns[0].encoder_count, 880);
        assert!(d.columns[0].valid && !d.columns[1].valid);
        assert_eq!(
            d.range_mm,
            vec![100_000, 100_001, 100_002, 200_000, 200_001, 200_002]
        );
        assert_eq!(d.reflectivity[2], 302);
        assert_eq!(d.signal[1], 41);
        assert_eq!(d.near_ir[5], 5000);
    }

    #[test]
    fn single_return_packet_decodes() {
        let layout = PacketLayout::new(Profile::Rng19Rfl8Sig16Nir16, 2, 3);
        let bytes = build_packet(
            &layout,
            4321,
            0xabcdef,
            992_109_000_123,
            &[(7, 0, true), (8, 1, true), (9, 2, false)],
            |c, p, px| {
                // Bits above the 19-bit range (flags) must not leak into it.
                let range = 0x00f8_0000u32 | (524_287 - (c * 2 + p) as u32);
                px[0..4].copy_from_slice(&range.to_le_bytes());
                px[4] = 200 + p as u8;
                px[6..8].copy_from_slice(&(1234u16).to_le_bytes());
                px[8..10].copy_from_slice(&(c as u16 * 100).to_le_bytes());
            },
        );
        let d = decode(&bytes, &layout).unwrap();
        assert_eq!(d.header.packet_type, 1);
        assert_eq!(d.header.frame_id, 4321);
        assert_eq!(d.header.init_id, 0xabcdef);
        assert_eq!(d.header.serial, 992_109_000_123);
        assert_eq!(d.columns[2].frame_id, 4321);
        assert!(d.columns[1].valid && !d.columns[2].valid);
        assert_eq!(d.range_mm[0], 524_287);
        assert_eq!(d.range_mm[5], 524_282);
        assert_eq!(d.reflectivity[1], 201);
        assert_eq!(d.signal[3], 1234);
        assert_eq!(d.near_ir[4], 200);
    }

    #[test]
    fn dual_return_packet_reads_the_first_return() {
        let layout = PacketLayout::new(Profile::Rng19Rfl8Sig16Nir16Dual, 2, 1);
        let bytes = build_packet(&layout, 1, 2, 3, &[(5, 9, true)], |_, p, px| {
            px[0..3].copy_from_slice(&(70_000u32 + p as u32).to_le_bytes()[..3]);
            px[3] = 77;
            px[4..8].copy_from_slice(&90_000u32.to_le_bytes());
            px[7] = 88;
            px[8..10].copy_from_slice(&500u16.to_le_bytes());
            px[10..12].copy_from_slice(&600u16.to_le_bytes());
            px[12..14].copy_from_slice(&700u16.to_le_bytes());
        });
        let d = decode(&bytes, &layout).unwrap();
        assert_eq!(d.range_mm, vec![70_000, 70_001]);
        assert_eq!(d.reflectivity, vec![77, 77]);
        assert_eq!(d.signal, vec![500, 500]);
        assert_eq!(d.near_ir, vec![700, 700]);
    }

    #[test]
    fn low_bandwidth_packet_scales_range_and_near_ir() {
        let layout = PacketLayout::new(Profile::Rng15Rfl8Nir8, 2, 2);
        let bytes = build_packet(
            &layout,
            3,
            0,
            0,
            &[(1, 0, true), (2, 1, true)],
            |c, p, px| {
                // Top bit of the 16-bit word is not range.
                let raw = 0x8000u16 | (1000 + (c * 2 + p) as u16);
                px[0..2].copy_from_slice(&raw.to_le_bytes());
                px[2] = 17;
                px[3] = 3;
            },
        );
        let d = decode(&bytes, &layout).unwrap();
        assert_eq!(d.range_mm, vec![8000, 8008, 8016, 8024]);
        assert_eq!(d.reflectivity, vec![17; 4]);
        assert_eq!(d.near_ir, vec![48; 4]);
        assert!(d.signal.is_empty());
    }

    #[test]
    fn wrong_sizes_and_types_are_refused() {
        let layout = PacketLayout::new(Profile::Rng19Rfl8Sig16Nir16, 4, 2);
        let mut bytes = build_packet(
            &layout,
            1,
            0,
            0,
            &[(1, 0, true), (1, 1, true)],
            |_, _, _| {},
        );
        assert_eq!(
            decode(&bytes[..bytes.len() - 1], &layout).unwrap_err(),
            PacketError::WrongSize {
                expected: layout.packet_bytes,
                found: layout.packet_bytes - 1
            }
        );
        bytes[0] = 2;
        assert_eq!(
            decode(&bytes, &layout).unwrap_err(),
            PacketError::NotLidar { packet_type: 2 }
        );
    }

    #[test]
    fn a_layout_that_does_not_hold_together_reads_no_columns() {
        let base = PacketLayout::new(Profile::Legacy, 4, 2);
        for layout in [
            PacketLayout {
                column_bytes: 0,
                packet_bytes: 10,
                ..base
            },
            PacketLayout {
                columns_per_packet: usize::MAX,
                packet_bytes: 10,
                ..base
            },
            PacketLayout {
                pixels_per_column: usize::MAX / 2,
                packet_bytes: base.packet_bytes,
                ..base
            },
        ] {
            let d = decode(&vec![0xff; layout.packet_bytes], &layout).unwrap();
            assert!(d.range_mm.is_empty(), "{layout:?}");
        }
    }

    #[test]
    fn lut_matches_a_hand_computed_beam() {
        // One beam at 10° up and 2° azimuth offset; beam origin 15 mm out, 4 mm up; the
        // lidar frame turned half a turn and raised 36 mm, as the default transform does.
        let mut b2l = nalgebra::Matrix4::identity();
        b2l[(0, 3)] = 15.0;
        b2l[(2, 3)] = 4.0;
        let l2s = super::super::ouster_meta::default_lidar_to_sensor();
        let lut = XyzLut::from_intrinsics(8, &[10.0], &[2.0], &b2l, &l2s);
        // Column 2 of 8: encoder angle 2π - π/2 = 270°, beam azimuth 270° - 2° = 268°.
        let (enc, az, alt) = (270f64.to_radians(), 268f64.to_radians(), 10f64.to_radians());
        let r = 10_000.0;
        let n = (15f64 * 15.0 + 4.0 * 4.0).sqrt();
        // In the lidar frame: beam origin plus range minus the origin distance along the beam.
        let lx = 15.0 * enc.cos() + (r - n) * az.cos() * alt.cos();
        let ly = 15.0 * enc.sin() + (r - n) * az.sin() * alt.cos();
        let lz = 4.0 + (r - n) * alt.sin();
        // Half a turn about z, 36.18 mm up, to metres.
        let want = Point3::new(-lx * 1e-3, -ly * 1e-3, (lz + 36.18) * 1e-3);
        let got = lut.point(2, 0, r as u32).unwrap();
        assert!((got - want).norm() < 1e-9, "{got} vs {want}");
        assert!(lut.point(8, 0, 1).is_none());
        assert!(lut.point(0, 1, 1).is_none());
    }
}
