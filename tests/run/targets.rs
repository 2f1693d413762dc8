//! `revbench run --target`: reference servers started by hand (outside the run) measured over
//! HTTP, compared with a normal run of the same store. Redis runs in db 14, under a key prefix
//! of the test's own, removed at the end.

use std::path::PathBuf;
use std::time::Duration;

use crate::common;
use crate::common::backend::{require_or_skip, Backend};
use crate::common::process::revbench_exit;
use crate::common::run::RunArgs;
use revbench::harness::output::shared_secret;
use revbench::harness::remote::NOT_APPLICABLE;
use revbench::harness::{Replica, ReplicaSpec};
use revbench::results::RunResults;
use revbench::revocation::ScratchStore;

/// The admin token of the test's servers, as `run --target` reads it from the environment.
const ADMIN: (&str, &str) = ("REVBENCH_ADMIN_TOKEN", "a-test-admin-token");

/// A `revbench serve` of this build on `store_url`, with the JWT secret every server of the
/// test shares.
fn serve(store_url: &str) -> ReplicaSpec {
    ReplicaSpec {
        exe: PathBuf::from(env!("CARGO_BIN_EXE_revbench")),
        store_url: store_url.to_string(),
        token_ttl: Duration::from_secs(900),
        jwt_secret: shared_secret(),
        inject_latency: None,
        inject_work: None,
        fail_open: false,
        cpus: None,
        admin_token: ADMIN.1.into(),
    }
}

/// Two `revbench serve` processes on one store, sharing a JWT secret: one deployment.
async fn two_servers(store_url: &str) -> Vec<Replica> {
    let (spec, http) = (serve(store_url), common::client());
    vec![spec.start(&http).await.unwrap(), spec.start(&http).await.unwrap()]
}

async fn stop(servers: Vec<Replica>) {
    for server in servers {
        server.stop().await;
    }
}

fn urls(servers: &[Replica]) -> String {
    servers.iter().map(|s| s.base_url.as_str()).collect::<Vec<_>>().join(",")
}

/// `revbench run` with `how` (`--target …` or `--stores …`), short and quiet; its results.
fn run(how: &[&str], scenarios: &[&str], report: bool) -> RunResults {
    let out = std::env::temp_dir()
        .join(format!("revbench-target-test-{}", revbench::revocation::Jti::random()));
    let mut run = RunArgs::short(&out).with(&["--warmup", "0s"]).with(how);
    if !report {
        run = run.no_report();
    }
    let run = scenarios.iter().fold(run, |run, scenario| run.scenario(scenario));
    let args = run.args();
    let (code, stderr) = revbench_exit(&args, &[ADMIN]);
    assert_eq!(code, Some(0), "revbench {args:?}: {stderr}");
    let results = RunResults::read(&out.join("results.json")).unwrap();
    if report {
        let markdown = std::fs::read_to_string(out.join("report.md")).unwrap();
        assert!(markdown.contains(NOT_APPLICABLE), "report.md names no `{NOT_APPLICABLE}`");
    }
    let _ = std::fs::remove_dir_all(out);
    results
}

/// (attempted, accepted) replays of `scenario`, summed over rounds.
fn replays(results: &RunResults, scenario: &str) -> (u64, u64) {
    let m = results.measurements.iter().find(|m| m.scenario == scenario);
    let m = m.unwrap_or_else(|| panic!("no measurement under {scenario}"));
    m.rounds.iter().fold((0, 0), |(a, l), r| (a + r.replays_attempted, l + r.replays_accepted))
}

/// Two hand-started servers on one Redis give the same leak rates as a normal run of that
/// Redis: none, on one server and across the two. The store comes from /stats, the targets
/// are recorded, and memory and CPU of servers elsewhere are not measured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_targets_leak_as_a_normal_run() {
    let Some(redis) = require_or_skip(Backend::Redis).await else { return };
    let mut db14 = url::Url::parse(&redis).unwrap();
    db14.set_path("/14");
    let scratch = ScratchStore::open(db14.as_str(), "target").await.unwrap();
    let servers = two_servers(&scratch.url).await;
    let targets = urls(&servers);
    let scenarios = ["logout-replay", "replicas"];
    let remote = run(&["--target", &targets], &scenarios, false);
    stop(servers).await;
    scratch.remove().await.unwrap();
    let normal = run(&["--stores", db14.as_str()], &scenarios, false);

    for scenario in scenarios {
        let (attempted, accepted) = replays(&remote, scenario);
        assert!(attempted > 0 && accepted == 0, "--target {scenario}: {accepted}/{attempted}");
        let (attempted, accepted) = replays(&normal, scenario);
        assert!(attempted > 0 && accepted == 0, "--stores {scenario}: {accepted}/{attempted}");
    }
    assert_eq!(remote.stores.len(), 1);
    assert_eq!(remote.stores[0].name, "redis");
    assert_eq!(remote.header.environment.targets.join(","), targets);
    assert!(normal.header.environment.targets.is_empty());
    for round in remote.measurements.iter().flat_map(|m| &m.rounds) {
        assert_eq!(round.server_peak_rss_bytes, None);
        assert_eq!(round.server_cpu_us_per_request, None);
        assert!(round.store_entries.is_some_and(|n| n > 0), "entries from /stats");
    }
}

/// An in-process store on two targets leaks across them, as a normal run's replicas do, and
/// not on one server; restart is "not applicable with --target", in the results, the summary
/// and the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_targets_leak_across_replicas() {
    let servers = two_servers("hashmap:").await;
    let scenarios = ["logout-replay", "replicas", "restart"];
    let remote = run(&["--target", &urls(&servers)], &scenarios, true);
    stop(servers).await;
    let normal = run(&["--stores", "hashmap:"], &["replicas"], false);

    let (attempted, accepted) = replays(&remote, "logout-replay");
    assert!(attempted > 0 && accepted == 0, "one server: {accepted}/{attempted}");
    let (attempted, accepted) = replays(&remote, "replicas");
    assert!(attempted > 0 && accepted > 0, "--target replicas: {accepted}/{attempted}");
    let (attempted, accepted) = replays(&normal, "replicas");
    assert!(attempted > 0 && accepted > 0, "--stores replicas: {accepted}/{attempted}");

    assert!(remote.measurements.iter().all(|m| m.scenario != "restart"));
    let [skipped] = remote.not_applicable.as_slice() else { panic!("{:?}", remote.not_applicable) };
    assert_eq!((skipped.store.as_str(), skipped.scenario.as_str()), ("hashmap", "restart"));
    assert!(skipped.reason.starts_with(NOT_APPLICABLE), "{}", skipped.reason);
    let summary = revbench::run::summary::table(&remote);
    assert!(summary.contains(&format!("hashmap under restart: {NOT_APPLICABLE}")), "{summary}");
}

/// Bad targets and flags that need servers revbench starts: one line naming the fix, exit 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_targets_exit_2() {
    let mut servers = two_servers("hashmap:").await;
    servers.push(serve("memory:").start(&common::client()).await.unwrap());
    let (hashmap, memory) = (servers[0].base_url.clone(), servers[2].base_url.clone());
    let mixed = format!("{hashmap},{memory}");
    let cases: [(&[&str], &str); 5] = [
        (&["--target", &mixed], "one store"),
        (&["--target", "http://127.0.0.1:1"], "http://127.0.0.1:1 is unreachable"),
        (&["--target", "https://u:hunter2@127.0.0.1:1"], "only http://"),
        (&["--target", &hashmap, "--stores", "memory:"], "--stores"),
        (&["--target", &hashmap, "--pin"], "--pin"),
    ];
    for (how, expected) in cases {
        let run = RunArgs::bare().no_report().scenario("logout-replay").with(how);
        let args = run.args();
        let (code, stderr) = revbench_exit(&args, &[ADMIN]);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
    }
    // Without the servers' admin token, or with another, /stats is closed: the fix is named.
    let args = RunArgs::bare().no_report().scenario("logout-replay").with(&["--target", &hashmap]);
    for env in [&[][..], &[(ADMIN.0, "not-the-token")][..]] {
        let (code, stderr) = revbench_exit(&args.args(), env);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains("--admin-token"), "{stderr}");
        assert!(!stderr.contains("not-the-token"), "{stderr}");
    }
    let (_, stderr) = revbench_exit(&["run", "--target", &mixed], &[ADMIN]);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&hashmap) && stderr.contains(&memory), "{stderr}");
    stop(servers).await;
}
