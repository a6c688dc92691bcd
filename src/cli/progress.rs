//! Progress of long work: a bar with count, rate and ETA on a terminal, a plain line every
//! few seconds otherwise (logs, CI).

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Shows `counter` growing towards `total` (when known) until the returned guard drops.
pub(crate) fn show(counter: Arc<AtomicUsize>, total: Option<usize>, unit: &'static str) -> Guard {
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    let handle = std::thread::spawn(move || {
        let start = Instant::now();
        if std::io::stderr().is_terminal() {
            let bar = match total {
                Some(n) => ProgressBar::new(n as u64).with_style(
                    ProgressStyle::with_template(&format!(
                        "{{bar:40}} {{pos}}/{{len}} {unit}, {{per_sec}}, ETA {{eta}}"
                    ))
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                ),
                None => ProgressBar::new_spinner().with_style(
                    ProgressStyle::with_template(&format!(
                        "{{spinner}} {{pos}} {unit}, {{per_sec}}"
                    ))
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                ),
            };
            while !flag.load(Ordering::Relaxed) {
                bar.set_position(counter.load(Ordering::Relaxed) as u64);
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        } else {
            let mut last = Instant::now();
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if last.elapsed() >= Duration::from_secs(5) {
                    last = Instant::now();
                    let n = counter.load(Ordering::Relaxed);
                    let rate = n as f64 / start.elapsed().as_secs_f64();
                    let of = total.map_or(String::new(), |t| format!("/{t}"));
                    eprintln!("progress: {n}{of} {unit}, {rate:.1} {unit}/s");
                }
            }
        }
    });
    Guard {
        done,
        handle: Some(handle),
    }
}

/// Stops the display when dropped.
pub(crate) struct Guard {
    done: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
