//! The server under abuse: slow and silent clients holding connections, a store whose errors
//! carry details, a flood of invalid tokens at `/revoke`. Everything on loopback, bounded in
//! count and time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{client, login, me, TestServer};
use async_trait::async_trait;
use revbench::revocation::{
    Capabilities, Jti, MemoryStore, RevocationStore, SharedStore, StoreError, StoreStats,
};
use revbench::server::{ServerConfig, StatsResponse};
use revbench::time::UnixSeconds;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A header-read timeout short enough for a test.
const HEADER_TIMEOUT: Duration = Duration::from_millis(800);

fn limited(max_connections: usize) -> ServerConfig {
    ServerConfig { max_connections, header_read_timeout: HEADER_TIMEOUT, ..ServerConfig::default() }
}

/// Opens a connection that sends a request head one header line every 100 ms and never
/// finishes it, for at most `lasting`; returns when the server closed it (or `lasting` ran out)
/// with how long it was held.
async fn slow_client(addr: String, lasting: Duration) -> Duration {
    let started = Instant::now();
    let Ok(mut stream) = TcpStream::connect(&addr).await else { return started.elapsed() };
    let _ = stream.write_all(b"GET /api/me HTTP/1.1\r\nhost: x\r\n").await;
    let mut buf = [0u8; 256];
    while started.elapsed() < lasting {
        if stream.write_all(b"x-slow: 1\r\n").await.is_err() {
            break;
        }
        // A read that returns (EOF or an error) means the server closed the connection.
        match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await {
            Ok(_) => break,
            Err(_) => continue,
        }
    }
    started.elapsed()
}

fn addr(server: &TestServer) -> String {
    server.base.trim_start_matches("http://").to_string()
}

/// With 40 slow clients trickling headers (under the connection limit), other clients are
/// served at once, and each slow client is cut off at the header-read timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_do_not_hold_the_server() {
    let server = TestServer::start_with(Arc::new(MemoryStore::new()), limited(64)).await;
    let slow: Vec<_> = (0..40)
        .map(|_| tokio::spawn(slow_client(addr(&server), Duration::from_secs(10))))
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let client = client();
    let token = login(&client, &server, "patient").await;
    for _ in 0..20 {
        let started = Instant::now();
        assert_eq!(me(&client, &server, &token).await.0, 200);
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    }
    for held in slow {
        let held = held.await.unwrap();
        assert!(held >= HEADER_TIMEOUT / 2, "cut too early: {held:?}");
        assert!(held < HEADER_TIMEOUT * 3, "held {held:?}, past the header-read timeout");
    }
}

/// With more slow clients than connection slots, the slots free at the header-read timeout
/// and a client queued behind every slow one is still served, within a bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_over_the_limit_only_delay_others() {
    let server = TestServer::start_with(Arc::new(MemoryStore::new()), limited(8)).await;
    let client = client();
    let token = login(&client, &server, "patient").await;
    let slow: Vec<_> = (0..24)
        .map(|_| tokio::spawn(slow_client(addr(&server), Duration::from_secs(15))))
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A fresh connection: it waits in the backlog behind the slow ones.
    let fresh = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let started = Instant::now();
    let (status, body) = me(&fresh, &server, &token).await;
    let waited = started.elapsed();
    assert_eq!(status, 200, "{body}");
    // 24 slow clients, 8 slots, cut at the timeout: three rounds of slots at worst.
    assert!(waited < HEADER_TIMEOUT * 6, "served after {waited:?}");
    for held in slow {
        held.await.unwrap();
    }
}

/// A client that connects and says nothing is closed at the header-read timeout too.
#[tokio::test]
async fn silent_clients_are_closed() {
    let server = TestServer::start_with(Arc::new(MemoryStore::new()), limited(8)).await;
    let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(HEADER_TIMEOUT * 4, stream.read(&mut buf)).await;
    assert!(read.is_ok(), "still open after {:?}", started.elapsed());
    assert!(started.elapsed() >= HEADER_TIMEOUT / 2, "closed too early");
}

/// A store that always fails, with details in its error that clients must not see.
struct FailingStore;

const DETAIL: &str = "connection to 10.1.2.3:6379 refused (user admin, db 7)";

#[async_trait]
impl RevocationStore for FailingStore {
    fn name(&self) -> &'static str {
        "failing"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities { remembers: true, expires: true, shared: true }
    }
    async fn revoke(&self, _: Jti, _: UnixSeconds) -> Result<(), StoreError> {
        Err(StoreError::Backend { backend: "failing", message: DETAIL.into() })
    }
    async fn is_revoked(&self, _: Jti, _: UnixSeconds) -> Result<bool, StoreError> {
        Err(StoreError::Backend { backend: "failing", message: DETAIL.into() })
    }
    async fn stats(&self) -> Result<StoreStats, StoreError> {
        Ok(StoreStats::default())
    }
    async fn health(&self) -> Result<(), StoreError> {
        Err(StoreError::Backend { backend: "failing", message: DETAIL.into() })
    }
    async fn clear(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// 5xx bodies say what failed and nothing more: no backend message reaches a client.
#[tokio::test]
async fn server_errors_name_no_details() {
    let store: SharedStore = Arc::new(FailingStore);
    let server = TestServer::start(store).await;
    let client = client();
    let token = login(&client, &server, "mallory").await;
    let (status, body) = me(&client, &server, &token).await;
    assert_eq!(status, 503);
    assert_eq!(body, serde_json::json!({ "error": "revocation store unavailable" }));
    let logout = client.post(server.url("/logout")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(logout.status(), 503);
    let text = logout.text().await.unwrap();
    let health = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 503);
    let health = health.text().await.unwrap();
    for body in [body.to_string(), text, health] {
        assert!(!body.contains("10.1.2.3") && !body.contains("admin"), "{body}");
    }
}

/// A flood of invalid tokens at `/revoke` is answered 200 each time and every one is
/// counted (the log gets a few lines a second, see `server::log_limit`).
#[tokio::test]
async fn invalid_revoke_tokens_are_counted() {
    let server = TestServer::start(Arc::new(MemoryStore::new())).await;
    let client = client();
    for i in 0..300 {
        let response = client
            .post(server.url("/revoke"))
            .form(&[("token", format!("not.a.token{i}"))])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let stats: StatsResponse =
        client.get(server.url("/stats")).send().await.unwrap().json().await.unwrap();
    assert_eq!(stats.counters.invalid_revoke_tokens, 300);
}
