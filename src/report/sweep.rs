//! The report of a `revbench sweep`: each metric against the axis, one line per store, the
//! rounds' min–max as whiskers, on a log axis when the values span decades — the charts that
//! answer "does the check slow down as the list grows?" — and report.md and report.html with
//! the tables ([`sweep_page`]).

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::colors;
use super::plot::{self, Chart, LineChart, Series, XLabels};
use super::{html, markdown, sweep_page};
use crate::results::axis::{spans_decades, AxisKind};
use crate::results::sweep::SweepResults;
use crate::results::{RoundMedian, Spread};

/// One metric of the charts: its file stem, title, unit and where it comes from.
struct Metric {
    stem: &'static str,
    title: &'static str,
    y_label: &'static str,
    /// Median and min–max over the rounds, in the chart's unit.
    value: fn(&RoundMedian) -> Option<Spread>,
}

fn ms(s: Option<Spread>) -> Option<Spread> {
    s.map(|s| Spread { median: s.median / 1e3, min: s.min / 1e3, max: s.max / 1e3 })
}

fn mib(s: Option<Spread>) -> Option<Spread> {
    const MIB: f64 = 1024.0 * 1024.0;
    s.map(|s| Spread { median: s.median / MIB, min: s.min / MIB, max: s.max / MIB })
}

const METRICS: [Metric; 6] = [
    Metric {
        stem: "sweep-check-p50",
        title: "Check p50",
        y_label: "latency (µs)",
        value: |m| m.check_p50_us,
    },
    Metric {
        stem: "sweep-check-p99",
        title: "Check p99",
        y_label: "latency (µs)",
        value: |m| m.check_p99_us,
    },
    Metric {
        stem: "sweep-check-p999",
        title: "Check p99.9",
        y_label: "latency (µs)",
        value: |m| m.check_p999_us,
    },
    Metric {
        stem: "sweep-requests-per-sec",
        title: "Requests per second",
        y_label: "requests/s",
        value: |m| Some(m.requests_per_sec),
    },
    Metric {
        stem: "sweep-server-memory",
        title: "Server peak memory",
        y_label: "peak RSS per server (MiB)",
        value: |m| mib(m.server_peak_rss_bytes),
    },
    Metric {
        stem: "sweep-replay-window",
        title: "Longest replay window",
        y_label: "window (ms)",
        value: |m| ms(m.replay_window_max_us),
    },
];

/// Whether the chart's x axis is logarithmic: when the values span a decade or more. Zero
/// cannot sit on a log axis, so a point at 0 is then left out (and the title says so).
fn log_axis(results: &SweepResults) -> bool {
    spans_decades(&results.config.values)
}

fn x_label(results: &SweepResults) -> String {
    let axis = &results.config.axis;
    AxisKind::named(axis).map_or(axis.clone(), |k| k.description().to_string())
}

/// Every chart, by file stem; a metric no store has (e.g. the replay window under a
/// scenario that does not replay) is left out.
pub fn charts(results: &SweepResults) -> Vec<(String, Chart)> {
    let log = log_axis(results);
    let zero_left_out = log && results.config.values.contains(&0);
    let mut charts = Vec::new();
    for metric in &METRICS {
        let series = metric_series(results, log, |m| (metric.value)(m));
        if series.iter().all(|s| s.points.is_empty()) {
            continue;
        }
        let title = format!(
            "{} against {} — {} (whiskers: rounds' min–max{})",
            metric.title,
            results.config.axis,
            results.config.scenario.name,
            if zero_left_out { "; 0 not shown on the log axis" } else { "" }
        );
        charts.push((metric.stem.to_string(), line(results, title, metric.y_label, log, series)));
    }
    let bytes = bytes_series(results, log);
    if bytes.iter().any(|s| !s.points.is_empty()) {
        let title = "Bytes per prefilled entry (store bytes; server RSS in-process)";
        charts.push((
            "sweep-bytes-per-entry".to_string(),
            line(results, title.to_string(), "bytes per entry", log, bytes),
        ));
    }
    charts
}

fn line(results: &SweepResults, title: String, y: &str, log: bool, series: Vec<Series>) -> Chart {
    Chart::Line(LineChart {
        title,
        x_label: x_label(results),
        y_label: y.to_string(),
        x_log: log,
        x_labels: XLabels::Count,
        series,
    })
}

/// One series per store: the metric's median at each point, with its min–max whisker.
fn metric_series(
    results: &SweepResults,
    log: bool,
    value: impl Fn(&RoundMedian) -> Option<Spread>,
) -> Vec<Series> {
    store_names(results)
        .into_iter()
        .map(|store| {
            let spreads: Vec<(f64, Spread)> = results
                .points
                .iter()
                .filter(|p| !log || p.value > 0)
                .filter_map(|p| {
                    let m = p.measurements.iter().find(|m| m.store == store)?;
                    Some((p.value as f64, value(m.median.as_ref()?)?))
                })
                .collect();
            Series {
                color: colors::of(&store),
                points: spreads.iter().map(|(x, s)| (*x, s.median)).collect(),
                whiskers: spreads.iter().map(|(x, s)| (*x, s.min, s.max)).collect(),
                name: store,
            }
        })
        .collect()
}

/// Bytes per prefilled entry at each point, per store.
fn bytes_series(results: &SweepResults, log: bool) -> Vec<Series> {
    store_names(results)
        .into_iter()
        .map(|store| Series {
            color: colors::of(&store),
            points: results
                .points
                .iter()
                .filter(|p| !log || p.value > 0)
                .filter_map(|p| {
                    let fill = p.fills.iter().find(|f| f.store == store)?;
                    Some((p.value as f64, fill.bytes_per_entry?))
                })
                .collect(),
            whiskers: Vec::new(),
            name: store,
        })
        .collect()
}

/// The measured stores, in the order they were asked for.
fn store_names(results: &SweepResults) -> Vec<String> {
    results
        .stores
        .iter()
        .filter(|s| results.points.iter().any(|p| p.measurements.iter().any(|m| m.store == s.name)))
        .map(|s| s.name.clone())
        .collect()
}

/// Writes report.md, report.html and charts/sweep-*.svg|png into `out_dir`; returns the
/// files. `sizing` is `revbench size`'s answer from this sweep, when it gives one.
pub fn write(
    results: &SweepResults,
    out_dir: &Path,
    sizing: Option<&str>,
) -> anyhow::Result<Vec<PathBuf>> {
    let dir = out_dir.join("charts");
    std::fs::create_dir_all(&dir).with_context(|| {
        format!("cannot create {}; pass --out with a writable directory", dir.display())
    })?;
    let charts = charts(results);
    let mut written = Vec::new();
    let mut svgs = Vec::new();
    for (stem, chart) in &charts {
        let svg_text = plot::svg(chart).map_err(|e| anyhow::anyhow!("{stem}: {e}"))?;
        let svg = dir.join(format!("{stem}.svg"));
        std::fs::write(&svg, &svg_text)
            .with_context(|| format!("cannot write {}", svg.display()))?;
        let png = dir.join(format!("{stem}.png"));
        plot::png(chart, &png).map_err(|e| anyhow::anyhow!("{stem}: {e}"))?;
        written.extend([svg, png]);
        svgs.push((stem.clone(), svg_text));
    }
    let blocks = sweep_page::blocks(results, &charts, sizing);
    let md = out_dir.join("report.md");
    std::fs::write(&md, markdown::blocks(&blocks))
        .with_context(|| format!("cannot write {}", md.display()))?;
    let html = out_dir.join("report.html");
    let title =
        format!("revbench sweep: {} = {}", results.config.axis, sweep_page::values(results));
    std::fs::write(&html, html::page(&title, &blocks, &svgs))
        .with_context(|| format!("cannot write {}", html.display()))?;
    written.extend([md, html]);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sweep_page::blocks;

    /// The committed example sweep's report, as Markdown and HTML: the same sections, the
    /// sizing answer when one is given, every chart linked (Markdown) or inline (HTML).
    #[test]
    fn one_page_two_formats() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/reports/example-sweep/results.json");
        let results = SweepResults::read(std::path::Path::new(path)).unwrap();
        let charts = charts(&results);
        let page = blocks(&results, &charts, Some("store  B/entry/rep  check p50 / p99"));
        let md = markdown::blocks(&page);
        let svgs: Vec<(String, String)> = charts
            .iter()
            .map(|(stem, _)| (stem.clone(), format!("<svg id=\"{stem}\"></svg>")))
            .collect();
        let page_html = html::page("t", &page, &svgs);
        for heading in ["The check as the set grows", "Filling the stores", "Sizing: what"] {
            assert!(md.contains(&format!("## {heading}")), "{heading}");
            assert!(page_html.contains(&format!("<h2>{heading}")), "{heading}");
        }
        assert!(md.contains("```text\nstore  B/entry/rep") && page_html.contains("<pre>store"));
        assert!(md.contains("| 10M | hashmap |"), "{md}");
        for (stem, _) in &charts {
            assert!(md.contains(&format!("(charts/{stem}.svg)")), "{stem}");
            assert!(page_html.contains(&format!("<svg id=\"{stem}\">")), "{stem}");
        }
        assert!(charts.iter().any(|(stem, _)| stem == "sweep-server-memory"));
        assert!(!md.contains("round trip to the store"), "no store-rtt in a revoked sweep");
        let without = markdown::blocks(&blocks(&results, &charts, None));
        assert!(!without.contains("Sizing"));
    }
}
