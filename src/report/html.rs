//! `report.html`: one self-contained page (inline CSS and SVG charts, no external requests).

use std::fmt::Write;

use super::colors::Palette;
use super::markdown::{
    summary_intro, CHART_NOTE, DECISION_INTRO, INTRO, RENEWAL_INTRO, STRATEGIES_INTRO,
};
use super::vocabulary::{Block, Table};
use super::{Exporter, Place, Report};

pub struct Html;

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1000px;\
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}table{border-collapse:collapse;margin:1em 0;\
font-size:14px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}\
td:first-child,th:first-child{text-align:left}.swatch{display:inline-block;width:.8em;height:.8em;\
margin-right:.4em;border-radius:2px}.chart svg{max-width:100%;height:auto}.meaning{background:#f6f8fa;\
padding:.6em 1em .6em 2em;border-left:4px solid #888}table.env td{text-align:left}";

/// Escapes text for HTML element content and attributes.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A table; with `swatches`, its first column names stores, each marked with its colour.
fn table(t: &Table, swatches: Option<&Palette>) -> String {
    table_with_class(t, swatches, "")
}

fn table_with_class(t: &Table, swatches: Option<&Palette>, class: &str) -> String {
    let mut out = format!("<table class=\"{class}\">");
    if t.headers.iter().any(|h| !h.is_empty()) {
        out.push_str("<tr>");
        for h in &t.headers {
            let _ = write!(out, "<th>{}</th>", escape(h));
        }
        out.push_str("</tr>");
    }
    for row in &t.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            if let (0, Some(palette)) = (i, swatches) {
                let _ = write!(
                    out,
                    "<td><span class=\"swatch\" style=\"background:{}\"></span>{}</td>",
                    palette.hex(cell),
                    escape(cell)
                );
            } else {
                let _ = write!(out, "<td>{}</td>", escape(cell));
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>\n");
    out
}

/// Markdown prose with `code` spans, as HTML.
fn prose(markdown: &str) -> String {
    escape(markdown)
        .split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { format!("<code>{part}</code>") } else { part.to_string() })
        .collect()
}

/// Inline SVG needs no namespace declaration in HTML5; dropping it keeps the page free of
/// any URL at all.
fn inline_svg(svg: &str) -> String {
    svg.replace(" xmlns=\"http://www.w3.org/2000/svg\"", "")
        .replace(" xmlns:xlink=\"http://www.w3.org/1999/xlink\"", "")
}

/// A page of [`Block`]s as one self-contained HTML page; each chart's SVG (by stem) inline.
pub fn page(title: &str, blocks: &[Block], svgs: &[(String, String)]) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n",
        escape(title)
    );
    for block in blocks {
        match block {
            Block::Title(text) => out.push_str(&format!("<h1>{}</h1>\n", prose(text))),
            Block::Heading(text) => out.push_str(&format!("<h2>{}</h2>\n", prose(text))),
            Block::Prose(text) => out.push_str(&format!("<p>{}</p>\n", prose(text))),
            Block::Table(t) => out.push_str(&table(t, None)),
            Block::List(items) => {
                out.push_str("<ul>");
                items.iter().for_each(|item| out.push_str(&format!("<li>{}</li>", prose(item))));
                out.push_str("</ul>\n");
            }
            Block::Preformatted(text) => out.push_str(&format!("<pre>{}</pre>\n", escape(text))),
            Block::Chart { stem, .. } => {
                if let Some((_, svg)) = svgs.iter().find(|(s, _)| s == stem) {
                    out.push_str(&format!("<div class=\"chart\">{}</div>\n", inline_svg(svg)));
                }
            }
        }
    }
    out.push_str("</body></html>\n");
    out
}

impl Exporter for Html {
    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn export(&self, report: &Report) -> Vec<u8> {
        let mut out = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>revbench report</title><style>{STYLE}</style></head><body>\n\
             <h1>revbench report</h1>\n<p>{}</p>\n",
            prose(INTRO)
        );
        if !report.summary.is_empty() {
            let _ = writeln!(out, "<h2>Summary</h2>\n<p>{}</p>", prose(summary_intro(report)));
            for summary in &report.summary {
                let _ = write!(
                    out,
                    "<p><strong>{}</strong></p>\n<ul class=\"meaning\">",
                    prose(&summary.heading)
                );
                for bullet in &summary.bullets {
                    let _ = write!(out, "<li>{}</li>", prose(bullet));
                }
                out.push_str("</ul>\n");
            }
        }
        let mut charts = report.charts_in(&Place::Decision).peekable();
        if charts.peek().is_some() {
            let _ = writeln!(out, "<h2>Cost vs protection</h2>\n<p>{}</p>", prose(CHART_NOTE));
        }
        for chart in charts {
            let _ = writeln!(out, "<div class=\"chart\">{}</div>", inline_svg(&chart.svg));
        }
        if let Some(decision) = &report.decision {
            let _ = writeln!(out, "<h2>Decision view</h2>\n<p>{}</p>", prose(DECISION_INTRO));
            out.push_str(&table(&decision.table, None));
            if let Some(strategies) = &decision.strategies {
                let _ = writeln!(out, "<p>{}</p>", prose(STRATEGIES_INTRO));
                out.push_str(&table(strategies, Some(&report.palette)));
            }
        }
        for section in &report.scenarios {
            let _ = write!(
                out,
                "<h2>Scenario <code>{}</code></h2>\n<p>{}</p>\n",
                escape(&section.name),
                escape(&section.description)
            );
            out.push_str(&table(&section.table, Some(&report.palette)));
            if let Some(outage) = &section.outage {
                out.push_str("<p>While the store was cut off:</p>\n");
                out.push_str(&table(outage, Some(&report.palette)));
            }
            if let Some(window) = &section.replay_window {
                out.push_str(
                    "<p>Replay window: copies logged out, then replayed on a fixed schedule:</p>\n",
                );
                out.push_str(&table(window, Some(&report.palette)));
            }
            if let Some(renewal) = &section.renewal {
                let _ = writeln!(out, "<p>{}</p>", prose(RENEWAL_INTRO));
                out.push_str(&table(renewal, Some(&report.palette)));
            }
            if !section.meaning.is_empty() {
                out.push_str("<p><strong>What this means.</strong></p>\n<ul class=\"meaning\">");
                for bullet in &section.meaning {
                    let _ = write!(out, "<li>{}</li>", prose(bullet));
                }
                out.push_str("</ul>\n");
            }
            for chart in report.charts_in(&Place::Scenario(section.name.clone())) {
                let _ = writeln!(out, "<div class=\"chart\">{}</div>", inline_svg(&chart.svg));
            }
        }
        if let Some(micro) = &report.micro {
            out.push_str("<h2>Check latency (criterion microbenchmarks)</h2>\n");
            let _ = writeln!(out, "<p>{}</p>", escape(super::markdown::MICRO_SOURCE));
            out.push_str(&table(micro, None));
            for chart in report.charts_in(&Place::Micro) {
                let _ = writeln!(out, "<div class=\"chart\">{}</div>", inline_svg(&chart.svg));
            }
        }
        out.push_str("<h2>Environment</h2>\n");
        out.push_str(&table_with_class(&report.environment, None, "env"));
        out.push_str("</body></html>\n");
        out.into_bytes()
    }
}
