//! Running a checked pipeline: one thread per block, one bounded channel per wire (so a
//! fast reader waits for a slow consumer instead of filling memory). When a block fails,
//! the pipeline stops: sources stop producing, the others drain what is in flight and close
//! their outputs (writers flush what they have), and the failure names the block.

use super::block::{BlockIo, Disconnected, Message};
use super::validate::Graph;
use crossbeam_channel::bounded;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Messages a wire holds before its sender waits.
pub const CHANNEL_CAPACITY: usize = 4;

/// A block that failed, and why.
#[derive(Debug)]
pub struct BlockFailure {
    /// The block's id.
    pub block: String,
    /// What it said.
    pub error: String,
}

impl std::fmt::Display for BlockFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "block `{}` failed: {}", self.block, self.error)
    }
}

impl std::error::Error for BlockFailure {}

/// Runs `graph` to the end. `stop` may be set from outside (Ctrl-C) to end the run early
/// with outputs flushed; a failing block sets it too. Returns the first failure, if any.
pub fn run(graph: Graph, stop: Arc<AtomicBool>) -> Result<(), BlockFailure> {
    let n = graph.blocks.len();
    let mut inputs: Vec<Vec<(String, crossbeam_channel::Receiver<Message>)>> =
        (0..n).map(|_| Vec::new()).collect();
    let mut outputs: Vec<BTreeMap<String, Vec<crossbeam_channel::Sender<Message>>>> =
        (0..n).map(|_| BTreeMap::new()).collect();
    for w in &graph.wires {
        let (tx, rx) = bounded(CHANNEL_CAPACITY);
        outputs[w.from.0].entry(w.from.1.clone()).or_default().push(tx);
        inputs[w.to.0].push((w.to.1.clone(), rx));
    }
    let failure: Arc<Mutex<Option<BlockFailure>>> = Arc::new(Mutex::new(None));
    std::thread::scope(|scope| {
        for (((mut block, id), ins), outs) in graph
            .blocks
            .into_iter()
            .zip(graph.ids.iter())
            .zip(inputs)
            .zip(outputs)
        {
            let (stop_flag, failure_slot) = (stop.clone(), failure.clone());
            let spawned = std::thread::Builder::new()
                .name(id.clone())
                .spawn_scoped(scope, move || {
                    let (stop, failure) = (stop_flag, failure_slot);
                    let mut io = BlockIo::new(ins, outs, stop.clone());
                    let result =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| block.run(&mut io)));
                    let error = match result {
                        Ok(Ok(())) => None,
                        Ok(Err(e)) if e.is::<Disconnected>() => None,
                        Ok(Err(e)) => Some(e.to_string()),
                        Err(panic) => Some(format!(
                            "panicked: {}",
                            panic
                                .downcast_ref::<String>()
                                .map(String::as_str)
                                .or_else(|| panic.downcast_ref::<&str>().copied())
                                .unwrap_or("(no message)")
                        )),
                    };
                    if let Some(error) = error {
                        // Record before closing the outputs, so blocks downstream that end
                        // because of it find the failure already there.
                        stop.store(true, Ordering::Relaxed);
                        let mut slot = failure.lock().unwrap_or_else(|p| p.into_inner());
                        slot.get_or_insert(BlockFailure {
                            block: id.clone(),
                            error,
                        });
                    }
                    drop(io);
                });
            if let Err(e) = spawned {
                stop.store(true, Ordering::Relaxed);
                failure
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_or_insert(BlockFailure {
                        block: id.clone(),
                        error: format!("cannot start its thread: {e}"),
                    });
            }
        }
    });
    let failure = failure.lock().unwrap_or_else(|p| p.into_inner()).take();
    match failure {
        Some(f) => Err(f),
        None => Ok(()),
    }
}
