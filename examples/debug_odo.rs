use lidarflow::datasets::synth::{Sequence, SynthParams};
use lidarflow::datasets::Recording;
use lidarflow::odometry::{Odometry, OdometryParams, VelocityMode};
use lidarflow::PointCloud;
use nalgebra::Isometry3;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let (scans, refs): (Box<dyn Fn(usize) -> PointCloud>, Vec<Isometry3<f64>>) =
        if std::path::Path::new(&a[1]).is_dir() {
            let rec = Recording::open(&a[1], None).unwrap();
            let refs = match rec.reference() {
                Some(r) => r.poses.clone(),
                None => {
                    lidarflow::io::trajectory::read(
                        &std::path::Path::new(&a[1]).join("optimized_poses.txt"),
                    )
                    .unwrap()
                    .poses
                }
            };
            let n: usize = a[2].parse::<usize>().unwrap().min(rec.len());
            (
                Box::new(move |i| rec.read(i).unwrap().cloud),
                refs[..n].to_vec(),
            )
        } else {
            let seq = Sequence::new(SynthParams {
                profile: a[1].clone(),
                frames: a[2].parse().unwrap(),
                seed: 3,
                scene_seed: None,
                rings: 32,
            })
            .unwrap();
            let refs = (0..seq.len()).map(|i| seq.reference_pose(i)).collect();
            (Box::new(move |i| seq.scan(i)), refs)
        };
    let v = match a[3].as_str() {
        "off" => VelocityMode::Off,
        "alternate" => VelocityMode::Alternate,
        _ => VelocityMode::Joint,
    };
    let mut params: OdometryParams = if a.len() > 4 {
        serde_json::from_str(&a[4]).unwrap()
    } else {
        OdometryParams::default()
    };
    params.velocity = v;
    let mut odo = Odometry::new(params);
    let mut prev: Option<(Isometry3<f64>, Isometry3<f64>)> = None;
    for (i, gt) in refs.iter().enumerate() {
        let r = odo.process(&scans(i)).unwrap();
        if let Some((pe, pg)) = prev {
            let e = (pg.inverse() * gt).inverse() * (pe.inverse() * r.pose);
            let gtv = lidarflow::geometry::log(&(pg.inverse() * gt));
            println!("{i:3} err {:.3} m {:.2} deg | it {:2} corr {:5}/{:5} thr {:.2} rms {:.3} kf {} ms {:.0} | step gt [{:.2} {:.2} {:.2} | {:.2} {:.2} {:.2}]",
                e.translation.vector.norm(), e.rotation.angle().to_degrees(), r.iterations, r.correspondences, r.source_points, r.threshold, r.rms, r.keyframe as u8, r.ms.total,
                gtv[0], gtv[1], gtv[2], gtv[3], gtv[4], gtv[5]);
        }
        prev = Some((r.pose, *gt));
    }
    eprintln!("{:?}", odo.resolved());
}
