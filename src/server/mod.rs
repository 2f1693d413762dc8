//! The reference auth server: the thing revbench measures.
//!
//! | route | what it does |
//! |---|---|
//! | `POST /login` `{"username"}` | issues a token (JSON body and `token` cookie) |
//! | `GET /api/me` | the protected call: verify, then ask the store whether the jti is revoked |
//! | `POST /logout` | revokes the caller's jti until its `exp` and expires the cookie |
//! | `POST /revoke` form `token=` | RFC 7009-style revocation of any token |
//! | `GET /healthz` | 200 when the store answers, else 503 |
//! | `GET /stats` | the store's stats and the server's counters |
//!
//! A store error on the protected call gives 503 (fail closed) unless the server was started
//! with `fail_open`, in which case the request passes and is counted.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;

use crate::revocation::SharedStore;
use crate::token::TokenKeys;

mod auth;
pub mod command;
mod counters;
mod error;
mod handlers;
mod limits;
pub mod listening;

pub use auth::{token_from_headers, COOKIE_NAME};
pub use counters::{Counters, CountersSnapshot};
pub use error::ApiError;
pub use handlers::StatsResponse;
pub use limits::MAX_HEADER_BYTES;
pub use listening::{Listening, PrefillFacts};

/// Largest request body accepted (login and revoke bodies are well under 1 KiB).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Lifetime of issued tokens.
    pub token_ttl: Duration,
    /// Let requests through when the store cannot answer (counted as fail-open passes).
    pub fail_open: bool,
    /// Add `Secure` to the cookie (for servers behind HTTPS).
    pub secure_cookies: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self { token_ttl: Duration::from_secs(15 * 60), fail_open: false, secure_cookies: false }
    }
}

/// Everything a request handler needs, shared by all of them.
pub struct AppState {
    pub store: SharedStore,
    pub keys: TokenKeys,
    pub config: ServerConfig,
    pub counters: Counters,
}

/// The cheap-to-clone handle handlers receive.
pub type SharedState = Arc<AppState>;

impl AppState {
    pub fn new(store: SharedStore, keys: TokenKeys, config: ServerConfig) -> SharedState {
        Arc::new(Self { store, keys, config, counters: Counters::default() })
    }
}

/// The router with every route, usable without a socket (`tower::ServiceExt::oneshot`).
pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/login", post(handlers::login))
        .route("/logout", post(handlers::logout))
        .route("/revoke", post(handlers::revoke))
        .route("/api/me", get(handlers::me))
        .route("/healthz", get(handlers::healthz))
        .route("/stats", get(handlers::stats))
        .fallback(handlers::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(limits::limit_header_bytes))
        .with_state(state)
}

/// Serves on `listener` until `shutdown` completes, then lets in-flight requests finish.
pub async fn run(
    listener: TcpListener,
    state: SharedState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}
