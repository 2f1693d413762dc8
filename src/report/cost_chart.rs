//! "Cost vs protection": per topology, one marker per strategy at (added check-latency p99
//! against `none:` in the same scenario, longest replay window), both on log axes.
//!
//! Log axes cannot show 0 or less, so:
//! - an added p99 of 0 or less (a strategy no slower than `none:` at p99) is plotted at
//!   [`FLOOR_MS`] (1 µs) and its label says `≤ 0 ms`;
//! - a replay window of 0 (the first replay after logout was refused) is plotted at
//!   [`FLOOR_MS`] and its label says `window 0`;
//! - a p99 that fell on a copy never refused is plotted at the token lifetime (the copy
//!   works until its `exp`), on the reference line at the top, labelled `never refused`.
//!
//! The window shown is the longest of any probed copy over the rounds, as in the decision
//! table.

use std::collections::BTreeMap;

use super::colors::Palette;
use super::decision::{Protection, Row, Topology};
use super::plot::{Chart, Label, Marker, Reference, ScatterChart};

/// Where values ≤ 0 are plotted on either axis (ms).
const FLOOR_MS: f64 = 0.001;

/// The chart's file stem for a topology's scenario.
pub fn stem(scenario: &str) -> String {
    format!("cost-vs-protection-{scenario}")
}

/// The chart of one topology; `None` when `none:` was not measured there (no cost to show).
pub fn chart(topology: &Topology, palette: &Palette) -> Option<Chart> {
    topology.none?;
    let lifetime_ms = topology.scenario.token_ttl.as_secs_f64() * 1000.0;
    let mut markers = Vec::new();
    // Strategies that land on the same spot share one label: names, then the position.
    let mut spots: BTreeMap<(u64, u64), (Label, Vec<String>)> = BTreeMap::new();
    for row in &topology.rows {
        let Some(added) = row.added_p99_ms else { continue };
        if matches!(row.protection, Protection::NotProbed | Protection::Unanswered { .. }) {
            continue;
        }
        let (x, x_text) = if added > 0.0 {
            (added.max(FLOOR_MS), format!("+{added:.3} ms"))
        } else {
            (FLOOR_MS, "≤ 0 ms".to_string())
        };
        let (y, y_text) = window_point(row, lifetime_ms);
        markers.push(Marker { color: palette.color(&row.measurement.store), x, y });
        let spot = spots
            .entry((x.to_bits(), y.to_bits()))
            .or_insert_with(|| (Label { x, y, text: format!("{x_text}, {y_text}") }, Vec::new()));
        spot.1.push(row.name.clone());
    }
    if markers.is_empty() {
        return None;
    }
    let labels: Vec<Label> = spots
        .into_values()
        .map(|(label, names)| Label {
            text: format!("{} ({})", names.join(", "), label.text),
            ..label
        })
        .collect();
    let y_range = (FLOOR_MS / 2.0, lifetime_ms * 20.0);
    let labels = stacked(labels, (y_range.0 * y_range.1).sqrt());
    let max_x = markers.iter().map(|m| m.x).fold(1.0, f64::max);
    Some(Chart::Scatter(ScatterChart {
        title: if topology.name.ends_with(&format!("({})", topology.scenario.name)) {
            format!("Cost vs protection — {}", topology.name)
        } else {
            format!("Cost vs protection — {} (scenario {})", topology.name, topology.scenario.name)
        },
        x_label: "added check p99 latency vs none, ms (log; ≤ 0.001 plotted at 0.001)".to_string(),
        y_label: "longest replay window, ms (log; 0 at 0.001)".to_string(),
        x_range: (FLOOR_MS / 2.0, max_x * 20.0),
        y_range,
        markers,
        labels,
        reference: Some(Reference {
            y: lifetime_ms,
            text: format!(
                "token lifetime ({:.0} s): copies never refused are plotted here",
                lifetime_ms / 1000.0
            ),
        }),
    }))
}

/// Labels at the same height would print over each other, and a label, written to the right
/// of its marker, over the markers further right on its row: on a row of several markers,
/// each label, left to right, moves one line more (a factor of [`LINE`] on the log axis)
/// towards the middle of the chart, away from the frame; a marker alone on its row keeps its
/// label beside it.
fn stacked(mut labels: Vec<Label>, middle: f64) -> Vec<Label> {
    const LINE: f64 = 2.6;
    labels.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x.total_cmp(&b.x)));
    let on_row = |y: f64| labels.iter().filter(|l| l.y == y).count();
    let counts: Vec<usize> = labels.iter().map(|l| on_row(l.y)).collect();
    let mut row: Option<(f64, i32)> = None;
    labels
        .into_iter()
        .zip(counts)
        .map(|(label, count)| {
            let k = match row {
                Some((y, k)) if y == label.y => k + 1,
                _ => i32::from(count > 1),
            };
            row = Some((label.y, k));
            let step = LINE.powi(k);
            let y = if label.y < middle { label.y * step } else { label.y / step };
            Label { y, ..label }
        })
        .collect()
}

/// The y of a strategy and how its label describes it.
fn window_point(row: &Row, lifetime_ms: f64) -> (f64, String) {
    match row.window_max_us {
        None => (lifetime_ms, "never refused".to_string()),
        Some(0) => (FLOOR_MS, "window 0".to_string()),
        Some(us) => {
            let ms = us as f64 / 1000.0;
            (ms.clamp(FLOOR_MS, lifetime_ms), format!("window {ms:.3} ms"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(x: f64, y: f64) -> Label {
        Label { x, y, text: String::new() }
    }

    /// On a shared row no label stays at the markers' height (it would cross the markers to
    /// its right), each sits on a line of its own towards the middle; a lone marker keeps its
    /// label beside it.
    #[test]
    fn labels_leave_shared_rows() {
        let middle = 1.0;
        let labels =
            vec![label(0.5, 0.001), label(0.2, 0.001), label(0.9, 0.001), label(1.0, 50.0)];
        let placed = stacked(labels, middle);
        let bottom: Vec<f64> = placed.iter().filter(|l| l.y < middle).map(|l| l.y).collect();
        assert_eq!(bottom.len(), 3);
        assert!(bottom.iter().all(|&y| y > 0.001), "{bottom:?}");
        assert!(bottom.windows(2).all(|w| w[1] > w[0] * 2.0), "one line apart: {bottom:?}");
        let xs: Vec<f64> = placed.iter().filter(|l| l.y < middle).map(|l| l.x).collect();
        assert_eq!(xs, [0.2, 0.5, 0.9], "left to right, each a line further");
        let lone = placed.iter().find(|l| l.x == 1.0).unwrap();
        assert_eq!(lone.y, 50.0);
    }
}
