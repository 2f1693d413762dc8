//! Revocations across a server restart: a new server process (new `AppState`, new store
//! handle, same signing key) on the same Redis prefix or PostgreSQL table refuses every
//! replay; in-process stores start empty and accept every replay.

mod common;

use common::{client, login, me, TestServer};
use revbench::revocation::{open, Jti};

/// Tokens revoked by logout on the first server.
const REVOKED: usize = 5;

/// Revokes [`REVOKED`] tokens on a server over `url`, shuts it down, starts a new server over a
/// fresh `open(url)`, and replays them: returns how many the new server accepted.
async fn replays_accepted_after_restart(url: &str) -> usize {
    let client = client();
    let first = TestServer::start(open(url).await.unwrap()).await;
    let mut revoked = Vec::new();
    for i in 0..REVOKED {
        let token = login(&client, &first, &format!("user{i}")).await;
        let logout = client.post(first.url("/logout")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(logout.status(), 204);
        assert_eq!(me(&client, &first, &token).await.0, 401, "revoked before the restart");
        revoked.push(token);
    }
    first.shutdown().await.unwrap();

    let second = TestServer::start(open(url).await.unwrap()).await;
    let mut accepted = 0;
    for token in &revoked {
        match me(&client, &second, token).await.0 {
            200 => accepted += 1,
            401 => {}
            other => panic!("{url}: replay after restart answered {other}"),
        }
    }
    second.state.store.clear().await.unwrap();
    accepted
}

fn required(variable: &str) -> bool {
    std::env::var(variable).is_ok_and(|v| v == "1")
}

/// Returns `url` if its store opens, else prints why and returns `None` (fails when required).
async fn reachable(url: String, required_by: &str) -> Option<String> {
    match open(&url).await {
        Ok(_) => Some(url),
        Err(e) if required(required_by) => panic!("{required_by}=1 but {e}"),
        Err(e) => {
            println!("skipped: {e}");
            None
        }
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}{}", &Jti::random().to_string()[..12])
}

/// Revocations in Redis survive a server restart: 0 of 5 replays accepted.
#[tokio::test]
async fn redis_revocations_survive_a_server_restart() {
    let base = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let url = format!("{base}/0?prefix={}:", unique("revbench-restart-"));
    let Some(url) = reachable(url, "REVBENCH_REQUIRE_REDIS").await else { return };
    assert_eq!(replays_accepted_after_restart(&url).await, 0);
}

/// Revocations in PostgreSQL survive a server restart: 0 of 5 replays accepted.
#[tokio::test]
async fn postgres_revocations_survive_a_server_restart() {
    let base = std::env::var("POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let table = unique("revbench_restart_");
    let url = format!("{base}?table={table}");
    let Some(url) = reachable(url, "REVBENCH_REQUIRE_POSTGRES").await else { return };
    let accepted = replays_accepted_after_restart(&url).await;
    drop_table(&base, &table).await;
    assert_eq!(accepted, 0);
}

/// In-process stores lose every revocation with the process: 5 of 5 replays accepted.
#[tokio::test]
async fn in_process_stores_lose_revocations_on_restart() {
    for url in ["naive:", "memory:"] {
        assert_eq!(replays_accepted_after_restart(url).await, REVOKED, "{url}");
    }
}

async fn drop_table(url: &str, table: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client.batch_execute(&format!("DROP TABLE IF EXISTS {table}")).await.unwrap();
}
