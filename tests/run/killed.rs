//! A `revbench run` killed with SIGKILL in mid-measurement leaves no `revbench serve` running,
//! and `revbench clean` removes exactly the data it left.

use std::process::Stdio;
use std::time::Duration;

use crate::common::backend::{require_or_skip, Backend};
use crate::common::poll::poll_until;
use crate::common::run::RunArgs;

/// `revbench` with `args`, its output discarded, killed if the test ends first.
fn spawn_quiet(args: &RunArgs) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_revbench"))
        .args(args.args())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// Pids of the live processes whose parent is `parent`.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| stat_of(pid).is_some_and(|(state, ppid)| state != 'Z' && ppid == parent))
        .collect()
}

/// State and parent pid of `pid`, from `/proc/PID/stat`.
fn stat_of(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let state = fields.next()?.chars().next()?;
    Some((state, fields.next()?.parse().ok()?))
}

/// A process that exited but was not reaped yet (a zombie) counts as ended.
fn running(pid: u32) -> bool {
    stat_of(pid).is_some_and(|(state, _)| state != 'Z')
}

/// Is `pid` a `revbench serve`?
fn is_serve(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|cmdline| cmdline.split(|&b| b == 0).any(|arg| arg == b"serve"))
}

/// SIGKILL to a `revbench run` while it measures: its `revbench serve` replicas end by
/// themselves within seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_leaves_no_server_running() {
    let out = std::env::temp_dir().join(format!("revbench-killed-{}", std::process::id()));
    let args =
        RunArgs::short(&out).stores("memory:").scenario("replicas").duration("60s").no_report();
    let mut run = spawn_quiet(&args);
    let run_pid = run.id().unwrap();
    let every = Duration::from_millis(100);
    let servers = || children_of(run_pid).into_iter().filter(|&p| is_serve(p)).collect::<Vec<_>>();
    let started = async || (!servers().is_empty()).then_some(());
    poll_until("a replica", Duration::from_secs(20), every, started).await.unwrap();
    // In the measured window (after the warm-up), with load running.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let servers = servers();
    assert!(run.try_wait().unwrap().is_none(), "the run ended before it was killed");
    assert!(!servers.is_empty(), "no replica running when the run was killed");
    run.start_kill().unwrap();
    run.wait().await.unwrap();
    let killed = std::time::Instant::now();
    let gone = async || servers.iter().all(|&pid| !running(pid)).then_some(());
    let ended = poll_until("end of every replica", Duration::from_secs(10), every, gone).await;
    println!("{} replicas ended {:?} after the run was killed", servers.len(), killed.elapsed());
    let _ = std::fs::remove_dir_all(out);
    if ended.is_err() {
        for &pid in &servers {
            // SAFETY: a signal to a replica this test's run started (checked just above).
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }
    ended.unwrap();
}

/// Starts `revbench run` on `store` (logout-replay for 60 s), waits until `written` says its
/// namespace holds data, kills it with SIGKILL, and checks that its replicas end by
/// themselves.
async fn kill_when_written(store: &str, written: impl AsyncFn() -> bool) {
    let out =
        std::env::temp_dir().join(format!("revbench-killed-{}", revbench::jti::Jti::random()));
    let args = RunArgs::short(&out).stores(store).scenario("logout-replay").duration("60s");
    let mut run = spawn_quiet(&args.no_report());
    let check = async || written().await.then_some(());
    let every = Duration::from_millis(200);
    poll_until("data in the run's namespace", Duration::from_secs(30), every, check).await.unwrap();
    assert!(run.try_wait().unwrap().is_none(), "the run ended before it was killed");
    let servers: Vec<u32> =
        children_of(run.id().unwrap()).into_iter().filter(|&p| is_serve(p)).collect();
    run.start_kill().unwrap();
    run.wait().await.unwrap();
    let _ = std::fs::remove_dir_all(out);
    assert!(!servers.is_empty(), "no replica running when the run was killed");
    let gone = async || servers.iter().all(|&pid| !running(pid)).then_some(());
    poll_until("end of every replica", Duration::from_secs(10), every, gone).await.unwrap();
}

/// `revbench clean URL --older-than 0s`: its stdout, after checking it succeeded.
fn clean(url: &str) -> String {
    clean_with(url, &["--older-than", "0s"])
}

/// `revbench clean URL FLAGS…`: its stdout, after checking it succeeded.
fn clean_with(url: &str, flags: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_revbench"))
        .args(["clean", url])
        .args(flags)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

/// Every key under `prefix` with its value (`GET`; the user's keys here are strings).
async fn redis_dump(
    conn: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
) -> Vec<(String, Option<String>)> {
    let mut keys: Vec<String> = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .unwrap();
        keys.extend(batch);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    keys.sort();
    keys.dedup();
    let mut dump = Vec::new();
    for key in keys {
        let value: Option<String> =
            redis::cmd("GET").arg(&key).query_async(conn).await.unwrap_or(None);
        dump.push((key, value));
    }
    dump
}

/// A run killed with SIGKILL mid-measurement over Redis leaves its keys; `clean --older-than
/// 0s` under the parent prefix the run was given removes exactly them, and a user's keys
/// beside them are unchanged, key for key and value for value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_removes_exactly_what_a_killed_redis_run_left() {
    let Some(redis) = require_or_skip(Backend::Redis).await else { return };
    let mut db = url::Url::parse(&redis).unwrap();
    db.set_path("/11");
    let tag = revbench::jti::Jti::random().to_string()[..8].to_string();
    let (parent, user) = (format!("parent-{tag}:"), format!("user-{tag}:"));
    let mut conn =
        redis::Client::open(db.as_str()).unwrap().get_multiplexed_async_connection().await.unwrap();
    for i in 0..100 {
        // The user's keys: beside the run's parent, and one that looks like revbench's but
        // was not made by it (no time in its name).
        let _: () = redis::cmd("SET")
            .arg(format!("{user}{i}"))
            .arg(i)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    let fake = format!("{parent}revbench:run:notatag:x");
    let _: () = redis::cmd("SET").arg(&fake).arg("mine").query_async(&mut conn).await.unwrap();
    let user_before = redis_dump(&mut conn, &user).await;

    let store = format!("{}?prefix={}", db.as_str(), parent.replace(':', "%3A"));
    let ours = format!("{parent}revbench:run:");
    let probe = conn.clone();
    let runs_keys = async |conn: &mut redis::aio::MultiplexedConnection| {
        let dump = redis_dump(conn, &ours).await;
        dump.into_iter().filter(|(key, _)| key != &fake).collect::<Vec<_>>()
    };
    let written = async || !runs_keys(&mut probe.clone()).await.is_empty();
    kill_when_written(&store, written).await;
    let left = runs_keys(&mut conn).await;
    assert!(!left.is_empty(), "the killed run left no keys: nothing to clean");
    let namespaces: std::collections::BTreeSet<String> = left
        .iter()
        .map(|(key, _)| key.splitn(5, ':').take(4).collect::<Vec<_>>().join(":") + ":")
        .collect();

    // Younger than the default hour: kept. A dry run lists and removes nothing.
    let kept = clean_with(&store, &[]);
    let dry = clean_with(&store, &["--older-than", "0s", "--dry-run"]);
    for namespace in &namespaces {
        assert!(kept.contains(&format!("kept          {namespace}")), "{kept}");
        assert!(dry.contains(&format!("would remove  {namespace}")), "{dry}");
    }
    assert_eq!(runs_keys(&mut conn).await, left, "a dry run or a young namespace was touched");
    let output = clean(&store);
    for namespace in &namespaces {
        assert!(output.contains(&format!("removed       {namespace}")), "{output}");
    }
    assert_eq!(runs_keys(&mut conn).await, Vec::new(), "keys the run made are left");
    assert_eq!(redis_dump(&mut conn, &user).await, user_before, "the user's keys changed");
    let fake_value: Option<String> =
        redis::cmd("GET").arg(&fake).query_async(&mut conn).await.unwrap();
    assert_eq!(fake_value.as_deref(), Some("mine"), "a key revbench did not name was removed");
    let mut delete = redis::cmd("DEL");
    delete.arg(&fake);
    for (key, _) in &user_before {
        delete.arg(key);
    }
    let _: () = delete.query_async(&mut conn).await.unwrap();
}

/// A connection to `url` (no TLS: the test server's).
async fn postgres(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// The tables of the database's current schema.
async fn tables(client: &tokio_postgres::Client) -> Vec<String> {
    let query = "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() \
                 ORDER BY 1";
    client.query(query, &[]).await.unwrap().iter().map(|row| row.get(0)).collect()
}

/// The same over PostgreSQL, in a database of the test's own: the table the killed run left
/// is dropped, a user's table beside it (and one named like revbench's, without a time) keeps
/// every row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_removes_exactly_what_a_killed_postgres_run_left() {
    let Some(server) = require_or_skip(Backend::Postgres).await else { return };
    let name = format!("cleantest_{}", &revbench::jti::Jti::random().to_string()[..8]);
    let admin = postgres(&server).await;
    admin.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path(&format!("/{name}"));
    let db = postgres(url.as_str()).await;
    db.batch_execute(
        "CREATE TABLE user_keep (id int PRIMARY KEY, note text);
         INSERT INTO user_keep SELECT i, 'row ' || i FROM generate_series(1, 100) i;
         CREATE TABLE revbench_run_notatag (id int); INSERT INTO revbench_run_notatag VALUES (7);",
    )
    .await
    .unwrap();
    let rows = async |db: &tokio_postgres::Client, table: &str| -> Vec<String> {
        let query = format!("SELECT {table}::text FROM {table} ORDER BY 1");
        db.query(&query, &[]).await.unwrap().iter().map(|row| row.get(0)).collect()
    };
    let (user_before, fake_before) =
        (rows(&db, "user_keep").await, rows(&db, "revbench_run_notatag").await);
    let runs = async |db: &tokio_postgres::Client| {
        let all = tables(db).await;
        all.into_iter()
            .filter(|t| t.starts_with("revbench_run_") && t != "revbench_run_notatag")
            .collect::<Vec<_>>()
    };
    let written = async || !runs(&db).await.is_empty();
    kill_when_written(url.as_str(), written).await;
    let left = runs(&db).await;
    let output = clean(url.as_str());
    for table in &left {
        assert!(output.contains(&format!("removed       {table}")), "{output}");
    }
    let after = tables(&db).await;
    drop(db);
    let user_after = rows(&postgres(url.as_str()).await, "user_keep").await;
    let fake_after = rows(&postgres(url.as_str()).await, "revbench_run_notatag").await;
    admin.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)")).await.unwrap();
    assert!(!left.is_empty(), "the killed run left no table: nothing to clean");
    assert_eq!(after, ["revbench_run_notatag", "user_keep"], "{output}");
    assert_eq!((user_after, fake_after), (user_before, fake_before), "a user's table changed");
}

/// Every document of every collection of `database`, as extended JSON, sorted.
async fn mongo_dump(client: &mongodb::Client, database: &str) -> Vec<String> {
    use futures_util::TryStreamExt;
    let db = client.database(database);
    let mut dump = Vec::new();
    for collection in db.list_collection_names().await.unwrap() {
        let docs: Vec<mongodb::bson::Document> = db
            .collection(&collection)
            .find(mongodb::bson::doc! {})
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        dump.extend(docs.iter().map(|d| format!("{collection} {d}")));
    }
    dump.sort();
    dump
}

/// The same over MongoDB, under a database of the test's own (the parent: the run's database
/// is named after it): the database the killed run left is dropped; the parent database and
/// one named like revbench's without a time keep every document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_removes_exactly_what_a_killed_mongo_run_left() {
    let Some(server) = require_or_skip(Backend::Mongo).await else { return };
    let parent = format!("cleantest{}", &revbench::jti::Jti::random().to_string()[..8]);
    let fake = format!("{parent}_revbench_run_notatag");
    let client = mongodb::Client::with_uri_str(&server).await.unwrap();
    for database in [&parent, &fake] {
        let docs = (0..50).map(|i| mongodb::bson::doc! { "_id": i, "note": format!("doc {i}") });
        client.database(database).collection("keep").insert_many(docs).await.unwrap();
    }
    let before = (mongo_dump(&client, &parent).await, mongo_dump(&client, &fake).await);
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path(&format!("/{parent}"));
    let ours = format!("{parent}_revbench_run_");
    let runs = async || {
        let names = client.list_database_names().await.unwrap();
        names.into_iter().filter(|n| n.starts_with(&ours) && n != &fake).collect::<Vec<_>>()
    };
    let written = async || !runs().await.is_empty();
    kill_when_written(url.as_str(), written).await;
    let left = runs().await;
    let output = clean(url.as_str());
    for database in &left {
        assert!(output.contains(&format!("removed       {database}")), "{output}");
    }
    let (gone, after) =
        (runs().await, (mongo_dump(&client, &parent).await, mongo_dump(&client, &fake).await));
    for database in [&parent, &fake] {
        client.database(database).drop().await.unwrap();
    }
    assert!(!left.is_empty(), "the killed run left no database: nothing to clean");
    assert_eq!(gone, Vec::<String>::new(), "{output}");
    assert_eq!(after, before, "a user's database changed");
}
