//! Which charts a report has, built from the results: per scenario a latency percentile
//! spectrum, a throughput chart and its stores over time; cost vs protection per topology;
//! check latency against store size from criterion.

use std::collections::BTreeMap;

use super::colors::{self, Palette};
use super::criterion::{micro_point, MicroResult};
use super::plot::{Bar, BarChart, Chart, LineChart, Series, XLabels};
use super::vocabulary::{representative, shown_name};
use super::{cost_chart, decision, timeline_chart};
use crate::results::{Measurement, RunResults, StoreRecord};

/// A chart and the file stem it is saved under (`charts/<stem>.svg|png`).
pub struct NamedChart {
    pub stem: String,
    pub place: Place,
    pub chart: Chart,
}

/// The section of the report a chart belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The decision view (cost vs protection, one per topology).
    Decision,
    /// The section of the scenario with this name.
    Scenario(String),
    /// The microbenchmarks.
    Micro,
}

/// Every chart the results support.
pub fn all(results: &RunResults, micro: &[MicroResult]) -> Vec<NamedChart> {
    let palette = Palette::of(&results.stores);
    let mut charts = Vec::new();
    for topology in decision::topologies(results) {
        if let Some(chart) = cost_chart::chart(&topology, &palette) {
            let stem = cost_chart::stem(&topology.scenario.name);
            charts.push(NamedChart { stem, place: Place::Decision, chart });
        }
    }
    for scenario in &results.config.scenarios {
        let measurements: Vec<&Measurement> =
            results.measurements.iter().filter(|m| m.scenario == scenario.name).collect();
        if measurements.is_empty() {
            continue;
        }
        let place = Place::Scenario(scenario.name.clone());
        charts.push(NamedChart {
            stem: format!("latency-{}", scenario.name),
            place: place.clone(),
            chart: spectrum(&scenario.name, &measurements, &results.stores, &palette),
        });
        charts.push(NamedChart {
            stem: format!("throughput-{}", scenario.name),
            place: place.clone(),
            chart: throughput(&scenario.name, &measurements, &results.stores, &palette),
        });
        let over_time =
            timeline_chart::chart(&scenario.name, &measurements, &results.stores, &palette);
        if let Some(chart) = over_time {
            charts.push(NamedChart { stem: timeline_chart::stem(&scenario.name), place, chart });
        }
    }
    if let Some(chart) = check_latency_vs_size(micro) {
        let stem = "check-latency-vs-size".to_string();
        charts.push(NamedChart { stem, place: Place::Micro, chart });
    }
    charts
}

fn spectrum(
    scenario: &str,
    measurements: &[&Measurement],
    stores: &[StoreRecord],
    palette: &Palette,
) -> Chart {
    let series = measurements
        .iter()
        .filter_map(|m| {
            let round = representative(m)?;
            let latency = round.check_latency()?;
            let points = latency
                .spectrum
                .iter()
                .filter(|(p, _)| *p < 100.0)
                .map(|(p, us)| (1.0 / (1.0 - p / 100.0), *us as f64 / 1000.0))
                .collect();
            Some(Series {
                whiskers: Vec::new(),
                name: shown_name(&m.store, stores),
                color: palette.color(&m.store),
                points,
            })
        })
        .collect();
    Chart::Line(LineChart {
        title: format!("GET /api/me latency by percentile — {scenario}"),
        x_label: "percentile (log scale)".to_string(),
        y_label: "latency (ms)".to_string(),
        x_log: true,
        x_labels: XLabels::Percentile,
        series,
    })
}

fn throughput(
    scenario: &str,
    measurements: &[&Measurement],
    stores: &[StoreRecord],
    palette: &Palette,
) -> Chart {
    let bars = measurements
        .iter()
        .filter_map(|m| {
            let rps = m.median.as_ref()?.requests_per_sec;
            Some(Bar {
                name: shown_name(&m.store, stores),
                color: palette.color(&m.store),
                value: rps.median,
                min: rps.min,
                max: rps.max,
            })
        })
        .collect();
    Chart::Bars(BarChart {
        title: format!("Throughput — {scenario} (median of rounds, whiskers min–max)"),
        y_label: "requests/s".to_string(),
        bars,
    })
}

fn check_latency_vs_size(micro: &[MicroResult]) -> Option<Chart> {
    let mut by_store: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for result in micro {
        // Misses: the common case in production (almost every token checked is not revoked).
        if let Some((store, size, "miss")) = micro_point(&result.id) {
            by_store.entry(store).or_default().push((size as f64, result.median_ns));
        }
    }
    if by_store.is_empty() {
        return None;
    }
    let series = by_store
        .into_iter()
        .map(|(store, mut points)| {
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series { color: colors::of(&store), name: store, points, whiskers: Vec::new() }
        })
        .collect();
    Some(Chart::Line(LineChart {
        title: "is_revoked (miss) median latency vs store size".to_string(),
        x_label: "entries in the store (log scale)".to_string(),
        y_label: "latency (ns)".to_string(),
        x_log: true,
        x_labels: XLabels::Count,
        series,
    }))
}
