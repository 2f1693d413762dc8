//! `revbench instructions` at the CLI edge: `count` (under callgrind), `compare` two counts,
//! and the hidden `loop` that `count` runs under callgrind.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context};

use super::{callgrind, compare, exit_code, Counts, StoreCount, Verdict, SCHEMA_VERSION};
use crate::harness::label::labelled;
use crate::revocation::{Scheme, SCHEMES};

/// `revbench instructions`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Action {
    /// Count the instructions of one revocation check per store under callgrind (N and 2N
    /// checks, differenced) and write them as JSON.
    Count(CountArgs),
    /// Compare two counts: exit 1 when a store's instructions per check grew beyond
    /// --max-regression (or it was not counted), 0 otherwise. Counts are exact: no statistics.
    Compare(CompareArgs),
    /// The loop `count` runs under callgrind.
    #[command(hide = true)]
    Loop(LoopArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct CountArgs {
    /// Stores (comma-separated, NAME=URL names one): those that run in the process, or
    /// `redis://` on loopback. Default: every in-process store.
    #[arg(long, value_delimiter = ',')]
    pub stores: Vec<String>,
    /// N: checks in the smaller loop (the larger runs 2N).
    #[arg(long, default_value_t = 2000)]
    pub checks: u64,
    /// The revbench executable to count (e.g. the base build's); default this one.
    #[arg(long)]
    pub exe: Option<PathBuf>,
    /// Write the counts here (JSON); they are printed either way.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    pub baseline: PathBuf,
    pub current: PathBuf,
    /// Largest tolerated growth of instructions per check, e.g. 1%.
    #[arg(long, default_value = "1%", value_parser = crate::compare::parse_threshold)]
    pub max_regression: f64,
}

#[derive(Debug, Clone, clap::Args)]
pub struct LoopArgs {
    #[arg(long, env = crate::server::command::STORE_ENV, hide_env_values = true)]
    pub store: String,
    #[arg(long)]
    pub checks: u64,
}

/// Runs `revbench instructions`.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.action {
        Action::Count(a) => count(a).map(|()| ExitCode::SUCCESS),
        Action::Compare(a) => compare_files(&a),
        Action::Loop(a) => super::probe::run(&a.store, a.checks).await.map(|()| ExitCode::SUCCESS),
    }
}

fn count(args: CountArgs) -> anyhow::Result<()> {
    if args.checks == 0 {
        bail!("--checks must be at least 1");
    }
    let exe = match args.exe {
        Some(exe) => exe,
        None => std::env::current_exe().context("cannot find this executable")?,
    };
    let entries = if args.stores.is_empty() {
        SCHEMES.iter().filter(|s| s.in_process()).map(|s| s.example.to_string()).collect()
    } else {
        args.stores
    };
    let scratch = std::env::temp_dir().join(format!("revbench-callgrind-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let mut stores = Vec::new();
    for entry in &entries {
        let store = labelled(entry)?;
        countable(store.url)?;
        let n = callgrind::count(&exe, store.url, args.checks, &scratch)?;
        let n2 = callgrind::count(&exe, store.url, 2 * args.checks, &scratch)?;
        let per_check = n2.saturating_sub(n) as f64 / args.checks as f64;
        println!(
            "{}: {per_check:.1} instructions per check ({n} at N={}, {n2} at 2N)",
            store.label, args.checks
        );
        stores.push(StoreCount {
            store: store.label,
            instructions_n: n,
            instructions_2n: n2,
            per_check,
        });
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let counts = Counts {
        schema_version: SCHEMA_VERSION,
        counted_at: crate::time::now_rfc3339(),
        executable: exe.display().to_string(),
        valgrind: valgrind_version(),
        checks: args.checks,
        stores,
    };
    if let Some(out) = &args.out {
        let json = serde_json::to_vec_pretty(&counts)?;
        crate::results::write_atomically(out, &json)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}

/// Stores whose check runs in this process, or `redis://` on loopback (read-only: `EXISTS`).
fn countable(url: &str) -> anyhow::Result<()> {
    let scheme = Scheme::of(url)?;
    let loopback = ["redis://127.0.0.1", "redis://localhost", "redis://[::1]"];
    if scheme.in_process() || loopback.iter().any(|p| url.starts_with(p)) {
        return Ok(());
    }
    bail!(
        "`{}` cannot be counted: use a store that runs in the process, or redis:// on loopback",
        scheme.name
    )
}

fn valgrind_version() -> String {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn read(path: &Path) -> anyhow::Result<Counts> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let counts: Counts = serde_json::from_slice(&text).with_context(|| {
        format!("{} is not a file of `revbench instructions count`", path.display())
    })?;
    if counts.schema_version != SCHEMA_VERSION {
        bail!(
            "{} has schema version {}, this build reads {SCHEMA_VERSION}",
            path.display(),
            counts.schema_version
        );
    }
    Ok(counts)
}

fn compare_files(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let (baseline, current) = (read(&args.baseline)?, read(&args.current)?);
    let changes = compare(&baseline, &current, args.max_regression);
    for c in &changes {
        let b = c.baseline;
        let line = match (c.current, c.change) {
            (Some(k), Some(change)) => format!(
                "{}: {b:.1} → {k:.1} instructions per check ({:+.2}%): {}",
                c.store,
                change * 100.0,
                match c.verdict {
                    Verdict::Worse => "WORSE",
                    Verdict::Better => "better",
                    _ => "no change beyond the threshold",
                }
            ),
            _ => format!("MISSING {}: {b:.1} instructions per check → not counted", c.store),
        };
        println!("{line}");
    }
    println!(
        "rule: worse when instructions per check grew by more than {:.2}% (counts are exact: no statistics)",
        args.max_regression * 100.0
    );
    Ok(ExitCode::from(exit_code(&changes)))
}
