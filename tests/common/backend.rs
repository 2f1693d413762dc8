//! The one decision "run against this backend, skip, or fail": a test that needs Redis, a Redis
//! Cluster, PostgreSQL or MongoDB asks [`require_or_skip`] (or [`Backend::url_or_skip`] when it
//! only needs the address). Outside CI an unreachable backend skips the test with the reason
//! printed; with `REVBENCH_REQUIRE_<NAME>=1` (CI sets it) it fails. Whatever else a test may
//! lack (a `redis-server` binary, the TLS servers) goes through [`skip_unless_required`] too.

use std::time::Duration;

use crate::common::poll::poll_until;
use revbench::revocation::{RevocationStore, ScratchStore};
use revbench::run::forwarder::Forwarder;

/// A store server that runs outside the test process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Redis,
    /// A 3-master Redis Cluster: `REDIS_CLUSTER_URL`, or one `scripts/redis-cluster.sh` starts.
    RedisCluster,
    Postgres,
    Mongo,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Redis => "redis",
            Backend::RedisCluster => "redis-cluster",
            Backend::Postgres => "postgres",
            Backend::Mongo => "mongodb",
        }
    }

    /// The variable holding its URL.
    pub fn url_var(self) -> &'static str {
        match self {
            Backend::Redis => "REDIS_URL",
            Backend::RedisCluster => "REDIS_CLUSTER_URL",
            Backend::Postgres => "POSTGRES_URL",
            Backend::Mongo => "MONGODB_URL",
        }
    }

    /// The variable that makes an unreachable backend a failure.
    pub fn require_var(self) -> &'static str {
        match self {
            Backend::Redis => "REVBENCH_REQUIRE_REDIS",
            Backend::RedisCluster => "REVBENCH_REQUIRE_REDIS_CLUSTER",
            Backend::Postgres => "REVBENCH_REQUIRE_POSTGRES",
            Backend::Mongo => "REVBENCH_REQUIRE_MONGODB",
        }
    }

    /// Where it runs on every developer and CI machine; MongoDB has no such place.
    fn default_url(self) -> Option<&'static str> {
        match self {
            Backend::Redis => Some("redis://127.0.0.1:6379"),
            Backend::Postgres => Some("postgres://postgres@127.0.0.1:5432/postgres"),
            Backend::RedisCluster | Backend::Mongo => None,
        }
    }

    /// Its URL, or why there is none.
    pub fn locate(self) -> Result<String, String> {
        let from_env = std::env::var(self.url_var()).ok();
        match self {
            // No standard address: a local cluster is started (or found running) instead.
            Backend::RedisCluster => from_env.map_or_else(start_local_cluster, Ok),
            _ => from_env
                .or(self.default_url().map(str::to_string))
                .ok_or_else(|| format!("{} is not set", self.url_var())),
        }
    }

    /// Its URL, if it has one (whether it answers is not checked).
    pub fn url(self) -> Option<String> {
        self.locate().ok()
    }

    /// Its URL, or skip or fail as [`Backend::skip`] says (whether it answers is not checked).
    pub fn url_or_skip(self) -> Option<String> {
        self.locate().map_or_else(|reason| self.skip(&reason), Some)
    }

    /// Skips (prints why, returns `None`) or, when required, fails with `reason`.
    pub fn skip<T>(self, reason: &str) -> Option<T> {
        skip_unless_required(self.require_var(), self.name(), reason)
    }
}

/// The one place something a test needs but lacks becomes a failure or a skip: panics with
/// `reason` when `require_var=1` (CI sets it); otherwise prints that `what` is skipped and why,
/// and returns `None` for the caller to return.
pub fn skip_unless_required<T>(require_var: &str, what: &str, reason: &str) -> Option<T> {
    if std::env::var(require_var).is_ok_and(|v| v == "1") {
        panic!("{require_var}=1 but {what}: {reason}");
    }
    println!("{what}: skipped: {reason} (set {require_var}=1 to fail instead)");
    None
}

/// Starts the local 3-master cluster of `scripts/redis-cluster.sh` (about 3 s the first time;
/// later calls find it running in 10 ms; the script serializes concurrent starts) and returns
/// its URL.
fn start_local_cluster() -> Result<String, String> {
    super::process::start_script("redis-cluster.sh").map(|url| url.trim().to_string())
}

/// The backend's URL if it answers (a scratch namespace opened and removed); otherwise skip
/// or fail as [`Backend::skip`] says.
pub async fn require_or_skip(backend: Backend) -> Option<String> {
    let scratch = scratch_or_skip(backend, "probe").await?;
    let url = backend.url().expect("scratch_or_skip had a URL");
    scratch
        .remove()
        .await
        .unwrap_or_else(|e| panic!("{}: cannot remove a probe: {e}", backend.name()));
    Some(url)
}

/// The backend opened in a fresh namespace of the test's own (remove it at the end), or skip
/// or fail as [`Backend::skip`] says.
pub async fn scratch_or_skip(backend: Backend, label: &str) -> Option<ScratchStore> {
    let url = backend.url_or_skip()?;
    match ScratchStore::open(&url, label).await {
        Ok(scratch) => Some(scratch),
        Err(e) => backend.skip(&e.to_string()),
    }
}

/// The address the server a store URL names listens on.
pub fn server_addr(url: &str) -> std::net::SocketAddr {
    let parsed = url::Url::parse(url).unwrap();
    revbench::run::forwarder::backend_addr(&parsed).unwrap()
}

/// `url` pointed at `addr` (a forwarder on loopback) instead of its server; MongoDB URLs with
/// `directConnection=true`, so the driver cannot go around the forwarder.
pub fn via(url: &str, addr: std::net::SocketAddr) -> String {
    let parsed = url::Url::parse(url).unwrap();
    revbench::run::forwarder::route_through(&parsed, addr).unwrap().to_string()
}

/// Cuts `forwarder` and waits (at most 3 s) until `store`, opened through it, reports the
/// lost connection in its health check; panics if it does not.
pub async fn cut_until_unhealthy(forwarder: &mut Forwarder, store: &impl RevocationStore) {
    forwarder.cut().await;
    let lost = async || store.health().await.is_err().then_some(());
    let (within, every) = (Duration::from_secs(3), Duration::from_millis(1));
    poll_until("lost connection in health", within, every, lost)
        .await
        .expect("health reports the lost connection");
}
