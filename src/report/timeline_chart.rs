//! The time-series chart of a scenario: each store's load over its measured window, interval
//! by interval (requests/s, check latency p50 and p99, error answers/s), with the instants the
//! store was cut off, came back, or the replicas were restarted.

use super::colors::Palette;
use super::plot::{Chart, Mark, Panel, Series, TimelineChart};
use super::vocabulary::{representative, shown_name};
use crate::results::{Measurement, RoundResult, StoreRecord, Timeline, Values};

/// The file stem of a scenario's time-series chart.
pub fn stem(scenario: &str) -> String {
    format!("timeline-{scenario}")
}

/// The chart of `measurements` (one scenario), from each store's representative round; `None`
/// when no round kept a timeline (files from older versions).
pub fn chart(
    scenario: &str,
    measurements: &[&Measurement],
    stores: &[StoreRecord],
    palette: &Palette,
) -> Option<Chart> {
    let shown: Vec<(&Measurement, &RoundResult, &Timeline)> = measurements
        .iter()
        .filter_map(|m| {
            let round = representative(m).or(m.rounds.first())?;
            Some((*m, round, round.timeline.as_ref()?))
        })
        .collect();
    let (_, _, first) = shown.first()?;
    let panel =
        |y_label: &str, value: &dyn Fn(&RoundResult, &Timeline, usize) -> Option<f64>| Panel {
            y_label: y_label.to_string(),
            series: shown
                .iter()
                .map(|(m, round, t)| Series {
                    name: shown_name(&m.store, stores),
                    color: palette.color(&m.store),
                    points: (0..t.intervals())
                        .map(|i| (t.middle_secs(i), value(round, t, i).unwrap_or(f64::NAN)))
                        .collect(),
                    whiskers: Vec::new(),
                })
                .collect(),
        };
    let ms = |values: fn(&Timeline) -> &Values| {
        move |_: &RoundResult, t: &Timeline, i: usize| values(t).get(i).map(|us| us as f64 / 1000.0)
    };
    // Rates over the part of an interval the window covered: the last one is often partial.
    let rate = |values: fn(&Timeline) -> &Values| {
        move |round: &RoundResult, t: &Timeline, i: usize| {
            t.rate_in_window(i, values(t).get(i)?, round.elapsed_secs)
        }
    };
    let panels = vec![
        panel("requests/s", &rate(|t| &t.requests)),
        panel("check p50 (ms)", &ms(|t| &t.check_p50_us)),
        panel("check p99 (ms)", &ms(|t| &t.check_p99_us)),
        panel("error answers/s", &rate(|t| &t.errors)),
    ];
    let marks = shown
        .iter()
        .find(|(_, _, t)| !t.events.is_empty())
        .map(|(_, _, t)| {
            t.events
                .iter()
                .map(|e| Mark { at: e.at_ms as f64 / 1000.0, label: e.what.clone() })
                .collect()
        })
        .unwrap_or_default();
    Some(Chart::Timeline(TimelineChart {
        title: format!(
            "Over time — {scenario} (per {} ms; each store's round of median check p99)",
            first.interval_ms
        ),
        x_label: "seconds into the measured window".to_string(),
        panels,
        marks,
    }))
}
