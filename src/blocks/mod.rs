//! Block types: thin adapters that put the readers, filters, odometry and writers on
//! pipeline ports. Every type a pipeline file may name is registered in [`registry`]; its
//! params struct (serde, defaults, a doc comment per field) is in the file of its family,
//! and `lidarflow blocks TYPE` prints the same.

pub mod filters;
pub mod map_writers;
pub mod maps;
pub mod messages;
pub mod odometry;
pub mod planar_odometry;
pub mod readers;
pub mod viewer;
pub mod writers;

use crate::pipeline::Registry;

/// Every built-in block type.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    for t in readers::types()
        .into_iter()
        .chain(filters::types())
        .chain(odometry::types())
        .chain(planar_odometry::types())
        .chain(writers::types())
        .chain(maps::types())
        .chain(map_writers::types())
        .chain(viewer::types())
    {
        r.register(t);
    }
    r
}
