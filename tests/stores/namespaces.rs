//! User data beside every measurement command survives byte for byte, and the measurements
//! leave nothing behind: `footprint`, `run` and `growth` as a user runs them (the binary),
//! the benchmarks through the shared scratch store, and `run`/`growth` interrupted by Ctrl-C.
//!
//! Redis runs in a database of these tests' own (`REVBENCH_TEST_REDIS_DB`, default 11; other
//! tests share db 0), which must hold exactly the same keys, values and expiries afterwards.
//! PostgreSQL gets a user table of the test's own, named in the store URL as `table=`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::backend::{require_or_skip, Backend};
use crate::common::poll::poll_until;
use crate::common::run::RunArgs;
use revbench::revocation::{Jti, ScratchStore};

/// The tests share one Redis database and compare all of it: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Redis at `REDIS_URL`, in the tests' own database.
fn redis_db_url() -> String {
    let db = std::env::var("REVBENCH_TEST_REDIS_DB").unwrap_or_else(|_| "11".to_string());
    let mut url = url::Url::parse(&Backend::Redis.url().unwrap()).expect("REDIS_URL parses");
    url.set_path(&format!("/{db}"));
    url.to_string()
}

fn postgres_url() -> String {
    Backend::Postgres.url().unwrap()
}

/// Whether `backend` answers (skips, or fails under `REVBENCH_REQUIRE_*`, as `common` says).
async fn available(backend: Backend) -> bool {
    require_or_skip(backend).await.is_some()
}

/// Every key of the test database with its `DUMP` and whether it has an expiry.
type RedisSnapshot = BTreeMap<Vec<u8>, (Vec<u8>, bool)>;

async fn redis_conn() -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(redis_db_url()).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

async fn redis_snapshot() -> RedisSnapshot {
    use futures_util::TryStreamExt;
    use redis::AsyncCommands;
    let mut conn = redis_conn().await;
    let every_key = redis::ScanOptions::default().with_count(1000);
    let keys: Vec<Vec<u8>> =
        conn.scan_options(every_key).await.unwrap().try_collect().await.unwrap();
    let mut snapshot = BTreeMap::new();
    for key in keys {
        let dump: Option<Vec<u8>> =
            redis::cmd("DUMP").arg(&key).query_async(&mut conn).await.unwrap();
        let ttl: i64 = redis::cmd("PTTL").arg(&key).query_async(&mut conn).await.unwrap();
        if let Some(dump) = dump {
            snapshot.insert(key, (dump, ttl >= 0));
        }
    }
    snapshot
}

/// User keys a measurement must not touch: under the prefix the URL names, under revbench's
/// default prefix (a `revbench serve` of the user's) and under the old run prefix.
async fn seed_user_keys(tag: &str) -> Vec<String> {
    let mut conn = redis_conn().await;
    let keys = vec![
        format!("mine:important:{tag}"),
        format!("mine:{tag}:with-ttl"),
        format!("revbench:revoked:{tag}"),
        format!("revbench:run:{tag}"),
    ];
    for (i, key) in keys.iter().enumerate() {
        let mut set = redis::cmd("SET");
        set.arg(key).arg(format!("value {i} of {tag}"));
        if i == 1 {
            set.arg("EX").arg(3600);
        }
        set.query_async::<()>(&mut conn).await.unwrap();
    }
    keys
}

async fn delete_keys(keys: &[String]) {
    let mut conn = redis_conn().await;
    redis::cmd("DEL").arg(keys).query_async::<()>(&mut conn).await.unwrap();
}

async fn pg_client() -> tokio_postgres::Client {
    let (client, conn) =
        tokio_postgres::connect(&postgres_url(), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client
}

/// A user table in revbench's own shape (so a measurement could have used it), with rows.
async fn seed_user_table(client: &tokio_postgres::Client) -> String {
    let table = format!("keepme_{}", &Jti::random().to_string()[..10]);
    client
        .batch_execute(&format!(
            "CREATE TABLE {table} (jti bytea PRIMARY KEY, expires_at timestamptz NOT NULL);
             INSERT INTO {table} SELECT sha256(i::text::bytea), now() + interval '1 hour' * i
             FROM generate_series(1, 50) AS i;"
        ))
        .await
        .unwrap();
    table
}

/// The table's rows as text, in order: equal means byte for byte.
async fn table_rows(client: &tokio_postgres::Client, table: &str) -> Vec<String> {
    let sql =
        format!("SELECT encode(jti, 'hex') || ' ' || expires_at::text FROM {table} ORDER BY jti");
    client.query(&sql, &[]).await.unwrap().iter().map(|row| row.get(0)).collect()
}

async fn table_exists(client: &tokio_postgres::Client, table: &str) -> bool {
    let row = client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&table]).await.unwrap();
    row.get(0)
}

/// Tables named in `text` (as `table=NAME`) that start with `revbench_`.
fn namespaces_in(text: &str) -> Vec<String> {
    text.split("table=")
        .skip(1)
        .map(|rest| rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect())
        .filter(|t: &String| t.starts_with("revbench_"))
        .collect()
}

fn revbench(args: &[&str]) -> std::process::Output {
    let output = Command::new(env!("CARGO_BIN_EXE_revbench"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("revbench runs");
    assert!(
        output.status.success(),
        "revbench {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn out_dir(label: &str) -> PathBuf {
    std::env::temp_dir().join(format!("revbench-ns-{label}-{}", Jti::random()))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `footprint` pointed at a user's prefix and a user's table fills a namespace of its own
/// beneath them, and removes only that: every user key and row is as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn footprint_keeps_user_data() {
    let _serial = SERIAL.lock().await;
    let redis = redis_db_url();
    if available(Backend::Redis).await {
        let keys = seed_user_keys("footprint").await;
        let before = redis_snapshot().await;
        for url in [format!("{redis}?prefix=mine%3A"), redis.clone()] {
            let out = revbench(&["footprint", "--store", &url, "--entries", "2000", "--json"]);
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(json["entries"], 2000, "{json}");
            assert_eq!(redis_snapshot().await, before, "redis db changed by footprint {url}");
        }
        delete_keys(&keys).await;
    }
    if available(Backend::Postgres).await {
        let client = pg_client().await;
        let table = seed_user_table(&client).await;
        let rows = table_rows(&client, &table).await;
        let url = format!("{}?table={table}", postgres_url());
        let out = revbench(&["footprint", "--store", &url, "--entries", "2000", "--json"]);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(table_rows(&client, &table).await, rows, "user table changed");
        let scratch = namespaces_in(&text);
        assert_eq!(scratch.len(), 1, "{text}");
        assert!(!table_exists(&client, &scratch[0]).await, "{} left behind", scratch[0]);
        client.batch_execute(&format!("DROP TABLE {table}")).await.unwrap();
    }
}

/// A short `run` over Redis (in a user's prefix and without one) and PostgreSQL (naming a
/// user's table) leaves the Redis database with exactly the keys it held, and the user
/// table as it was, with the run's own table gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_keeps_user_data_and_leaves_nothing() {
    let _serial = SERIAL.lock().await;
    let redis = redis_db_url();
    let postgres = postgres_url();
    let (has_redis, has_postgres) =
        (available(Backend::Redis).await, available(Backend::Postgres).await);
    let client = if has_postgres { Some(pg_client().await) } else { None };
    let mut stores = vec!["memory:".to_string()];
    let keys = if has_redis { seed_user_keys("run").await } else { Vec::new() };
    if has_redis {
        stores.extend([format!("{redis}?prefix=mine%3A"), redis.clone()]);
    }
    let before = if has_redis { redis_snapshot().await } else { RedisSnapshot::new() };
    let mut user_table = None;
    if let Some(client) = &client {
        let table = seed_user_table(client).await;
        stores.push(format!("{postgres}?table={table}"));
        user_table = Some((table.clone(), table_rows(client, &table).await));
    }
    let out = out_dir("run");
    let stores = stores.join(",");
    revbench(&RunArgs::short(&out).stores(&stores).scenario("logout-replay").no_report().args());
    if has_redis {
        assert_eq!(redis_snapshot().await, before, "the run changed the redis database");
    }
    let results = read(&out.join("results.json"));
    if let (Some(client), Some((table, rows))) = (&client, user_table) {
        assert_eq!(table_rows(client, &table).await, rows, "user table changed");
        let scratch = namespaces_in(&results);
        assert_eq!(scratch.len(), 1, "{results}");
        assert!(!table_exists(client, &scratch[0]).await, "{} left behind", scratch[0]);
        client.batch_execute(&format!("DROP TABLE {table}")).await.unwrap();
    }
    if has_redis {
        delete_keys(&keys).await;
    }
}

/// A short `growth` over Redis and PostgreSQL counts only its own entries, and leaves the
/// Redis database with exactly the keys it held and the user table as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn growth_keeps_user_data_and_counts_its_own() {
    let _serial = SERIAL.lock().await;
    let redis = redis_db_url();
    let postgres = postgres_url();
    let (has_redis, has_postgres) =
        (available(Backend::Redis).await, available(Backend::Postgres).await);
    if !has_redis && !has_postgres {
        return;
    }
    let client = if has_postgres { Some(pg_client().await) } else { None };
    let keys = if has_redis { seed_user_keys("growth").await } else { Vec::new() };
    let mut stores = Vec::new();
    if has_redis {
        stores.push(format!("{redis}?prefix=mine%3A"));
    }
    let before = if has_redis { redis_snapshot().await } else { RedisSnapshot::new() };
    let mut user_table = None;
    if let Some(client) = &client {
        let table = seed_user_table(client).await;
        stores.push(format!("{postgres}?table={table}&cleanup_interval=1s"));
        user_table = Some((table.clone(), table_rows(client, &table).await));
    }
    let out = out_dir("growth");
    let stores = stores.join(",");
    let out_arg = out.display().to_string();
    revbench(&[
        "growth",
        "--stores",
        &stores,
        "--token-ttl",
        "2s",
        "--logout-rate",
        "50",
        "--check-rate",
        "20",
        "--duration",
        "3s",
        "--sample",
        "1s",
        "--prefill",
        "300",
        "--out",
        &out_arg,
        "--quiet",
    ]);
    if has_redis {
        assert_eq!(redis_snapshot().await, before, "growth changed the redis database");
    }
    let results = read(&out.join("results.json"));
    let json: serde_json::Value = serde_json::from_str(&results).unwrap();
    for series in json["series"].as_array().unwrap() {
        // Before the load the store holds the prefill exactly: none of the user's entries.
        assert_eq!(series["samples"][0]["entries"], 300, "{}: {series}", series["store"]);
    }
    if let (Some(client), Some((table, rows))) = (&client, user_table) {
        assert_eq!(table_rows(client, &table).await, rows, "user table changed");
        for scratch in namespaces_in(&results) {
            assert!(!table_exists(client, &scratch).await, "{scratch} left behind");
        }
        client.batch_execute(&format!("DROP TABLE {table}")).await.unwrap();
    }
    if has_redis {
        delete_keys(&keys).await;
    }
}

/// The benchmarks' scratch store, opened under a user's prefix and table, is filled and
/// removed without touching them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_scratch_keeps_user_data() {
    let _serial = SERIAL.lock().await;
    let mut urls = Vec::new();
    let redis = redis_db_url();
    let has_redis = available(Backend::Redis).await;
    let keys = if has_redis {
        urls.push(format!("{redis}?prefix=mine%3A"));
        urls.push(redis.clone());
        seed_user_keys("bench").await
    } else {
        Vec::new()
    };
    let before = if has_redis { redis_snapshot().await } else { RedisSnapshot::new() };
    let client = if available(Backend::Postgres).await { Some(pg_client().await) } else { None };
    let mut user_table = None;
    if let Some(client) = &client {
        let table = seed_user_table(client).await;
        urls.push(format!("{}?table={table}", postgres_url()));
        user_table = Some((table.clone(), table_rows(client, &table).await));
    }
    let exp = revbench::time::now_secs() + 600;
    for url in &urls {
        let scratch = ScratchStore::open(url, "bench").await.unwrap();
        let entries: Vec<_> = (0..500).map(|_| (Jti::random(), exp)).collect();
        scratch.store.revoke_many(&entries).await.unwrap();
        assert_eq!(scratch.store.stats().await.unwrap().entries, Some(500), "{url}");
        scratch.remove().await.unwrap();
    }
    if has_redis {
        assert_eq!(redis_snapshot().await, before, "the bench scratch changed the redis database");
    }
    if let (Some(client), Some((table, rows))) = (&client, user_table) {
        assert_eq!(table_rows(client, &table).await, rows, "user table changed");
        client.batch_execute(&format!("DROP TABLE {table}")).await.unwrap();
    }
    if has_redis {
        delete_keys(&keys).await;
    }
}

/// Spawns `revbench args…`, waits until the Redis database holds keys of its namespace,
/// sends it SIGINT (Ctrl-C) and returns its stderr once it has exited.
async fn interrupt_when_writing(args: &[&str], before: &RedisSnapshot) -> String {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_revbench"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let writing = async || (redis_snapshot().await.len() > before.len() + 10).then_some(());
    let (within, every) = (Duration::from_secs(30), Duration::from_millis(200));
    poll_until("keys written", within, every, writing).await.unwrap();
    let pid = child.id().unwrap() as libc::pid_t;
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let output = tokio::time::timeout(Duration::from_secs(30), async {
        let mut stderr = String::new();
        use tokio::io::AsyncReadExt;
        child.stderr.take().unwrap().read_to_string(&mut stderr).await.unwrap();
        (child.wait().await.unwrap(), stderr)
    })
    .await
    .expect("exits within 30 s of Ctrl-C");
    let (status, stderr) = output;
    assert!(!status.success(), "an interrupted command must not report success");
    assert!(stderr.contains("interrupted"), "{stderr}");
    stderr
}

/// Ctrl-C in the middle of `run` and of `growth` stops them, and they remove their
/// namespaces first: the Redis database holds exactly the keys it held before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_leaves_nothing() {
    let _serial = SERIAL.lock().await;
    let redis = redis_db_url();
    if !available(Backend::Redis).await {
        return;
    }
    let keys = seed_user_keys("ctrlc").await;
    let before = redis_snapshot().await;
    let store = format!("{redis}?prefix=mine%3A");
    let run = RunArgs::short(&out_dir("ctrlc-run")).stores(&store).scenario("steady");
    interrupt_when_writing(&run.duration("60s").no_report().args(), &before).await;
    assert_eq!(redis_snapshot().await, before, "an interrupted run left keys behind");
    let out = out_dir("ctrlc-growth").display().to_string();
    interrupt_when_writing(
        &[
            "growth",
            "--store",
            &store,
            "--token-ttl",
            "60s",
            "--logout-rate",
            "50",
            "--duration",
            "60s",
            "--sample",
            "1s",
            "--out",
            &out,
            "--quiet",
        ],
        &before,
    )
    .await;
    assert_eq!(redis_snapshot().await, before, "an interrupted growth left keys behind");
    delete_keys(&keys).await;
}
