//! `lidarflow eval`: pairing by line and by time, the figures of known errors, JSON output.

mod common;

use std::process::Command;

fn write(path: &std::path::Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn eval_scores_known_errors_in_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    // Reference: a straight line, 1 m per pose. Estimate: 2% short, so each step is off by
    // 2 cm and the last pose by 18 cm.
    let kitti = |x: f64| format!("1 0 0 {x} 0 1 0 0 0 0 1 0");
    let tum = |t: f64, x: f64| format!("{t} {x} 0 0 0 0 0 1");
    let (r, e) = (dir.path().join("ref.txt"), dir.path().join("est.txt"));
    write(&r, &(0..10).map(|i| kitti(i as f64)).collect::<Vec<_>>());
    write(
        &e,
        &(0..10).map(|i| kitti(0.98 * i as f64)).collect::<Vec<_>>(),
    );
    let json = dir.path().join("eval.json");
    let plot = dir.path().join("eval.png");
    let out = Command::new(env!("CARGO_BIN_EXE_lidarflow"))
        .args([
            "eval",
            r.to_str().unwrap(),
            e.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "--plot",
            plot.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let table = common::ok(&out);
    assert!(table.contains("10 pose pairs (paired by line)"), "{table}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let rpe = v["rpe_translation"]["max"].as_f64().unwrap();
    assert!((rpe - 0.02).abs() < 1e-9, "{rpe}");
    let ate = v["ate_origin"]["max"].as_f64().unwrap();
    assert!((ate - 0.18).abs() < 1e-9, "{ate}");
    // SE(3) alignment centres the error: the largest is half of the origin-aligned one.
    let se3 = v["ate_se3"]["max"].as_f64().unwrap();
    assert!((se3 - 0.09).abs() < 1e-9, "{se3}");

    // The plot is a PNG with something drawn in the two trajectory colours.
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&plot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let (w, h) = (reader.info().width, reader.info().height);
    assert_eq!((w, h), (1400, 700));
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    let step = frame.color_type.samples();
    let has = |rgb: [u8; 3]| pixels.chunks(step).any(|p| p[..3] == rgb);
    assert!(
        has([0, 110, 220]) && has([240, 120, 0]),
        "reference and estimate drawn"
    );

    // TUM files pair by time: the estimate has every other pose, 3 ms late.
    let (rt, et) = (dir.path().join("ref.tum"), dir.path().join("est.tum"));
    write(
        &rt,
        &(0..10)
            .map(|i| tum(0.1 * i as f64, i as f64))
            .collect::<Vec<_>>(),
    );
    write(
        &et,
        &(0..10)
            .step_by(2)
            .map(|i| tum(0.1 * i as f64 + 0.003, i as f64))
            .collect::<Vec<_>>(),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_lidarflow"))
        .args(["eval", rt.to_str().unwrap(), et.to_str().unwrap()])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("5 pose pairs (paired by time)"), "{table}");
    // A clock mismatch pairs nothing, and says so.
    let out = Command::new(env!("CARGO_BIN_EXE_lidarflow"))
        .args([
            "eval",
            rt.to_str().unwrap(),
            et.to_str().unwrap(),
            "--max-dt",
            "0.001",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("same clock"));
}
