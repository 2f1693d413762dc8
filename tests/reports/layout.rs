//! The report's order — the answer first, then the decision chart, the details, the
//! environment last — in report.md and report.html alike, and a time-series chart per
//! scenario.

use std::collections::HashSet;
use std::path::Path;

use crate::small;
use revbench::report;
use revbench::results::{RunResults, Timeline, TimelineEvent, Values, STORE_BACK, STORE_CUT};

fn committed_example() -> RunResults {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/example/results.json");
    RunResults::read(&example).unwrap()
}

/// Where `needle` first appears in `text` (panics, showing `text`, when it does not).
fn at(text: &str, needle: &str) -> usize {
    text.find(needle).unwrap_or_else(|| panic!("no {needle:?} in:\n{text}"))
}

/// The summary comes before any table and any chart, the environment after everything; in
/// Markdown and in HTML, with sections in the same order.
#[test]
fn the_report_opens_with_its_answer() {
    for results in [committed_example(), small()] {
        let built = report::build(&results, &[]).unwrap();
        let md = report::markdown(&built);
        let summary = at(&md, "\n## Summary\n");
        assert!(summary < at(&md, "\n|"), "a table before the summary:\n{md}");
        assert!(summary < at(&md, "!["), "a chart before the summary:\n{md}");
        assert!(at(&md, "\n- ") > summary, "the summary has bullets:\n{md}");
        let environment = at(&md, "\n## Environment\n");
        assert_eq!(md.rfind("\n## "), Some(environment), "the environment is last:\n{md}");
        let html = report::html(&built);
        assert!(at(&html, "<h2>Summary</h2>") < at(&html, "<table"), "{html}");
        assert_eq!(html.rfind("<h2>"), Some(at(&html, "<h2>Environment</h2>")), "{html}");
        // The same sections, in the same order.
        let md_sections: Vec<&str> =
            md.lines().filter_map(|l| l.strip_prefix("## ")).map(|h| h.trim_matches('`')).collect();
        let html_sections: Vec<String> = html
            .split("<h2>")
            .skip(1)
            .map(|h| {
                h.split("</h2>").next().unwrap().replace("<code>", "`").replace("</code>", "`")
            })
            .collect();
        let html_sections: Vec<&str> = html_sections.iter().map(|h| h.trim_matches('`')).collect();
        assert_eq!(md_sections, html_sections);
    }
}

/// The environment says each fact once: a pair not applicable in every round (the committed
/// example lists each once per round) is one line, its stores named together.
#[test]
fn no_environment_line_twice() {
    let results = committed_example();
    let md = report::markdown(&report::build(&results, &[]).unwrap());
    let environment = &md[at(&md, "## Environment")..];
    let rows: Vec<&str> = environment.lines().filter(|l| l.starts_with("| ")).collect();
    let unique: HashSet<&&str> = rows.iter().collect();
    assert_eq!(unique.len(), rows.len(), "{environment}");
    // One line per scenario and reason: the in-process stores share one.
    let outage: Vec<&&str> = rows.iter().filter(|r| r.contains("not applicable")).collect();
    let in_process: Vec<&&&str> = outage.iter().filter(|r| r.contains("in-process")).collect();
    assert_eq!(in_process.len(), 1, "{environment}");
    for store in ["none", "naive", "memory", "hashmap", "compact", "cutoff"] {
        assert_eq!(in_process[0].matches(store).count(), 1, "{store} once: {}", in_process[0]);
    }
}

/// A timeline: 30 intervals of 100 ms, the store cut off from 1.0 to 2.0 s (no check
/// answered 200 then, errors instead).
fn timeline() -> Timeline {
    let down = |i: usize| (10..20).contains(&i);
    let values = |f: &dyn Fn(usize) -> Option<u64>| Values((0..30).map(f).collect());
    Timeline {
        interval_ms: 100,
        requests: values(&|i| Some(if down(i) { 5 } else { 500 })),
        errors: values(&|i| Some(if down(i) { 5 } else { 0 })),
        check_p50_us: values(&|i| (!down(i)).then_some(400)),
        check_p99_us: values(&|i| (!down(i)).then_some(1_200)),
        events: vec![
            TimelineEvent { at_ms: 1_000, what: STORE_CUT.to_string() },
            TimelineEvent { at_ms: 2_000, what: STORE_BACK.to_string() },
        ],
    }
}

/// A scenario whose rounds kept a timeline gets a time-series chart, with the outage's
/// instants marked, in both reports; one from an older file, without timelines, gets none.
#[test]
fn a_time_series_chart_per_scenario() {
    let older = report::build(&small(), &[]).unwrap();
    assert!(!report::markdown(&older).contains("charts/timeline-"));
    let mut results = small();
    for m in &mut results.measurements {
        for round in &mut m.rounds {
            round.timeline = Some(timeline());
        }
    }
    let built = report::build(&results, &[]).unwrap();
    let md = report::markdown(&built);
    for scenario in &results.config.scenarios {
        let image = format!("(charts/timeline-{}.png)", scenario.name);
        let section = at(&md, &format!("## Scenario `{}`", scenario.name));
        assert!(at(&md, &image) > section, "{md}");
    }
    let chart = built.charts.iter().find(|c| c.stem == "timeline-logout-replay").unwrap();
    for text in ["store cut off", "store back", "requests/s", "check p99 (ms)", "redis", "none"] {
        assert!(chart.svg.contains(text), "{text} missing from the chart");
    }
    let html = report::html(&built);
    assert!(html.contains("Over time — logout-replay"), "the chart is inlined");
}
