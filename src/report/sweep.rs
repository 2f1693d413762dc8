//! The report of a `revbench sweep`: each metric against the axis, one line per store, the
//! rounds' min–max as whiskers, on a log axis when the values span decades — the charts that
//! answer "does the check slow down as the list grows?" — and report.md with the tables.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::colors;
use super::plot::{self, Chart, LineChart, Series, XLabels};
use crate::results::axis::{spans_decades, AxisKind};
use crate::results::sweep::SweepResults;
use crate::results::{RoundMedian, Spread};
use crate::units::{short_bytes, short_count};

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

/// report.md: what was swept, the check per point and store, the fills, the stores that
/// stopped, and the charts.
pub fn markdown(results: &SweepResults, charts: &[(String, Chart)]) -> String {
    let c = &results.config;
    let env = &results.header.environment;
    let mut out = String::new();
    let _ = writeln!(out, "# revbench sweep: {} = {}\n", c.axis, values(results));
    let _ =
        writeln!(
        out,
        "Scenario `{}` ({}), {} round(s) per point, {:.1} s measured per store, point and round \
         after {:.1} s of warm-up. Started {}{}.\n",
        c.scenario.name,
        c.scenario.description,
        c.rounds,
        c.duration_secs,
        c.warmup_secs,
        results.header.started_at,
        results.header.finished_at.as_deref().map_or(" (not finished)".into(), |f| format!(
            ", finished {f}"
        )),
    );
    let _ = writeln!(
        out,
        "Machine: {} ({} cores, {}); load average (1, 5, 15 min) {} at the start, {} at the \
         end; revbench {} (commit {}).\n",
        env.cpu_model,
        env.cores,
        env.memory_bytes.map_or("memory unknown".into(), |b| short_bytes(b as f64)),
        results.load_at_start.as_deref().unwrap_or("unknown"),
        results.load_at_end.as_deref().unwrap_or("unknown"),
        env.revbench_version,
        env.git_commit,
    );
    check_table(&mut out, results);
    rtt_table(&mut out, results);
    fill_table(&mut out, results);
    stopped(&mut out, results);
    for (stem, chart) in charts {
        let _ = writeln!(out, "![{}](charts/{stem}.svg)\n", chart.title());
    }
    out
}

fn values(results: &SweepResults) -> String {
    results.config.values.iter().map(|v| results.show(*v)).collect::<Vec<_>>().join(", ")
}

fn check_table(out: &mut String, results: &SweepResults) {
    let heading = match AxisKind::named(&results.config.axis) {
        Some(AxisKind::Revoked) => "The check as the set grows".to_string(),
        _ => format!("The check along {}", results.config.axis),
    };
    let _ = writeln!(out, "## {heading}\n");
    let _ = writeln!(
        out,
        "Medians over the rounds, min–max in brackets.\n\n| {} | store | check p50 (ms) | check \
         p99 (ms) | check p99.9 (ms) | requests/s | server peak RSS |\n|---:|---|---:|---:|---:|---:|---:|",
        results.config.axis
    );
    let ms = |s: Option<Spread>| {
        s.map_or("–".to_string(), |s| {
            format!("{:.3} ({:.3}–{:.3})", s.median / 1e3, s.min / 1e3, s.max / 1e3)
        })
    };
    for point in &results.points {
        for m in &point.measurements {
            let Some(median) = &m.median else { continue };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {:.0} ({:.0}–{:.0}) | {} |",
                results.show(point.value),
                m.store,
                ms(median.check_p50_us),
                ms(median.check_p99_us),
                ms(median.check_p999_us),
                median.requests_per_sec.median,
                median.requests_per_sec.min,
                median.requests_per_sec.max,
                median.server_peak_rss_bytes.map_or("–".into(), |s| short_bytes(s.median)),
            );
        }
    }
    out.push('\n');
}

fn rtt_table(out: &mut String, results: &SweepResults) {
    if results.points.iter().all(|p| p.store_rtt.is_empty()) {
        return;
    }
    let _ = writeln!(
        out,
        "## The round trip to the store\n\nThe servers reach each shared store through a \
         forwarder that holds every chunk for half the round trip in each direction. Before the \
         point's rounds, the store's own ping is timed straight and through it (medians; \
         in-process stores have no store to reach).\n\n| {} | store | pings | straight (µs) | \
         through (µs) | added, measured (µs) |\n|---:|---|---:|---:|---:|---:|",
        results.config.axis
    );
    for point in &results.points {
        for r in &point.store_rtt {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.0} | {:.0} | {:.0} |",
                results.show(point.value),
                r.store,
                r.pings,
                r.direct_us.median,
                r.through_us.median,
                r.measured_added_us
            );
        }
    }
    out.push('\n');
}

fn fill_table(out: &mut String, results: &SweepResults) {
    if results.points.iter().all(|p| p.fills.is_empty()) {
        return;
    }
    let _ = writeln!(out, "## Filling the stores\n");
    let _ = writeln!(
        out,
        "Shared stores grow by what is missing between points (`runner`); in-process stores are \
         filled by their server before it listens, every round (`server`, the first round shown). \
         Bytes per entry: the store-reported bytes (`store`) or the server's resident memory \
         (`rss`), with the fill against without.\n\n| {} | store | filled by | entries | added | \
         fill (s) | entries/s | bytes/entry |\n|---:|---|---|---:|---:|---:|---:|---:|",
        results.config.axis
    );
    for point in &results.points {
        for f in &point.fills {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {:.1} | {} | {} |",
                results.show(point.value),
                f.store,
                f.filled_by,
                short_count(f.entries),
                short_count(f.added),
                f.fill_secs,
                f.rate_per_sec.map_or("–".into(), |r| short_count(r as u64)),
                f.bytes_per_entry.map_or("–".into(), |b| format!("{b:.1} ({})", f.bytes_source)),
            );
        }
    }
    out.push('\n');
}

fn stopped(out: &mut String, results: &SweepResults) {
    if results.stopped.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Stores stopped before the end\n");
    for s in &results.stopped {
        let reached = s.reached.map_or("no point".to_string(), |r| results.show(r));
        let _ = writeln!(
            out,
            "- **{}** could not reach {} (measured up to {reached}): {}",
            s.store,
            results.show(s.at),
            s.reason
        );
    }
    out.push('\n');
}

/// Writes report.md and charts/sweep-*.svg|png into `out_dir`; returns the files.
pub fn write(results: &SweepResults, out_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let dir = out_dir.join("charts");
    std::fs::create_dir_all(&dir).with_context(|| {
        format!("cannot create {}; pass --out with a writable directory", dir.display())
    })?;
    let charts = charts(results);
    let mut written = Vec::new();
    for (stem, chart) in &charts {
        let svg = dir.join(format!("{stem}.svg"));
        std::fs::write(&svg, plot::svg(chart).map_err(|e| anyhow::anyhow!("{stem}: {e}"))?)
            .with_context(|| format!("cannot write {}", svg.display()))?;
        let png = dir.join(format!("{stem}.png"));
        plot::png(chart, &png).map_err(|e| anyhow::anyhow!("{stem}: {e}"))?;
        written.extend([svg, png]);
    }
    let md = out_dir.join("report.md");
    std::fs::write(&md, markdown(results, &charts))
        .with_context(|| format!("cannot write {}", md.display()))?;
    written.push(md);
    Ok(written)
}
