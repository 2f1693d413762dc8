//! The reference server over real HTTP on loopback: the replay loophole and its fix, fail
//! closed on a dead store, and JSON errors for bad input.

use std::time::Duration;

use crate::common;
use crate::common::backend::{require_or_skip, scratch_or_skip, server_addr, via, Backend};
use crate::common::poll::poll_until;
use crate::common::{client, login, me, Forwarder, TestServer};
use revbench::revocation::{open, ScratchStore, SharedStore};
use revbench::server::{ServerConfig, StatsResponse};
use revbench::time::now_secs;
use revbench::token::{Claims, TokenKeys};

/// Redis in a fresh namespace, reached through `through` (a forwarder) when given; `None`
/// (printing why) when it is not running and not required.
async fn redis_store(through: Option<std::net::SocketAddr>) -> Option<SharedStore> {
    let url = require_or_skip(Backend::Redis).await?;
    let url = through.map_or(url.clone(), |addr| via(&url, addr));
    Some(ScratchStore::open(&url, "server").await.unwrap().store)
}

fn redis_target() -> std::net::SocketAddr {
    server_addr(&Backend::Redis.url().unwrap())
}

/// Waits until `token` gets 200 again from `server`, whose store is back, asserting that every
/// answer meanwhile is 503; panics after `within`.
async fn recovers_within(
    within: Duration,
    client: &reqwest::Client,
    server: &TestServer,
    token: &str,
) {
    let recovered = async || match me(client, server, token).await.0 {
        200 => Some(()),
        status => {
            assert_eq!(status, 503, "only 503 while recovering");
            None
        }
    };
    poll_until("recovery", within, Duration::from_millis(100), recovered).await.unwrap();
}

/// Login, copy the token, logout, replay the copy: what each store answers to the replay.
async fn replay_status(store: SharedStore) -> u16 {
    let server = TestServer::start(store).await;
    let client = client();
    let token = login(&client, &server, "alice").await;
    assert_eq!(me(&client, &server, &token).await.0, 200);
    let logout = client.post(server.url("/logout")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(logout.status(), 204);
    let cookie = logout.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("token=;") && cookie.contains("Max-Age=0"), "{cookie}");
    let (status, body) = me(&client, &server, &token).await;
    if status == 401 {
        assert_eq!(body["error"], "token has been revoked");
    }
    status
}

/// With `none:` the copied token still works after logout: the loophole, asserted.
#[tokio::test]
async fn none_accepts_replay_after_logout() {
    assert_eq!(replay_status(open("none:").await.unwrap()).await, 200);
}

/// naive, memory and redis refuse the copied token after logout.
#[tokio::test]
async fn revocation_stores_refuse_replay_after_logout() {
    for url in ["naive:", "memory:"] {
        assert_eq!(replay_status(open(url).await.unwrap()).await, 401, "{url}");
    }
    if let Some(store) = redis_store(None).await {
        assert_eq!(replay_status(store.clone()).await, 401, "redis");
        store.clear().await.unwrap();
    }
}

/// Login sets an HttpOnly, SameSite=Strict cookie that authenticates on its own.
#[tokio::test]
async fn login_cookie_authenticates() {
    let server = TestServer::start(open("memory:").await.unwrap()).await;
    let response = client()
        .post(server.url("/login"))
        .json(&serde_json::json!({ "username": "bob" }))
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "{cookie}");
    let token = cookie.trim_start_matches("token=").split(';').next().unwrap();
    let me = client()
        .get(server.url("/api/me"))
        .header("cookie", format!("token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let body: serde_json::Value = me.json().await.unwrap();
    assert_eq!(body["sub"], "bob");
}

/// `/revoke` (RFC 7009 style) revokes a token; an invalid one is answered 200 and changes nothing.
#[tokio::test]
async fn revoke_endpoint() {
    let server = TestServer::start(open("memory:").await.unwrap()).await;
    let client = client();
    let token = login(&client, &server, "carol").await;
    let status = |form: &'static [(&str, &str)]| {
        let request = client.post(server.url("/revoke")).form(form);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(&[("token", "not-a-token")]).await, 200);
    assert_eq!(status(&[("other", "x")]).await, 400);
    let revoked =
        client.post(server.url("/revoke")).form(&[("token", &token)]).send().await.unwrap();
    assert_eq!(revoked.status(), 200);
    assert_eq!(me(&client, &server, &token).await.0, 401);
    let stats: StatsResponse = crate::common::stats(&client, &server).await;
    assert_eq!(stats.counters.revoked_hits, 1);
    assert_eq!(stats.stats.entries, Some(1));
}

/// Malformed, forged, `alg: none`, expired and oversized tokens get 401 with a JSON error.
#[tokio::test]
async fn bad_tokens_get_401_json() {
    let server = TestServer::start(open("memory:").await.unwrap()).await;
    let client = client();
    let good = login(&client, &server, "dave").await;
    let now = now_secs();
    let forged = TokenKeys::hs256(&[9u8; 32]).unwrap().issue("dave", now, 60).0;
    let claims = |exp| Claims { sub: "dave".into(), jti: "0".repeat(32), iat: now - 100, exp };
    let expired = server.keys.sign(&claims(now - 1));
    let b64 = |s: &str| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    };
    let payload = b64(&serde_json::to_string(&claims(now + 600)).unwrap());
    let alg_none = format!("{}.{payload}.", b64(r#"{"alg":"none","typ":"JWT"}"#));
    let mut flipped = good.clone().into_bytes();
    let last = flipped.len() - 2;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let oversized = format!("{good}{}", "A".repeat(5000));
    let cases = [
        ("garbage", "garbage".to_string()),
        ("two segments", "abc.def".to_string()),
        ("forged", forged),
        ("alg none", alg_none),
        ("expired", expired),
        ("flipped signature", flipped),
        ("oversized", oversized),
    ];
    for (name, token) in cases {
        let (status, body) = me(&client, &server, &token).await;
        assert_eq!(status, 401, "{name}");
        assert!(body["error"].is_string(), "{name}: {body}");
    }
    let no_token = client.get(server.url("/api/me")).send().await.unwrap();
    assert_eq!(no_token.status(), 401);
    assert_eq!(me(&client, &server, &good).await.0, 200, "server still serves");
}

/// Bad login bodies are refused with 4xx and a JSON error.
#[tokio::test]
async fn bad_login_bodies_get_4xx_json() {
    let server = TestServer::start(open("none:").await.unwrap()).await;
    let client = client();
    let cases: [(&str, &str, u16); 4] = [
        ("application/json", "{not json", 400),
        ("application/json", r#"{"username": ""}"#, 400),
        ("application/json", r#"{"name": "x"}"#, 422),
        ("text/plain", r#"{"username": "x"}"#, 415),
    ];
    for (content_type, body, expected) in cases {
        let response = client
            .post(server.url("/login"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), expected, "{body}");
        let json: serde_json::Value = response.json().await.unwrap();
        assert!(json["error"].is_string(), "{json}");
    }
}

/// A Redis that stops answering gives 503 (never 200), `/healthz` says so, the failures are
/// counted, and the server recovers by itself when Redis is back.
#[tokio::test]
async fn dead_store_fails_closed_and_recovers() {
    let mut forwarder = Forwarder::start(redis_target()).await.unwrap();
    let Some(store) = redis_store(Some(forwarder.addr)).await else { return };
    let server = TestServer::start(store).await;
    let client = client();
    let live = login(&client, &server, "erin").await;
    let revoked = login(&client, &server, "erin").await;
    let logout = client.post(server.url("/logout")).bearer_auth(&revoked).send().await.unwrap();
    assert_eq!(logout.status(), 204);

    forwarder.cut().await;
    for token in [&live, &revoked, &live] {
        let (status, body) = me(&client, &server, token).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["error"], "revocation store unavailable", "no detail reaches the client");
    }
    let health = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 503);
    let stats: StatsResponse = crate::common::stats(&client, &server).await;
    assert!(stats.counters.store_errors >= 3, "{stats:?}");
    assert_eq!(stats.counters.fail_open_passes, 0);

    forwarder.restore().await.unwrap();
    recovers_within(Duration::from_secs(5), &client, &server, &live).await;
    assert_eq!(me(&client, &server, &revoked).await.0, 401, "revocation survived the outage");
    server.state.store.clear().await.unwrap();
}

/// With fail-open, a dead store lets requests through and counts each one.
#[tokio::test]
async fn fail_open_passes_are_counted() {
    let mut forwarder = Forwarder::start(redis_target()).await.unwrap();
    let Some(store) = redis_store(Some(forwarder.addr)).await else { return };
    let config = ServerConfig { fail_open: true, ..ServerConfig::default() };
    let server = TestServer::start_with(store, config).await;
    let client = client();
    let token = login(&client, &server, "frank").await;
    forwarder.cut().await;
    for _ in 0..3 {
        assert_eq!(me(&client, &server, &token).await.0, 200);
    }
    let stats: StatsResponse = crate::common::stats(&client, &server).await;
    assert_eq!(stats.counters.fail_open_passes, 3, "{stats:?}");
    assert_eq!(stats.counters.store_errors, 3, "{stats:?}");
}

/// A logout counts one store write where the strategy keeps something, none with `none:`
/// (the report's "store writes per user per hour" must not show writes that never happened).
#[tokio::test]
async fn logout_counts_the_writes_it_makes() {
    for (url, writes) in [("none:", 0), ("memory:", 1), ("cutoff:", 1)] {
        let server = TestServer::start(open(url).await.unwrap()).await;
        let client = client();
        let token = login(&client, &server, "grace").await;
        let logout = client.post(server.url("/logout")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(logout.status(), 204, "{url}");
        let stats: StatsResponse = crate::common::stats(&client, &server).await;
        assert_eq!(stats.counters.store_writes, writes, "{url}: {stats:?}");
    }
}

/// The server counts every request it answers on its routes — refusals, unknown paths and
/// oversized heads included — and not its own `/stats` and `/healthz`, so that a measurement
/// can set its tallies against the server's; each process has an instance id of its own.
#[tokio::test]
async fn stats_count_the_requests_answered() {
    let server = TestServer::start(open("hashmap:").await.unwrap()).await;
    let other = TestServer::start(open("hashmap:").await.unwrap()).await;
    let client = client();
    let stats = async |server: &TestServer| -> StatsResponse {
        crate::common::stats(&client, server).await
    };
    assert_eq!(stats(&server).await.counters.requests, 0, "reading /stats is not counted");
    let token = login(&client, &server, "heidi").await;
    assert_eq!(me(&client, &server, &token).await.0, 200);
    assert_eq!(me(&client, &server, "not-a-token").await.0, 401);
    let logout = client.post(server.url("/logout")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(logout.status(), 204);
    assert_eq!(me(&client, &server, &token).await.0, 401, "the replay");
    let missing = client.get(server.url("/nowhere")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let huge = "x".repeat(revbench::server::MAX_HEADER_BYTES + 1);
    let refused = client.get(server.url("/api/me")).header("x-big", huge).send().await.unwrap();
    assert_eq!(refused.status(), 431);
    client.get(server.url("/healthz")).send().await.unwrap();
    let counted = stats(&server).await;
    assert_eq!(counted.counters.requests, 7, "{counted:?}");
    assert_eq!(counted.sync_timeouts, None, "only stores that push revocations report them");
    assert_eq!(counted.queue_overflows, None, "only stores that queue writes report them");
    let (a, b) = (counted.instance.unwrap(), stats(&other).await.instance.unwrap());
    assert!(a.len() >= 8 && a != b, "{a} {b}");
}

/// Shutdown completes and the server returns cleanly.
#[tokio::test]
async fn graceful_shutdown_returns_ok() {
    let server = TestServer::start(open("memory:").await.unwrap()).await;
    let health = client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    tokio::time::timeout(Duration::from_secs(5), server.shutdown()).await.unwrap().unwrap();
}

/// MongoDB (or the wire-compatible server at `MONGODB_URL`) refuses the copied token after
/// logout, like every other revocation store.
#[tokio::test]
async fn mongo_refuses_replay_after_logout() {
    let Some(db) = scratch_or_skip(Backend::Mongo, "server_replay").await else { return };
    assert_eq!(replay_status(db.store.clone()).await, 401, "mongodb");
    db.remove().await.unwrap();
}

/// A MongoDB server that stops answering (blackholed: connections stay open, no byte comes
/// back) gives a store error within the operation bound, so the server answers 503 — never
/// 200 for a revoked token — and recovers by itself when the server answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blackholed_mongo_fails_closed_within_the_bound() {
    use revbench::revocation::{Jti, MongoStore, RevocationStore};
    let Some(db) = scratch_or_skip(Backend::Mongo, "blackhole").await else { return };
    let proxy = common::stall::StallingProxy::start(server_addr(&db.url)).await;
    let store = std::sync::Arc::new(MongoStore::connect(&via(&db.url, proxy.addr)).await.unwrap());
    let server = TestServer::start(store.clone()).await;
    let client = client();
    let live = login(&client, &server, "grace").await;
    let revoked = login(&client, &server, "grace").await;
    let logout = client.post(server.url("/logout")).bearer_auth(&revoked).send().await.unwrap();
    assert_eq!(logout.status(), 204);

    proxy.stall();
    let bound = revbench::revocation::MONGO_OPERATION_TIMEOUT;
    let started = tokio::time::Instant::now();
    let err = store
        .is_revoked(Jti::random(), revbench::time::now_secs() + 60)
        .await
        .expect_err("a silent server is an error");
    let took = started.elapsed();
    println!("blackholed check: store error after {took:?} (bound {bound:?}): {err}");
    assert!(took >= bound && took < bound + Duration::from_millis(500), "{took:?}");
    for token in [&revoked, &live] {
        let started = tokio::time::Instant::now();
        let (status, body) = me(&client, &server, token).await;
        println!("blackholed GET /api/me: {status} after {:?}", started.elapsed());
        assert_eq!(status, 503, "{body}");
        assert!(started.elapsed() < bound + Duration::from_millis(500));
    }

    proxy.resume();
    recovers_within(Duration::from_secs(10), &client, &server, &live).await;
    assert_eq!(me(&client, &server, &revoked).await.0, 401, "revocation survived the stall");
    db.remove().await.unwrap();
}
