//! Command-line definitions and dispatch. `main.rs` only parses and reports errors.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::token::SigningAlgorithm;

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
    Serve(ServeArgs),
    /// Measure every store under load, in interleaved rounds, and write results.json.
    Run(RunArgs),
    /// Write report.md, report.html and charts from a results.json.
    Report(ReportArgs),
    /// Compare two results files; exit 1 on a regression beyond threshold and noise.
    Compare(CompareArgs),
    /// Fill a store with revoked ids and print the memory it takes per entry.
    Footprint(FootprintArgs),
    /// Watch each store grow and shrink as tokens expire, and write results.json.
    Growth(GrowthArgs),
}

/// `revbench report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// A results.json written by `revbench run`.
    pub results: std::path::PathBuf,

    /// Output directory (default: the results file's directory).
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,

    /// Where criterion's estimates are, for the microbenchmark table.
    #[arg(long, default_value = crate::report::CRITERION_DIR)]
    pub criterion_dir: std::path::PathBuf,
}

/// Output format of `revbench compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareFormat {
    Text,
    Md,
    Json,
}

/// `revbench compare`.
#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// The baseline results.json (e.g. from the base branch).
    pub baseline: std::path::PathBuf,
    /// The current results.json (e.g. from the candidate branch, same runner).
    pub current: std::path::PathBuf,
    /// Largest tolerated worsening of a metric, e.g. 10%.
    #[arg(long, default_value = "10%", value_parser = crate::compare::parse_threshold)]
    pub max_regression: f64,
    #[arg(long, value_enum, default_value_t = CompareFormat::Text)]
    pub format: CompareFormat,
}

/// `revbench run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Scenario name (built-in) or path to a .toml file; repeat for several.
    /// Default: steady, logout-replay, replicas, restart.
    #[arg(long = "scenario", value_name = "NAME|PATH")]
    pub scenarios: Vec<String>,

    /// Comma-separated store URLs. Default: none:, naive:, memory:, plus Redis, PostgreSQL
    /// and MongoDB at REDIS_URL / POSTGRES_URL / MONGODB_URL or their standard local ports.
    #[arg(long, value_delimiter = ',')]
    pub stores: Vec<String>,

    /// Measured time per store, scenario and round (overrides the scenarios' own).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Interleaved rounds (default 3; 2 with --quick).
    #[arg(long)]
    pub rounds: Option<usize>,

    /// Output directory (default `reports/<UTC timestamp>/`).
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,

    /// A short run: 1 s per measurement, 2 rounds.
    #[arg(long)]
    pub quick: bool,

    /// Put the servers and the load client on separate CPUs.
    #[arg(long)]
    pub pin: bool,

    /// Add this delay before every revocation check in the servers (e.g. 1ms).
    #[arg(long, value_parser = parse_duration)]
    pub inject_latency: Option<Duration>,

    /// Do not draw the progress bar or per-measurement lines.
    #[arg(long)]
    pub no_progress: bool,

    /// Do not write report.md, report.html and charts at the end.
    #[arg(long)]
    pub no_report: bool,
}

/// `revbench serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Revocation store URL: none:, naive:, memory:, hashmap:, redis://host:port/db,
    /// mongodb://host:port/db or postgres://user@host:port/db.
    #[arg(long, default_value = "memory:")]
    pub store: String,

    /// Address to listen on; port 0 picks a free port (the chosen address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Lifetime of issued tokens, e.g. 15m, 30s.
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    pub token_ttl: Duration,

    /// Let requests through when the store cannot answer (each one is counted in /stats).
    #[arg(long)]
    pub fail_open: bool,

    /// Signature algorithm; HS256 reads its secret from REVBENCH_JWT_SECRET (32+ bytes).
    #[arg(long, value_enum, default_value_t = SigningAlgorithm::Hs256)]
    pub algorithm: SigningAlgorithm,

    /// Mark the token cookie `Secure` (for a server behind HTTPS).
    #[arg(long)]
    pub secure_cookies: bool,

    /// Add this delay before every revocation check (proves the harness sees a known
    /// slowdown), e.g. 2ms.
    #[arg(long, value_parser = parse_duration)]
    pub inject_latency: Option<Duration>,

    /// Fill the store with this many live entries before listening (used by `revbench growth`).
    #[arg(long, hide = true)]
    pub prefill: Option<u64>,
}

/// `revbench growth`.
#[derive(Debug, Clone, Args)]
pub struct GrowthArgs {
    /// Store URL to measure (e.g. memory:, redis://127.0.0.1:6379/3,
    /// postgres://postgres@127.0.0.1:5432/postgres?cleanup_interval=5s).
    #[arg(long)]
    pub store: Option<String>,

    /// More store URLs, comma-separated, measured one after another with the same settings.
    #[arg(long, value_delimiter = ',')]
    pub stores: Vec<String>,

    /// Lifetime of every token (whole seconds, at least 2s).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub token_ttl: Duration,

    /// Logouts per second (each a login, then a logout of that token).
    #[arg(long, default_value_t = 500.0)]
    pub logout_rate: f64,

    /// Checks per second (`GET /api/me`) with a live, non-revoked token.
    #[arg(long, default_value_t = crate::experiment::growth::DEFAULT_CHECK_RATE)]
    pub check_rate: f64,

    /// Load time per store.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub duration: Duration,

    /// Sample interval.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub sample: Duration,

    /// Start the store with this many live entries (batched fill; time and memory recorded).
    #[arg(long, default_value_t = 0)]
    pub prefill: u64,

    /// Output directory (default reports/growth-<UTC timestamp>/).
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,

    /// Do not print a line per sample.
    #[arg(long)]
    pub quiet: bool,
}

/// `revbench footprint`.
#[derive(Debug, Clone, Args)]
pub struct FootprintArgs {
    /// Store to measure; shared servers get a private key prefix, table or database that is
    /// removed afterwards.
    #[arg(long)]
    pub store: String,

    /// How many ids to revoke.
    #[arg(long, default_value_t = 1_000_000)]
    pub entries: u64,

    /// Token lifetime: entries expire between half of it and all of it from now.
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    pub token_ttl: Duration,

    /// Print the measurement as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Parses `15m`, `30s`, `1h 30m`, … with a message naming the expected form.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    humantime::parse_duration(raw)
        .map_err(|e| format!("`{raw}` is not a duration ({e}); use e.g. 30s, 15m, 1h"))
}

/// Runs the command; the exit code is 0 on success.
pub async fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => crate::server::serve::serve(args).await.map(|()| ExitCode::SUCCESS),
        Command::Run(args) => crate::load::command::run(args).await.map(|()| ExitCode::SUCCESS),
        Command::Report(args) => report(args).map(|()| ExitCode::SUCCESS),
        Command::Compare(args) => compare(args),
        Command::Footprint(args) => footprint(args).await.map(|()| ExitCode::SUCCESS),
        Command::Growth(args) => {
            crate::experiment::command::growth(args).await.map(|()| ExitCode::SUCCESS)
        }
    }
}

fn report(args: ReportArgs) -> anyhow::Result<()> {
    let results = crate::results::RunResults::read(&args.results)?;
    let out = args.out.unwrap_or_else(|| {
        args.results.parent().map(std::path::Path::to_path_buf).unwrap_or_default()
    });
    let written = crate::report::write(&results, &out, Some(&args.criterion_dir))?;
    for path in written.iter().filter(|p| p.extension().is_some_and(|e| e == "md" || e == "html")) {
        println!("wrote {}", path.display());
    }
    println!("wrote {} charts in {}", written.len() - 2, out.join("charts").display());
    Ok(())
}

fn compare(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let baseline = crate::results::RunResults::read(&args.baseline)?;
    let current = crate::results::RunResults::read(&args.current)?;
    let comparison = crate::compare::compare(&baseline, &current, args.max_regression)?;
    let text = match args.format {
        CompareFormat::Text => comparison.text(),
        CompareFormat::Md => comparison.markdown(),
        CompareFormat::Json => comparison.json(),
    };
    print!("{text}");
    Ok(if comparison.has_regression() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

async fn footprint(args: FootprintArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    let request = crate::footprint::FootprintRequest {
        store_url: args.store.clone(),
        entries: args.entries,
        token_ttl: args.token_ttl,
    };
    let measured = crate::footprint::measure(&request)
        .await
        .with_context(|| format!("measuring the footprint of {}", args.store))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&measured)?);
    } else {
        println!("{}", measured.summary());
    }
    Ok(())
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
}
