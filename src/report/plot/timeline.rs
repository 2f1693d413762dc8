//! A run over time: panels stacked on one time axis (requests/s, check latency p50 and p99,
//! error answers/s), one line per store, with instants (a store cut off, back, replicas
//! restarted) marked across every panel.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{DrawResult, Series, FONT, WIDTH};

/// Height of one panel.
const PANEL_HEIGHT: u32 = 220;
/// Room for the title above the panels.
const TITLE_HEIGHT: u32 = 40;

/// One panel: a quantity over time; a point with a NaN `y` is a gap (nothing measured in that
/// interval), where the line breaks.
#[derive(Debug, Clone)]
pub struct Panel {
    pub y_label: String,
    pub series: Vec<Series>,
}

/// An instant marked across the panels (x in seconds).
#[derive(Debug, Clone)]
pub struct Mark {
    pub at: f64,
    pub label: String,
}

/// Panels sharing the time axis (seconds from the start of the measured window).
#[derive(Debug, Clone)]
pub struct TimelineChart {
    pub title: String,
    pub x_label: String,
    pub panels: Vec<Panel>,
    pub marks: Vec<Mark>,
}

impl TimelineChart {
    /// Width and height: one [`PANEL_HEIGHT`] per panel.
    pub fn size(&self) -> (u32, u32) {
        (WIDTH, TITLE_HEIGHT + PANEL_HEIGHT * self.panels.len().max(1) as u32)
    }

    /// The last second shown: the latest point or mark.
    fn x_end(&self) -> f64 {
        let points = self.panels.iter().flat_map(|p| &p.series).flat_map(|s| &s.points);
        let latest = points.map(|(x, _)| *x).chain(self.marks.iter().map(|m| m.at));
        latest.fold(0.0, f64::max).max(0.1) * 1.02
    }
}

/// The runs of a series' points between gaps.
fn segments(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for point in points {
        if point.1.is_finite() {
            out.last_mut().expect("never empty").push(*point);
        } else if !out.last().expect("never empty").is_empty() {
            out.push(Vec::new());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &TimelineChart,
) -> DrawResult<DB> {
    let root = root.titled(&spec.title, (FONT, 22))?;
    let x_end = spec.x_end();
    let areas = root.split_evenly((spec.panels.len().max(1), 1));
    let last = spec.panels.len().saturating_sub(1);
    for (i, (panel, area)) in spec.panels.iter().zip(&areas).enumerate() {
        let y_top = (panel.series.iter().flat_map(|s| &s.points))
            .map(|(_, y)| *y)
            .filter(|y| y.is_finite())
            .fold(0.0, f64::max);
        let y_top = if y_top > 0.0 { y_top * 1.1 } else { 1.0 };
        let mut chart = ChartBuilder::on(area)
            .margin_left(16)
            .margin_right(16)
            .margin_top(8)
            .x_label_area_size(if i == last { 40 } else { 20 })
            .y_label_area_size(72)
            .build_cartesian_2d(0.0..x_end, 0.0..y_top)?;
        let mut mesh = chart.configure_mesh();
        mesh.y_desc(panel.y_label.as_str())
            .label_style((FONT, 13))
            .x_label_formatter(&|x| format!("{x:.1}"))
            .y_label_formatter(&|y| short_number(*y))
            .y_labels(5);
        if i == last {
            mesh.x_desc(spec.x_label.as_str());
        }
        mesh.draw()?;
        for mark in &spec.marks {
            let style = BLACK.mix(0.6).stroke_width(1);
            chart.draw_series(DashedLineSeries::new(
                [(mark.at, 0.0), (mark.at, y_top)],
                6,
                4,
                style,
            ))?;
            if i == 0 {
                let text = (FONT, 13).into_font().color(&BLACK);
                chart.draw_series([Text::new(
                    mark.label.clone(),
                    (mark.at + x_end * 0.005, y_top * 0.97),
                    text,
                )])?;
            }
        }
        for series in &panel.series {
            let color = series.color;
            let mut labelled = false;
            for segment in segments(&series.points) {
                let line = chart.draw_series(LineSeries::new(segment, color.stroke_width(2)))?;
                if i == 0 && !labelled {
                    line.label(series.name.as_str()).legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 20, y)], color.stroke_width(3))
                    });
                    labelled = true;
                }
            }
        }
        if i == 0 {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .label_font((FONT, 13))
                .draw()?;
        }
    }
    Ok(())
}

/// `1234` → `1.2k`, `0.25` → `0.25`: axis labels that fit.
fn short_number(y: f64) -> String {
    if y >= 10_000.0 {
        format!("{:.0}k", y / 1000.0)
    } else if y >= 1000.0 {
        format!("{:.1}k", y / 1000.0)
    } else if y >= 10.0 || y == 0.0 {
        format!("{y:.0}")
    } else {
        format!("{y:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gaps break a line; leading, trailing and repeated gaps leave no empty segment.
    #[test]
    fn gaps_break_lines() {
        let nan = f64::NAN;
        let points = [(0.0, nan), (1.0, 1.0), (2.0, 2.0), (3.0, nan), (4.0, nan), (5.0, 5.0)];
        assert_eq!(segments(&points), [vec![(1.0, 1.0), (2.0, 2.0)], vec![(5.0, 5.0)]]);
        assert!(segments(&[(0.0, nan)]).is_empty());
        assert_eq!(short_number(12_345.0), "12k");
        assert_eq!(short_number(0.25), "0.25");
        assert_eq!(short_number(0.0), "0");
    }
}
