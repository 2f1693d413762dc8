//! Reports: Markdown, a self-contained HTML page and charts (SVG + PNG), all exported from the
//! one results schema. Each format is one module behind the private `Exporter` trait.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::results::RunResults;

mod charts;
mod colors;
pub mod command;
mod cost_chart;
pub mod criterion;
mod decision;
pub mod growth;
mod html;
mod markdown;
mod memory;
mod narrative;
pub mod plot;
mod renewal;
mod replay;
pub mod sweep;
mod sweep_page;
mod tables;
mod timeline_chart;
mod vocabulary;

pub use charts::Place;
pub use renewal::table as renewal_table;

/// A chart, rendered.
pub struct RenderedChart {
    pub stem: String,
    pub place: Place,
    pub title: String,
    pub svg: String,
    /// The specification, kept so the PNG is drawn from the same chart.
    pub chart: plot::Chart,
}

/// The decision view: cost against `none:` and the replay window per topology and strategy,
/// what each strategy is and needs.
pub struct DecisionView {
    pub table: vocabulary::Table,
    /// Per strategy: what it does, memory per entry (this run), needs, when its store is down.
    pub strategies: Option<vocabulary::Table>,
}

/// The answer for one topology (or, in a run that probed no replay window, one scenario):
/// short bullets generated from the numbers.
pub struct Summary {
    pub heading: String,
    pub bullets: Vec<String>,
}

/// Everything an exporter formats.
pub struct Report {
    /// Every store's colour, by label and by the name tables show (HTML swatches).
    pub palette: colors::Palette,
    /// What the report opens with.
    pub summary: Vec<Summary>,
    pub environment: vocabulary::Table,
    pub decision: Option<DecisionView>,
    pub scenarios: Vec<tables::ScenarioSection>,
    pub micro: Option<vocabulary::Table>,
    pub charts: Vec<RenderedChart>,
}

/// One output format.
trait Exporter {
    fn file_name(&self) -> &'static str;
    fn export(&self, report: &Report) -> Vec<u8>;
}

/// Where criterion keeps its estimates when run from the project directory.
pub const CRITERION_DIR: &str = "target/criterion";

/// Builds the report content, rendering the charts to SVG.
pub fn build(results: &RunResults, micro: &[criterion::MicroResult]) -> anyhow::Result<Report> {
    let charts = charts::all(results, micro)
        .into_iter()
        .map(|named| {
            let svg = plot::svg(&named.chart)
                .map_err(|e| anyhow::anyhow!("cannot draw chart {}: {e}", named.stem))?;
            let title = named.chart.title().to_string();
            Ok(RenderedChart {
                stem: named.stem,
                place: named.place,
                title,
                svg,
                chart: named.chart,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let topologies = decision::topologies(results);
    let mut scenarios = tables::scenarios(results);
    let summary = if topologies.is_empty() {
        // No topology to answer for: each scenario's bullets are the answer, said once.
        let heading = |name: &str| format!("scenario `{name}`");
        (scenarios.iter_mut())
            .map(|s| Summary { heading: heading(&s.name), bullets: std::mem::take(&mut s.meaning) })
            .collect()
    } else {
        (topologies.iter())
            .map(|t| Summary {
                heading: t.name.clone(),
                bullets: narrative::topology(t, &results.stores),
            })
            .collect()
    };
    Ok(Report {
        palette: colors::Palette::of(&results.stores),
        summary,
        environment: tables::environment(results),
        decision: decision::table(&topologies).map(|table| DecisionView {
            table,
            strategies: decision::strategies(results, &topologies),
        }),
        scenarios,
        micro: tables::microbenchmarks(micro),
        charts,
    })
}

impl Report {
    /// The charts of one section, in order.
    pub fn charts_in<'a>(&'a self, place: &'a Place) -> impl Iterator<Item = &'a RenderedChart> {
        self.charts.iter().filter(move |c| &c.place == place)
    }
}

/// The Markdown text of a report (no files written).
pub fn markdown(report: &Report) -> String {
    String::from_utf8(markdown::Markdown.export(report)).expect("markdown is UTF-8")
}

/// The HTML text of a report (no files written).
pub fn html(report: &Report) -> String {
    String::from_utf8(html::Html.export(report)).expect("html is UTF-8")
}

/// Writes report.md, report.html and charts/*.svg|png into `out_dir`; returns the files.
pub fn write(
    results: &RunResults,
    out_dir: &Path,
    criterion_dir: Option<&Path>,
) -> anyhow::Result<Vec<PathBuf>> {
    let micro = criterion_dir.map(criterion::read_all).unwrap_or_default();
    let report = build(results, &micro)?;
    let charts_dir = out_dir.join("charts");
    std::fs::create_dir_all(&charts_dir).with_context(|| {
        format!("cannot create {}; pass --out with a writable directory", charts_dir.display())
    })?;
    let mut written = Vec::new();
    for named in &report.charts {
        let png = charts_dir.join(format!("{}.png", named.stem));
        plot::png(&named.chart, &png)
            .map_err(|e| anyhow::anyhow!("cannot draw {}: {e}", png.display()))?;
        written.push(png);
    }
    for chart in &report.charts {
        let svg = charts_dir.join(format!("{}.svg", chart.stem));
        std::fs::write(&svg, &chart.svg)
            .with_context(|| format!("cannot write {}", svg.display()))?;
        written.push(svg);
    }
    let exporters: [&dyn Exporter; 2] = [&markdown::Markdown, &html::Html];
    for exporter in exporters {
        let path = out_dir.join(exporter.file_name());
        std::fs::write(&path, exporter.export(&report))
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
