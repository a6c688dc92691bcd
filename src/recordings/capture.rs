//! A sensor's packet capture (`.pcap`, `.pcapng`): tells a Velodyne capture from an Ouster
//! one and hands it to that sensor's reader. Velodyne data packets say what they are (1206
//! bytes, block flags `0xFF 0xEE`); Ouster packets only make sense with the sensor's metadata
//! `.json`, so a capture whose first datagrams hold no Velodyne packet is taken for Ouster,
//! whose reader finds the metadata or says it is missing.

use super::source::{OpenOptions, ScanSource};
use super::{ouster_capture, velodyne_capture};
use crate::error::{Error, Result};
use crate::recordings::pcap::PcapReader;
use std::path::Path;

/// UDP datagrams looked at, at most, for a Velodyne data packet before deciding.
const PEEK_DATAGRAMS: usize = 5_000;

/// The sensor family a capture's packets come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sensor {
    /// Velodyne VLP-16, VLP-32C, HDL-32E, HDL-64E, VLS-128 data packets.
    Velodyne,
    /// Ouster OS-series lidar packets (read with the sensor's metadata).
    Ouster,
}

/// Which sensor wrote a capture. Given options decide first: a Velodyne `model` means
/// Velodyne, an Ouster `metadata` file means Ouster. Otherwise the first datagrams are read:
/// any Velodyne data packet among them makes it Velodyne, else Ouster.
pub fn sensor_of(path: &Path, options: &OpenOptions) -> Result<Sensor> {
    if options
        .metadata
        .as_deref()
        .is_some_and(|p| !p.as_os_str().is_empty())
    {
        return Ok(Sensor::Ouster);
    }
    if options
        .model
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty())
    {
        return Ok(Sensor::Velodyne);
    }
    let mut reader = PcapReader::open(path)?;
    for _ in 0..PEEK_DATAGRAMS {
        match reader.next_packet() {
            Some(p) if velodyne_capture::looks_like_velodyne(&p.payload) => {
                return Ok(Sensor::Velodyne)
            }
            Some(_) => {}
            None => break,
        }
    }
    Ok(Sensor::Ouster)
}

/// Opens a packet capture with the reader for the sensor that wrote it ([`sensor_of`]).
/// A capture with neither Velodyne packets nor Ouster metadata beside it gets an error that
/// says what it holds and where the metadata would be looked for.
pub fn open(path: &Path, options: &OpenOptions) -> Result<Box<dyn ScanSource>> {
    match sensor_of(path, options)? {
        Sensor::Velodyne => velodyne_capture::open(path, options),
        Sensor::Ouster => match ouster_capture::find_metadata(path, options.metadata.as_deref()) {
            Ok(_) => ouster_capture::open(path, options),
            Err(no_meta) => {
                let holds = match velodyne_capture::open(path, options) {
                    Err(e) => e.to_string(),
                    Ok(source) => return Ok(source),
                };
                Err(Error::format(
                    path,
                    format!(
                        "not a Velodyne capture ({holds}), nor an Ouster one that can be read \
                         ({no_meta})"
                    ),
                ))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recordings::pcap::tests::{ethernet_udp, legacy_pcap};

    fn velodyne_packet() -> Vec<u8> {
        let mut p = vec![0u8; 1206];
        for b in 0..12 {
            p[b * 100] = 0xFF;
            p[b * 100 + 1] = 0xEE;
        }
        p
    }

    fn write(name: &str, payloads: &[Vec<u8>]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("lidarflow-capture-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let frames: Vec<(f64, Vec<u8>)> = payloads
            .iter()
            .enumerate()
            .flat_map(|(i, p)| ethernet_udp(p, 2368, i as u16, 9000))
            .enumerate()
            .map(|(i, f)| (i as f64 * 1e-3, f))
            .collect();
        let path = dir.join(name);
        std::fs::write(&path, legacy_pcap(&frames)).unwrap();
        path
    }

    #[test]
    fn velodyne_packets_after_other_traffic_make_a_velodyne_capture() {
        let path = write(
            "velodyne.pcap",
            &[vec![1u8; 512], vec![2u8; 300], velodyne_packet()],
        );
        let o = OpenOptions::default();
        assert_eq!(sensor_of(&path, &o).unwrap(), Sensor::Velodyne);
    }

    #[test]
    fn without_velodyne_packets_it_is_ouster_and_options_decide_first() {
        let path = write("ouster.pcap", &[vec![0u8; 3328], vec![0u8; 3328]]);
        let mut o = OpenOptions::default();
        assert_eq!(sensor_of(&path, &o).unwrap(), Sensor::Ouster);
        o.model = Some("VLP-16".into());
        assert_eq!(sensor_of(&path, &o).unwrap(), Sensor::Velodyne);
        // Opening as Ouster without metadata beside it says what is missing.
        let o = OpenOptions::default();
        let e = match open(&path, &o) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("opened an Ouster capture without metadata"),
        };
        assert!(e.contains("metadata"), "{e}");
    }
}
