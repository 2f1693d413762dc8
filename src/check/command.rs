//! `revbench check` at the CLI edge.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{Outcome, Scoped, Threshold};
use crate::results::RunResults;

/// `revbench check`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// A results.json (a plain run's, or one side of a paired run).
    pub results: PathBuf,
    /// A threshold: `p50`, `p99` (check latency, e.g. 2ms, 500us), `rps` (requests/s) or
    /// `leak` (of answered replays, 0 or e.g. 1%), `cpu` (server CPU per request, e.g. 20us)
    /// with <, <=, >, >= or ==. Repeatable.
    #[arg(long = "threshold", required_unless_present = "file", value_parser = super::threshold::parse)]
    pub thresholds: Vec<Threshold>,
    /// A TOML file of thresholds, each `[[threshold]]` with `rule = "p99 < 2ms"` and optional
    /// `store` and `scenario` it applies to (with --threshold, both are judged).
    #[arg(long = "thresholds", id = "file")]
    pub file: Option<PathBuf>,
    /// Only this store (its label), for every threshold.
    #[arg(long)]
    pub store: Option<String>,
    /// Only this scenario, for every threshold.
    #[arg(long)]
    pub scenario: Option<String>,
}

/// Runs `revbench check`: exit 1 naming each crossed threshold, 3 when an interval straddles
/// one (or the rounds are too few), 0 when every interval is on the right side.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let results = RunResults::read(&args.results)?;
    let mut thresholds = match &args.file {
        Some(path) => super::file::read(path)?,
        None => Vec::new(),
    };
    thresholds.extend(args.thresholds.into_iter().map(|threshold| Scoped {
        threshold,
        store: None,
        scenario: None,
    }));
    let judgements =
        super::check_scoped(&results, &thresholds, args.store.as_deref(), args.scenario.as_deref());
    if judgements.is_empty() {
        println!(
            "INCONCLUSIVE: no measurement matched --store/--scenario, or none had the metrics"
        );
    }
    for j in &judgements {
        let label = match j.outcome {
            Outcome::Met => "met",
            Outcome::Crossed => "CROSSED",
            Outcome::Inconclusive => "INCONCLUSIVE",
        };
        let v = &j.value;
        println!(
            "{label}: {} / {}: {} — measured {:.4} [{:.4}, {:.4}] ({:.0}% interval{})",
            j.scenario,
            j.store,
            j.threshold,
            v.value,
            v.low,
            v.high,
            v.confidence * 100.0,
            if v.confidence < crate::compare::MIN_CONFIDENCE {
                "; too few rounds: measure with --rounds 5 or more"
            } else {
                ""
            }
        );
    }
    Ok(ExitCode::from(super::exit_code(&judgements)))
}
