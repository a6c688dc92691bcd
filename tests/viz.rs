//! The rerun viewer block: a run saved with `--viz save=FILE.rrd` holds the entity paths
//! and timelines the README documents, read back with rerun's own decoder.
#![cfg(feature = "viz")]

mod common;

use lidarflow::recordings::synth::{self, SynthParams};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

#[test]
fn a_saved_recording_holds_the_documented_entities() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synth::write(
        &data,
        &SynthParams {
            profile: "aggressive".into(),
            frames: 12,
            rings: 16,
            ..SynthParams::default()
        },
    )
    .unwrap();
    let rrd = dir.path().join("run.rrd");
    let pipeline = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("pipelines/lidar3d-default.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_lidarflow"))
        .arg("run")
        .arg(&pipeline)
        .arg("--dataset")
        .arg(&data)
        .arg("--output")
        .arg(dir.path().join("out"))
        .arg("--viz")
        .arg(format!("save={}", rrd.display()))
        .output()
        .unwrap();
    common::ok(&out);

    let reader = std::io::BufReader::new(std::fs::File::open(&rrd).unwrap());
    let (mut paths, mut timelines) = (BTreeSet::new(), BTreeSet::new());
    let mut scan_rows = 0;
    for msg in re_log_encoding::DecoderApp::decode_lazy(reader) {
        if let re_log_types::LogMsg::ArrowMsg(_, arrow) = msg.unwrap() {
            let chunk = re_chunk::Chunk::from_arrow_msg(&arrow).unwrap();
            let path = chunk
                .entity_path()
                .to_string()
                .trim_start_matches('/')
                .to_string();
            if path == "world/sensor/scan" {
                scan_rows += chunk.num_rows();
            }
            paths.insert(path);
            timelines.extend(chunk.timelines().keys().map(|t| t.to_string()));
        }
    }
    for expected in [
        "world/sensor",
        "world/sensor/scan",
        "world/local_map",
        "world/trajectory",
        "world/reference",
        "world/keyframes",
        "metrics/ms/preprocess",
        "metrics/ms/registration",
        "metrics/ms/map_update",
        "metrics/ms/total",
        "metrics/iterations",
        "metrics/correspondences",
        "metrics/speed",
        "metrics/twist/vx",
        "metrics/twist/wz",
    ] {
        assert!(paths.contains(expected), "no `{expected}` in {paths:?}");
    }
    assert!(
        timelines.contains("scan") && timelines.contains("sensor_time"),
        "{timelines:?}"
    );
    assert_eq!(scan_rows, 12, "one scan logged per input scan");
}
