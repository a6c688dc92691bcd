//! `velodyne_msgs/VelodyneScan`: a header and the raw 1206-byte packets of one rotation, each
//! with its stamp. Decoding the packets into points is the Velodyne packet decoder's job; this
//! only hands them over.

use super::{DecodeError, DecodeResult, Encoding, Header, MessageReader};

/// Bytes in a Velodyne data packet (the UDP payload).
pub const PACKET_SIZE: usize = 1206;

/// One `velodyne_msgs/VelodynePacket`.
#[derive(Debug, Clone, PartialEq)]
pub struct VelodynePacket {
    /// When the packet was received, seconds.
    pub stamp: f64,
    /// The packet as the sensor sent it.
    pub data: Vec<u8>,
}

/// A parsed `velodyne_msgs/VelodyneScan`.
#[derive(Debug, Clone, PartialEq)]
pub struct VelodyneScan {
    /// The message header.
    pub header: Header,
    /// The packets, in the order received.
    pub packets: Vec<VelodynePacket>,
}

/// Reads a `velodyne_msgs/VelodyneScan` (`uint8[1206] data`: a fixed array, no length).
pub fn parse(r: &mut MessageReader) -> DecodeResult<VelodyneScan> {
    let header = r.header()?;
    let n = r.seq_len(8 + PACKET_SIZE, "packets")?;
    let mut packets = Vec::with_capacity(n);
    for i in 0..n {
        let stamp = r
            .time("packet stamp")
            .map_err(|e| DecodeError(format!("packet {i}: {e}")))?;
        let data = r
            .bytes(PACKET_SIZE, "packet data")
            .map_err(|e| DecodeError(format!("packet {i}: {e}")))?;
        packets.push(VelodynePacket {
            stamp,
            data: data.to_vec(),
        });
    }
    Ok(VelodyneScan { header, packets })
}

/// Decodes a serialized `velodyne_msgs/VelodyneScan`.
pub fn decode(bytes: &[u8], encoding: Encoding) -> DecodeResult<VelodyneScan> {
    let mut r = MessageReader::new(bytes, encoding)?;
    parse(&mut r)
}

#[cfg(test)]
mod tests {
    use super::super::write::Writer;
    use super::*;

    #[test]
    fn packets_with_their_stamps() {
        for (enc, be) in [(Encoding::Ros1, false), (Encoding::Cdr, true)] {
            let mut w = Writer::new(enc, be);
            w.header(10, 0, "velodyne");
            w.u32(2);
            for k in 0..2u8 {
                w.time(10, 1000 * k as u32);
                w.buf.extend(std::iter::repeat_n(k + 1, PACKET_SIZE));
            }
            let s = decode(&w.buf, enc).unwrap();
            assert_eq!(s.packets.len(), 2);
            assert_eq!(s.packets[1].stamp, 10.000001);
            assert!(s.packets[1].data.iter().all(|&b| b == 2));
            assert_eq!(s.packets[0].data.len(), PACKET_SIZE);
            let cut = &w.buf[..w.buf.len() - 1];
            assert!(decode(cut, enc).unwrap_err().0.contains("packet"));
        }
    }
}
