//! Pipeline files: every shipped pipeline validates, and every broken file in
//! tests/pipelines/broken exits 2 with messages naming the file, the line and the block,
//! without panicking and without running anything.

use std::path::{Path, PathBuf};
use std::process::Command;

fn lidarflow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lidarflow"))
}

fn broken(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/pipelines/broken")
        .join(name)
}

/// Runs `lidarflow run FILE`; returns (exit code, stderr).
fn run(file: &Path, out: &Path) -> (i32, String) {
    let o = lidarflow()
        .arg("run")
        .arg(file)
        .args(["--dataset", "/no/such/dataset", "--output"])
        .arg(out)
        .env_remove("LIDARFLOW_TEST_SURELY_UNSET_VARIABLE")
        .output()
        .expect("runs");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn every_broken_file_exits_2_naming_file_line_and_block() {
    // (file, where the message points (file:line), block named, words of the message)
    let cases: [(&str, &str, Option<&str>, &str); 16] = [
        (
            "typo-in-type.yaml",
            "typo-in-type.yaml:6:",
            Some("odometry"),
            "did you mean `odometry`",
        ),
        (
            "typo-in-param.yaml",
            "typo-in-param.yaml:8:",
            Some("odometry"),
            "unknown param `voxl_size`; did you mean `voxel_size`",
        ),
        (
            "wrong-param-type.yaml",
            "wrong-param-type.yaml:9:",
            Some("odometry"),
            "param `max_iterations`: invalid type",
        ),
        (
            "missing-input.yaml",
            "missing-input.yaml:5:",
            Some("odometry"),
            "required input `scans`",
        ),
        (
            "dangling-wire.yaml",
            "dangling-wire.yaml:8:",
            Some("odometry"),
            "block `reeder`, which does not exist; did you mean `reader`",
        ),
        (
            "wrong-port.yaml",
            "wrong-port.yaml:8:",
            Some("odometry"),
            "no output port `scan`; did you mean `scans`",
        ),
        (
            "port-type-mismatch.yaml",
            "port-type-mismatch.yaml:8:",
            Some("trajectory"),
            "type mismatch",
        ),
        (
            "cycle.yaml",
            "cycle.yaml:2:",
            Some("crop"),
            "cycle: crop -> thin -> crop",
        ),
        (
            "self-loop.yaml",
            "self-loop.yaml:2:",
            Some("crop"),
            "cycle: crop -> crop",
        ),
        (
            "duplicate-id.yaml",
            "duplicate-id.yaml:5:",
            Some("reader"),
            "duplicate block id `reader` (first used on line 2)",
        ),
        (
            "unset-variable.yaml",
            "unset-variable.yaml:5:",
            Some("reader"),
            "`LIDARFLOW_TEST_SURELY_UNSET_VARIABLE` is not set",
        ),
        ("empty.yaml", "empty.yaml:1:", None, "the file is empty"),
        (
            "not-yaml.yaml",
            "not-yaml.yaml:5:",
            Some("odometry"),
            "not valid YAML",
        ),
        (
            "include-loop.yaml",
            "include-loop-b.yaml:2:",
            Some("odometry"),
            "include loop",
        ),
        (
            "nested-filter-typo.yaml",
            "nested-filter-typo.yaml:11:",
            Some("odometry"),
            "unknown filter type `voxel_downsampel`; did you mean `voxel_downsample`",
        ),
        (
            "many-problems.yaml",
            "many-problems.yaml:4:",
            Some("reader"),
            "unknown block type `datset`",
        ),
    ];
    let out = tempfile::tempdir().unwrap();
    for (file, place, block, words) in cases {
        let (code, stderr) = run(&broken(file), out.path());
        assert_eq!(code, 2, "{file}: exit code {code}, stderr:\n{stderr}");
        assert!(!stderr.contains("panicked"), "{file} panicked:\n{stderr}");
        let line = stderr
            .lines()
            .find(|l| l.contains(words))
            .unwrap_or_else(|| panic!("{file}: no message with `{words}` in:\n{stderr}"));
        assert!(
            line.contains(place),
            "{file}: message does not point at {place}: {line}"
        );
        if let Some(b) = block {
            assert!(
                line.contains(&format!("block `{b}`")),
                "{file}: block `{b}` not named: {line}"
            );
        }
        assert!(stderr.contains("nothing was run"), "{file}: {stderr}");
    }
    assert!(
        std::fs::read_dir(out.path()).unwrap().next().is_none(),
        "a pipeline with errors wrote output"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let out = tempfile::tempdir().unwrap();
    let (code, stderr) = run(&broken("many-problems.yaml"), out.path());
    assert_eq!(code, 2);
    for words in [
        "datset",
        "unknown variant `huber`",
        "no output port `pose`; did you mean `poses`",
    ] {
        assert!(stderr.contains(words), "missing `{words}` in:\n{stderr}");
    }
    assert!(stderr.contains("3 problems"), "{stderr}");
}

#[test]
fn every_shipped_pipeline_validates() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("pipelines");
    let registry = lidarflow::blocks::registry();
    let vars = lidarflow::pipeline::Vars {
        set: [
            ("DATASET".to_string(), "/some/dataset".to_string()),
            ("OUTPUT_DIR".to_string(), "/some/out".to_string()),
            ("MAP".to_string(), "/some/map".to_string()),
            ("OUTPUT".to_string(), "/some/out/map.laz".to_string()),
        ]
        .into(),
        use_env: false,
    };
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            if let Err(d) = lidarflow::pipeline::load(&path, &vars, &registry) {
                panic!("{} does not validate:\n{d}", path.display());
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 3,
        "only {checked} pipelines in {}",
        dir.display()
    );
}

#[test]
fn blocks_command_lists_and_describes() {
    let all = lidarflow().arg("blocks").output().unwrap();
    assert!(all.status.success());
    let text = String::from_utf8_lossy(&all.stdout);
    for name in [
        "dataset",
        "synthetic",
        "range_crop",
        "voxel_downsample",
        "box_filter",
        "deskew",
        "odometry",
        "trajectory_writer",
        "summary",
    ] {
        assert!(
            text.contains(&format!("\n{name}\n")),
            "`{name}` missing from:\n{text}"
        );
    }
    let one = lidarflow()
        .args(["blocks", "voxel_downsample"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&one.stdout);
    assert!(text.contains("size: number (default 0.5)"), "{text}");
    assert!(
        text.contains("first | centroid | closest_to_centroid"),
        "{text}"
    );
    let typo = lidarflow().args(["blocks", "odometri"]).output().unwrap();
    assert_eq!(typo.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&typo.stderr).contains("did you mean `odometry`"));
}
