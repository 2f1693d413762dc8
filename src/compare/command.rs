//! `revbench compare` at the CLI edge.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::results::sweep::read_run_or_sweep;

/// Output format of `revbench compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Md,
    Json,
}

/// `revbench compare`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The baseline results.json (e.g. from the base branch); two `revbench sweep` files are
    /// compared point by point.
    pub baseline: PathBuf,
    /// The current results.json (e.g. from the candidate branch, same runner).
    pub current: PathBuf,
    /// Largest tolerated worsening of a metric, e.g. 10%: a metric is worse (or better) only
    /// when its test puts the change beyond it, Holm-corrected at 5% family-wise over every
    /// call (see --help for the rule).
    #[arg(long, default_value = "10%", value_parser = super::parse_threshold)]
    pub max_regression: f64,
    /// Largest tolerated rise of server CPU per request (the servers' CPU time over the
    /// measured window ÷ the requests they answered), e.g. 1%: held to a threshold of its
    /// own, in the same Holm family.
    #[arg(long, default_value = "1%", value_parser = super::parse_threshold)]
    pub max_cpu_regression: f64,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs `revbench compare`: exit 1 on a measurable regression or a correctness failure, 3 when
/// a metric could not be called for lack of rounds or pairs, 0 otherwise.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let baseline = read_run_or_sweep(&args.baseline)?;
    let current = read_run_or_sweep(&args.current)?;
    let thresholds =
        super::Thresholds { latency: args.max_regression, cpu: args.max_cpu_regression };
    let comparison = super::compare_with(&baseline, &current, thresholds)?;
    let text = match args.format {
        Format::Text => comparison.text(),
        Format::Md => comparison.markdown(),
        Format::Json => comparison.json(),
    };
    print!("{text}");
    Ok(ExitCode::from(comparison.exit_code()))
}
