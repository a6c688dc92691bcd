//! The view-based map store at scale: a map of 100 000 keyframes (`KEYFRAMES=N` for another
//! size) is written keyframe by keyframe as the `keyframe_store` block writes it (scan file,
//! then one index line), then opened and summarised as `lidarflow map info` does.
//!
//! Prints the mean cost of an append over the first and the last 1 000 keyframes (equal
//! when appending does not grow with the map), the time to open the index and to summarise
//! it, and the index's size. Each keyframe holds a small scan (64 points) so that the index,
//! not the LAZ encoder, is what is measured; the scan file is still written the same way.
//!
//! `cargo bench --no-default-features --bench map_store` (writes into a temporary folder,
//! about 1 GB of small files for 100 000 keyframes; removed at the end)

use lidarflow::cloud::PointCloud;
use lidarflow::geometry::{pose_from_xyz_rpy, Twist};
use lidarflow::io::view_map::{ViewMap, INDEX};
use lidarflow::mapping::edit;
use nalgebra::Point3;
use std::time::Instant;

const WINDOW: usize = 1000;

fn main() {
    let n: usize = std::env::var("KEYFRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let n = n.max(2 * WINDOW);
    let dir = std::env::temp_dir().join(format!("lidarflow-map-bench-{}", std::process::id()));
    let mut map = ViewMap::create(&dir, "bench", true).expect("create the map");
    let cloud = |k: usize| {
        PointCloud::new(
            (0..64)
                .map(|i| Point3::new(i as f64 * 0.1, k as f64 * 0.01, 1.0))
                .collect(),
        )
        .with_stamp(1.7e9 + k as f64 * 0.1)
    };
    let twist = Twist::from_column_slice(&[1.0, 0.0, 0.0, 0.0, 0.0, 0.1]);
    let (mut first, mut last) = (0.0, 0.0);
    let all = Instant::now();
    for k in 0..n {
        let c = cloud(k);
        let pose = pose_from_xyz_rpy(
            k as f64,
            0.5 * (k as f64 * 0.01).sin(),
            0.0,
            0.0,
            0.0,
            0.01 * k as f64,
        );
        let t = Instant::now();
        map.append(&c, &pose, &twist, Some(&pose)).expect("append");
        let dt = t.elapsed().as_secs_f64();
        if k < WINDOW {
            first += dt;
        } else if k >= n - WINDOW {
            last += dt;
        }
    }
    let write_s = all.elapsed().as_secs_f64();
    let index_mb = std::fs::metadata(dir.join(INDEX)).map_or(0.0, |m| m.len() as f64 / 1e6);

    let t = Instant::now();
    let opened = ViewMap::open(&dir).expect("open the map");
    let open_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let info = edit::info(&opened);
    let info_s = t.elapsed().as_secs_f64();
    assert_eq!(info.keyframes, n);

    println!("keyframes                {n}");
    println!(
        "written in               {write_s:.1} s ({:.0} keyframes/s)",
        n as f64 / write_s
    );
    println!(
        "append, first {WINDOW}       {:.3} ms each",
        first / WINDOW as f64 * 1e3
    );
    println!(
        "append, last {WINDOW}        {:.3} ms each ({:.2}x the first)",
        last / WINDOW as f64 * 1e3,
        last / first
    );
    println!("index                    {index_mb:.1} MB");
    println!("open (read the index)    {:.3} s", open_s);
    println!("summarise (map info)     {:.3} s", info_s);
    let _ = std::fs::remove_dir_all(&dir);
}
