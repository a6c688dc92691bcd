//! What a block is to the runtime: something that runs on its own thread, receives messages
//! on its input ports and sends messages on its output ports. Messages are reference-counted
//! and type-erased, so fanning one out to several blocks copies a pointer, not a cloud.

use crossbeam_channel::{Receiver, Select, Sender};
use std::any::Any;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// A message between blocks: any shared, immutable value. Ports declare its type by name.
pub type Message = Arc<dyn Any + Send + Sync>;

/// The error a block returns: anything that says what went wrong.
pub type BlockError = Box<dyn std::error::Error + Send + Sync>;

/// Returned by [`BlockIo::send`] when no block listens any more (the pipeline is stopping):
/// the sender should end quietly. The runtime does not report it as a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnected;

impl std::fmt::Display for Disconnected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("downstream blocks stopped")
    }
}

impl std::error::Error for Disconnected {}

/// A block ready to run. `run` returns when its inputs ended (or, for a source, when it has
/// nothing more to send or [`BlockIo::stopping`] says so); returning closes its outputs,
/// which is how the end of the stream reaches the blocks downstream.
pub trait Block: Send {
    /// Runs the block to completion.
    fn run(&mut self, io: &mut BlockIo) -> Result<(), BlockError>;
}

/// A block's ends of its channels.
pub struct BlockIo {
    inputs: Vec<(String, Receiver<Message>)>,
    outputs: BTreeMap<String, Vec<Sender<Message>>>,
    stop: Arc<AtomicBool>,
    counters: BTreeMap<String, Arc<AtomicUsize>>,
}

impl BlockIo {
    /// Channel ends for one block; `stop` is shared by the whole pipeline.
    pub fn new(
        inputs: Vec<(String, Receiver<Message>)>,
        outputs: BTreeMap<String, Vec<Sender<Message>>>,
        stop: Arc<AtomicBool>,
    ) -> BlockIo {
        BlockIo {
            inputs,
            outputs,
            stop,
            counters: BTreeMap::new(),
        }
    }

    /// Counts the messages sent on output `port` into `counter` (progress reporting).
    pub fn count_sent(&mut self, port: &str, counter: Arc<AtomicUsize>) {
        self.counters.insert(port.to_string(), counter);
    }

    /// The next message on any input, with its port name; `None` once every input ended.
    /// With one input, messages come in the order they were sent.
    pub fn recv(&mut self) -> Option<(String, Message)> {
        loop {
            match self.inputs.len() {
                0 => return None,
                1 => {
                    return match self.inputs[0].1.recv() {
                        Ok(m) => Some((self.inputs[0].0.clone(), m)),
                        Err(_) => {
                            self.inputs.clear();
                            None
                        }
                    }
                }
                _ => {
                    let mut select = Select::new();
                    for (_, r) in &self.inputs {
                        select.recv(r);
                    }
                    let op = select.select();
                    let i = op.index();
                    match op.recv(&self.inputs[i].1) {
                        Ok(m) => return Some((self.inputs[i].0.clone(), m)),
                        Err(_) => {
                            self.inputs.remove(i);
                        }
                    }
                }
            }
        }
    }

    /// Sends `message` to every block wired to output `port` (blocking while their
    /// channels are full). A port nobody listens to drops the message.
    pub fn send(&self, port: &str, message: Message) -> Result<(), Disconnected> {
        if let Some(c) = self.counters.get(port) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        let Some(senders) = self.outputs.get(port) else {
            return Ok(());
        };
        let mut delivered = senders.is_empty();
        for s in senders {
            delivered |= s.send(message.clone()).is_ok();
        }
        if delivered {
            Ok(())
        } else {
            Err(Disconnected)
        }
    }

    /// Whether anything is wired to output `port` (a block may skip work nobody uses).
    pub fn is_wired(&self, port: &str) -> bool {
        self.outputs.get(port).is_some_and(|s| !s.is_empty())
    }

    /// Whether the pipeline is stopping (Ctrl-C, or a block failed). Sources check it
    /// between messages; other blocks simply drain their inputs.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// The message as a `T`, or an error naming the type expected (wiring is checked before a
/// run, so this fails only for a block that declares its ports wrong).
pub fn downcast<T: Any + Send + Sync>(message: Message) -> Result<Arc<T>, BlockError> {
    message
        .downcast::<T>()
        .map_err(|_| format!("message is not a {}", std::any::type_name::<T>()).into())
}
