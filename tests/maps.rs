//! View-based maps end to end: a run keeps keyframes, metric maps are built from them, the
//! stored velocity sharpens the map, localization tracks a second pass on a built map, and
//! bad maps are refused with their file named.

mod common;

use common::ok;
use lidarflow::io::view_map::ViewMap;
use lidarflow::mapping::sharpness::point_to_plane;
use lidarflow::recordings::synth::{self, SynthParams};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn lidarflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lidarflow"))
        .args(args)
        .output()
        .expect("runs")
}

fn pipeline(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("pipelines")
        .join(name)
        .display()
        .to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A synthetic recording, run through the default pipeline: returns the output folder.
fn synthetic_run(dir: &Path, name: &str, params: SynthParams) -> PathBuf {
    let data = dir.join(format!("{name}-data"));
    synth::write(&data, &params).unwrap();
    let out = dir.join(name);
    ok(&lidarflow(&[
        "run",
        &pipeline("lidar3d-default.yaml"),
        "--dataset",
        s(&data),
        "--output",
        s(&out),
    ]));
    out
}

fn aggressive(frames: usize, seed: u64) -> SynthParams {
    SynthParams {
        profile: "aggressive".into(),
        frames,
        seed,
        scene_seed: Some(1),
        rings: 32,
    }
}

#[test]
fn balm_keeps_keyframes_and_builds_a_laz_map_around_the_path() {
    let Some(balm) = common::shared_dataset("balm-realworld") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(pipeline("lidar3d-default.yaml"))
        .unwrap()
        .replace(
            "sequence: ${SEQUENCE|}",
            "sequence: ${SEQUENCE|}\n      count: 30",
        );
    let file = dir.path().join("default-30.yaml");
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("run");
    ok(&lidarflow(&[
        "run",
        s(&file),
        "--dataset",
        s(&balm),
        "--output",
        s(&out),
    ]));

    let map = ViewMap::open(out.join("map")).unwrap();
    let n = map.index.keyframes.len();
    assert!((5..=30).contains(&n), "{n} keyframes from 30 scans");
    assert!(map.index.keyframes.iter().all(|k| k.reference.is_some()));
    let info = ok(&lidarflow(&["map", "info", s(&out.join("map"))]));
    assert!(info.contains(&format!("keyframes      {n}\n")), "{info}");

    let laz = dir.path().join("balm.laz");
    let built = ok(&lidarflow(&[
        "map",
        "build",
        s(&out.join("map")),
        "--pipeline",
        &pipeline("map-voxel.yaml"),
        "--output",
        s(&laz),
    ]));
    assert!(built.contains(&format!("from {n} keyframes")), "{built}");

    // Read it back with the las crate's reader, field by field.
    let mut reader = las::Reader::from_path(&laz).unwrap();
    assert!(reader.header().point_format().has_gps_time);
    let data = reader.read_all().unwrap();
    let points: Vec<las::Point> = data.points().map(|p| p.unwrap()).collect();
    assert!(points.len() > 10_000, "{} points", points.len());
    let first = map.index.keyframes[0].stamp;
    let last = map.index.keyframes[n - 1].stamp;
    let mut sources = std::collections::BTreeSet::new();
    for p in &points {
        sources.insert(p.point_source_id);
        let t = p.gps_time.unwrap();
        assert!(t >= first - 1.0 && t <= last + 1.0, "gps time {t}");
        // Every point lies within the crop range (60 m) of the keyframe that saw it.
        let k = &map.index.keyframes[p.point_source_id as usize];
        let d = ((p.x - k.pose[0]).powi(2) + (p.y - k.pose[1]).powi(2) + (p.z - k.pose[2]).powi(2))
            .sqrt();
        assert!(d <= 60.01, "point {d} m from its keyframe");
    }
    assert_eq!(sources.len(), n, "every keyframe contributes points");

    // The map is sharp: walls and ground are thin, as they are not with the poses spoiled.
    let cloud = lidarflow::io::read_scan(&laz).unwrap().cloud;
    let sharp = point_to_plane(cloud.points(), 12, 0.5, 10);
    assert!(sharp.median < 0.02, "{sharp:?}");

    // Localization on a map of the same scans placed at the reference poses, from 0.5 m
    // and 5 degrees off.
    let reference_map = dir.path().join("balm-reference.laz");
    ok(&lidarflow(&[
        "map",
        "build",
        s(&out.join("map")),
        "--pipeline",
        &pipeline("map-voxel.yaml"),
        "--output",
        s(&reference_map),
        "--set",
        "POSES=reference",
    ]));
    let text = std::fs::read_to_string(pipeline("localize.yaml"))
        .unwrap()
        .replace(
            "sequence: ${SEQUENCE|}",
            "sequence: ${SEQUENCE|}\n      count: 30",
        );
    let localize_30 = dir.path().join("localize-30.yaml");
    std::fs::write(&localize_30, text).unwrap();
    let loc = dir.path().join("loc");
    ok(&lidarflow(&[
        "run",
        s(&localize_30),
        "--dataset",
        s(&balm),
        "--output",
        s(&loc),
        "--set",
        &format!("MAP={}", s(&reference_map)),
        "--set",
        "INITIAL_POSE=0.3 -0.4 0 0 0 5",
    ]));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(loc.join("summary.json")).unwrap()).unwrap();
    let ate = summary["accuracy"]["ate"].as_f64().unwrap();
    assert!(ate <= 0.05, "localization ATE {ate} m");
}

#[test]
fn stored_velocity_sharpens_the_map_of_an_aggressive_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let run = synthetic_run(dir.path(), "agg", aggressive(100, 1));
    let map = run.join("map");
    let with = dir.path().join("deskewed.laz");
    let without = dir.path().join("skewed.laz");
    ok(&lidarflow(&[
        "map",
        "build",
        s(&map),
        "--pipeline",
        &pipeline("map-voxel.yaml"),
        "--output",
        s(&with),
    ]));
    // The same pipeline without its deskew block.
    let text = std::fs::read_to_string(pipeline("map-voxel.yaml")).unwrap();
    let no_deskew = text
        .replace(
            "  - id: deskew\n    type: deskew\n    inputs: {input: keyframes/scans}\n",
            "",
        )
        .replace(
            "inputs: {input: deskew/output}",
            "inputs: {input: keyframes/scans}",
        );
    assert_ne!(no_deskew, text);
    let file = dir.path().join("no-deskew.yaml");
    std::fs::write(&file, no_deskew).unwrap();
    ok(&lidarflow(&[
        "map",
        "build",
        s(&map),
        "--pipeline",
        s(&file),
        "--output",
        s(&without),
    ]));
    let measure = |p: &Path| {
        let cloud = lidarflow::io::read_scan(p).unwrap().cloud;
        point_to_plane(cloud.points(), 12, 0.5, 10)
    };
    let (a, b) = (measure(&with), measure(&without));
    eprintln!("de-skewed {a:?}\nskewed    {b:?}");
    assert!(a.median < b.median, "de-skewed {a:?} skewed {b:?}");
    assert!(
        a.planar_points > b.planar_points,
        "de-skewed {a:?} skewed {b:?}"
    );
}

#[test]
fn other_metric_maps_and_map_editing() {
    let dir = tempfile::tempdir().unwrap();
    let run = synthetic_run(
        dir.path(),
        "car",
        SynthParams {
            profile: "car".into(),
            frames: 30,
            rings: 16,
            ..SynthParams::default()
        },
    );
    let map = run.join("map");
    let ndt = dir.path().join("ndt.ply");
    ok(&lidarflow(&[
        "map",
        "build",
        s(&map),
        "--pipeline",
        &pipeline("map-ndt.yaml"),
        "--output",
        s(&ndt),
    ]));
    let header = std::fs::read(&ndt).unwrap();
    let header = String::from_utf8_lossy(&header[..400]);
    assert!(
        header.contains("property double cov_zz") && header.contains("comment voxel_size 1"),
        "{header}"
    );
    assert!(lidarflow::io::read_scan(&ndt).unwrap().cloud.len() > 100);

    let png = dir.path().join("grid.png");
    ok(&lidarflow(&[
        "map",
        "build",
        s(&map),
        "--pipeline",
        &pipeline("map-grid2d.yaml"),
        "--output",
        s(&png),
    ]));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut pixels).unwrap();
    let count = |v: u8| pixels.iter().filter(|&&p| p == v).count();
    assert!(
        count(0) > 100 && count(254) > 1000,
        "occupied {} free {}",
        count(0),
        count(254)
    );
    let yaml = std::fs::read_to_string(dir.path().join("grid.yaml")).unwrap();
    assert!(yaml.contains("image: grid.png") && yaml.contains("mode: trinary"));

    let n = ViewMap::open(&map).unwrap().index.keyframes.len();
    let cut = dir.path().join("cut");
    ok(&lidarflow(&[
        "map",
        "cut",
        s(&map),
        "--from",
        "1",
        "--to",
        "3",
        "-o",
        s(&cut),
    ]));
    let joined = dir.path().join("joined");
    ok(&lidarflow(&[
        "map",
        "join",
        s(&map),
        s(&cut),
        "-o",
        s(&joined),
    ]));
    assert_eq!(ViewMap::open(&joined).unwrap().index.keyframes.len(), n + 3);
    let tum = dir.path().join("keyframes.tum");
    ok(&lidarflow(&[
        "map",
        "export-trajectory",
        s(&joined),
        s(&tum),
    ]));
    assert_eq!(
        std::fs::read_to_string(&tum).unwrap().lines().count(),
        n + 3
    );
}

#[test]
fn bad_maps_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = synthetic_run(
        dir.path(),
        "car",
        SynthParams {
            profile: "car".into(),
            frames: 20,
            rings: 16,
            ..SynthParams::default()
        },
    );
    let map = run.join("map");
    let n = ViewMap::open(&map).unwrap().index.keyframes.len();
    assert!(n >= 3);
    let out = dir.path().join("m.laz");
    let build = |extra: &[&str]| {
        let mut args = vec!["map", "build", s(&map), "--pipeline"];
        let p = pipeline("map-voxel.yaml");
        args.push(&p);
        args.extend_from_slice(&["--output", s(&out)]);
        args.extend_from_slice(extra);
        lidarflow(&args)
    };
    // A corrupt keyframe: named; --skip-bad builds from the others.
    let bad = map.join("keyframes/000001.laz");
    std::fs::write(&bad, b"not a laz file").unwrap();
    let o = build(&[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("000001.laz") && err.contains("--skip-bad"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let o = build(&["--skip-bad"]);
    let text = ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("skipped keyframe 1"));
    assert!(text.contains("built"), "{text}");
    let data = las::Reader::from_path(&out).unwrap().read_all().unwrap();
    let sources: std::collections::BTreeSet<u16> =
        data.points().map(|p| p.unwrap().point_source_id).collect();
    assert!(
        !sources.contains(&1) && sources.len() == n - 1,
        "{sources:?}"
    );

    // A missing one.
    std::fs::remove_file(&bad).unwrap();
    let err = String::from_utf8_lossy(&build(&[]).stderr).into_owned();
    assert!(
        err.contains("000001.laz") && err.contains("missing"),
        "{err}"
    );

    // Another format version.
    let index = map.join("map.yaml");
    let text = std::fs::read_to_string(&index).unwrap();
    std::fs::write(&index, text.replace("version: 1", "version: 2")).unwrap();
    let err = String::from_utf8_lossy(&build(&[]).stderr).into_owned();
    assert!(
        err.contains("version 2") && err.contains("map.yaml"),
        "{err}"
    );
    let info = lidarflow(&["map", "info", s(&map)]);
    assert_eq!(info.status.code(), Some(1));

    // No keyframes: builds nothing and says so.
    let empty = dir.path().join("empty");
    ViewMap::create(&empty, "lidar", false).unwrap();
    let o = lidarflow(&[
        "map",
        "build",
        s(&empty),
        "--pipeline",
        &pipeline("map-voxel.yaml"),
        "--output",
        s(&out),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("no keyframes"), "{err}");
}

#[test]
fn a_run_killed_half_way_leaves_a_valid_map() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("long.yaml");
    std::fs::write(
        &file,
        "blocks:\n  - {id: street, type: synthetic, params: {frames: 100000, rings: 16}}\n  \
         - {id: odometry, type: odometry, inputs: {scans: street/scans}}\n  \
         - {id: map, type: keyframe_store, params: {dir: \"${OUTPUT_DIR}/map\", policy: {distance: 0.5}}, inputs: {scans: odometry/scans}}\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lidarflow"))
        .args(["run", s(&file), "--output", s(&out)])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(6));
    child.kill().unwrap(); // SIGKILL: no chance to flush anything
    child.wait().unwrap();
    let map = ViewMap::open(out.join("map")).unwrap();
    assert!(
        !map.index.keyframes.is_empty(),
        "no keyframe written in 6 s"
    );
    for k in &map.index.keyframes {
        map.read_scan(k).unwrap();
    }
}

fn car(frames: usize, seed: u64) -> SynthParams {
    SynthParams {
        profile: "car".into(),
        frames,
        seed,
        scene_seed: Some(1),
        rings: 32,
    }
}

/// Localizes `dataset` on `map` from 0.5 m and 5 degrees off; returns (ATE, first position).
fn localize(dataset: &Path, map: &Path, out: &Path) -> (f64, f64) {
    let text = ok(&lidarflow(&[
        "run",
        &pipeline("localize.yaml"),
        "--dataset",
        s(dataset),
        "--output",
        s(out),
        "--set",
        &format!("MAP={}", s(map)),
        "--set",
        "INITIAL_POSE=0.3 -0.4 0 0 0 5",
    ]));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["keyframes"], 0, "mapping is off\n{text}");
    let ate = summary["accuracy"]["ate"].as_f64().unwrap();
    let first = std::fs::read_to_string(out.join("trajectory.tum")).unwrap();
    let xyz: Vec<f64> = first
        .split_whitespace()
        .skip(1)
        .take(3)
        .map(|v| v.parse().unwrap())
        .collect();
    (ate, xyz.iter().map(|v| v * v).sum::<f64>().sqrt())
}

#[test]
fn localizes_a_second_pass_on_a_map_from_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let first = synthetic_run(dir.path(), "pass1", car(40, 1));
    // The map placed at the exact poses, so the figure measures localization alone.
    let map = dir.path().join("pass1.laz");
    ok(&lidarflow(&[
        "map",
        "build",
        s(&first.join("map")),
        "--pipeline",
        &pipeline("map-voxel.yaml"),
        "--output",
        s(&map),
        "--set",
        "POSES=reference",
    ]));
    // The second pass: same street and path, other noise.
    let data = dir.path().join("pass2-data");
    synth::write(&data, &car(40, 2)).unwrap();
    let (ate, start) = localize(&data, &map, &dir.path().join("loc"));
    assert!(ate < 0.05, "ATE {ate} m");
    assert!(start < 0.05, "first pose {start} m from the true one");
}
