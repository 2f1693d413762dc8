//! `revbench export` at the CLI edge.

use std::path::PathBuf;

use super::{export, ExportFormat};
use crate::results::sweep::read_run_or_sweep;

/// `revbench export`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// A results.json written by `revbench run` or `revbench sweep` (each point then a
    /// benchmark of its own, `<scenario>@<axis>=<value>/<store>`).
    pub results: PathBuf,
    #[arg(long, value_enum)]
    pub format: ExportFormat,
}

/// Prints the results in the chosen format.
pub fn run(args: Args) -> anyhow::Result<()> {
    let results = read_run_or_sweep(&args.results)?;
    println!("{}", export(&results, args.format));
    Ok(())
}
