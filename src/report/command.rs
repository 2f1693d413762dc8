//! `revbench report` at the CLI edge.

use std::path::PathBuf;

use crate::results::sweep::SweepResults;
use crate::results::RunResults;

/// `revbench report`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// A results.json written by `revbench run` or `revbench sweep`.
    pub results: PathBuf,

    /// Output directory (default: the results file's directory).
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Where criterion's estimates are, for the microbenchmark table.
    #[arg(long, default_value = super::CRITERION_DIR)]
    pub criterion_dir: PathBuf,
}

/// Runs `revbench report` with these arguments.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let out = args.out.clone().unwrap_or_else(|| {
        args.results.parent().map(std::path::Path::to_path_buf).unwrap_or_default()
    });
    if SweepResults::is_sweep_file(&args.results) {
        let results = SweepResults::read(&args.results)?;
        let source = args.results.display().to_string();
        let sizing = crate::size::command::example_answer(&results, &source).await;
        for path in super::sweep::write(&results, &out, sizing.as_deref())? {
            println!("wrote {}", path.display());
        }
        return Ok(());
    }
    let results = RunResults::read(&args.results)?;
    let written = super::write(&results, &out, Some(&args.criterion_dir))?;
    for path in written.iter().filter(|p| p.extension().is_some_and(|e| e == "md" || e == "html")) {
        println!("wrote {}", path.display());
    }
    println!("wrote {} charts in {}", written.len() - 2, out.join("charts").display());
    Ok(())
}
