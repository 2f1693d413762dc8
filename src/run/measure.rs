//! One measurement: one store under one scenario for one round — start the replicas (or take
//! the servers already running, with `--target`), drive the load (cutting the store off if the
//! scenario says so), read the servers' counters, stop what it started.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use super::attack;
use super::outage;
use super::recorder::Recorder;
use super::replay_window::{self, PROBES, PROBE_LIMIT};
use crate::harness::{Replica, ReplicaSpec, Target};
use crate::process::own_cpu_time;
use crate::results::answers::split_status_key;
use crate::results::{LatencySummary, ReplayWindow, RoundResult};
use crate::scenario::{Outage, Scenario};
use crate::time::now_rfc3339;

/// Where this measurement sits in the run.
#[derive(Debug, Clone, Copy)]
pub struct Position {
    /// 1-based round.
    pub round: usize,
    /// 1-based position among all measurements of the run.
    pub sequence: usize,
}

/// How long to measure, after how much warm-up.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub duration: Duration,
    /// Load applied first and not recorded.
    pub warmup: Duration,
}

/// The servers one measurement drives.
#[derive(Clone, Copy)]
pub enum Servers<'a> {
    /// Replicas the measurement starts (and stops) as `spec` says, serving `target`'s store,
    /// which is cleared first.
    Start { target: &'a Target, spec: &'a ReplicaSpec },
    /// Servers already running elsewhere (`--target`): never cleared, restarted or cut off,
    /// and their memory and CPU are not measured.
    Remote(&'a [String]),
}

impl Servers<'_> {
    /// The servers already running, or none when the measurement starts its own.
    fn remote_urls(&self) -> &[String] {
        match self {
            Servers::Remote(urls) => urls,
            Servers::Start { .. } => &[],
        }
    }
}

/// Measures `servers` under `scenario` for `timing.duration`, after `timing.warmup` of the
/// same load that is not recorded.
pub async fn measure(
    http: &reqwest::Client,
    servers: Servers<'_>,
    scenario: &Scenario,
    timing: Timing,
    at: Position,
) -> anyhow::Result<RoundResult> {
    let Timing { duration, warmup } = timing;
    let spec = match servers {
        Servers::Start { target, spec } => {
            target.handle().clear().await.context("cannot clear the store before measuring")?;
            Some(spec)
        }
        Servers::Remote(_) => None,
    };
    anyhow::ensure!(
        spec.is_some() || (scenario.outage.is_none() && !scenario.restart_then_replay),
        "{}: restarts and outages need servers revbench started",
        scenario.name
    );
    let started_at = now_rfc3339();
    let recorder =
        Arc::new(if warmup.is_zero() { Recorder::default() } else { Recorder::warming_up() });
    // For an outage, the servers reach the store through a forwarder the run can cut.
    let (spec, forwarder) = match (spec, scenario.outage) {
        (Some(spec), Some(_)) => {
            let (url, forwarder) = outage::through_forwarder(&spec.store_url).await?;
            (Some(ReplicaSpec { store_url: url, ..spec.clone() }), Some(forwarder))
        }
        (spec, _) => (spec.cloned(), None),
    };
    let spec = spec.as_ref();
    let (mut replicas, urls) = match spec {
        Some(spec) => {
            let replicas = start_replicas(http, spec, scenario.replicas).await?;
            let urls = replicas.iter().map(|r| r.base_url.clone()).collect();
            (replicas, urls)
        }
        None => (Vec::new(), servers.remote_urls().to_vec()),
    };
    // Memory and CPU are read from the processes this measurement started, if any.
    let own_processes = !replicas.is_empty();
    let outage = scenario.outage.map(|o| outage::fit(o, duration));
    // Replay-window probes run under the recorded load (or during the outage), as a real
    // replay would: their timing, like the outage's, counts from the end of the warm-up.
    let probe_task = (scenario.replays() && !scenario.restart_then_replay).then(|| {
        let (http, urls) = (http.clone(), urls.clone());
        tokio::spawn(async move { probe_under_load(&http, &urls, outage, timing).await })
    });
    let outage_task = forwarder.zip(outage).map(|(forwarder, outage)| {
        // The outage's timing counts from the end of the warm-up.
        let shifted = Outage { after: outage.after + warmup, ..outage };
        tokio::spawn(outage::run(forwarder, shifted, recorder.clone()))
    });
    let server_cpu_now = || replicas.iter().filter_map(Replica::cpu_time).sum::<Duration>();
    // The load runs warm-up + duration; recording and the CPU readings start after the warm-up.
    let warm_up = async {
        tokio::time::sleep(warmup).await;
        recorder.start_recording();
        let writes = store_writes(http, &urls).await;
        (own_cpu_time(), server_cpu_now(), writes)
    };
    let (load, (client_cpu_before, server_cpu_before, writes_before)) =
        tokio::join!(attack::drive(scenario, &urls, recorder.clone(), warmup + duration), warm_up);
    let load = load.map(|elapsed| elapsed.saturating_sub(warmup));
    let client_cpu = own_cpu_time().saturating_sub(client_cpu_before);
    let server_cpu = server_cpu_now().saturating_sub(server_cpu_before);
    let mut peak_rss = replicas.iter().filter_map(Replica::peak_rss_bytes).max();
    let mut replay_window = match probe_task {
        Some(task) => task.await.ok(),
        None => None,
    };
    let mut counters = collect_counters(http, &urls, &recorder).await;
    let delta = |before: Option<u64>, after: Option<u64>| {
        before.zip(after).map(|(b, a)| a.saturating_sub(b))
    };
    let writes = delta(writes_before.map(|w| w.all), counters.writes.map(|w| w.all));
    let refresh_writes =
        delta(writes_before.map(|w| w.refresh), counters.writes.map(|w| w.refresh));
    let elapsed = match load {
        Ok(elapsed) => elapsed,
        Err(e) => {
            stop_all(replicas).await;
            return Err(e);
        }
    };
    if let (true, Some(spec)) = (scenario.restart_then_replay, spec) {
        let copies = copies_for_restart(http, &urls).await;
        stop_all(replicas).await;
        replicas = start_replicas(http, spec, scenario.replicas).await?;
        replay_copies(http, &replicas, &recorder).await;
        replay_window = Some(probe_after_restart(http, &replicas, copies).await);
        peak_rss = peak_rss.max(replicas.iter().filter_map(Replica::peak_rss_bytes).max());
        let urls: Vec<String> = replicas.iter().map(|r| r.base_url.clone()).collect();
        let after = collect_counters(http, &urls, &recorder).await;
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
    let secs = elapsed.as_secs_f64().max(1e-9);
    let per_user_hour = |n: u64| n as f64 / scenario.users.max(1) as f64 / (secs / 3600.0);
    let refreshes: u64 = done
        .statuses
        .iter()
        .filter(|(key, _)| split_status_key(key).is_some_and(|(request, _)| request == "refresh"))
        .map(|(_, n)| n)
        .sum();
    Ok(RoundResult {
        round: at.round,
        sequence: at.sequence,
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
        server_cpu_us_per_request: own_processes
            .then(|| per_request(server_cpu, done.requests))
            .flatten(),
        outage: done.outage.zip(outage).map(|(log, outage)| outage::result(log, outage)),
        replay_window,
        error_latency: done.all_unexpected,
        pacing_lateness: done.pacing_lateness,
        pair: None,
        refresh_requests_per_sec: (refreshes > 0).then(|| refreshes as f64 / secs),
        store_writes: writes,
        store_writes_per_user_hour: writes.map(per_user_hour),
        refresh_writes_per_user_hour: refresh_writes.map(per_user_hour),
    })
}

/// How long after the cut the outage probes start (the forwarder has closed every socket by
/// then, and the servers have had time to notice).
const OUTAGE_PROBE_DELAY: Duration = Duration::from_millis(200);

/// How long outage probes keep replaying after the store is back: catching up takes a
/// reconnect and a reload, seconds on a loaded machine.
const AFTER_OUTAGE_LIMIT: Duration = Duration::from_secs(3);

/// Replay-window probes: a third into the recorded load, or just after the store was cut off
/// (then each replays until the store has been back for [`AFTER_OUTAGE_LIMIT`]). Never during
/// the warm-up: `timing.warmup` comes first.
async fn probe_under_load(
    http: &reqwest::Client,
    urls: &[String],
    outage: Option<Outage>,
    timing: Timing,
) -> ReplayWindow {
    let Timing { duration, warmup } = timing;
    let (delay, limit) = match outage {
        Some(o) => (
            o.after + OUTAGE_PROBE_DELAY,
            o.length.saturating_sub(OUTAGE_PROBE_DELAY) + AFTER_OUTAGE_LIMIT,
        ),
        None => (duration / 3, PROBE_LIMIT),
    };
    tokio::time::sleep(warmup + delay).await;
    replay_window::probe_all(http, urls, limit).await
}

/// [`PROBES`] logged-out copies, made before a restart.
async fn copies_for_restart(
    http: &reqwest::Client,
    urls: &[String],
) -> Vec<replay_window::RevokedCopy> {
    let mut copies = Vec::with_capacity(PROBES);
    for i in 0..PROBES {
        let base = &urls[i % urls.len()];
        let user = replay_window::probe_user(i);
        copies.extend(replay_window::logged_out_copy(http, base, &user).await);
    }
    copies
}

/// Replays the copies on the restarted replicas; each window counts from the first replay
/// after the restart (the restart's own downtime is not a window anyone could replay in).
async fn probe_after_restart(
    http: &reqwest::Client,
    replicas: &[Replica],
    copies: Vec<replay_window::RevokedCopy>,
) -> ReplayWindow {
    let failed = PROBES - copies.len();
    let started = tokio::time::Instant::now();
    let probes = copies.iter().enumerate().map(|(i, copy)| {
        let base = &replicas[i % replicas.len()].base_url;
        replay_window::replay_until_refused(http, base, copy, Some(started), PROBE_LIMIT)
    });
    let mut outcomes = futures_util::future::join_all(probes).await;
    outcomes.extend(std::iter::repeat_n(replay_window::ProbeOutcome::LogoutFailed, failed));
    replay_window::summarize(&outcomes, PROBE_LIMIT)
}

fn per_request(cpu: Duration, requests: u64) -> Option<f64> {
    (requests > 0).then(|| cpu.as_secs_f64() * 1e6 / requests as f64)
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
    /// Summed over the replicas; `None` when one could not report.
    writes: Option<Writes>,
}

/// Store writes the servers counted: all, and those made by `POST /refresh`.
#[derive(Debug, Clone, Copy, Default)]
struct Writes {
    all: u64,
    refresh: u64,
}

impl Writes {
    fn add(self, counters: &crate::server::CountersSnapshot) -> Self {
        Writes {
            all: self.all + counters.store_writes,
            refresh: self.refresh + counters.refresh_writes,
        }
    }
}

/// The servers' store writes so far, `None` when one cannot report.
async fn store_writes(http: &reqwest::Client, urls: &[String]) -> Option<Writes> {
    let mut total = Writes::default();
    for url in urls {
        total = total.add(&crate::harness::remote::stats(http, url).await.ok()?.counters);
    }
    Some(total)
}

/// Sums the servers' `/stats` counters. A server that cannot answer is recorded as the
/// error `"stats unavailable"`, so its zero counts are never mistaken for measured ones.
async fn collect_counters(
    http: &reqwest::Client,
    urls: &[String],
    recorder: &Recorder,
) -> Counters {
    let mut counters = Counters { writes: Some(Writes::default()), ..Counters::default() };
    for (i, url) in urls.iter().enumerate() {
        let Ok(stats) = crate::harness::remote::stats(http, url).await else {
            recorder.error("stats", "unavailable");
            counters.writes = None;
            continue;
        };
        counters.writes = counters.writes.map(|w| w.add(&stats.counters));
        counters.store_errors += stats.counters.store_errors;
        counters.fail_open_passes += stats.counters.fail_open_passes;
        if i == 0 {
            counters.entries = stats.stats.entries;
            counters.bytes = stats.stats.bytes;
        }
    }
    counters
}
