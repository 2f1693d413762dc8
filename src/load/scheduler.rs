//! `revbench run`'s scheduler: which measurement comes next (interleaved rounds), and the
//! results file rewritten after each one, so a crash loses nothing.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use super::measure::{measure, Position};
use super::progress::Progress;
use crate::harness::output::{http_client, shared_secret};
use crate::harness::pinning;
use crate::harness::{probe, Output, ReplicaSpec, Target};
use crate::interrupt::Interrupt;
use crate::results::{
    Measurement, NotApplicable, ResultsHeader, RoundResult, RunConfig, RunResults, StoreStatus,
};
use crate::scenario::Scenario;

/// Measured time per store and scenario with `--quick`.
pub const QUICK_DURATION: Duration = Duration::from_secs(1);
/// Rounds with `--quick` (interleaving needs at least two).
pub const QUICK_ROUNDS: usize = 2;
/// Rounds by default.
pub const DEFAULT_ROUNDS: usize = 3;

/// How long killed replicas get to stop writing before an interrupted run removes its
/// namespaces.
const INTERRUPT_GRACE: Duration = Duration::from_millis(300);

/// What to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub scenarios: Vec<Scenario>,
    /// Store URLs; see [`default_stores`].
    pub stores: Vec<String>,
    pub rounds: usize,
    /// Overrides every scenario's duration.
    pub duration: Option<Duration>,
    pub out_dir: PathBuf,
    pub quick: bool,
    /// The `revbench` executable that serves replicas.
    pub server_exe: PathBuf,
    pub inject_latency: Option<Duration>,
    pub pin: bool,
    /// Draw a progress bar (on a terminal) and per-measurement lines.
    pub progress: bool,
}

/// The stores measured when none are named: every in-process one, and Redis (as a deny-list,
/// as `hybrid+redis`: local checks kept in sync through it, and as `cutoff+redis`: per-user
/// cut-offs), PostgreSQL and MongoDB at `REDIS_URL` / `POSTGRES_URL` / `MONGODB_URL` or their
/// standard local ports (skipped, with the reason, when they do not answer).
/// Redis Cluster too when `REDIS_CLUSTER_URL` is set (it has no standard address), next to
/// single-node Redis.
pub fn default_stores() -> Vec<String> {
    let env_or =
        |var: &str, default: &str| std::env::var(var).unwrap_or_else(|_| default.to_string());
    let in_process = crate::revocation::SCHEMES.iter().filter(|s| s.in_process());
    let mut stores: Vec<String> = in_process.map(|s| s.example.to_string()).collect();
    let redis = env_or("REDIS_URL", "redis://127.0.0.1:6379");
    stores.extend([
        format!("hybrid+{redis}"),
        format!("cutoff+{redis}"),
        redis,
        env_or("POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        env_or("MONGODB_URL", "mongodb://127.0.0.1:27017"),
    ]);
    let redis = stores.len() - 2;
    stores.splice(redis..redis, std::env::var("REDIS_CLUSTER_URL").ok());
    stores
}

/// Runs everything and returns the results (also written to `out_dir/results.json`). Every
/// store is measured in a namespace of its own, removed at the end, on failure and on Ctrl-C
/// (SIGINT) or SIGTERM: a run leaves no key, table or database behind.
pub async fn run(options: RunOptions) -> anyhow::Result<RunResults> {
    // Before any load starts, so the signal reaches us and not goose (see `Interrupt`).
    let mut interrupt = Interrupt::listen().context("cannot listen for Ctrl-C")?;
    let output = Output::create(&options.out_dir)?;
    let placement = place_processes(options.pin)?;
    let (targets, stores) = probe(&options.stores, "run").await;
    let mut results = RunResults {
        header: ResultsHeader::start(),
        config: RunConfig {
            scenarios: options.scenarios.clone(),
            rounds: options.rounds,
            quick: options.quick,
            injected_latency_us: options.inject_latency.map(|d| d.as_micros() as u64),
            placement: placement.description.clone(),
        },
        stores,
        measurements: Vec::new(),
        not_applicable: Vec::new(),
    };
    let measured = tokio::select! {
        measured = measure_all(&options, &output, &placement, &targets, &mut results) => measured,
        () = interrupt.recv() => {
            // The measurement was dropped, killing its replicas; stop the load and let them
            // die before cleaning.
            super::attack::stop();
            tokio::time::sleep(INTERRUPT_GRACE).await;
            Err(anyhow::anyhow!("interrupted; results so far are in {}", output.results.display()))
        }
    };
    for target in targets {
        let name = target.name.clone();
        if let Err(e) = target.remove().await {
            eprintln!("warning: could not remove the run's namespace in {name}: {e}");
        }
    }
    measured?;
    results.header.finish();
    output.write(|path| results.write(path))?;
    Ok(results)
}

/// Every round, store and scenario, interleaved: round 1 visits every store, then round 2 does
/// again, so drift on the machine hits every store alike.
async fn measure_all(
    options: &RunOptions,
    output: &Output,
    placement: &Placement,
    targets: &[Target],
    results: &mut RunResults,
) -> anyhow::Result<()> {
    output.write(|path| results.write(path))?;
    for skipped in results.stores.iter().filter(|s| s.status == StoreStatus::Skipped) {
        eprintln!("skipped {}: {}", skipped.url, skipped.reason.as_deref().unwrap_or(""));
    }
    let http = http_client()?;
    let secret = shared_secret();
    let total = options.rounds * targets.len() * options.scenarios.len();
    let progress = Progress::start(
        options.progress,
        total,
        targets.len(),
        options.scenarios.len(),
        options.rounds,
        mean_duration(options),
    );
    let mut sequence = 0;
    for round in 1..=options.rounds {
        for target in targets {
            for scenario in &options.scenarios {
                if scenario.outage.is_some() && !target.handle().capabilities().shared {
                    results.not_applicable.push(NotApplicable {
                        store: target.name.clone(),
                        scenario: scenario.name.clone(),
                        reason: "an in-process store cannot be cut off from its server".to_string(),
                    });
                    results.not_applicable.dedup();
                    progress.passed_over();
                    continue;
                }
                sequence += 1;
                progress.now_measuring(round, options.rounds, &target.name, &scenario.name);
                let spec = ReplicaSpec {
                    exe: options.server_exe.clone(),
                    store_url: target.url.clone(),
                    token_ttl: scenario.token_ttl,
                    jwt_secret: secret.clone(),
                    inject_latency: options.inject_latency,
                    fail_open: false,
                    cpus: placement.server_cpus.clone(),
                };
                let duration = options.duration.unwrap_or(scenario.duration);
                let at = Position { round, sequence };
                let result = measure(&http, target, &spec, scenario, duration, at)
                    .await
                    .with_context(|| format!("{} under {}", target.name, scenario.name))?;
                progress.measured(sequence, &target.name, &scenario.name, &result);
                record(results, &target.name, &scenario.name, result);
                output.write(|path| results.write(path))?;
                progress.advance();
            }
        }
    }
    progress.finish();
    Ok(())
}

fn mean_duration(options: &RunOptions) -> Duration {
    options.scenarios.iter().map(|s| options.duration.unwrap_or(s.duration)).sum::<Duration>()
        / options.scenarios.len().max(1) as u32
}

fn record(results: &mut RunResults, store: &str, scenario: &str, round: RoundResult) {
    let index = results
        .measurements
        .iter()
        .position(|m| m.store == store && m.scenario == scenario)
        .unwrap_or_else(|| {
            results.measurements.push(Measurement {
                store: store.to_string(),
                scenario: scenario.to_string(),
                rounds: Vec::new(),
                median: None,
            });
            results.measurements.len() - 1
        });
    let measurement = &mut results.measurements[index];
    measurement.rounds.push(round);
    measurement.update_median();
}

/// Where servers and client run.
struct Placement {
    server_cpus: Option<Vec<usize>>,
    description: String,
}

fn place_processes(pin: bool) -> anyhow::Result<Placement> {
    if !pin {
        return Ok(Placement { server_cpus: None, description: "unpinned".to_string() });
    }
    let (server, client) =
        pinning::split_cpus().context("--pin needs at least two CPUs; run without --pin")?;
    pinning::pin_this_process(&client).context("cannot pin the load client (--pin)")?;
    Ok(Placement {
        description: format!("servers on cpus {server:?}, load client on cpus {client:?}"),
        server_cpus: Some(server),
    })
}
