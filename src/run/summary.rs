//! The table `revbench run` prints at the end: one row per store and scenario (medians).
//! Latency is the check latency (`GET /api/me` with a live token), the same request for every
//! store; the leak is of the answered replays.

use std::fmt::Write;

use crate::results::{Measurement, RoundMedian, RunResults, Spread, StoreStatus};

/// A plain-text table of the medians across rounds.
pub fn table(results: &RunResults) -> String {
    let mut out = String::new();
    // Wide enough for the longest label (and a stand-in's star): `redis/9?prefix=other:`.
    let width = results.measurements.iter().map(|m| m.store.len() + 1).fold(14, usize::max);
    let _ = writeln!(
        out,
        "\n{:<15} {:<width$} {:>10} {:>10} {:>10} {:>10} {:>12} {:>12} {:>8} {:>10} {:>9} {:>14}",
        "scenario",
        "store",
        "req/s",
        "check p50",
        "check p99",
        "check p99.9",
        "corr p50 ms",
        "corr p99 ms",
        "leak",
        "error ans",
        "peak MiB",
        "replay max ms"
    );
    for m in &results.measurements {
        write_row(&mut out, m, results, width);
    }
    refresh_traffic(&mut out, results);
    footnotes(&mut out, results);
    out
}

/// One store under one scenario; nothing when it has no median (no round measured).
fn write_row(out: &mut String, m: &Measurement, results: &RunResults, width: usize) {
    let Some(median) = &m.median else { return };
    let leak = median.leak_rate.map(|l| format!("{:.0}%", l.median * 100.0)).unwrap_or("-".into());
    let ms =
        |s: Option<Spread>| s.map(|s| format!("{:.3}", s.median / 1000.0)).unwrap_or("-".into());
    let rss = median
        .server_peak_rss_bytes
        .map(|b| format!("{:.1}", b.median / (1024.0 * 1024.0)))
        .unwrap_or("-".into());
    // A store served by a wire-compatible stand-in is starred and explained below.
    let stand_in = results.store(&m.store).is_some_and(|s| s.server_caveat.is_some());
    let store = if stand_in { format!("{}*", m.store) } else { m.store.clone() };
    // Constant-rate scenarios: latency from each request's intended start.
    let corrected =
        |s: Option<Spread>| s.map(|s| format!("{:.3}", s.median / 1000.0)).unwrap_or("-".into());
    let error_answers: u64 =
        m.rounds.iter().filter_map(|r| r.error_latency.as_ref()).map(|l| l.count).sum();
    let _ = writeln!(
        out,
        "{:<15} {:<width$} {:>10.0} {:>10} {:>10} {:>10} {:>12} {:>12} {:>8} {:>10} {:>9} {:>14}",
        m.scenario,
        store,
        median.requests_per_sec.median,
        ms(median.check_p50_us),
        ms(median.check_p99_us),
        ms(median.check_p999_us),
        corrected(median.corrected_p50_us),
        corrected(median.corrected_p99_us),
        leak,
        error_answers,
        rss,
        replay_max(median)
    );
}

/// Below the table: replays that went unanswered, who served the starred stores, what was
/// skipped or not applicable, and the servers measured elsewhere.
fn footnotes(out: &mut String, results: &RunResults) {
    for m in &results.measurements {
        let unanswered: u64 = m.rounds.iter().filter_map(|r| r.replays_unanswered).sum();
        let attempted: u64 = m.rounds.iter().map(|r| r.replays_attempted).sum();
        if unanswered > 0 {
            let _ = writeln!(
                out,
                "{} under {}: {unanswered} of {attempted} replays unanswered (5xx or no answer: \
                 neither refused nor accepted, kept out of the leak)",
                m.store, m.scenario
            );
        }
    }
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

/// The longest replay window of a round's probes (median over rounds): `never` when a probed
/// copy was never refused in most rounds, `-` when it was not probed.
pub fn replay_max(median: &RoundMedian) -> String {
    match (median.replay_never_refused, median.replay_window_max_us) {
        (Some(never), _) if never.median > 0.0 => "never".to_string(),
        (_, Some(max)) => format!("{:.3}", max.median / 1000.0),
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
