//! ROS message decoding, apart from the containers that carry the messages: one reader for
//! the two wire formats ([`MessageReader`] over ROS 1 serialization or CDR) and one decoder
//! per message type, written once for both. A decoder is a pure function from a message's
//! bytes to plain data; bags hand it the bytes.

pub mod laser_scan;
pub mod pointcloud2;
pub mod velodyne_scan;

use std::fmt;

/// How a message is serialized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// ROS 1 serialization: little endian, no alignment, `u32` lengths, `std_msgs/Header`
    /// with a `seq`.
    Ros1,
    /// ROS 2 CDR: a 4-byte encapsulation header (either endianness), primitives aligned to
    /// their size relative to the end of that header, no `seq` in the header.
    Cdr,
}

impl Encoding {
    /// The encoding named by a bag's serialization format (`cdr`, `ros1`), if it is one of
    /// the two.
    pub fn from_name(name: &str) -> Option<Encoding> {
        match name.to_ascii_lowercase().as_str() {
            "cdr" | "ros2" | "ros2msg" => Some(Encoding::Cdr),
            "ros1" | "ros1msg" => Some(Encoding::Ros1),
            _ => None,
        }
    }
}

/// Why a message did not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

/// Result of decoding a message.
pub type DecodeResult<T> = std::result::Result<T, DecodeError>;

/// A message's `std_msgs/Header`.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Sequence number (ROS 1 only; 0 in ROS 2, whose header has none).
    pub seq: u32,
    /// Stamp, seconds.
    pub stamp: f64,
    /// The frame the data is in.
    pub frame_id: String,
}

/// A cursor over one serialized message, in either encoding.
#[derive(Debug, Clone)]
pub struct MessageReader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Where alignment is counted from (after the CDR encapsulation header).
    origin: usize,
    big_endian: bool,
    encoding: Encoding,
}

impl<'a> MessageReader<'a> {
    /// A reader over `buf`; for CDR, reads and checks the encapsulation header.
    pub fn new(buf: &'a [u8], encoding: Encoding) -> DecodeResult<MessageReader<'a>> {
        match encoding {
            Encoding::Ros1 => Ok(MessageReader {
                buf,
                pos: 0,
                origin: 0,
                big_endian: false,
                encoding,
            }),
            Encoding::Cdr => {
                let head = buf.get(..4).ok_or_else(|| {
                    DecodeError(format!(
                        "{} bytes: too short for a CDR encapsulation header",
                        buf.len()
                    ))
                })?;
                // Byte 1: 0 = CDR_BE, 1 = CDR_LE; 2/3 = PL_CDR (same body layout for plain
                // structs); XCDR2 (6..=11) aligns 8-byte values to 4, which ROS 2 does not
                // write.
                let big_endian = match (head[0], head[1]) {
                    (0, 0) | (0, 2) => true,
                    (0, 1) | (0, 3) => false,
                    (a, b) => {
                        return Err(DecodeError(format!(
                            "CDR encapsulation {a:#04x} {b:#04x} is not plain CDR"
                        )))
                    }
                };
                Ok(MessageReader {
                    buf,
                    pos: 4,
                    origin: 4,
                    big_endian,
                    encoding,
                })
            }
        }
    }

    /// The encoding read.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn align(&mut self, size: usize) {
        if self.encoding == Encoding::Cdr && size > 1 {
            let rel = self.pos - self.origin;
            let pad = (size - rel % size) % size;
            self.pos = self.pos.saturating_add(pad);
        }
    }

    fn take(&mut self, n: usize, what: &str) -> DecodeResult<&'a [u8]> {
        let end = self.pos.checked_add(n);
        match end.and_then(|end| self.buf.get(self.pos..end)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(DecodeError(format!(
                "message ends at byte {} while reading {what} ({n} bytes at byte {})",
                self.buf.len(),
                self.pos
            ))),
        }
    }

    fn fixed<const N: usize>(&mut self, what: &str) -> DecodeResult<[u8; N]> {
        self.align(N);
        let s = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        if self.big_endian {
            out.reverse();
        }
        Ok(out)
    }

    /// A `uint8` (or `bool`, `byte`, `char`).
    pub fn u8(&mut self, what: &str) -> DecodeResult<u8> {
        Ok(self.take(1, what)?[0])
    }

    /// A `uint16`.
    pub fn u16(&mut self, what: &str) -> DecodeResult<u16> {
        Ok(u16::from_le_bytes(self.fixed(what)?))
    }

    /// A `uint32`.
    pub fn u32(&mut self, what: &str) -> DecodeResult<u32> {
        Ok(u32::from_le_bytes(self.fixed(what)?))
    }

    /// An `int32`.
    pub fn i32(&mut self, what: &str) -> DecodeResult<i32> {
        Ok(i32::from_le_bytes(self.fixed(what)?))
    }

    /// A `float32`.
    pub fn f32(&mut self, what: &str) -> DecodeResult<f32> {
        Ok(f32::from_le_bytes(self.fixed(what)?))
    }

    /// A `float64`.
    pub fn f64(&mut self, what: &str) -> DecodeResult<f64> {
        Ok(f64::from_le_bytes(self.fixed(what)?))
    }

    /// The length of a sequence (or string), checked against the bytes left assuming each
    /// element takes at least `min_element_size` bytes, so a damaged length never makes a
    /// caller allocate more than the message holds.
    pub fn seq_len(&mut self, min_element_size: usize, what: &str) -> DecodeResult<usize> {
        let n = self.u32(what)? as usize;
        if n.saturating_mul(min_element_size.max(1)) > self.remaining() && min_element_size > 0 {
            return Err(DecodeError(format!(
                "{what} claims {n} elements, more than the {} bytes left hold",
                self.remaining()
            )));
        }
        Ok(n)
    }

    /// A string: ROS 1 without terminator, CDR with its NUL counted in the length.
    pub fn string(&mut self, what: &str) -> DecodeResult<String> {
        let n = self.seq_len(1, what)?;
        let bytes = self.take(n, what)?;
        let bytes = match self.encoding {
            Encoding::Cdr => bytes.strip_suffix(&[0]).unwrap_or(bytes),
            Encoding::Ros1 => bytes,
        };
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }

    /// A `uint8[]` (length-prefixed bytes), borrowed from the message.
    pub fn byte_seq(&mut self, what: &str) -> DecodeResult<&'a [u8]> {
        let n = self.seq_len(1, what)?;
        self.take(n, what)
    }

    /// `n` raw bytes (a fixed-size `uint8[n]` array), borrowed from the message.
    pub fn bytes(&mut self, n: usize, what: &str) -> DecodeResult<&'a [u8]> {
        self.take(n, what)
    }

    /// A `float32[]`.
    pub fn f32_seq(&mut self, what: &str) -> DecodeResult<Vec<f32>> {
        let n = self.seq_len(4, what)?;
        (0..n).map(|_| self.f32(what)).collect()
    }

    /// A `time` (ROS 1: `uint32` sec, `uint32` nsec) or `builtin_interfaces/Time` (ROS 2:
    /// `int32` sec, `uint32` nanosec), in seconds.
    pub fn time(&mut self, what: &str) -> DecodeResult<f64> {
        let sec = match self.encoding {
            Encoding::Ros1 => self.u32(what)? as f64,
            Encoding::Cdr => self.i32(what)? as f64,
        };
        let nsec = self.u32(what)?;
        Ok(sec + nsec as f64 * 1e-9)
    }

    /// A `std_msgs/Header` (with `seq` in ROS 1 only).
    pub fn header(&mut self) -> DecodeResult<Header> {
        let seq = match self.encoding {
            Encoding::Ros1 => self.u32("header.seq")?,
            Encoding::Cdr => 0,
        };
        let stamp = self.time("header.stamp")?;
        let frame_id = self.string("header.frame_id")?;
        Ok(Header {
            seq,
            stamp,
            frame_id,
        })
    }
}

/// A message type's name without the ROS 2 `/msg/` part, so `sensor_msgs/msg/PointCloud2`
/// and `sensor_msgs/PointCloud2` compare equal.
pub fn normalize_type(name: &str) -> String {
    name.replace("/msg/", "/")
}

/// Builders of serialized messages for tests, in either encoding.
#[cfg(test)]
pub(crate) mod write {
    use super::Encoding;

    /// Writes a message the way [`super::MessageReader`] reads it.
    pub struct Writer {
        pub buf: Vec<u8>,
        encoding: Encoding,
        big_endian: bool,
    }

    impl Writer {
        pub fn new(encoding: Encoding, big_endian: bool) -> Writer {
            let buf = match encoding {
                Encoding::Ros1 => Vec::new(),
                Encoding::Cdr => vec![0, if big_endian { 0 } else { 1 }, 0, 0],
            };
            Writer {
                buf,
                encoding,
                big_endian: big_endian && encoding == Encoding::Cdr,
            }
        }
        fn align(&mut self, n: usize) {
            if self.encoding == Encoding::Cdr {
                while (self.buf.len() - 4) % n != 0 {
                    self.buf.push(0);
                }
            }
        }
        fn put(&mut self, mut b: Vec<u8>) {
            self.align(b.len());
            if self.big_endian {
                b.reverse();
            }
            self.buf.extend_from_slice(&b);
        }
        pub fn u8(&mut self, v: u8) {
            self.buf.push(v);
        }
        pub fn u32(&mut self, v: u32) {
            self.put(v.to_le_bytes().to_vec());
        }
        pub fn f32(&mut self, v: f32) {
            self.put(v.to_le_bytes().to_vec());
        }
        pub fn string(&mut self, s: &str) {
            match self.encoding {
                Encoding::Ros1 => {
                    self.u32(s.len() as u32);
                    self.buf.extend_from_slice(s.as_bytes());
                }
                Encoding::Cdr => {
                    self.u32(s.len() as u32 + 1);
                    self.buf.extend_from_slice(s.as_bytes());
                    self.buf.push(0);
                }
            }
        }
        pub fn bytes(&mut self, b: &[u8]) {
            self.u32(b.len() as u32);
            self.buf.extend_from_slice(b);
        }
        pub fn time(&mut self, sec: u32, nsec: u32) {
            self.u32(sec);
            self.u32(nsec);
        }
        pub fn header(&mut self, sec: u32, nsec: u32, frame: &str) {
            if self.encoding == Encoding::Ros1 {
                self.u32(7);
            }
            self.time(sec, nsec);
            self.string(frame);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::write::Writer;
    use super::*;

    #[test]
    fn header_in_both_encodings_and_endiannesses() {
        for (enc, be) in [
            (Encoding::Ros1, false),
            (Encoding::Cdr, false),
            (Encoding::Cdr, true),
        ] {
            let mut w = Writer::new(enc, be);
            w.header(12, 500_000_000, "lidar");
            w.u8(1);
            w.u32(77);
            let mut r = MessageReader::new(&w.buf, enc).unwrap();
            let h = r.header().unwrap();
            assert_eq!(h.stamp, 12.5);
            assert_eq!(h.frame_id, "lidar");
            assert_eq!(h.seq, if enc == Encoding::Ros1 { 7 } else { 0 });
            assert_eq!(r.u8("flag").unwrap(), 1);
            // CDR pads the u32 after the u8 to a multiple of 4 from the header's end.
            assert_eq!(r.u32("value").unwrap(), 77);
            assert_eq!(r.remaining(), 0);
        }
    }

    #[test]
    fn lengths_past_the_end_are_errors_not_allocations() {
        let mut w = Writer::new(Encoding::Cdr, false);
        w.u32(u32::MAX);
        let mut r = MessageReader::new(&w.buf, Encoding::Cdr).unwrap();
        let e = r.f32_seq("ranges").unwrap_err();
        assert!(e.0.contains("ranges"), "{e}");
        assert!(MessageReader::new(&[0, 1], Encoding::Cdr).is_err());
        assert!(MessageReader::new(&[0, 9, 0, 0], Encoding::Cdr).is_err());
        let mut r = MessageReader::new(&[1, 0], Encoding::Ros1).unwrap();
        assert!(r.u32("x").is_err());
    }

    #[test]
    fn type_names_compare_across_ros_versions() {
        assert_eq!(
            normalize_type("sensor_msgs/msg/PointCloud2"),
            "sensor_msgs/PointCloud2"
        );
        assert_eq!(Encoding::from_name("CDR"), Some(Encoding::Cdr));
        assert_eq!(Encoding::from_name("json"), None);
    }
}
