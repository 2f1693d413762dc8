//! One measurement: one store under one scenario for one round — start the replicas (or take
//! the servers already running, with `--target`), drive the load (cutting the store off if the
//! scenario says so), read the servers' counters, stop what it started.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::task::JoinHandle;

use super::attack;
use super::counters::{collect_counters, store_writes, Counters, Writes};
use super::fleet::Fleet;
use super::forwarder::Forwarder;
use super::outage;
use super::recorder::{Recorded, Recorder};
use super::replay_window::{self, PROBE_LIMIT};
use super::restart;
use crate::harness::{ReplicaSpec, Target};
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
    let spec = prepare(servers, scenario).await?;
    let started_at = now_rfc3339();
    let recorder = Arc::new(if timing.warmup.is_zero() {
        Recorder::default()
    } else {
        Recorder::warming_up()
    });
    let (spec, forwarder) = route_for_outage(spec, scenario.outage).await?;
    let mut fleet = match &spec {
        Some(spec) => Fleet::start(http, spec, scenario.replicas).await?,
        None => Fleet::remote(servers.remote_urls()),
    };
    let outage = scenario.outage.map(|o| outage::fit(o, timing.duration));
    let probes = spawn_probes(http, scenario, &fleet.urls, outage, timing);
    let cut = spawn_outage(forwarder, outage, timing.warmup, &recorder);
    let load = drive_load(http, scenario, &fleet, &recorder, timing).await;
    let mut after = read_after_load(http, &fleet, probes, &recorder, load.writes_before).await;
    let elapsed = match load.elapsed {
        Ok(elapsed) => elapsed,
        Err(e) => {
            fleet.stop().await;
            return Err(e);
        }
    };
    if let (true, Some(spec)) = (scenario.restart_then_replay, &spec) {
        fleet =
            restart_and_replay(http, spec, scenario.replicas, fleet, &recorder, &mut after).await?;
    }
    if let Some(task) = cut {
        // Dropping the task drops the forwarder (after the counters were read through it).
        task.abort();
    }
    fleet.stop().await;
    let gathered =
        Gathered { at, started_at, elapsed, users: scenario.users, cpu: load.cpu, outage, after };
    Ok(gathered.into_result(recorder.finish()))
}

/// Clears the store of servers the measurement starts (the replicas' spec, returned), and
/// refuses what servers running elsewhere cannot be put through.
async fn prepare<'a>(
    servers: Servers<'a>,
    scenario: &Scenario,
) -> anyhow::Result<Option<&'a ReplicaSpec>> {
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
    Ok(spec)
}

/// For an outage, the servers reach the store through a forwarder the run can cut: the spec
/// then points at the forwarder, returned beside it.
async fn route_for_outage(
    spec: Option<&ReplicaSpec>,
    outage: Option<Outage>,
) -> anyhow::Result<(Option<ReplicaSpec>, Option<Forwarder>)> {
    match (spec, outage) {
        (Some(spec), Some(_)) => {
            let (url, forwarder) = outage::through_forwarder(&spec.store_url).await?;
            Ok((Some(ReplicaSpec { store_url: url, ..spec.clone() }), Some(forwarder)))
        }
        (spec, _) => Ok((spec.cloned(), None)),
    }
}

/// Replay-window probes run under the recorded load (or during the outage), as a real
/// replay would; the restart scenario probes after its restart instead.
fn spawn_probes(
    http: &reqwest::Client,
    scenario: &Scenario,
    urls: &[String],
    outage: Option<Outage>,
    timing: Timing,
) -> Option<JoinHandle<ReplayWindow>> {
    (scenario.replays() && !scenario.restart_then_replay).then(|| {
        let (http, urls) = (http.clone(), urls.to_vec());
        tokio::spawn(async move { probe_under_load(&http, &urls, outage, timing).await })
    })
}

/// Cuts the store off through `forwarder` as `outage` says, in a task that keeps forwarding
/// until it is aborted. The outage's timing counts from the end of the warm-up.
fn spawn_outage(
    forwarder: Option<Forwarder>,
    outage: Option<Outage>,
    warmup: Duration,
    recorder: &Arc<Recorder>,
) -> Option<JoinHandle<()>> {
    forwarder.zip(outage).map(|(forwarder, outage)| {
        let shifted = Outage { after: outage.after + warmup, ..outage };
        tokio::spawn(outage::run(forwarder, shifted, recorder.clone()))
    })
}

/// The load phase: the recorded load's wall time (or why the load failed), and what was
/// read around it.
struct LoadRun {
    /// Warm-up excluded.
    elapsed: anyhow::Result<Duration>,
    cpu: CpuUse,
    /// The servers' store writes when recording started.
    writes_before: Option<Writes>,
}

/// CPU time spent while the load was recorded.
#[derive(Clone, Copy)]
struct CpuUse {
    client: Duration,
    /// `None` when the servers run elsewhere.
    servers: Option<Duration>,
}

/// Drives the load for warm-up + duration. Recording, the CPU readings and the write count
/// start when the warm-up ends, so that none of them includes it.
async fn drive_load(
    http: &reqwest::Client,
    scenario: &Scenario,
    fleet: &Fleet,
    recorder: &Arc<Recorder>,
    timing: Timing,
) -> LoadRun {
    let Timing { duration, warmup } = timing;
    let warm_up = async {
        tokio::time::sleep(warmup).await;
        recorder.start_recording();
        let writes = store_writes(http, &fleet.urls).await;
        (own_cpu_time(), fleet.server_cpu(), writes)
    };
    let (load, (client_before, servers_before, writes_before)) = tokio::join!(
        attack::drive(scenario, &fleet.urls, recorder.clone(), warmup + duration),
        warm_up
    );
    let cpu = CpuUse {
        client: own_cpu_time().saturating_sub(client_before),
        servers: fleet.owns_processes().then(|| fleet.server_cpu().saturating_sub(servers_before)),
    };
    LoadRun { elapsed: load.map(|elapsed| elapsed.saturating_sub(warmup)), cpu, writes_before }
}

/// What the servers and the probes report once the load is over.
struct AfterLoad {
    peak_rss: Option<u64>,
    replay_window: Option<ReplayWindow>,
    counters: Counters,
    /// Store writes while the load was recorded.
    writes: Option<Writes>,
}

/// Reads the servers' peak memory, waits for the probes, then reads the servers' counters.
async fn read_after_load(
    http: &reqwest::Client,
    fleet: &Fleet,
    probes: Option<JoinHandle<ReplayWindow>>,
    recorder: &Recorder,
    writes_before: Option<Writes>,
) -> AfterLoad {
    let peak_rss = fleet.peak_rss();
    let replay_window = match probes {
        Some(task) => task.await.ok(),
        None => None,
    };
    let counters = collect_counters(http, &fleet.urls, recorder).await;
    let writes = Writes::between(writes_before, counters.writes);
    AfterLoad { peak_rss, replay_window, counters, writes }
}

/// The restart scenario, once the load is over: copies logged out on the old replicas are
/// replayed on new ones started from `spec`; the replay window and the counters are theirs.
async fn restart_and_replay(
    http: &reqwest::Client,
    spec: &ReplicaSpec,
    count: usize,
    fleet: Fleet,
    recorder: &Recorder,
    after: &mut AfterLoad,
) -> anyhow::Result<Fleet> {
    let copies = restart::copies_for_restart(http, &fleet.urls).await;
    fleet.stop().await;
    let fleet = Fleet::start(http, spec, count).await?;
    restart::replay_copies(http, &fleet.replicas, recorder).await;
    after.replay_window = Some(restart::probe_after_restart(http, &fleet.replicas, copies).await);
    after.peak_rss = after.peak_rss.max(fleet.peak_rss());
    after.counters.add_after_restart(collect_counters(http, &fleet.urls, recorder).await);
    Ok(fleet)
}

/// What one measurement gathered beside the recorder's tallies.
struct Gathered {
    at: Position,
    started_at: String,
    /// The recorded load's wall time.
    elapsed: Duration,
    users: usize,
    cpu: CpuUse,
    outage: Option<Outage>,
    after: AfterLoad,
}

impl Gathered {
    /// The round's result, with `done`, what the recorder saw.
    fn into_result(self, done: Recorded) -> RoundResult {
        let Gathered { at, started_at, elapsed, users, cpu, outage, after } = self;
        let secs = elapsed.as_secs_f64().max(1e-9);
        // Writes per user and hour compare strategies whatever the run's length and users.
        let per_user_hour = |n: u64| n as f64 / users.max(1) as f64 / (secs / 3600.0);
        let refreshes = refresh_requests(&done.statuses);
        RoundResult {
            round: at.round,
            sequence: at.sequence,
            started_at,
            elapsed_secs: elapsed.as_secs_f64(),
            requests: done.requests,
            requests_per_sec: done.requests as f64 / secs,
            latency: overall_latency(&done),
            latency_by_request: done.latency,
            corrected_latency: done.all_corrected,
            statuses: done.statuses,
            errors: done.errors,
            replays_attempted: done.replays_attempted,
            replays_accepted: done.replays_accepted,
            leak_rate: (done.replays_attempted > 0)
                .then(|| done.replays_accepted as f64 / done.replays_attempted as f64),
            store_errors: after.counters.store_errors,
            fail_open_passes: after.counters.fail_open_passes,
            store_entries: after.counters.entries,
            store_bytes: after.counters.bytes,
            server_peak_rss_bytes: after.peak_rss,
            client_cpu_us_per_request: per_request(cpu.client, done.requests),
            server_cpu_us_per_request: cpu.servers.and_then(|c| per_request(c, done.requests)),
            outage: done.outage.zip(outage).map(|(log, outage)| outage::result(log, outage)),
            replay_window: after.replay_window,
            error_latency: done.all_unexpected,
            pacing_lateness: done.pacing_lateness,
            pair: None,
            refresh_requests_per_sec: (refreshes > 0).then(|| refreshes as f64 / secs),
            store_writes: after.writes.map(|w| w.all),
            store_writes_per_user_hour: after.writes.map(|w| per_user_hour(w.all)),
            refresh_writes_per_user_hour: after.writes.map(|w| per_user_hour(w.refresh)),
        }
    }
}

/// The expected answers' latency, from the histogram when no summary was made.
fn overall_latency(done: &Recorded) -> LatencySummary {
    done.all.clone().unwrap_or_else(|| LatencySummary::from_histogram(&done.all_histogram))
}

/// `POST /refresh` requests answered, whatever their status.
fn refresh_requests(statuses: &BTreeMap<String, u64>) -> u64 {
    statuses
        .iter()
        .filter(|(key, _)| split_status_key(key).is_some_and(|(request, _)| request == "refresh"))
        .map(|(_, n)| n)
        .sum()
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

fn per_request(cpu: Duration, requests: u64) -> Option<f64> {
    (requests > 0).then(|| cpu.as_secs_f64() * 1e6 / requests as f64)
}
