//! The chart of a shifted series: its value in each file, and the level of each segment
//! between shifts.

use plotters::style::RGBColor;

use super::{segments, Series as History};
use crate::report::plot::{Chart, LineChart, Series, XLabels};

const VALUES: RGBColor = RGBColor(31, 119, 180);
const LEVELS: RGBColor = RGBColor(214, 39, 40);

/// The chart of `series` (x: the file's 1-based position in the history).
pub fn of(series: &History) -> Chart {
    let x = |i: usize| (i + 1) as f64;
    let levels = segments(series)
        .into_iter()
        .flat_map(|(first, last, level)| [(x(first), level), (x(last), level)])
        .collect();
    Chart::Line(LineChart {
        title: format!("{} / {}: {}", series.scenario, series.store, series.metric),
        x_label: "results file (in the history's order)".into(),
        y_label: series.unit.into(),
        x_log: false,
        x_labels: XLabels::Plain,
        series: vec![
            Series {
                name: "median over the file's rounds".into(),
                color: VALUES,
                points: series.points.iter().map(|&(i, v)| (x(i), v)).collect(),
                whiskers: Vec::new(),
            },
            Series {
                name: "level between shifts".into(),
                color: LEVELS,
                points: levels,
                whiskers: Vec::new(),
            },
        ],
    })
}

/// A file name for the chart: `history-<scenario>-<store>-<metric>.svg`, with anything but
/// letters, digits, `-` and `_` turned into `_`.
pub fn file_name(series: &History) -> String {
    let raw = format!("history-{}-{}-{}", series.scenario, series.store, series.metric);
    let safe: String =
        raw.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    format!("{safe}.svg")
}
