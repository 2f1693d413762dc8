//! Secrets and hygiene: cookie attributes, graceful shutdown that finishes in-flight requests,
//! and a `revbench serve` process whose output never contains a whole token.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::common::poll::poll_until;
use crate::common::{client, login, TestServer};
use async_trait::async_trait;
use revbench::revocation::{
    open, Capabilities, Jti, RevocationStore, SharedStore, StoreError, StoreStats,
};
use revbench::server::ServerConfig;
use revbench::time::UnixSeconds;
use revbench::token::fingerprint;
use tokio::sync::Notify;

/// Login and logout cookies carry `Secure` with `secure_cookies`, and always HttpOnly and
/// SameSite=Strict.
#[tokio::test]
async fn secure_cookies_adds_secure() {
    let config = ServerConfig { secure_cookies: true, ..ServerConfig::default() };
    let server = TestServer::start_with(open("memory:").await.unwrap(), config).await;
    let client = client();
    let response = client
        .post(server.url("/login"))
        .json(&serde_json::json!({ "username": "alice" }))
        .send()
        .await
        .unwrap();
    let login_cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    let body: serde_json::Value = response.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap();
    let logout = client.post(server.url("/logout")).bearer_auth(token).send().await.unwrap();
    let logout_cookie = logout.headers()["set-cookie"].to_str().unwrap().to_string();
    for cookie in [login_cookie, logout_cookie] {
        for attribute in ["; HttpOnly", "; SameSite=Strict", "; Secure"] {
            assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
        }
    }
}

/// Wraps a real store and holds every `is_revoked` for a while, announcing when one starts
/// and flagging when it is done: a slow check that is certainly in flight when the test asks
/// for shutdown.
struct SlowChecks {
    inner: SharedStore,
    delay: Duration,
    started: Arc<Notify>,
    finished: Arc<AtomicBool>,
}

#[async_trait]
impl RevocationStore for SlowChecks {
    fn name(&self) -> &'static str {
        "slow"
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn revoke(&self, jti: Jti, expires_at: UnixSeconds) -> Result<(), StoreError> {
        self.inner.revoke(jti, expires_at).await
    }

    async fn is_revoked(&self, jti: Jti, expires_at: UnixSeconds) -> Result<bool, StoreError> {
        self.started.notify_one();
        tokio::time::sleep(self.delay).await;
        let answer = self.inner.is_revoked(jti, expires_at).await;
        self.finished.store(true, Ordering::SeqCst);
        answer
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        self.inner.stats().await
    }

    async fn clear(&self) -> Result<(), StoreError> {
        self.inner.clear().await
    }
}

/// A request in flight when shutdown starts still gets its 200; new connections are refused
/// meanwhile; shutdown returns only after that request was answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let started = Arc::new(Notify::new());
    let finished = Arc::new(AtomicBool::new(false));
    let store = Arc::new(SlowChecks {
        inner: open("memory:").await.unwrap(),
        delay: Duration::from_millis(1500),
        started: started.clone(),
        finished: finished.clone(),
    });
    let server = TestServer::start(store).await;
    let token = login(&client(), &server, "alice").await;
    let url = server.url("/api/me");
    let addr = server.base.trim_start_matches("http://").to_string();
    let in_flight = tokio::spawn(async move {
        let response = client().get(url).bearer_auth(token).send().await.unwrap();
        response.status().as_u16()
    });
    started.notified().await;
    let shutdown = tokio::spawn(server.shutdown());

    // The listener closes at once; poll briefly for the accept loop to see the signal.
    let refused = async || tokio::net::TcpStream::connect(&addr).await.is_err().then_some(());
    poll_until(
        "refused connection",
        Duration::from_millis(500),
        Duration::from_millis(10),
        refused,
    )
    .await
    .expect("new connections are refused once shutdown starts");

    let stopped = tokio::time::timeout(Duration::from_secs(5), shutdown).await.unwrap();
    stopped.unwrap().unwrap();
    assert!(finished.load(Ordering::SeqCst), "shutdown returned only after the slow check");
    assert_eq!(in_flight.await.unwrap(), 200, "the in-flight request was completed");
}

/// `revbench serve` logs a fingerprint, never the token, when it ignores an invalid token at
/// /revoke; its output holds no issued token either; and SIGTERM stops it cleanly (exit 0).
#[tokio::test]
async fn served_process_never_prints_a_token() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_revbench"))
        .args(["serve", "--store", "memory:", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first_line = String::new();
    stdout.read_line(&mut first_line).unwrap();
    let base = first_line
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {first_line:?}"))
        .to_string();
    let client = client();
    let response = client
        .post(format!("{base}/login"))
        .json(&serde_json::json!({ "username": "alice" }))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap().to_string();
    let invalid = format!("{token}tampered");
    for form_token in [&invalid, &token] {
        let response = client
            .post(format!("{base}/revoke"))
            .form(&[("token", form_token)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let replay = client.get(format!("{base}/api/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(replay.status(), 401);

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = child.wait().unwrap();
    let mut output = first_line;
    stdout.read_to_string(&mut output).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut output).unwrap();
    assert!(status.success(), "SIGTERM is a clean shutdown: {status}\n{output}");
    assert!(output.contains(&fingerprint(&invalid)), "the ignored token is logged: {output}");
    // Any 40-character piece of a token would be a leak; the signature part is the secret one.
    for leaked in [&token, &invalid] {
        let signature = leaked.rsplit('.').next().unwrap();
        assert!(!output.contains(&signature[..signature.len().min(40)]), "token in: {output}");
        assert!(!output.contains(leaked.as_str()), "token in: {output}");
    }
}
