//! `lidarflow map ...`: look into, edit and build from view-based maps.

use crate::error::Result;
use crate::io::trajectory;
use crate::io::view_map::ViewMap;
use crate::mapping::edit;
use crate::pipeline::Vars;
use clap::{Args, Subcommand};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub(crate) struct MapArgs {
    #[command(subcommand)]
    command: MapCommand,
}

#[derive(Debug, Subcommand)]
enum MapCommand {
    /// Keyframes, path length, time span, points and bounding box of a map.
    Info {
        /// The map folder.
        map: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Writes the keyframe poses as a TUM trajectory.
    ExportTrajectory {
        /// The map folder.
        map: PathBuf,
        /// Output file (`.tum`; `.txt` writes KITTI 3x4).
        out: PathBuf,
    },
    /// Copies keyframes FROM..=TO (positions in the map) into a new map.
    Cut {
        /// The map folder.
        map: PathBuf,
        /// First keyframe kept.
        #[arg(long)]
        from: usize,
        /// Last keyframe kept.
        #[arg(long)]
        to: usize,
        /// The new map folder.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Joins two maps whose poses share a frame (A's keyframes, then B's) into a new map.
    Join {
        /// First map.
        a: PathBuf,
        /// Second map.
        b: PathBuf,
        /// The new map folder.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Builds a metric map from the keyframes with a map-building pipeline.
    Build {
        /// The map folder (sets `${MAP}`).
        map: PathBuf,
        /// The map-building pipeline (e.g. pipelines/map-voxel.yaml).
        #[arg(long)]
        pipeline: PathBuf,
        /// The file to build (sets `${OUTPUT}`; its folder sets `${OUTPUT_DIR}`).
        #[arg(long)]
        output: PathBuf,
        /// Skip keyframes whose file is missing or corrupt (sets `${SKIP_BAD}` to true).
        #[arg(long)]
        skip_bad: bool,
        /// Sets a pipeline variable (repeatable).
        #[arg(long = "set", value_name = "NAME=VALUE", value_parser = super::run::parse_set)]
        set: Vec<(String, String)>,
    },
}

/// Opens a map, telling the user what was got past on the way (a cut last index line).
fn open_map(path: &std::path::Path) -> Result<ViewMap> {
    let map = ViewMap::open(path)?;
    for w in &map.warnings {
        eprintln!("warning: {w}");
    }
    Ok(map)
}

pub(crate) fn run(args: MapArgs) -> Result<i32> {
    match args.command {
        MapCommand::Info { map, json } => {
            let map = open_map(&map)?;
            let i = edit::info(&map);
            if json {
                let text = serde_json::to_string_pretty(&i)
                    .map_err(|e| crate::Error::Invalid(e.to_string()))?;
                crate::cli::print(&(text + "\n"));
            } else {
                let span = i.time_span.map_or("-".into(), |[a, b]| {
                    format!("{a:.3} .. {b:.3} s ({:.1} s)", b - a)
                });
                let bbox = i.positions_box.map_or("-".into(), |[lo, hi]| {
                    format!(
                        "[{:.2}, {:.2}, {:.2}] .. [{:.2}, {:.2}, {:.2}]",
                        lo[0], lo[1], lo[2], hi[0], hi[1], hi[2]
                    )
                });
                crate::cli::print(&format!(
                    "map            {}\nsensor         {}\nkeyframes      {}\npoints         {}\n\
                     path length    {:.2} m\ntime span      {span}\nkeyframe box   {bbox}\n\
                     with reference {}\n",
                    i.dir.display(),
                    i.sensor,
                    i.keyframes,
                    i.points,
                    i.path_length,
                    i.with_reference
                ));
            }
            Ok(0)
        }
        MapCommand::ExportTrajectory { map, out } => {
            let map = open_map(&map)?;
            let t = edit::trajectory(&map);
            if out.extension().is_some_and(|e| e == "txt") {
                trajectory::write_kitti(&out, &t)?;
            } else {
                trajectory::write_tum(&out, &t)?;
            }
            eprintln!("wrote {} poses to {}", t.len(), out.display());
            Ok(0)
        }
        MapCommand::Cut {
            map,
            from,
            to,
            output,
        } => {
            let new = edit::cut(&open_map(&map)?, from, to, &output)?;
            eprintln!(
                "wrote {} keyframes to {}",
                new.index.keyframes.len(),
                output.display()
            );
            Ok(0)
        }
        MapCommand::Join { a, b, output } => {
            let new = edit::join(&open_map(&a)?, &open_map(&b)?, &output)?;
            eprintln!(
                "wrote {} keyframes to {}",
                new.index.keyframes.len(),
                output.display()
            );
            Ok(0)
        }
        MapCommand::Build {
            map,
            pipeline,
            output,
            skip_bad,
            set,
        } => {
            let mut vars: BTreeMap<String, String> = set.into_iter().collect();
            vars.insert("MAP".into(), map.display().to_string());
            vars.insert("OUTPUT".into(), output.display().to_string());
            let dir = output
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), PathBuf::from);
            vars.insert("OUTPUT_DIR".into(), dir.display().to_string());
            if skip_bad {
                vars.insert("SKIP_BAD".into(), "true".into());
            }
            let start = std::time::Instant::now();
            // The keyframes block opens the map again and shows its warnings.
            let keyframes = ViewMap::open(&map)
                .map(|m| m.index.keyframes.len())
                .unwrap_or(0);
            let watch = ("keyframes", "scans", Some(keyframes));
            let code = super::run::run_pipeline(&pipeline, &Vars::with_env(vars), &dir, watch)?;
            if code == 0 {
                let s = start.elapsed().as_secs_f64();
                crate::cli::print(&format!(
                    "built {} from {keyframes} keyframes in {s:.2} s ({:.1} keyframes/s)\n",
                    output.display(),
                    keyframes as f64 / s.max(1e-9)
                ));
            }
            Ok(code)
        }
    }
}
