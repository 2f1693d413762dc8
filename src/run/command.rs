//! `revbench run` at the CLI edge: its arguments, turned into [`RunOptions`]; the summary.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::Context;

use super::options::{self, RunOptions, DEFAULT_ROUNDS, QUICK_DURATION, QUICK_ROUNDS};
use super::scheduler;
use super::segment::Segment;
use super::summary;
use crate::harness::{check_store_urls, ensure_measured, store_list, Output, STORES_ENV};
use crate::scenario::{Scenario, DEFAULT_SCENARIOS};
use crate::time::parse_duration;

/// `revbench run`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Scenario name (built-in) or path to a .toml file; repeat for several.
    /// Default: steady, logout-replay, replicas, restart.
    #[arg(long = "scenario", value_name = "NAME|PATH")]
    pub scenarios: Vec<String>,

    /// Comma-separated store URLs, each optionally NAME=URL (also read from REVBENCH_STORES,
    /// which keeps passwords out of the process list).
    #[arg(long, env = STORES_ENV, hide_env_values = true, value_delimiter = ',', long_help = stores_help())]
    pub stores: Vec<String>,

    /// Measure servers already running elsewhere instead of starting them: comma-separated
    /// `revbench serve` base URLs (e.g. http://10.0.0.5:8080), replicas of one deployment.
    #[arg(
        long = "target",
        value_name = "URL[,URL…]",
        value_delimiter = ',',
        conflicts_with_all = ["stores", "baseline_binary", "candidate_binary", "inject_latency", "inject_work", "pin"],
        long_help = TARGET_HELP
    )]
    pub targets: Vec<String>,

    /// The admin token the --target servers were started with (`serve --admin-token`): their
    /// /stats answers only with it. Also read from REVBENCH_ADMIN_TOKEN.
    #[arg(long, env = crate::server::admin::ADMIN_TOKEN_ENV, hide_env_values = true, requires = "targets")]
    pub admin_token: Option<String>,

    /// Measured time per store, scenario and round (overrides the scenarios' own).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Interleaved rounds (default 3; 2 with --quick).
    #[arg(long)]
    pub rounds: Option<usize>,

    /// Output directory (default `reports/<UTC timestamp>/`).
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// A short run: 1 s per measurement, 2 rounds.
    #[arg(long)]
    pub quick: bool,

    /// Put the servers and the load client on separate CPUs.
    #[arg(long)]
    pub pin: bool,

    /// Add this delay before every revocation check in the servers (e.g. 1ms).
    #[arg(long, value_parser = parse_duration)]
    pub inject_latency: Option<Duration>,

    /// Add this much CPU work to every revocation check in the servers (e.g. 430ns: 5% of a
    /// server that spends 8.6 µs of CPU per request); see `serve --inject-work`.
    #[arg(long, value_parser = parse_duration)]
    pub inject_work: Option<Duration>,

    /// Do not draw the progress bar or per-measurement lines.
    #[arg(long)]
    pub no_progress: bool,

    /// Do not write report.md, report.html and charts at the end.
    #[arg(long)]
    pub no_report: bool,

    /// Run only generator K's share (0-based) of N generators' load: its share of every
    /// scenario's users and rate. Merge the N results files with `revbench merge`.
    #[arg(long, value_name = "K/N")]
    pub segment: Option<Segment>,

    /// Start at this UTC time (RFC 3339, e.g. 2026-11-29T01:00:00Z), so several generators
    /// begin together.
    #[arg(long, value_name = "TIME", value_parser = parse_start_at)]
    pub start_at: Option<SystemTime>,

    /// Load applied before each measurement and not recorded (cold connections, caches).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub warmup: Duration,

    /// A paired run: serve every store with this (base) build's `revbench` and with this
    /// build's, alternately in back-to-back pairs (ABBA), one pair per round; writes
    /// base.json and candidate.json for `revbench compare`.
    #[arg(long, value_name = "PATH")]
    pub baseline_binary: Option<PathBuf>,

    /// The `revbench` whose servers are measured (the candidate side of a paired run);
    /// default: this executable. Any program that accepts `serve` as revbench does will do.
    #[arg(long, value_name = "PATH")]
    pub candidate_binary: Option<PathBuf>,
}

const TARGET_HELP: &str = "Measure reference servers that are already running elsewhere \
instead of starting them: comma-separated `revbench serve` base URLs (plain http://host:port), \
replicas of one deployment that share one store and one JWT secret. Their store is read from \
each one's GET /stats; all must report the same. Scenarios run as usual, a scenario's replicas \
being the first targets (the `replicas` scenario needs two). revbench never clears, restarts or \
cuts off these servers or their store: `restart`, `store-outage` and `outage-replicas` are \
listed as not applicable, the store is not emptied between measurements, and the servers' \
memory and CPU are not measured. Conflicts with --stores, --baseline-binary, \
--candidate-binary, --inject-latency, --inject-work and --pin.";

/// The longest `--start-at` wait accepted (a typo in the date should not hang a job for days).
const MAX_START_WAIT: Duration = Duration::from_secs(3600);

fn parse_start_at(text: &str) -> Result<SystemTime, String> {
    humantime::parse_rfc3339(text)
        .map_err(|e| format!("`{text}`: {e}; use RFC 3339 UTC, e.g. 2026-11-29T01:00:00Z"))
}

/// Sleeps until `start_at` (at most [`MAX_START_WAIT`] ahead; a time already past starts now).
async fn wait_until(start_at: SystemTime) -> anyhow::Result<()> {
    let Ok(wait) = start_at.duration_since(SystemTime::now()) else { return Ok(()) };
    anyhow::ensure!(
        wait <= MAX_START_WAIT,
        "--start-at is {} s away, more than {} s; check the date",
        wait.as_secs(),
        MAX_START_WAIT.as_secs()
    );
    tokio::time::sleep(wait).await;
    Ok(())
}

fn stores_help() -> String {
    format!(
        "Comma-separated store URLs, of the forms {}. Default: every in-process store, plus \
         Redis, PostgreSQL and MongoDB at REDIS_URL / POSTGRES_URL / MONGODB_URL or their \
         standard local ports, and Redis Cluster at REDIS_CLUSTER_URL when it is set. Each is \
         measured in a namespace of its own (a key prefix, table or database revbench creates \
         and removes), never in one the URL names. A store is named in results after its URL: \
         the scheme, then the host, port, database and parameters that differ from the \
         scheme's default local URL (redis://127.0.0.1:6379/9?prefix=a: is \
         `redis/9?prefix=a:`), so two URLs are two stores; NAME=URL names it NAME (letters, \
         digits, - and _), e.g. a=redis://h/9,b=redis://h/9?prefix=x:.",
        crate::revocation::scheme_examples()
    )
}

/// Runs `revbench run` with these arguments.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let no_report = args.no_report;
    let start_at = args.start_at;
    let options = options(args)?;
    if let Some(start_at) = start_at {
        wait_until(start_at).await?;
    }
    let out_dir = options.out_dir.clone();
    if options.baseline_exe.is_some() {
        return paired(options, no_report).await;
    }
    let results = scheduler::run(options).await?;
    print!("{}", summary::table(&results));
    println!("results: {}", out_dir.join("results.json").display());
    ensure_measured(&results.stores)?;
    if !no_report {
        let criterion = std::path::Path::new(crate::report::CRITERION_DIR);
        crate::report::write(&results, &out_dir, Some(criterion))?;
        println!("report: {}", out_dir.join("report.md").display());
        println!("        {}", out_dir.join("report.html").display());
    }
    Ok(())
}

/// A paired run: both sides' tables, then the comparison (exit status stays 0: the gate is
/// `revbench compare`, which the summary names).
async fn paired(options: RunOptions, no_report: bool) -> anyhow::Result<()> {
    let out_dir = options.out_dir.clone();
    let both = scheduler::run_paired(options).await?;
    println!("\nbase ({}):", both.base.config.paired.as_ref().map_or("", |p| &p.server_exe));
    print!("{}", summary::table(&both.base));
    println!("\ncandidate:");
    print!("{}", summary::table(&both.candidate));
    // Both sides list the same stores: when every one was skipped there is nothing to compare.
    ensure_measured(&both.candidate.stores)?;
    let base = out_dir.join(options::BASE_FILE);
    let candidate = out_dir.join(options::CANDIDATE_FILE);
    match crate::compare::compare(&both.base, &both.candidate, crate::compare::DEFAULT_THRESHOLD) {
        Ok(comparison) => print!("\n{}", comparison.text()),
        Err(e) => println!("\ncannot compare the two sides: {e}"),
    }
    println!("results: {} and {}", base.display(), candidate.display());
    println!("gate:    revbench compare {} {}", base.display(), candidate.display());
    if !no_report {
        let criterion = std::path::Path::new(crate::report::CRITERION_DIR);
        crate::report::write(&both.candidate, &out_dir, Some(criterion))?;
        println!("report (candidate): {}", out_dir.join("report.md").display());
    }
    Ok(())
}

fn options(args: Args) -> anyhow::Result<RunOptions> {
    let names: Vec<String> = if args.scenarios.is_empty() {
        DEFAULT_SCENARIOS.iter().map(|s| s.to_string()).collect()
    } else {
        args.scenarios
    };
    let mut scenarios = names.iter().map(|n| Scenario::load(n)).collect::<Result<Vec<_>, _>>()?;
    if let Some(segment) = args.segment {
        for scenario in &mut scenarios {
            segment.apply(scenario).map_err(|e| anyhow::anyhow!("--segment {segment}: {e}"))?;
        }
    }
    let rounds = args.rounds.unwrap_or(if args.quick { QUICK_ROUNDS } else { DEFAULT_ROUNDS });
    anyhow::ensure!(rounds >= 1, "--rounds must be at least 1");
    Ok(RunOptions {
        scenarios,
        stores: if !args.targets.is_empty() {
            Vec::new()
        } else if args.stores.is_empty() {
            options::default_stores()
        } else {
            let stores = store_list(args.stores);
            check_store_urls(&stores)?;
            stores
        },
        targets: args.targets,
        admin_token: args.admin_token,
        rounds,
        duration: args.duration.or(args.quick.then_some(QUICK_DURATION)),
        out_dir: Output::choose(args.out, ""),
        quick: args.quick,
        server_exe: match args.candidate_binary {
            Some(path) => path,
            None => std::env::current_exe().context("cannot find the revbench executable")?,
        },
        inject_latency: args.inject_latency,
        inject_work: args.inject_work,
        pin: args.pin,
        progress: !args.no_progress,
        warmup: args.warmup,
        baseline_exe: args.baseline_binary,
    })
}
