//! Every number means what it says, end to end: probes load every store alike inside the
//! measured window and the servers' own count of requests matches the load's, two URLs of one
//! scheme are two stores in every output, sub-second timings are kept, and generators that
//! drive one deployment merge into counts of its servers taken once.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::common::backend::{require_or_skip, Backend};
use crate::common::run::{short_run, RunArgs};
use revbench::harness::label::default_label;
use revbench::results::{RoundResult, RunResults};
use revbench::revocation::Jti;
use revbench::run::scheduler::run;
use revbench::scenario::Scenario;

fn scenario(name: &str, users: usize) -> Scenario {
    let mut scenario = Scenario::load(name).unwrap();
    scenario.users = users;
    scenario
}

fn temp_dir(label: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("revbench-{label}-{}", Jti::random()))
}

/// `revbench args`: its exit code and everything it printed.
fn revbench(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_revbench")).args(args).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code(), text)
}

/// The probes' requests of a round.
fn probe_requests(round: &RoundResult) -> u64 {
    round.replay_window.as_ref().map_or(0, |w| w.requests)
}

/// Every store of a `logout-replay` run gets the same probe requests inside the measured
/// window, whether it refuses the copies at once (hashmap, Redis) or never (none), and each
/// round's recorded requests plus the probes' match the servers' own count over the window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_load_every_store_alike_and_counts_add_up() {
    let mut stores = vec!["none:".to_string(), "hashmap:".to_string()];
    stores.extend(require_or_skip(Backend::Redis).await);
    let mut options = short_run("validity", vec![scenario("logout-replay", 2)], stores);
    options.duration = Some(Duration::from_secs(2));
    options.warmup = Duration::from_millis(300);
    let out = options.out_dir.clone();
    let results = run(options).await.unwrap();

    let mut probes = Vec::new();
    for m in &results.measurements {
        let round = &m.rounds[0];
        let window = round.replay_window.as_ref().expect("probed");
        assert_eq!((window.probes, window.logouts_failed), (8, 0), "{}: {window:?}", m.store);
        probes.push(probe_requests(round));
        let server = round.server_requests.unwrap_or_else(|| {
            panic!("{}: no count: {:?} {:?}", m.store, round.servers, round.errors)
        }) as f64;
        let ours = (round.requests + probe_requests(round)) as f64;
        let off = (server - ours).abs() / server;
        println!(
            "{}: {} recorded + {} probe requests vs {server} counted by the server ({:.3}% off)",
            m.store,
            round.requests,
            probe_requests(round),
            off * 100.0
        );
        assert!(off < 0.02, "{}: {ours} vs {server}", m.store);
        assert!(round.server_cpu_us_per_request.is_some());
    }
    let (min, max) = (probes.iter().min().unwrap(), probes.iter().max().unwrap());
    assert!(*min > 0 && (max - min) as f64 / *max as f64 <= 0.01, "probe requests {probes:?}");
    let none = results.measurements.iter().find(|m| m.store == "none").unwrap();
    let window = none.rounds[0].replay_window.as_ref().unwrap();
    assert_eq!(window.never_refused, 8, "none never refuses: {window:?}");
    let _ = std::fs::remove_dir_all(out);
}

/// A measured window of 1.2 s after 0.5 s of warm-up is 1.2 s, not the whole seconds goose
/// was given before (0.52 s were measured).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_second_timings_are_kept() {
    let mut options = short_run("subsecond", vec![scenario("check-only", 2)], vec!["none:".into()]);
    options.duration = Some(Duration::from_millis(1200));
    options.warmup = Duration::from_millis(500);
    let out = options.out_dir.clone();
    let results = run(options).await.unwrap();
    let elapsed = results.measurements[0].rounds[0].elapsed_secs;
    // At least the 1.2 s asked for (whole seconds gave 1 s, or 0.52 s after the warm-up); the
    // window also holds goose's start and stop, which a loaded machine stretches to a second or
    // more, so the upper bound is loose (the plan's milliseconds have a unit test in attack.rs).
    assert!((1.15..3.0).contains(&elapsed), "measured {elapsed} s of 1.2 s");
    let _ = std::fs::remove_dir_all(out);
}

/// Two URLs of one scheme are two stores: two rows in the summary, `results.json`, the report
/// and `compare`, under labels from their URLs, or under the names `a=…,b=…` gives them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_urls_of_one_scheme_are_two_stores() {
    let Some(redis) = require_or_skip(Backend::Redis).await else { return };
    let mut db9 = url::Url::parse(&redis).unwrap();
    db9.set_path("/9");
    db9.set_query(None);
    let (plain, other) = (db9.to_string(), format!("{db9}?prefix=other:"));
    let labels = [default_label(&plain).unwrap(), default_label(&other).unwrap()];
    assert_ne!(labels[0], labels[1]);
    for (stores, expected) in [
        (format!("{plain},{other}"), labels.clone()),
        (format!("a={plain},b={other}"), ["a".to_string(), "b".to_string()]),
    ] {
        let out = temp_dir("two-labels");
        let run = RunArgs::short(&out).with(&["--warmup", "0s"]).stores(&stores);
        let (code, summary) = revbench(&run.scenario("check-only").args());
        assert_eq!(code, Some(0), "{summary}");
        let results = RunResults::read(&out.join("results.json")).unwrap();
        let names: Vec<&str> = results.stores.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, expected, "{summary}");
        assert_eq!(results.measurements.len(), 2);
        let report = std::fs::read_to_string(out.join("report.md")).unwrap();
        let results_file = out.join("results.json");
        let path = results_file.to_str().unwrap();
        // One round a side is too few to call anything: inconclusive (exit 3), every row matched by its label.
        let (code, compared) = revbench(&["compare", path, path]);
        assert_eq!(code, Some(3), "{compared}");
        for label in &expected {
            let row = format!("check-only      {label:<14}");
            assert!(summary.contains(&row), "summary lacks {label}: {summary}");
            assert!(report.contains(&format!("| {label} |")), "report lacks {label}: {report}");
            assert!(compared.contains(&format!("check-only / {label} ")), "{compared}");
            let m = results.measurements.iter().find(|m| &m.store == label).unwrap();
            assert_eq!(m.rounds.len(), 1, "{label}: one round each, not pooled");
        }
        let _ = std::fs::remove_dir_all(out);
    }
}

/// Two `--segment` halves of a `--target` run, started together and merged: each server's
/// counts are taken once (the requests it answered match both generators' requests and
/// probes together, not twice as many), within the servers' own count over the run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_segments_count_each_server_once() {
    let Some(redis) = require_or_skip(Backend::Redis).await else { return };
    let scratch = revbench::revocation::ScratchStore::open(&redis, "merge").await.unwrap();
    let spec = revbench::harness::ReplicaSpec {
        exe: env!("CARGO_BIN_EXE_revbench").into(),
        store_url: scratch.url.clone(),
        token_ttl: Duration::from_secs(900),
        jwt_secret: revbench::harness::output::shared_secret(),
        inject_latency: None,
        inject_work: None,
        fail_open: false,
        cpus: None,
        admin_token: "a-test-admin-token".into(),
    };
    let http = crate::common::client();
    let server = spec.start(&http).await.unwrap();
    let stats = async || server.stats(&http).await.unwrap();
    let before = stats().await.counters;
    let start =
        humantime::format_rfc3339_seconds(std::time::SystemTime::now() + Duration::from_secs(2))
            .to_string();
    let dirs = [temp_dir("segment-0"), temp_dir("segment-1")];
    let halves: Vec<_> = dirs
        .iter()
        .enumerate()
        .map(|(k, dir)| {
            let run = RunArgs::short(dir)
                .no_report()
                .with(&["--warmup", "0s", "--target", &server.base_url])
                .with(&["--admin-token", &server.admin_token])
                .with(&["--segment", &format!("{k}/2"), "--start-at", &start])
                .scenario("logout-replay");
            let args: Vec<String> = run.args().iter().map(|a| a.to_string()).collect();
            std::thread::spawn(move || {
                Command::new(env!("CARGO_BIN_EXE_revbench")).args(&args).output().unwrap()
            })
        })
        .collect();
    for half in halves {
        let output = half.join().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let after = stats().await.counters;
    server.stop().await;
    scratch.remove().await.unwrap();
    let merged_path = dirs[0].with_extension("merged.json");
    let files: Vec<String> =
        dirs.iter().map(|d| d.join("results.json").to_string_lossy().into_owned()).collect();
    let (code, text) =
        revbench(&["merge", &files[0], &files[1], "-o", merged_path.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{text}");
    let merged = RunResults::read(&merged_path).unwrap();
    let halves: Vec<RunResults> =
        files.iter().map(|f| RunResults::read(Path::new(f)).unwrap()).collect();

    let round = &merged.measurements[0].rounds[0];
    assert_eq!(round.servers.len(), 1, "one server, counted once: {:?}", round.servers);
    let load: u64 = halves.iter().map(|h| h.measurements[0].rounds[0].requests).sum();
    let probes: u64 = halves.iter().map(|h| probe_requests(&h.measurements[0].rounds[0])).sum();
    assert_eq!(round.requests, load);
    assert_eq!(probe_requests(round), probes);
    let counted = round.server_requests.unwrap() as f64;
    let off = (counted - (load + probes) as f64).abs() / counted;
    println!("merged: {load} + {probes} requests vs {counted} counted by the server");
    assert!(off < 0.03, "{load} + {probes} vs {counted}");
    let whole_run = (after.requests - before.requests) as f64;
    assert!(counted <= whole_run, "{counted} within the server's {whole_run} over the run");
    let writes = after.store_writes - before.store_writes;
    assert!(round.store_writes.unwrap() <= writes);
    assert_eq!((round.store_errors, round.fail_open_passes), (0, 0));
    assert_eq!(merged.config.scenarios[0].users, Scenario::load("logout-replay").unwrap().users);
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
    let _ = std::fs::remove_file(merged_path);
}
