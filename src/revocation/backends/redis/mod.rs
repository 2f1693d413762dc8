//! `redis://host:port/db?prefix=P` (or `rediss://user:password@host:port/db?ca_file=PATH` over
//! TLS, the certificate checked against `ca_file` or the system's roots) — one key per revoked
//! jti, `SET P<jti> "" EXAT <exp>`, checked with one `EXISTS` per request; the checks of
//! concurrent requests share a pipeline (one round trip per batch, see `batch.rs`). Redis drops the key at `exp` (lazily on
//! access, and by its active expire cycle in the background).
//!
//! `stats()` reports the keys under this store's prefix (counted with `SCAN MATCH`, so other
//! keys in the database are never counted) and `used_memory` from `INFO memory` (the whole
//! server).

use std::sync::Arc;
use std::time::Duration;

use std::future::ready;
use std::pin::pin;

use async_trait::async_trait;
use futures_util::stream::{self, Stream, TryChunksError, TryStreamExt};
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, ScanOptions};

use crate::revocation::url_params::StoreUrl;
use crate::revocation::{
    opener, profile, stored_exp, Capabilities, EntryUnit, Jti, Namespacing, Profile,
    RevocationStore, Scheme, StoreError, StoreStats,
};
use crate::time::UnixSeconds;

pub(crate) mod batch;

/// Key prefix used when the URL sets none.
pub const DEFAULT_PREFIX: &str = "revbench:revoked:";

const BACKEND: &str = "redis";
const FIX: &str = "start Redis (`docker compose up -d redis` or `redis-server`) or pass another \
                   --store URL";
const TLS_FIX: &str = "pass ca_file=PATH naming the CA that signed the server's certificate";
/// How long a check may wait for Redis before it counts as a store error.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
/// Keys a `SCAN` step looks at: each step is one short command on Redis's single thread, so
/// walking a large database (to count, clear or load a prefix) never blocks checks for long.
const SCAN_BATCH: usize = 1000;

/// A Redis-backed revocation list over one reconnecting, multiplexed connection.
#[derive(Clone)]
pub struct RedisStore {
    // ConnectionManager multiplexes every request over one connection and reconnects in the
    // background after a failure; cloning it is cheap (an Arc).
    conn: ConnectionManager,
    /// What `conn` was opened with (address, credentials, TLS roots), for connections of
    /// another kind such as `hybrid+redis://`'s subscriber.
    client: redis::Client,
    prefix: String,
    /// Concurrent checks share a pipeline (see `batch.rs`).
    checks: Arc<batch::CheckBatcher<Exists>>,
}

/// A check is one `EXISTS` of the jti's key.
struct Exists {
    prefix: String,
}

impl batch::CheckPlan for Exists {
    type Query = Jti;
    type Answer = bool;

    fn add(&self, pipe: &mut redis::Pipeline, &jti: &Jti, _whole: bool) {
        pipe.cmd("EXISTS").arg(jti_key(&self.prefix, jti));
    }

    fn read(&self, _jti: &Jti, replies: &[redis::Value]) -> Result<bool, String> {
        match replies {
            [redis::Value::Int(count)] => Ok(*count > 0),
            other => Err(format!("EXISTS answered {other:?}")),
        }
    }
}

impl RedisStore {
    /// Connects and checks the server answers `PING`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_parsed(StoreUrl::parse(url)?, DEFAULT_PREFIX).await
    }

    /// Connects with what a strategy built on Redis leaves of its URL (`cutoff+redis://…`
    /// without `cutoff+` and the strategy's own parameters): the key prefix (`prefix=`, else
    /// `default_prefix`), `ca_file=`, and the rest for the driver.
    pub(crate) async fn connect_parsed(
        mut parsed: StoreUrl,
        default_prefix: &str,
    ) -> Result<Self, StoreError> {
        let prefix = parsed.take("prefix").unwrap_or_else(|| default_prefix.to_string());
        if prefix.contains(['*', '?', '[', ']', '\\']) {
            return Err(parsed.bad(format!("prefix `{prefix}` must not contain glob characters")));
        }
        let ca_file = parsed.take("ca_file");
        let tls = parsed.for_driver().scheme() == "rediss";
        let client = match (&ca_file, tls) {
            (Some(_), false) => {
                return Err(parsed.bad("ca_file needs TLS: use rediss://".to_string()));
            }
            (Some(path), true) => {
                crate::revocation::backends::tls::install_default_provider();
                let pem = crate::revocation::backends::tls::read_ca_pem(path.as_ref())
                    .map_err(|e| parsed.bad(e))?;
                let certificates =
                    redis::TlsCertificates { client_tls: None, root_cert: Some(pem) };
                redis::Client::build_with_tls(parsed.for_driver().as_str(), certificates)
            }
            (None, tls) => {
                if tls {
                    crate::revocation::backends::tls::install_default_provider();
                }
                redis::Client::open(parsed.for_driver().as_str())
            }
        }
        .map_err(|e| parsed.bad(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let unreachable = |reason: String| StoreError::Unreachable {
            backend: BACKEND,
            url: parsed.original().to_string(),
            fix: if tls && crate::revocation::backends::tls::is_certificate_error(&reason) {
                TLS_FIX
            } else {
                FIX
            },
            reason,
        };
        let conn = tokio::time::timeout(
            CONNECT_TIMEOUT * 3,
            ConnectionManager::new_with_config(client.clone(), config),
        )
        .await
        .map_err(|_| unreachable("timed out".to_string()))?
        .map_err(|e| unreachable(e.to_string()))?;
        let exists = Exists { prefix: prefix.clone() };
        let checks = batch::CheckBatcher::new(conn.clone(), BACKEND, exists);
        let store = Self { conn, client, prefix, checks };
        store.health().await.map_err(|e| unreachable(e.to_string()))?;
        Ok(store)
    }

    /// The key prefix in use.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The client the store connected with, for a connection of another kind (pub/sub).
    pub(crate) fn client(&self) -> &redis::Client {
        &self.client
    }

    /// The connection, for bulk work such as pipelined fills.
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Keys under this store's prefix (see [`scan_prefix`] for what the count may include).
    async fn count_keys(&self) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        scan_prefix(&mut conn, &self.prefix, BACKEND)
            .try_fold(0, |count, keys| ready(Ok(count + keys.len() as u64)))
            .await
    }

    /// The key for `jti`.
    pub fn key(&self, jti: Jti) -> String {
        jti_key(&self.prefix, jti)
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StoreError> {
        cmd.query_async(&mut self.conn.clone()).await.map_err(|e| StoreError::backend(BACKEND, e))
    }
}

/// The `redis://host:port/db` line of [`crate::revocation::SCHEMES`].
pub(in crate::revocation) static SCHEME: Scheme = Scheme {
    name: BACKEND,
    url_schemes: &["redis", "rediss"],
    example: "redis://host:port/db",
    namespacing: Namespacing::KeyPrefix,
    open: opener!(RedisStore::connect),
    profile: Profile {
        summary: "deny-list in Redis: one `EXISTS` per request, keys expire at `exp`",
        needs: "Redis",
        when_down: profile::FAILS_CLOSED,
        unit: EntryUnit::RevokedToken,
    },
};

#[async_trait]
impl RevocationStore for RedisStore {
    fn name(&self) -> &'static str {
        SCHEME.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { remembers: true, expires: true, shared: true }
    }

    async fn revoke(&self, jti: Jti, expires_at: UnixSeconds) -> Result<(), StoreError> {
        self.query::<()>(&revoke_cmd(&self.prefix, jti, expires_at)).await
    }

    /// One `EXISTS` per check, sent in a pipeline with the checks of concurrent requests.
    async fn is_revoked(&self, jti: Jti, _expires_at: UnixSeconds) -> Result<bool, StoreError> {
        self.checks.ask(jti).await
    }

    /// One pipeline of `SET … EXAT` for the whole chunk: one round trip instead of one per id.
    async fn revoke_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        for &(jti, expires_at) in entries {
            pipe.add_command(revoke_cmd(&self.prefix, jti, expires_at)).ignore();
        }
        pipe.query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(|e| StoreError::backend(BACKEND, e))
    }

    /// One `UNLINK` per [`SCAN_BATCH`] ids.
    async fn forget_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<u64, StoreError> {
        let mut removed = 0;
        for unlink in unlink_cmds(&self.prefix, entries) {
            removed += self.query::<u64>(&unlink).await?;
        }
        Ok(removed)
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        let entries = self.count_keys().await?;
        let mut info = redis::cmd("INFO");
        info.arg("memory");
        let info: String = self.query(&info).await?;
        Ok(StoreStats { entries: Some(entries), bytes: info_field(&info, "used_memory") })
    }

    async fn health(&self) -> Result<(), StoreError> {
        self.query::<String>(&redis::cmd("PING")).await.map(|_| ())
    }

    async fn server_version(&self) -> Option<String> {
        let mut info = redis::cmd("INFO");
        info.arg("server");
        let info: String = self.query(&info).await.ok()?;
        info.lines()
            .find_map(|l| l.strip_prefix("redis_version:"))
            .map(|v| format!("Redis {}", v.trim()))
    }

    /// Deletes every key under this store's prefix (SCAN + UNLINK in batches).
    async fn clear(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let mut batches = pin!(scan_prefix(&mut conn, &self.prefix, BACKEND));
        while let Some(keys) = batches.try_next().await? {
            self.query::<u64>(redis::cmd("UNLINK").arg(keys)).await?;
        }
        Ok(())
    }
}

/// The keys under `prefix` on the server behind `conn`, in batches of up to [`SCAN_BATCH`]:
/// `SCAN … MATCH prefix* COUNT 1000`, the next step sent only when the batches so far are
/// taken (the redis crate's SCAN iterator, so no cursor loop is written twice).
///
/// SCAN walks every key of the database (Redis has no per-prefix index) and may return a key
/// twice while Redis resizes its table, so a count can be briefly high by a few keys; it never
/// returns another prefix's keys, since prefixes hold no glob characters (checked when the
/// URL is read). On a cluster, `conn` must reach one node: a cursor means nothing elsewhere.
pub(crate) fn scan_prefix<'a, C>(
    conn: &'a mut C,
    prefix: &str,
    backend: &'static str,
) -> impl Stream<Item = Result<Vec<String>, StoreError>> + Send + 'a
where
    C: ConnectionLike + Send + Sync,
{
    let options = ScanOptions::default().with_pattern(format!("{prefix}*")).with_count(SCAN_BATCH);
    stream::once(conn.scan_options::<String>(options))
        .try_flatten()
        .try_chunks(SCAN_BATCH)
        .map_err(move |TryChunksError(_, e)| StoreError::backend(backend, e))
}

/// Reads `name:value` from an `INFO` reply.
pub(crate) fn info_field(info: &str, name: &str) -> Option<u64> {
    info.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(key, _)| *key == name)
        .and_then(|(_, value)| value.trim().parse().ok())
}

/// The key of `jti` under `prefix`: one form for every Redis-backed store and the batcher.
pub(crate) fn jti_key(prefix: &str, jti: Jti) -> String {
    format!("{prefix}{jti}")
}

/// `UNLINK` of the keys of `entries` under `prefix`, [`SCAN_BATCH`] keys per command (a
/// cluster client splits each by slot).
pub(crate) fn unlink_cmds<'a>(
    prefix: &'a str,
    entries: &'a [(Jti, UnixSeconds)],
) -> impl Iterator<Item = redis::Cmd> + 'a {
    entries.chunks(SCAN_BATCH).map(move |chunk| {
        let mut cmd = redis::cmd("UNLINK");
        for &(jti, _) in chunk {
            cmd.arg(jti_key(prefix, jti));
        }
        cmd
    })
}

/// The deny-list entry of `jti` under `prefix`: `SET <key> "" EXAT <exp>`, so Redis drops it
/// when the token it blocks expires (single-node and cluster stores alike).
pub(crate) fn revoke_cmd(prefix: &str, jti: Jti, expires_at: UnixSeconds) -> redis::Cmd {
    let mut cmd = redis::cmd("SET");
    cmd.arg(jti_key(prefix, jti)).arg("").arg("EXAT").arg(stored_exp(expires_at));
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    /// INFO parsing finds exact field names only.
    #[test]
    fn info_field_parses_exact_names() {
        let info = "# Memory\r\nused_memory:1024\r\nused_memory_human:1.00K\r\n";
        assert_eq!(info_field(info, "used_memory"), Some(1024));
        assert_eq!(info_field(info, "used_memory_rss"), None);
    }
}
