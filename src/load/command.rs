//! `revbench run` at the CLI edge: turn arguments into [`RunOptions`], print the summary.

use std::path::PathBuf;

use anyhow::Context;

use super::run::{self, RunOptions, DEFAULT_ROUNDS, QUICK_DURATION, QUICK_ROUNDS};
use super::scenario::{Scenario, DEFAULT_SCENARIOS};
use super::summary;
use crate::cli::RunArgs;

/// Runs `revbench run` with these arguments.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let no_report = args.no_report;
    let options = options(args)?;
    let out_dir = options.out_dir.clone();
    let results = run::run(options).await?;
    print!("{}", summary::table(&results));
    println!("results: {}", out_dir.join("results.json").display());
    if !no_report {
        let criterion = std::path::Path::new(crate::report::CRITERION_DIR);
        crate::report::write(&results, &out_dir, Some(criterion))?;
        println!("report: {}", out_dir.join("report.md").display());
        println!("        {}", out_dir.join("report.html").display());
    }
    Ok(())
}

fn options(args: RunArgs) -> anyhow::Result<RunOptions> {
    let names: Vec<String> = if args.scenarios.is_empty() {
        DEFAULT_SCENARIOS.iter().map(|s| s.to_string()).collect()
    } else {
        args.scenarios
    };
    let scenarios = names.iter().map(|n| Scenario::load(n)).collect::<Result<Vec<_>, _>>()?;
    let rounds = args.rounds.unwrap_or(if args.quick { QUICK_ROUNDS } else { DEFAULT_ROUNDS });
    anyhow::ensure!(rounds >= 1, "--rounds must be at least 1");
    let out_dir = args.out.unwrap_or_else(|| {
        let stamp = run::now_rfc3339().replace(':', "-");
        PathBuf::from("reports").join(stamp)
    });
    Ok(RunOptions {
        scenarios,
        stores: if args.stores.is_empty() { run::default_stores() } else { args.stores },
        rounds,
        duration: args.duration.or(args.quick.then_some(QUICK_DURATION)),
        out_dir,
        quick: args.quick,
        server_exe: std::env::current_exe().context("cannot find the revbench executable")?,
        inject_latency: args.inject_latency,
        pin: args.pin,
        progress: !args.no_progress,
    })
}
