//! A scatter chart on logarithmic x and y axes: one marker per point, a text label beside
//! each group of markers, and an optional horizontal reference line (e.g. "never refused").

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{DrawResult, FONT};

/// One marker.
#[derive(Debug, Clone)]
pub struct Marker {
    pub color: RGBColor,
    pub x: f64,
    pub y: f64,
}

/// A label written to the right of `(x, y)`.
#[derive(Debug, Clone)]
pub struct Label {
    pub x: f64,
    pub y: f64,
    pub text: String,
}

/// A horizontal line across the chart at `y`, with its text.
#[derive(Debug, Clone)]
pub struct Reference {
    pub y: f64,
    pub text: String,
}

/// Log–log scatter. Every value must lie inside the ranges (callers clamp and say how).
#[derive(Debug, Clone)]
pub struct ScatterChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_range: (f64, f64),
    pub y_range: (f64, f64),
    pub markers: Vec<Marker>,
    pub labels: Vec<Label>,
    pub reference: Option<Reference>,
}

/// `0.001`, `0.05`, `3`, `900,000`: as many decimals as a log axis tick needs.
pub fn log_tick(v: f64) -> String {
    if v >= 1.0 {
        super::group_thousands(v.round() as u64)
    } else {
        let decimals = (-v.log10()).ceil().max(0.0) as usize;
        format!("{v:.decimals$}")
    }
}

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &ScatterChart,
) -> DrawResult<DB> {
    let (x0, x1) = spec.x_range;
    let (y0, y1) = spec.y_range;
    let mut chart = ChartBuilder::on(root)
        .caption(&spec.title, (FONT, 20))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?;
    chart
        .configure_mesh()
        .x_desc(spec.x_label.as_str())
        .y_desc(spec.y_label.as_str())
        .label_style((FONT, 13))
        .x_label_formatter(&|x| log_tick(*x))
        .y_label_formatter(&|y| log_tick(*y))
        .draw()?;
    if let Some(reference) = &spec.reference {
        let grey = RGBColor(90, 90, 90);
        chart.draw_series(LineSeries::new([(x0, reference.y), (x1, reference.y)], grey))?;
        chart.draw_series([Text::new(
            reference.text.clone(),
            (x0 * 1.2, reference.y * 4.0),
            (FONT, 13).into_font().color(&grey),
        )])?;
    }
    chart.draw_series(spec.markers.iter().map(|m| Circle::new((m.x, m.y), 6, m.color.filled())))?;
    chart.draw_series(spec.markers.iter().map(|m| Circle::new((m.x, m.y), 6, BLACK.mix(0.6))))?;
    chart.draw_series(spec.labels.iter().map(|l| {
        Text::new(l.text.clone(), (l.x * 1.35, l.y), (FONT, 13).into_font().color(&BLACK))
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tick labels keep the digits a log axis needs.
    #[test]
    fn ticks() {
        assert_eq!(log_tick(0.001), "0.001");
        assert_eq!(log_tick(0.05), "0.05");
        assert_eq!(log_tick(3.0), "3");
        assert_eq!(log_tick(900_000.0), "900,000");
    }
}
