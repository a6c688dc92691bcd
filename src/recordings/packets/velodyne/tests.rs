//! Hand-built packets of each model and mode, checked against the manuals' formulas
//! written out here independently of the decoder.

use super::sweep::SweepAssembler;
use super::*;
use nalgebra::Point3;
use rand::{Rng, SeedableRng};

/// A data packet: `azimuth[b]` per block (hundredths of a degree), `ret(block, channel)`
/// the raw distance and reflectivity.
pub(crate) fn packet(
    factory: u8,
    mode: u8,
    timestamp_us: u32,
    azimuth: [u16; 12],
    ret: impl Fn(usize, usize) -> (u16, u8),
) -> Vec<u8> {
    let mut p = vec![0u8; DATA_PACKET_LEN];
    for (b, az) in azimuth.iter().enumerate() {
        let at = b * 100;
        p[at] = 0xFF;
        p[at + 1] = 0xEE;
        p[at + 2..at + 4].copy_from_slice(&az.to_le_bytes());
        for c in 0..32 {
            let (d, i) = ret(b, c);
            let q = at + 4 + 3 * c;
            p[q..q + 2].copy_from_slice(&d.to_le_bytes());
            p[q + 2] = i;
        }
    }
    p[1200..1204].copy_from_slice(&timestamp_us.to_le_bytes());
    p[1204] = mode;
    p[1205] = factory;
    p
}

/// Azimuths starting at `start`, `step` apart per block (pairs equal in dual mode).
fn azimuths(start: u16, step: u16, dual: bool) -> [u16; 12] {
    let mut a = [0u16; 12];
    for (b, v) in a.iter_mut().enumerate() {
        let k = if dual { b / 2 } else { b } as u32;
        *v = ((start as u32 + k * step as u32) % 36000) as u16;
    }
    a
}

fn decode(model: Model, p: &[u8]) -> DecodedPacket {
    let mut out = DecodedPacket::default();
    Decoder::new(model).decode(p, None, &mut out).unwrap();
    out
}

fn near(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// The manual's spherical-to-Cartesian formula (sensor frame: y forward, x right), turned
/// into the ROS frame (x forward, y left).
fn manual_xyz(r: f64, elevation_deg: f64, azimuth_deg: f64, vertical_m: f64) -> [f64; 3] {
    let (w, a) = (elevation_deg.to_radians(), azimuth_deg.to_radians());
    let (x_vendor, y_vendor) = (r * w.cos() * a.sin(), r * w.cos() * a.cos());
    [y_vendor, -x_vendor, r * w.sin() + vertical_m]
}

fn assert_at(position: Point3<f64>, want: [f64; 3]) {
    let diff = (position - Point3::from(want)).norm();
    assert!(diff < 1e-9, "{position:?} against {want:?}");
}

#[test]
fn hdl32e_single_return_point_time_and_ring() {
    // Every block 0.2° apart; only channel 15 (elevation 0°) of block 3 returns, at 10 m.
    let az = azimuths(9000, 20, false);
    let p = packet(0x21, 0x37, 1000, az, |b, c| {
        if b == 3 && c == 15 {
            (5000, 77)
        } else {
            (0, 0)
        }
    });
    let d = decode(Model::Hdl32E, &p);
    assert_eq!(d.mode, Some(ReturnMode::Strongest));
    assert_eq!(d.returns.len(), 1);
    assert_eq!(d.no_returns, 12 * 32 - 1);
    assert_eq!(d.columns.len(), 12);
    let r = d.returns[0];
    // Time: block 3 × 46.08 µs + channel 15 × 1.152 µs.
    let t = 3.0 * 46.08 + 15.0 * 1.152;
    assert!(near(r.time_us, t, 1e-9), "{}", r.time_us);
    // Azimuth: block 3's (90.6°) plus the rotation during the 17.28 µs to channel 15.
    let rate = 2.2 / (11.0 * 46.08);
    let alpha = 90.6 + rate * 15.0 * 1.152;
    assert!(near(r.azimuth_deg, alpha, 1e-9));
    let want = manual_xyz(10.0, 0.0, alpha, 0.0);
    assert_at(r.position, want);
    // Facing 90° (right of the front): y is -10 m in the ROS frame.
    assert!(r.position.y < -9.99);
    // Twenty-three HDL-32E lasers point below 0° (lasers 0-14 and the even ones up to 30):
    // laser 15 is ring 23.
    assert_eq!((r.laser, r.ring, r.intensity), (15, 23, 77));
}

#[test]
fn vlp16_two_firing_sequences_per_block_and_vertical_offset() {
    let az = azimuths(100, 40, false);
    // Channel 17 = laser 1 (+1°) in the block's second firing sequence.
    let p = packet(0x22, 0x38, 0, az, |b, c| {
        if b == 1 && c == 17 {
            (2500, 5)
        } else {
            (0, 0)
        }
    });
    let d = decode(Model::Vlp16, &p);
    assert_eq!(d.mode, Some(ReturnMode::Last));
    assert_eq!(d.columns.len(), 24);
    let r = d.returns[0];
    // The manual's offset: 55.296 µs × sequence index (2 × block + 1) + 2.304 µs × laser.
    assert!(near(r.time_us, 55.296 * 3.0 + 2.304, 1e-9));
    let rate = 4.4 / (11.0 * 110.592);
    let alpha = 1.4 + rate * (55.296 + 2.304);
    assert!(near(r.azimuth_deg, alpha, 1e-9));
    let want = manual_xyz(5.0, 1.0, alpha, -0.0007);
    assert_at(r.position, want);
    assert_eq!((r.laser, r.ring), (1, 8));
    // The block's second column starts half way to the next block.
    assert!(near(d.columns[3].azimuth_deg, 1.4 + rate * 55.296, 1e-9));
}

#[test]
fn puck_hi_res_uses_its_own_table() {
    let p = packet(0x24, 0x37, 0, azimuths(0, 40, false), |b, c| {
        if b == 0 && c == 0 {
            (5000, 1)
        } else {
            (0, 0)
        }
    });
    let r = decode(Model::PuckHiRes, &p).returns[0];
    let want = manual_xyz(10.0, -10.0, 0.0, 0.0074);
    assert_at(r.position, want);
    // Puck LITE shares the VLP-16's table: -15° and 11.2 mm.
    let r = decode(Model::PuckLite, &p).returns[0];
    assert!(near(
        r.position.z,
        10.0 * (-15f64).to_radians().sin() + 0.0112,
        1e-9
    ));
}

#[test]
fn vlp32c_pairs_azimuth_offsets_and_4mm_unit() {
    let p = packet(0x28, 0x37, 0, azimuths(18000, 20, false), |b, c| {
        if b == 2 && (c == 0 || c == 1) {
            (2500, 9)
        } else {
            (0, 0)
        }
    });
    let d = decode(Model::Vlp32C, &p);
    assert_eq!(d.returns.len(), 2);
    let (a, b) = (d.returns[0], d.returns[1]);
    // Lasers 0 and 1 fire together, 2 × 55.296 µs into the packet.
    assert!(near(a.time_us, 2.0 * 55.296, 1e-9) && near(b.time_us, a.time_us, 1e-12));
    // 2500 × 4 mm; laser 0 at -25° and +1.4°, laser 1 at -1° and -4.2°.
    assert!(near(a.distance, 10.0, 1e-12));
    let want = manual_xyz(10.0, -25.0, 180.4 + 1.4, 0.0);
    assert_at(a.position, want);
    assert!(near(b.azimuth_deg, 180.4 - 4.2, 1e-9));
    // Seventeen VLP-32C lasers point below -1°.
    assert_eq!((a.ring, b.ring), (0, 17));
}

#[test]
fn dual_return_keeps_both_returns_and_drops_repeats() {
    let az = azimuths(500, 20, true);
    // Even blocks (last return) and odd blocks (strongest): channel 3 differs, channel 4
    // repeats, channel 5 only the first.
    let p = packet(0x21, 0x39, 0, az, |b, c| match (b % 2, c) {
        (0, 3) => (4000, 10),
        (1, 3) => (3000, 90),
        (_, 4) => (2000, 50),
        (0, 5) => (1000, 5),
        _ => (0, 0),
    });
    let d = decode(Model::Hdl32E, &p);
    assert_eq!(d.mode, Some(ReturnMode::Dual));
    assert_eq!(d.columns.len(), 6);
    // Per column: channel 3 twice, channel 4 once, channel 5 once.
    assert_eq!(d.returns.len(), 6 * 4);
    assert_eq!(d.duplicates, 6);
    let col = &d.returns[d.columns[1].returns.clone()];
    let c3: Vec<_> = col.iter().filter(|r| r.laser == 3).collect();
    assert_eq!(c3.len(), 2);
    assert!(c3[0].distance == 8.0 && c3[1].distance == 6.0 && c3[1].second);
    // Both returns of a pair fired at once: column 1 is 46.08 µs in (not 2 × 46.08).
    assert!(near(c3[0].time_us, 46.08 + 3.0 * 1.152, 1e-9));
    assert_eq!(c3[0].time_us, c3[1].time_us);
    // Rate over the packet: five columns of 0.2°.
    assert!(near(d.rate_deg_per_us, 1.0 / (5.0 * 46.08), 1e-12));
}

#[test]
fn unset_mode_byte_is_inferred_from_paired_azimuths() {
    let dual = packet(0x21, 0x00, 0, azimuths(0, 20, true), |_, _| (100, 1));
    assert_eq!(return_mode_of(&dual), ReturnMode::Dual);
    let single = packet(0x21, 0x00, 0, azimuths(0, 20, false), |_, _| (100, 1));
    assert_eq!(return_mode_of(&single), ReturnMode::Strongest);
}

#[test]
fn bad_packets_are_errors_not_panics() {
    let good = packet(0x21, 0x37, 0, azimuths(0, 20, false), |_, _| (100, 1));
    assert!(looks_like_velodyne(&good));
    let mut out = DecodedPacket::default();
    let dec = Decoder::new(Model::Hdl32E);
    let mut flag = good.clone();
    flag[500] = 0x00;
    assert!(
        looks_like_velodyne(&flag),
        "one bad flag: still a data packet, to be counted"
    );
    assert_eq!(
        dec.decode(&flag, None, &mut out),
        Err(PacketError::BlockFlag {
            block: 5,
            found: [0x00, 0xEE]
        })
    );
    let mut az = good.clone();
    az[702..704].copy_from_slice(&36000u16.to_le_bytes());
    assert!(matches!(
        dec.decode(&az, None, &mut out),
        Err(PacketError::Azimuth { block: 7, .. })
    ));
    assert_eq!(
        dec.decode(&good[..1000], None, &mut out),
        Err(PacketError::Length(1000))
    );
    assert!(!looks_like_velodyne(&[0u8; POSITION_PACKET_LEN]));
    assert!(!looks_like_velodyne(&[0u8; DATA_PACKET_LEN]));
    // Random bytes with valid flags: decoded or refused, never a panic, positions finite.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(19);
    for _ in 0..2000 {
        let mut p = good.clone();
        for _ in 0..rng.random_range(1..200) {
            let i = rng.random_range(0..p.len());
            p[i] = rng.random();
        }
        for model in MODELS {
            if Decoder::new(model).decode(&p, Some(-1.0), &mut out).is_ok() {
                assert!(out.returns.iter().all(|r| r
                    .position
                    .coords
                    .iter()
                    .all(|v| v.is_finite())));
            }
        }
    }
}

/// Consecutive HDL-32E packets turning at `step` hundredths of a degree per block.
fn hdl_stream(packets: usize, start: u16, step: u16) -> Vec<(f64, Vec<u8>)> {
    (0..packets)
        .map(|i| {
            let first = ((start as usize + i * 12 * step as usize) % 36000) as u16;
            let ts = (i as f64 * 552.96).round() as u32;
            let p = packet(
                0x21,
                0x37,
                1_000 + ts,
                azimuths(first, step, false),
                |_, c| (1000 + c as u16, 1),
            );
            (100.0 + ts as f64 * 1e-6, p)
        })
        .collect()
}

#[test]
fn sweeps_are_cut_at_the_angle_and_the_ends_are_partial() {
    // 0.2° per block: 150 packets a rotation; 500 packets from 100° reach 1300°.
    let stream = hdl_stream(500, 10000, 20);
    let dec = Decoder::new(Model::Hdl32E);
    let mut clock = clock::PacketClock::default();
    let mut asm = SweepAssembler::new(0.0);
    let mut d = DecodedPacket::default();
    let mut sweeps = Vec::new();
    for (t, p) in &stream {
        dec.decode(p, None, &mut d).unwrap();
        asm.push(clock.time(*t, d.trailer.unwrap().timestamp_us), &d);
        while let Some(s) = asm.pop() {
            sweeps.push(s);
        }
    }
    asm.finish();
    while let Some(s) = asm.pop() {
        sweeps.push(s);
    }
    assert_eq!(sweeps.len(), 4, "part, whole, whole, part");
    let partial: Vec<bool> = sweeps.iter().map(|s| s.partial).collect();
    assert_eq!(partial, [true, false, false, true]);
    let total: usize = sweeps.iter().map(|s| s.points.len()).sum();
    assert_eq!(total, 500 * 12 * 32);
    for s in &sweeps[1..3] {
        // A whole rotation: 1800 columns of 0.2°, from 0° to 359.8°.
        assert_eq!(s.columns, 1800);
        assert!(near(s.coverage_deg, 359.8, 1e-6));
        assert!(s.azimuth_deg[0] < 0.2 && *s.azimuth_deg.last().unwrap() > 359.8);
        assert_eq!(s.time[0], 0.0);
        assert!(s.time.windows(2).all(|w| w[1] >= w[0]));
        // 1800 columns of 46.08 µs, less the last column's remainder.
        let span = *s.time.last().unwrap() as f64;
        assert!(
            near(span, 1799.0 * 46.08e-6 + 31.0 * 1.152e-6, 1e-6),
            "{span}"
        );
    }
    // Consecutive sweeps follow each other: the next stamp one column after the last point.
    let gap = sweeps[2].stamp - (sweeps[1].stamp + 1799.0 * 46.08e-6);
    assert!(near(gap, 46.08e-6, 1.5e-6), "{gap}");
    // Another cut angle: 90° — the whole sweeps start there.
    let mut asm = SweepAssembler::new(90.0);
    let mut starts = Vec::new();
    for (t, p) in &stream {
        dec.decode(p, None, &mut d).unwrap();
        asm.push(*t, &d);
        while let Some(s) = asm.pop() {
            starts.push((s.partial, s.azimuth_deg[0]));
        }
    }
    assert!(
        starts.len() >= 2 && !starts[1].0 && near(starts[1].1 as f64, 90.0, 0.2),
        "{starts:?}"
    );
}

#[test]
fn a_pause_in_the_packets_ends_the_sweep_as_partial() {
    let mut stream = hdl_stream(400, 10000, 20);
    for (t, _) in stream.iter_mut().skip(200) {
        *t += 1.0; // a second's silence; the packets' own clock would re-anchor too
    }
    let dec = Decoder::new(Model::Hdl32E);
    let mut asm = SweepAssembler::new(0.0);
    let mut d = DecodedPacket::default();
    for (t, p) in &stream {
        dec.decode(p, None, &mut d).unwrap();
        asm.push(*t, &d);
    }
    asm.finish();
    let mut sweeps = Vec::new();
    while let Some(s) = asm.pop() {
        sweeps.push(s);
    }
    assert_eq!(asm.pauses(), 1);
    assert!(
        sweeps.iter().all(|s| s.partial),
        "no sweep is whole around a pause"
    );
}

#[test]
fn scan_from_packets_makes_one_scan_of_all() {
    let stream = hdl_stream(30, 35000, 20);
    let mut list: Vec<(f64, &[u8])> = stream.iter().map(|(t, p)| (*t, p.as_slice())).collect();
    let broken = vec![0u8; 100];
    list.insert(5, (0.0, broken.as_slice()));
    let scan = scan_from_packets(list.iter().copied(), None).unwrap();
    assert_eq!(scan.model, Model::Hdl32E);
    assert_eq!(scan.mode, ReturnMode::Strongest);
    assert!(!scan.sweep.partial);
    // Across the azimuth wrap, no cut: every return of the 30 packets.
    assert_eq!(scan.sweep.points.len(), 30 * 12 * 32);
    assert_eq!(scan.skipped, vec![(5, PacketError::Length(100))]);
    assert_eq!(scan.sweep.time[0], 0.0);
    let last = *scan.sweep.time.last().unwrap() as f64;
    assert!(
        near(
            last,
            29.0 * 552.96e-6 + 11.0 * 46.08e-6 + 31.0 * 1.152e-6,
            2e-6
        ),
        "{last}"
    );
    // A byte naming no model this reads, and no model given: the error says so.
    let other = packet(0xA1, 0x37, 0, azimuths(0, 20, false), |_, _| (1, 1));
    let e = scan_from_packets([(0.0, other.as_slice())], None).unwrap_err();
    assert!(e.to_string().contains("VLS-128"), "{e}");
    // Given the model, it decodes.
    assert!(scan_from_packets([(0.0, other.as_slice())], Some(Model::Vlp32C)).is_ok());
    assert!(matches!(
        scan_from_packets(std::iter::empty::<(f64, &[u8])>(), None),
        Err(ScanError::NoPackets(None))
    ));
}
