//! The command enum and dispatch. Each command's arguments live beside its handler
//! (`<module>::command::{Args, run}`); `main.rs` only parses and reports errors.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// revbench: what it costs, and what it buys, to revoke JWTs at logout.
#[derive(Debug, Parser)]
#[command(name = "revbench", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the reference auth server with one revocation store.
    Serve(crate::server::command::Args),
    /// Measure every store under load, in interleaved rounds, and write results.json.
    Run(crate::run::command::Args),
    /// Write report.md, report.html and charts from a results.json.
    Report(crate::report::command::Args),
    /// Compare two results files; exit 1 when a metric is worse beyond the threshold (exact
    /// test, Holm-corrected at 5% family-wise) or correctness got worse, 3 when too few rounds
    /// or pairs were measured to call a metric.
    #[command(after_long_help = crate::compare::RULE)]
    Compare(crate::compare::command::Args),
    /// Merge the results files of load generators that ran side by side into one (exact
    /// percentiles from their histograms).
    Merge(crate::merge::command::Args),
    /// Print a results file as Bencher Metric Format or github-action-benchmark JSON.
    Export(crate::export::command::Args),
    /// Fill a store with revoked ids and print the memory it takes per entry.
    Footprint(crate::footprint::command::Args),
    /// Watch each store grow and shrink as tokens expire, and write results.json.
    Growth(crate::growth::command::Args),
    /// List the namespaces revbench made under a store URL (keys, tables, databases) and
    /// remove those older than --older-than: what a killed run left.
    Clean(crate::clean::command::Args),
    /// Measure every store along an axis (e.g. revoked=0,10k,1M,10M live revoked entries),
    /// each point a full run in interleaved rounds, and write results.json and a report.
    Sweep(crate::sweep::command::Args),
    /// What each strategy would cost at your numbers (users, logout rate, token TTL,
    /// replicas, requests/s), from a sweep's measurements; with limits, which ones meet them.
    Size(crate::size::command::Args),
    /// Check a results file against absolute thresholds ('p99 < 2ms', 'leak == 0'): exit 1
    /// when one is crossed, 3 when an interval straddles one, 0 when every one is met.
    Check(crate::check::command::Args),
    /// Find level shifts per store, scenario and metric over a series of results files (e.g.
    /// nightly runs) with E-divisive means, and chart each shifted metric.
    History(crate::history::command::Args),
    /// Count the instructions of one revocation check per store under valgrind's callgrind
    /// (`count`), and gate a candidate's counts against a baseline's (`compare`, exit 1).
    Instructions(crate::instructions::command::Args),
}

/// Runs the command; the exit code is 0 on success.
pub async fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    let done = |()| ExitCode::SUCCESS;
    match cli.command {
        Command::Serve(args) => crate::server::command::run(args).await.map(done),
        Command::Run(args) => crate::run::command::run(args).await.map(done),
        Command::Report(args) => crate::report::command::run(args).await.map(done),
        Command::Compare(args) => crate::compare::command::run(args),
        Command::Merge(args) => crate::merge::command::run(args).map(done),
        Command::Export(args) => crate::export::command::run(args).map(done),
        Command::Footprint(args) => crate::footprint::command::run(args).await.map(done),
        Command::Growth(args) => crate::growth::command::run(args).await.map(done),
        Command::Clean(args) => crate::clean::command::run(args).await.map(done),
        Command::Sweep(args) => crate::sweep::command::run(args).await.map(done),
        Command::Size(args) => crate::size::command::run(args).await.map(done),
        Command::Check(args) => crate::check::command::run(args),
        Command::History(args) => crate::history::command::run(args),
        Command::Instructions(args) => crate::instructions::command::run(args).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `footprint` parses its flags and defaults to a million entries.
    #[test]
    fn footprint_flags_parse() {
        let cli = Cli::try_parse_from(["revbench", "footprint", "--store", "hashmap:", "--json"])
            .unwrap();
        let Command::Footprint(args) = cli.command else { panic!("not footprint") };
        assert_eq!((args.store.as_str(), args.entries, args.json), ("hashmap:", 1_000_000, true));
        assert!(Cli::try_parse_from(["revbench", "footprint"]).is_err(), "--store is required");
    }

    /// The store lists in `--help` come from the scheme table, so none is missing.
    #[test]
    fn help_lists_every_scheme() {
        use clap::CommandFactory;
        let mut cli = Cli::command();
        for sub in ["serve", "run"] {
            let help = cli.find_subcommand_mut(sub).unwrap().render_long_help().to_string();
            for scheme in crate::revocation::SCHEMES {
                assert!(help.contains(scheme.example), "{sub} --help lacks {}", scheme.example);
            }
        }
    }
}
