//! A recording: an ordered list of scan files with a stamp each and, when known, reference
//! poses. Scans are read one at a time, on demand, so a recording of any length fits in
//! memory.

use super::source::{ScanSource, SourceInfo, SourceScan};
use crate::error::{Error, Result};
use crate::io::trajectory::Trajectory;
use crate::io::{read_scan, LoadedScan};
use std::path::{Path, PathBuf};

/// Where the stamps of a recording came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StampSource {
    /// A `times.txt` file.
    TimesFile,
    /// No times file: scans assumed 0.1 s apart (10 Hz).
    Assumed10Hz,
}

/// An ordered set of scans with stamps and optional reference poses.
#[derive(Debug, Clone)]
pub struct Recording {
    /// What the recording is called in messages (folder name, or KITTI sequence).
    pub name: String,
    /// Sensor label given to every scan.
    pub sensor: String,
    scans: Vec<PathBuf>,
    stamps: Vec<f64>,
    /// Where the stamps came from.
    pub stamp_source: StampSource,
    reference: Option<Trajectory>,
}

impl Recording {
    /// Assembles a recording from parts, checking that the counts agree.
    pub fn from_parts(
        name: String,
        sensor: String,
        scans: Vec<PathBuf>,
        stamps: Option<Vec<f64>>,
        reference: Option<Trajectory>,
    ) -> Result<Recording> {
        let (stamps, stamp_source) = match stamps {
            Some(s) => (s, StampSource::TimesFile),
            None => (
                (0..scans.len()).map(|i| i as f64 * 0.1).collect(),
                StampSource::Assumed10Hz,
            ),
        };
        if stamps.len() != scans.len() {
            return Err(Error::Invalid(format!(
                "{}: {} stamps for {} scans",
                name,
                stamps.len(),
                scans.len()
            )));
        }
        if let Some(r) = &reference {
            if r.len() != scans.len() {
                return Err(Error::Invalid(format!(
                    "{}: {} reference poses for {} scans: there must be one pose per scan",
                    name,
                    r.len(),
                    scans.len()
                )));
            }
        }
        Ok(Recording {
            name,
            sensor,
            scans,
            stamps,
            stamp_source,
            reference,
        })
    }

    /// Number of scans.
    pub fn len(&self) -> usize {
        self.scans.len()
    }

    /// True when there are no scans.
    pub fn is_empty(&self) -> bool {
        self.scans.is_empty()
    }

    /// File of scan `i`.
    pub fn scan_path(&self, i: usize) -> &Path {
        &self.scans[i]
    }

    /// Stamps of all scans, seconds.
    pub fn stamps(&self) -> &[f64] {
        &self.stamps
    }

    /// Reference poses (`T_world_lidar`, one per scan), when the recording has them.
    pub fn reference(&self) -> Option<&Trajectory> {
        self.reference.as_ref()
    }

    /// Reads scan `i` and gives it the recording's stamp and sensor label. (A file whose
    /// points carry absolute times has them relative to its earliest point.)
    pub fn read(&self, i: usize) -> Result<LoadedScan> {
        let mut scan = read_scan(&self.scans[i])?;
        scan.cloud.stamp = self.stamps[i];
        scan.cloud.sensor = self.sensor.clone();
        Ok(scan)
    }

    /// Iterates over the scans in order, reading each when asked.
    pub fn iter(&self) -> impl Iterator<Item = Result<LoadedScan>> + '_ {
        (0..self.len()).map(move |i| self.read(i))
    }
}

/// A [`Recording`] of scan files as a [`ScanSource`]: scans read one at a time, in order.
pub struct FileSource {
    recording: Recording,
    next: usize,
    info: SourceInfo,
}

impl FileSource {
    /// Streams `recording`, described as `kind` (`folder of scans`, `KITTI odometry`).
    pub fn new(recording: Recording, kind: &str) -> FileSource {
        let mut details = Vec::new();
        if let Some(first) = recording.scans.first() {
            if let Some(dir) = first.parent() {
                details.push(("scan files".to_string(), dir.display().to_string()));
            }
        }
        details.push((
            "stamps".to_string(),
            match recording.stamp_source {
                StampSource::TimesFile => "times.txt".to_string(),
                StampSource::Assumed10Hz => "none (scans assumed 0.1 s apart)".to_string(),
            },
        ));
        let info = SourceInfo {
            name: recording.name.clone(),
            kind: kind.to_string(),
            details,
            scan_count: Some(recording.len()),
            reference: recording.reference.clone(),
        };
        FileSource {
            recording,
            next: 0,
            info,
        }
    }

    /// The recording behind the stream.
    pub fn recording(&self) -> &Recording {
        &self.recording
    }
}

impl ScanSource for FileSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn next_scan(&mut self) -> Option<Result<SourceScan>> {
        if self.next >= self.recording.len() {
            return None;
        }
        let i = self.next;
        self.next += 1;
        Some(self.recording.read(i).map(|loaded| {
            let time_field = loaded.cloud.time().map(|_| "t".to_string());
            SourceScan {
                cloud: loaded.cloud,
                dropped_non_finite: loaded.dropped_non_finite,
                label: self.recording.scan_path(i).display().to_string(),
                reference: self
                    .recording
                    .reference()
                    .and_then(|r| r.poses.get(i).copied()),
                time_field,
                partial: false,
                odometry: None,
            }
        }))
    }

    fn skip_scans(&mut self, n: usize) -> Result<()> {
        self.next = (self.next + n).min(self.recording.len());
        Ok(())
    }
}
