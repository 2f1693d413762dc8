//! Helpers shared by the end-to-end tests: a server on `127.0.0.1:0`, a TCP forwarder that
//! can cut a real backend off, a `redis-server` of the test's own that can be killed
//! ([`redis_server`]), and closed-loop load with every request recorded ([`load`]).
#![allow(dead_code)]

pub mod load;
pub mod redis_server;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use revbench::revocation::SharedStore;
use revbench::server::{self, AppState, ServerConfig, SharedState};
use revbench::token::TokenKeys;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The HS256 secret every [`TestServer`] signs with, so tests can sign hostile tokens with it.
pub const TEST_SECRET: &[u8] = b"an-end-to-end-test-secret-of-32+bytes";

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

/// Forwards TCP connections from a loopback port to `target` until cut, so a test can make a
/// real backend unreachable and bring it back on the same address.
pub struct Forwarder {
    pub addr: SocketAddr,
    target: SocketAddr,
    task: Option<JoinHandle<()>>,
    connections: Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
}

impl Forwarder {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut forwarder = Self { addr, target, task: None, connections: Default::default() };
        forwarder.listen(listener);
        forwarder
    }

    fn listen(&mut self, listener: TcpListener) {
        let (target, connections) = (self.target, self.connections.clone());
        self.task = Some(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let pipe = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                connections.lock().unwrap().push(pipe);
            }
        }));
    }

    /// Closes the listening socket and every forwarded connection.
    pub fn cut(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        for pipe in self.connections.lock().unwrap().drain(..) {
            pipe.abort();
        }
    }

    /// Listens again on the same address.
    pub async fn restore(&mut self) {
        // The aborted accept task drops its listener on its next poll; retry briefly.
        for _ in 0..50 {
            if let Ok(listener) = TcpListener::bind(self.addr).await {
                self.listen(listener);
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("could not listen on {} again", self.addr);
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.cut();
    }
}
