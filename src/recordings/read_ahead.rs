//! A bag container read on a thread of its own, a few messages ahead of the caller, so that
//! reading the file (decompressing its chunks) and decoding its messages into scans run side
//! by side instead of one after the other.
//!
//! At most [`AHEAD`] messages wait in the channel, so memory stays bounded by a few messages
//! plus the container's own chunk. Warnings travel in order with the messages. Dropping the
//! [`ReadAhead`] ends the thread at its next send.

use super::bag::{BagContainer, BagMessage};
use crate::error::{Error, Result};
use crossbeam_channel::{bounded, Receiver};

/// Messages read ahead of the caller.
pub const AHEAD: usize = 2;

enum Fetched {
    Message(Result<BagMessage>),
    Warnings(Vec<String>),
}

/// The messages of a container's selected topic, read on a background thread.
pub struct ReadAhead {
    from: Receiver<Fetched>,
    warnings: Vec<String>,
    done: bool,
}

impl ReadAhead {
    /// Starts reading `container` (its topic already selected) on a thread of its own.
    pub fn start(mut container: Box<dyn BagContainer>) -> Result<ReadAhead> {
        let path = container.path().to_path_buf();
        let (to, from) = bounded(AHEAD);
        std::thread::Builder::new()
            .name("bag-read-ahead".to_string())
            .spawn(move || loop {
                let next = container.next_message();
                let warnings = container.take_warnings();
                if !warnings.is_empty() && to.send(Fetched::Warnings(warnings)).is_err() {
                    return;
                }
                let Some(message) = next else { return };
                let failed = message.is_err();
                if to.send(Fetched::Message(message)).is_err() || failed {
                    return;
                }
            })
            .map_err(|e| Error::io(&path, e))?;
        Ok(ReadAhead {
            from,
            warnings: Vec::new(),
            done: false,
        })
    }

    /// The next message, as [`BagContainer::next_message`] gives it.
    pub fn next_message(&mut self) -> Option<Result<BagMessage>> {
        while !self.done {
            match self.from.recv() {
                Ok(Fetched::Warnings(mut w)) => self.warnings.append(&mut w),
                Ok(Fetched::Message(m)) => return Some(m),
                Err(_) => self.done = true,
            }
        }
        None
    }

    /// Warnings the container gave with the messages delivered so far.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recordings::bag::TopicInfo;
    use std::path::Path;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// Five messages, a warning after the second, then an error or the end.
    struct Counting {
        next: u64,
        fail_at_end: bool,
        warnings: Vec<String>,
        read: Arc<AtomicUsize>,
    }

    impl BagContainer for Counting {
        fn path(&self) -> &Path {
            Path::new("counting.bag")
        }
        fn kind(&self) -> String {
            "test".into()
        }
        fn details(&self) -> Vec<(String, String)> {
            Vec::new()
        }
        fn topics(&self) -> &[TopicInfo] {
            &[]
        }
        fn select(&mut self, _topic: &str) -> Result<()> {
            Ok(())
        }
        fn next_message(&mut self) -> Option<Result<BagMessage>> {
            self.read.fetch_add(1, Ordering::SeqCst);
            self.next += 1;
            if self.next == 3 {
                self.warnings.push("after the second".into());
            }
            match self.next {
                1..=5 => Some(Ok(BagMessage {
                    time_ns: self.next,
                    data: vec![self.next as u8],
                })),
                6 if self.fail_at_end => Some(Err(Error::format(self.path(), "broken"))),
                _ => None,
            }
        }
        fn take_warnings(&mut self) -> Vec<String> {
            std::mem::take(&mut self.warnings)
        }
    }

    fn counting(fail_at_end: bool) -> (Box<dyn BagContainer>, Arc<AtomicUsize>) {
        let read = Arc::new(AtomicUsize::new(0));
        let c = Counting {
            next: 0,
            fail_at_end,
            warnings: Vec::new(),
            read: read.clone(),
        };
        (Box::new(c), read)
    }

    #[test]
    fn messages_and_warnings_arrive_in_order_and_an_error_ends_the_stream() {
        for fail in [false, true] {
            let (c, _) = counting(fail);
            let mut r = ReadAhead::start(c).unwrap();
            let mut times = Vec::new();
            let mut warned_after = None;
            let mut error = false;
            while let Some(m) = r.next_message() {
                match m {
                    Ok(m) => times.push(m.time_ns),
                    Err(_) => error = true,
                }
                if warned_after.is_none() && !r.take_warnings().is_empty() {
                    warned_after = times.last().copied();
                }
            }
            assert_eq!(times, vec![1, 2, 3, 4, 5]);
            assert_eq!(error, fail);
            // The warning came with the third message, not before the second.
            assert_eq!(warned_after, Some(3));
            assert!(r.next_message().is_none());
        }
    }

    #[test]
    fn reading_stays_a_bounded_number_of_messages_ahead() {
        let (c, read) = counting(false);
        let mut r = ReadAhead::start(c).unwrap();
        assert!(r.next_message().is_some());
        std::thread::sleep(std::time::Duration::from_millis(200));
        // One delivered, AHEAD waiting, one more read and blocked on the full channel.
        assert!(read.load(Ordering::SeqCst) <= 2 + AHEAD, "{read:?}");
    }
}
