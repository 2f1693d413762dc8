//! `postgres://user@host:port/db?pool=4&unlogged=false&table=revoked_tokens&cleanup_interval=60s`
//! — the classic database table: `revoked_tokens (jti bytea primary key, expires_at timestamptz
//! not null)` with an index on `expires_at`, created at start-up if missing.
//!
//! - `revoke` is an upsert; `is_revoked` is one indexed point query that also filters
//!   `expires_at > now()`, so expiry is exact while cleanup lags. Both are prepared statements.
//! - `pool=N` (default 4) connections, used round-robin; each one pipelines concurrent queries.
//!   A connection found closed is replaced on the next call, so the store recovers from a
//!   database restart without a server restart.
//! - A background task deletes expired rows every `cleanup_interval` in batches of
//!   `DELETE_BATCH` rows per statement, so a large backlog never holds one huge lock.
//! - `unlogged=true` makes the table UNLOGGED: writes skip the WAL (faster) and PostgreSQL
//!   empties the table after a crash — every revocation is lost then.
//!
//! - `sslmode=require` (or `verify-ca` / `verify-full`, which mean the same here) connects over
//!   TLS and always verifies the server's certificate and name, against `ca_file=PATH` or the
//!   system's roots (see [`crate::revocation::backends::tls`]).
//!
//! `stats()` reports `count(*)` of the table and `pg_total_relation_size` (table + indexes).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use tokio_postgres::{Client, NoTls, Statement};

use crate::lock::RwLockExt;
use crate::revocation::backends::tls::PostgresTls;

use crate::revocation::url_params::StoreUrl;
use crate::revocation::{
    opener, profile, stored_exp, Capabilities, EntryUnit, Jti, Namespacing, Profile,
    RevocationStore, Scheme, StoreError, StoreStats,
};
use crate::time::UnixSeconds;

/// Rows deleted per cleanup statement.
const DELETE_BATCH: i64 = 10_000;
/// Ids per `forget_many` statement: one array parameter each, well inside the query timeout.
const FORGET_BATCH: usize = 5_000;
const DEFAULT_POOL: usize = 4;
const DEFAULT_TABLE: &str = "revoked_tokens";
const DEFAULT_CLEANUP: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a query may take before it counts as a store error.
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);
const BACKEND: &str = "postgres";
const FIX: &str = "start PostgreSQL or pass another --store URL \
                   (e.g. postgres://postgres@127.0.0.1:5432/postgres)";
const TLS_FIX: &str = "pass ca_file=PATH naming the CA that signed the server's certificate";

/// One connection and its prepared statements.
struct Conn {
    client: Client,
    check: Statement,
    upsert: Statement,
}

/// Settings read from the URL.
#[derive(Debug, Clone)]
struct Settings {
    driver_url: String,
    /// Set with `sslmode=require`: every connection is TLS, verified.
    tls: Option<PostgresTls>,
    pool: usize,
    table: String,
    unlogged: bool,
    cleanup_interval: Duration,
}

/// A PostgreSQL-backed revocation list.
pub struct PostgresStore {
    settings: Settings,
    // A std RwLock per slot: held only to clone or swap the Arc, never across an await.
    slots: Vec<RwLock<Arc<Conn>>>,
    next: AtomicUsize,
    /// Serialises reconnects so a dead database is not hammered by every waiting request.
    reconnecting: tokio::sync::Mutex<()>,
}

impl PostgresStore {
    /// Connects `pool` times, creates the table and index if missing, and starts cleanup.
    pub async fn connect(url: &str) -> Result<Arc<Self>, StoreError> {
        let settings = Settings::parse(url)?;
        let unreachable = |reason: String| StoreError::Unreachable {
            backend: BACKEND,
            url: crate::redact::redact(url),
            fix: if crate::revocation::backends::tls::is_certificate_error(&reason) {
                TLS_FIX
            } else {
                FIX
            },
            reason,
        };
        let first = connect_raw(&settings).await.map_err(&unreachable)?;
        create_schema(&first, &settings).await?;
        let mut slots = vec![RwLock::new(Arc::new(prepare(first, &settings.table).await?))];
        for _ in 1..settings.pool {
            let client = connect_raw(&settings).await.map_err(&unreachable)?;
            slots.push(RwLock::new(Arc::new(prepare(client, &settings.table).await?)));
        }
        let store = Arc::new(Self {
            settings,
            slots,
            next: AtomicUsize::new(0),
            reconnecting: tokio::sync::Mutex::new(()),
        });
        tokio::spawn(cleanup_loop(Arc::downgrade(&store)));
        Ok(store)
    }

    /// A connection for the next call, replacing the slot's connection if it has closed.
    async fn conn(&self) -> Result<Arc<Conn>, StoreError> {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let conn = self.slots[index].read_locked().clone();
        if !conn.client.is_closed() {
            return Ok(conn);
        }
        let _guard = self.reconnecting.lock().await;
        let current = self.slots[index].read_locked().clone();
        if !current.client.is_closed() {
            return Ok(current);
        }
        let client = connect_raw(&self.settings)
            .await
            .map_err(|e| StoreError::backend(BACKEND, format!("reconnect failed: {e}")))?;
        let fresh = Arc::new(prepare(client, &self.settings.table).await?);
        *self.slots[index].write_locked() = fresh.clone();
        Ok(fresh)
    }

    /// Deletes expired rows in batches; returns how many were deleted.
    async fn delete_expired(&self) -> Result<u64, StoreError> {
        let conn = self.conn().await?;
        let sql = format!(
            "DELETE FROM {t} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {t} \
             WHERE expires_at <= now() LIMIT {DELETE_BATCH}))",
            t = self.settings.table
        );
        let mut total = 0;
        loop {
            let deleted = timed(conn.client.execute(&sql, &[])).await?;
            total += deleted;
            if deleted < DELETE_BATCH as u64 {
                return Ok(total);
            }
        }
    }

    /// Inserts many revocations in one statement (for fast fills in benchmarks).
    async fn revoke_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<(), StoreError> {
        let conn = self.conn().await?;
        let (jtis, exps): (Vec<Vec<u8>>, Vec<SystemTime>) =
            entries.iter().map(|(jti, exp)| (key_bytes(*jti), as_time(*exp))).unzip();
        let sql = format!(
            "INSERT INTO {} (jti, expires_at) SELECT * FROM unnest($1::bytea[], $2::timestamptz[]) \
             ON CONFLICT (jti) DO UPDATE SET expires_at = EXCLUDED.expires_at",
            self.settings.table
        );
        timed(conn.client.execute(&sql, &[&jtis, &exps])).await.map(|_| ())
    }
}

impl PostgresStore {
    /// Drops this store's table (and its index): for measurements that made a table of their
    /// own. The store is unusable afterwards.
    async fn drop_table(&self) -> Result<(), StoreError> {
        let conn = self.conn().await?;
        timed(conn.client.batch_execute(&format!("DROP TABLE IF EXISTS {}", self.settings.table)))
            .await
    }
}

impl Settings {
    fn parse(url: &str) -> Result<Self, StoreError> {
        let mut parsed = StoreUrl::parse(url)?;
        let pool = parsed.take_parsed::<usize>("pool", "a whole number")?.unwrap_or(DEFAULT_POOL);
        let unlogged = parsed.take_parsed::<bool>("unlogged", "true or false")?.unwrap_or(false);
        let table = parsed.take("table").unwrap_or_else(|| DEFAULT_TABLE.to_string());
        let ca_file = parsed.take("ca_file");
        let tls = match (parsed.take("sslmode").as_deref(), ca_file) {
            (Some("require" | "verify-ca" | "verify-full"), ca_file) => {
                let config = crate::revocation::backends::tls::client_config(
                    ca_file.as_deref().map(std::path::Path::new),
                )
                .map_err(|e| parsed.bad(e))?;
                Some(PostgresTls(config))
            }
            (None | Some("disable" | "prefer"), Some(_)) => {
                return Err(parsed.bad("ca_file needs sslmode=require".to_string()));
            }
            (None | Some("disable" | "prefer"), None) => None,
            (Some(other), _) => {
                return Err(parsed
                    .bad(format!("parameter `sslmode={other}`: use disable, prefer or require")));
            }
        };
        let cleanup_interval = match parsed.take("cleanup_interval") {
            None => DEFAULT_CLEANUP,
            Some(raw) => humantime::parse_duration(&raw).map_err(|e| {
                parsed.bad(format!("parameter `cleanup_interval={raw}`: {e} (e.g. 60s)"))
            })?,
        };
        if pool == 0 || pool > 64 {
            return Err(parsed.bad(format!("parameter `pool={pool}` must be 1 to 64")));
        }
        let valid_table = !table.is_empty()
            && table.len() <= 63
            && table.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && table.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_table {
            return Err(parsed.bad(format!(
                "parameter `table={table}` must be a lowercase SQL identifier ([a-z_][a-z0-9_]*)"
            )));
        }
        if cleanup_interval.is_zero() {
            return Err(parsed.bad("parameter `cleanup_interval` must be above zero".to_string()));
        }
        let mut driver_url = parsed.for_driver().clone();
        if tls.is_some() {
            driver_url.query_pairs_mut().append_pair("sslmode", "require");
        }
        Ok(Self {
            driver_url: driver_url.to_string(),
            tls,
            pool,
            table,
            unlogged,
            cleanup_interval,
        })
    }
}

/// Tables in the URL's database (its current schema) whose names start with `prefix`; reads
/// the catalogue only (`revbench clean`).
pub(crate) async fn tables_starting(url: &str, prefix: &str) -> Result<Vec<String>, StoreError> {
    let settings = Settings::parse(url)?;
    let client = connect_raw(&settings).await.map_err(|reason| StoreError::Unreachable {
        backend: BACKEND,
        url: crate::redact::redact(url),
        reason,
        fix: FIX,
    })?;
    let rows = client
        .query(
            "SELECT tablename::text FROM pg_tables \
             WHERE schemaname = current_schema() AND left(tablename, length($1)) = $1",
            &[&prefix],
        )
        .await
        .map_err(|e| StoreError::backend(BACKEND, e))?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

async fn connect_raw(settings: &Settings) -> Result<Client, String> {
    let url = &settings.driver_url;
    // The connection future drives the socket; it ends when the client is dropped or the
    // server goes away, after which `client.is_closed()` is true. Its type depends on TLS.
    let client = match &settings.tls {
        None => {
            let (client, connection) = timed_connect(tokio_postgres::connect(url, NoTls)).await?;
            tokio::spawn(connection);
            client
        }
        Some(tls) => {
            let connecting = tokio_postgres::connect(url, tls.clone());
            let (client, connection) = timed_connect(connecting).await?;
            tokio::spawn(connection);
            client
        }
    };
    Ok(client)
}

async fn timed_connect<T>(
    connecting: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, String> {
    tokio::time::timeout(CONNECT_TIMEOUT, connecting)
        .await
        .map_err(|_| "timed out".to_string())?
        // `{:#}`-style: the driver's message and its cause (rustls' reason for a bad peer).
        .map_err(|e| match std::error::Error::source(&e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        })
}

async fn create_schema(client: &Client, settings: &Settings) -> Result<(), StoreError> {
    let unlogged = if settings.unlogged { "UNLOGGED " } else { "" };
    let t = &settings.table;
    let sql = format!(
        "CREATE {unlogged}TABLE IF NOT EXISTS {t} (jti bytea PRIMARY KEY, \
         expires_at timestamptz NOT NULL); \
         CREATE INDEX IF NOT EXISTS {t}_expires_at ON {t} (expires_at);"
    );
    timed(client.batch_execute(&sql)).await
}

async fn prepare(client: Client, table: &str) -> Result<Conn, StoreError> {
    let check = timed(
        client.prepare(&format!("SELECT 1 FROM {table} WHERE jti = $1 AND expires_at > now()")),
    )
    .await?;
    let upsert = timed(client.prepare(&format!(
        "INSERT INTO {table} (jti, expires_at) VALUES ($1, $2) \
         ON CONFLICT (jti) DO UPDATE SET expires_at = EXCLUDED.expires_at"
    )))
    .await?;
    Ok(Conn { client, check, upsert })
}

/// Runs a query with [`QUERY_TIMEOUT`], mapping both failures to a store error.
async fn timed<T>(
    query: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(QUERY_TIMEOUT, query)
        .await
        .map_err(|_| StoreError::backend(BACKEND, "query timed out"))?
        .map_err(|e| StoreError::backend(BACKEND, e))
}

/// The `jti` column's value: the id's 16 bytes, big-endian.
fn key_bytes(jti: Jti) -> Vec<u8> {
    jti.0.to_be_bytes().to_vec()
}

/// `exp` as a timestamp, saturated into PostgreSQL's and `SystemTime`'s range.
fn as_time(unix_seconds: UnixSeconds) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(stored_exp(unix_seconds))
}

/// Deletes expired rows every `cleanup_interval` until the store is dropped.
async fn cleanup_loop(store: Weak<PostgresStore>) {
    let Some(interval) = store.upgrade().map(|s| s.settings.cleanup_interval) else {
        return;
    };
    let mut ticker = tokio::time::interval(interval);
    ticker.tick().await; // the first tick is immediate
    loop {
        ticker.tick().await;
        let Some(store) = store.upgrade() else { return };
        // A failed cleanup is retried at the next tick; the check stays exact meanwhile.
        let _ = store.delete_expired().await;
    }
}

/// The `postgres://user@host:port/db` line of [`crate::revocation::SCHEMES`].
pub(in crate::revocation) static SCHEME: Scheme = Scheme {
    name: BACKEND,
    url_schemes: &["postgres", "postgresql"],
    example: "postgres://user@host:port/db",
    namespacing: Namespacing::Table,
    open: opener!(PostgresStore::connect),
    profile: Profile {
        summary: "deny-list in PostgreSQL: one indexed point query per request",
        needs: "PostgreSQL",
        when_down: profile::FAILS_CLOSED,
        unit: EntryUnit::RevokedToken,
    },
};

#[async_trait]
impl RevocationStore for PostgresStore {
    fn name(&self) -> &'static str {
        SCHEME.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { remembers: true, expires: true, shared: true }
    }

    async fn revoke(&self, jti: Jti, expires_at: UnixSeconds) -> Result<(), StoreError> {
        let conn = self.conn().await?;
        let key = jti.0.to_be_bytes();
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] =
            [&key.as_slice(), &as_time(expires_at)];
        timed(conn.client.execute(&conn.upsert, &params)).await.map(|_| ())
    }

    async fn is_revoked(&self, jti: Jti, _expires_at: UnixSeconds) -> Result<bool, StoreError> {
        let conn = self.conn().await?;
        let key = jti.0.to_be_bytes();
        let row = timed(conn.client.query_opt(&conn.check, &[&key.as_slice()])).await?;
        Ok(row.is_some())
    }

    /// One multi-row upsert for the whole chunk (the inherent method of the same name).
    async fn revoke_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<(), StoreError> {
        PostgresStore::revoke_many(self, entries).await
    }

    /// One `DELETE … WHERE jti = ANY($1)` per [`FORGET_BATCH`] ids.
    async fn forget_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<u64, StoreError> {
        let conn = self.conn().await?;
        let sql = format!("DELETE FROM {} WHERE jti = ANY($1::bytea[])", self.settings.table);
        let mut removed = 0;
        for chunk in entries.chunks(FORGET_BATCH) {
            let jtis: Vec<Vec<u8>> = chunk.iter().map(|(jti, _)| key_bytes(*jti)).collect();
            removed += timed(conn.client.execute(&sql, &[&jtis])).await?;
        }
        Ok(removed)
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        let conn = self.conn().await?;
        let sql = format!(
            "SELECT count(*), pg_total_relation_size('{}') FROM {}",
            self.settings.table, self.settings.table
        );
        let row = timed(conn.client.query_one(&sql, &[])).await?;
        let entries: i64 = row.get(0);
        let bytes: i64 = row.get(1);
        Ok(StoreStats { entries: Some(entries as u64), bytes: Some(bytes as u64) })
    }

    async fn health(&self) -> Result<(), StoreError> {
        let conn = self.conn().await?;
        timed(conn.client.simple_query("SELECT 1")).await.map(|_| ())
    }

    async fn server_version(&self) -> Option<String> {
        let conn = self.conn().await.ok()?;
        let row = timed(conn.client.query_one("SHOW server_version", &[])).await.ok()?;
        Some(format!("PostgreSQL {}", row.get::<_, String>(0)))
    }

    async fn clear(&self) -> Result<(), StoreError> {
        let conn = self.conn().await?;
        timed(conn.client.batch_execute(&format!("TRUNCATE {}", self.settings.table))).await
    }

    async fn destroy(&self) -> Result<(), StoreError> {
        self.drop_table().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// URL parameters are read, validated and removed before the driver sees the URL.
    #[test]
    fn settings_from_url() {
        let s = Settings::parse(
            "postgres://postgres@127.0.0.1:5432/postgres?pool=2&unlogged=true&table=t_1&cleanup_interval=5s",
        )
        .unwrap();
        assert_eq!((s.pool, s.unlogged, s.table.as_str()), (2, true, "t_1"));
        assert_eq!(s.cleanup_interval, Duration::from_secs(5));
        assert_eq!(s.driver_url, "postgres://postgres@127.0.0.1:5432/postgres");
        for bad in ["pool=0", "table=Robert');DROP", "cleanup_interval=soon", "unlogged=maybe"] {
            let err = Settings::parse(&format!("postgres://u@h/db?{bad}")).unwrap_err();
            assert!(matches!(err, StoreError::BadUrl { .. }), "{bad}: {err}");
        }
    }
}
