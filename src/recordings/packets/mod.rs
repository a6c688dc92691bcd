//! Sensor packet decoders: pure functions from the bytes of one packet plus the sensor's
//! metadata to columns of measurements. The containers that carry packets (pcap captures,
//! bags) only hand the bytes over, so a packet decodes the same wherever it was recorded.

pub mod ouster;
pub mod ouster_meta;
