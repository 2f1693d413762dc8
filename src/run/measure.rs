//! One measurement: one store under one scenario for one round — start the replicas (or take
//! the servers already running, with `--target`), drive the load (cutting the store off if the
//! scenario says so), read the servers' counters, stop what it started.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::task::JoinHandle;

use super::attack;
use super::counters::{collect_counters, read_all, Counters, Reading};
use super::fleet::Fleet;
use super::forget;
use super::forwarder::Forwarder;
use super::outage;
use super::recorder::{Recorded, Recorder};
use super::replay_window::{self, Schedule, PROBE_INTERVAL, PROBE_LIMIT};
use super::restart;
use super::timeline;
use crate::harness::{ReplicaSpec, Target};
use crate::process::own_cpu_time;
use crate::results::answers::split_status_key;
use crate::results::{per_user_hour, LatencySummary, ReplayWindow, RoundResult};
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

/// What a measurement does with the store of the servers it starts, before they start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreState {
    /// Empty it: every measurement starts from nothing (`revbench run`).
    Cleared,
    /// Keep what it holds: a sweep filled it beforehand, for all of a point's rounds. What
    /// the load revoked is removed once the measurement is over ([`super::forget`]), so the
    /// next one finds the store as this one did.
    Kept,
    /// Empty it, and have every server fill its own (in-process) store with this many live
    /// entries before it listens.
    FilledAtStart(u64),
}

/// The servers one measurement drives.
#[derive(Clone, Copy)]
pub enum Servers<'a> {
    /// Replicas the measurement starts (and stops) as `spec` says, serving `target`'s store,
    /// prepared as `store` says.
    Start { target: &'a Target, spec: &'a ReplicaSpec, store: StoreState },
    /// Servers already running elsewhere (`--target`): never cleared, restarted or cut off,
    /// and their memory and CPU are not measured.
    Remote { urls: &'a [String], admin_token: Option<&'a str> },
}

impl Servers<'_> {
    /// The servers already running, or none when the measurement starts its own.
    fn remote(&self) -> Fleet {
        match self {
            Servers::Remote { urls, admin_token } => Fleet::remote(urls, *admin_token),
            Servers::Start { .. } => Fleet::remote(&[], None),
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
    let prefill = match servers {
        Servers::Start { store: StoreState::FilledAtStart(n), .. } => n,
        _ => 0,
    };
    let started_at = now_rfc3339();
    let recorder =
        if timing.warmup.is_zero() { Recorder::default() } else { Recorder::warming_up() };
    let kept = match servers {
        Servers::Start { target, store: StoreState::Kept, .. } => Some(target),
        _ => None,
    };
    let recorder = if kept.is_some() { recorder.noting_logouts() } else { recorder };
    let recorder = Arc::new(recorder.with_interval(timeline::interval_for(timing.duration)));
    let (spec, forwarder) = route_for_outage(spec, scenario.outage).await?;
    let mut fleet = match &spec {
        Some(spec) => Fleet::start_filled(http, spec, scenario.replicas, prefill).await?,
        None => servers.remote(),
    };
    let outage = scenario.outage.map(|o| outage::fit(o, timing.duration));
    let probes = spawn_probes(http, scenario, &fleet.urls, outage, timing, &recorder);
    let cut = spawn_outage(forwarder, outage, timing.warmup, &recorder);
    let load = drive_load(http, scenario, &fleet, &recorder, timing).await;
    // A store kept full across measurements (a sweep's) is not counted: a scan of ten million
    // entries takes seconds, and the sweep knows what it put in.
    let sizes = kept.is_none();
    let mut after = read_after_load(http, &fleet, probes, &recorder, &load.before, sizes).await;
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
    let forgotten = match kept {
        Some(target) => Some(forget::forget_noted(target, recorder.logged_out()).await),
        None => None,
    };
    let gathered =
        Gathered { at, started_at, elapsed, users: scenario.users, cpu: load.cpu, outage, after };
    let mut result = gathered.into_result(recorder.finish());
    result.load_forgotten = forgotten;
    Ok(result)
}

/// Clears the store of servers the measurement starts (the replicas' spec, returned), and
/// refuses what servers running elsewhere cannot be put through.
async fn prepare<'a>(
    servers: Servers<'a>,
    scenario: &Scenario,
) -> anyhow::Result<Option<&'a ReplicaSpec>> {
    let spec = match servers {
        Servers::Start { target, spec, store } => {
            if store != StoreState::Kept {
                target.handle().clear().await.context("cannot clear the store before measuring")?;
            }
            Some(spec)
        }
        Servers::Remote { .. } => None,
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
/// replay would, inside the measured window; the restart scenario probes after its restart
/// instead.
fn spawn_probes(
    http: &reqwest::Client,
    scenario: &Scenario,
    urls: &[String],
    outage: Option<Outage>,
    timing: Timing,
    recorder: &Arc<Recorder>,
) -> Option<JoinHandle<ReplayWindow>> {
    (scenario.replays() && !scenario.restart_then_replay).then(|| {
        let (http, urls, recorder) = (http.clone(), urls.to_vec(), recorder.clone());
        tokio::spawn(async move {
            probe_under_load(&http, &urls, outage, timing, recorder.logged_out()).await
        })
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
    /// The servers' counters when recording started.
    before: Vec<Option<Reading>>,
}

/// CPU time spent while the load was recorded.
#[derive(Clone, Copy)]
struct CpuUse {
    client: Duration,
    /// `None` when the servers run elsewhere.
    servers: Option<Duration>,
}

/// Drives the load for warm-up + duration. Recording, the CPU readings and the servers'
/// counters start when the warm-up ends, so that none of them includes it.
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
        let before = read_all(http, fleet, false).await;
        (own_cpu_time(), fleet.server_cpu(), before)
    };
    let (load, (client_before, servers_before, before)) = tokio::join!(
        attack::drive(scenario, &fleet.urls, recorder.clone(), warmup + duration),
        warm_up
    );
    let cpu = CpuUse {
        client: own_cpu_time().saturating_sub(client_before),
        servers: fleet.owns_processes().then(|| fleet.server_cpu().saturating_sub(servers_before)),
    };
    LoadRun { elapsed: load.map(|elapsed| elapsed.saturating_sub(warmup)), cpu, before }
}

/// What the servers and the probes report once the load is over.
struct AfterLoad {
    peak_rss: Option<u64>,
    /// The first server's fill before it listened, if it filled.
    server_prefill: Option<crate::results::ServerPrefill>,
    replay_window: Option<ReplayWindow>,
    /// What each server counted over the window.
    counters: Counters,
}

/// Reads the servers' peak memory, waits for the probes (they end inside the window), then
/// reads the servers' counters.
async fn read_after_load(
    http: &reqwest::Client,
    fleet: &Fleet,
    probes: Option<JoinHandle<ReplayWindow>>,
    recorder: &Recorder,
    before: &[Option<Reading>],
    sizes: bool,
) -> AfterLoad {
    let peak_rss = fleet.peak_rss();
    let server_prefill = fleet.server_prefill();
    let replay_window = match probes {
        Some(task) => task.await.ok(),
        None => None,
    };
    let counters = collect_counters(http, fleet, before, recorder, sizes).await;
    AfterLoad { peak_rss, server_prefill, replay_window, counters }
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
    let copies = restart::copies_for_restart(http, &fleet.urls, recorder.logged_out()).await;
    fleet.stop().await;
    recorder.restarted();
    let fleet = Fleet::start(http, spec, count).await?;
    // The new servers have counted nothing yet: their windows start at zero.
    let started: Vec<Option<Reading>> = read_all(http, &fleet, false)
        .await
        .iter()
        .map(|r| r.as_ref().map(Reading::fresh))
        .collect();
    restart::replay_copies(http, &fleet.replicas, recorder).await;
    after.replay_window = Some(restart::probe_after_restart(http, &fleet.replicas, copies).await);
    after.peak_rss = after.peak_rss.max(fleet.peak_rss());
    let counted = collect_counters(http, &fleet, &started, recorder, true).await;
    after.counters.add_after_restart(counted);
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
        let refreshes = refresh_requests(&done.statuses);
        let counters = &after.counters;
        let total = counters.total();
        // Totals that a missing reading would understate are not given at all.
        let whole = |n: Option<u64>| n.filter(|_| counters.complete);
        let server_requests = whole(total.requests);
        let store_writes = whole(Some(total.store_writes));
        let refresh_writes = whole(Some(total.refresh_writes));
        let mut round = RoundResult {
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
            replays_attempted: done.replays_accepted
                + done.replays_refused
                + done.replays_unanswered,
            replays_accepted: done.replays_accepted,
            replays_refused: Some(done.replays_refused),
            replays_unanswered: Some(done.replays_unanswered),
            leak_rate: RoundResult::leak_of(
                done.replays_accepted,
                done.replays_accepted + done.replays_refused,
            ),
            replay_latency: done.replay_latency,
            store_errors: total.store_errors,
            fail_open_passes: total.fail_open_passes,
            server_requests,
            sync_timeouts: total.sync_timeouts.filter(|_| !counters.servers.is_empty()),
            queue_overflows: total.queue_overflows.filter(|_| !counters.servers.is_empty()),
            local_checks: total.local_checks.filter(|_| !counters.servers.is_empty()),
            store_checks: total.store_checks.filter(|_| !counters.servers.is_empty()),
            servers: after.counters.servers.clone(),
            users: Some(users),
            store_entries: after.counters.entries,
            store_bytes: after.counters.bytes,
            server_peak_rss_bytes: after.peak_rss,
            client_cpu_us_per_request: per_request(cpu.client, done.requests),
            // The servers' CPU went to every request they answered, the probes' too.
            server_cpu_us_per_request: cpu
                .servers
                .and_then(|c| per_request(c, server_requests.unwrap_or(done.requests))),
            outage: done.outage.zip(outage).map(|(log, outage)| outage::result(log, outage)),
            replay_window: after.replay_window,
            error_latency: done.all_unexpected,
            pacing_lateness: done.pacing_lateness,
            pair: None,
            refresh_requests_per_sec: (refreshes > 0).then(|| refreshes as f64 / secs),
            store_writes,
            store_writes_per_user_hour: None,
            refresh_writes_per_user_hour: None,
            timeline: done.timeline,
            server_prefill: after.server_prefill,
            load_forgotten: None,
        };
        round.store_writes_per_user_hour = per_user_hour(store_writes, users, secs);
        round.refresh_writes_per_user_hour = per_user_hour(refresh_writes, users, secs);
        round
    }
}

/// The expected answers' latency, from the histogram when no summary was made.
fn overall_latency(done: &Recorded) -> LatencySummary {
    done.all.clone().unwrap_or_else(|| LatencySummary::from_histogram(&done.all_histogram))
}

/// `POST /refresh` requests answered, whatever their status.
pub fn refresh_requests(statuses: &BTreeMap<String, u64>) -> u64 {
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

/// Pause between replays while a store is down: its windows are seconds long, so a coarser
/// resolution keeps the probes' load small over the long probe.
const OUTAGE_PROBE_INTERVAL: Duration = Duration::from_millis(20);

/// Replay-window probes under the recorded load, after the warm-up ([`probe_plan`]).
async fn probe_under_load(
    http: &reqwest::Client,
    urls: &[String],
    outage: Option<Outage>,
    timing: Timing,
    logged_out: &forget::LoggedOut,
) -> ReplayWindow {
    let (delay, schedule) = probe_plan(outage, timing.duration);
    tokio::time::sleep(timing.warmup + delay).await;
    replay_window::probe_all(http, urls, schedule, logged_out).await
}

/// When the probes start (from the end of the warm-up) and how they replay: a quarter into the
/// measured window for at most half of it, so that their requests fall inside the window
/// whatever the store answers; with an outage, from just after the cut until the store has
/// been back for [`AFTER_OUTAGE_LIMIT`], within the window.
pub fn probe_plan(outage: Option<Outage>, duration: Duration) -> (Duration, Schedule) {
    match outage {
        Some(o) => {
            let delay = o.after + OUTAGE_PROBE_DELAY;
            let wanted = o.length.saturating_sub(OUTAGE_PROBE_DELAY) + AFTER_OUTAGE_LIMIT;
            let limit = wanted.min(duration.saturating_sub(delay));
            (delay, Schedule { interval: OUTAGE_PROBE_INTERVAL, limit })
        }
        None => {
            let limit = PROBE_LIMIT.min(duration / 2);
            (duration / 4, Schedule { interval: PROBE_INTERVAL, limit })
        }
    }
}

fn per_request(cpu: Duration, requests: u64) -> Option<f64> {
    (requests > 0).then(|| cpu.as_secs_f64() * 1e6 / requests as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Probes fall inside the measured window: a quarter in, for at most half of it; with an
    /// outage, from just after the cut to the end of the window at the latest.
    #[test]
    fn probes_fit_the_window() {
        let secs = Duration::from_secs;
        let (delay, schedule) = probe_plan(None, secs(1));
        assert_eq!(
            (delay, schedule.limit),
            (Duration::from_millis(250), Duration::from_millis(500))
        );
        let (delay, schedule) = probe_plan(None, secs(10));
        assert_eq!((delay, schedule.limit), (Duration::from_millis(2500), PROBE_LIMIT));
        let outage = Outage { after: secs(3), length: secs(3) };
        let (delay, schedule) = probe_plan(Some(outage), secs(9));
        assert!(delay + schedule.limit <= secs(9), "{delay:?} + {schedule:?}");
        assert_eq!(schedule.interval, OUTAGE_PROBE_INTERVAL);
    }
}
