//! An Ouster sensor's packet capture (`.pcap` of its UDP lidar packets) with its metadata
//! `.json`, as a stream of scans: one scan per rotation, assembled by frame id from the
//! packets that [`PcapReader`] hands over and [`ouster::decode_into`] decodes, points placed
//! by the SDK's XYZ lookup table ([`XyzLut`]).

use super::packets::ouster::{self, DecodedPacket, PacketError, PacketLayout, XyzLut};
use super::packets::ouster_meta::{self, OusterMeta, Profile};
use super::pcap::{PcapReader, UdpPacket};
use super::source::{OpenOptions, ScanSource, SourceInfo, SourceScan};
use crate::cloud::PointCloud;
use crate::error::{Error, Result};
use nalgebra::Point3;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The metadata `.json` of a capture: `given` when the user named one, else the `.json`
/// beside the capture with its stem, else the only `.json` in its folder. Without any, an
/// error names the capture and says how to give the file.
pub fn find_metadata(pcap: &Path, given: Option<&Path>) -> Result<PathBuf> {
    if let Some(g) = given {
        if g.is_file() {
            return Ok(g.to_path_buf());
        }
        return Err(Error::format(
            g,
            format!(
                "the metadata given for {} does not exist (or is not a file)",
                pcap.display()
            ),
        ));
    }
    let beside = pcap.with_extension("json");
    if beside.is_file() {
        return Ok(beside);
    }
    let folder = match pcap.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut jsons: Vec<PathBuf> = std::fs::read_dir(&folder)
        .map_err(|e| Error::io(&folder, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        })
        .collect();
    jsons.sort();
    match jsons.len() {
        1 => Ok(jsons.remove(0)),
        0 => Err(Error::format(
            pcap,
            format!(
                "an Ouster capture needs the sensor's metadata .json, and none is beside it \
                 ({} or another .json in {}); give it with --set METADATA=file.json (or \
                 --metadata file.json for info and convert)",
                beside.display(),
                folder.display()
            ),
        )),
        _ => Err(Error::format(
            pcap,
            format!(
                "no {} beside the capture, and {} holds several .json files ({}): say which \
                 is the sensor's metadata with --set METADATA=file.json (or --metadata \
                 file.json for info and convert)",
                beside.display(),
                folder.display(),
                jsons
                    .iter()
                    .map(|p| p.file_name().unwrap_or_default().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// Opens an Ouster capture: finds and reads its metadata, and reads up to its first lidar
/// packet (a capture without any is an error naming what it holds instead).
pub fn open(pcap: &Path, options: &OpenOptions) -> Result<Box<dyn ScanSource>> {
    let meta_path = find_metadata(pcap, options.metadata.as_deref())?;
    let meta = ouster_meta::read(&meta_path)?;
    Ok(Box::new(OusterCapture::open(pcap, meta)?))
}

/// Distinct (port, size) pairs of unmatched datagrams remembered for messages, at most.
const MAX_CENSUS: usize = 32;

/// A stream of scans from an Ouster capture.
pub struct OusterCapture {
    path: PathBuf,
    reader: PcapReader,
    meta: OusterMeta,
    layout: PacketLayout,
    lut: XyzLut,
    info: SourceInfo,
    /// A decoded packet waiting to start the next frame.
    pending: Option<DecodedPacket>,
    scratch: DecodedPacket,
    frame: Option<FrameBuilder>,
    /// The frame id of the last scan delivered: its stragglers are dropped.
    last_frame: Option<u16>,
    lidar_packets: usize,
    /// Datagrams that were not lidar packets of the metadata's layout, by (port, size).
    census: BTreeMap<(u16, usize), usize>,
    skipped_wrong_size: usize,
    skipped_not_lidar: usize,
    late_packets: usize,
    repeated_columns: usize,
    columns_beyond_frame: usize,
    /// The UDP port lidar packets are read from: the metadata's, else the first port where a
    /// datagram decodes as a lidar packet (`None` until then).
    port: Option<u16>,
    said_init_id: bool,
    warnings: Vec<String>,
    done: bool,
}

impl OusterCapture {
    /// Opens `pcap` with its metadata and reads up to the first lidar packet.
    pub fn open(pcap: &Path, meta: OusterMeta) -> Result<OusterCapture> {
        let reader = PcapReader::open(pcap)?;
        let layout = PacketLayout::of(&meta);
        let lut = XyzLut::new(&meta);
        let info = describe(pcap, &meta);
        let meta_port = meta.udp_port_lidar;
        let mut capture = OusterCapture {
            path: pcap.to_path_buf(),
            reader,
            meta,
            layout,
            lut,
            info,
            pending: None,
            scratch: DecodedPacket::default(),
            frame: None,
            last_frame: None,
            lidar_packets: 0,
            census: BTreeMap::new(),
            skipped_wrong_size: 0,
            skipped_not_lidar: 0,
            late_packets: 0,
            repeated_columns: 0,
            columns_beyond_frame: 0,
            port: meta_port,
            said_init_id: false,
            warnings: Vec::new(),
            done: false,
        };
        if !capture.next_lidar_packet() {
            let elsewhere = capture.census.keys().any(|(port, size)| {
                *size == capture.layout.packet_bytes && Some(*port) != meta_port
            });
            if !elsewhere {
                return Err(capture.no_lidar_packets());
            }
            // No lidar packet on the metadata's port, but datagrams of their size on another
            // (a capture replayed or forwarded): read again, from the first port where one
            // decodes.
            capture.reader = PcapReader::open(pcap)?;
            capture.port = None;
            capture.census.clear();
            capture.skipped_wrong_size = 0;
            capture.skipped_not_lidar = 0;
            capture.warnings.clear();
            if !capture.next_lidar_packet() {
                return Err(capture.no_lidar_packets());
            }
            if let (Some(found), Some(said)) = (capture.port, meta_port) {
                capture.warnings.push(format!(
                    "{}: no lidar packets on the metadata's UDP port {said}; reading those on \
                     port {found}",
                    capture.path.display()
                ));
            }
        }
        capture.pending = Some(std::mem::take(&mut capture.scratch));
        Ok(capture)
    }

    /// The metadata the capture is read with.
    pub fn meta(&self) -> &OusterMeta {
        &self.meta
    }

    /// Reads datagrams up to the next lidar packet of the metadata's layout, decoded into
    /// `scratch`; false at the end of the capture.
    fn next_lidar_packet(&mut self) -> bool {
        while let Some(p) = self.reader.next_packet() {
            if self.accept(&p) {
                self.lidar_packets += 1;
                return true;
            }
        }
        self.warnings.extend(self.reader.take_warnings());
        false
    }

    /// Decodes `p` into `scratch` when it is a lidar packet; otherwise counts it.
    fn accept(&mut self, p: &UdpPacket) -> bool {
        let size = p.payload.len();
        let on_lidar_port = match self.port {
            Some(port) => p.dst_port == port,
            None => self.meta.udp_port_imu != Some(p.dst_port),
        };
        if size != self.layout.packet_bytes || !on_lidar_port {
            self.count(p.dst_port, size);
            if on_lidar_port && self.port.is_some() {
                if self.skipped_wrong_size == 0 {
                    self.warnings.push(format!(
                        "{}: skipping datagrams on the lidar port {} whose size is not a lidar \
                         packet's: {} (profile {}, {} pixels x {} columns per packet); is the \
                         metadata {} this capture's?",
                        self.path.display(),
                        p.dst_port,
                        PacketError::WrongSize {
                            expected: self.layout.packet_bytes,
                            found: size
                        },
                        self.meta.profile.name(),
                        self.meta.pixels_per_column,
                        self.meta.columns_per_packet,
                        self.meta.path.display()
                    ));
                }
                self.skipped_wrong_size += 1;
            }
            return false;
        }
        if let Err(e) = ouster::decode_into(&p.payload, &self.layout, &mut self.scratch) {
            self.count(p.dst_port, size);
            if self.skipped_not_lidar == 0 {
                self.warnings.push(format!(
                    "{}: skipping a datagram of a lidar packet's size on port {}: {e}",
                    self.path.display(),
                    p.dst_port
                ));
            }
            self.skipped_not_lidar += 1;
            return false;
        }
        self.port = Some(p.dst_port);
        let init_id = self.scratch.header.init_id;
        if let Some(expected) = self.meta.init_id {
            if self.meta.profile != Profile::Legacy && init_id != expected && !self.said_init_id {
                self.said_init_id = true;
                self.warnings.push(format!(
                    "{}: packets carry initialization id {init_id}, the metadata {} says \
                     {expected}: the metadata may be from another session of the sensor",
                    self.path.display(),
                    self.meta.path.display()
                ));
            }
        }
        true
    }

    fn count(&mut self, port: u16, size: usize) {
        let key = (port, size);
        if self.census.len() < MAX_CENSUS || self.census.contains_key(&key) {
            *self.census.entry(key).or_default() += 1;
        }
    }

    /// The error of a capture without a single lidar packet of the metadata's layout.
    fn no_lidar_packets(&mut self) -> Error {
        let counts = self.reader.counts();
        let seen = if self.census.is_empty() {
            "no UDP datagrams at all".to_string()
        } else {
            let mut by_count: Vec<_> = self.census.iter().collect();
            by_count.sort_by(|a, b| b.1.cmp(a.1));
            by_count
                .iter()
                .take(8)
                .map(|((port, size), n)| format!("{n} of {size} bytes on port {port}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut warnings = self.reader.take_warnings();
        warnings.retain(|w| !w.is_empty());
        Error::format(
            &self.path,
            format!(
                "no Ouster lidar packets matching the metadata {} (profile {}, {} pixels x {} \
                 columns per packet = {}-byte packets{}) among {} captured frames: found {seen}{}",
                self.meta.path.display(),
                self.meta.profile.name(),
                self.meta.pixels_per_column,
                self.meta.columns_per_packet,
                self.layout.packet_bytes,
                self.meta
                    .udp_port_lidar
                    .map(|p| format!(" on port {p}"))
                    .unwrap_or_default(),
                counts.frames,
                if warnings.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", warnings.join("; "))
                }
            ),
        )
    }

    /// The scan of a finished frame.
    fn deliver(&mut self, frame: FrameBuilder) -> Result<SourceScan> {
        self.last_frame = Some(frame.frame_id);
        self.repeated_columns += frame.repeated;
        self.columns_beyond_frame += frame.beyond_frame;
        let window = self.meta.window_columns();
        let label = format!(
            "{} frame {}",
            self.path.file_name().unwrap_or_default().to_string_lossy(),
            frame.frame_id
        );
        let sensor = self
            .meta
            .prod_line
            .clone()
            .unwrap_or_else(|| "ouster".to_string());
        frame.into_scan(window, label, sensor)
    }

    fn final_warnings(&mut self) {
        let p = self.path.display();
        if self.skipped_wrong_size > 0 {
            self.warnings.push(format!(
                "{p}: {} datagrams on the lidar port skipped: not {}-byte lidar packets",
                self.skipped_wrong_size, self.layout.packet_bytes
            ));
        }
        if self.skipped_not_lidar > 0 {
            self.warnings.push(format!(
                "{p}: {} datagrams of a lidar packet's size skipped: not lidar data",
                self.skipped_not_lidar
            ));
        }
        if self.repeated_columns > 0 {
            self.warnings.push(format!(
                "{p}: {} columns repeated a measurement id already received in their frame: \
                 ignored",
                self.repeated_columns
            ));
        }
        if self.columns_beyond_frame > 0 {
            self.warnings.push(format!(
                "{p}: {} columns had a measurement id beyond the {} columns of a frame: ignored",
                self.columns_beyond_frame, self.meta.columns_per_frame
            ));
        }
        if self.late_packets > 0 {
            self.warnings.push(format!(
                "{p}: {} packets arrived after their frame was delivered: dropped",
                self.late_packets
            ));
        }
    }
}

impl ScanSource for OusterCapture {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn next_scan(&mut self) -> Option<Result<SourceScan>> {
        loop {
            if self.done {
                return None;
            }
            let packet = match self.pending.take() {
                Some(p) => p,
                None => {
                    if self.next_lidar_packet() {
                        std::mem::take(&mut self.scratch)
                    } else {
                        self.done = true;
                        let last = self.frame.take().map(|f| self.deliver(f));
                        self.final_warnings();
                        return last;
                    }
                }
            };
            let frame_id = packet.header.frame_id;
            match &mut self.frame {
                Some(f) if f.frame_id == frame_id => {
                    f.add(&packet, &self.meta, &self.lut);
                    self.scratch = packet;
                }
                _ if self.last_frame == Some(frame_id) => {
                    self.late_packets += 1;
                    self.scratch = packet;
                }
                Some(_) => {
                    self.pending = Some(packet);
                    let frame = self.frame.take()?;
                    return Some(self.deliver(frame));
                }
                None => {
                    let mut f = FrameBuilder::new(frame_id, &self.meta);
                    f.add(&packet, &self.meta, &self.lut);
                    self.frame = Some(f);
                    self.scratch = packet;
                }
            }
        }
    }

    fn take_warnings(&mut self) -> Vec<String> {
        self.warnings.extend(self.reader.take_warnings());
        std::mem::take(&mut self.warnings)
    }
}

/// What `lidarflow info` says about a capture.
fn describe(pcap: &Path, meta: &OusterMeta) -> SourceInfo {
    let or_unknown = |s: &Option<String>| s.clone().unwrap_or_else(|| "unknown".to_string());
    let mode = match &meta.lidar_mode {
        Some(m) => m.clone(),
        None => format!("{} columns", meta.columns_per_frame),
    };
    let (first, last) = meta.column_window;
    let layout = PacketLayout::of(meta);
    SourceInfo {
        name: pcap
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned(),
        kind: "Ouster capture".to_string(),
        details: vec![
            ("sensor".to_string(), or_unknown(&meta.prod_line)),
            ("firmware".to_string(), or_unknown(&meta.firmware)),
            ("serial".to_string(), or_unknown(&meta.serial)),
            ("lidar mode".to_string(), mode),
            ("profile".to_string(), meta.profile.name().to_string()),
            (
                "pixels per column".to_string(),
                meta.pixels_per_column.to_string(),
            ),
            (
                "columns per packet".to_string(),
                format!(
                    "{} ({}-byte packets)",
                    meta.columns_per_packet, layout.packet_bytes
                ),
            ),
            (
                "column window".to_string(),
                format!(
                    "{first}-{last} ({} of {} columns)",
                    meta.window_columns(),
                    meta.columns_per_frame
                ),
            ),
            ("metadata".to_string(), meta.path.display().to_string()),
            (
                "UDP lidar port".to_string(),
                meta.udp_port_lidar
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "unknown (packets found by size)".to_string()),
            ),
        ],
        scan_count: None,
        reference: None,
    }
}

/// The points of one frame as its packets arrive: a plain struct, no I/O.
#[derive(Debug, Clone)]
pub struct FrameBuilder {
    /// The frame id.
    pub frame_id: u16,
    points: Vec<Point3<f64>>,
    intensity: Vec<f32>,
    ring: Vec<u16>,
    timestamp_ns: Vec<u64>,
    /// Measurement ids received (valid, inside the window).
    seen: Vec<bool>,
    columns: usize,
    zero_range: usize,
    first_ns: Option<u64>,
    /// Columns whose measurement id was already received in this frame: ignored.
    pub repeated: usize,
    /// Columns whose measurement id is not below `columns_per_frame`: ignored.
    pub beyond_frame: usize,
}

impl FrameBuilder {
    /// An empty frame.
    pub fn new(frame_id: u16, meta: &OusterMeta) -> FrameBuilder {
        FrameBuilder {
            frame_id,
            points: Vec::new(),
            intensity: Vec::new(),
            ring: Vec::new(),
            timestamp_ns: Vec::new(),
            seen: vec![false; meta.columns_per_frame],
            columns: 0,
            zero_range: 0,
            first_ns: None,
            repeated: 0,
            beyond_frame: 0,
        }
    }

    /// Adds the valid columns of a packet inside the column window (a measurement id seen
    /// before in this frame, or beyond the frame, is ignored); zero ranges are no return.
    pub fn add(&mut self, packet: &DecodedPacket, meta: &OusterMeta, lut: &XyzLut) {
        let px = meta.pixels_per_column;
        for (c, column) in packet.columns.iter().enumerate() {
            let m = column.measurement_id as usize;
            if !column.valid || !meta.in_window(m) {
                continue;
            }
            match self.seen.get_mut(m) {
                Some(s) if !*s => *s = true,
                Some(_) => {
                    self.repeated += 1;
                    continue;
                }
                None => {
                    self.beyond_frame += 1;
                    continue;
                }
            }
            self.columns += 1;
            let ts = column.timestamp_ns;
            self.first_ns = Some(self.first_ns.map_or(ts, |f| f.min(ts)));
            let at = c * px;
            let (Some(range), Some(refl)) = (
                packet.range_mm.get(at..at + px),
                packet.reflectivity.get(at..at + px),
            ) else {
                continue;
            };
            for (pixel, (&r, &i)) in range.iter().zip(refl).enumerate() {
                if r == 0 {
                    self.zero_range += 1;
                    continue;
                }
                let Some(point) = lut.point(m, pixel, r) else {
                    continue;
                };
                self.points.push(point);
                self.intensity.push(i as f32);
                self.ring.push(pixel as u16);
                self.timestamp_ns.push(ts);
            }
        }
    }

    /// Columns received so far.
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// The scan: stamp the earliest valid column's time (seconds), per-point times relative to
    /// it; `partial` when fewer than `window_columns` columns came.
    pub fn into_scan(
        self,
        window_columns: usize,
        label: String,
        sensor: String,
    ) -> Result<SourceScan> {
        let first = self.first_ns.unwrap_or(0);
        let time: Vec<f32> = self
            .timestamp_ns
            .iter()
            .map(|t| (t.saturating_sub(first) as f64 * 1e-9) as f32)
            .collect();
        let cloud = PointCloud::new(self.points)
            .with_intensity(self.intensity)?
            .with_time(time)?
            .with_ring(self.ring)?
            .with_stamp(first as f64 * 1e-9)
            .with_sensor(sensor);
        let mut scan = SourceScan::new(cloud, label);
        scan.dropped_non_finite = self.zero_range;
        scan.time_field = Some("column timestamps".to_string());
        scan.partial = self.columns < window_columns;
        Ok(scan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recordings::packets::ouster::tests::build_packet;
    use crate::recordings::pcap::tests::{ethernet_udp, legacy_pcap};

    const META: &str = r#"{
        "sensor_info": {"prod_line": "OS-1-16", "build_rev": "v2.4.0", "prod_sn": "12345",
                        "initialization_id": 99},
        "config_params": {"lidar_mode": "512x10", "udp_port_lidar": 7502, "udp_port_imu": 7503},
        "lidar_data_format": {"columns_per_frame": 8, "pixels_per_column": 2,
            "columns_per_packet": 2, "column_window": [0, 7],
            "udp_profile_lidar": "RNG19_RFL8_SIG16_NIR16"},
        "beam_intrinsics": {"beam_altitude_angles": [5, -5], "beam_azimuth_angles": [1, -1],
            "lidar_origin_to_beam_origin_mm": 10},
        "lidar_intrinsics": {"lidar_to_sensor_transform": [1,0,0,0, 0,1,0,0, 0,0,1,0, 0,0,0,1]},
        "imu_intrinsics": {}, "calibration_status": {}
    }"#;

    fn meta() -> OusterMeta {
        ouster_meta::parse(Path::new("m.json"), META).unwrap()
    }

    /// The packet of frame `frame` holding measurement ids `m0` and `m0 + 1`, ranges
    /// `1000 * (m + 1) + pixel` mm (pixel 1 of column 3 without return), column time 1 ms
    /// apart from 5 s.
    fn packet(layout: &PacketLayout, frame: u16, m0: u16) -> Vec<u8> {
        let cols = [
            (5_000_000_000 + m0 as u64 * 1_000_000, m0, true),
            (5_000_000_000 + (m0 as u64 + 1) * 1_000_000, m0 + 1, true),
        ];
        build_packet(layout, frame, 99, 12345, &cols, |c, p, px| {
            let m = m0 as u32 + c as u32;
            let r = if m == 3 && p == 1 {
                0
            } else {
                1000 * (m + 1) + p as u32
            };
            px[0..4].copy_from_slice(&r.to_le_bytes());
            px[4] = 10 + m as u8;
        })
    }

    fn capture(dir: &Path, packets: &[(u16, Vec<u8>)]) -> PathBuf {
        let mut frames = Vec::new();
        for (i, (port, p)) in packets.iter().enumerate() {
            for f in ethernet_udp(p, *port, i as u16, 1480) {
                frames.push((100.0 + i as f64 * 0.01, f));
            }
        }
        let path = dir.join("drive.pcap");
        std::fs::write(&path, legacy_pcap(&frames)).unwrap();
        path
    }

    #[test]
    fn frames_assemble_by_frame_id() {
        let dir = tempfile::tempdir().unwrap();
        let m = meta();
        let layout = PacketLayout::of(&m);
        let mut packets = Vec::new();
        // Frame 41 starts mid-rotation (columns 4-7), frame 42 is whole, frame 43 is cut.
        for m0 in [4, 6] {
            packets.push((7502, packet(&layout, 41, m0)));
        }
        packets.push((7503, vec![0u8; 48]));
        for m0 in [0, 2, 4, 6] {
            packets.push((7502, packet(&layout, 42, m0)));
        }
        packets.push((7502, packet(&layout, 43, 0)));
        let path = capture(dir.path(), &packets);
        std::fs::write(dir.path().join("drive.json"), META).unwrap();
        let mut source = open(&path, &OpenOptions::default()).unwrap();
        let scans: Vec<SourceScan> = (&mut *source).map(|s| s.unwrap()).collect();
        assert_eq!(scans.len(), 3);
        assert!(scans[0].partial && !scans[1].partial && scans[2].partial);
        assert!(scans[1].label.ends_with("frame 42"), "{}", scans[1].label);
        let whole = &scans[1].cloud;
        // 8 columns x 2 pixels, one without return.
        assert_eq!(whole.len(), 15);
        assert_eq!(scans[1].dropped_non_finite, 1);
        assert!((whole.stamp - 5.0).abs() < 1e-9);
        let time = whole.time().unwrap();
        assert!((time[0] - 0.0).abs() < 1e-7 && (time[14] - 0.007).abs() < 1e-6);
        assert_eq!(whole.ring().unwrap()[..4], [0, 1, 0, 1]);
        assert_eq!(whole.intensity().unwrap()[2], 11.0);
        // Each point lies at its range from the beam origin (10 mm out from the axis).
        let lut = XyzLut::new(&m);
        let want = lut.point(1, 0, 2000).unwrap();
        assert!((whole.points()[2] - want).norm() < 1e-12);
        // The partial first frame starts at its own first column.
        assert!((scans[0].cloud.stamp - 5.004).abs() < 1e-9);
        assert_eq!(scans[0].cloud.len(), 8);
        assert_eq!(source.info().kind, "Ouster capture");
        assert!(source.info().scan_count.is_none());
    }

    #[test]
    fn wrong_sizes_are_skipped_and_said_once() {
        let dir = tempfile::tempdir().unwrap();
        let layout = PacketLayout::of(&meta());
        let mut packets = vec![(7502, vec![1u8; 100]), (7502, vec![1u8; 101])];
        for m0 in [0, 2, 4, 6] {
            packets.push((7502, packet(&layout, 7, m0)));
        }
        let path = capture(dir.path(), &packets);
        std::fs::write(dir.path().join("sensor.json"), META).unwrap();
        let mut source = open(&path, &OpenOptions::default()).unwrap();
        let scans: Vec<_> = (&mut *source).map(|s| s.unwrap()).collect();
        assert_eq!(scans.len(), 1);
        assert!(!scans[0].partial);
        let warnings = source.take_warnings();
        let once: Vec<_> = warnings.iter().filter(|w| w.contains("skipping")).collect();
        assert_eq!(once.len(), 1, "{warnings:?}");
        assert!(
            warnings.iter().any(|w| w.contains("2 datagrams")),
            "{warnings:?}"
        );
    }

    #[test]
    fn packets_are_read_from_the_metadata_port_else_the_first_that_decodes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("drive.json"), META).unwrap();
        let layout = PacketLayout::of(&meta());
        // Another sensor of the same layout on port 7504 is left out.
        let mut packets = Vec::new();
        for m0 in [0, 2, 4, 6] {
            packets.push((7504, packet(&layout, 99, m0)));
            packets.push((7502, packet(&layout, 5, m0)));
        }
        let path = capture(dir.path(), &packets);
        let mut source = open(&path, &OpenOptions::default()).unwrap();
        let scans: Vec<_> = (&mut *source).map(|s| s.unwrap()).collect();
        assert_eq!(scans.len(), 1);
        assert!(scans[0].label.ends_with("frame 5") && !scans[0].partial);
        // Replayed to another port than the metadata's: read there, and said.
        let moved: Vec<_> = packets.into_iter().filter(|p| p.0 == 7504).collect();
        let path = capture(dir.path(), &moved);
        let mut source = open(&path, &OpenOptions::default()).unwrap();
        let scans: Vec<_> = (&mut *source).map(|s| s.unwrap()).collect();
        assert_eq!(scans.len(), 1);
        assert!(scans[0].label.ends_with("frame 99"));
        let warnings = source.take_warnings();
        assert!(
            warnings.iter().any(|w| w.contains("port 7504")),
            "{warnings:?}"
        );
    }

    #[test]
    fn no_lidar_packets_names_what_was_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = capture(
            dir.path(),
            &[(2368, vec![0u8; 1206]), (2368, vec![0u8; 1206])],
        );
        std::fs::write(dir.path().join("drive.json"), META).unwrap();
        let e = open(&path, &OpenOptions::default())
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("drive.pcap") && e.contains("2 of 1206 bytes on port 2368"),
            "{e}"
        );
        assert!(e.contains("RNG19_RFL8_SIG16_NIR16"), "{e}");
    }

    #[test]
    fn metadata_is_found_beside_or_given() {
        let dir = tempfile::tempdir().unwrap();
        let pcap = dir.path().join("a.pcap");
        std::fs::write(&pcap, b"").unwrap();
        let e = find_metadata(&pcap, None).unwrap_err().to_string();
        assert!(
            e.contains("a.pcap") && e.contains("--set METADATA=file.json"),
            "{e}"
        );
        std::fs::write(dir.path().join("other.json"), "{}").unwrap();
        assert_eq!(
            find_metadata(&pcap, None).unwrap(),
            dir.path().join("other.json")
        );
        std::fs::write(dir.path().join("third.json"), "{}").unwrap();
        let e = find_metadata(&pcap, None).unwrap_err().to_string();
        assert!(e.contains("several") && e.contains("METADATA"), "{e}");
        std::fs::write(dir.path().join("a.json"), "{}").unwrap();
        assert_eq!(
            find_metadata(&pcap, None).unwrap(),
            dir.path().join("a.json")
        );
        let given = dir.path().join("third.json");
        assert_eq!(find_metadata(&pcap, Some(&given)).unwrap(), given);
        let e = find_metadata(&pcap, Some(&dir.path().join("nope.json")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope.json"), "{e}");
    }

    #[test]
    fn window_and_invalid_columns_are_left_out() {
        let text = META.replace("[0, 7]", "[6, 1]");
        let m = ouster_meta::parse(Path::new("m.json"), &text).unwrap();
        let layout = PacketLayout::of(&m);
        let lut = XyzLut::new(&m);
        let mut f = FrameBuilder::new(1, &m);
        for m0 in [0u16, 2, 4, 6] {
            f.add(
                &ouster::decode(&packet(&layout, 1, m0), &layout).unwrap(),
                &m,
                &lut,
            );
        }
        // Columns 6, 7, 0, 1; column 3's missing return is outside.
        assert_eq!(f.columns(), 4);
        // A packet again, and measurement ids past the frame's 8 columns, are ignored.
        f.add(
            &ouster::decode(&packet(&layout, 1, 0), &layout).unwrap(),
            &m,
            &lut,
        );
        assert_eq!(f.repeated, 2);
        f.add(
            &ouster::decode(&packet(&layout, 1, 8), &layout).unwrap(),
            &m,
            &lut,
        );
        // The window wraps past the last column, so ids 8 and 9 pass it but not the frame.
        assert_eq!((f.beyond_frame, f.columns()), (2, 4));
        let scan = f
            .clone()
            .into_scan(m.window_columns(), "x".into(), "s".into())
            .unwrap();
        assert!(!scan.partial);
        assert_eq!(scan.cloud.len(), 8);
        // An invalid column is not a column.
        let cols = [(1, 2, false), (2, 3, true)];
        let bytes = build_packet(&layout, 1, 0, 0, &cols, |_, _, px| px[0] = 1);
        let mut g = FrameBuilder::new(1, &m);
        g.add(&ouster::decode(&bytes, &layout).unwrap(), &m, &lut);
        assert_eq!(g.columns(), 0);
    }
}
