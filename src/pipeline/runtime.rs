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
        outputs[w.from.0]
            .entry(w.from.1.clone())
            .or_default()
            .push(tx);
        inputs[w.to.0].push((w.to.1.clone(), rx));
    }
    let mut counters: Vec<Vec<(String, Arc<std::sync::atomic::AtomicUsize>)>> =
        (0..n).map(|_| Vec::new()).collect();
    for (i, port, c) in graph.counters {
        counters[i].push((port, c));
    }
    let failure: Arc<Mutex<Option<BlockFailure>>> = Arc::new(Mutex::new(None));
    std::thread::scope(|scope| {
        for ((((mut block, id), ins), outs), watched) in graph
            .blocks
            .into_iter()
            .zip(graph.ids.iter())
            .zip(inputs)
            .zip(outputs)
            .zip(counters)
        {
            let (stop_flag, failure_slot) = (stop.clone(), failure.clone());
            let spawned =
                std::thread::Builder::new()
                    .name(id.clone())
                    .spawn_scoped(scope, move || {
                        let (stop, failure) = (stop_flag, failure_slot);
                        let mut io = BlockIo::new(ins, outs, stop.clone());
                        for (port, c) in watched {
                            io.count_sent(&port, c);
                        }
                        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            block.run(&mut io)
                        }));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::block::{downcast, Block, BlockError};
    use crate::pipeline::validate::Wire;
    use std::sync::atomic::AtomicUsize;

    struct Source(u32);
    impl Block for Source {
        fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
            for i in 0..self.0 {
                if io.stopping() {
                    break;
                }
                io.send("out", Arc::new(i))?;
            }
            Ok(())
        }
    }

    /// Records the address and value of every message, and how many it saw at the end.
    struct Sink(Arc<Mutex<Vec<(usize, u32)>>>);
    impl Block for Sink {
        fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
            while let Some((_, m)) = io.recv() {
                let v = downcast::<u32>(m)?;
                self.0.lock().unwrap().push((Arc::as_ptr(&v) as usize, *v));
            }
            Ok(())
        }
    }

    struct FailAt(u32, Arc<AtomicUsize>);
    impl Block for FailAt {
        fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError> {
            while let Some((_, m)) = io.recv() {
                let v = downcast::<u32>(m)?;
                if *v == self.0 {
                    return Err(format!("cannot take {v}").into());
                }
                self.1.fetch_add(1, Ordering::SeqCst);
                io.send("out", Arc::new(*v))?;
            }
            Ok(())
        }
    }

    fn wire(from: usize, to: usize, to_port: &str) -> Wire {
        Wire {
            from: (from, "out".into()),
            to: (to, to_port.into()),
        }
    }

    #[test]
    fn fan_out_shares_messages_and_end_of_stream_propagates() {
        let (a, b) = (Arc::default(), Arc::default());
        let mut graph = Graph {
            ids: vec!["src".into(), "a".into(), "b".into()],
            types: vec!["source".into(), "sink".into(), "sink".into()],
            counters: Vec::new(),
            blocks: vec![
                Box::new(Source(100)),
                Box::new(Sink(Arc::clone(&a))),
                Box::new(Sink(Arc::clone(&b))),
            ],
            wires: vec![wire(0, 1, "in"), wire(0, 2, "in")],
        };
        let sent = graph.watch("source", "out").unwrap();
        assert!(graph.watch("nowhere", "out").is_none());
        run(graph, Arc::new(AtomicBool::new(false))).unwrap();
        assert_eq!(sent.load(Ordering::SeqCst), 100);
        let (a, b) = (a.lock().unwrap(), b.lock().unwrap());
        assert_eq!(a.len(), 100);
        assert_eq!(*a, *b, "both sinks saw the same allocations, in order");
        assert!(a.iter().enumerate().all(|(i, &(_, v))| v == i as u32));
    }

    #[test]
    fn a_failing_block_stops_the_pipeline_and_is_named() {
        let seen = Arc::default();
        let passed = Arc::new(AtomicUsize::new(0));
        let graph = Graph {
            ids: vec!["src".into(), "picky".into(), "sink".into()],
            types: vec!["source".into(), "picky".into(), "sink".into()],
            counters: Vec::new(),
            blocks: vec![
                Box::new(Source(1_000_000)),
                Box::new(FailAt(10, passed.clone())),
                Box::new(Sink(Arc::clone(&seen))),
            ],
            wires: vec![wire(0, 1, "in"), wire(1, 2, "in")],
        };
        let err = run(graph, Arc::new(AtomicBool::new(false))).unwrap_err();
        assert_eq!(err.block, "picky");
        assert!(err
            .to_string()
            .contains("block `picky` failed: cannot take 10"));
        // The sink drained what had passed: the ten messages before the failure.
        assert_eq!(seen.lock().unwrap().len(), 10);
        assert_eq!(passed.load(Ordering::SeqCst), 10);
    }

    #[test]
    fn stop_flag_ends_sources_and_flushes() {
        let seen = Arc::default();
        let stop = Arc::new(AtomicBool::new(true));
        let graph = Graph {
            ids: vec!["src".into(), "sink".into()],
            types: vec!["source".into(), "sink".into()],
            counters: Vec::new(),
            blocks: vec![
                Box::new(Source(u32::MAX)),
                Box::new(Sink(Arc::clone(&seen))),
            ],
            wires: vec![wire(0, 1, "in")],
        };
        run(graph, stop).unwrap();
        assert!(seen.lock().unwrap().is_empty());
    }
}
