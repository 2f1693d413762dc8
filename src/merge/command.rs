//! `revbench merge` at the CLI edge.

use std::path::PathBuf;

use anyhow::Context;

use crate::results::RunResults;

/// `revbench merge`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// results.json files of generators that ran side by side (two or more).
    #[arg(required = true, num_args = 2..)]
    pub files: Vec<PathBuf>,
    /// Where to write the merged results.json.
    #[arg(short, long)]
    pub out: PathBuf,
}

/// Runs `revbench merge`: reads every file, adds them up, writes one results file.
pub fn run(args: Args) -> anyhow::Result<()> {
    let files =
        args.files.iter().map(|path| RunResults::read(path)).collect::<Result<Vec<_>, _>>()?;
    let merged = super::merge(&files)?;
    merged.write(&args.out).with_context(|| {
        format!("cannot write {}; pass -o with a writable path", args.out.display())
    })?;
    let requests: u64 =
        merged.measurements.iter().flat_map(|m| &m.rounds).map(|r| r.requests).sum();
    println!("merged {} files ({requests} requests) into {}", files.len(), args.out.display());
    Ok(())
}
