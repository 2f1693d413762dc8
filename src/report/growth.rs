//! Charts of a `revbench growth` run: entries over time against the expected steady state,
//! server memory over time, and check p99 over time — one line per store, same colours as
//! every other chart.

use std::path::{Path, PathBuf};

use plotters::style::RGBColor;

use super::colors;
use super::plot::{self, Chart, LineChart, Series, XLabels};
use crate::results::growth::{GrowthResults, GrowthSample};

/// Colour of the expected steady-state line.
const EXPECTED: RGBColor = RGBColor(0, 0, 0);

fn series(results: &GrowthResults, value: impl Fn(&GrowthSample) -> Option<f64>) -> Vec<Series> {
    results
        .series
        .iter()
        .map(|s| Series {
            whiskers: Vec::new(),
            name: s.store.clone(),
            color: colors::of(&s.store),
            points: s.samples.iter().filter_map(|p| Some((p.t_secs, value(p)?))).collect(),
        })
        .collect()
}

fn line(title: String, y_label: &str, series: Vec<Series>) -> Chart {
    Chart::Line(LineChart {
        title,
        x_label: "time since the start of the load (s)".to_string(),
        y_label: y_label.to_string(),
        x_log: false,
        x_labels: XLabels::Plain,
        series,
    })
}

/// The three growth charts, by file stem.
pub fn charts(results: &GrowthResults) -> Vec<(String, Chart)> {
    let c = &results.config;
    let mut entries = series(results, |p| p.entries.map(|e| e as f64));
    if let Some(first) = results.series.iter().find(|s| !s.samples.is_empty()) {
        entries.push(Series {
            whiskers: Vec::new(),
            name: format!("expected: {} logouts/s × {} s", c.logout_rate_per_sec, c.token_ttl_secs),
            color: EXPECTED,
            points: first.samples.iter().map(|p| (p.t_secs, p.expected_entries)).collect(),
        });
    }
    vec![
        (
            "growth-entries".to_string(),
            line(
                format!("Store entries as tokens expire (token TTL {} s)", c.token_ttl_secs),
                "entries the store reports",
                entries,
            ),
        ),
        (
            "growth-memory".to_string(),
            line(
                "Server resident memory".to_string(),
                "RSS (MiB)",
                series(results, |p| p.rss_bytes.map(|b| b as f64 / (1024.0 * 1024.0))),
            ),
        ),
        (
            "growth-check-p99".to_string(),
            line(
                "GET /api/me p99 per sample interval".to_string(),
                "latency (ms)",
                series(results, |p| p.check_p99_us.map(|us| us as f64 / 1000.0)),
            ),
        ),
    ]
}

/// Writes `charts/growth-*.svg|png` into `out_dir`; returns the files.
pub fn write(results: &GrowthResults, out_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let dir = out_dir.join("charts");
    std::fs::create_dir_all(&dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create {}: {e}; pass --out with a writable directory",
            dir.display()
        )
    })?;
    let mut written = Vec::new();
    for (stem, chart) in charts(results) {
        let svg = dir.join(format!("{stem}.svg"));
        std::fs::write(&svg, plot::svg(&chart).map_err(|e| anyhow::anyhow!("{stem}: {e}"))?)?;
        let png = dir.join(format!("{stem}.png"));
        plot::png(&chart, &png).map_err(|e| anyhow::anyhow!("{stem}: {e}"))?;
        written.extend([svg, png]);
    }
    Ok(written)
}
