//! How sharp built point clouds are: the point-to-plane residual of every 10th point
//! against the plane of its 12 nearest neighbours (within 0.5 m), over planar
//! neighbourhoods (walls, ground).
//!
//! ```text
//! cargo run --release --example map_sharpness -- MAP.laz [OTHER.laz ...]
//! ```

use lidarflow::mapping::sharpness::point_to_plane;

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: map_sharpness FILE...");
        std::process::exit(2);
    }
    for f in files {
        match lidarflow::io::read_scan(&f) {
            Ok(scan) => {
                let s = point_to_plane(scan.cloud.points(), 12, 0.5, 10);
                println!(
                    "{f}: {} points, {} planar; point-to-plane median {:.2} mm, mean {:.2} mm",
                    scan.cloud.len(),
                    s.planar_points,
                    1e3 * s.median,
                    1e3 * s.mean
                );
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
    }
}
