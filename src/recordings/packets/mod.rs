//! Sensor packet decoders, apart from the containers (pcap captures, bags) that carry the
//! packets: a decoder is a pure function from packet bytes plus the sensor's model or
//! metadata to points.

pub mod velodyne;
