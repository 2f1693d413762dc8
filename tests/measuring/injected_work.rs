//! `--inject-work`: CPU work of a known size in every check, seen in the servers' CPU per
//! request.

use std::time::Duration;

use crate::common::run::short_run;
use revbench::run::options::RunOptions;
use revbench::run::scheduler::run;
use revbench::scenario::Scenario;

/// The servers' CPU per request (µs) of one short round of `check-only` on `none:`.
async fn server_cpu_us(work: Option<Duration>) -> f64 {
    let mut scenario = Scenario::load("check-only").unwrap();
    scenario.users = 1;
    let options = RunOptions {
        inject_work: work,
        ..short_run("inject-work", vec![scenario], vec!["none:".to_string()])
    };
    let out = options.out_dir.clone();
    let results = run(options).await.unwrap();
    let _ = std::fs::remove_dir_all(out);
    assert_eq!(results.config.injected_work_ns, work.map(|w| w.as_nanos() as u64));
    let round = &results.measurements[0].rounds[0];
    // The servers' own record (`/stats`), which a wrapped candidate's servers also give.
    assert_eq!(round.injected_work_us(), work.map(|w| w.as_nanos() as f64 / 1e3));
    round.server_cpu_us_per_request.expect("servers started here")
}

/// 1 ms of work per check raises the servers' CPU per request by about 1 ms (every request
/// of `check-only` is a check): from 700 to 2000 µs, so work lost, taken in another unit or
/// applied twice fails. Measured alone: +1.07 to +1.47 ms (the work is calibrated on its
/// fastest trials; it runs slower beside the load). The rest of a debug build's request at
/// one user costs 150–170 µs and moves by tens of µs from one run to the next (once +134 µs
/// with 200 µs of work), hence a millisecond and a wide band.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_work_shows_in_server_cpu_per_request() {
    let _alone = crate::ALONE.lock().await;
    let plain = server_cpu_us(None).await;
    let worked = server_cpu_us(Some(Duration::from_millis(1))).await;
    let added = worked - plain;
    println!("server CPU per request {plain:.1} µs, with 1 ms of work {worked:.1} µs");
    assert!((700.0..=2000.0).contains(&added), "{plain:.1} µs → {worked:.1} µs: +{added:.1} µs");
}
