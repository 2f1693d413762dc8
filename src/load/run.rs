//! `revbench run`: every store under every scenario, in interleaved rounds, written to
//! `results.json` after each measurement.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use super::attack;
use super::forwarder::{backend_addr, Forwarder};
use super::recorder::OutageLog;
use super::recorder::Recorder;
use super::replicas::{Replica, ReplicaSpec};
use super::scenario::Outage;
use super::scenario::Scenario;
use crate::environment::Environment;
use crate::results::{
    LatencySummary, Measurement, NotApplicable, OutageResult, RoundResult, RunConfig, RunResults,
    StoreStatus, SCHEMA_VERSION,
};
use crate::revocation::{self, Jti, SharedStore};

/// Measured time per store and scenario with `--quick`.
pub const QUICK_DURATION: Duration = Duration::from_secs(1);
/// Rounds with `--quick` (interleaving needs at least two).
pub const QUICK_ROUNDS: usize = 2;
/// Rounds by default.
pub const DEFAULT_ROUNDS: usize = 3;

/// Namespaces a run's shared stores use, cleared before every measurement, so a run never
/// touches the default key prefix or table.
const RUN_REDIS_PREFIX: &str = "revbench:run:";
const RUN_POSTGRES_TABLE: &str = "revbench_run";
const RUN_MONGO_DATABASE: &str = "revbench_run";

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

/// The stores measured when none are named: the in-process ones (none, naive, memory, hashmap), and Redis, PostgreSQL and
/// MongoDB at `REDIS_URL` / `POSTGRES_URL` / `MONGODB_URL` or their standard local ports
/// (skipped, with the reason, when they do not answer).
pub fn default_stores() -> Vec<String> {
    let env_or =
        |var: &str, default: &str| std::env::var(var).unwrap_or_else(|_| default.to_string());
    vec![
        "none:".to_string(),
        "naive:".to_string(),
        "memory:".to_string(),
        "hashmap:".to_string(),
        env_or("REDIS_URL", "redis://127.0.0.1:6379"),
        env_or("POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        env_or("MONGODB_URL", "mongodb://127.0.0.1:27017"),
    ]
}

/// Points a shared store's URL at the run's own namespace.
pub fn isolate(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else { return url.to_string() };
    match parsed.scheme() {
        "redis" => {
            parsed.query_pairs_mut().append_pair("prefix", RUN_REDIS_PREFIX);
        }
        "postgres" | "postgresql" => {
            parsed.query_pairs_mut().append_pair("table", RUN_POSTGRES_TABLE);
        }
        "mongodb" => parsed.set_path(&format!("/{RUN_MONGO_DATABASE}")),
        _ => return url.to_string(),
    }
    parsed.to_string()
}

/// A store that answered, with the handle used to clear it between measurements.
struct Target {
    name: String,
    url: String,
    handle: SharedStore,
}

/// Runs everything and returns the results (also written to `out_dir/results.json`).
pub async fn run(options: RunOptions) -> anyhow::Result<RunResults> {
    std::fs::create_dir_all(&options.out_dir).with_context(|| {
        format!("cannot create {}; pass --out with a writable directory", options.out_dir.display())
    })?;
    let results_path = options.out_dir.join("results.json");
    let placement = place_processes(options.pin)?;
    let (targets, statuses) = probe(&options.stores).await;
    let mut results = RunResults {
        schema_version: SCHEMA_VERSION,
        started_at: now_rfc3339(),
        finished_at: None,
        environment: Environment::capture(),
        config: RunConfig {
            scenarios: options.scenarios.clone(),
            rounds: options.rounds,
            quick: options.quick,
            injected_latency_us: options.inject_latency.map(|d| d.as_micros() as u64),
            placement: placement.description.clone(),
        },
        stores: statuses,
        measurements: Vec::new(),
        not_applicable: Vec::new(),
    };
    results.write(&results_path).with_context(|| {
        format!("cannot write {}; pass --out with a writable directory", results_path.display())
    })?;
    for status in results.stores.iter().filter(|s| s.status == "skipped") {
        eprintln!("skipped {}: {}", status.url, status.reason.as_deref().unwrap_or(""));
    }

    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let secret = format!("{}{}", Jti::random(), Jti::random());
    let total = options.rounds * targets.len() * options.scenarios.len();
    let progress = progress_bar(options.progress, total, &options, targets.len());
    let mut sequence = 0;
    // Interleaved: round 1 visits every store, then round 2 does again, so drift on the
    // machine hits every store alike.
    for round in 1..=options.rounds {
        for target in &targets {
            for scenario in &options.scenarios {
                if scenario.outage.is_some() && !target.handle.capabilities().shared {
                    results.not_applicable.push(NotApplicable {
                        store: target.name.clone(),
                        scenario: scenario.name.clone(),
                        reason: "an in-process store cannot be cut off from its server".to_string(),
                    });
                    results.not_applicable.dedup();
                    progress.inc(1);
                    continue;
                }
                sequence += 1;
                progress.set_message(format!(
                    "round {round}/{} · {} · {}",
                    options.rounds, target.name, scenario.name
                ));
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
                let result = measure(&http, target, &spec, scenario, duration, round, sequence)
                    .await
                    .with_context(|| format!("{} under {}", target.name, scenario.name))?;
                let line =
                    progress_line(sequence, total, round, &target.name, &scenario.name, &result);
                if progress.is_hidden() {
                    if options.progress {
                        eprintln!("{line}");
                    }
                } else {
                    progress.println(line);
                }
                record(&mut results, &target.name, &scenario.name, result);
                results.write(&results_path)?;
                progress.inc(1);
            }
        }
    }
    progress.finish_and_clear();
    results.finished_at = Some(now_rfc3339());
    results.write(&results_path)?;
    Ok(results)
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

/// Opens every store once: the ones that answer are measured, the others listed as skipped.
async fn probe(urls: &[String]) -> (Vec<Target>, Vec<StoreStatus>) {
    let mut targets = Vec::new();
    let mut statuses = Vec::new();
    for url in urls {
        let url = isolate(url);
        let name = url.split(':').next().unwrap_or(&url).replace("postgresql", "postgres");
        match revocation::open(&url).await {
            Ok(handle) => {
                let name = handle.name().to_string();
                statuses.push(StoreStatus {
                    name: name.clone(),
                    url: url.clone(),
                    status: "measured".to_string(),
                    reason: None,
                    server_version: handle.server_version().await,
                });
                targets.push(Target { name, url, handle });
            }
            Err(e) => statuses.push(StoreStatus {
                name,
                url,
                status: "skipped".to_string(),
                reason: Some(e.to_string()),
                server_version: None,
            }),
        }
    }
    (targets, statuses)
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
        super::pinning::split_cpus().context("--pin needs at least two CPUs; run without --pin")?;
    super::pinning::pin_this_process(&client).context("cannot pin the load client (--pin)")?;
    Ok(Placement {
        description: format!("servers on cpus {server:?}, load client on cpus {client:?}"),
        server_cpus: Some(server),
    })
}

/// One store under one scenario for one round.
async fn measure(
    http: &reqwest::Client,
    target: &Target,
    spec: &ReplicaSpec,
    scenario: &Scenario,
    duration: Duration,
    round: usize,
    sequence: usize,
) -> anyhow::Result<RoundResult> {
    target.handle.clear().await.context("cannot clear the store before measuring")?;
    let started_at = now_rfc3339();
    let recorder = Arc::new(Recorder::default());
    // For an outage, the servers reach the store through a forwarder the run can cut.
    let (spec, forwarder) = match scenario.outage {
        Some(_) => {
            let (url, forwarder) = through_forwarder(&spec.store_url).await?;
            (ReplicaSpec { store_url: url, ..spec.clone() }, Some(forwarder))
        }
        None => (spec.clone(), None),
    };
    let spec = &spec;
    let mut replicas = start_replicas(http, spec, scenario.replicas).await?;
    let urls: Vec<String> = replicas.iter().map(|r| r.base_url.clone()).collect();
    let outage = scenario.outage.map(|o| fit_outage(o, duration));
    let outage_task = forwarder
        .zip(outage)
        .map(|(forwarder, outage)| tokio::spawn(run_outage(forwarder, outage, recorder.clone())));
    let client_cpu_before = own_cpu_time();
    let server_cpu_before: Duration = replicas.iter().filter_map(Replica::cpu_time).sum();
    let load = attack::drive(scenario, &urls, recorder.clone(), duration).await;
    let client_cpu = own_cpu_time().saturating_sub(client_cpu_before);
    let server_cpu = replicas
        .iter()
        .filter_map(Replica::cpu_time)
        .sum::<Duration>()
        .saturating_sub(server_cpu_before);
    let mut peak_rss = replicas.iter().filter_map(Replica::peak_rss_bytes).max();
    let mut counters = collect_counters(http, &replicas, &recorder).await;
    let elapsed = match load {
        Ok(elapsed) => elapsed,
        Err(e) => {
            stop_all(replicas).await;
            return Err(e);
        }
    };
    if scenario.restart_then_replay {
        stop_all(replicas).await;
        replicas = start_replicas(http, spec, scenario.replicas).await?;
        replay_copies(http, &replicas, &recorder).await;
        peak_rss = peak_rss.max(replicas.iter().filter_map(Replica::peak_rss_bytes).max());
        let after = collect_counters(http, &replicas, &recorder).await;
        counters.store_errors += after.store_errors;
        counters.fail_open_passes += after.fail_open_passes;
        counters.entries = after.entries;
        counters.bytes = after.bytes;
    }
    if let Some(task) = outage_task {
        // Dropping the task drops the forwarder (after the counters were read through it).
        task.abort();
    }
    stop_all(replicas).await;
    let done = recorder.finish();
    let latency =
        done.all.clone().unwrap_or_else(|| LatencySummary::from_histogram(&done.all_histogram));
    Ok(RoundResult {
        round,
        sequence,
        started_at,
        elapsed_secs: elapsed.as_secs_f64(),
        requests: done.requests,
        requests_per_sec: done.requests as f64 / elapsed.as_secs_f64().max(1e-9),
        latency,
        latency_by_request: done.latency,
        corrected_latency: done.all_corrected,
        statuses: done.statuses,
        errors: done.errors,
        replays_attempted: done.replays_attempted,
        replays_accepted: done.replays_accepted,
        leak_rate: (done.replays_attempted > 0)
            .then(|| done.replays_accepted as f64 / done.replays_attempted as f64),
        store_errors: counters.store_errors,
        fail_open_passes: counters.fail_open_passes,
        store_entries: counters.entries,
        store_bytes: counters.bytes,
        server_peak_rss_bytes: peak_rss,
        client_cpu_us_per_request: per_request(client_cpu, done.requests),
        server_cpu_us_per_request: per_request(server_cpu, done.requests),
        outage: done.outage.zip(outage).map(|(log, outage)| outage_result(log, outage)),
    })
}

/// CPU time (user + system) this process has used: the load client's cost.
fn own_cpu_time() -> Duration {
    // SAFETY: getrusage writes into the zeroed struct we pass and has no other effects.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn per_request(cpu: Duration, requests: u64) -> Option<f64> {
    (requests > 0).then(|| cpu.as_secs_f64() * 1e6 / requests as f64)
}

/// The scenario's outage, shrunk to the middle third when `--duration` leaves no room for it.
fn fit_outage(outage: Outage, duration: Duration) -> Outage {
    if outage.after + outage.length < duration {
        outage
    } else {
        Outage { after: duration / 3, length: duration / 3 }
    }
}

/// Starts a forwarder to the store's address and returns the URL that goes through it.
async fn through_forwarder(url: &str) -> anyhow::Result<(String, Forwarder)> {
    let mut parsed = url::Url::parse(url).context("store URL")?;
    let target = backend_addr(&parsed).context("cannot resolve the store's address")?;
    let forwarder = Forwarder::start(target).await.context("cannot start the outage forwarder")?;
    parsed
        .set_ip_host(forwarder.addr.ip())
        .and_then(|()| parsed.set_port(Some(forwarder.addr.port())))
        .map_err(|()| anyhow::anyhow!("cannot point {url} at the forwarder"))?;
    Ok((parsed.to_string(), forwarder))
}

/// Cuts the store off at `outage.after` and restores it `outage.length` later.
async fn run_outage(mut forwarder: Forwarder, outage: Outage, recorder: Arc<Recorder>) {
    tokio::time::sleep(outage.after).await;
    forwarder.cut().await;
    recorder.begin_outage();
    tokio::time::sleep(outage.length).await;
    if forwarder.restore().await.is_ok() {
        recorder.end_outage();
    }
    // Keep forwarding until the measurement aborts this task.
    std::future::pending::<()>().await;
}

fn outage_result(log: OutageLog, outage: Outage) -> OutageResult {
    let down = match (log.cut_at, log.restored_at) {
        (Some(cut), Some(back)) => back - cut,
        _ => Duration::ZERO,
    };
    OutageResult {
        cut_after_secs: outage.after.as_secs_f64(),
        down_secs: down.as_secs_f64(),
        statuses_during: log.statuses_during,
        replays_accepted_during: log.replays_accepted_during,
        recovery_ms: log.recovered_after.map(|d| d.as_secs_f64() * 1000.0),
    }
}

async fn start_replicas(
    http: &reqwest::Client,
    spec: &ReplicaSpec,
    count: usize,
) -> anyhow::Result<Vec<Replica>> {
    let mut replicas = Vec::with_capacity(count);
    for _ in 0..count {
        match spec.start(http).await {
            Ok(replica) => replicas.push(replica),
            Err(e) => {
                stop_all(replicas).await;
                return Err(e.into());
            }
        }
    }
    Ok(replicas)
}

async fn stop_all(replicas: Vec<Replica>) {
    futures_util::future::join_all(replicas.into_iter().map(Replica::stop)).await;
}

/// Replays every kept copy once, spread over the (restarted) replicas.
async fn replay_copies(http: &reqwest::Client, replicas: &[Replica], recorder: &Recorder) {
    for (i, copy) in recorder.take_copies().into_iter().enumerate() {
        let url = format!("{}/api/me", replicas[i % replicas.len()].base_url);
        let phase = recorder.phase();
        match http.get(url).bearer_auth(copy).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                recorder.status(phase, "replay_after_restart", status);
                recorder.replay(phase, status == 200);
            }
            Err(_) => recorder.error("replay_after_restart", "other"),
        }
    }
}

#[derive(Default)]
struct Counters {
    store_errors: u64,
    fail_open_passes: u64,
    entries: Option<u64>,
    bytes: Option<u64>,
}

/// Sums the replicas' `/stats` counters. A replica that cannot answer is recorded as the
/// error `"stats unavailable"`, so its zero counts are never mistaken for measured ones.
async fn collect_counters(
    http: &reqwest::Client,
    replicas: &[Replica],
    recorder: &Recorder,
) -> Counters {
    let mut counters = Counters::default();
    for (i, replica) in replicas.iter().enumerate() {
        let Some(stats) = replica.stats(http).await else {
            recorder.error("stats", "unavailable");
            continue;
        };
        counters.store_errors += stats.counters.store_errors;
        counters.fail_open_passes += stats.counters.fail_open_passes;
        if i == 0 {
            counters.entries = stats.stats.entries;
            counters.bytes = stats.stats.bytes;
        }
    }
    counters
}

fn progress_bar(enabled: bool, total: usize, options: &RunOptions, stores: usize) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let per_measurement: Duration =
        options.scenarios.iter().map(|s| options.duration.unwrap_or(s.duration)).sum::<Duration>()
            / options.scenarios.len().max(1) as u32;
    eprintln!(
        "measuring {stores} stores × {} scenarios × {} rounds ≈ {} s of load",
        options.scenarios.len(),
        options.rounds,
        per_measurement.as_secs() * total as u64
    );
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} · {elapsed} elapsed, ~{eta} left")
            .expect("valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

fn progress_line(
    sequence: usize,
    total: usize,
    round: usize,
    store: &str,
    scenario: &str,
    r: &RoundResult,
) -> String {
    let leak = r
        .leak_rate
        .map(|l| format!(", leaked {:.0}% of {} replays", l * 100.0, r.replays_attempted));
    format!(
        "[{sequence}/{total}] round {round} {store:<8} {scenario:<14} {:>8.0} req/s  p50 {:.3} ms  p99 {:.3} ms{}",
        r.requests_per_sec,
        r.latency.p50_us as f64 / 1000.0,
        r.latency.p99_us as f64 / 1000.0,
        leak.unwrap_or_default()
    )
}

/// The current UTC time as RFC 3339 seconds, e.g. `2026-11-28T05:40:00Z`.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shared stores get the run's namespace; in-process URLs are left alone.
    #[test]
    fn isolates_shared_stores() {
        assert_eq!(
            isolate("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379?prefix=revbench%3Arun%3A"
        );
        assert_eq!(
            isolate("postgres://postgres@127.0.0.1:5432/postgres"),
            "postgres://postgres@127.0.0.1:5432/postgres?table=revbench_run"
        );
        assert_eq!(isolate("mongodb://127.0.0.1:27017"), "mongodb://127.0.0.1:27017/revbench_run");
        assert_eq!(isolate("memory:"), "memory:");
    }
}
