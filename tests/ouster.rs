//! Ouster captures against the vendor SDK's own decode (`sdk-xyz/` beside each fixture), and
//! damaged captures and metadata read without panics or hangs.

mod common;

use lidarflow::recordings::{self, OpenOptions, ScanSource, SourceScan};
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};

/// A fixture: folder, capture and metadata file names.
struct Fixture {
    dir: PathBuf,
    pcap: PathBuf,
    json: PathBuf,
}

fn fixture(name: &str) -> Option<Fixture> {
    let dir = common::shared_dataset(&format!("recordings/{name}"))?;
    let find = |ext: &str| {
        std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().and_then(|e| e.to_str()) == Some(ext))
            .unwrap()
    };
    Some(Fixture {
        pcap: find("pcap"),
        json: find("json"),
        dir,
    })
}

/// One line of `sdk-xyz/frames.txt`: frame index, frame id, points, column time span (ms).
struct SdkFrame {
    index: usize,
    frame_id: u16,
    points: usize,
    span_ms: f64,
}

fn sdk_frames(dir: &Path) -> Vec<SdkFrame> {
    let text = std::fs::read_to_string(dir.join("sdk-xyz/frames.txt")).unwrap();
    text.lines()
        .filter(|l| l.starts_with("frame "))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let after = |key: &str| w[w.iter().position(|x| *x == key).unwrap() + 1];
            SdkFrame {
                index: w[1].parse().unwrap(),
                frame_id: after("frame_id").parse().unwrap(),
                points: after("points").parse().unwrap(),
                span_ms: after("span_ms").parse().unwrap(),
            }
        })
        .collect()
}

fn sdk_xyz(dir: &Path, index: usize) -> Vec<[f32; 3]> {
    let bytes = std::fs::read(dir.join(format!("sdk-xyz/xyz_frame{index}.bin"))).unwrap();
    bytes
        .chunks_exact(12)
        .map(|c| {
            let f = |i: usize| f32::from_le_bytes(c[i..i + 4].try_into().unwrap());
            [f(0), f(4), f(8)]
        })
        .collect()
}

fn read_all(source: &mut dyn ScanSource) -> Vec<SourceScan> {
    let mut out = Vec::new();
    while let Some(s) = source.next_scan() {
        out.push(s.unwrap());
    }
    out
}

/// Every complete frame matches the SDK's points one for one (in the SDK's beam-major
/// order: by ring, then column time); returns the largest and RMS distance over all frames.
fn check_against_sdk(f: &Fixture) -> (f64, f64) {
    let mut source = recordings::open(&f.pcap, &OpenOptions::default()).unwrap();
    assert_eq!(source.info().kind, "Ouster capture");
    let scans = read_all(&mut *source);
    let frames = sdk_frames(&f.dir);
    assert!(!frames.is_empty());
    // The SDK's complete frames are the only scans not marked partial.
    let complete: Vec<&str> = scans
        .iter()
        .filter(|s| !s.partial)
        .map(|s| s.label.as_str())
        .collect();
    assert_eq!(complete.len(), frames.len(), "complete scans: {complete:?}");
    let (mut max, mut sum2, mut n) = (0f64, 0f64, 0usize);
    for frame in &frames {
        let label = format!("frame {}", frame.frame_id);
        let scan = scans
            .iter()
            .find(|s| s.label.ends_with(&label))
            .unwrap_or_else(|| panic!("no scan of {label} among {} scans", scans.len()));
        assert!(!scan.partial, "{label} is complete in the SDK's decode");
        let cloud = &scan.cloud;
        assert_eq!(cloud.len(), frame.points, "{label}: points");
        let (ring, time) = (cloud.ring().unwrap(), cloud.time().unwrap());
        let span = time.iter().cloned().fold(0f32, f32::max) as f64 * 1e3;
        assert!(
            (span - frame.span_ms).abs() < 0.01,
            "{label}: span {span} ms"
        );
        let mut order: Vec<usize> = (0..cloud.len()).collect();
        order.sort_by(|&a, &b| ring[a].cmp(&ring[b]).then(time[a].total_cmp(&time[b])));
        let sdk = sdk_xyz(&f.dir, frame.index);
        assert_eq!(sdk.len(), frame.points);
        for (i, &k) in order.iter().enumerate() {
            let p = cloud.points()[k];
            let q = sdk[i];
            let d = ((p.x - q[0] as f64).powi(2)
                + (p.y - q[1] as f64).powi(2)
                + (p.z - q[2] as f64).powi(2))
            .sqrt();
            max = max.max(d);
            sum2 += d * d;
            n += 1;
        }
    }
    let rms = (sum2 / n as f64).sqrt();
    eprintln!(
        "{}: {} points in {} frames against sdk-xyz: max {:.3e} m, RMS {:.3e} m",
        f.pcap.display(),
        n,
        frames.len(),
        max,
        rms
    );
    (max, rms)
}

#[test]
fn os1_128_low_bandwidth_matches_the_sdk() {
    let Some(f) = fixture("ouster-os1-128") else {
        return;
    };
    let (max, rms) = check_against_sdk(&f);
    // float32 coordinates of points up to ~100 m: a few micrometres of rounding.
    assert!(max < 1e-3, "max {max} m");
    assert!(rms < 1e-4, "RMS {rms} m");
    let source = recordings::open(&f.pcap, &OpenOptions::default()).unwrap();
    let details = &source.info().details;
    let get = |k: &str| {
        details
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(get("sensor"), "OS-1-128");
    assert_eq!(get("profile"), "RNG15_RFL8_NIR8");
    assert_eq!(get("lidar mode"), "1024x10");
    assert_eq!(get("UDP lidar port"), "7502");
    assert!(get("firmware").contains("2.3.0"));
}

#[test]
fn os1_64_legacy_matches_the_sdk() {
    let Some(f) = fixture("ouster-os1-64-legacy") else {
        return;
    };
    let (max, rms) = check_against_sdk(&f);
    assert!(max < 1e-3, "max {max} m");
    assert!(rms < 1e-4, "RMS {rms} m");
}

/// A copy of the fixture's capture (cut or altered by `edit`) and metadata in a temporary
/// folder.
fn altered(f: &Fixture, dir: &Path, edit: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(&f.pcap).unwrap();
    edit(&mut bytes);
    let pcap = dir.join("capture.pcap");
    std::fs::write(&pcap, bytes).unwrap();
    std::fs::copy(&f.json, dir.join("capture.json")).unwrap();
    pcap
}

/// Reads whatever can be read, never more scans than the capture could hold; returns the
/// scans and the complete ones among them.
fn read_whatever(pcap: &Path) -> (usize, usize) {
    let Ok(mut source) = recordings::open(pcap, &OpenOptions::default()) else {
        return (0, 0);
    };
    let (mut n, mut complete) = (0, 0);
    while let Some(s) = source.next_scan() {
        let Ok(s) = s else {
            break;
        };
        n += 1;
        complete += usize::from(!s.partial);
        assert!(n < 10_000, "the stream does not end");
    }
    (n, complete)
}

#[test]
fn a_capture_cut_short_gives_the_frames_before_the_cut() {
    let Some(f) = fixture("ouster-os1-128") else {
        return;
    };
    let full = read_whatever(&f.pcap).0;
    let dir = tempfile::tempdir().unwrap();
    let len = std::fs::metadata(&f.pcap).unwrap().len() as usize;
    let pcap = altered(&f, dir.path(), |b| b.truncate(len * 4 / 5 + 7));
    let mut source = recordings::open(&pcap, &OpenOptions::default()).unwrap();
    let scans = read_all(&mut *source);
    assert!(!scans.is_empty() && scans.len() <= full);
    assert!(scans.last().unwrap().partial, "the cut frame is partial");
    let warnings = source.take_warnings();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("cut short") || w.contains("ends")),
        "{warnings:?}"
    );
}

#[test]
fn truncated_and_flipped_captures_never_panic() {
    for name in ["ouster-os1-128", "ouster-os1-64-legacy"] {
        let Some(f) = fixture(name) else {
            return;
        };
        let len = std::fs::metadata(&f.pcap).unwrap().len() as usize;
        let dir = tempfile::tempdir().unwrap();
        let whole = read_whatever(&f.pcap).1;
        let mut complete_before = 0;
        for k in 0..24 {
            let cut = len * k / 24 + k * 13;
            let pcap = altered(&f, dir.path(), |b| b.truncate(cut.min(len)));
            // A longer piece of the capture never holds fewer complete rotations.
            let complete = read_whatever(&pcap).1;
            assert!(
                complete >= complete_before && complete <= whole,
                "{name} cut at {cut}: {complete} complete scans"
            );
            complete_before = complete;
        }
        assert!(
            complete_before + 1 >= whole,
            "{name}: the last cut keeps the rotations before it"
        );
        for seed in 0..12u64 {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let pcap = altered(&f, dir.path(), |b| {
                for _ in 0..40 {
                    let i = rng.random_range(0..b.len());
                    b[i] ^= 1 << rng.random_range(0..8);
                }
            });
            read_whatever(&pcap);
        }
    }
}

#[test]
fn damaged_metadata_never_panics() {
    let Some(f) = fixture("ouster-os1-128") else {
        return;
    };
    let json = std::fs::read(&f.json).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("c.pcap");
    std::fs::copy(&f.pcap, &pcap).unwrap();
    for seed in 0..40u64 {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut j = json.clone();
        for _ in 0..3 {
            let i = rng.random_range(0..j.len());
            j[i] = b"0123456789-[]{},.\"ex "[rng.random_range(0..21)];
        }
        let cut = rng.random_range(j.len() / 2..=j.len());
        j.truncate(cut);
        std::fs::write(dir.path().join("c.json"), &j).unwrap();
        read_whatever(&pcap);
    }
}

#[test]
fn missing_metadata_says_how_to_give_it() {
    let Some(f) = fixture("ouster-os1-64-legacy") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("lonely.pcap");
    std::fs::copy(&f.pcap, &pcap).unwrap();
    let e = recordings::open(&pcap, &OpenOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("lonely.pcap") && e.contains("--set METADATA="),
        "{e}"
    );
    // Given, it is read from anywhere.
    let options = OpenOptions {
        metadata: Some(f.json.clone()),
        ..OpenOptions::default()
    };
    let mut source = recordings::open(&pcap, &options).unwrap();
    assert!(source.next_scan().unwrap().is_ok());
}

#[test]
fn metadata_of_another_sensor_names_what_the_capture_holds() {
    let (Some(legacy), Some(lb)) = (fixture("ouster-os1-64-legacy"), fixture("ouster-os1-128"))
    else {
        return;
    };
    let options = OpenOptions {
        metadata: Some(lb.json.clone()),
        ..OpenOptions::default()
    };
    let e = recordings::open(&legacy.pcap, &options)
        .err()
        .unwrap()
        .to_string();
    // The legacy capture's 12608-byte packets, and what the metadata expected.
    assert!(
        e.contains("os1-64.pcap") && e.contains("12608 bytes"),
        "{e}"
    );
    assert!(e.contains("RNG15_RFL8_NIR8"), "{e}");
}

#[test]
fn metadata_missing_a_field_names_it() {
    let Some(f) = fixture("ouster-os1-128") else {
        return;
    };
    let text = std::fs::read_to_string(&f.json).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v.as_object_mut().unwrap().remove("beam_azimuth_angles");
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("broken.json");
    std::fs::write(&json, v.to_string()).unwrap();
    let options = OpenOptions {
        metadata: Some(json),
        ..OpenOptions::default()
    };
    let e = recordings::open(&f.pcap, &options)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("broken.json") && e.contains("beam_azimuth_angles"),
        "{e}"
    );
}
