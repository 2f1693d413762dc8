//! `revbench growth` at the CLI edge: arguments to [`GrowthOptions`], a summary table at the end.

use std::fmt::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use super::options::{GrowthOptions, DEFAULT_CHECK_RATE};
use super::scheduler;
use crate::harness::Output;
use crate::results::growth::{GrowthResults, GrowthSeries};
use crate::results::StoreStatus;
use crate::time::parse_duration;

/// `revbench growth`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Store URL to measure (e.g. memory:, redis://127.0.0.1:6379/3,
    /// postgres://postgres@127.0.0.1:5432/postgres?cleanup_interval=5s). It is measured in a
    /// namespace of its own, created and removed by revbench.
    #[arg(long)]
    pub store: Option<String>,

    /// More store URLs, comma-separated, measured one after another with the same settings
    /// (also read from REVBENCH_STORES, which keeps passwords out of the process list).
    #[arg(long, env = crate::harness::STORES_ENV, hide_env_values = true, value_delimiter = ',')]
    pub stores: Vec<String>,

    /// Lifetime of every token (whole seconds, at least 2s).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub token_ttl: Duration,

    /// Logouts per second (each a login, then a logout of that token).
    #[arg(long, default_value_t = 500.0)]
    pub logout_rate: f64,

    /// Checks per second (`GET /api/me`) with a live, non-revoked token.
    #[arg(long, default_value_t = DEFAULT_CHECK_RATE)]
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

    /// Logouts cycle through this many users (default: all one user). A per-user cut-off
    /// (cutoff:, cutoff+redis://) holds one entry per user.
    #[arg(long)]
    pub users: Option<u64>,

    /// Output directory (default reports/growth-<UTC timestamp>/).
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Do not print a line per sample.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `revbench growth` with these arguments.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut stores: Vec<String> = args.store.into_iter().collect();
    stores.extend(crate::harness::store_list(args.stores));
    crate::harness::check_store_urls(&stores)?;
    let out_dir = Output::choose(args.out, "growth-");
    let options = GrowthOptions {
        stores,
        token_ttl: args.token_ttl,
        logout_rate_per_sec: args.logout_rate,
        check_rate_per_sec: args.check_rate,
        duration: args.duration,
        sample_interval: args.sample,
        prefill: args.prefill,
        logout_users: args.users,
        out_dir: out_dir.clone(),
        server_exe: std::env::current_exe().context("cannot find the revbench executable")?,
        progress: !args.quiet,
    };
    let results = scheduler::run(options).await?;
    print!("{}", table(&results));
    println!("results: {}", out_dir.join("results.json").display());
    crate::report::growth::write(&results, &out_dir)?;
    println!("charts:  {}", out_dir.join("charts").join("growth-entries.png").display());
    crate::harness::ensure_measured(&results.stores)?;
    Ok(())
}

/// One row per store: plateau, its ratio to the expected level, bytes per live entry.
pub fn table(results: &GrowthResults) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nexpected steady state: {:.0} entries (prefill {} + {} logouts/s × {} s)",
        results.config.expected_entries,
        results.config.prefill_entries,
        results.config.logout_rate_per_sec,
        results.config.token_ttl_secs
    );
    let _ = writeln!(
        out,
        "{:<9} {:>10} {:>7} {:>10} {:>10} {:>6} {:>13} {:>9} {:>9} {:>10}",
        "store",
        "plateau",
        "ratio",
        "min..",
        "..max",
        "drops",
        "B/live entry",
        "p50 ms",
        "p99 ms",
        "logouts/s"
    );
    for series in &results.series {
        write_series(&mut out, series, results);
    }
    for skipped in results.stores.iter().filter(|s| s.status == StoreStatus::Skipped) {
        let _ =
            writeln!(out, "skipped {}: {}", skipped.name, skipped.reason.as_deref().unwrap_or(""));
    }
    out
}

/// A store's row, then its prefill, notes and the server that answered, indented below it.
fn write_series(out: &mut String, series: &GrowthSeries, results: &GrowthResults) {
    let num = |v: Option<f64>, digits: usize| {
        v.filter(|v| v.is_finite()).map(|v| format!("{v:.digits$}")).unwrap_or("-".into())
    };
    let s = &series.summary;
    let bytes = s
        .bytes_per_live_entry
        .map(|b| format!("{b:.0} ({})", s.bytes_source.as_deref().unwrap_or("?")))
        .unwrap_or("-".into());
    let _ = writeln!(
        out,
        "{:<9} {:>10} {:>7} {:>10} {:>10} {:>6} {:>13} {:>9} {:>9} {:>10.1}",
        series.store,
        num(s.plateau_entries, 0),
        num(s.plateau_ratio, 2),
        num(s.min_entries_after_ttl.map(|v| v as f64), 0),
        num(s.max_entries_after_ttl.map(|v| v as f64), 0),
        s.entry_drops,
        bytes,
        num(s.check_p50_us.map(|v| v as f64 / 1000.0), 3),
        num(s.check_p99_us.map(|v| v as f64 / 1000.0), 3),
        series.achieved_logout_rate_per_sec
    );
    if let Some(p) = &series.prefill {
        let _ = writeln!(
            out,
            "          prefill: {} entries in {:.2} s by the {}",
            p.entries, p.fill_secs, p.filled_by
        );
    }
    for note in &series.notes {
        let _ = writeln!(out, "          note: {note}");
    }
    // A wire-compatible stand-in's figures are not the named product's: say so here too.
    let record = results.stores.iter().find(|r| r.name == series.store);
    if let Some((server, caveat)) =
        record.and_then(|r| Some((r.server_version.as_ref()?, r.server_caveat.as_ref()?)))
    {
        let _ = writeln!(out, "          served by {server}: {caveat}");
    }
}
