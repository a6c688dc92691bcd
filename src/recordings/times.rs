//! `times.txt`: one time per scan, seconds, in the first column of each line.

use crate::error::{Error, Result};
use std::path::Path;

/// Reads a times file, checking that times are finite and increase (the error names the
/// scan index and line where they do not).
pub fn read(path: &Path) -> Result<Vec<f64>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut times: Vec<f64> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let word = line.split_whitespace().next().unwrap_or_default();
        let t = word
            .parse::<f64>()
            .ok()
            .filter(|t| t.is_finite())
            .ok_or_else(|| {
                Error::line(path, i + 1, format!("'{word}' is not a time in seconds"))
            })?;
        if let Some(&prev) = times.last() {
            if t <= prev {
                return Err(Error::line(
                    path,
                    i + 1,
                    format!(
                        "time goes backwards at scan {}: {t} s is not after the previous scan's {prev} s",
                        times.len()
                    ),
                ));
            }
        }
        times.push(t);
    }
    Ok(times)
}

/// Checks that the file `path` gives one `noun` (time, pose) per scan: `count` of them for
/// `scans` scans.
pub fn check_one_per_scan(path: &Path, count: usize, noun: &str, scans: usize) -> Result<()> {
    if count != scans {
        return Err(Error::format(
            path,
            format!("{count} {noun}s for {scans} scans: there must be one {noun} per scan"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backwards_time_names_the_scan() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("times.txt");
        std::fs::write(&p, "0.0\n0.1\n0.3\n0.2\n").unwrap();
        let e = read(&p).unwrap_err().to_string();
        assert!(e.contains("times.txt:4") && e.contains("scan 3"), "{e}");
        std::fs::write(&p, "0.0\nabc\n").unwrap();
        assert!(read(&p).unwrap_err().to_string().contains("times.txt:2"));
        std::fs::write(&p, "1e9 x\n1.5e9 y\n").unwrap();
        assert_eq!(read(&p).unwrap(), vec![1e9, 1.5e9]);
    }
}
