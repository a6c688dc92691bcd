//! The planar odometry on a CARMEN log, timed, and scored on the 2D SLAM benchmark's
//! relations when given: the speed figure of issue 20 (a release build on an idle machine).
//!
//! ```text
//! cargo run --release --no-default-features --example planar_odometry -- LOG.clf [LOG.relations]
//! ```
//!
//! The log is read into memory first, so the figure is the odometry's alone; the reading
//! is timed apart. `PLANAR_PARAMS='{wheel_odometry: false}'` changes parameters (YAML);
//! `PLANAR_OUT=DIR` writes the trajectory and the per-scan results there.

use lidarflow::eval::relations::{evaluate, read_relations};
use lidarflow::io::trajectory::Trajectory;
use lidarflow::odometry::planar::{PlanarOdometry, PlanarParams};
use lidarflow::recordings::{self, OpenOptions};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let log = args
        .next()
        .ok_or("usage: planar_odometry LOG.clf [LOG.relations]")?;
    let relations = args.next();
    let t0 = Instant::now();
    let mut source = recordings::open(&log, &OpenOptions::default())?;
    let mut scans = Vec::new();
    while let Some(s) = source.next_scan() {
        scans.push(s?);
    }
    for w in source.take_warnings() {
        eprintln!("warning: {w}");
    }
    let read_s = t0.elapsed().as_secs_f64();
    // PLANAR_PARAMS='{voxel_size: 0.05, wheel_odometry: false}' changes params (YAML).
    let params: PlanarParams = match std::env::var("PLANAR_PARAMS") {
        Ok(text) => serde_norway::from_str(&text)?,
        Err(_) => PlanarParams::default(),
    };
    let mut odometry = PlanarOdometry::new(params);
    let mut estimate = Trajectory::default();
    let mut results = Vec::with_capacity(scans.len());
    let t1 = Instant::now();
    for s in &scans {
        let r = odometry.process(&s.cloud, s.odometry.as_ref());
        estimate.push(r.stamp, r.pose);
        results.push(r);
    }
    let run_s = t1.elapsed().as_secs_f64();
    // PLANAR_OUT=DIR writes the trajectory and the per-scan results (JSON lines) there.
    if let Some(dir) = std::env::var_os("PLANAR_OUT") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir)?;
        lidarflow::io::trajectory::write_tum(&dir.join("trajectory.tum"), &estimate)?;
        let lines: Vec<String> = results
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<_, _>>()?;
        std::fs::write(dir.join("scans.jsonl"), lines.join("\n"))?;
    }
    let n = scans.len() as f64;
    println!(
        "{} scans: read in {:.3} s ({:.0} scans/s), odometry {:.3} s ({:.0} scans/s, {:.3} ms a scan)",
        scans.len(),
        read_s,
        n / read_s,
        run_s,
        n / run_s,
        1e3 * run_s / n
    );
    if let Some(r) = odometry.resolved() {
        println!(
            "measured: range {:.2} m, beam spacing {:.3}°, voxel {:.3} m",
            r.sensor_range,
            r.beam_spacing.to_degrees(),
            r.voxel_size
        );
    }
    if let Some(path) = relations {
        let rel = read_relations(std::path::Path::new(&path))?;
        let rep = evaluate(&rel, &estimate, 1e-3, 10.0);
        let line = |name: &str, s: &lidarflow::eval::relations::RelationStats| {
            println!(
                "{name:<8} {:>5} relations  translation {:.4} ± {:.4} m (max {:.3})  rotation {:.3} ± {:.3}° (max {:.2})",
                s.count,
                s.translation.mean,
                s.translation.std,
                s.translation.max,
                s.rotation_deg.mean,
                s.rotation_deg.std,
                s.rotation_deg.max
            )
        };
        println!("{} of {} relations matched", rep.matched, rep.relations);
        line("all", &rep.all);
        line("≤ 10 s", &rep.local);
        line("> 10 s", &rep.rest);
    }
    Ok(())
}
