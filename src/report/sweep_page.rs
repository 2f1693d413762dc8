//! The text of a sweep's report, built once as [`Block`]s and written as Markdown and as HTML:
//! what was swept, the check per point and store, the round trip to the store, the fills, the
//! stores that stopped, the sizing answer from this sweep, and the charts.

use super::plot::Chart;
use super::vocabulary::{Block, Table};
use crate::results::answers::failed_share;
use crate::results::axis::AxisKind;
use crate::results::sweep::SweepResults;
use crate::results::Spread;
use crate::units::{short_bytes, short_count};

/// Every block of the report, in order.
pub fn blocks(
    results: &SweepResults,
    charts: &[(String, Chart)],
    sizing: Option<&str>,
) -> Vec<Block> {
    let mut out = vec![Block::Title(format!(
        "revbench sweep: {} = {}",
        results.config.axis,
        values(results)
    ))];
    out.extend(about(results).into_iter().map(Block::Prose));
    out.extend(check(results));
    out.extend(rtt(results));
    out.extend(fills(results));
    out.extend(stopped(results));
    if let Some(sizing) = sizing {
        out.push(Block::Heading("Sizing: what this sweep says at the example numbers".into()));
        out.push(Block::Prose(SIZING_INTRO.to_string()));
        out.push(Block::Preformatted(sizing.to_string()));
    }
    for (stem, chart) in charts {
        out.push(Block::Chart { stem: stem.clone(), title: chart.title().to_string() });
    }
    out
}

const SIZING_INTRO: &str = "`revbench size` with this sweep's measurements, for 2M users, 0.05 \
    logouts per user per hour, 15-minute tokens, 6 replicas and 20,000 requests/s (`revbench \
    size --from <this sweep>/results.json` with your own numbers). `B/entry/rep` is what one \
    entry costs in each server process (0 where only the shared store keeps it), beside the \
    check latency it buys.";

/// The axis's values as people read them.
pub fn values(results: &SweepResults) -> String {
    results.config.values.iter().map(|v| results.show(*v)).collect::<Vec<_>>().join(", ")
}

/// What was swept, how, and on what machine.
fn about(results: &SweepResults) -> [String; 2] {
    let c = &results.config;
    let env = &results.header.environment;
    let finished = results
        .header
        .finished_at
        .as_deref()
        .map_or(" (not finished)".into(), |f| format!(", finished {f}"));
    [
        format!(
            "Scenario `{}` ({}), {} round(s) per point, {:.1} s measured per store, point and \
             round after {:.1} s of warm-up. Started {}{finished}.",
            c.scenario.name,
            c.scenario.description,
            c.rounds,
            c.duration_secs,
            c.warmup_secs,
            results.header.started_at,
        ),
        format!(
            "Machine: {} ({} cores, {}); load average (1, 5, 15 min) {} at the start, {} at the \
             end; revbench {} (commit {}).",
            env.cpu_model,
            env.cores,
            env.memory_bytes.map_or("memory unknown".into(), |b| short_bytes(b as f64)),
            results.load_at_start.as_deref().unwrap_or("unknown"),
            results.load_at_end.as_deref().unwrap_or("unknown"),
            env.revbench_version,
            env.git_commit,
        ),
    ]
}

/// A heading, a paragraph and a table, when the table has rows.
fn section(heading: String, intro: &str, table: Option<Table>) -> Vec<Block> {
    table.map_or_else(Vec::new, |table| {
        vec![Block::Heading(heading), Block::Prose(intro.to_string()), Block::Table(table)]
    })
}

fn ms(s: Option<Spread>) -> String {
    s.map_or("–".to_string(), |s| {
        format!("{:.3} ({:.3}–{:.3})", s.median / 1e3, s.min / 1e3, s.max / 1e3)
    })
}

fn check(results: &SweepResults) -> Vec<Block> {
    let heading = match AxisKind::named(&results.config.axis) {
        Some(AxisKind::Revoked) => "The check as the set grows".to_string(),
        _ => format!("The check along {}", results.config.axis),
    };
    let mut rows = Vec::new();
    for point in &results.points {
        for m in &point.measurements {
            let Some(median) = &m.median else { continue };
            let rps = median.requests_per_sec;
            rows.push(vec![
                results.show(point.value),
                m.store.clone(),
                ms(median.check_p50_us),
                ms(median.check_p99_us),
                ms(median.check_p999_us),
                format!("{:.0} ({:.0}–{:.0})", rps.median, rps.min, rps.max),
                median.server_peak_rss_bytes.map_or("–".into(), |s| short_bytes(s.median)),
                failed_share(&m.rounds).map_or("–".into(), |f| format!("{:.1} %", f * 100.0)),
            ]);
        }
    }
    let headers = [
        results.config.axis.as_str(),
        "store",
        "check p50 (ms)",
        "check p99 (ms)",
        "check p99.9 (ms)",
        "requests/s",
        "server peak RSS",
        "requests failed",
    ];
    let intro = "Medians over the rounds, min–max in brackets. Where most requests failed (store \
                 errors or no answer), the latency is of the few that got through, not the store's.";
    section(heading, intro, Table::of(&headers, rows))
}

fn rtt(results: &SweepResults) -> Vec<Block> {
    let mut rows = Vec::new();
    for point in &results.points {
        for r in &point.store_rtt {
            rows.push(vec![
                results.show(point.value),
                r.store.clone(),
                r.pings.to_string(),
                format!("{:.0}", r.direct_us.median),
                format!("{:.0}", r.through_us.median),
                format!("{:.0}", r.measured_added_us),
            ]);
        }
    }
    let headers = [
        results.config.axis.as_str(),
        "store",
        "pings",
        "straight (µs)",
        "through (µs)",
        "added, measured (µs)",
    ];
    section(
        "The round trip to the store".into(),
        "The servers reach each shared store through a forwarder that holds every chunk for half \
         the round trip in each direction. Before the point's rounds, the store's own ping is \
         timed straight and through it (medians; in-process stores have no store to reach).",
        Table::of(&headers, rows),
    )
}

fn fills(results: &SweepResults) -> Vec<Block> {
    let mut rows = Vec::new();
    for point in &results.points {
        for f in &point.fills {
            rows.push(vec![
                results.show(point.value),
                f.store.clone(),
                f.filled_by.clone(),
                short_count(f.entries),
                short_count(f.added),
                format!("{:.1}", f.fill_secs),
                f.rate_per_sec.map_or("–".into(), |r| short_count(r as u64)),
                f.bytes_per_entry.map_or("–".into(), |b| format!("{b:.1} ({})", f.bytes_source)),
            ]);
        }
    }
    let headers = [
        results.config.axis.as_str(),
        "store",
        "filled by",
        "entries",
        "added",
        "fill (s)",
        "entries/s",
        "bytes/entry",
    ];
    section(
        "Filling the stores".into(),
        "Shared stores grow by what is missing between points (`runner`); in-process stores are \
         filled by their server before it listens, every round (`server`, the first round \
         shown). Bytes per entry: the store-reported bytes (`store`) or the server's resident \
         memory (`rss`), with the fill against without.",
        Table::of(&headers, rows),
    )
}

fn stopped(results: &SweepResults) -> Vec<Block> {
    if results.stopped.is_empty() {
        return Vec::new();
    }
    let items = results
        .stopped
        .iter()
        .map(|s| {
            let reached = s.reached.map_or("no point".to_string(), |r| results.show(r));
            format!(
                "`{}` could not reach {} (measured up to {reached}): {}",
                s.store,
                results.show(s.at),
                s.reason
            )
        })
        .collect();
    vec![Block::Heading("Stores stopped before the end".into()), Block::List(items)]
}
