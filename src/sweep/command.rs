//! `revbench sweep` at the CLI edge: its arguments, turned into [`SweepOptions`]; the summary.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use super::axis::Axis;
use super::fill_time::DEFAULT_MAX_FILL_TIME;
use super::point::scenario_at;
use super::scheduler::{self, SweepOptions};
use super::summary;
use crate::harness::{check_store_urls, ensure_measured, store_list, Output, STORES_ENV};
use crate::scenario::Scenario;
use crate::time::parse_duration;

/// `revbench sweep`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The axis and its values, increasing: `revoked=0,10k,100k,1M,10M` measures every store
    /// holding that many live revoked entries (k, M, G: thousands, millions, billions); also
    /// `users=1,8,64`, `rate=500,2k` (requests/s), `replicas=1,2,4`, `token-ttl=1m,15m,1h`,
    /// `logout-rate=0,1%,10%` (of the users' actions), `store-rtt=0ms,0.5ms,1ms` (a round
    /// trip added between the servers and a shared store, measured).
    #[arg(long, value_name = "NAME=V1,V2,…")]
    pub axis: Axis,

    /// Scenario name (built-in) or path to a .toml file.
    #[arg(long, value_name = "NAME|PATH", default_value = "check-only")]
    pub scenario: String,

    /// Comma-separated store URLs, each optionally NAME=URL, as for `revbench run` (also read
    /// from REVBENCH_STORES). Each is measured in a namespace of the sweep's own.
    #[arg(long, env = STORES_ENV, hide_env_values = true, value_delimiter = ',', required = true)]
    pub stores: Vec<String>,

    /// Interleaved rounds per point.
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,

    /// Measured time per store, point and round (default: the scenario's own).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Load applied before each measurement and not recorded.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub warmup: Duration,

    /// Output directory (default `reports/sweep-<UTC timestamp>/`).
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// The longest one store's fill to one point may take: a fill projected past it (from
    /// the previous point's rate, then from its own after its first 20k entries) is not
    /// waited for; the store is stopped at that point with the projection as the reason, and
    /// the sweep goes on with the others.
    #[arg(long, value_name = "DURATION", default_value = DEFAULT_MAX_FILL_TIME, value_parser = parse_duration)]
    pub max_fill_time: Duration,

    /// Do not print progress lines.
    #[arg(long)]
    pub no_progress: bool,

    /// Do not write report.md and charts at the end.
    #[arg(long)]
    pub no_report: bool,
}

/// Runs `revbench sweep` with these arguments.
pub async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.rounds >= 1, "--rounds must be at least 1");
    anyhow::ensure!(!args.max_fill_time.is_zero(), "--max-fill-time must be more than 0 s");
    let scenario = Scenario::load(&args.scenario)?;
    for &value in &args.axis.values {
        // Every point's scenario is checked before anything starts.
        scenario_at(args.axis.kind(), &scenario, value).map_err(anyhow::Error::msg)?;
    }
    let stores = store_list(args.stores);
    check_store_urls(&stores)?;
    let options = SweepOptions {
        duration: args.duration.unwrap_or(scenario.duration),
        axis: args.axis,
        scenario,
        stores,
        rounds: args.rounds,
        warmup: args.warmup,
        out_dir: Output::choose(args.out, "sweep-"),
        server_exe: std::env::current_exe().context("cannot find the revbench executable")?,
        progress: !args.no_progress,
        max_fill_time: args.max_fill_time,
    };
    let out_dir = options.out_dir.clone();
    let results = scheduler::run(options).await?;
    print!("{}", summary::table(&results));
    println!("results: {}", out_dir.join("results.json").display());
    ensure_measured(&results.stores)?;
    if !args.no_report {
        let source = out_dir.join("results.json").display().to_string();
        let sizing = crate::size::command::example_answer(&results, &source).await;
        for path in crate::report::sweep::write(&results, &out_dir, sizing.as_deref())? {
            if path.extension().is_some_and(|e| e == "md" || e == "html") {
                println!("report:  {}", path.display());
            }
        }
    }
    Ok(())
}
