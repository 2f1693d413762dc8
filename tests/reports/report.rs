//! Reports and `revbench compare` on hand-made results files (`tests/fixtures/`).

use std::path::Path;
use std::process::Command;

use crate::{fixture, small};
use revbench::report;
use revbench::results::RunResults;

/// The Markdown report of a fixed results file matches the committed snapshot
/// (`UPDATE_SNAPSHOTS=1 cargo test --test reports` rewrites it after a deliberate change).
#[test]
fn markdown_matches_snapshot() {
    let markdown = report::markdown(&report::build(&small(), &[]).unwrap());
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/small-report.md");
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(&snapshot, &markdown).unwrap();
    }
    let expected = std::fs::read_to_string(&snapshot).expect("snapshot exists");
    assert_eq!(markdown, expected);
}

/// The Markdown states the measured facts: leak counts, and the overhead against none only
/// as far as 2 rounds a side can tell (67% coverage: too few to call).
#[test]
fn markdown_states_measured_facts() {
    let markdown = report::markdown(&report::build(&small(), &[]).unwrap());
    assert!(markdown.contains("| redis | 4900 (4800–5000) | 0.600 |"), "{markdown}");
    assert!(markdown.contains("100% (1020/1020)"), "{markdown}");
    assert!(
        markdown.contains(
            "redis is inconclusive against none at p50 (1.54× none, interval 1.47–1.61× at \
             67%, too few rounds to call: measure with --rounds 3 or more) and leaked 0 of 970 \
             answered replays"
        ),
        "{markdown}"
    );
    assert!(markdown.contains("skipped: cannot reach mongodb"), "{markdown}");
}

/// The HTML page makes no external request: no http(s) URL anywhere, charts inline.
#[test]
fn html_is_self_contained() {
    let html = report::html(&report::build(&small(), &[]).unwrap());
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(html.contains("<svg") && html.contains("<style>"));
    assert!(!html.contains("<script src") && !html.contains("<link"));
}

fn revbench(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_revbench")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn compare(baseline: &str, current: &str, extra: &[&str]) -> (i32, String, String) {
    let (b, c) = (fixture(baseline), fixture(current));
    let mut args = vec!["compare", b.to_str().unwrap(), c.to_str().unwrap()];
    args.extend_from_slice(extra);
    revbench(&args)
}

/// Unchanged, 2 rounds a side → 3 (inconclusive), never 0.
#[test]
fn compare_unchanged_with_two_rounds_exits_3() {
    let (code, out, _) = compare("small-results.json", "small-results.json", &[]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("INCONCLUSIVE") && !out.contains("no measurable change beyond"));
}

/// p50 twice as slow with tight rounds → 1, naming the metric, with six rounds a side (the
/// fewest whose test reaches 5% over 8 calls: 2 stores × requests/s, p50, p99 and server CPU
/// per request); with two (not 2× apart round for round: 1180
/// against 610) → 3.
#[test]
fn compare_twice_as_slow_exits_1() {
    let (code, out, _) =
        compare("small-results.json", "small-results-redis-2x-slower.json", &["--format", "md"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("too few pairs or rounds"), "{out}");
    let dir =
        std::env::temp_dir().join(format!("revbench-3rounds-{}", revbench::jti::Jti::random()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["small-results.json", "small-results-redis-2x-slower.json"] {
        let mut r = RunResults::read(&fixture(name)).unwrap();
        for m in &mut r.measurements {
            for round in 3..=6 {
                let mut more = m.rounds[round % 2].clone();
                more.round = round;
                m.rounds.push(more);
            }
        }
        r.write(&dir.join(name)).unwrap();
    }
    let (b, c) = (dir.join("small-results.json"), dir.join("small-results-redis-2x-slower.json"));
    let (code, out, _) =
        revbench(&["compare", b.to_str().unwrap(), c.to_str().unwrap(), "--format", "md"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL worse: p50_us logout-replay / redis +100.0%"), "{out}");
    assert!(out.contains("**worse**"), "{out}");
}

/// A 15% change inside a wide noise band, 2 rounds a side → 3, written as inconclusive with
/// the rounds that would do, never as a pass.
#[test]
fn compare_within_noise_exits_3() {
    let (code, out, _) = compare("wide-noise-baseline.json", "wide-noise-15pct-slower.json", &[]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("INCONCLUSIVE") && out.contains("--rounds ≥") && !out.contains("FAIL"));
}

/// Mismatched scenarios or schema versions → 2 with one line naming the problem.
#[test]
fn compare_unusable_input_exits_2() {
    let (code, _, err) = compare("small-results.json", "small-results-other-scenario.json", &[]);
    assert_eq!(code, 2);
    assert!(err.contains("different scenarios") && err.contains("steady"), "{err}");
    let (code, _, err) = compare("small-results-schema-0.json", "small-results.json", &[]);
    assert_eq!(code, 2);
    assert!(err.contains("schema_version 0") && err.lines().count() == 1, "{err}");
    let (code, _, err) = compare("small-results.json", "missing.json", &[]);
    assert_eq!(code, 2);
    assert!(err.contains("missing.json"), "{err}");
}

/// `revbench report` writes report.md, report.html and every chart as SVG and PNG.
#[test]
fn report_command_writes_files() {
    let out = std::env::temp_dir()
        .join(format!("revbench-report-{}", revbench::revocation::Jti::random()));
    let results = fixture("small-results.json");
    let (code, stdout, err) =
        revbench(&["report", results.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{err}");
    for file in [
        "report.md",
        "report.html",
        "charts/latency-logout-replay.png",
        "charts/throughput-logout-replay.svg",
    ] {
        let meta = std::fs::metadata(out.join(file)).unwrap_or_else(|_| panic!("{file} missing"));
        assert!(meta.len() > 500, "{file} is {} bytes", meta.len());
    }
    let png = std::fs::read(out.join("charts/latency-logout-replay.png")).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
    let _ = std::fs::remove_dir_all(out);
}

/// The committed example (`reports/example/results.json`) still reads, and its report and
/// its comparison with itself are byte for byte what the revbench that wrote it produced
/// (pinned in `tests/snapshots/example-*`; `UPDATE_SNAPSHOTS=1` rewrites them after a
/// deliberate change of the output, as for verdicts with intervals).
#[test]
fn committed_example_reads_and_reports_as_before() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/example/results.json");
    let results = RunResults::read(&example).unwrap();
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let update = std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1");
    let markdown = report::markdown(&report::build(&results, &[]).unwrap());
    if update {
        std::fs::write(snapshots.join("example-report.md"), &markdown).unwrap();
    }
    let expected = std::fs::read_to_string(snapshots.join("example-report.md")).unwrap();
    assert_eq!(markdown, expected);
    let path = example.to_str().unwrap();
    for (format, snapshot) in [("text", "example-compare.txt"), ("md", "example-compare.md")] {
        let (code, stdout, stderr) = revbench(&["compare", path, path, "--format", format]);
        // 3 rounds a side cannot call anything at 5% family-wise: inconclusive.
        assert_eq!(code, 3, "{stderr}");
        if update {
            std::fs::write(snapshots.join(snapshot), &stdout).unwrap();
        }
        let expected = std::fs::read_to_string(snapshots.join(snapshot)).unwrap();
        assert_eq!(stdout, expected, "compare --format {format}");
    }
}

/// A difference two rounds cannot tell from noise is written as "inconclusive" (too few rounds
/// to call, with the fix), in the narrative and in the table — never "no measurable
/// difference", which would read as a finding.
#[test]
fn noise_is_not_stated_as_fact() {
    let noisy = RunResults::read(&fixture("wide-noise-baseline.json")).unwrap();
    let markdown = report::markdown(&report::build(&noisy, &[]).unwrap());
    assert!(markdown.contains("redis is inconclusive against none at p50"), "{markdown}");
    assert!(markdown.contains("too few rounds to call: measure with --rounds 3 or more"));
    assert!(markdown.contains("1.00× (inconclusive) |"), "{markdown}");
    assert!(!markdown.contains("no measurable difference"), "{markdown}");
    assert!(!markdown.contains("redis adds"), "{markdown}");
}
