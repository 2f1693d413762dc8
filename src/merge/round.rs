//! One round of every generator put together, field by field:
//!
//! - **summed** (each generator saw its own requests): `requests`, `statuses`, `errors`, the
//!   replays by answer, `users`, the probes (`replay_window`: their counts, requests and every
//!   copy's window, from which its figures are recomputed), what was answered during an
//!   outage; rates (`requests_per_sec`, `refresh_requests_per_sec`), since the generators ran
//!   side by side;
//! - **added bucket by bucket**: every latency histogram (`latency`, each request kind of any
//!   file, `corrected_latency`, `error_latency`, `pacing_lateness`, `replay_latency`);
//! - **once per server**: what the servers counted (`store_errors`, `fail_open_passes`,
//!   `server_requests`, `sync_timeouts`, `store_writes`): each server's window is the union of
//!   the generators' readings of it (`servers`), and a server several generators read counts
//!   once;
//! - **recomputed** from the above: `leak_rate`, the writes per user and hour, the CPU per
//!   request (weighted, which is the total CPU over the total requests);
//! - **not mergeable** (see `docs/merge.md`): `store_entries` and `store_bytes` (one store,
//!   read at different moments: the largest reading), `recovery_ms` (the slowest
//!   generator's), `elapsed_secs` (the longest), `started_at` (the earliest), `round`,
//!   `sequence` and `pair` (the first file's), the timeline's check percentiles (the slowest
//!   generator's in each interval; its counts are summed: [`super::timeline`]).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::MergeError;
use crate::results::histogram;
use crate::results::{
    middle_and_max, per_user_hour, LatencySummary, OutageResult, ReplayCounts, ReplayWindow,
    RoundResult, ServerWindow,
};

/// One round of every generator put together.
pub fn merge_round(rounds: &[&RoundResult], what: &str) -> Result<RoundResult, MergeError> {
    let mut merged = rounds[0].clone();
    let sum = |f: &dyn Fn(&RoundResult) -> u64| rounds.iter().map(|r| f(r)).sum::<u64>();
    merged.started_at = rounds.iter().map(|r| r.started_at.clone()).min().expect("rounds");
    merged.elapsed_secs = rounds.iter().map(|r| r.elapsed_secs).fold(0.0, f64::max);
    merged.requests = sum(&|r| r.requests);
    merged.requests_per_sec = rounds.iter().map(|r| r.requests_per_sec).sum();
    merge_histograms(&mut merged, rounds, what)?;
    merged.statuses = sum_maps(rounds.iter().map(|r| &r.statuses));
    merged.errors = sum_maps(rounds.iter().map(|r| &r.errors));
    merged.replays_attempted = sum(&|r| r.replays_attempted);
    merged.replays_accepted = sum(&|r| r.replays_accepted);
    let unanswered = sum(&|r| r.replays_unanswered.unwrap_or(0));
    merged.replays_unanswered = Some(unanswered);
    merged.replays_refused = Some(merged.replays_attempted - merged.replays_accepted - unanswered);
    merged.leak_rate =
        RoundResult::leak_of(merged.replays_accepted, merged.replays_attempted - unanswered);
    merged.users = rounds.iter().map(|r| r.users).sum();
    let rates: Vec<f64> = rounds.iter().filter_map(|r| r.refresh_requests_per_sec).collect();
    merged.refresh_requests_per_sec = (!rates.is_empty()).then(|| rates.iter().sum());
    merge_server_counts(&mut merged, rounds, what)?;
    merged.replay_window = merge_windows(rounds, what)?;
    merged.outage = merge_outages(rounds);
    let timelines: Vec<_> = rounds.iter().map(|r| r.timeline.as_ref()).collect();
    merged.timeline = super::timeline::merge(&timelines);
    // One store behind all generators: its size is one reading, not a sum.
    merged.store_entries = rounds.iter().filter_map(|r| r.store_entries).max();
    merged.store_bytes = rounds.iter().filter_map(|r| r.store_bytes).max();
    merged.server_peak_rss_bytes = rounds.iter().filter_map(|r| r.server_peak_rss_bytes).max();
    merged.client_cpu_us_per_request =
        weighted(rounds, |r| r.client_cpu_us_per_request, |r| Some(r.requests));
    merged.server_cpu_us_per_request = weighted(
        rounds,
        |r| r.server_cpu_us_per_request,
        |r| Some(r.server_requests.unwrap_or(r.requests)),
    );
    Ok(merged)
}

/// One of a round's optional latencies.
type Pick = fn(&RoundResult) -> Option<&LatencySummary>;

/// Every histogram of the round added up, request kinds of any file included.
fn merge_histograms(
    merged: &mut RoundResult,
    rounds: &[&RoundResult],
    what: &str,
) -> Result<(), MergeError> {
    merged.latency = merge_latency(rounds.iter().map(|r| Some(&r.latency)), what)?
        .expect("every round has a latency");
    let mut kinds: Vec<&String> = rounds.iter().flat_map(|r| r.latency_by_request.keys()).collect();
    kinds.sort();
    kinds.dedup();
    merged.latency_by_request = BTreeMap::new();
    for kind in kinds {
        let of_kind = rounds.iter().map(|r| r.latency_by_request.get(kind));
        if let Some(latency) = merge_latency(of_kind, &format!("{what}, {kind}"))? {
            merged.latency_by_request.insert(kind.clone(), latency);
        }
    }
    let of = |pick: Pick, name: &str| {
        merge_latency(rounds.iter().map(|r| pick(r)), &format!("{what}, {name}"))
    };
    merged.corrected_latency = of(|r| r.corrected_latency.as_ref(), "corrected")?;
    merged.error_latency = of(|r| r.error_latency.as_ref(), "error answers")?;
    merged.pacing_lateness = of(|r| r.pacing_lateness.as_ref(), "pacing lateness")?;
    merged.replay_latency = of(|r| r.replay_latency.as_ref(), "replays")?;
    Ok(())
}

/// What the servers counted, once per server: the union of the generators' windows of each.
fn merge_server_counts(
    merged: &mut RoundResult,
    rounds: &[&RoundResult],
    what: &str,
) -> Result<(), MergeError> {
    for (index, r) in rounds.iter().enumerate() {
        // A file that counted but kept no per-server readings cannot be counted once.
        if r.servers.is_empty() && (r.store_writes.is_some() || r.store_errors > 0) {
            return Err(MergeError::OlderFile { file: index + 1, what: what.to_string() });
        }
    }
    merged.servers = ServerWindow::union(rounds.iter().flat_map(|r| &r.servers));
    let total = ServerWindow::total(&merged.servers).unwrap_or_default();
    // A total is whole only when every generator read every server at both ends.
    let whole = |known: fn(&RoundResult) -> bool| rounds.iter().all(|r| known(r));
    merged.store_errors = total.store_errors;
    merged.fail_open_passes = total.fail_open_passes;
    merged.server_requests = total.requests.filter(|_| whole(|r| r.server_requests.is_some()));
    merged.sync_timeouts = total.sync_timeouts.filter(|_| !merged.servers.is_empty());
    merged.queue_overflows = total.queue_overflows.filter(|_| !merged.servers.is_empty());
    merged.local_checks = total.local_checks.filter(|_| !merged.servers.is_empty());
    merged.store_checks = total.store_checks.filter(|_| !merged.servers.is_empty());
    let writes = whole(|r| r.store_writes.is_some());
    merged.store_writes = writes.then_some(total.store_writes);
    let users = merged.users.unwrap_or(0);
    let secs = merged.elapsed_secs;
    merged.store_writes_per_user_hour = per_user_hour(merged.store_writes, users, secs);
    let refresh_writes = writes.then_some(total.refresh_writes);
    merged.refresh_writes_per_user_hour = per_user_hour(refresh_writes, users, secs);
    Ok(())
}

/// Every generator's probes as one set: counts summed, windows put together and their
/// figures recomputed.
fn merge_windows(rounds: &[&RoundResult], what: &str) -> Result<Option<ReplayWindow>, MergeError> {
    let mut merged: Option<ReplayWindow> = None;
    for (index, r) in rounds.iter().enumerate() {
        let Some(w) = &r.replay_window else { continue };
        if w.windows_us.is_empty() && w.probed() > 0 {
            return Err(MergeError::OlderFile { file: index + 1, what: what.to_string() });
        }
        merged = Some(match merged {
            None => w.clone(),
            Some(m) => ReplayWindow {
                probes: m.probes + w.probes,
                logouts_failed: m.logouts_failed + w.logouts_failed,
                never_refused: m.never_refused + w.never_refused,
                unanswered: m.unanswered + w.unanswered,
                windows_us: [m.windows_us, w.windows_us.clone()].concat(),
                replays: Some(
                    m.replays
                        .unwrap_or_default()
                        .plus(w.replays.unwrap_or(ReplayCounts::default())),
                ),
                requests: m.requests + w.requests,
                ..m
            },
        });
    }
    Ok(merged.map(|mut w| {
        (w.p50_us, w.max_us) = middle_and_max(&w.windows_us);
        w
    }))
}

/// The generators' outages as one: what was answered while the store was down summed; the
/// recovery the slowest generator saw (never, if one never saw it).
fn merge_outages(rounds: &[&RoundResult]) -> Option<OutageResult> {
    let outages: Vec<&OutageResult> = rounds.iter().filter_map(|r| r.outage.as_ref()).collect();
    let first = (*outages.first()?).clone();
    let recovery =
        outages.iter().map(|o| o.recovery_ms).try_fold(0.0_f64, |max, ms| Some(max.max(ms?)));
    Some(OutageResult {
        statuses_during: sum_maps(outages.iter().map(|o| &o.statuses_during)),
        replays_accepted_during: outages.iter().map(|o| o.replays_accepted_during).sum(),
        recovery_ms: recovery,
        ..first
    })
}

/// The latencies added up, or `None` when no round has one (e.g. no corrected latency).
fn merge_latency<'a>(
    latencies: impl Iterator<Item = Option<&'a LatencySummary>>,
    what: &str,
) -> Result<Option<LatencySummary>, MergeError> {
    let mut total: Option<Histogram<u64>> = None;
    for (index, latency) in latencies.enumerate() {
        let Some(latency) = latency else { continue };
        let file = index + 1;
        let Some(text) = &latency.histogram else {
            return Err(MergeError::NoHistogram { file, what: what.to_string() });
        };
        let h = histogram::decode(text).map_err(|reason| MergeError::BadHistogram {
            file,
            what: what.to_string(),
            reason,
        })?;
        match &mut total {
            None => {
                let mut sum = Histogram::new(h.sigfig()).expect("sigfig from a histogram");
                sum.add(&h).expect("an auto-resizing histogram takes any value");
                total = Some(sum);
            }
            Some(sum) => sum.add(&h).expect("an auto-resizing histogram takes any value"),
        }
    }
    Ok(total.map(|h| LatencySummary::from_histogram(&h)))
}

fn sum_maps<'a>(maps: impl Iterator<Item = &'a BTreeMap<String, u64>>) -> BTreeMap<String, u64> {
    let mut total = BTreeMap::new();
    for map in maps {
        for (key, count) in map {
            *total.entry(key.clone()).or_insert(0) += count;
        }
    }
    total
}

/// A per-request figure over all generators: each one's value times its requests (`weight`),
/// summed, over the requests summed — the total over the total.
fn weighted(
    rounds: &[&RoundResult],
    value: impl Fn(&RoundResult) -> Option<f64>,
    weight: impl Fn(&RoundResult) -> Option<u64>,
) -> Option<f64> {
    let mut total = 0.0;
    let mut requests = 0;
    for r in rounds {
        let (v, w) = (value(r)?, weight(r)?);
        total += v * w as f64;
        requests += w;
    }
    (requests > 0).then(|| total / requests as f64)
}
