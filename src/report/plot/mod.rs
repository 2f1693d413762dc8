//! Draws chart specifications with plotters onto any backend: SVG (inlined into the HTML
//! report) and PNG. The font is bundled, so no system font library is needed.

use std::path::Path;
use std::sync::Once;

use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

mod scatter;
mod timeline;

pub use scatter::{log_tick, Label, Marker, Reference, ScatterChart};
pub use timeline::{Mark, Panel, TimelineChart};

/// A series of `(x, y)` points with its legend name and colour.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
    /// `(x, min, max)`: a vertical whisker at `x` (the rounds' min–max); empty for none.
    pub whiskers: Vec<(f64, f64, f64)>,
}

/// How x values are labelled.
#[derive(Debug, Clone, Copy)]
pub enum XLabels {
    Plain,
    /// x is `1 / (1 - p)`; labels show the percentile `p`.
    Percentile,
    /// Whole numbers with thousands separators (store sizes).
    Count,
}

/// A line chart.
#[derive(Debug, Clone)]
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_log: bool,
    pub x_labels: XLabels,
    pub series: Vec<Series>,
}

/// One bar with its min–max whisker.
#[derive(Debug, Clone)]
pub struct Bar {
    pub name: String,
    pub color: RGBColor,
    pub value: f64,
    pub min: f64,
    pub max: f64,
}

/// A bar chart with whiskers.
#[derive(Debug, Clone)]
pub struct BarChart {
    pub title: String,
    pub y_label: String,
    pub bars: Vec<Bar>,
}

/// Any chart.
#[derive(Debug, Clone)]
pub enum Chart {
    Line(LineChart),
    Bars(BarChart),
    Scatter(ScatterChart),
    Timeline(TimelineChart),
}

impl Chart {
    pub fn title(&self) -> &str {
        match self {
            Chart::Line(l) => &l.title,
            Chart::Bars(b) => &b.title,
            Chart::Scatter(s) => &s.title,
            Chart::Timeline(t) => &t.title,
        }
    }

    /// Width and height in pixels.
    pub fn size(&self) -> (u32, u32) {
        match self {
            Chart::Timeline(t) => t.size(),
            _ => (WIDTH, HEIGHT),
        }
    }
}

pub const WIDTH: u32 = 900;
pub const HEIGHT: u32 = 520;
const FONT: &str = "sans-serif";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // DejaVu Sans, from Debian's fonts-dejavu-core (license in assets/fonts/).
        let bytes: &'static [u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
        plotters::style::register_font(FONT, FontStyle::Normal, bytes)
            .unwrap_or_else(|_| panic!("the bundled font is a valid TrueType file"));
    });
}

/// Renders the chart as an SVG document.
pub fn svg(chart: &Chart) -> Result<String, String> {
    register_font();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, chart.size()).into_drawing_area();
        draw(&root, chart).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Renders the chart as a PNG file.
pub fn png(chart: &Chart, path: &Path) -> Result<(), String> {
    register_font();
    let root = BitMapBackend::new(path, chart.size()).into_drawing_area();
    draw(&root, chart).map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    match chart {
        Chart::Line(line) => draw_line(root, line),
        Chart::Bars(bars) => draw_bars(root, bars),
        Chart::Scatter(scatter) => scatter::draw(root, scatter),
        Chart::Timeline(timeline) => timeline::draw(root, timeline),
    }
}

/// Bounds of all points, padded so nothing sits on the frame.
fn bounds(series: &[Series]) -> ((f64, f64), (f64, f64)) {
    let whisker_tops = series.iter().flat_map(|s| s.whiskers.iter().map(|(x, _, max)| (*x, *max)));
    let points: Vec<(f64, f64)> =
        series.iter().flat_map(|s| s.points.iter().copied()).chain(whisker_tops).collect();
    let (mut x0, mut x1, mut y1) = (f64::MAX, f64::MIN, f64::MIN);
    for (x, y) in &points {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
        y1 = y1.max(*y);
    }
    if x0 > x1 {
        return ((1.0, 10.0), (0.0, 1.0));
    }
    if x1 <= x0 {
        x1 = x0 * 10.0 + 1.0;
    }
    ((x0, x1), (0.0, if y1 > 0.0 { y1 * 1.1 } else { 1.0 }))
}

fn x_label(kind: XLabels, x: f64) -> String {
    match kind {
        XLabels::Plain => format!("{x}"),
        XLabels::Percentile => {
            let p = 100.0 * (1.0 - 1.0 / x);
            let text = format!("{p:.4}");
            let trimmed = text.trim_end_matches('0').trim_end_matches('.');
            format!("{trimmed}%")
        }
        XLabels::Count => group_thousands(x.round() as u64),
    }
}

/// `1234567` → `1,234,567`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn draw_line<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &LineChart,
) -> DrawResult<DB> {
    let ((x0, x1), (y0, y1)) = bounds(&spec.series);
    let mut builder = ChartBuilder::on(root);
    builder.caption(&spec.title, (FONT, 22)).margin(16).x_label_area_size(48).y_label_area_size(72);
    if spec.x_log {
        let chart = builder.build_cartesian_2d((x0..x1).log_scale(), y0..y1)?;
        draw_series(chart, spec)
    } else {
        let chart = builder.build_cartesian_2d(x0..x1, y0..y1)?;
        draw_series(chart, spec)
    }
}

/// Mesh, lines, points and legend, on a linear or logarithmic x axis.
fn draw_series<'a, DB, X>(
    mut chart: ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>,
    spec: &LineChart,
) -> DrawResult<DB>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let labels = spec.x_labels;
    chart
        .configure_mesh()
        .x_desc(spec.x_label.as_str())
        .y_desc(spec.y_label.as_str())
        .label_style((FONT, 14))
        .x_label_formatter(&|x| x_label(labels, *x))
        .y_label_formatter(&|y| format!("{y:.1}"))
        .draw()?;
    for series in &spec.series {
        let color = series.color;
        chart
            .draw_series(LineSeries::new(series.points.iter().copied(), color.stroke_width(2)))?
            .label(series.name.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(3)));
        chart.draw_series(series.points.iter().map(|p| Circle::new(*p, 3, color.filled())))?;
        chart.draw_series(
            series.whiskers.iter().map(|&(x, min, max)| {
                PathElement::new([(x, min), (x, max)], color.stroke_width(1))
            }),
        )?;
    }
    legend(&mut chart)
}

fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> DrawResult<DB> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 14))
        .draw()
}

fn draw_bars<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, spec: &BarChart) -> DrawResult<DB> {
    let top = spec.bars.iter().map(|b| b.max.max(b.value)).fold(0.0, f64::max).max(1.0) * 1.15;
    let n = spec.bars.len().max(1);
    let names: Vec<String> = spec.bars.iter().map(|b| b.name.clone()).collect();
    let mut chart = ChartBuilder::on(root)
        .caption(&spec.title, (FONT, 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc(spec.y_label.as_str())
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style((FONT, 14))
        .draw()?;
    for (i, bar) in spec.bars.iter().enumerate() {
        let x = i as f64;
        chart.draw_series([Rectangle::new(
            [(x - 0.3, 0.0), (x + 0.3, bar.value)],
            bar.color.mix(0.8).filled(),
        )])?;
        let whisker = BLACK.stroke_width(2);
        chart.draw_series([
            PathElement::new([(x, bar.min), (x, bar.max)], whisker),
            PathElement::new([(x - 0.1, bar.min), (x + 0.1, bar.min)], whisker),
            PathElement::new([(x - 0.1, bar.max), (x + 0.1, bar.max)], whisker),
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Labels: thousands separators, and percentiles from `1/(1-p)`.
    #[test]
    fn labels() {
        assert_eq!(group_thousands(1_000_000), "1,000,000");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(x_label(XLabels::Percentile, 100.0), "99%");
        assert_eq!(x_label(XLabels::Percentile, 1000.0), "99.9%");
    }

    /// A chart renders to an SVG with its title and legend text, using the bundled font.
    #[test]
    fn renders_svg_with_text() {
        let chart = Chart::Line(LineChart {
            title: "Latency of me".into(),
            x_label: "percentile".into(),
            y_label: "ms".into(),
            x_log: true,
            x_labels: XLabels::Percentile,
            series: vec![Series {
                whiskers: Vec::new(),
                name: "redis".into(),
                color: RGBColor(200, 0, 0),
                points: vec![(1.0, 0.2), (10.0, 0.4), (100.0, 0.9)],
            }],
        });
        let svg = svg(&chart).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("Latency of me") && svg.contains("redis"));
        let bars = Chart::Bars(BarChart {
            title: "Throughput".into(),
            y_label: "requests/s".into(),
            bars: vec![Bar {
                name: "none".into(),
                color: RGBColor(0, 0, 0),
                value: 5.0,
                min: 4.0,
                max: 6.0,
            }],
        });
        assert!(super::svg(&bars).unwrap().contains("Throughput"));
    }
}
