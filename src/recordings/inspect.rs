//! What `lidarflow info` reports about a recording: counts, fields, time span, reference
//! poses, and, on request, every scan that cannot be read.

use super::recording::Recording;
use super::source::ScanSource;
use rayon::prelude::*;
use std::collections::BTreeSet;

/// Figures about a recording.
#[derive(Debug, Clone)]
pub struct RecordingInfo {
    /// Number of scans.
    pub scans: usize,
    /// Scans actually read for the point figures.
    pub scans_read: usize,
    /// Fewest, mean and most points over the scans read.
    pub points: Option<(usize, f64, usize)>,
    /// Union of the fields present in the scans read.
    pub fields: Vec<String>,
    /// Non-finite points dropped while reading.
    pub dropped_non_finite: usize,
    /// Scans that were read and held no valid point.
    pub empty_scans: Vec<usize>,
    /// First and last stamp, seconds.
    pub time_span: (f64, f64),
    /// Reference poses: count and path length (m), when present.
    pub reference: Option<(usize, f64)>,
    /// Scans that failed to read, with the error.
    pub bad: Vec<(usize, String)>,
}

/// Reads every scan when `check_all`, else up to `sample` scans spread over the recording.
pub fn inspect(rec: &Recording, check_all: bool, sample: usize) -> RecordingInfo {
    let n = rec.len();
    let indices: Vec<usize> = if check_all || n <= sample {
        (0..n).collect()
    } else {
        let mut v: Vec<usize> = (0..sample)
            .map(|k| k * (n - 1) / (sample - 1).max(1))
            .collect();
        v.dedup();
        v
    };
    /// Points, dropped points and field names of a scan, or why it could not be read.
    type ScanFigures = Result<(usize, usize, Vec<&'static str>), String>;
    let results: Vec<(usize, ScanFigures)> = indices
        .par_iter()
        .map(|&i| {
            (
                i,
                rec.read(i)
                    .map(|s| (s.cloud.len(), s.dropped_non_finite, s.cloud.field_names()))
                    .map_err(|e| e.to_string()),
            )
        })
        .collect();
    let mut info = RecordingInfo {
        scans: n,
        scans_read: 0,
        points: None,
        fields: Vec::new(),
        dropped_non_finite: 0,
        empty_scans: Vec::new(),
        time_span: (
            rec.stamps().first().copied().unwrap_or(0.0),
            rec.stamps().last().copied().unwrap_or(0.0),
        ),
        reference: rec.reference().map(|r| (r.len(), r.path_length())),
        bad: Vec::new(),
    };
    let mut fields = BTreeSet::new();
    let (mut min, mut max, mut sum) = (usize::MAX, 0, 0usize);
    for (i, r) in results {
        match r {
            Ok((points, dropped, names)) => {
                info.scans_read += 1;
                min = min.min(points);
                max = max.max(points);
                sum += points;
                info.dropped_non_finite += dropped;
                if points == 0 {
                    info.empty_scans.push(i);
                }
                fields.extend(names);
            }
            Err(e) => info.bad.push((i, e)),
        }
    }
    if info.scans_read > 0 {
        info.points = Some((min, sum as f64 / info.scans_read as f64, max));
    }
    // x y z first, as the cloud lists them.
    info.fields = ["x", "y", "z", "intensity", "t", "ring"]
        .iter()
        .filter(|f| fields.contains(*f))
        .map(|f| f.to_string())
        .collect();
    info
}

/// Figures about a streamed recording (a bag, a capture, a log), read scan by scan.
#[derive(Debug, Clone, Default)]
pub struct StreamInfo {
    /// Scans read.
    pub scans_read: usize,
    /// True when every scan was read (the stream ended, or failed).
    pub complete: bool,
    /// Fewest, mean and most points over the scans read.
    pub points: Option<(usize, f64, usize)>,
    /// Union of the fields present in the scans read.
    pub fields: Vec<String>,
    /// The per-point time fields found, with the longest span of per-point times in a scan
    /// (seconds).
    pub time_fields: Vec<(String, f64)>,
    /// Points dropped while decoding (non-finite, or no return).
    pub dropped: usize,
    /// Scans that are rotations cut short by the recording's start or end.
    pub partial: Vec<usize>,
    /// Scans with no valid point.
    pub empty_scans: Vec<usize>,
    /// First and last stamp of the scans read, seconds.
    pub time_span: Option<(f64, f64)>,
    /// Scans whose stamp is not after the previous scan's.
    pub backwards: usize,
    /// The warnings the source gave.
    pub warnings: Vec<String>,
    /// The error that ended the stream, if one did.
    pub error: Option<String>,
}

/// Reads up to `limit` scans of `source` (all with `None`) and gathers their figures.
pub fn inspect_stream(source: &mut dyn ScanSource, limit: Option<usize>) -> StreamInfo {
    let mut info = StreamInfo::default();
    let mut fields = BTreeSet::new();
    let (mut min, mut max, mut sum) = (usize::MAX, 0, 0usize);
    let mut previous: Option<f64> = None;
    loop {
        if limit.is_some_and(|n| info.scans_read >= n) {
            break;
        }
        let next = source.next_scan();
        info.warnings.extend(source.take_warnings());
        let scan = match next {
            None => {
                info.complete = true;
                break;
            }
            Some(Err(e)) => {
                info.complete = true;
                info.error = Some(e.to_string());
                break;
            }
            Some(Ok(scan)) => scan,
        };
        let i = info.scans_read;
        info.scans_read += 1;
        let n = scan.cloud.len();
        min = min.min(n);
        max = max.max(n);
        sum += n;
        info.dropped += scan.dropped_non_finite;
        if n == 0 {
            info.empty_scans.push(i);
        }
        if scan.partial {
            info.partial.push(i);
        }
        fields.extend(scan.cloud.field_names());
        if let (Some(name), Some(t)) = (&scan.time_field, scan.cloud.time()) {
            let (lo, hi) = t
                .iter()
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &x| {
                    (a.min(x), b.max(x))
                });
            let span = if hi >= lo { (hi - lo) as f64 } else { 0.0 };
            match info.time_fields.iter_mut().find(|(f, _)| f == name) {
                Some((_, s)) => *s = s.max(span),
                None => info.time_fields.push((name.clone(), span)),
            }
        }
        let stamp = scan.cloud.stamp;
        if previous.is_some_and(|p| stamp <= p) {
            info.backwards += 1;
        }
        previous = Some(stamp);
        info.time_span = Some(match info.time_span {
            None => (stamp, stamp),
            Some((a, b)) => (a.min(stamp), b.max(stamp)),
        });
    }
    info.warnings.extend(source.take_warnings());
    if info.scans_read > 0 {
        info.points = Some((min, sum as f64 / info.scans_read as f64, max));
    }
    info.fields = ["x", "y", "z", "intensity", "t", "ring"]
        .iter()
        .filter(|f| fields.contains(*f))
        .map(|f| f.to_string())
        .collect();
    info
}
