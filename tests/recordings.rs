//! Every kind of recording lidarflow reads, damaged the ways files get damaged: each shared
//! fixture cut short at many points and with bytes flipped at random, then opened through
//! `recordings::open` and read to the end. None of these inputs may panic or hang; an input
//! either fails with an error naming the file, or yields scans (and, when cut, a warning).
//! A bounded property test: fixed seeds, so a failure reproduces.

mod common;

use common::shared_dataset;
use lidarflow::recordings::{self, OpenOptions};
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// Cut points and flipped copies tried per fixture.
const CUTS: usize = 16;
const FLIPS: usize = 16;
/// Longest any one damaged input may take to read before it counts as a hang.
const HANG: Duration = Duration::from_secs(60);

/// A fixture: the file that is damaged, and the files copied beside it untouched (an
/// Ouster capture's metadata, a ROS 2 bag's metadata.yaml).
struct Fixture {
    file: PathBuf,
    beside: Vec<PathBuf>,
}

fn fixtures() -> Option<Vec<Fixture>> {
    let rec = shared_dataset("recordings")?;
    let carmen = shared_dataset("freiburg-mit-csail-2d")?;
    let f = |file: PathBuf, beside: Vec<PathBuf>| Fixture { file, beside };
    Some(vec![
        f(rec.join("ros1-luminar/test.bag"), vec![]),
        f(rec.join("ros2-luminar-db3/ros2-luminar-db3.db3"), vec![]),
        f(rec.join("ros2-luminar-mcap/ros2-luminar-mcap.mcap"), vec![]),
        f(
            rec.join("velodyne-vlp16-ros2/bag/1673400471837873222_0.db3"),
            vec![rec.join("velodyne-vlp16-ros2/bag/metadata.yaml")],
        ),
        f(
            rec.join("ouster-os1-128/OS-1-128_v2.3.0_1024x10_lb_n3.pcap"),
            vec![rec.join("ouster-os1-128/OS-1-128_v2.3.0_1024x10_lb_n3.json")],
        ),
        f(
            rec.join("ouster-os1-64-legacy/os1-64.pcap"),
            vec![rec.join("ouster-os1-64-legacy/os1-64.json")],
        ),
        f(rec.join("velodyne-pcap/vlp16.pcap"), vec![]),
        f(rec.join("velodyne-pcap/hdl32.pcap"), vec![]),
        f(carmen.join("mit-csail.clf"), vec![]),
    ])
}

/// What reading a damaged input came to.
#[derive(Debug)]
enum Outcome {
    /// It opened and delivered this many scans before its stream ended.
    Read { scans: usize, warnings: usize },
    /// It would not open, or a scan was an error: the message.
    Error(String),
}

/// Opens and reads `path` on another thread, so that a hang is reported as one rather than
/// stalling the test run; a panic there surfaces as a failure naming the input.
fn read_guarded(path: &Path, what: &str) -> Outcome {
    let (tx, rx) = mpsc::channel();
    let p = path.to_path_buf();
    let handle = std::thread::spawn(move || {
        let outcome = match recordings::open(&p, &OpenOptions::default()) {
            Err(e) => Outcome::Error(e.to_string()),
            Ok(mut source) => {
                let mut scans = 0;
                let mut error = None;
                while let Some(s) = source.next_scan() {
                    match s {
                        Ok(_) => scans += 1,
                        Err(e) => {
                            error = Some(e.to_string());
                            break;
                        }
                    }
                    assert!(scans < 100_000, "runaway stream");
                }
                let warnings = source.take_warnings().len();
                match error {
                    Some(e) => Outcome::Error(e),
                    None => Outcome::Read { scans, warnings },
                }
            }
        };
        let _ = tx.send(outcome);
    });
    match rx.recv_timeout(HANG) {
        Ok(outcome) => {
            let _ = handle.join();
            outcome
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let panic = handle.join().err().map(|p| {
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            });
            panic!("{what}: the reader panicked: {panic:?}")
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still reading after {HANG:?}"),
    }
}

/// Copies the fixture's companions into `dir` and writes `bytes` under the fixture's name.
fn stage(dir: &Path, fixture: &Fixture, bytes: &[u8]) -> PathBuf {
    for b in &fixture.beside {
        std::fs::copy(b, dir.join(b.file_name().unwrap())).unwrap();
    }
    let path = dir.join(fixture.file.file_name().unwrap());
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn every_fixture_cut_short_or_flipped_never_panics_or_hangs() {
    let Some(fixtures) = fixtures() else { return };
    let mut rng = rand::rngs::StdRng::seed_from_u64(19);
    for fixture in &fixtures {
        let bytes = std::fs::read(&fixture.file).unwrap();
        let name = fixture.file.display().to_string();
        let dir = tempfile::tempdir().unwrap();

        // Whole, it reads without error: the damage below is what any failure is about.
        let whole = stage(dir.path(), fixture, &bytes);
        let full = match read_guarded(&whole, &name) {
            Outcome::Read { scans, .. } => scans,
            Outcome::Error(e) => panic!("{name} whole: {e}"),
        };
        assert!(full > 0, "{name}: no scans");

        let mut delivered_when_cut = 0;
        for k in 1..=CUTS {
            // Cuts spread over the file, each nudged off any record boundary.
            let at = (bytes.len() * k / (CUTS + 1) + rng.random_range(0..64)).min(bytes.len());
            let path = stage(dir.path(), fixture, &bytes[..at]);
            let what = format!("{name} cut at byte {at}");
            match read_guarded(&path, &what) {
                Outcome::Read { scans, warnings } => {
                    assert!(scans <= full + 1, "{what}: {scans} scans of {full}");
                    delivered_when_cut += scans;
                    // Read up to the cut, and a warning says the file ends early.
                    assert!(
                        at == bytes.len() || warnings > 0,
                        "{what}: {scans} scans and no warning"
                    );
                }
                Outcome::Error(e) => {
                    assert!(
                        e.contains(fixture.file.file_name().unwrap().to_str().unwrap())
                            || e.contains(dir.path().to_str().unwrap()),
                        "{what}: the error does not name the file: {e}"
                    );
                }
            }
        }
        // Files cut in their second half still deliver what came before the cut (the
        // sqlite3 files are the exception: a cut database has no readable pages index).
        if !name.ends_with(".db3") {
            assert!(
                delivered_when_cut > 0,
                "{name}: no cut copy delivered any scan"
            );
        }

        for k in 0..FLIPS {
            let mut damaged = bytes.clone();
            for _ in 0..8 {
                let i = rng.random_range(0..damaged.len());
                damaged[i] ^= 1 << rng.random_range(0..8);
            }
            let path = stage(dir.path(), fixture, &damaged);
            let what = format!("{name} flipped copy {k}");
            if let Outcome::Error(e) = read_guarded(&path, &what) {
                assert!(!e.is_empty(), "{what}: an empty error");
            }
        }
    }
}
