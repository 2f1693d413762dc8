//! The table `revbench sweep` prints at the end: per point and store, the fill and the check.

use std::fmt::Write;

use crate::results::answers::failed_share;
use crate::results::sweep::SweepResults;
use crate::units::short_count;

/// One row per point and store: entries, fill rate, bytes per entry, check p50/p99 and
/// requests/s (medians over the rounds), and the share of requests that failed (a latency
/// beside a large one is of the few that got through); then the stores that stopped, and why.
pub fn table(results: &SweepResults) -> String {
    let width = results.stores.iter().map(|s| s.name.len()).max().unwrap_or(5).max(5);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>8}  {:<width$}  {:>12}  {:>10}  {:>11}  {:>11}  {:>10}  {:>7}",
        results.config.axis,
        "store",
        "fill/s",
        "bytes/entry",
        "check p50",
        "check p99",
        "req/s",
        "failed"
    );
    for point in &results.points {
        for m in &point.measurements {
            let fill = point.fills.iter().find(|f| f.store == m.store);
            let rate =
                fill.and_then(|f| f.rate_per_sec).map_or("-".into(), |r| short_count(r as u64));
            let bytes =
                fill.and_then(|f| f.bytes_per_entry).map_or("-".into(), |b| format!("{b:.1}"));
            let median = m.median.as_ref();
            let ms = |s: Option<crate::results::Spread>| {
                s.map_or("-".to_string(), |s| format!("{:.3} ms", s.median / 1e3))
            };
            let _ = writeln!(
                out,
                "{:>8}  {:<width$}  {:>12}  {:>10}  {:>11}  {:>11}  {:>10}  {:>7}",
                results.show(point.value),
                m.store,
                rate,
                bytes,
                ms(median.and_then(|m| m.check_p50_us)),
                ms(median.and_then(|m| m.check_p99_us)),
                median.map_or("-".into(), |m| format!("{:.0}", m.requests_per_sec.median)),
                failed_share(&m.rounds).map_or("-".into(), |f| format!("{:.1} %", f * 100.0)),
            );
        }
    }
    for stopped in &results.stopped {
        let reached = stopped.reached.map_or("nothing".into(), |r| results.show(r));
        let _ = writeln!(
            out,
            "stopped: {} at {} (reached {reached}): {}",
            stopped.store,
            results.show(stopped.at),
            stopped.reason
        );
    }
    out
}
