//! Velodyne captures on the shared fixtures: agreement with velodyne-decoder 3.1.0's decode
//! of hdl32.pcap, the model check on both captures, and bad input (captures cut short,
//! bytes flipped, no Velodyne packets at all).

mod common;

use lidarflow::recordings::packets::velodyne::{
    block_azimuth, looks_like_velodyne, DecodedPacket, Decoder, Model,
};
use lidarflow::recordings::pcap::PcapReader;
use lidarflow::recordings::{self, OpenOptions, ScanSource, SourceScan};
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> Option<PathBuf> {
    common::shared_dataset("recordings/velodyne-pcap").map(|d| d.join(name))
}

fn open(path: &Path, model: Option<&str>) -> lidarflow::Result<Box<dyn ScanSource>> {
    let options = OpenOptions {
        model: model.map(str::to_string),
        ..OpenOptions::default()
    };
    recordings::open(path, &options)
}

fn all_scans(source: &mut dyn ScanSource) -> Vec<SourceScan> {
    let mut scans = Vec::new();
    while let Some(s) = source.next_scan() {
        scans.push(s.expect("a scan"));
    }
    scans
}

fn detail<'a>(source: &'a dyn ScanSource, label: &str) -> &'a str {
    source
        .info()
        .details
        .iter()
        .find(|(l, _)| l == label)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no '{label}' in {:?}", source.info().details))
}

/// velodyne-decoder's clouds: float32 x y z concatenated, and the per-cloud counts.
fn reference_clouds(dir: &Path) -> (Vec<[f32; 3]>, Vec<usize>) {
    let bin = std::fs::read(dir.join("decoder-xyz/hdl32.bin")).unwrap();
    let xyz = bin
        .chunks_exact(12)
        .map(|c| {
            let f = |i: usize| f32::from_le_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]]);
            [f(0), f(4), f(8)]
        })
        .collect();
    let counts = std::fs::read_to_string(dir.join("decoder-xyz/hdl32.txt"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("cloud "))
        .map(|l| l.split_whitespace().nth(3).unwrap().parse().unwrap())
        .collect();
    (xyz, counts)
}

/// The laser of every return of a capture, in order.
fn lasers_in_order(path: &Path) -> Vec<u8> {
    let decoder = Decoder::new(Model::Hdl32E);
    let mut reader = PcapReader::open(path).unwrap();
    let mut decoded = DecodedPacket::default();
    let mut lasers = Vec::new();
    while let Some(p) = reader.next_packet() {
        if looks_like_velodyne(&p.payload) {
            decoder.decode(&p.payload, None, &mut decoded).unwrap();
            lasers.extend(decoded.returns.iter().map(|r| r.laser));
        }
    }
    lasers
}

#[test]
fn hdl32_matches_velodyne_decoder() {
    let Some(path) = fixture("hdl32.pcap") else {
        return;
    };
    let (reference, ref_counts) = reference_clouds(path.parent().unwrap());

    // Every data packet decoded in capture order, with its last block's azimuth.
    let decoder = Decoder::new(Model::Hdl32E);
    let mut reader = PcapReader::open(&path).unwrap();
    let mut decoded = DecodedPacket::default();
    let mut points = Vec::new();
    let mut per_packet = Vec::new();
    let mut hint = None;
    while let Some(p) = reader.next_packet() {
        if !looks_like_velodyne(&p.payload) {
            continue;
        }
        decoder.decode(&p.payload, hint, &mut decoded).unwrap();
        hint = Some(decoded.rate_deg_per_us);
        points.extend(decoded.returns.iter().map(|r| r.position));
        per_packet.push((
            decoded.returns.len(),
            block_azimuth(&p.payload, 11).unwrap(),
        ));
    }

    // The same returns, in the same order (packet, block, channel; zero distances out).
    assert_eq!(points.len(), reference.len());
    // Horizontally: velodyne-decoder rounds each point's azimuth to 0.01° and computes in
    // float32, so a point may be off by its range × 0.005°, plus float rounding.
    // Vertically: its z differs from the HDL-32E manual's `R sin ω` by a constant per laser
    // (about -29 mm × tan ω: +17 mm on the lowest laser, 0 on the level one), which the
    // manual's coordinate formula does not have; we follow the manual. Measured here per
    // laser, and checked to be a constant, not noise.
    let lasers: Vec<u8> = lasers_in_order(&path);
    let mut dz_by_laser = vec![Vec::new(); 32];
    let (mut sum_sq, mut max, mut sum_sq_xy, mut max_xy) = (0.0, 0.0f64, 0.0, 0.0f64);
    for ((ours, theirs), laser) in points.iter().zip(&reference).zip(&lasers) {
        let dxy = (ours.x - theirs[0] as f64).hypot(ours.y - theirs[1] as f64);
        let dz = theirs[2] as f64 - ours.z;
        let range = ours.coords.norm();
        assert!(
            dxy <= range * 0.005f64.to_radians() + 2e-4,
            "{ours:?} against {theirs:?}: {dxy} m at {range} m"
        );
        dz_by_laser[*laser as usize].push(dz);
        let d = dxy.hypot(dz);
        sum_sq += d * d;
        max = max.max(d);
        sum_sq_xy += dxy * dxy;
        max_xy = max_xy.max(dxy);
    }
    let mut offsets = Vec::new();
    for (laser, dz) in dz_by_laser.iter_mut().enumerate() {
        dz.sort_by(f64::total_cmp);
        let (lo, hi) = (dz[0], dz[dz.len() - 1]);
        assert!(
            hi - lo < 5e-4,
            "laser {laser}: z offset {lo}..{hi} is not a constant"
        );
        offsets.push(dz[dz.len() / 2]);
    }
    // The level laser (15, 0°) agrees; the offset grows with the elevation's magnitude.
    assert!(offsets[15].abs() < 2e-4 && offsets[0] > offsets[30] && offsets[30] > 0.0);
    let n = points.len() as f64;
    eprintln!(
        "hdl32.pcap against velodyne-decoder 3.1.0: {} points; 3D max {:.2} mm, RMS {:.2} mm; \
         horizontal max {:.2} mm, RMS {:.2} mm; its z offset per laser (mm): {:?}",
        points.len(),
        max * 1e3,
        (sum_sq / n).sqrt() * 1e3,
        max_xy * 1e3,
        (sum_sq_xy / n).sqrt() * 1e3,
        offsets
            .iter()
            .map(|o| (o * 1e4).round() / 10.0)
            .collect::<Vec<_>>()
    );

    // Its clouds, cut by its rule (ScanBatcher: a cloud ends with the packet whose last
    // block's azimuth, counted from the previous cloud's last packet's, wraps past 180° and
    // back; whole packets): the same counts.
    let mut counts = Vec::new();
    let (mut initial, mut coverage, mut n) = (None, 0i32, 0usize);
    for &(returns, az) in &per_packet {
        let start = *initial.get_or_insert(az as i32);
        n += returns;
        let new = (az as i32 - start).rem_euclid(36000);
        if coverage > 18000 && coverage > new {
            counts.push(n);
            n = 0;
            initial = Some(az as i32);
            coverage = 0;
        } else {
            coverage = new;
        }
    }
    if n > 0 {
        counts.push(n);
    }
    assert_eq!(counts, ref_counts);

    // Our own sweeps cut at 0° hold the same returns, split elsewhere.
    let mut source = open(&path, None).unwrap();
    let ours: Vec<usize> = all_scans(source.as_mut())
        .iter()
        .map(|s| s.cloud.len())
        .collect();
    eprintln!(
        "velodyne-decoder's clouds {ref_counts:?} (cut near 215-226°), ours {ours:?} (cut at 0°)"
    );
    assert_eq!(ours.iter().sum::<usize>(), reference.len());
}

#[test]
fn hdl32_capture_scans_info_and_times() {
    let Some(path) = fixture("hdl32.pcap") else {
        return;
    };
    let mut source = open(&path, None).unwrap();
    assert_eq!(source.info().kind, "Velodyne capture");
    assert_eq!(
        detail(source.as_ref(), "model"),
        "HDL-32E (factory byte 0x21)"
    );
    assert_eq!(detail(source.as_ref(), "return mode"), "strongest");
    assert_eq!(detail(source.as_ref(), "data port"), "2368");
    let hz: f64 = detail(source.as_ref(), "rotation")
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let per_rotation: f64 = detail(source.as_ref(), "packets/rev").parse().unwrap();
    // One packet is 12 × 46.08 µs: packets per rotation and rotation rate agree.
    assert!(
        (per_rotation * 552.96e-6 * hz - 1.0).abs() < 0.02,
        "{hz} Hz, {per_rotation}"
    );
    let warnings = source.take_warnings();
    assert!(
        warnings.iter().all(|w| !w.contains("MODEL")),
        "{warnings:?}"
    );

    let scans = all_scans(source.as_mut());
    let partial: Vec<bool> = scans.iter().map(|s| s.partial).collect();
    assert!(partial[0] && partial[partial.len() - 1], "{partial:?}");
    assert!(
        partial[1..partial.len() - 1].iter().all(|p| !p),
        "{partial:?}"
    );
    // Five rotations of 876 packets at the measured packets per rotation.
    let whole = partial.iter().filter(|p| !**p).count();
    let rotations = (876.0 / per_rotation).floor() as usize;
    assert!(
        whole == rotations || whole + 1 == rotations,
        "{whole} of {rotations}"
    );
    for pair in scans.windows(2) {
        if !pair[0].partial {
            // Whole rotations follow each other one period apart.
            let dt = pair[1].cloud.stamp - pair[0].cloud.stamp;
            assert!((dt * hz - 1.0).abs() < 0.02, "{dt} s at {hz} Hz");
        }
    }
    for s in &scans {
        let time = s.cloud.time().unwrap();
        assert_eq!(time[0], 0.0);
        assert!(time
            .iter()
            .all(|t| *t >= 0.0 && (*t as f64) < 1.0 / hz + 1e-3));
        assert_eq!(s.cloud.ring().unwrap().len(), s.cloud.len());
    }
    // Rings are ordered by elevation: each ring's median elevation above the one below.
    let s = &scans[1];
    let ring = s.cloud.ring().unwrap();
    let mut by_ring = vec![Vec::new(); 32];
    for (p, r) in s.cloud.points().iter().zip(ring) {
        by_ring[*r as usize].push(p.z.atan2(p.x.hypot(p.y)));
    }
    let medians: Vec<f64> = by_ring
        .iter_mut()
        .map(|v| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        })
        .collect();
    assert!(medians.windows(2).all(|w| w[1] > w[0]), "{medians:?}");
}

#[test]
fn vlp16_with_an_hdl32e_byte_is_corrected_with_a_warning() {
    let Some(path) = fixture("vlp16.pcap") else {
        return;
    };
    let mut source = open(&path, None).unwrap();
    let model = detail(source.as_ref(), "model").to_string();
    assert!(model.starts_with("VLP-16 (corrected"), "{model}");
    let warnings = source.take_warnings();
    let w = warnings
        .iter()
        .find(|w| w.contains("--set MODEL=VLP-16"))
        .unwrap_or_else(|| panic!("{warnings:?}"));
    assert!(w.contains("vlp16.pcap") && w.contains("HDL-32E"), "{w}");
    eprintln!("{w}");
    let scans = all_scans(source.as_mut());
    assert!(!scans.is_empty());
    assert!(scans
        .iter()
        .all(|s| s.cloud.ring().unwrap().iter().all(|r| *r < 16)));

    // Said by the user: no warning. Set wrong: decoded as told, and questioned.
    let mut told = open(&path, Some("VLP-16")).unwrap();
    assert!(told.take_warnings().is_empty());
    assert_eq!(
        detail(told.as_ref(), "model"),
        "VLP-16 (as set by the user)"
    );
    let mut wrong = open(&path, Some("HDL-32E")).unwrap();
    assert!(wrong.take_warnings().iter().any(|w| w.contains("as told")));
    let e = open(&path, Some("VLP-64")).err().unwrap().to_string();
    assert!(e.contains("VLP-64") && e.contains("VLP-32C"), "{e}");
}

/// The records of a legacy pcap: (offset of the record header, captured length).
fn records(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut at = 24;
    let mut out = Vec::new();
    while at + 16 <= bytes.len() {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push((at, caplen));
        at += 16 + caplen;
    }
    out
}

#[test]
fn a_capture_without_data_packets_says_what_it_holds() {
    let Some(path) = fixture("hdl32.pcap") else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let mut only_position = bytes[..24].to_vec();
    for (at, caplen) in records(&bytes) {
        // Ethernet, IPv4 and UDP headers are 42 bytes.
        if caplen != 42 + 1206 {
            only_position.extend_from_slice(&bytes[at..at + 16 + caplen]);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("gps-only.pcap");
    std::fs::write(&p, &only_position).unwrap();
    let e = open(&p, None).err().expect("an error").to_string();
    assert!(
        e.contains("gps-only.pcap") && e.contains("512 bytes to port 8308"),
        "{e}"
    );
}

#[test]
fn a_capture_cut_short_delivers_what_came_before() {
    let Some(path) = fixture("hdl32.pcap") else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cut.pcap");
    std::fs::write(&p, &bytes[..bytes.len() * 3 / 5 + 7]).unwrap();
    let mut source = open(&p, None).unwrap();
    let scans = all_scans(source.as_mut());
    let warnings = source.take_warnings();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("cut.pcap") && w.contains("delivered")),
        "{warnings:?}"
    );
    assert!(scans.len() >= 2 && scans.last().unwrap().partial);

    // A damaged block flag: that packet is skipped and counted, the rest decoded.
    let mut flipped = bytes.clone();
    let (at, _) = records(&bytes)
        .into_iter()
        .find(|r| r.1 == 42 + 1206)
        .unwrap();
    flipped[at + 16 + 42 + 300] = 0x00; // block 3's flag
    let p = dir.path().join("flag.pcap");
    std::fs::write(&p, &flipped).unwrap();
    let mut source = open(&p, None).unwrap();
    let total: usize = all_scans(source.as_mut())
        .iter()
        .map(|s| s.cloud.len())
        .sum();
    let warnings = source.take_warnings();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("1 of 876 data packets skipped") && w.contains("block 3")),
        "{warnings:?}"
    );
    assert!(total > 0);
}

#[test]
fn truncated_and_flipped_captures_never_panic_or_hang() {
    let Some(dir) = common::shared_dataset("recordings/velodyne-pcap") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2368);
    for name in ["vlp16.pcap", "hdl32.pcap"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for k in 0..24 {
            let cut = match k {
                0..=3 => k * 9, // inside the file header
                _ => rng.random_range(24..bytes.len()),
            };
            cases.push(bytes[..cut].to_vec());
        }
        for _ in 0..12 {
            let mut b = bytes.clone();
            for _ in 0..rng.random_range(1..400) {
                let i = rng.random_range(24..b.len());
                b[i] = rng.random();
            }
            cases.push(b);
        }
        for (i, case) in cases.iter().enumerate() {
            let p = tmp.path().join(format!("case{i}-{name}"));
            std::fs::write(&p, case).unwrap();
            match open(&p, None) {
                Err(e) => assert!(e.to_string().contains(&format!("case{i}-")), "{e}"),
                Ok(mut source) => {
                    let mut n = 0;
                    while let Some(s) = source.next_scan() {
                        n += 1;
                        assert!(n < 10_000, "endless stream");
                        match s {
                            Ok(s) => assert!(s
                                .cloud
                                .points()
                                .iter()
                                .all(|p| p.coords.iter().all(|v| v.is_finite()))),
                            Err(e) => assert!(e.to_string().contains(&format!("case{i}-"))),
                        }
                    }
                    let _ = source.take_warnings();
                }
            }
        }
    }
}

/// A legacy pcap of UDP datagrams (Ethernet, IPv4, UDP), each `(capture time, dst port,
/// payload)`.
fn write_pcap(path: &Path, datagrams: &[(f64, u16, Vec<u8>)]) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0u8; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes()); // Ethernet
    for (time, port, payload) in datagrams {
        let mut frame = vec![0xffu8; 12];
        frame.extend_from_slice(&[0x08, 0x00]);
        let ip_len = (20 + 8 + payload.len()) as u16;
        frame.extend_from_slice(&[0x45, 0]);
        frame.extend_from_slice(&ip_len.to_be_bytes());
        frame.extend_from_slice(&[
            0, 0, 0x40, 0, 64, 17, 0, 0, 192, 168, 1, 201, 255, 255, 255, 255,
        ]);
        frame.extend_from_slice(&2368u16.to_be_bytes());
        frame.extend_from_slice(&port.to_be_bytes());
        frame.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        frame.extend_from_slice(&[0, 0]);
        frame.extend_from_slice(payload);
        out.extend_from_slice(&(time.floor() as u32).to_le_bytes());
        out.extend_from_slice(&(((time - time.floor()) * 1e6).round() as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&frame);
    }
    std::fs::write(path, out).unwrap();
}

/// Data packets of a sensor turning at 10 Hz from azimuth 100°: `column_us` per firing
/// column, `columns_per_block` (2 for 16-laser models), dual return pairs when `dual`.
/// Distances: 10 m in the first block of a pair (or the only one), 8 m in the second for
/// odd channels and a repeat of the first for even ones.
fn synthetic(
    packets: usize,
    factory: u8,
    mode: u8,
    column_us: f64,
    columns_per_block: usize,
    unit_m: f64,
) -> Vec<(f64, u16, Vec<u8>)> {
    let dual = mode == 0x39;
    let blocks_per_column = if dual { 2 } else { 1 };
    let packet_us = 12.0 * columns_per_block as f64 * column_us / blocks_per_column as f64;
    let deg_per_us = 3600.0 * 1e-6;
    let (near, far) = ((10.0 / unit_m) as u16, (8.0 / unit_m) as u16);
    (0..packets)
        .map(|i| {
            let t_us = i as f64 * packet_us;
            let mut p = vec![0u8; 1206];
            for b in 0..12 {
                let column = (b / blocks_per_column) * columns_per_block;
                let az = (100.0 + deg_per_us * (t_us + column as f64 * column_us)) % 360.0;
                let at = b * 100;
                p[at] = 0xFF;
                p[at + 1] = 0xEE;
                p[at + 2..at + 4].copy_from_slice(&((az * 100.0) as u16 % 36000).to_le_bytes());
                for c in 0..32 {
                    let d = if dual && b % 2 == 1 && c % 2 == 1 {
                        far
                    } else {
                        near
                    };
                    p[at + 4 + 3 * c..at + 6 + 3 * c].copy_from_slice(&d.to_le_bytes());
                    p[at + 6 + 3 * c] = 40;
                }
            }
            let ts = (1_000_000.0 + t_us).round() as u32;
            p[1200..1204].copy_from_slice(&ts.to_le_bytes());
            p[1204] = mode;
            p[1205] = factory;
            (1_700_000_500.0 + t_us * 1e-6, 2368, p)
        })
        .collect()
}

#[test]
fn synthetic_vlp32c_dual_capture_keeps_both_returns() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("vlp32c-dual.pcap");
    // 331.8 µs a packet: 301 packets a rotation; 1000 from 100° reach 1294°, past three
    // cuts.
    write_pcap(&p, &synthetic(1000, 0x28, 0x39, 55.296, 1, 0.004));
    let mut source = open(&p, None).unwrap();
    assert_eq!(
        detail(source.as_ref(), "model"),
        "VLP-32C (factory byte 0x28)"
    );
    assert_eq!(detail(source.as_ref(), "return mode"), "dual");
    assert!(source.take_warnings().is_empty());
    let scans = all_scans(source.as_mut());
    let whole: Vec<&SourceScan> = scans.iter().filter(|s| !s.partial).collect();
    assert_eq!(
        whole.len(),
        2,
        "{:?}",
        scans.iter().map(|s| s.partial).collect::<Vec<_>>()
    );
    for s in whole {
        // Every column: 32 last returns, and the 16 odd channels' different strongest ones.
        assert_eq!(s.cloud.len() % 48, 0);
        let columns = s.cloud.len() / 48;
        // A rotation at 10 Hz of 55.296 µs columns.
        assert!((columns as f64 - 0.1 / 55.296e-6).abs() < 3.0, "{columns}");
        let far = s
            .cloud
            .points()
            .iter()
            .filter(|p| (p.coords.norm() - 8.0).abs() < 0.01)
            .count();
        assert_eq!(far, columns * 16);
    }

    // The same packets claiming to be an HDL-32E's: their spacing says VLP-32C.
    let p = dir.path().join("lying.pcap");
    write_pcap(&p, &synthetic(400, 0x21, 0x39, 55.296, 1, 0.004));
    let mut source = open(&p, None).unwrap();
    let warnings = source.take_warnings();
    assert!(
        warnings.iter().any(|w| w.contains("--set MODEL=VLP-32C")),
        "{warnings:?}"
    );
}

#[test]
fn synthetic_vlp16_last_return_capture() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("vlp16-last.pcap");
    write_pcap(&p, &synthetic(200, 0x22, 0x38, 55.296, 2, 0.002));
    let mut source = open(&p, None).unwrap();
    assert_eq!(
        detail(source.as_ref(), "model"),
        "VLP-16 (factory byte 0x22)"
    );
    assert_eq!(detail(source.as_ref(), "return mode"), "last");
    let hz: f64 = detail(source.as_ref(), "rotation")
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((hz - 10.0).abs() < 0.1, "{hz}");
    assert!(source.take_warnings().is_empty());
    let scans = all_scans(source.as_mut());
    // 200 packets of 24 columns of 16 lasers; the vertical offsets put every point within
    // 11.2 mm of 10 m from the origin.
    assert_eq!(
        scans.iter().map(|s| s.cloud.len()).sum::<usize>(),
        200 * 24 * 16
    );
    for s in &scans {
        assert!(s
            .cloud
            .points()
            .iter()
            .all(|p| (p.coords.norm() - 10.0).abs() < 0.012));
        assert!(s.cloud.ring().unwrap().iter().all(|r| *r < 16));
    }
}
