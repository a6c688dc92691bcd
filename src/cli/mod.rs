//! The command line: clap commands, each a few lines over the library.

mod info;
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
    /// Generate a synthetic recording: a street ray-cast by a moving spinning LiDAR.
    Synth(synth::SynthArgs),
    /// Describe a recording: scans, points, fields, time span, reference poses.
    Info(info::InfoArgs),
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
        Command::Synth(args) => synth::run(args),
        Command::Info(args) => info::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
