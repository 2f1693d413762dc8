//! The replay-window table of a scenario: how long copied tokens kept working after logout.

use super::vocabulary::{shown_name, window_ms, Table};
use crate::results::{Measurement, StoreRecord};

/// The middle of per-round values, where "never" (`None`) ranks above every number.
fn median_window(mut values: Vec<Option<u64>>) -> Option<u64> {
    values.sort_by_key(|v| v.unwrap_or(u64::MAX));
    values.get(values.len().saturating_sub(1) / 2).copied().flatten()
}

/// Per store: probes over all rounds, how many were never refused, and the window's p50, p99
/// (medians over rounds) and max (over rounds). `None` when no round probed.
pub fn table(measurements: &[&Measurement], stores: &[StoreRecord]) -> Option<Table> {
    let rows: Vec<Vec<String>> = measurements
        .iter()
        .filter_map(|m| {
            let windows: Vec<_> =
                m.rounds.iter().filter_map(|r| r.replay_window.as_ref()).collect();
            let first = windows.first()?;
            let probed: u64 = windows.iter().map(|w| w.probes - w.logouts_failed).sum();
            let never: u64 = windows.iter().map(|w| w.never_refused).sum();
            let failed: u64 = windows.iter().map(|w| w.logouts_failed).sum();
            let never_cell = match probed {
                0 => "–".to_string(),
                _ => format!("{never}/{probed} ({:.0}%)", 100.0 * never as f64 / probed as f64),
            };
            let max = windows.iter().map(|w| w.max_us).max_by_key(|v| v.unwrap_or(u64::MAX));
            Some(vec![
                shown_name(&m.store, stores),
                never_cell,
                window_ms(median_window(windows.iter().map(|w| w.p50_us).collect())),
                window_ms(median_window(windows.iter().map(|w| w.p99_us).collect())),
                window_ms(max.flatten()),
                failed.to_string(),
                format!(
                    "every {:.0} ms for up to {:.1} s",
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
            "window p99 ms",
            "window max ms",
            "logouts refused",
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
