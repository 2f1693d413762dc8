//! `revbench export`: a results file in the formats CI benchmark trackers read.
//!
//! - `bmf`: Bencher Metric Format, `{benchmark: {measure: {value, lower_value, upper_value}}}`
//!   (<https://bencher.dev/docs/reference/bencher-metric-format/>).
//! - `github-action-benchmark`: entries `{name, unit, value, range}` for its
//!   `customSmallerIsBetter` tool (latency, leak rate, server CPU per request);
//!   `github-action-benchmark-bigger` the same for `customBiggerIsBetter` (requests/s), since
//!   one file feeds one tool.
//!
//! Each value is the median over rounds; bounds and range come from the rounds' min and max.

pub mod command;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::results::{Measurement, RunResults, Spread};

/// Output format of `revbench export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Bmf,
    GithubActionBenchmark,
    GithubActionBenchmarkBigger,
}

/// One measure of one measurement.
struct Measure {
    name: &'static str,
    unit: &'static str,
    smaller_is_better: bool,
    value: Spread,
}

fn measures(m: &Measurement) -> Vec<Measure> {
    let Some(median) = &m.median else { return Vec::new() };
    let mut out = vec![
        Measure {
            name: "requests_per_sec",
            unit: "req/s",
            smaller_is_better: false,
            value: median.requests_per_sec,
        },
        Measure { name: "p50_us", unit: "µs", smaller_is_better: true, value: median.p50_us },
        Measure { name: "p99_us", unit: "µs", smaller_is_better: true, value: median.p99_us },
    ];
    let server_cpu = Spread::of(m.rounds.iter().filter_map(|r| r.server_cpu_us_per_request));
    let optional = [
        ("corrected_p50_us", "µs", median.corrected_p50_us),
        ("corrected_p99_us", "µs", median.corrected_p99_us),
        ("leak_rate", "ratio", median.leak_rate),
        (crate::compare::CPU_METRIC, "µs", server_cpu),
    ];
    for (name, unit, value) in optional {
        if let Some(value) = value {
            out.push(Measure { name, unit, smaller_is_better: true, value });
        }
    }
    out
}

#[derive(Serialize)]
struct BmfValue {
    value: f64,
    lower_value: f64,
    upper_value: f64,
}

#[derive(Serialize)]
struct ActionEntry {
    name: String,
    unit: &'static str,
    value: f64,
    range: String,
}

/// The results in `format`, as pretty JSON.
pub fn export(results: &RunResults, format: ExportFormat) -> String {
    let benchmark = |m: &Measurement| format!("{}/{}", m.scenario, m.store);
    let json = match format {
        ExportFormat::Bmf => {
            let mut bmf: BTreeMap<String, BTreeMap<&str, BmfValue>> = BTreeMap::new();
            for m in &results.measurements {
                let entry = bmf.entry(benchmark(m)).or_default();
                for measure in measures(m) {
                    let v = measure.value;
                    entry.insert(
                        measure.name,
                        BmfValue { value: v.median, lower_value: v.min, upper_value: v.max },
                    );
                }
            }
            serde_json::to_string_pretty(&bmf)
        }
        ExportFormat::GithubActionBenchmark | ExportFormat::GithubActionBenchmarkBigger => {
            let smaller = format == ExportFormat::GithubActionBenchmark;
            let entries: Vec<ActionEntry> = results
                .measurements
                .iter()
                .flat_map(|m| {
                    measures(m)
                        .into_iter()
                        .filter(|measure| measure.smaller_is_better == smaller)
                        .map(|measure| ActionEntry {
                            name: format!("{} {}", benchmark(m), measure.name),
                            unit: measure.unit,
                            value: measure.value.median,
                            range: format!("± {}", (measure.value.max - measure.value.min) / 2.0),
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            serde_json::to_string_pretty(&entries)
        }
    };
    json.expect("export serializes")
}
