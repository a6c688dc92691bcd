//! Any readable recording written as a folder of scans that lidarflow and other tools read:
//! `000000.EXT`, `000001.EXT`, … in scan order, `times.txt` with each scan's stamp in
//! seconds, and `poses.txt` (KITTI 3x4) when the recording has reference poses.

use super::source::ScanSource;
use crate::error::{Error, Result};
use crate::io::atomic;
use crate::io::trajectory::{self, Trajectory};
use std::fmt::Write as _;
use std::path::Path;

/// What a conversion wrote.
#[derive(Debug, Clone, Default)]
pub struct Converted {
    /// Scans written.
    pub scans: usize,
    /// Points written, over all scans.
    pub points: usize,
    /// Warnings the source gave while it was read.
    pub warnings: Vec<String>,
}

/// Writes every scan of `source` into `out` (created if needed) as `NNNNNN.ext`, with
/// `times.txt` (and `poses.txt` when every scan has a reference pose). `ext` is one of the
/// scan extensions lidarflow writes (`bin`, `pcd`, `ply`, `las`, `laz`). When the source
/// fails part way, the scans written so far and their `times.txt` are kept, and the error is
/// returned. `progress` is called after every scan with the count written.
pub fn convert(
    source: &mut dyn ScanSource,
    out: &Path,
    ext: &str,
    mut progress: impl FnMut(usize),
) -> Result<Converted> {
    crate::io::ScanFormat::from_path(Path::new(&format!("x.{ext}")))?;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut done = Converted::default();
    let mut times = String::new();
    let mut reference = Trajectory::default();
    let mut all_referenced = true;
    let result = loop {
        let next = source.next_scan();
        done.warnings.extend(source.take_warnings());
        let scan = match next {
            None => break Ok(()),
            Some(Err(e)) => break Err(e),
            Some(Ok(scan)) => scan,
        };
        let path = out.join(format!("{:06}.{ext}", done.scans));
        if let Err(e) = crate::io::write_scan(&path, &scan.cloud) {
            break Err(e);
        }
        let _ = writeln!(times, "{:.9}", scan.cloud.stamp);
        match scan.reference {
            Some(pose) => {
                reference.stamps.push(scan.cloud.stamp);
                reference.poses.push(pose);
            }
            None => all_referenced = false,
        }
        done.scans += 1;
        done.points += scan.cloud.len();
        progress(done.scans);
    };
    done.warnings.extend(source.take_warnings());
    atomic::write_bytes(&out.join("times.txt"), times.as_bytes())?;
    if all_referenced && !reference.is_empty() {
        trajectory::write_kitti(&out.join("poses.txt"), &reference)?;
    }
    result.map(|()| done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recordings::{folder, FileSource};

    #[test]
    fn a_folder_round_trips_with_times_and_poses() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        let params = crate::recordings::synth::SynthParams {
            frames: 3,
            ..Default::default()
        };
        crate::recordings::synth::write(&src, &params).unwrap();
        let mut source = FileSource::new(folder::open(&src).unwrap(), "folder of scans");
        let out = dir.path().join("out");
        let done = convert(&mut source, &out, "pcd", |_| {}).unwrap();
        assert_eq!(done.scans, 3);
        let back = folder::open(&out).unwrap();
        let orig = folder::open(&src).unwrap();
        assert_eq!(back.len(), 3);
        for (a, b) in back.stamps().iter().zip(orig.stamps()) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        let (a, b) = (back.read(2).unwrap().cloud, orig.read(2).unwrap().cloud);
        assert_eq!(a.len(), b.len());
        assert_eq!(a.time().is_some(), b.time().is_some());
        assert!(back.reference().is_some());
    }

    #[test]
    fn an_unknown_format_is_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("0.bin"), [0u8; 16]).unwrap();
        let mut source = FileSource::new(folder::open(&src).unwrap(), "folder of scans");
        let out = dir.path().join("out");
        assert!(convert(&mut source, &out, "xyz", |_| {}).is_err());
        assert!(!out.exists());
    }
}
