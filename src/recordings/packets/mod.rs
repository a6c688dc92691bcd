//! Sensor packet decoders, apart from the containers (pcap captures, bags) that carry the
//! packets: a decoder is a pure function from the bytes of one packet plus the sensor's model
//! or metadata to points, so a packet decodes the same wherever it was recorded.

pub mod ouster;
pub mod ouster_meta;
pub mod velodyne;
