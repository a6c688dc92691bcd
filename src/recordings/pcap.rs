//! The packet capture container (pcap and pcapng, through `pcap-parser`): a lazy stream of the
//! UDP datagrams in a capture, with their capture time and ports. Link layers: Ethernet
//! (with 802.1Q tags), Linux cooked (SLL, SLL2), raw IP and BSD loopback; IPv4 and IPv6,
//! fragmented datagrams reassembled (an Ouster sensor's lidar packets are larger than an
//! Ethernet frame). Everything else in the capture is counted and skipped. A capture cut
//! short is read up to the cut.

use crate::error::{Error, Result};
use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{Linktype, PcapBlockOwned, PcapError};
use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// One UDP datagram of a capture.
#[derive(Debug, Clone, PartialEq)]
pub struct UdpPacket {
    /// Capture time, seconds (unix time as the capturing machine had it).
    pub time: f64,
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// The UDP payload.
    pub payload: Vec<u8>,
}

/// What was read from a capture so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PcapCounts {
    /// Captured frames read.
    pub frames: usize,
    /// UDP datagrams delivered.
    pub udp: usize,
    /// Frames that were not UDP over IP (ARP, TCP, other link layers...).
    pub other: usize,
    /// Frames captured shorter than they were on the wire, or whose headers do not hold
    /// together: skipped.
    pub damaged: usize,
}

/// The first block larger than this is not a packet capture's: it is refused rather than
/// buffered.
const MAX_BLOCK: usize = 16 << 20;
/// Fragmented datagrams waiting for their other fragments, at most.
const MAX_PENDING_FRAGMENTS: usize = 64;

/// A lazy reader of the UDP datagrams in a pcap or pcapng file.
pub struct PcapReader {
    path: PathBuf,
    reader: Box<dyn PcapReaderIterator + Send>,
    links: Links,
    fragments: Fragments,
    counts: PcapCounts,
    warnings: Vec<String>,
    done: bool,
    capacity: usize,
}

/// What the capture's headers said about its interfaces.
#[derive(Default)]
struct Links {
    /// Link type and timestamp units per interface (one for legacy pcap).
    interfaces: Vec<Interface>,
    legacy_nanos: bool,
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: Linktype,
    /// Timestamp units per second, and offset in seconds (pcapng).
    resolution: u64,
    offset: i64,
}

impl PcapReader {
    /// Opens a capture; an error names the file when it is not pcap or pcapng.
    pub fn open(path: &Path) -> Result<PcapReader> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let capacity = 1 << 18;
        let reader = pcap_parser::create_reader(capacity, BufReader::new(file)).map_err(|e| {
            Error::format(
                path,
                match e {
                    PcapError::Eof => "the capture is empty".to_string(),
                    PcapError::Incomplete(_) | PcapError::UnexpectedEof => {
                        "the capture ends inside its header".to_string()
                    }
                    _ => "not a pcap or pcapng capture (its header is not recognised)".to_string(),
                },
            )
        })?;
        Ok(PcapReader {
            path: path.to_path_buf(),
            reader,
            links: Links::default(),
            fragments: Fragments::default(),
            counts: PcapCounts::default(),
            warnings: Vec::new(),
            done: false,
            capacity,
        })
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What was read so far.
    pub fn counts(&self) -> PcapCounts {
        self.counts
    }

    /// Warnings since the last call (a capture cut short, a damaged block).
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// The next UDP datagram, `None` at the end of the capture (or where it is cut short,
    /// with a warning). Never an error once the capture opened: what cannot be read is
    /// counted and the stream ends.
    pub fn next_packet(&mut self) -> Option<UdpPacket> {
        let mut stalled = 0;
        while !self.done {
            let step = match self.reader.next() {
                Ok((offset, block)) => {
                    let frame = self.links.frame_of(block, &mut self.counts);
                    self.reader.consume(offset);
                    stalled = 0;
                    match frame {
                        Some((time, iface, data)) => {
                            self.counts.frames += 1;
                            self.udp_of(time, iface, &data)
                        }
                        None => None,
                    }
                }
                Err(PcapError::Eof) => {
                    self.done = true;
                    None
                }
                Err(PcapError::Incomplete(_)) => {
                    stalled += 1;
                    let before = self.reader.position();
                    if self.reader.refill().is_err() || (stalled > 2 && before == 0) {
                        self.end_early("cannot read further");
                    }
                    None
                }
                Err(PcapError::BufferTooSmall) => {
                    if self.capacity >= MAX_BLOCK || !self.reader.grow(self.capacity * 4) {
                        self.end_early("a block is larger than any packet a sensor sends");
                    } else {
                        self.capacity *= 4;
                    }
                    None
                }
                Err(PcapError::UnexpectedEof) => {
                    self.end_early("the capture ends inside a packet (cut short?)");
                    None
                }
                Err(_) => {
                    self.end_early("a block does not parse (damaged capture?)");
                    None
                }
            };
            if step.is_some() {
                return step;
            }
        }
        None
    }

    fn end_early(&mut self, why: &str) {
        self.done = true;
        self.warnings.push(format!(
            "{why}: read stops after {} frames ({} UDP datagrams)",
            self.counts.frames, self.counts.udp
        ));
    }

    /// The UDP datagram in a frame, after reassembly when it is a fragment.
    fn udp_of(&mut self, time: f64, iface: usize, frame: &[u8]) -> Option<UdpPacket> {
        let linktype = self
            .links
            .interfaces
            .get(iface)
            .map(|i| i.linktype)
            .unwrap_or(Linktype::ETHERNET);
        let Some(ip) = ip_payload(linktype, frame) else {
            self.counts.other += 1;
            return None;
        };
        let datagram = match parse_ip(ip) {
            Ip::Udp(d) => d.to_vec(),
            Ip::Fragment(f) => match self.fragments.add(f) {
                Some(d) => d,
                None => return None,
            },
            Ip::Other => {
                self.counts.other += 1;
                return None;
            }
            Ip::Damaged => {
                self.counts.damaged += 1;
                return None;
            }
        };
        match udp(&datagram) {
            Some(p) => {
                self.counts.udp += 1;
                Some(UdpPacket { time, ..p })
            }
            None => {
                self.counts.damaged += 1;
                None
            }
        }
    }
}

/// The IP packet inside a link-layer frame.
fn ip_payload(linktype: Linktype, frame: &[u8]) -> Option<&[u8]> {
    match linktype {
        Linktype::ETHERNET => {
            let mut at = 12;
            loop {
                let ethertype = u16::from_be_bytes(frame.get(at..at + 2)?.try_into().ok()?);
                match ethertype {
                    // 802.1Q and 802.1ad tags: skip the tag.
                    0x8100 | 0x88a8 => at += 4,
                    0x0800 | 0x86dd => return frame.get(at + 2..),
                    _ => return None,
                }
            }
        }
        Linktype::LINUX_SLL => {
            let proto = u16::from_be_bytes(frame.get(14..16)?.try_into().ok()?);
            matches!(proto, 0x0800 | 0x86dd).then(|| frame.get(16..))?
        }
        Linktype::LINUX_SLL2 => {
            let proto = u16::from_be_bytes(frame.get(0..2)?.try_into().ok()?);
            matches!(proto, 0x0800 | 0x86dd).then(|| frame.get(20..))?
        }
        Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 => Some(frame),
        // BSD loopback: a 4-byte address family in the capturing host's byte order.
        Linktype::NULL | Linktype::LOOP => frame.get(4..),
        _ => None,
    }
}

/// One fragment of a datagram (the IP payload: UDP header and data, in pieces).
#[derive(Debug)]
struct Fragment<'a> {
    key: (Vec<u8>, u32),
    offset: usize,
    more: bool,
    data: &'a [u8],
}

enum Ip<'a> {
    /// A whole UDP datagram (header included).
    Udp(&'a [u8]),
    Fragment(Fragment<'a>),
    Other,
    Damaged,
}

fn parse_ip(ip: &[u8]) -> Ip<'_> {
    match ip.first().map(|b| b >> 4) {
        Some(4) => parse_ipv4(ip),
        Some(6) => parse_ipv6(ip),
        _ => Ip::Other,
    }
}

fn parse_ipv4(ip: &[u8]) -> Ip<'_> {
    if ip.len() < 20 {
        return Ip::Damaged;
    }
    let header = ((ip[0] & 0x0f) as usize) * 4;
    let total = u16::from_be_bytes([ip[2], ip[3]]) as usize;
    if header < 20 || total < header || total > ip.len() {
        return Ip::Damaged;
    }
    if ip[9] != 17 {
        return Ip::Other;
    }
    let data = &ip[header..total];
    let flags_offset = u16::from_be_bytes([ip[6], ip[7]]);
    let more = flags_offset & 0x2000 != 0;
    let offset = (flags_offset & 0x1fff) as usize * 8;
    if !more && offset == 0 {
        return Ip::Udp(data);
    }
    let id = u16::from_be_bytes([ip[4], ip[5]]) as u32;
    let mut addresses = ip[12..20].to_vec();
    addresses.push(4);
    Ip::Fragment(Fragment {
        key: (addresses, id),
        offset,
        more,
        data,
    })
}

fn parse_ipv6(ip: &[u8]) -> Ip<'_> {
    if ip.len() < 40 {
        return Ip::Damaged;
    }
    let payload_len = u16::from_be_bytes([ip[4], ip[5]]) as usize;
    if 40 + payload_len > ip.len() {
        return Ip::Damaged;
    }
    let end = 40 + payload_len;
    let mut next = ip[6];
    let mut at = 40;
    let mut fragment = None;
    // Walk the extension headers up to UDP.
    loop {
        match next {
            17 => break,
            // Hop-by-hop, routing, destination options.
            0 | 43 | 60 => {
                let Some(h) = ip.get(at..at + 2) else {
                    return Ip::Damaged;
                };
                next = h[0];
                at += (h[1] as usize + 1) * 8;
            }
            44 => {
                let Some(h) = ip.get(at..at + 8) else {
                    return Ip::Damaged;
                };
                next = h[0];
                let fo = u16::from_be_bytes([h[2], h[3]]);
                let id = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
                fragment = Some(((fo >> 3) as usize * 8, fo & 1 != 0, id));
                at += 8;
            }
            _ => return Ip::Other,
        }
        if at > end {
            return Ip::Damaged;
        }
    }
    let data = &ip[at..end];
    match fragment {
        None | Some((0, false, _)) => Ip::Udp(data),
        Some((offset, more, id)) => {
            let mut addresses = ip[8..40].to_vec();
            addresses.push(6);
            Ip::Fragment(Fragment {
                key: (addresses, id),
                offset,
                more,
                data,
            })
        }
    }
}

impl Links {
    /// The capture time, interface and bytes of a data block; headers update the state.
    fn frame_of(
        &mut self,
        block: PcapBlockOwned<'_>,
        counts: &mut PcapCounts,
    ) -> Option<(f64, usize, Vec<u8>)> {
        match block {
            PcapBlockOwned::LegacyHeader(h) => {
                self.legacy_nanos = h.is_nanosecond_precision();
                self.interfaces = vec![Interface {
                    linktype: h.network,
                    resolution: if self.legacy_nanos {
                        1_000_000_000
                    } else {
                        1_000_000
                    },
                    offset: 0,
                }];
                None
            }
            PcapBlockOwned::Legacy(b) => {
                if b.caplen < b.origlen {
                    counts.frames += 1;
                    counts.damaged += 1;
                    return None;
                }
                let unit = if self.legacy_nanos { 1e-9 } else { 1e-6 };
                Some((
                    b.ts_sec as f64 + b.ts_usec as f64 * unit,
                    0,
                    b.data.to_vec(),
                ))
            }
            PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                // Interface ids restart in every section.
                self.interfaces.clear();
                None
            }
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                self.interfaces.push(Interface {
                    linktype: idb.linktype,
                    resolution: idb.ts_resolution().unwrap_or(1_000_000).max(1),
                    offset: idb.ts_offset(),
                });
                None
            }
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                let iface = epb.if_id as usize;
                let Some(i) = self.interfaces.get(iface).copied() else {
                    counts.frames += 1;
                    counts.damaged += 1;
                    return None;
                };
                if epb.caplen < epb.origlen {
                    counts.frames += 1;
                    counts.damaged += 1;
                    return None;
                }
                let ticks = ((epb.ts_high as u64) << 32) | epb.ts_low as u64;
                let time = i.offset as f64
                    + (ticks / i.resolution) as f64
                    + (ticks % i.resolution) as f64 / i.resolution as f64;
                let len = (epb.caplen as usize).min(epb.data.len());
                Some((time, iface, epb.data[..len].to_vec()))
            }
            PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                let len = (spb.origlen as usize).min(spb.data.len());
                Some((0.0, 0, spb.data[..len].to_vec()))
            }
            PcapBlockOwned::NG(_) => None,
        }
    }
}

/// Datagrams being reassembled from their fragments.
#[derive(Default)]
struct Fragments {
    pending: HashMap<(Vec<u8>, u32), Pending>,
    /// Keys in arrival order, to drop the oldest when too many wait.
    order: Vec<(Vec<u8>, u32)>,
}

#[derive(Default)]
struct Pending {
    pieces: Vec<(usize, Vec<u8>)>,
    total: Option<usize>,
}

impl Fragments {
    /// Adds a fragment; returns the whole datagram once every piece is there.
    fn add(&mut self, f: Fragment<'_>) -> Option<Vec<u8>> {
        if !self.pending.contains_key(&f.key) {
            if self.order.len() >= MAX_PENDING_FRAGMENTS {
                let oldest = self.order.remove(0);
                self.pending.remove(&oldest);
            }
            self.order.push(f.key.clone());
        }
        let p = self.pending.entry(f.key.clone()).or_default();
        if !f.more {
            p.total = Some(f.offset + f.data.len());
        }
        p.pieces.push((f.offset, f.data.to_vec()));
        let total = p.total?;
        p.pieces.sort_by_key(|(o, _)| *o);
        let mut covered = 0;
        for (o, d) in &p.pieces {
            if *o > covered {
                return None;
            }
            covered = covered.max(o + d.len());
        }
        if covered < total {
            return None;
        }
        let mut whole = vec![0u8; total];
        for (o, d) in &p.pieces {
            let end = (o + d.len()).min(total);
            if *o < end {
                whole[*o..end].copy_from_slice(&d[..end - o]);
            }
        }
        self.pending.remove(&f.key);
        self.order.retain(|k| k != &f.key);
        Some(whole)
    }
}

/// Ports and payload of a UDP datagram (header included).
fn udp(datagram: &[u8]) -> Option<UdpPacket> {
    let h = datagram.get(..8)?;
    let len = u16::from_be_bytes([h[4], h[5]]) as usize;
    // A length of 0 is allowed for jumbograms; otherwise it must fit.
    let end = if len == 0 { datagram.len() } else { len };
    if end < 8 || end > datagram.len() {
        return None;
    }
    Some(UdpPacket {
        time: 0.0,
        src_port: u16::from_be_bytes([h[0], h[1]]),
        dst_port: u16::from_be_bytes([h[2], h[3]]),
        payload: datagram[8..end].to_vec(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An Ethernet + IPv4 + UDP frame, fragmented into pieces of at most `mtu` bytes of IP
    /// payload (a multiple of 8), as a capture holds it.
    pub(crate) fn ethernet_udp(payload: &[u8], dst_port: u16, id: u16, mtu: usize) -> Vec<Vec<u8>> {
        let mut udp = Vec::new();
        udp.extend_from_slice(&1234u16.to_be_bytes());
        udp.extend_from_slice(&dst_port.to_be_bytes());
        udp.extend_from_slice(&((payload.len() + 8) as u16).to_be_bytes());
        udp.extend_from_slice(&[0, 0]);
        udp.extend_from_slice(payload);
        let mut frames = Vec::new();
        let mut offset = 0;
        while offset < udp.len() {
            let end = (offset + mtu).min(udp.len());
            let more = end < udp.len();
            let mut f = vec![0u8; 12];
            f.extend_from_slice(&0x0800u16.to_be_bytes());
            let total = 20 + end - offset;
            let fo = (offset / 8) as u16 | if more { 0x2000 } else { 0 };
            f.extend_from_slice(&[0x45, 0]);
            f.extend_from_slice(&(total as u16).to_be_bytes());
            f.extend_from_slice(&id.to_be_bytes());
            f.extend_from_slice(&fo.to_be_bytes());
            f.extend_from_slice(&[64, 17, 0, 0, 10, 5, 5, 1, 10, 5, 5, 2]);
            f.extend_from_slice(&udp[offset..end]);
            frames.push(f);
            offset = end;
        }
        frames
    }

    /// A legacy little-endian pcap (microseconds, Ethernet) holding `frames`.
    pub(crate) fn legacy_pcap(frames: &[(f64, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&65535u32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        for (t, f) in frames {
            out.extend_from_slice(&(t.floor() as u32).to_le_bytes());
            out.extend_from_slice(&(((t - t.floor()) * 1e6).round() as u32).to_le_bytes());
            out.extend_from_slice(&(f.len() as u32).to_le_bytes());
            out.extend_from_slice(&(f.len() as u32).to_le_bytes());
            out.extend_from_slice(f);
        }
        out
    }

    fn read_all(bytes: &[u8]) -> (Vec<UdpPacket>, PcapCounts, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.pcap");
        std::fs::write(&path, bytes).unwrap();
        let mut r = PcapReader::open(&path).unwrap();
        let mut out = Vec::new();
        while let Some(p) = r.next_packet() {
            out.push(p);
        }
        (out, r.counts(), r.take_warnings())
    }

    #[test]
    fn fragments_reassemble_in_any_order() {
        let payload: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
        let mut pieces = ethernet_udp(&payload, 7502, 9, 1480);
        assert_eq!(pieces.len(), 3);
        pieces.swap(0, 2);
        let mut frames: Vec<(f64, Vec<u8>)> = pieces.into_iter().map(|f| (100.25, f)).collect();
        frames.extend(
            ethernet_udp(&[1, 2, 3], 2368, 10, 1480)
                .into_iter()
                .map(|f| (101.5, f)),
        );
        let (packets, counts, warnings) = read_all(&legacy_pcap(&frames));
        assert_eq!(packets.len(), 2, "{counts:?}");
        assert_eq!(packets[0].payload, payload);
        assert_eq!(packets[0].dst_port, 7502);
        assert!((packets[0].time - 100.25).abs() < 1e-6);
        assert_eq!(packets[1].payload, vec![1, 2, 3]);
        assert_eq!(packets[1].dst_port, 2368);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn a_capture_cut_short_is_read_up_to_the_cut() {
        let frames: Vec<(f64, Vec<u8>)> = (0..5)
            .map(|i| {
                (
                    i as f64,
                    ethernet_udp(&[i as u8; 100], 2368, i, 1480).remove(0),
                )
            })
            .collect();
        let bytes = legacy_pcap(&frames);
        let (packets, _, warnings) = read_all(&bytes[..bytes.len() - 30]);
        assert_eq!(packets.len(), 4);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("4 UDP"), "{}", warnings[0]);
    }

    #[test]
    fn non_udp_frames_are_counted_and_skipped() {
        let mut arp = vec![0u8; 12];
        arp.extend_from_slice(&0x0806u16.to_be_bytes());
        arp.extend_from_slice(&[0; 28]);
        let mut frames = vec![(0.0, arp)];
        frames.push((1.0, ethernet_udp(&[7; 10], 2368, 1, 1480).remove(0)));
        let (packets, counts, _) = read_all(&legacy_pcap(&frames));
        assert_eq!(packets.len(), 1);
        assert_eq!(counts.other, 1);
        assert_eq!(counts.frames, 2);
    }

    #[test]
    fn not_a_capture_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pcap");
        std::fs::write(&path, b"this is not a capture at all, just text").unwrap();
        let e = PcapReader::open(&path).err().unwrap().to_string();
        assert!(e.contains("x.pcap"), "{e}");
    }
}
