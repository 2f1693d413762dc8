//! The hidden-delay check, alone in its own test binary so no other test competes for the
//! CPU while it measures (cargo runs test binaries one after another).

use std::path::PathBuf;
use std::time::Duration;

use revbench::load::scheduler::{run, RunOptions};
use revbench::scenario::Scenario;

fn options(inject: Option<Duration>) -> RunOptions {
    let mut scenario = Scenario::load("check-only").unwrap();
    scenario.users = 1;
    RunOptions {
        scenarios: vec![scenario],
        stores: vec!["none:".to_string()],
        rounds: 1,
        duration: Some(Duration::from_secs(1)),
        out_dir: std::env::temp_dir()
            .join(format!("revbench-inject-test-{}", revbench::revocation::Jti::random())),
        quick: true,
        server_exe: PathBuf::from(env!("CARGO_BIN_EXE_revbench")),
        inject_latency: inject,
        pin: false,
        progress: false,
    }
}

/// A hidden 2 ms delay in every check shows up in the measured p50 as +2 ms ± 20%.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_latency_shows_in_p50() {
    let p50 = |inject: Option<Duration>| async move {
        let options = options(inject);
        let out = options.out_dir.clone();
        let results = run(options).await.unwrap();
        let _ = std::fs::remove_dir_all(out);
        results.measurements[0].rounds[0].latency_by_request["me"].p50_us as f64
    };
    let plain = p50(None).await;
    let delayed = p50(Some(Duration::from_millis(2))).await;
    let added_ms = (delayed - plain) / 1000.0;
    println!("p50 without delay {plain} µs, with 2 ms injected {delayed} µs: +{added_ms:.3} ms");
    assert!((1.6..=2.4).contains(&added_ms), "p50 {plain} µs → {delayed} µs: added {added_ms} ms");
}
