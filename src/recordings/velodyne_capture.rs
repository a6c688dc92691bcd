//! A Velodyne packet capture (`.pcap`/`.pcapng`) as a stream of scans: the capture's UDP
//! datagrams (through [`crate::recordings::pcap`]), the data packets among them decoded
//! ([`crate::recordings::packets::velodyne`]) and cut into rotations at a fixed azimuth.
//!
//! Data packets are recognised by their size and block flags, not their port (ports are
//! configurable); position packets and other traffic are counted and skipped. On opening,
//! the first packets are surveyed: the data port (the busiest, should a second sensor
//! share the capture), the return mode, the model (the user's option, else the factory byte,
//! checked against the packets' timing: see [`model_check`]) and the rotation rate.

use super::packets::velodyne::clock::PacketClock;
use super::packets::velodyne::model_check::{self, ModelChoice, TimingEvidence};
use super::packets::velodyne::sweep::{Sweep, SweepAssembler};
use super::packets::velodyne::{
    block_azimuth, return_mode_of, trailer, DecodedPacket, Decoder, Model, PacketError, ReturnMode,
    DATA_PACKET_LEN, POSITION_PACKET_LEN,
};
use super::pcap::{PcapReader, UdpPacket};
use super::source::{OpenOptions, ScanSource, SourceInfo, SourceScan};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use super::packets::velodyne::looks_like_velodyne;

/// Data packets surveyed on opening.
const SURVEY_PACKETS: usize = 400;
/// UDP datagrams read at most while looking for the first data packets.
const SURVEY_DATAGRAMS: usize = 200_000;

/// Opens a Velodyne capture, cutting rotations at the azimuth wrap.
pub fn open(pcap: &Path, options: &OpenOptions) -> Result<Box<dyn ScanSource>> {
    Ok(Box::new(VelodyneCapture::open(pcap, options, 0.0)?))
}

/// The Velodyne model `options` name (`--set MODEL=VLP-16`), `None` when none is given; an
/// unknown name is an error listing the models this reader knows.
pub fn model_option(path: &Path, options: &OpenOptions) -> Result<Option<Model>> {
    let Some(name) = options
        .model
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    else {
        return Ok(None);
    };
    Model::parse(name).map(Some).ok_or_else(|| {
        let names: Vec<&str> = super::packets::velodyne::MODELS
            .iter()
            .map(|m| m.name())
            .collect();
        Error::format(
            path,
            format!(
                "unknown Velodyne model '{name}'; this reader knows {}",
                names.join(", ")
            ),
        )
    })
}

/// What the survey of a capture's first packets found.
#[derive(Debug, Clone, Default)]
struct Survey {
    /// Data packets per destination port.
    data_ports: BTreeMap<u16, usize>,
    /// Other datagrams per (destination port, size).
    others: BTreeMap<(u16, usize), usize>,
    /// 1206-byte datagrams with too many bad block flags to be data packets.
    datagrams: usize,
    /// (capture time, timestamp µs, first block azimuth, port) of the data packets, in
    /// order; only the data port's once the survey is done.
    samples: Vec<(f64, u32, u16, u16)>,
    factory_bytes: BTreeMap<u8, usize>,
    modes: BTreeMap<&'static str, usize>,
    dual: usize,
}

impl Survey {
    fn of(path: &Path) -> Result<Survey> {
        let mut reader = PcapReader::open(path)?;
        let mut s = Survey::default();
        while s.samples.len() < SURVEY_PACKETS && s.datagrams < SURVEY_DATAGRAMS {
            let Some(p) = reader.next_packet() else { break };
            s.datagrams += 1;
            if !looks_like_velodyne(&p.payload) {
                *s.others.entry((p.dst_port, p.payload.len())).or_default() += 1;
                continue;
            }
            *s.data_ports.entry(p.dst_port).or_default() += 1;
            if let (Some(t), Some(az)) = (trailer(&p.payload), block_azimuth(&p.payload, 0)) {
                s.samples.push((p.time, t.timestamp_us, az, p.dst_port));
                *s.factory_bytes.entry(t.factory_byte).or_default() += 1;
                let mode = return_mode_of(&p.payload);
                *s.modes.entry(mode.name()).or_default() += 1;
                if mode.is_dual() {
                    s.dual += 1;
                }
            }
        }
        if s.samples.is_empty() {
            let counts = reader.counts();
            let found = if s.others.is_empty() {
                format!(
                    "no UDP datagrams at all ({} frames: {} not UDP, {} damaged)",
                    counts.frames, counts.other, counts.damaged
                )
            } else {
                let mut kinds: Vec<_> = s.others.iter().collect();
                kinds.sort_by(|a, b| b.1.cmp(a.1));
                let listed: Vec<String> = kinds
                    .iter()
                    .take(6)
                    .map(|((port, len), n)| {
                        let what = if *len == POSITION_PACKET_LEN {
                            " (Velodyne position packets?)"
                        } else if *len == DATA_PACKET_LEN {
                            " (data packet size, but not the block flags 0xFF 0xEE)"
                        } else {
                            ""
                        };
                        format!("{n} × {len} bytes to port {port}{what}")
                    })
                    .collect();
                format!(
                    "{} UDP datagrams{}: {}{}",
                    s.datagrams,
                    if s.datagrams >= SURVEY_DATAGRAMS {
                        " (the first ones)"
                    } else {
                        ""
                    },
                    listed.join(", "),
                    if kinds.len() > 6 { ", ..." } else { "" }
                )
            };
            return Err(Error::format(
                path,
                format!(
                    "no Velodyne data packets ({DATA_PACKET_LEN}-byte UDP payloads whose 12 \
                     blocks start with 0xFF 0xEE) in this capture; it holds {found}"
                ),
            ));
        }
        // Timing and rotation from one sensor's packets: another's would interleave.
        let port = s.data_port();
        s.samples.retain(|x| x.3 == port);
        Ok(s)
    }

    fn data_port(&self) -> u16 {
        self.data_ports
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(p, _)| *p)
            .unwrap_or(super::packets::velodyne::DEFAULT_DATA_PORT)
    }

    fn factory_byte(&self) -> u8 {
        self.factory_bytes
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(b, _)| *b)
            .unwrap_or(0)
    }

    fn dual(&self) -> bool {
        self.dual * 2 > self.samples.len()
    }

    fn mode_line(&self) -> String {
        let mut modes: Vec<_> = self.modes.iter().collect();
        modes.sort_by(|a, b| b.1.cmp(a.1));
        let main = modes.first().map(|(m, _)| **m).unwrap_or("strongest");
        if modes.len() > 1 {
            let all: Vec<String> = modes.iter().map(|(m, n)| format!("{m} ×{n}")).collect();
            format!("{main} (mixed in the first packets: {})", all.join(", "))
        } else {
            main.to_string()
        }
    }

    /// Rotation rate (Hz) and packets per rotation, from consecutive packets' first-block
    /// azimuths and their times (the packets' own when they are coherent).
    fn rotation(&self, evidence: Option<&TimingEvidence>) -> Option<(f64, f64)> {
        let use_device = evidence.is_some_and(|e| e.clock == "packet timestamps");
        let mut steps = Vec::new();
        let mut rates = Vec::new();
        for w in self.samples.windows(2) {
            let step = (w[1].2 as f64 - w[0].2 as f64).rem_euclid(36000.0) / 100.0;
            let dt = if use_device {
                (w[1].1 as f64 - w[0].1 as f64) * 1e-6
            } else {
                w[1].0 - w[0].0
            };
            // Consecutive packets only: a loss or a pause would not be one packet's step.
            if step > 0.0 && step < 30.0 && dt > 0.0 && dt < 0.005 {
                steps.push(step);
                rates.push(step / dt / 360.0);
            }
        }
        if steps.is_empty() {
            return None;
        }
        steps.sort_by(f64::total_cmp);
        rates.sort_by(f64::total_cmp);
        Some((rates[rates.len() / 2], 360.0 / steps[steps.len() / 2]))
    }
}

/// A Velodyne capture read as scans.
pub struct VelodyneCapture {
    path: PathBuf,
    reader: PcapReader,
    decoder: Decoder,
    decoded: DecodedPacket,
    clock: PacketClock,
    assembler: SweepAssembler,
    info: SourceInfo,
    choice: ModelChoice,
    mode: ReturnMode,
    data_port: u16,
    rate_hint: Option<f64>,
    warnings: Vec<String>,
    finished: bool,
    scans: usize,
    data_packets: usize,
    bad_packets: usize,
    first_bad: Option<(usize, PacketError)>,
    other_port_packets: BTreeMap<u16, usize>,
    empty_sweeps: usize,
}

impl VelodyneCapture {
    /// Opens a capture; `cut_deg` is the azimuth rotations are cut at (degrees, 0 = the
    /// sensor's front, clockwise seen from above; 0 cuts at the azimuth wrap).
    pub fn open(path: &Path, options: &OpenOptions, cut_deg: f64) -> Result<VelodyneCapture> {
        let survey = Survey::of(path)?;
        let option = model_option(path, options)?;
        let timing: Vec<(f64, u32)> = survey.samples.iter().map(|s| (s.0, s.1)).collect();
        let evidence = TimingEvidence::measure(&timing);
        let dual = survey.dual();
        let choice = model_check::choose(option, survey.factory_byte(), dual, evidence.as_ref())
            .map_err(|e| Error::format(path, e))?;
        let mode = if dual {
            ReturnMode::Dual
        } else if survey.modes.get("last").copied().unwrap_or(0) * 2 > survey.samples.len() {
            ReturnMode::Last
        } else {
            ReturnMode::Strongest
        };
        let data_port = survey.data_port();
        let mut details = vec![
            ("model".to_string(), choice.describe()),
            ("return mode".to_string(), survey.mode_line()),
        ];
        if let Some(e) = &evidence {
            details.push((
                "packet gap".to_string(),
                format!(
                    "{:.0} µs (median of {} by their {}; {}: {:.0} µs)",
                    e.period_us,
                    e.pairs,
                    e.clock,
                    choice.model,
                    choice.model.packet_period_us(dual)
                ),
            ));
        }
        match survey.rotation(evidence.as_ref()) {
            Some((hz, per_rotation)) => {
                details.push((
                    "rotation".to_string(),
                    format!("{hz:.2} Hz ({:.0} rpm), measured", hz * 60.0),
                ));
                details.push(("packets/rev".to_string(), format!("{per_rotation:.1}")));
            }
            None => details.push(("rotation".to_string(), "not measurable".to_string())),
        }
        let mut ports = format!("{data_port}");
        if survey.data_ports.len() > 1 {
            let others: Vec<String> = survey
                .data_ports
                .iter()
                .filter(|(p, _)| **p != data_port)
                .map(|(p, n)| format!("{p} ({n} packets, ignored)"))
                .collect();
            ports = format!("{ports}; data packets also to {}", others.join(", "));
        }
        details.push(("data port".to_string(), ports));
        details.push(("cut angle".to_string(), format!("{cut_deg}°")));
        // What the first packet says of the clock: the stream decides the same way.
        if let Some(&(capture, us, _, _)) = survey.samples.first() {
            let mut clock = PacketClock::default();
            clock.time(capture, us);
            if let Some(base) = clock.base() {
                details.push(("times".to_string(), base.describe()));
            }
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let mut warnings = Vec::new();
        if let Some(w) = &choice.warning {
            warnings.push(format!("{}: {w}", path.display()));
        }
        Ok(VelodyneCapture {
            path: path.to_path_buf(),
            reader: PcapReader::open(path)?,
            decoder: Decoder::new(choice.model),
            decoded: DecodedPacket::default(),
            clock: PacketClock::default(),
            assembler: SweepAssembler::new(cut_deg),
            info: SourceInfo {
                name,
                kind: "Velodyne capture".to_string(),
                details,
                scan_count: None,
                reference: None,
            },
            choice,
            mode,
            data_port,
            rate_hint: None,
            warnings,
            finished: false,
            scans: 0,
            data_packets: 0,
            bad_packets: 0,
            first_bad: None,
            other_port_packets: BTreeMap::new(),
            empty_sweeps: 0,
        })
    }

    /// The model decoded, and where it came from.
    pub fn model(&self) -> &ModelChoice {
        &self.choice
    }

    /// The return mode of most of the first packets.
    pub fn return_mode(&self) -> ReturnMode {
        self.mode
    }

    /// The port data packets are read from.
    pub fn data_port(&self) -> u16 {
        self.data_port
    }

    fn feed(&mut self, p: UdpPacket) {
        if !looks_like_velodyne(&p.payload) {
            return;
        }
        if p.dst_port != self.data_port {
            *self.other_port_packets.entry(p.dst_port).or_default() += 1;
            return;
        }
        self.data_packets += 1;
        if let Err(e) = self
            .decoder
            .decode(&p.payload, self.rate_hint, &mut self.decoded)
        {
            self.bad_packets += 1;
            if self.first_bad.is_none() {
                self.first_bad = Some((self.data_packets, e));
            }
            return;
        }
        if self.decoded.rate_measured {
            self.rate_hint = Some(self.decoded.rate_deg_per_us);
        }
        let ts = self.decoded.trailer.map(|t| t.timestamp_us).unwrap_or(0);
        let t = self.clock.time(p.time, ts);
        self.assembler.push(t, &self.decoded);
    }

    fn scan_of(&mut self, sweep: Sweep) -> Result<SourceScan> {
        let label = format!(
            "{} rotation {} @ {:.6}{}",
            self.info.name,
            self.scans,
            sweep.stamp,
            if sweep.partial { " (partial)" } else { "" }
        );
        self.scans += 1;
        let partial = sweep.partial;
        let no_returns = sweep.no_returns;
        let cloud = sweep
            .into_cloud()
            .map_err(|e| Error::format(&self.path, format!("{label}: {e}")))?
            .with_sensor(format!("Velodyne {}", self.choice.model));
        let mut scan = SourceScan::new(cloud, label);
        scan.partial = partial;
        scan.dropped_non_finite = no_returns;
        scan.time_field = Some("firing time (packet timestamp + firing table)".to_string());
        Ok(scan)
    }

    /// The warnings due at the end of the capture.
    fn end_warnings(&mut self) {
        let path = self.path.display().to_string();
        for w in self.reader.take_warnings() {
            self.warnings.push(format!(
                "{path}: {w}; what came before it is delivered ({} scans)",
                self.scans + 1
            ));
        }
        if self.bad_packets > 0 {
            let first = self
                .first_bad
                .as_ref()
                .map(|(i, e)| format!(" (the first, data packet {i}: {e})"))
                .unwrap_or_default();
            self.warnings.push(format!(
                "{path}: {} of {} data packets skipped: they do not decode{first}",
                self.bad_packets, self.data_packets
            ));
        }
        if !self.other_port_packets.is_empty() {
            let list: Vec<String> = self
                .other_port_packets
                .iter()
                .map(|(p, n)| format!("{n} to port {p}"))
                .collect();
            self.warnings.push(format!(
                "{path}: Velodyne data packets to other ports than {} were ignored (another \
                 sensor?): {}",
                self.data_port,
                list.join(", ")
            ));
        }
        if self.empty_sweeps > 0 {
            self.warnings.push(format!(
                "{path}: {} rotations without a single return were skipped",
                self.empty_sweeps
            ));
        }
        if self.assembler.pauses() > 0 {
            self.warnings.push(format!(
                "{path}: the data packets paused {} times for more than 0.1 s; the rotations \
                 around each pause are marked partial",
                self.assembler.pauses()
            ));
        }
        if self.clock.jumps() > 0 {
            self.warnings.push(format!(
                "{path}: the packets' clock jumped {} times away from the capture's; times \
                 were re-anchored on the capture time there",
                self.clock.jumps()
            ));
        }
    }
}

impl ScanSource for VelodyneCapture {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn next_scan(&mut self) -> Option<Result<SourceScan>> {
        loop {
            if let Some(sweep) = self.assembler.pop() {
                if sweep.points.is_empty() {
                    self.empty_sweeps += 1;
                    continue;
                }
                return Some(self.scan_of(sweep));
            }
            if self.finished {
                return None;
            }
            match self.reader.next_packet() {
                Some(p) => self.feed(p),
                None => {
                    self.finished = true;
                    self.assembler.finish();
                    self.end_warnings();
                }
            }
        }
    }

    fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }
}
