//! The table `revbench run` prints at the end: one row per store and scenario (medians).

use std::fmt::Write;

use crate::results::{Measurement, RoundMedian, RunResults, Spread, StoreStatus};

/// A plain-text table of the medians across rounds.
pub fn table(results: &RunResults) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{:<15} {:<14} {:>10} {:>10} {:>10} {:>10} {:>12} {:>12} {:>8} {:>10} {:>9} {:>14}",
        "scenario",
        "store",
        "req/s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "corr p50 ms",
        "corr p99 ms",
        "leak",
        "error ans",
        "peak MiB",
        "replay p99 ms"
    );
    for m in &results.measurements {
        write_row(&mut out, m, results);
    }
    refresh_traffic(&mut out, results);
    footnotes(&mut out, results);
    out
}

/// One store under one scenario; nothing when it has no median (no round measured).
fn write_row(out: &mut String, m: &Measurement, results: &RunResults) {
    let Some(median) = &m.median else { return };
    let leak = median.leak_rate.map(|l| format!("{:.0}%", l.median * 100.0)).unwrap_or("-".into());
    let rss = median
        .server_peak_rss_bytes
        .map(|b| format!("{:.1}", b.median / (1024.0 * 1024.0)))
        .unwrap_or("-".into());
    // A store served by a wire-compatible stand-in is starred and explained below.
    let stand_in = results.stores.iter().any(|s| s.name == m.store && s.server_caveat.is_some());
    let store = if stand_in { format!("{}*", m.store) } else { m.store.clone() };
    // Constant-rate scenarios: latency from each request's intended start.
    let corrected =
        |s: Option<Spread>| s.map(|s| format!("{:.3}", s.median / 1000.0)).unwrap_or("-".into());
    let error_answers: u64 =
        m.rounds.iter().filter_map(|r| r.error_latency.as_ref()).map(|l| l.count).sum();
    let _ = writeln!(
        out,
        "{:<15} {:<14} {:>10.0} {:>10.3} {:>10.3} {:>10.3} {:>12} {:>12} {:>8} {:>10} {:>9} {:>14}",
        m.scenario,
        store,
        median.requests_per_sec.median,
        median.p50_us.median / 1000.0,
        median.p99_us.median / 1000.0,
        median.p999_us.median / 1000.0,
        corrected(median.corrected_p50_us),
        corrected(median.corrected_p99_us),
        leak,
        error_answers,
        rss,
        replay_p99(median)
    );
}

/// Below the table: who served the starred stores, what was skipped or not applicable, and
/// the servers measured elsewhere.
fn footnotes(out: &mut String, results: &RunResults) {
    for store in results.stores.iter().filter(|s| s.status == StoreStatus::Measured) {
        if let (Some(server), Some(caveat)) = (&store.server_version, &store.server_caveat) {
            let _ = writeln!(out, "{}*: served by {server}: {caveat}", store.name);
        }
    }
    for skipped in results.stores.iter().filter(|s| s.status == StoreStatus::Skipped) {
        let _ =
            writeln!(out, "skipped {}: {}", skipped.name, skipped.reason.as_deref().unwrap_or(""));
    }
    for skipped in &results.not_applicable {
        let _ = writeln!(out, "{} under {}: {}", skipped.store, skipped.scenario, skipped.status());
    }
    let targets = &results.header.environment.targets;
    if !targets.is_empty() {
        let _ = writeln!(
            out,
            "targets: {} (peak MiB and server CPU not measured: the servers run elsewhere)",
            targets.join(", ")
        );
    }
}

/// The replay window's p99 (median over rounds): `never` when at least 1% of the probed
/// copies were never refused (so the p99 falls on one), `-` when it was not probed.
pub fn replay_p99(median: &RoundMedian) -> String {
    match (median.replay_never_refused, median.replay_window_p99_us) {
        (Some(never), _) if never.median >= 0.01 => "never".to_string(),
        (_, Some(p99)) => format!("{:.3}", p99.median / 1000.0),
        _ => "-".to_string(),
    }
}

/// What renewing tokens costs, for the scenarios where some store was sent `POST /refresh`
/// (the report's renewal table, as plain text).
fn refresh_traffic(out: &mut String, results: &RunResults) {
    for scenario in &results.config.scenarios {
        let of_scenario: Vec<_> =
            results.measurements.iter().filter(|m| m.scenario == scenario.name).collect();
        let Some(table) = crate::report::renewal_table(&of_scenario, &results.stores) else {
            continue;
        };
        let _ = writeln!(out, "\nrenewing tokens in {}:", scenario.name);
        for row in std::iter::once(&table.headers).chain(&table.rows) {
            let _ = writeln!(out, "  {:<15} {:>18} {:>21} {:>23}", row[0], row[1], row[2], row[3]);
        }
    }
}
