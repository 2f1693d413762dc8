//! The hidden-delay check, alone in its own test binary so no other test competes for the
//! CPU while it measures (cargo runs test binaries one after another).

// Only the run options of tests/common: the rest of it is not needed here.
#[path = "common/run.rs"]
mod run_options;

use std::time::Duration;

use revbench::load::scheduler::{run, RunOptions};
use revbench::scenario::Scenario;
use run_options::short_run;

fn options(inject: Option<Duration>) -> RunOptions {
    let mut scenario = Scenario::load("check-only").unwrap();
    scenario.users = 1;
    RunOptions {
        inject_latency: inject,
        ..short_run("inject-test", vec![scenario], vec!["none:".to_string()])
    }
}

async fn p50_us(inject: Option<Duration>) -> f64 {
    let options = options(inject);
    let out = options.out_dir.clone();
    let results = run(options).await.unwrap();
    let _ = std::fs::remove_dir_all(out);
    results.measurements[0].rounds[0].latency_by_request["me"].p50_us as f64
}

/// Hidden delays in every check show up in the measured p50 at their size: +2 ms ± 20%, and
/// +100 µs within 60–200 µs (one user; the band is wide because a debug build on a shared
/// 2-core machine wakes slowly — the release figures are in the README). The delay is a wait,
/// not CPU: the spin it replaced took a core and showed +320 µs for 100 µs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_latency_shows_in_p50() {
    let plain = p50_us(None).await;
    let delayed = p50_us(Some(Duration::from_millis(2))).await;
    let added_ms = (delayed - plain) / 1000.0;
    println!("p50 without delay {plain} µs, with 2 ms injected {delayed} µs: +{added_ms:.3} ms");
    assert!((1.6..=2.4).contains(&added_ms), "p50 {plain} µs → {delayed} µs: added {added_ms} ms");
    let small = p50_us(Some(Duration::from_micros(100))).await;
    let plain = p50_us(None).await.min(plain);
    let added_us = small - plain;
    println!("p50 without delay {plain} µs, with 100 µs injected {small} µs: +{added_us:.0} µs");
    assert!((60.0..=200.0).contains(&added_us), "p50 {plain} µs → {small} µs: +{added_us} µs");
}

/// Constant rate at a low rate with a fixed 2 ms delay: the client's own lateness is recorded
/// as its own histogram and kept out of the corrected latency, so the corrected p50 is within
/// 5% of the uncorrected p50, and within 25% of the delay (the service time and a busy debug
/// build's wake-ups add to it; the release figure is in the README).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constant_rate_corrected_matches_at_low_rate() {
    let mut options = options(Some(Duration::from_millis(2)));
    let mut scenario = Scenario::load("constant-rate").unwrap();
    (scenario.users, scenario.rate) = (2, Some(200.0));
    options.scenarios = vec![scenario];
    options.duration = Some(Duration::from_secs(2));
    let out = options.out_dir.clone();
    let results = run(options).await.unwrap();
    let _ = std::fs::remove_dir_all(out);
    let round = &results.measurements[0].rounds[0];
    let p50 = round.latency.p50_us as f64;
    let corrected = round.corrected_latency.as_ref().expect("corrected latency").p50_us as f64;
    let lateness = round.pacing_lateness.as_ref().expect("pacing lateness histogram");
    println!(
        "p50 {p50} µs, corrected p50 {corrected} µs, pacing lateness p50 {} p99 {} µs, {} requests",
        lateness.p50_us, lateness.p99_us, round.requests
    );
    assert!((corrected / p50 - 1.0).abs() <= 0.05, "corrected {corrected} vs {p50}");
    assert!((corrected / 2000.0 - 1.0).abs() <= 0.25, "corrected {corrected} vs the 2 ms delay");
    assert!(lateness.count > 0 && round.requests >= 300, "{} requests", round.requests);
}
