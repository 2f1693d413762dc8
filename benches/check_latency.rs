//! Per-request revocation check latency, by store, store size and hit/miss, beside the
//! in-process floor (a plain `HashSet`), JWT verification alone and the whole protected request.
//!
//! | group | what one iteration does |
//! |---|---|
//! | `reference/hashset/<size>/<hit\|miss>` | `HashSet<u128>::contains`: the in-process floor, no trait call, no lock |
//! | `is_revoked/<store>/<size>/<hit\|miss>` | the check through the trait, as the server calls it: `is_revoked_now` where the store answers without waiting (`naive:`, `hashmap:`, `compact:`), else `is_revoked` awaited |
//! | `verify/<hs256\|eddsa>` | decode + signature + claims check of one token |
//! | `request/<store>` | `GET /api/me` through the axum router (no socket), store at its largest size |
//!
//! Every in-process deny-list runs; `cutoff:` does not (its check is by user, not by token id,
//! so `is_revoked` answers a constant), and is printed among the skipped groups.
//!
//! Sizes are 1k, 100k and 1M live entries by default; `REVBENCH_BENCH_SIZES` picks others
//! among 1k, 100k, 1M and 10M (`REVBENCH_BENCH_SIZES=1M,10M`). Remote stores stop at 1M
//! (MongoDB at 100k), their fills taking minutes, unless `REVBENCH_BENCH_STORES` names them:
//! a store named there goes to every size asked (`redis+buckets://` takes about 8 minutes to
//! fill to 10M). `REVBENCH_BENCH_STORES` limits the stores opened and filled to those named
//! (`REVBENCH_BENCH_STORES=compact,hashmap`; the reference and `naive:` always run), where a
//! criterion filter would still fill every store. A hit asks for a revoked id drawn at random
//! from the whole store, a miss for one never revoked; each benchmark cycles through
//! [`PROBES`] such ids so the lookups reach memory the way real traffic does, rather than
//! hitting one hot cache line.
//!
//! Redis (`REDIS_URL`, default `redis://127.0.0.1:6379`; also as `redis+buckets://` and
//! `filter+redis://` on the same server), PostgreSQL (`POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`), Redis Cluster (`REDIS_CLUSTER_URL`, no
//! default; `scripts/redis-cluster.sh start` prints one) and MongoDB (`MONGODB_URL`, no default) run
//! when they answer, each in a key prefix, table or database of its own that is removed at the
//! end, or at Ctrl-C (the namespaces are removed, then the bench exits with 130); otherwise the
//! skipped groups are printed with the reason. At the end the ratios to `reference/hashset`
//! at the largest size run, measured in this run, are printed, and beside them the ratios to
//! `is_revoked/naive`: the same `HashSet<u128>` behind a `RwLock`, through the trait — the
//! reference on the path an in-process check takes (a trait call and a lock; a store that
//! must wait, on a network, pays a boxed future per call on top), so a store's own cost is
//! compared like with like.
//!
//! A `mongodb://` server that is not MongoDB itself (a wire-compatible server such as
//! `nx-27017`) is benchmarked as `mongo-wire-compatible`, so no id, saved estimate or report
//! built from them presents its latency as MongoDB's; the server is printed before and after.

use std::collections::HashSet;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use criterion::Criterion;
use rand::Rng;
use revbench::revocation::{self, EntryUnit, Jti, Scheme, ScratchStore, SharedStore, SCHEMES};
use revbench::server::{self, AppState, ServerConfig};
use revbench::time::{now_secs, UnixSeconds};
use revbench::token::TokenKeys;
use tokio::runtime::Runtime;
use tower::ServiceExt;

/// Store sizes `REVBENCH_BENCH_SIZES` may name, with the labels used in benchmark ids (10M
/// takes several GB of memory).
const SIZES: [(usize, &str); 4] =
    [(1_000, "1k"), (100_000, "100k"), (1_000_000, "1M"), (10_000_000, "10M")];
/// Sizes run when `REVBENCH_BENCH_SIZES` is not set.
const DEFAULT_SIZES: &str = "1k,100k,1M";
/// Largest size a remote store is filled to.
const REMOTE_MAX_SIZE: usize = 1_000_000;
/// MongoDB fills are slow (one upsert per id), and 100k already shows its shape.
const MONGO_MAX_SIZE: usize = 100_000;
/// Distinct ids each benchmark cycles through (a power of two, for a cheap index mask).
const PROBES: usize = 1 << 16;
/// Entries expire one to two hours from now: all live for the whole run.
const EXP_FROM_SECS: u64 = 3_600;
/// The reference through the trait: `HashSet<u128>` behind a `RwLock`, always run.
const TRAIT_REFERENCE: &str = "naive";

/// One store under measurement.
struct Subject {
    name: String,
    scratch: ScratchStore,
    max_size: usize,
    filled: usize,
}

impl Subject {
    fn store(&self) -> &SharedStore {
        &self.scratch.store
    }
}

fn main() {
    // One thread drives both the benchmark loop and the drivers' connection tasks, as one
    // client with one connection (`redis-benchmark -c 1`) does: on a multi-threaded runtime
    // every round trip would also pay two cross-thread wake-ups, which measure the scheduler.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let started = SystemTime::now();
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .without_plots()
        .configure_from_args();

    let sizes = bench_sizes();
    let (mut subjects, skipped, servers) = rt.block_on(open_subjects());
    remove_on_ctrl_c(subjects.iter().map(|s| (s.name.clone(), s.scratch.url.clone())).collect());
    print_skipped(&skipped);
    print_servers(&servers);

    let now = now_secs();
    let mut rng = rand::rng();
    let mut ids: Vec<(Jti, UnixSeconds)> = Vec::with_capacity(sizes[sizes.len() - 1].0);
    let mut reference: HashSet<u128> = HashSet::new();
    // A miss carries an `exp` in the range the revoked ids have, as a live token would.
    let misses: Vec<(Jti, UnixSeconds)> = (0..PROBES)
        .map(|i| (Jti::random(), now + EXP_FROM_SECS + i as u64 % EXP_FROM_SECS))
        .collect();

    for &(size, label) in &sizes {
        while ids.len() < size {
            let jti = Jti::random();
            ids.push((jti, now + EXP_FROM_SECS + (ids.len() as u64 % EXP_FROM_SECS)));
            reference.insert(jti.0);
        }
        let hits: Vec<(Jti, UnixSeconds)> =
            (0..PROBES).map(|_| ids[rng.random_range(0..size)]).collect();
        bench_reference(&mut criterion, label, &reference, &hits, &misses);
        for subject in subjects.iter_mut().filter(|s| size <= s.max_size) {
            rt.block_on(fill(subject, &ids[..size]));
            rt.block_on(check_answers(subject.store(), hits[0], misses[0]));
            bench_store(&mut criterion, &rt, subject, label, &hits, &misses);
        }
    }

    bench_verify(&mut criterion);
    bench_requests(&mut criterion, &rt, &subjects);

    let names: Vec<String> = subjects.iter().map(|s| s.name.clone()).collect();
    for subject in subjects {
        if let Err(e) = rt.block_on(subject.scratch.remove()) {
            eprintln!("cleanup of {} failed: {e}", subject.name);
        }
    }
    criterion.final_summary();
    print_skipped(&skipped);
    print_servers(&servers);
    print_ratios(started, sizes[sizes.len() - 1].1, &names);
}

/// The sizes `REVBENCH_BENCH_SIZES` names (default [`DEFAULT_SIZES`]), smallest first; an
/// unknown label stops the bench with the ones it knows.
fn bench_sizes() -> Vec<(usize, &'static str)> {
    let wanted = std::env::var("REVBENCH_BENCH_SIZES").unwrap_or(DEFAULT_SIZES.to_string());
    let labels: Vec<&str> = wanted.split(',').map(str::trim).filter(|l| !l.is_empty()).collect();
    let known: Vec<&str> = SIZES.iter().map(|&(_, label)| label).collect();
    if let Some(bad) = labels.iter().find(|l| !known.contains(l)) {
        eprintln!("REVBENCH_BENCH_SIZES: unknown size {bad:?}; known: {}", known.join(","));
        std::process::exit(2);
    }
    let sizes: Vec<(usize, &str)> =
        SIZES.iter().copied().filter(|(_, label)| labels.contains(label)).collect();
    if sizes.is_empty() {
        eprintln!("REVBENCH_BENCH_SIZES names no size; known: {}", known.join(","));
        std::process::exit(2);
    }
    sizes
}

/// Whether `REVBENCH_BENCH_STORES` (a comma-separated list of store names) lets `name` run;
/// the reference through the trait always runs.
fn store_wanted(name: &str) -> bool {
    name == TRAIT_REFERENCE || store_named(name).unwrap_or(true)
}

/// Whether `REVBENCH_BENCH_STORES` names `name`; `None` when it is not set.
fn store_named(name: &str) -> Option<bool> {
    let list = std::env::var("REVBENCH_BENCH_STORES").ok()?;
    Some(list.split(',').any(|wanted| wanted.trim() == name))
}

/// Every store that answers, the others' groups skipped and why, and which server answered
/// for each remote store.
async fn open_subjects() -> (Vec<Subject>, Vec<String>, Vec<String>) {
    let env_or = |var: &str, default: &str| std::env::var(var).unwrap_or(default.to_string());
    let (mut subjects, mut skipped, mut servers) = (Vec::new(), Vec::<String>::new(), Vec::new());
    // A per-user cut-off answers `is_revoked` with a constant (its check is by user and issue
    // time, `is_refused`): timing it would be timing nothing.
    let (by_user, in_process): (Vec<&Scheme>, Vec<&Scheme>) = SCHEMES
        .iter()
        .filter(|s| s.in_process())
        .partition(|s| s.profile.unit == EntryUnit::LoggedOutUser);
    for scheme in by_user {
        skipped.push(format!(
            "is_revoked/{name}/*, request/{name}: its check is per user, not per token id",
            name = scheme.name
        ));
    }
    let mut candidates: Vec<(&'static str, Option<String>, usize)> =
        in_process.iter().map(|s| (s.name, Some(s.example.to_string()), usize::MAX)).collect();
    candidates.extend([
        ("redis", Some(env_or("REDIS_URL", "redis://127.0.0.1:6379")), REMOTE_MAX_SIZE),
        (
            "redis-buckets",
            Some(env_or("REDIS_URL", "redis://127.0.0.1:6379").replacen(
                "redis",
                "redis+buckets",
                1,
            )),
            REMOTE_MAX_SIZE,
        ),
        (
            "filter-redis",
            Some(env_or("REDIS_URL", "redis://127.0.0.1:6379").replacen(
                "redis",
                "filter+redis",
                1,
            )),
            REMOTE_MAX_SIZE,
        ),
        (
            "postgres",
            Some(env_or("POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")),
            REMOTE_MAX_SIZE,
        ),
        ("redis-cluster", std::env::var("REDIS_CLUSTER_URL").ok(), REMOTE_MAX_SIZE),
        ("mongo", std::env::var("MONGODB_URL").ok(), MONGO_MAX_SIZE),
    ]);
    for (name, url, max_size) in candidates {
        let groups = format!("is_revoked/{name}/*, request/{name}");
        if !store_wanted(name) {
            skipped.push(format!("{groups}: not in REVBENCH_BENCH_STORES"));
            continue;
        }
        // A store asked for by name is filled to every size asked.
        let max_size = if store_named(name) == Some(true) { usize::MAX } else { max_size };
        let Some(url) = url else {
            let var = if name == "mongo" { "MONGODB_URL" } else { "REDIS_CLUSTER_URL" };
            skipped.push(format!("{groups}: {var} is not set"));
            continue;
        };
        match ScratchStore::open(&url, "bench").await {
            Ok(scratch) => {
                let caveat = scratch.store.server_caveat().await;
                // A stand-in's figures get ids of their own, never `mongo`'s.
                let name = match &caveat {
                    Some(_) => format!("{name}-wire-compatible"),
                    None => name.to_string(),
                };
                if let Some(version) = scratch.store.server_version().await {
                    let caveat = caveat.map(|c| format!(": {c}")).unwrap_or_default();
                    servers.push(format!("{name}: served by {version}{caveat}"));
                }
                subjects.push(Subject { name, scratch, max_size, filled: 0 });
            }
            Err(e) => skipped.push(format!("{groups}: {e}")),
        }
    }
    (subjects, skipped, servers)
}

/// At Ctrl-C, removes every namespace the bench made (a 1M-entry Redis prefix, a PostgreSQL
/// table, a MongoDB database), then exits with 130. The removal runs on the signal thread with
/// a runtime of its own: the bench's runtime may be inside a measurement loop.
fn remove_on_ctrl_c(namespaces: Vec<(String, String)>) {
    let handler = move || {
        eprintln!("interrupted: removing the bench's namespaces");
        match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(rt) => {
                for (name, url) in &namespaces {
                    let removed =
                        rt.block_on(async { revocation::open(url).await?.destroy().await });
                    if let Err(e) = removed {
                        eprintln!("cleanup of {name} failed: {e}");
                    }
                }
            }
            Err(e) => eprintln!("cleanup failed: no runtime: {e}"),
        }
        std::process::exit(130);
    };
    if let Err(e) = ctrlc::set_handler(handler) {
        eprintln!("warning: Ctrl-C will not remove the bench's namespaces: {e}");
    }
}

fn print_servers(servers: &[String]) {
    for line in servers {
        eprintln!("{line}");
    }
}

fn print_skipped(skipped: &[String]) {
    for line in skipped {
        eprintln!("skipped {line}");
    }
}

/// Adds `ids[subject.filled..]` to the store in batched writes.
async fn fill(subject: &mut Subject, ids: &[(Jti, UnixSeconds)]) {
    let started = Instant::now();
    let new = &ids[subject.filled..];
    revocation::fill(subject.store(), new.iter().copied()).await.expect("fill write");
    subject.filled = ids.len();
    eprintln!(
        "filled {} with {} entries (now {}) in {:.2} s",
        subject.name,
        new.len(),
        ids.len(),
        started.elapsed().as_secs_f64()
    );
}

/// Refuses to measure a store that answers wrongly: a broken fill would give a fast lie.
async fn check_answers(store: &SharedStore, hit: (Jti, UnixSeconds), miss: (Jti, UnixSeconds)) {
    let remembers = store.capabilities().remembers;
    assert_eq!(store.is_revoked(hit.0, hit.1).await.unwrap(), remembers, "{}: hit", store.name());
    assert!(!store.is_revoked(miss.0, miss.1).await.unwrap(), "{}: miss", store.name());
    for (jti, exp) in [hit, miss] {
        if let Some(now) = store.is_revoked_now(jti, exp) {
            assert_eq!(now, store.is_revoked(jti, exp).await.unwrap(), "{}: now", store.name());
        }
    }
}

fn bench_reference(
    c: &mut Criterion,
    label: &str,
    set: &HashSet<u128>,
    hits: &[(Jti, UnixSeconds)],
    misses: &[(Jti, UnixSeconds)],
) {
    let mut group = c.benchmark_group(format!("reference/hashset/{label}"));
    for (kind, probes) in [("hit", hits), ("miss", misses)] {
        group.bench_function(kind, |b| {
            let mut i = 0usize;
            b.iter(|| {
                i = i.wrapping_add(1);
                black_box(set.contains(&probes[i & (PROBES - 1)].0 .0))
            })
        });
    }
    group.finish();
}

fn bench_store(
    c: &mut Criterion,
    rt: &Runtime,
    subject: &Subject,
    label: &str,
    hits: &[(Jti, UnixSeconds)],
    misses: &[(Jti, UnixSeconds)],
) {
    let store: &dyn revbench::revocation::RevocationStore = &**subject.store();
    let mut group = c.benchmark_group(format!("is_revoked/{}/{label}", subject.name));
    for (kind, probes) in [("hit", hits), ("miss", misses)] {
        // As the server checks: without waiting where the store can answer so, else awaited.
        let now = store.is_revoked_now(probes[0].0, probes[0].1).is_some();
        group.bench_function(kind, |b| {
            let mut i = 0usize;
            if now {
                return b.iter(|| {
                    i = i.wrapping_add(1);
                    let (jti, exp) = probes[i & (PROBES - 1)];
                    black_box(store.is_revoked_now(jti, exp))
                });
            }
            b.to_async(rt).iter(|| {
                i = i.wrapping_add(1);
                let (jti, exp) = probes[i & (PROBES - 1)];
                async move { black_box(store.is_revoked(jti, exp).await.expect("is_revoked")) }
            })
        });
    }
    group.finish();
}

fn bench_verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify");
    let keys = [
        ("hs256", TokenKeys::hs256(b"a-benchmark-secret-of-at-least-32-bytes").unwrap()),
        ("eddsa", TokenKeys::eddsa_random()),
    ];
    for (name, keys) in keys {
        let (token, _) = keys.issue("bench-user", now_secs(), 3_600);
        let now = now_secs();
        keys.verify(&token, now).expect("a fresh token verifies");
        group.bench_function(name, |b| b.iter(|| black_box(keys.verify(&token, now).is_ok())));
    }
    group.finish();
}

/// The whole protected request with a valid, not revoked token (the common case).
fn bench_requests(c: &mut Criterion, rt: &Runtime, subjects: &[Subject]) {
    let keys = TokenKeys::hs256(b"a-benchmark-secret-of-at-least-32-bytes").unwrap();
    let (token, _) = keys.issue("bench-user", now_secs(), 3_600);
    let bearer = format!("Bearer {token}");
    let mut group = c.benchmark_group("request");
    for subject in subjects {
        let state = AppState::new(subject.store().clone(), keys.clone(), ServerConfig::default());
        let router = server::router(state);
        let request =
            || Request::get("/api/me").header(header::AUTHORIZATION, &bearer).body(Body::empty());
        let status = rt.block_on(router.clone().oneshot(request().unwrap())).unwrap().status();
        assert_eq!(status, StatusCode::OK, "{}: GET /api/me", subject.name);
        group.bench_function(&subject.name, |b| {
            b.to_async(rt).iter(|| {
                let (router, request) = (router.clone(), request().unwrap());
                async move { black_box(router.oneshot(request).await.unwrap().status()) }
            })
        });
    }
    group.finish();
}

/// Prints each store's medians at the largest size run (`label`) as ratios to
/// `reference/hashset/<label>` and to the reference through the trait, using only estimates
/// criterion wrote during this run (a filtered run leaves older ones on disk).
fn print_ratios(started: SystemTime, label: &str, stores: &[String]) {
    let dir = criterion_dir();
    let median = |group: String, function: &str| -> Option<f64> {
        let path = dir.join(group.replace('/', "_")).join(function).join("new/estimates.json");
        let fresh = std::fs::metadata(&path).ok()?.modified().ok()? >= started;
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
        fresh.then(|| json["median"]["point_estimate"].as_f64()).flatten()
    };
    let trait_reference = format!("is_revoked/{TRAIT_REFERENCE}/{label}");
    println!(
        "\nmedians at {label} entries, as ratios to reference/hashset/{label} and to \
         {trait_reference} (the same set through the trait, behind a lock; this run):"
    );
    for kind in ["hit", "miss"] {
        let Some(floor) = median(format!("reference/hashset/{label}"), kind) else { continue };
        println!("  reference/hashset/{label}/{kind}: {floor:.1} ns");
        let through_trait = median(trait_reference.clone(), kind);
        for store in stores {
            if let Some(ns) = median(format!("is_revoked/{store}/{label}"), kind) {
                let to_trait = through_trait
                    .map(|reference| format!(", {:.2}x {trait_reference}", ns / reference))
                    .unwrap_or_default();
                println!(
                    "  is_revoked/{store}/{label}/{kind}: {ns:.1} ns = {:.2}x{to_trait}",
                    ns / floor
                );
            }
        }
    }
}

/// Where criterion writes its results (its own rule: `CRITERION_HOME`, else the target dir).
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or("target".into(), PathBuf::from);
    target.join("criterion")
}
