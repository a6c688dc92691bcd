//! The command line: clap commands, each a few lines over the library.

mod blocks;
mod convert;
mod demo;
mod eval;
mod info;
mod map;
mod progress;
mod run;
mod synth;

use clap::{Parser, Subcommand};

/// LiDAR odometry and mapping with pipelines defined in YAML.
#[derive(Debug, Parser)]
#[command(name = "lidarflow", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a pipeline file on a recording.
    Run(run::RunArgs),
    /// Generate a synthetic sequence, run the default pipeline on it, print the accuracy.
    Demo(demo::DemoArgs),
    /// List the block types, or describe one with its ports and params.
    Blocks(blocks::BlocksArgs),
    /// View-based maps: info, export-trajectory, cut, join, build.
    Map(map::MapArgs),
    /// Score a trajectory against a reference: ATE (origin and SE(3) aligned), RPE, drift.
    Eval(eval::EvalArgs),
    /// Generate a synthetic recording: a street ray-cast by a moving spinning LiDAR.
    Synth(synth::SynthArgs),
    /// Describe a recording: scans, points, fields, time span, reference poses.
    Info(info::InfoArgs),
    /// Write any readable recording as a folder of scans (000000.bin, ..., times.txt).
    Convert(convert::ConvertArgs),
}

/// Runs the command line; returns the process exit code (0 ok, 1 failure, 2 bad usage).
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Blocks(args) => blocks::run(args),
        Command::Map(args) => map::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Synth(args) => synth::run(args),
        Command::Info(args) => info::run(args),
        Command::Convert(args) => convert::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// Writes `text` to stdout; a closed pipe (`| head`) is not an error.
pub(crate) fn print(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
