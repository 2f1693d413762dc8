//! Short-lived access tokens with refresh-token rotation (`refresh+redis://`) over real HTTP
//! against the real Redis, each test in a key prefix of its own, removed at the end.

use std::time::Duration;

use crate::common::backend::{require_or_skip, server_addr, via, Backend};
use crate::common::poll::poll_until;
use crate::common::{client, me, Forwarder, TestServer};
use revbench::revocation::{namespaced, open, SharedStore};
use revbench::server::REFRESH_COOKIE;

/// `refresh+redis://` on the test Redis in a fresh key prefix with the given lifetimes query
/// (`access=2s&…`), or `None` (skipped, printed).
async fn refresh_url(lifetimes: &str) -> Option<String> {
    let redis = require_or_skip(Backend::Redis).await?;
    let sep = if redis.contains('?') { '&' } else { '?' };
    Some(namespaced(&format!("refresh+{redis}{sep}{lifetimes}"), "test_refresh").unwrap())
}

async fn refresh_store(lifetimes: &str) -> Option<SharedStore> {
    Some(open(&refresh_url(lifetimes).await?).await.unwrap())
}

/// An access token and its refresh token, from a 200 answer of `/login` or `/refresh`.
struct Pair {
    access: String,
    refresh: String,
    expires_in: u64,
}

async fn pair(response: reqwest::Response) -> Pair {
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    Pair {
        access: body["access_token"].as_str().unwrap().to_string(),
        refresh: body["refresh_token"].as_str().expect("a refresh token").to_string(),
        expires_in: body["expires_in"].as_u64().unwrap(),
    }
}

async fn login(http: &reqwest::Client, server: &TestServer, user: &str) -> Pair {
    let body = serde_json::json!({ "username": user });
    pair(http.post(server.url("/login")).json(&body).send().await.unwrap()).await
}

/// `POST /refresh` with the token in the body: the response.
async fn refresh(http: &reqwest::Client, server: &TestServer, token: &str) -> reqwest::Response {
    let body = serde_json::json!({ "refresh_token": token });
    http.post(server.url("/refresh")).json(&body).send().await.unwrap()
}

async fn logout(http: &reqwest::Client, server: &TestServer, token: &str) -> u16 {
    let response = http.post(server.url("/logout")).bearer_auth(token).send().await.unwrap();
    response.status().as_u16()
}

/// Rotation: the new pair works and the old refresh token is dead; presenting it again revokes
/// the whole family (the newest refresh token too), and the reuse is counted. `access=` sets
/// the access lifetime, and only the token's hash is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_and_reuse_detection() {
    let Some(url) = refresh_url("access=2s&refresh=1h").await else { return };
    let store = open(&url).await.unwrap();
    let server = TestServer::start(store.clone()).await;
    let http = client();
    let first = login(&http, &server, "alice").await;
    assert_eq!(first.expires_in, 2, "access= replaces the server's token lifetime");
    let second = pair(refresh(&http, &server, &first.refresh).await).await;
    assert_ne!(second.refresh, first.refresh);
    assert_eq!(me(&http, &server, &second.access).await.0, 200);

    let reused = refresh(&http, &server, &first.refresh).await;
    assert_eq!(reused.status(), 401, "a rotated token is dead");
    assert_eq!(refresh(&http, &server, &second.refresh).await.status(), 401, "family revoked");
    let counters = server.state.counters.snapshot();
    assert_eq!((counters.refreshes, counters.refresh_reuses), (1, 1), "{counters:?}");
    // login 2 + rotation 3 + reuse 1 (the family key deleted); the last two by /refresh.
    assert_eq!((counters.store_writes, counters.refresh_writes), (6, 4), "{counters:?}");
    // An unknown token is refused without revoking anything; a malformed request is a 400.
    let other = login(&http, &server, "bob").await;
    assert_eq!(refresh(&http, &server, &"0".repeat(64)).await.status(), 401);
    let bad = http.post(server.url("/refresh")).body("{\"token\":1}").send().await.unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(refresh(&http, &server, &other.refresh).await.status(), 200, "bob unaffected");

    // Every key the store wrote (under its own prefix only) and every value: no raw token.
    let stored = stored_under(&prefix_of(&url)).await;
    assert!(stored.len() >= 4, "the families and tokens are stored: {stored:?}");
    for raw in [&first.refresh, &second.refresh, &other.refresh] {
        assert!(stored.iter().all(|text| !text.contains(raw.as_str())), "a raw token was stored");
    }
    store.destroy().await.unwrap();
}

/// Logout revokes the family: its refresh token is refused. The access token is not checked,
/// so the logged-out copy keeps working until its `exp` (the strategy's replay window), then
/// is refused. The cookie works in place of the body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_kills_the_family_and_access_lives_until_exp() {
    let Some(store) = refresh_store("access=2s").await else { return };
    let server = TestServer::start(store.clone()).await;
    let http = client();
    let session = login(&http, &server, "carol").await;
    let by_cookie = http
        .post(server.url("/refresh"))
        .header("cookie", format!("{REFRESH_COOKIE}={}", session.refresh))
        .send()
        .await
        .unwrap();
    let session = pair(by_cookie).await;
    assert_eq!(logout(&http, &server, &session.access).await, 204);
    assert_eq!(refresh(&http, &server, &session.refresh).await.status(), 401, "family killed");
    // Issued with `exp` = whole second + 2: alive for at least 1 s more, dead within 2 s.
    let started = std::time::Instant::now();
    assert_eq!(me(&http, &server, &session.access).await.0, 200, "not checked after logout");
    // The window ends at the last 200 seen, not at the first refusal (up to a poll later).
    let mut window = Duration::ZERO;
    let refused = async || {
        let status = me(&http, &server, &session.access).await.0;
        if status == 200 {
            window = started.elapsed();
        }
        (status != 200).then_some(())
    };
    let every = Duration::from_millis(20);
    poll_until("refusal", Duration::from_secs(3), every, refused).await.expect("dead after exp");
    assert_eq!(me(&http, &server, &session.access).await.0, 401, "dead after exp");
    assert!(window <= Duration::from_secs(2), "replay window {window:?} > access lifetime");
    store.destroy().await.unwrap();
}

/// Concurrent refreshes of one token: exactly one wins; the others are reuses of a token that
/// just died, so the family is revoked and the winner's new refresh token is refused too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refresh_of_one_token_has_one_winner() {
    let Some(store) = refresh_store("refresh=1h").await else { return };
    let server = TestServer::start(store.clone()).await;
    let http = client();
    for round in 0..5 {
        let session = login(&http, &server, &format!("racer-{round}")).await;
        let racers = (0..8).map(|_| refresh(&http, &server, &session.refresh));
        let answers = futures_util::future::join_all(racers).await;
        let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 7, "{statuses:?}");
        let winner = answers.into_iter().find(|r| r.status() == 200).unwrap();
        let winner = pair(winner).await;
        assert_eq!(refresh(&http, &server, &winner.refresh).await.status(), 401);
        assert_eq!(me(&http, &server, &winner.access).await.0, 200, "access lives until exp");
    }
    store.destroy().await.unwrap();
}

/// With Redis unreachable: refresh and login fail closed (503), access tokens already issued
/// keep working (no check touches the store). A strategy without refresh tokens answers 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_down_fails_refresh_closed_and_access_keeps_working() {
    let Some(direct) = refresh_url("access=60s").await else { return };
    let mut forwarder = Forwarder::start(server_addr(&direct)).await.unwrap();
    let store = open(&via(&direct, forwarder.addr)).await.unwrap();
    let server = TestServer::start(store.clone()).await;
    let http = client();
    let session = login(&http, &server, "dave").await;
    forwarder.cut().await;
    assert_eq!(refresh(&http, &server, &session.refresh).await.status(), 503);
    let body = serde_json::json!({ "username": "erin" });
    let refused = http.post(server.url("/login")).json(&body).send().await.unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(me(&http, &server, &session.access).await.0, 200);
    forwarder.restore().await.unwrap();
    open(&direct).await.unwrap().destroy().await.unwrap();

    let plain = TestServer::start(open("memory:").await.unwrap()).await;
    assert_eq!(refresh(&http, &plain, &session.refresh).await.status(), 400);
}

/// The `prefix=` of a store URL.
fn prefix_of(url: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    url.query_pairs().find(|(k, _)| k == "prefix").map(|(_, v)| v.into_owned()).unwrap()
}

/// Each key under `prefix` and each of its values (strings and hash fields), as text.
async fn stored_under(prefix: &str) -> Vec<String> {
    use futures_util::TryStreamExt;
    use redis::AsyncCommands;
    let mut redis = redis_connection().await;
    let keys: Vec<String> = redis
        .scan_match::<_, String>(format!("{prefix}*"))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let mut texts = keys.clone();
    for key in &keys {
        let kind: String = redis::cmd("TYPE").arg(key).query_async(&mut redis).await.unwrap();
        let values: Vec<String> = match kind.as_str() {
            "string" => vec![redis.get(key).await.unwrap()],
            "hash" => redis.hgetall(key).await.unwrap(),
            other => panic!("{key}: a {other} key; this test reads strings and hashes"),
        };
        texts.extend(values);
    }
    texts
}

async fn redis_connection() -> redis::aio::MultiplexedConnection {
    let url = Backend::Redis.url().unwrap();
    let client = redis::Client::open(url.as_str()).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}
