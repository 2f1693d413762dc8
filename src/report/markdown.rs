//! `report.md`: ready to paste into a pull request or an architecture decision record.

use std::fmt::Write;

use super::vocabulary::{Block, Table};
use super::{Exporter, Place, Report};

pub struct Markdown;

/// Under the title: what the report is.
pub const INTRO: &str = "What each revocation store costs (latency, throughput, memory) and \
    buys (replayed tokens refused), measured side by side in one run: the answer first, then \
    the decision view, each scenario in detail, and the environment last. Latency is from each \
    request's send to its full response; medians across rounds, with min–max where rounds \
    differ.";

/// Before the summary's bullets.
pub const SUMMARY_INTRO: &str = "Per topology measured: the strategies that refused every \
    replayed copy, the cheapest of them against `none:` in the same scenario, and what the \
    others let through (copies never refused within the probe; replays accepted under load).";

/// Before the summary's bullets when no scenario probed replay windows.
pub const SUMMARY_BY_SCENARIO_INTRO: &str = "No scenario probed replay windows, so the answer is \
    per scenario: each store against `none:` in the same scenario.";

/// What the decision view shows, before its table (the HTML report shows the same words).
pub const DECISION_INTRO: &str = "Per topology and strategy: the latency each adds to the \
    check (`GET /api/me` with a live token, the same request for every store) against `none:` \
    in the same scenario (medians over rounds), and what it buys — how long a copied token kept \
    working after logout (the longest window of any probed copy; `never`: until its `exp`) and \
    the share of answered replays accepted under load (unanswered ones, 5xx or no answer, \
    shown beside it).";

/// Before the strategies table.
pub const STRATEGIES_INTRO: &str = "What each strategy is, what one entry costs in memory in \
    this run (the slope of the bytes the store reports over its entries at the end of every \
    round; `naive:` and `memory:` report no bytes), what it needs to run and what it does when \
    its store is down.";

/// Under the cost-vs-protection charts: how values a log axis cannot show are placed.
pub const CHART_NOTE: &str = "Cost vs protection, one chart per topology: x is the added check \
    p99 latency against `none:`, y the longest replay window, both on log axes. An added p99 of 0 or \
    less and a window of 0 are plotted at 0.001 ms and labelled `≤ 0 ms` / `window 0`; copies \
    never refused are plotted at the token lifetime (the line at the top).";

/// Before a scenario's renewal table.
pub const RENEWAL_INTRO: &str = "Renewing tokens: `POST /refresh` requests per second, the keys \
    they wrote to the store per user per hour, and all the scenario's store writes per user per \
    hour, logins and logouts included (the servers' counters over the measured time):";

/// Where the microbenchmark numbers come from: not from this load run.
pub const MICRO_SOURCE: &str =
    "From criterion's saved estimates (`target/criterion`, written by the last \
`cargo bench --bench check_latency` on this machine, not by this load run). Medians per check; \
the floor is a plain `HashSet<u128>` lookup of the same size and kind.";

/// The summary's first line.
pub fn summary_intro(report: &Report) -> &'static str {
    if report.decision.is_some() {
        SUMMARY_INTRO
    } else {
        SUMMARY_BY_SCENARIO_INTRO
    }
}

/// A GitHub-flavoured Markdown table (pipes in cells escaped).
pub fn table(t: &Table) -> String {
    let cell = |s: &String| s.replace('|', "\\|");
    let mut out = String::new();
    let _ = writeln!(out, "| {} |", t.headers.iter().map(cell).collect::<Vec<_>>().join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(t.headers.len()));
    for row in &t.rows {
        let _ = writeln!(out, "| {} |", row.iter().map(cell).collect::<Vec<_>>().join(" | "));
    }
    out
}

/// A page of [`Block`]s as Markdown.
pub fn blocks(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Title(title) => writeln!(out, "# {title}\n"),
            Block::Heading(heading) => writeln!(out, "## {heading}\n"),
            Block::Prose(text) => writeln!(out, "{text}\n"),
            Block::Table(t) => writeln!(out, "{}", table(t)),
            Block::List(items) => {
                items.iter().for_each(|item| out.push_str(&format!("- {item}\n")));
                writeln!(out)
            }
            Block::Preformatted(text) => writeln!(out, "```text\n{}\n```\n", text.trim_end()),
            Block::Chart { stem, title } => writeln!(out, "![{title}](charts/{stem}.svg)\n"),
        }
        .expect("writing to a String");
    }
    out
}

impl Exporter for Markdown {
    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn export(&self, report: &Report) -> Vec<u8> {
        let mut out = String::from("# revbench report\n\n");
        let _ = writeln!(out, "{INTRO}\n");
        if !report.summary.is_empty() {
            let _ = write!(out, "## Summary\n\n{}\n", summary_intro(report));
            for summary in &report.summary {
                let _ = write!(out, "\n**{}**\n\n", summary.heading);
                for bullet in &summary.bullets {
                    let _ = writeln!(out, "- {bullet}");
                }
            }
        }
        let mut charts = report.charts_in(&Place::Decision).peekable();
        if charts.peek().is_some() {
            let _ = write!(out, "\n## Cost vs protection\n\n{CHART_NOTE}\n\n");
        }
        for chart in charts {
            let _ = writeln!(out, "![{}](charts/{}.png)", chart.title, chart.stem);
        }
        if let Some(decision) = &report.decision {
            let _ = write!(out, "\n## Decision view\n\n{DECISION_INTRO}\n\n");
            out.push_str(&table(&decision.table));
            if let Some(strategies) = &decision.strategies {
                let _ = write!(out, "\n{STRATEGIES_INTRO}\n\n");
                out.push_str(&table(strategies));
            }
        }
        for section in &report.scenarios {
            let _ = write!(out, "\n## Scenario `{}`\n\n{}\n\n", section.name, section.description);
            out.push_str(&table(&section.table));
            if let Some(outage) = &section.outage {
                out.push_str("\nWhile the store was cut off:\n\n");
                out.push_str(&table(outage));
            }
            if let Some(window) = &section.replay_window {
                out.push_str(
                    "\nReplay window: copies logged out, then replayed on a fixed schedule:\n\n",
                );
                out.push_str(&table(window));
            }
            if let Some(renewal) = &section.renewal {
                let _ = write!(out, "\n{RENEWAL_INTRO}\n\n");
                out.push_str(&table(renewal));
            }
            if !section.meaning.is_empty() {
                out.push_str("\n**What this means.**\n\n");
                for bullet in &section.meaning {
                    let _ = writeln!(out, "- {bullet}");
                }
            }
            out.push('\n');
            for chart in report.charts_in(&Place::Scenario(section.name.clone())) {
                let _ = writeln!(out, "![{}](charts/{}.png)", chart.title, chart.stem);
            }
        }
        if let Some(micro) = &report.micro {
            out.push_str("\n## Check latency (criterion microbenchmarks)\n\n");
            out.push_str(MICRO_SOURCE);
            out.push_str("\n\n");
            out.push_str(&table(micro));
            for chart in report.charts_in(&Place::Micro) {
                let _ = write!(out, "\n![{}](charts/{}.png)\n", chart.title, chart.stem);
            }
        }
        out.push_str("\n## Environment\n\n");
        out.push_str(&table(&report.environment));
        out.into_bytes()
    }
}
