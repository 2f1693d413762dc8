//! `revbench export` at the CLI edge.

use std::path::PathBuf;

use super::{export, ExportFormat};
use crate::results::RunResults;

/// `revbench export`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// A results.json written by `revbench run`.
    pub results: PathBuf,
    #[arg(long, value_enum)]
    pub format: ExportFormat,
}

/// Prints the results in the chosen format.
pub fn run(args: Args) -> anyhow::Result<()> {
    let results = RunResults::read(&args.results)?;
    println!("{}", export(&results, args.format));
    Ok(())
}
