//! Several load generators, one result: `revbench merge a.json b.json … -o merged.json`.
//!
//! Each generator ran the same stores, scenarios and rounds at the same time, each with its
//! share of the load. Round `i` of the merged file is round `i` of every input added up:
//! latency histograms added bucket by bucket (so every percentile is exact, not an average of
//! percentiles), requests, statuses, errors and replays summed, requests per second summed
//! (the generators ran side by side), the leak rate recomputed from the summed replays.

pub mod command;

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::results::histogram;
use crate::results::{LatencySummary, Measurement, RoundResult, RunResults};

/// Why files cannot be merged.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MergeError {
    #[error("merge needs at least two results files")]
    TooFew,
    #[error(
        "file {file} does not measure the same stores, scenarios and rounds as the first: {what}; \
         merge only files from generators of one run"
    )]
    Mismatch { file: usize, what: String },
    #[error(
        "file {file} keeps no latency histogram ({what}): it was written by an older revbench; \
         re-run the generators with this version"
    )]
    NoHistogram { file: usize, what: String },
    #[error("file {file}: {what}: {reason}")]
    BadHistogram { file: usize, what: String, reason: String },
}

/// The inputs merged into one run: the first file's header and configuration, started at the
/// earliest start and finished at the latest finish.
pub fn merge(files: &[RunResults]) -> Result<RunResults, MergeError> {
    let [first, rest @ ..] = files else { return Err(MergeError::TooFew) };
    if rest.is_empty() {
        return Err(MergeError::TooFew);
    }
    let mut merged = first.clone();
    for (index, other) in rest.iter().enumerate() {
        check_same_shape(first, other, index + 2)?;
    }
    for (m, measurement) in merged.measurements.iter_mut().enumerate() {
        let label = format!("{} under {}", measurement.store, measurement.scenario);
        for (r, round) in measurement.rounds.iter_mut().enumerate() {
            let rounds: Vec<&RoundResult> =
                files.iter().map(|f| &f.measurements[m].rounds[r]).collect();
            *round = merge_round(&rounds, &format!("{label}, round {}", r + 1))?;
        }
        measurement.update_median();
    }
    merged.header.started_at = files.iter().map(|f| f.header.started_at.clone()).min().unwrap();
    merged.header.finished_at = files.iter().map(|f| f.header.finished_at.clone()).max().unwrap();
    Ok(merged)
}

fn check_same_shape(first: &RunResults, other: &RunResults, file: usize) -> Result<(), MergeError> {
    let shape = |r: &RunResults| -> Vec<(String, String, usize)> {
        r.measurements
            .iter()
            .map(|m: &Measurement| (m.store.clone(), m.scenario.clone(), m.rounds.len()))
            .collect()
    };
    let (a, b) = (shape(first), shape(other));
    if a != b {
        return Err(MergeError::Mismatch { file, what: format!("{a:?} vs {b:?}") });
    }
    Ok(())
}

/// One round of every generator added up.
fn merge_round(rounds: &[&RoundResult], what: &str) -> Result<RoundResult, MergeError> {
    let mut merged = rounds[0].clone();
    let sum = |f: &dyn Fn(&RoundResult) -> u64| rounds.iter().map(|r| f(r)).sum::<u64>();
    merged.requests = sum(&|r| r.requests);
    merged.requests_per_sec = rounds.iter().map(|r| r.requests_per_sec).sum();
    merged.elapsed_secs = rounds.iter().map(|r| r.elapsed_secs).fold(0.0, f64::max);
    merged.latency = merge_latency(rounds.iter().map(|r| Some(&r.latency)), what)?
        .expect("every round has a latency");
    let kinds: Vec<String> = merged.latency_by_request.keys().cloned().collect();
    for kind in kinds {
        let of_kind = rounds.iter().map(|r| r.latency_by_request.get(&kind));
        if let Some(latency) = merge_latency(of_kind, &format!("{what}, {kind}"))? {
            merged.latency_by_request.insert(kind, latency);
        }
    }
    let corrected = rounds.iter().map(|r| r.corrected_latency.as_ref());
    merged.corrected_latency = merge_latency(corrected, &format!("{what}, corrected"))?;
    merged.statuses = sum_maps(rounds.iter().map(|r| &r.statuses));
    merged.errors = sum_maps(rounds.iter().map(|r| &r.errors));
    merged.replays_attempted = sum(&|r| r.replays_attempted);
    merged.replays_accepted = sum(&|r| r.replays_accepted);
    merged.leak_rate = (merged.replays_attempted > 0)
        .then(|| merged.replays_accepted as f64 / merged.replays_attempted as f64);
    merged.store_errors = sum(&|r| r.store_errors);
    merged.fail_open_passes = sum(&|r| r.fail_open_passes);
    // One store behind all generators: its size is one reading, not a sum.
    merged.store_entries = rounds.iter().filter_map(|r| r.store_entries).max();
    merged.store_bytes = rounds.iter().filter_map(|r| r.store_bytes).max();
    merged.server_peak_rss_bytes = rounds.iter().filter_map(|r| r.server_peak_rss_bytes).max();
    merged.client_cpu_us_per_request =
        weighted(rounds, |r| r.client_cpu_us_per_request, merged.requests);
    merged.server_cpu_us_per_request =
        weighted(rounds, |r| r.server_cpu_us_per_request, merged.requests);
    Ok(merged)
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

/// A per-request figure averaged over the generators, weighted by their requests.
fn weighted(
    rounds: &[&RoundResult],
    value: impl Fn(&RoundResult) -> Option<f64>,
    requests: u64,
) -> Option<f64> {
    let values: Option<Vec<f64>> =
        rounds.iter().map(|r| value(r).map(|v| v * r.requests as f64)).collect();
    (requests > 0).then_some(values?.iter().sum::<f64>() / requests as f64)
}
