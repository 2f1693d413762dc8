//! `revbench size` at the CLI edge: the user's numbers, a sweep's measurements, the table.

use std::fmt::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use super::{judge, size_all, Constraints, Keeping, Load, Placement, Sizing};
use crate::results::axis::REVOKED;
use crate::results::sweep::SweepResults;
use crate::time::parse_duration;
use crate::units::{parse_bytes, parse_count, short_bytes, short_count};

/// The committed example sweep, read when no `--from` is given.
pub const EXAMPLE_SWEEP: &str = "reports/example-sweep/results.json";

/// `revbench size`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Users (sessions) of the system, e.g. 2M.
    #[arg(long, value_parser = parse_count)]
    pub users: u64,

    /// Logouts per user per hour, e.g. 0.05.
    #[arg(long)]
    pub logouts_per_user_per_hour: f64,

    /// Lifetime of an access token.
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    pub token_ttl: Duration,

    /// Server replicas behind the load balancer.
    #[arg(long, default_value_t = 1)]
    pub replicas: u64,

    /// Requests per second, all replicas together (each one a check).
    #[arg(long)]
    pub rps: f64,

    /// A `revbench sweep` results.json to take the measurements from (default: the
    /// committed example sweep, reports/example-sweep/results.json).
    #[arg(long, value_name = "PATH")]
    pub from: Option<PathBuf>,

    /// Longest a copied token may keep working after logout, e.g. 1s.
    #[arg(long, value_parser = parse_duration)]
    pub max_window: Option<Duration>,

    /// Largest check p99 added to a request beyond no check at all, e.g. 0.5ms.
    #[arg(long, value_parser = parse_duration)]
    pub max_added_p99: Option<Duration>,

    /// Largest memory the strategy may take in each server process, e.g. 256MiB.
    #[arg(long, value_parser = parse_bytes)]
    pub max_memory_per_replica: Option<u64>,

    /// Checks must go on while the shared store is down.
    #[arg(long)]
    pub survive_store_outage: bool,
}

/// Runs `revbench size` with these arguments.
pub async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.logouts_per_user_per_hour >= 0.0 && args.logouts_per_user_per_hour.is_finite(),
        "--logouts-per-user-per-hour must be a number ≥ 0"
    );
    anyhow::ensure!(args.replicas >= 1, "--replicas must be at least 1");
    anyhow::ensure!(args.rps >= 0.0 && args.rps.is_finite(), "--rps must be a number ≥ 0");
    let path = args.from.clone().unwrap_or_else(|| PathBuf::from(EXAMPLE_SWEEP));
    let sweep = SweepResults::read(&path).with_context(|| match &args.from {
        Some(_) => "--from needs a `revbench sweep` results.json".to_string(),
        None => format!(
            "no --from given and the example sweep {EXAMPLE_SWEEP} cannot be read; run from \
             the project directory or pass --from <sweep>/results.json"
        ),
    })?;
    anyhow::ensure!(
        sweep.config.axis == REVOKED,
        "{} sweeps `{}`: sizing reads a sweep of the revoked set's size (--axis revoked=…)",
        path.display(),
        sweep.config.axis
    );
    let load = Load {
        users: args.users,
        logouts_per_user_per_hour: args.logouts_per_user_per_hour,
        token_ttl: args.token_ttl,
        replicas: args.replicas,
        rps: args.rps,
    };
    let forgetful = never_forgetting_schemes().await;
    let sizings = size_all(&load, &sweep, &|scheme| forgetful.contains(&scheme));
    anyhow::ensure!(!sizings.is_empty(), "{} measured no store", path.display());
    let limits = Constraints {
        max_window: args.max_window,
        max_added_p99: args.max_added_p99,
        max_memory_per_replica: args.max_memory_per_replica,
        survive_store_outage: args.survive_store_outage,
    };
    print!("{}", text(&load, &path.display().to_string(), &sweep, &sizings, &limits));
    Ok(())
}

/// The example system: 2M users, 0.05 logouts per user per hour, 15-minute tokens,
/// 6 replicas, 20,000 requests/s — what a sweep's report sizes.
pub const EXAMPLE_LOAD: Load = Load {
    users: 2_000_000,
    logouts_per_user_per_hour: 0.05,
    token_ttl: Duration::from_secs(15 * 60),
    replicas: 6,
    rps: 20_000.0,
};

/// `revbench size`'s table for [`EXAMPLE_LOAD`] from `sweep` (read from `source`), without
/// limits; `None` when the sweep is not of the revoked set's size or sizes no store.
pub async fn example_answer(sweep: &SweepResults, source: &str) -> Option<String> {
    if sweep.config.axis != REVOKED {
        return None;
    }
    let forgetful = never_forgetting_schemes().await;
    let sizings = size_all(&EXAMPLE_LOAD, sweep, &|scheme| forgetful.contains(&scheme));
    let no_limits = Constraints {
        max_window: None,
        max_added_p99: None,
        max_memory_per_replica: None,
        survive_store_outage: false,
    };
    (!sizings.is_empty()).then(|| text(&EXAMPLE_LOAD, source, sweep, &sizings, &no_limits))
}

/// The in-process schemes whose entries never expire (`naive:`), asked of the stores
/// themselves.
async fn never_forgetting_schemes() -> Vec<&'static str> {
    let mut out = Vec::new();
    for scheme in crate::revocation::SCHEMES.iter().filter(|s| s.in_process()) {
        if let Ok(store) = crate::revocation::open(scheme.example).await {
            let c = store.capabilities();
            if c.remembers && !c.expires {
                out.push(scheme.name);
            }
        }
    }
    out
}

/// The whole answer: the arithmetic, one row per strategy, and the verdicts.
pub fn text(
    load: &Load,
    source: &str,
    sweep: &SweepResults,
    sizings: &[Sizing],
    limits: &Constraints,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} users × {} logouts/user/hour = {:.1} logouts/s; token TTL {} s; {} replica(s); {} \
         requests/s",
        short_count(load.users),
        load.logouts_per_user_per_hour,
        load.logouts_per_sec(),
        load.token_ttl.as_secs(),
        load.replicas,
        load.rps
    );
    let _ = writeln!(
        out,
        "live entries: {:.0} revoked tokens (logouts/s × TTL), {:.0} users who logged out within \
         a TTL (per-user cut-offs)",
        load.revoked_tokens(),
        load.users_logged_out()
    );
    let _ = writeln!(
        out,
        "measurements: {source} ({} = {}, scenario {}, started {})\n",
        sweep.config.axis,
        sweep.config.values.iter().map(|v| short_count(*v)).collect::<Vec<_>>().join(", "),
        sweep.config.scenario.name,
        sweep.header.started_at
    );
    let width = sizings.iter().map(|s| s.store.len()).max().unwrap_or(5).max(5);
    let _ = writeln!(
        out,
        "{:<width$}  {:>9}  {:>11}  {:>12}  {:>12}  {:>12}  {:>11}  {:>16}  {:>11}  {:>10}",
        "store",
        "keeps",
        "entries",
        "bytes/entry",
        "per replica",
        "in all",
        "B/entry/rep",
        "check p50 / p99",
        "store ops/s",
        "window"
    );
    for s in sizings {
        let _ = writeln!(out, "{}", row(s, width));
    }
    let notes: Vec<String> = sizings
        .iter()
        .filter_map(|s| s.check.as_ref()?.beyond.as_ref().map(|b| format!("{}: {b}", s.store)))
        .collect();
    for note in notes {
        let _ = writeln!(out, "note: {note}");
    }
    if limits.any() {
        let _ = writeln!(out, "\nagainst the limits:");
        for verdict in judge(sizings, limits) {
            if verdict.breaches.is_empty() {
                let cost = verdict.sizing.memory_total.map_or("unknown".into(), short_bytes);
                let _ = writeln!(out, "  meets all: {} ({cost} in all)", verdict.sizing.store);
            } else {
                let why: Vec<&str> = verdict.breaches.iter().map(|b| b.0.as_str()).collect();
                let _ = writeln!(out, "  fails:     {}: {}", verdict.sizing.store, why.join("; "));
            }
        }
    }
    out
}

fn row(s: &Sizing, width: usize) -> String {
    let keeps = match (s.keeping, s.placement) {
        (Keeping::Nothing, _) => "nothing",
        (Keeping::NotSized, _) => "sessions",
        (Keeping::PerUser, _) => "per user",
        (Keeping::PerToken, Placement::PerReplica) => "token/rep",
        (Keeping::PerToken, _) => "per token",
    };
    let entries = match (s.entries, s.grows_per_hour) {
        (_, Some(per_hour)) => format!("+{}/h", short_count(per_hour as u64)),
        (Some(n), _) => short_count(n.round() as u64),
        (None, None) => "not sized".to_string(),
    };
    let bytes = |b: Option<f64>| b.map_or("-".to_string(), short_bytes);
    let per_entry =
        s.bytes_per_entry.map_or("-".to_string(), |(b, at)| format!("{b:.0}@{}", short_count(at)));
    let check = s.check.as_ref().map_or("-".to_string(), |c| {
        let mark = if c.beyond.is_some() { "*" } else { "" };
        format!("{:.3}/{:.3} ms{mark}", c.p50_us / 1e3, c.p99_us / 1e3)
    });
    let window = s.window.secs.map_or("unknown".to_string(), |w| {
        if w >= 1.0 {
            format!("{w:.0} s")
        } else {
            format!("{:.1} ms", w * 1e3)
        }
    });
    let per_replica_entry =
        s.bytes_per_entry_per_replica().map_or("-".to_string(), |b| format!("{b:.0} B"));
    format!(
        "{:<width$}  {keeps:>9}  {entries:>11}  {per_entry:>12}  {:>12}  {:>12}  \
         {per_replica_entry:>11}  {check:>16}  {:>11.0}  {window:>10}",
        s.store,
        bytes(s.memory_per_replica),
        bytes(s.memory_total),
        s.store_ops_per_sec,
    )
}
