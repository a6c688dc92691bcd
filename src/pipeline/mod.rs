//! Pipelines: a YAML file that wires blocks together, checked before it runs and run with
//! one thread per block over bounded crossbeam channels. This room knows nothing of LiDAR:
//! it moves typed messages between ports; the block types live in [`crate::blocks`].
//!
//! A file is a `blocks:` list; each block has an `id`, a `type` from the registry, `params`
//! and `inputs` wired as `port: block/output`:
//!
//! ```yaml
//! blocks:
//!   - id: reader
//!     type: dataset
//!     params: {path: "${DATASET}"}
//!   - id: odometry
//!     type: odometry
//!     params: {voxel_size: "${VOXEL|auto}"}
//!     inputs: {scans: reader/scans}
//! ```

pub mod block;
pub mod diagnostic;
pub mod file;
pub mod registry;
pub mod runtime;
pub mod validate;
pub mod vars;
pub mod yaml;

pub use block::{downcast, Block, BlockError, BlockIo, Disconnected, Message};
pub use diagnostic::{Diagnostic, Diagnostics};
pub use registry::{BlockType, ParamError, PortSpec, Registry};
pub use runtime::{run, BlockFailure};
pub use validate::Graph;
pub use vars::Vars;

use std::path::Path;

/// Reads, checks and builds the pipeline at `path`. On any problem, every diagnostic found.
pub fn load(path: &Path, vars: &Vars, registry: &Registry) -> Result<Graph, Diagnostics> {
    let (spec, mut diags) = file::load(path, vars);
    match validate::build(&spec, registry, &mut diags) {
        Some(graph) if diags.is_empty() => Ok(graph),
        _ => Err(diags),
    }
}
