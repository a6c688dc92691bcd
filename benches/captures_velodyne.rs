//! Velodyne capture decode throughput on the shared fixtures: the whole capture read as
//! scans (pcap container, packet decoding, sweep assembly, point clouds) several times, and
//! the packet decoder alone on the capture's data packets held in memory. Prints scans/s,
//! packets/s, points/s and MB/s of capture file.
//!
//! `cargo bench --no-default-features --bench captures_velodyne`

use lidarflow::recordings::packets::velodyne::{
    looks_like_velodyne, DecodedPacket, Decoder, Model,
};
use lidarflow::recordings::pcap::PcapReader;
use lidarflow::recordings::{self, OpenOptions};
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/datasets/recordings/velodyne-pcap");
    if !dir.is_dir() {
        eprintln!("SKIPPED: {} is absent", dir.display());
        return;
    }
    println!(
        "{:<12} {:<22} {:>10} {:>12} {:>12} {:>9}",
        "capture", "stage", "scans/s", "packets/s", "Mpoints/s", "MB/s"
    );
    for (name, model) in [("hdl32.pcap", Model::Hdl32E), ("vlp16.pcap", Model::Vlp16)] {
        let path = dir.join(name);
        let mb = std::fs::metadata(&path).expect("capture").len() as f64 / 1e6;
        let rounds = 20;

        // The whole source: scans as the pipeline gets them.
        let options = OpenOptions {
            model: Some(model.name().to_string()),
            ..OpenOptions::default()
        };
        let (mut scans, mut points) = (0usize, 0usize);
        let start = Instant::now();
        for _ in 0..rounds {
            let mut source = recordings::open(&path, &options).expect("open");
            while let Some(s) = source.next_scan() {
                points += s.expect("scan").cloud.len();
                scans += 1;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{:<12} {:<22} {:>10.0} {:>12} {:>12.1} {:>9.1}",
            name,
            "capture to scans",
            scans as f64 / secs,
            "",
            points as f64 / secs / 1e6,
            mb * rounds as f64 / secs
        );

        // The decoder alone, on packets in memory.
        let mut reader = PcapReader::open(&path).expect("open");
        let mut packets = Vec::new();
        while let Some(p) = reader.next_packet() {
            if looks_like_velodyne(&p.payload) {
                packets.push(p.payload);
            }
        }
        let decoder = Decoder::new(model);
        let mut out = DecodedPacket::default();
        let mut points = 0usize;
        let start = Instant::now();
        for _ in 0..rounds {
            for p in &packets {
                decoder.decode(p, None, &mut out).expect("decode");
                points += out.returns.len();
            }
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{:<12} {:<22} {:>10} {:>12.0} {:>12.1} {:>9.1}",
            name,
            "packet decoder alone",
            "",
            (packets.len() * rounds) as f64 / secs,
            points as f64 / secs / 1e6,
            (packets.len() * 1206 * rounds) as f64 / secs / 1e6
        );
    }
}
