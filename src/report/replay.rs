//! The replay-window table of a scenario: how long copied tokens kept working after logout.

use super::vocabulary::{shown_name, window_ms, Table};
use crate::results::{Measurement, StoreRecord};

/// The middle of per-round values, where "never" (`None`) ranks above every number.
fn median_window(mut values: Vec<Option<u64>>) -> Option<u64> {
    values.sort_by_key(|v| v.unwrap_or(u64::MAX));
    values.get(values.len().saturating_sub(1) / 2).copied().flatten()
}

/// Per store: copies probed over all rounds, how many were never refused, the window's p50
/// (median over rounds) and the longest window (over rounds), copies whose replays went
/// unanswered, failed logouts, and the probes' schedule. `None` when no round probed.
pub fn table(measurements: &[&Measurement], stores: &[StoreRecord]) -> Option<Table> {
    let rows: Vec<Vec<String>> = measurements
        .iter()
        .filter_map(|m| {
            let windows: Vec<_> =
                m.rounds.iter().filter_map(|r| r.replay_window.as_ref()).collect();
            let first = windows.first()?;
            let probed: u64 = windows.iter().map(|w| w.probed()).sum();
            let never: u64 = windows.iter().map(|w| w.never_refused).sum();
            let failed: u64 = windows.iter().map(|w| w.logouts_failed).sum();
            let unanswered: u64 = windows.iter().map(|w| w.unanswered).sum();
            let never_cell = match probed {
                0 => "–".to_string(),
                _ => format!("{never}/{probed} ({:.0}%)", 100.0 * never as f64 / probed as f64),
            };
            let max = windows.iter().map(|w| w.max_us).max_by_key(|v| v.unwrap_or(u64::MAX));
            let shown = |us: Option<u64>| if probed == 0 { "–".into() } else { window_ms(us) };
            Some(vec![
                shown_name(&m.store, stores),
                never_cell,
                shown(median_window(windows.iter().map(|w| w.p50_us).collect())),
                shown(max.flatten()),
                unanswered.to_string(),
                failed.to_string(),
                format!(
                    "every {} ms for {:.1} s",
                    first.interval_us as f64 / 1000.0,
                    first.probe_limit_us as f64 / 1e6
                ),
            ])
        })
        .collect();
    Table::of(
        &[
            "store",
            "never refused",
            "window p50 ms",
            "longest window ms",
            "copies with replays unanswered",
            "logouts failed",
            "replayed",
        ],
        rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "never" ranks above numbers in the median.
    #[test]
    fn never_ranks_last() {
        assert_eq!(median_window(vec![None, Some(5), Some(1)]), Some(5));
        assert_eq!(median_window(vec![None, None, Some(1)]), None);
        assert_eq!(median_window(vec![]), None);
    }
}
