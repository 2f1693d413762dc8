//! `revbench history`: level shifts over a series of results files (e.g. nightly runs of
//! main), per store × scenario × metric, found with E-divisive means ([`edivisive`]).
//!
//! Each file gives one value per series: the median of the metric over its rounds. A file
//! without the series (the store not measured that night) is left out of it; indexes and
//! names always refer to the files as ordered.

use serde::Serialize;

use crate::check::Metric;
use crate::results::RunResults;

mod chart;
pub mod command;
pub mod edivisive;

pub use edivisive::{change_points, ChangePoint, Settings};

/// One results file of the history, in order.
#[derive(Debug, Clone)]
pub struct Entry {
    /// As given or found (shown in the output).
    pub name: String,
    pub results: RunResults,
}

/// One metric of one store under one scenario, over the files that measured it.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub store: String,
    pub scenario: String,
    pub metric: &'static str,
    pub unit: &'static str,
    /// `(file index, median over its rounds)`, in file order.
    pub points: Vec<(usize, f64)>,
    pub shifts: Vec<Shift>,
}

/// A level shift: from file `index` on, the series sits at another level.
#[derive(Debug, Clone, Serialize)]
pub struct Shift {
    /// The first file at the new level (0-based, in the history's order) and its name.
    pub index: usize,
    pub file: String,
    /// Medians of the segment before and of the segment from here to the next shift.
    pub before: f64,
    pub after: f64,
    /// `after / before − 1`.
    pub change: f64,
    /// The shift makes the metric worse (higher latency or CPU, lower requests/s, more leaks).
    pub worse: bool,
    pub p_value: f64,
}

/// Every series of the history, with its shifts.
pub fn analyse(entries: &[Entry], settings: &Settings) -> Vec<Series> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for e in entries {
        for m in &e.results.measurements {
            let key = (m.scenario.clone(), m.store.clone());
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    let mut out = Vec::new();
    for (scenario, store) in keys {
        for metric in Metric::ALL {
            let points = points(entries, &scenario, &store, metric);
            if points.is_empty() {
                continue;
            }
            let shifts = shifts(entries, &points, metric, settings);
            out.push(Series {
                store: store.clone(),
                scenario: scenario.clone(),
                metric: metric.name(),
                unit: metric.unit(),
                points,
                shifts,
            });
        }
    }
    out
}

/// The metric's median over each file's rounds, for the files that measured it.
fn points(entries: &[Entry], scenario: &str, store: &str, metric: Metric) -> Vec<(usize, f64)> {
    entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let m = e
                .results
                .measurements
                .iter()
                .find(|m| m.scenario == scenario && m.store == store)?;
            let values: Vec<f64> = m.rounds.iter().filter_map(|r| metric.read(r)).collect();
            Some((i, median(&values)?))
        })
        .collect()
}

fn shifts(entries: &[Entry], points: &[(usize, f64)], metric: Metric, s: &Settings) -> Vec<Shift> {
    let values: Vec<f64> = points.iter().map(|p| p.1).collect();
    let found = change_points(&values, s);
    let mut bounds: Vec<usize> = found.iter().map(|c| c.at).collect();
    bounds.insert(0, 0);
    bounds.push(values.len());
    found
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let before = median(&values[bounds[k]..bounds[k + 1]]).expect("segments are not empty");
            let after = median(&values[bounds[k + 1]..bounds[k + 2]]).expect("likewise");
            let index = points[c.at].0;
            Shift {
                index,
                file: entries[index].name.clone(),
                before,
                after,
                change: after / before - 1.0,
                worse: (after > before) == metric.lower_is_better(),
                p_value: c.p_value,
            }
        })
        .collect()
}

fn median(values: &[f64]) -> Option<f64> {
    crate::results::Spread::of(values.iter().copied()).map(|s| s.median)
}

/// The values of a segment between two shifts, for the chart: `(first index, last index,
/// median)` of each segment.
pub fn segments(series: &Series) -> Vec<(usize, usize, f64)> {
    let mut cuts: Vec<usize> = series
        .shifts
        .iter()
        .map(|s| series.points.iter().position(|p| p.0 == s.index).expect("a shift is a point"))
        .collect();
    cuts.insert(0, 0);
    cuts.push(series.points.len());
    cuts.windows(2)
        .map(|w| {
            let values: Vec<f64> = series.points[w[0]..w[1]].iter().map(|p| p.1).collect();
            let level = median(&values).expect("segments are not empty");
            (series.points[w[0]].0, series.points[w[1] - 1].0, level)
        })
        .collect()
}
