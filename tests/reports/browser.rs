//! The HTML report in a real browser: headless Chromium (Debian's `chromium`) driven by
//! `tests/browser/check-report.mjs` (playwright-core, `npm ci --prefix tests/browser`). CI sets
//! `REVBENCH_REQUIRE_BROWSER=1`, so a missing browser fails there instead of skipping.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::common::backend::skip_unless_required;
use revbench::report;
use revbench::results::RunResults;

/// What the checker saw on one page.
#[derive(Debug, Deserialize)]
struct Seen {
    console_errors: Vec<String>,
    outside_requests: Vec<String>,
    charts: Vec<String>,
    undisplayed_charts: Vec<String>,
}

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Why the browser check cannot run here, if it cannot.
fn missing() -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!("no Chromium at {chromium} (apt-get install chromium)"));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("no node on PATH".into());
    }
    if !browser_dir().join("node_modules/playwright-core").exists() {
        return Some("playwright-core is not installed (npm ci --prefix tests/browser)".into());
    }
    None
}

/// Opens `page` in headless Chromium; `None` when the check is skipped (see [`missing`]).
fn check(page: &Path) -> Option<Seen> {
    if let Some(reason) = missing() {
        return skip_unless_required("REVBENCH_REQUIRE_BROWSER", "browser check", &reason);
    }
    // `timeout`: the script's own timeouts (30 s) should fire first; this one bounds a hang.
    let output = Command::new("timeout")
        .args(["90", "node"])
        .arg(browser_dir().join("check-report.mjs"))
        .arg(page)
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "the browser check did not run ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).expect("the checker prints JSON"))
}

/// The committed example's `report.html`, rendered by this build, loads in Chromium without a
/// console error or a request outside its folder, and every chart in it is displayed.
#[test]
fn example_report_displays_in_chromium() {
    let results_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/example/results.json");
    let results = RunResults::read(&results_file).unwrap();
    let out = tempdir("example");
    report::write(&results, &out, None).unwrap();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let Some(seen) = check(&out.join("report.html")) else { return };
    assert!(seen.console_errors.is_empty(), "console errors: {:?}", seen.console_errors);
    assert!(seen.outside_requests.is_empty(), "outside requests: {:?}", seen.outside_requests);
    assert_eq!(seen.charts.len(), html.matches("<svg").count(), "charts found: {:?}", seen.charts);
    assert!(!seen.charts.is_empty(), "the example report has charts");
    assert!(seen.undisplayed_charts.is_empty(), "not displayed: {:?}", seen.undisplayed_charts);
    std::fs::remove_dir_all(&out).unwrap();
}

/// The check finds what it looks for: a page with a script error, an outside request and a
/// chart that cannot load is reported on all three counts.
#[test]
fn the_browser_check_sees_a_broken_page() {
    let out = tempdir("broken");
    let page = out.join("broken.html");
    std::fs::write(
        &page,
        "<!doctype html><html><body>\
         <img src=\"charts/missing.png\" width=\"100\" height=\"50\">\
         <img src=\"http://127.0.0.1:9/outside.png\">\
         <svg width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\"/></svg>\
         <script>console.error('broken on purpose')</script></body></html>",
    )
    .unwrap();
    let Some(seen) = check(&page) else { return };
    assert_eq!(seen.console_errors.len(), 3, "script error + two failed loads: {seen:?}");
    assert_eq!(seen.outside_requests, ["http://127.0.0.1:9/outside.png"], "{seen:?}");
    assert_eq!(seen.charts.len(), 3, "{seen:?}");
    assert_eq!(seen.undisplayed_charts.len(), 2, "both images failed, the svg shows: {seen:?}");
    std::fs::remove_dir_all(&out).unwrap();
}

fn tempdir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("revbench-browser-{label}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
