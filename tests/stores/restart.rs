//! Revocations across a server restart: a new server process (new `AppState`, new store
//! handle, same signing key) on the same Redis prefix or PostgreSQL table refuses every
//! replay; in-process stores start empty and accept every replay.

use crate::common::backend::{scratch_or_skip, Backend};
use crate::common::{client, login, me, TestServer};
use revbench::revocation::open;

/// Tokens revoked by logout on the first server.
const REVOKED: usize = 5;

/// Revokes [`REVOKED`] tokens on a server over `url`, shuts it down, starts a new server over a
/// fresh `open(url)`, and replays them: returns how many the new server accepted.
pub(crate) async fn replays_accepted_after_restart(url: &str) -> usize {
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

/// Revocations in a shared backend survive a server restart: 0 of 5 replays accepted.
async fn survives_restart(backend: Backend) {
    let Some(scratch) = scratch_or_skip(backend, "restart").await else { return };
    let accepted = replays_accepted_after_restart(&scratch.url).await;
    scratch.remove().await.unwrap();
    assert_eq!(accepted, 0, "{}", backend.name());
}

/// Revocations in Redis survive a server restart: 0 of 5 replays accepted.
#[tokio::test]
async fn redis_revocations_survive_a_server_restart() {
    survives_restart(Backend::Redis).await;
}

/// Revocations in PostgreSQL survive a server restart: 0 of 5 replays accepted.
#[tokio::test]
async fn postgres_revocations_survive_a_server_restart() {
    survives_restart(Backend::Postgres).await;
}

/// Revocations in MongoDB survive a server restart: 0 of 5 replays accepted.
#[tokio::test]
async fn mongo_revocations_survive_a_server_restart() {
    survives_restart(Backend::Mongo).await;
}

/// In-process stores lose every revocation with the process: 5 of 5 replays accepted.
#[tokio::test]
async fn in_process_stores_lose_revocations_on_restart() {
    for url in ["naive:", "memory:"] {
        assert_eq!(replays_accepted_after_restart(url).await, REVOKED, "{url}");
    }
}
