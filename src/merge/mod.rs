//! Several load generators, one result: `revbench merge a.json b.json … -o merged.json`.
//!
//! Each generator ran the same stores, scenarios and rounds at the same time, each with its
//! share of the load (`run --segment K/N`). Round `i` of the merged file is round `i` of every
//! input put together, exactly wherever the inputs allow ([`round`] says field by field):
//! what each generator saw of its own requests is summed (requests, statuses, errors,
//! replays, probes), latency histograms are added bucket by bucket (so every percentile is
//! that of the union of the samples, not an average of percentiles), and what the servers
//! counted is taken once per server (several generators driving one deployment with
//! `--target` read the same servers): each server's window is the union of the generators'.
//! `docs/merge.md` lists the few fields that cannot be merged exactly and what is done with
//! them.

pub mod command;
mod round;
mod timeline;

use crate::results::{Measurement, RunResults};
use crate::scenario::Scenario;

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
    #[error(
        "file {file} keeps no per-server counters or probe windows ({what}): it was written by \
         an older revbench, whose counts cannot be merged exactly; re-run the generators with \
         this version"
    )]
    OlderFile { file: usize, what: String },
    #[error("file {file}: {what}: {reason}")]
    BadHistogram { file: usize, what: String, reason: String },
}

/// The inputs merged into one run: the first file's header and configuration (each scenario
/// with the generators' users and rates added up), started at the earliest start and finished
/// at the latest finish; failures and pairs not applicable of every file.
pub fn merge(files: &[RunResults]) -> Result<RunResults, MergeError> {
    let [first, rest @ ..] = files else { return Err(MergeError::TooFew) };
    if rest.is_empty() {
        return Err(MergeError::TooFew);
    }
    for (index, other) in rest.iter().enumerate() {
        check_same_shape(first, other, index + 2)?;
    }
    let mut merged = first.clone();
    for (m, measurement) in merged.measurements.iter_mut().enumerate() {
        let label = format!("{} under {}", measurement.store, measurement.scenario);
        for (r, round) in measurement.rounds.iter_mut().enumerate() {
            let rounds: Vec<_> = files.iter().map(|f| &f.measurements[m].rounds[r]).collect();
            *round = round::merge_round(&rounds, &format!("{label}, round {}", r + 1))?;
        }
        measurement.update_median();
    }
    for (s, scenario) in merged.config.scenarios.iter_mut().enumerate() {
        *scenario = whole_scenario(files.iter().map(|f| &f.config.scenarios[s]));
    }
    for other in rest {
        for failure in &other.failures {
            if !merged.failures.contains(failure) {
                merged.failures.push(failure.clone());
            }
        }
        for pair in &other.not_applicable {
            if !merged.not_applicable.contains(pair) {
                merged.not_applicable.push(pair.clone());
            }
        }
    }
    merged.header.started_at = files.iter().map(|f| f.header.started_at.clone()).min().unwrap();
    merged.header.finished_at = files.iter().map(|f| f.header.finished_at.clone()).max().unwrap();
    Ok(merged)
}

/// One scenario as all the generators ran it: their users and rates added up.
fn whole_scenario<'a>(shares: impl Iterator<Item = &'a Scenario>) -> Scenario {
    let shares: Vec<&Scenario> = shares.collect();
    let mut whole = shares[0].clone();
    whole.users = shares.iter().map(|s| s.users).sum();
    whole.rate = shares.iter().map(|s| s.rate).sum();
    whole
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
    let names =
        |r: &RunResults| r.config.scenarios.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
    if names(first) != names(other) {
        let what = format!("scenarios {:?} vs {:?}", names(first), names(other));
        return Err(MergeError::Mismatch { file, what });
    }
    Ok(())
}
