//! The reference auth server: the thing revbench measures.
//!
//! | route | what it does |
//! |---|---|
//! | `POST /login` `{"username"}` | issues a token (JSON body and `token` cookie), and a refresh token with `refresh+redis://` |
//! | `GET /api/me` | the protected call: verify, then ask the store whether the jti is revoked |
//! | `POST /logout` | revokes the caller's jti until its `exp` (a refresh-token strategy: its family) and expires the cookie |
//! | `POST /refresh` `{"refresh_token"}` or cookie | rotates a refresh token (refresh-token strategies, [`refresh`]) |
//! | `POST /revoke` form `token=` | RFC 7009-style revocation of any token |
//! | `GET /healthz` | 200 when the store answers, else 503 |
//! | `GET /stats` | with the admin token only ([`admin`]): the server's counters (requests answered on the routes above, store errors, writes, …) and, with `?store=1`, the store's size |
//!
//! A store error on the protected call gives 503 (fail closed) unless the server was started
//! with `fail_open`, in which case the request passes and is counted. A 5xx body never says
//! more than what failed (`revocation store unavailable`); the details go to the log, at most
//! a few lines a second ([`log_limit`]). Connections are limited in number and in the time a
//! request head may take ([`accept`]), a body and a response write ([`deadline`]); shutdown
//! takes at most [`ServerConfig::shutdown_grace`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;

use crate::revocation::SharedStore;
use crate::token::TokenKeys;

mod accept;
pub mod admin;
mod auth;
pub mod command;
mod counted;
mod counters;
mod deadline;
mod error;
mod handlers;
mod issue;
mod limits;
pub mod log_limit;
pub mod ready_line;
mod refresh;

pub use auth::{token_from_headers, COOKIE_NAME, REFRESH_COOKIE};
pub use counters::{Counters, CountersSnapshot};
pub use error::ApiError;
pub use handlers::StatsResponse;
pub use limits::MAX_HEADER_BYTES;
pub use ready_line::{Listening, PrefillFacts};

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
    /// Connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// How long a client may take to send a request head (and an idle kept-alive
    /// connection may wait for its next one) before it is closed.
    pub header_read_timeout: Duration,
    /// How long a request body may take to arrive after its head ([`deadline`]).
    pub body_read_timeout: Duration,
    /// How long output may wait for a client to read it before the connection is dropped
    /// ([`deadline`]).
    pub write_timeout: Duration,
    /// On shutdown, how long requests in flight may take to finish before their connections
    /// are dropped.
    pub shutdown_grace: Duration,
    /// The token `GET /stats` requires; without one, `/stats` does not exist ([`admin`]).
    pub admin_token: Option<admin::AdminToken>,
    /// CPU work run before every check (`--inject-work`), a test knob.
    pub injected_work: Option<crate::injected_work::InjectedWork>,
}

/// Connections served at once unless configured: well above the load scenarios' users, and
/// below the usual 1,024 open files a process may have.
pub const DEFAULT_MAX_CONNECTIONS: usize = 900;
/// Header-read timeout unless configured: long for a real client on loopback or a LAN,
/// short enough that slow clients cannot hold every slot for long.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Body-read timeout unless configured: a login body is a few dozen bytes.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Write timeout unless configured: every answer is under a few KiB.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Shutdown grace unless configured: requests in flight take milliseconds; a client past it
/// is one the deadlines above would soon close anyway.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            token_ttl: Duration::from_secs(15 * 60),
            fail_open: false,
            secure_cookies: false,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            admin_token: None,
            injected_work: None,
        }
    }
}

/// Lines any client can cause, rate-limited (see [`log_limit`]).
pub struct ServerLogs {
    pub invalid_revoke_tokens: log_limit::RateLimitedLog,
    pub store_errors: log_limit::RateLimitedLog,
    pub stats_errors: log_limit::RateLimitedLog,
}

impl Default for ServerLogs {
    fn default() -> Self {
        Self {
            invalid_revoke_tokens: log_limit::RateLimitedLog::new("revoke: invalid tokens", 5),
            store_errors: log_limit::RateLimitedLog::new("store errors", 5),
            stats_errors: log_limit::RateLimitedLog::new("store stats errors", 5),
        }
    }
}

/// Everything a request handler needs, shared by all of them.
pub struct AppState {
    pub store: SharedStore,
    pub keys: TokenKeys,
    pub config: ServerConfig,
    pub counters: Counters,
    pub logs: ServerLogs,
    /// Keys a logout or revoke writes to the store: 0 for a strategy that keeps nothing
    /// (`none:`), 1 for the others (a deny-list entry, a user's cut-off, a family deleted).
    pub logout_writes: u64,
    /// This process's id in `/stats`, random at start: several load generators that read one
    /// server's counters count them once (`revbench merge`), and a restarted server is told
    /// from the one it replaced.
    pub instance: String,
    /// The store's size as `/stats` last read it ([`admin`]).
    pub store_stats: admin::StoreStatsCache,
}

/// The cheap-to-clone handle handlers receive.
pub type SharedState = Arc<AppState>;

impl AppState {
    pub fn new(store: SharedStore, keys: TokenKeys, config: ServerConfig) -> SharedState {
        let keeps_nothing = crate::revocation::Scheme::named(store.name())
            .is_some_and(|s| s.profile.unit == crate::revocation::EntryUnit::Nothing);
        Arc::new(Self {
            logout_writes: u64::from(!keeps_nothing),
            instance: crate::jti::Jti::random().to_string()[..12].to_string(),
            store,
            keys,
            config,
            counters: Counters::default(),
            logs: ServerLogs::default(),
            store_stats: admin::StoreStatsCache::default(),
        })
    }

    /// A store call failed: counts it, logs the details (rate-limited) and returns the 503
    /// the client gets, which names no detail.
    pub fn store_failed(&self, operation: &str, err: &crate::revocation::StoreError) -> ApiError {
        self.counters.store_error();
        self.logs.store_errors.log(|| format!("{operation}: {err}"));
        ApiError::store_unavailable()
    }
}

/// The router with every route, usable without a socket (`tower::ServiceExt::oneshot`).
pub fn router(state: SharedState) -> Router {
    let counted = counted::CountRequestsLayer { state: state.clone() };
    // The body limit and deadline only where a body is read: as router-wide layers they
    // would cost every request, the protected call included. A body other routes leave
    // unread ends its connection once they have answered.
    let body_limit = DefaultBodyLimit::max(MAX_BODY_BYTES);
    let body_deadline = deadline::DeadlineBodyLayer { timeout: state.config.body_read_timeout };
    Router::new()
        .route("/login", post(handlers::login).layer(body_limit).layer(body_deadline))
        .route("/logout", post(handlers::logout))
        .route("/refresh", post(refresh::refresh).layer(body_limit).layer(body_deadline))
        .route("/revoke", post(handlers::revoke).layer(body_limit).layer(body_deadline))
        .route("/api/me", get(handlers::me))
        .route("/healthz", get(handlers::healthz))
        .route("/stats", get(handlers::stats))
        .fallback(handlers::not_found)
        .layer(limits::HeaderLimitLayer)
        .layer(counted)
        .with_state(state)
}

/// Serves on `listener` until `shutdown` completes, then lets in-flight requests finish.
/// Connections are limited as `state.config` says ([`accept`]).
pub async fn run(
    listener: TcpListener,
    state: SharedState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let config = state.config.clone();
    accept::serve(listener, router(state), &config, shutdown).await
}
