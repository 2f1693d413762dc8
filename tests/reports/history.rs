//! `revbench history`: E-divisive means on synthetic series, and the command end to end.

use std::process::Command;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use revbench::history::{change_points, Settings};

use crate::small;

/// 30 runs around 100 with `noise` relative Gaussian noise (Box–Muller), stepping by `step`
/// from index `at` on.
fn series(seed: u64, noise: f64, step: f64, at: usize) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..30)
        .map(|i| {
            let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
            let gauss = (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
            let level = if i >= at { 100.0 * (1.0 + step) } else { 100.0 };
            level * (1.0 + noise * gauss)
        })
        .collect()
}

/// 20 series of 30 runs with 3% noise: a 10% step (at index 8 to 22) is found at its index
/// (±1) in at least 19, and a shift is reported in at most 1 of 20 series without one.
/// (`REVBENCH_HISTORY_SERIES=1000` prints the figure over more series, without asserting.)
#[test]
fn ten_percent_steps_found_and_flat_series_left_alone() {
    let settings = Settings::default();
    let n: u64 =
        std::env::var("REVBENCH_HISTORY_SERIES").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let mut found = 0;
    for seed in 1..=n {
        let at = 8 + (seed as usize * 7) % 15;
        let points = change_points(&series(seed, 0.03, 0.10, at), &settings);
        if points.iter().any(|c| c.at.abs_diff(at) <= 1) {
            found += 1;
        }
    }
    let mut false_alarms = 0;
    for seed in 1_000_001..=1_000_000 + n {
        if !change_points(&series(seed, 0.03, 0.0, 0), &settings).is_empty() {
            false_alarms += 1;
        }
    }
    eprintln!("10% step found at its index (±1) in {found} of {n}; a shift in {false_alarms} of {n} flat series");
    if n != 20 {
        return;
    }
    assert!(found >= 19, "found {found} of 20");
    assert!(false_alarms <= 1, "{false_alarms} of 20 flat series had a shift");
}

/// 12 files whose redis p50 steps up 30% from the 7th, named so that name order is not start
/// order: the shift is named at file 7 of 12 (by start time), charted, and fails the command
/// with --fail-on-shift; in the order given it moves, and without the flag the exit is 0.
#[test]
fn history_names_the_shift_and_charts_it() {
    let dir = std::env::temp_dir().join(format!("revbench-history-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("runs")).unwrap();
    for i in 0..12u32 {
        let mut results = small();
        results.header.started_at = format!("2026-11-{:02}T02:00:00Z", i + 1);
        for m in results.measurements.iter_mut().filter(|m| m.store == "redis") {
            for (k, r) in m.rounds.iter_mut().enumerate() {
                let base = 400 + (i * 7 + k as u32 * 3) % 11;
                let p50 = if i >= 6 { base * 13 / 10 } else { base };
                r.latency_by_request.get_mut("me").unwrap().p50_us = p50 as _;
            }
        }
        // Name order reversed: night 1 is z-11.json, night 12 z-00.json.
        results.write(&dir.join("runs").join(format!("z-{:02}.json", 11 - i))).unwrap();
    }
    std::fs::write(dir.join("runs/compare.json"), "{}").unwrap();
    let history = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_revbench"))
            .arg("history")
            .arg(dir.join("runs"))
            .args(extra)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code().unwrap_or(-1), text)
    };
    let charts = dir.join("charts");
    let (code, out) = history(&["--fail-on-shift", "--out", charts.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("history of 12 results files, ordered by start time"), "{out}");
    assert!(out.contains("SHIFT logout-replay / redis: p50 from file 7 of 12"), "{out}");
    assert!(out.contains("z-05.json"), "{out}");
    assert!(out.contains("worse"), "{out}");
    assert!(out.contains("note: skipped") && out.contains("compare.json"), "{out}");
    assert_eq!(out.matches("SHIFT").count(), 1, "only redis p50 moved: {out}");
    let svg = std::fs::read_to_string(charts.join("history-logout-replay-redis-p50.svg")).unwrap();
    assert!(svg.contains("logout-replay / redis: p50"), "the chart has its title");
    let (code, out) = history(&["--order", "given"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("SHIFT logout-replay / redis: p50 from file 7 of 12"), "{out}");
    assert!(out.contains("better"), "reversed, the step is a drop: {out}");
    let (code, out) = history(&["--fail-on-shift", "--min-segment", "7"]);
    assert_eq!(code, 3, "12 files cannot hold 2 segments of 7: {out}");
    let _ = std::fs::remove_dir_all(&dir);
}
