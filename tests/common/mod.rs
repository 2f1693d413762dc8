//! Helpers shared by the end-to-end tests: a server on `127.0.0.1:0`, a TCP forwarder that
//! can cut a real backend off, a `redis-server` of the test's own that can be killed
//! ([`redis_server`]), closed-loop load with every request recorded ([`load`]), the one
//! "skip or require this backend" decision ([`backend`]), the store conformance suite
//! ([`conformance`]), MongoDB specifics ([`mongo`]), a proxy that goes silent like a
//! blackholed server ([`stall`]) and the one bounded poll loop ([`poll::poll_until`]).
//!
//! Every test binary includes it (`#[path = "../common/mod.rs"] mod common;`) and uses a part.
//! There are five, one per area: `server`, `stores`, `run`, `reports` and `measuring` (whose
//! tests run one at a time). A new test file goes into the binary of its area as a module (one
//! `mod` line in its `main.rs`), not at the top of `tests/`: each binary links the whole
//! dependency tree, and a file there would be one more.
#![allow(dead_code)]

pub mod backend;
pub mod conformance;
pub mod load;
pub mod mongo;
pub mod poll;
pub mod process;
pub mod redis_server;
pub mod run;
pub mod stall;
pub mod tls_servers;

use std::time::Duration;

use revbench::revocation::SharedStore;
use revbench::server::{self, AppState, ServerConfig, SharedState};
use revbench::token::TokenKeys;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The HS256 secret every [`TestServer`] signs with, so tests can sign hostile tokens with it.
pub const TEST_SECRET: &[u8] = b"an-end-to-end-test-secret-of-32+bytes";

/// The admin token of every [`TestServer`] whose config names none ([`stats`] sends it).
pub const TEST_ADMIN_TOKEN: &str = "a-test-admin-token";

/// A running reference server; stopped when dropped.
pub struct TestServer {
    pub base: String,
    pub state: SharedState,
    pub keys: TokenKeys,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start(store: SharedStore) -> Self {
        Self::start_with(store, ServerConfig::default()).await
    }

    pub async fn start_with(store: SharedStore, config: ServerConfig) -> Self {
        Self::start_with_keys(store, config, TokenKeys::hs256(TEST_SECRET).unwrap()).await
    }

    pub async fn start_with_keys(
        store: SharedStore,
        config: ServerConfig,
        keys: TokenKeys,
    ) -> Self {
        let mut config = config;
        config.admin_token.get_or_insert_with(|| server::admin::AdminToken::new(TEST_ADMIN_TOKEN));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = AppState::new(store, keys.clone(), config);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server::run(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        Self { base: format!("http://{addr}"), state, keys, stop: Some(stop), task: Some(task) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops accepting, waits for in-flight requests, and returns the server's result.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An HTTP client with short timeouts (every test is bounded in time).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap()
}

/// Logs in as `user` and returns the access token.
pub async fn login(client: &reqwest::Client, server: &TestServer, user: &str) -> String {
    let response = client
        .post(server.url("/login"))
        .json(&serde_json::json!({ "username": user }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

/// `GET /api/me` with a bearer token: status and JSON body.
pub async fn me(
    client: &reqwest::Client,
    server: &TestServer,
    token: &str,
) -> (u16, serde_json::Value) {
    let response = client.get(server.url("/api/me")).bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(serde_json::Value::Null))
}

#[allow(unused_imports)] // not every test binary cuts a backend off
pub use revbench::run::forwarder::Forwarder;

/// `GET /stats` of `server`, parsed.
pub async fn stats(
    client: &reqwest::Client,
    server: &TestServer,
) -> revbench::server::StatsResponse {
    let response = client
        .get(server.url("/stats?store=1"))
        .bearer_auth(TEST_ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "/stats");
    response.json().await.unwrap()
}
