//! The server under abuse: slow and silent clients holding connections, a store whose errors
//! carry details, a flood of invalid tokens at `/revoke`. Everything on loopback, bounded in
//! count and time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{client, login, me, TestServer, TEST_ADMIN_TOKEN};
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
        Err(StoreError::Backend { backend: "failing", message: DETAIL.into() })
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
    let stats = client.get(server.url("/stats?store=1")).bearer_auth(TEST_ADMIN_TOKEN);
    let stats = stats.send().await.unwrap().text().await.unwrap();
    let parsed: StatsResponse = serde_json::from_str(&stats).unwrap();
    assert_eq!(parsed.stats_error.as_deref(), Some("store stats unavailable"), "{stats}");
    for body in [body.to_string(), text, health, stats] {
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
    let stats: StatsResponse = crate::common::stats(&client, &server).await;
    assert_eq!(stats.counters.invalid_revoke_tokens, 300);
}

/// A `POST /login` head announcing 100,000 body bytes.
const TRICKLED_HEAD: &[u8] = b"POST /login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n";

/// Sends [`TRICKLED_HEAD`], then one body byte every 2 s; returns how long after the head the
/// server closed the connection (`None`: still open after `lasting`) and whether it answered
/// 408 first.
async fn trickling_client(addr: String, lasting: Duration) -> (Option<Duration>, bool) {
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream.write_all(TRICKLED_HEAD).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 512];
    while started.elapsed() < lasting {
        if stream.write_all(b" ").await.is_err() {
            return (Some(started.elapsed()), answer.starts_with(b"HTTP/1.1 408"));
        }
        let until = tokio::time::Instant::now() + Duration::from_secs(2);
        loop {
            match tokio::time::timeout_at(until, stream.read(&mut buf)).await {
                Err(_) => break,
                Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buf[..n]),
                Ok(_) => return (Some(started.elapsed()), answer.starts_with(b"HTTP/1.1 408")),
            }
        }
    }
    (None, false)
}

/// Pipelines `GET /healthz` without reading an answer until its writes block for 300 ms (the
/// socket buffers both ways are full), then waits for the server to close the connection.
/// Returns how long after the buffers filled it was closed, or what happened instead.
async fn unread_pipeliner(addr: String, lasting: Duration) -> Result<Duration, String> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    // A small receive buffer: the server's answers fill it after a few hundred requests.
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr.parse().unwrap()).await.unwrap();
    let batch = b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n".repeat(64);
    let started = Instant::now();
    let mut sent = 0usize;
    let full_at = loop {
        if started.elapsed() > lasting {
            return Err(format!("buffers not full after {lasting:?} ({sent} bytes sent)"));
        }
        match tokio::time::timeout(Duration::from_millis(300), stream.write_all(&batch)).await {
            Ok(Ok(())) => sent += batch.len(),
            Ok(Err(e)) => {
                return Err(format!("closed before its buffers filled ({sent} bytes): {e}"))
            }
            Err(_) => break Instant::now(),
        }
    };
    // A closed connection with unread data is reset: the next write fails.
    while full_at.elapsed() < lasting {
        match tokio::time::timeout(Duration::from_millis(100), stream.write_all(&batch)).await {
            Ok(Err(_)) => return Ok(full_at.elapsed()),
            _ => continue,
        }
    }
    Err(format!("still open {lasting:?} after its buffers filled ({sent} bytes sent)"))
}

/// With the default limits, 50 clients trickling a body and 50 pipelining requests without
/// reading the answers are each closed 10 s after the server began waiting on them, while a
/// normal client logs in at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_bodies_and_unread_answers_are_closed() {
    let config = ServerConfig::default();
    let deadline = config.body_read_timeout.max(config.write_timeout);
    assert!(deadline <= Duration::from_secs(10), "the documented limit is 10 s");
    let server = TestServer::start_with(Arc::new(MemoryStore::new()), config).await;
    let lasting = Duration::from_secs(16);
    let trickling: Vec<_> =
        (0..50).map(|_| tokio::spawn(trickling_client(addr(&server), lasting))).collect();
    let pipelining: Vec<_> =
        (0..50).map(|_| tokio::spawn(unread_pipeliner(addr(&server), lasting))).collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let client = client();
    let started = Instant::now();
    login(&client, &server, "patient").await;
    assert!(started.elapsed() < Duration::from_secs(2), "login took {:?}", started.elapsed());
    // On a loaded machine a task may run after its timer (0.9 s late seen with the whole
    // binary running beside five builds): 2 s of slack.
    let slack = Duration::from_secs(2);
    let mut longest = (Duration::ZERO, Duration::ZERO);
    for held in trickling {
        let (closed, answered) = held.await.unwrap();
        let closed = closed.expect("a trickling client still open after 16 s");
        assert!(closed >= deadline / 2 && closed < deadline + slack, "closed after {closed:?}");
        assert!(answered, "a trickled body is answered 408 before the connection closes");
        longest.0 = longest.0.max(closed);
    }
    for held in pipelining {
        let closed = held.await.unwrap().unwrap();
        assert!(closed < deadline + slack, "closed {closed:?} after its buffers filled");
        longest.1 = longest.1.max(closed);
    }
    println!("longest held: trickling {:?}, pipelining {:?} after full", longest.0, longest.1);
}

/// `revbench serve ARGS` on a free port: the process and its address.
fn serve(args: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_revbench"))
        .args(["serve", "--store", "memory:", "--addr", "127.0.0.1:0"])
        .args(args)
        .env_remove("REVBENCH_ADMIN_TOKEN")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .split_whitespace()
        .find_map(|word| word.strip_prefix("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (child, addr)
}

/// `/stats` is private: without an admin token configured it does not exist (404); with one,
/// a request without it or with another gets 401; only the token opens it.
#[tokio::test]
async fn stats_need_the_admin_token() {
    let (mut open, addr) = serve(&[]);
    let http = client();
    let status = http.get(format!("http://{addr}/stats")).send().await.unwrap().status();
    let _ = open.kill();
    let _ = open.wait();
    assert_eq!(status, 404, "/stats without an admin token configured");
    let server = TestServer::start(Arc::new(MemoryStore::new())).await;
    let url = server.url("/stats");
    assert_eq!(http.get(&url).send().await.unwrap().status(), 401);
    let wrong = http.get(&url).bearer_auth("a-test-admin-token-2").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let token = login(&http, &server, "eve").await;
    assert_eq!(http.get(&url).bearer_auth(token).send().await.unwrap().status(), 401);
    assert_eq!(http.get(&url).bearer_auth(TEST_ADMIN_TOKEN).send().await.unwrap().status(), 200);
}

/// `revbench serve` stops within 15 s of SIGTERM, cleanly, with clients attached that trickle
/// headers, trickle a body, or never read their answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stops_on_sigterm_whatever_clients_do() {
    let (mut child, addr) = serve(&[]);
    let lasting = Duration::from_secs(20);
    let clients: Vec<_> = (0..10)
        .flat_map(|_| {
            [
                tokio::spawn(slow_client(addr.clone(), lasting)),
                tokio::spawn(async_map(trickling_client(addr.clone(), lasting))),
                tokio::spawn(async_map(unread_pipeliner(addr.clone(), lasting))),
            ]
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let started = Instant::now();
    // SAFETY: a signal to our own child's pid has no memory-safety effects.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            panic!("serve still running 15 s after SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "SIGTERM is a clean shutdown: {status}");
    println!("serve stopped {:?} after SIGTERM", started.elapsed());
    for client in clients {
        client.abort();
    }
}

/// Any client's result as a `Duration`, so the three kinds fit one list.
async fn async_map<T>(client: impl std::future::Future<Output = T>) -> Duration {
    let started = Instant::now();
    client.await;
    started.elapsed()
}
