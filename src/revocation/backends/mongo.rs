//! `mongodb://host:port/db` — one document `{_id: <jti>, expiresAt: Date}` per revoked token in
//! the collection `revoked_tokens` (database from the URL path, default `revbench`), with a TTL
//! index (`expireAfterSeconds: 0`) on `expiresAt`.
//!
//! - MongoDB's TTL monitor deletes expired documents only about every 60 s, so the check filters
//!   on `expiresAt > now` itself: the answer is exact while removal lags.
//! - Every operation is bounded: the driver has no per-operation timeout (only server selection
//!   and connecting are), so a server that accepts bytes and never answers would hang each
//!   check. A check, revoke or ping waits [`OPERATION_TIMEOUT`] (as Redis's 1 s; MongoDB's own
//!   URI option `timeoutMS=N` sets another), bulk and maintenance work `MAINTENANCE_TIMEOUT`;
//!   past that it is a store error (→ 503). The wait for a pooled connection counts: a burst
//!   the server cannot serve within the bound gets errors, not an ever longer queue.
//! - `revoke_many` sends one unordered `update` command of upserts per `BULK_BATCH` ids.
//! - The server is identified once at connect ([`MongoServer`]): a wire-compatible stand-in is
//!   named as itself and its figures carry a caveat.
//!
//! `stats()` reports the collection's document count (including expired documents the TTL
//! monitor has not removed) and its **on-disk** size: `storageStats.storageSize +
//! totalIndexSize` from the `$collStats` aggregation stage (the `collStats` command, deprecated
//! since MongoDB 6.2, when the server lacks the stage). `storageSize` is compressed data blocks
//! including free space the engine keeps; the uncompressed `size` is not used, so data and
//! indexes are counted the same way.

use std::future::IntoFuture;
use std::time::Duration;

use async_trait::async_trait;
use mongodb::bson::{doc, DateTime, Document};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Collection, Database, IndexModel};

use crate::revocation::backends::mongo_server::MongoServer;
use crate::revocation::{
    opener, profile, Capabilities, EntryUnit, Jti, Namespacing, Profile, RevocationStore, Scheme,
    StoreError, StoreStats,
};
use crate::time::now_millis;
use crate::time::UnixSeconds;

/// Database used when the URL names none.
const DEFAULT_DATABASE: &str = "revbench";
/// The collection holding revoked ids.
const COLLECTION: &str = "revoked_tokens";
/// How long a check, revoke or ping may take before it counts as a store error, unless the
/// URL's `timeoutMS` says otherwise.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(1);
/// The bound for bulk upserts, counts, size queries, deletes and drops.
const MAINTENANCE_TIMEOUT: Duration = Duration::from_secs(30);
/// Upserts per `update` command: far below the server's 100,000-statement and 48 MB limits.
const BULK_BATCH: usize = 10_000;

const BACKEND: &str = "mongodb";
const FIX: &str = "start MongoDB (`docker compose up -d mongodb`, or `nx-27017 --db memory` for a \
                   wire-compatible stand-in) or pass another --store URL";
/// How long an operation waits for a usable server. Short, so that while the server refuses
/// connections a check fails at once instead of holding the request for the whole bound (the
/// driver's default waits 30 s); `serverSelectionTimeoutMS` in the URL overrides it.
const SELECTION_TIMEOUT: Duration = Duration::from_millis(250);
/// How long connecting (TCP + handshake) may take, and how long `connect` keeps trying.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A MongoDB-backed revocation list.
#[derive(Clone)]
pub struct MongoStore {
    database: Database,
    collection: Collection<Document>,
    server: MongoServer,
    /// The bound on checks, revokes and pings.
    operation_timeout: Duration,
}

impl MongoStore {
    /// Connects, checks the server answers `ping`, identifies it, and creates the TTL index
    /// if missing.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let (driver_url, operation_timeout) = take_timeout(url)?;
        let mut options = ClientOptions::parse(&driver_url)
            .await
            .map_err(|e| StoreError::BadUrl { url: url.to_string(), reason: e.to_string() })?;
        options.server_selection_timeout.get_or_insert(SELECTION_TIMEOUT);
        options.connect_timeout.get_or_insert(CONNECT_TIMEOUT);
        let database = options.default_database.clone().unwrap_or(DEFAULT_DATABASE.to_string());
        let client = Client::with_options(options)
            .map_err(|e| StoreError::BadUrl { url: url.to_string(), reason: e.to_string() })?;
        let database = client.database(&database);
        let collection = database.collection::<Document>(COLLECTION);
        let unreachable = |e: StoreError| StoreError::Unreachable {
            backend: BACKEND,
            url: url.to_string(),
            reason: match e {
                StoreError::Backend { message, .. } => message,
                other => other.to_string(),
            },
            fix: FIX,
        };
        first_ping(&database, operation_timeout).await.map_err(unreachable)?;
        let server = identify(&client, operation_timeout).await;
        let store = Self { database, collection, server, operation_timeout };
        let ttl_index = IndexModel::builder()
            .keys(doc! { "expiresAt": 1 })
            .options(IndexOptions::builder().expire_after(Duration::ZERO).build())
            .build();
        bounded(MAINTENANCE_TIMEOUT, "createIndex", store.collection.create_index(ttl_index))
            .await?;
        Ok(store)
    }

    /// Drops the whole database: for namespaces revbench created itself, never a user's.
    async fn drop_database(&self) -> Result<(), StoreError> {
        bounded(MAINTENANCE_TIMEOUT, "dropDatabase", self.database.drop()).await
    }

    /// On-disk bytes of the collection and its indexes (see the module docs).
    async fn on_disk_bytes(&self) -> Result<Option<u64>, StoreError> {
        let per_shard = tokio::time::timeout(MAINTENANCE_TIMEOUT, async {
            let mut cursor =
                self.collection.aggregate([doc! { "$collStats": { "storageStats": {} } }]).await?;
            let mut sizes = Vec::new();
            while cursor.advance().await? {
                let reply: Document = cursor.deserialize_current()?;
                sizes.push(reply.get_document("storageStats").ok().and_then(on_disk));
            }
            Ok::<_, mongodb::error::Error>(sizes)
        })
        .await
        .map_err(|_| no_answer("$collStats", MAINTENANCE_TIMEOUT))?;
        match per_shard {
            // A sharded collection answers one document per shard.
            Ok(sizes) if !sizes.is_empty() => Ok(sizes.into_iter().sum()),
            // The server refused the stage (or answered nothing): ask the old command.
            _ => {
                let command = self.database.run_command(doc! { "collStats": COLLECTION });
                Ok(on_disk(&bounded(MAINTENANCE_TIMEOUT, "collStats", command).await?))
            }
        }
    }
}

/// Pings until the server answers, for up to [`CONNECT_TIMEOUT`]: the first server selection
/// also waits for the driver's first handshake, which may take longer than
/// [`SELECTION_TIMEOUT`].
async fn first_ping(database: &Database, limit: Duration) -> Result<(), StoreError> {
    let deadline = tokio::time::Instant::now() + CONNECT_TIMEOUT;
    loop {
        let ping = database.run_command(doc! { "ping": 1 });
        match bounded(limit, "ping", ping).await {
            Ok(_) => return Ok(()),
            Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Asks the server who it is; a refusal (no `clusterMonitor` role) leaves that reply out.
async fn identify(client: &Client, limit: Duration) -> MongoServer {
    let admin = client.database("admin");
    let ask = |command: Document| {
        let admin = admin.clone();
        async move { bounded(limit, "identify", admin.run_command(command)).await.ok() }
    };
    let status = ask(doc! { "serverStatus": 1 }).await;
    let build = ask(doc! { "buildInfo": 1 }).await;
    MongoServer::identify(status.as_ref(), build.as_ref())
}

/// Databases on the URL's server whose names start with `prefix` (`revbench clean`).
pub(crate) async fn databases_starting(url: &str, prefix: &str) -> Result<Vec<String>, StoreError> {
    let (driver_url, _) = take_timeout(url)?;
    let bad = |e: mongodb::error::Error| StoreError::BadUrl {
        url: crate::redact::redact(url),
        reason: e.to_string(),
    };
    let mut options = ClientOptions::parse(&driver_url).await.map_err(bad)?;
    options.server_selection_timeout.get_or_insert(SELECTION_TIMEOUT);
    options.connect_timeout.get_or_insert(CONNECT_TIMEOUT);
    let client = Client::with_options(options).map_err(bad)?;
    let names = bounded(MAINTENANCE_TIMEOUT, "listDatabases", client.list_database_names()).await?;
    Ok(names.into_iter().filter(|name| name.starts_with(prefix)).collect())
}

/// Runs `operation` for at most `limit`; a driver error or the deadline is a store error.
async fn bounded<T>(
    limit: Duration,
    what: &str,
    operation: impl IntoFuture<Output = mongodb::error::Result<T>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(limit, operation.into_future()).await {
        Ok(result) => result.map_err(backend_error),
        // Dropping the operation mid-command makes the driver close that connection rather
        // than reuse it, so a late reply cannot be read by the next operation.
        Err(_) => Err(no_answer(what, limit)),
    }
}

fn no_answer(what: &str, limit: Duration) -> StoreError {
    StoreError::backend(BACKEND, format!("{what} got no answer within {} ms", limit.as_millis()))
}

fn backend_error(e: mongodb::error::Error) -> StoreError {
    // The driver's message carries the whole topology description; the first clause says
    // what happened ("Server selection timeout: No available servers").
    let message = e.to_string();
    StoreError::backend(BACKEND, message.split(". Topology:").next().unwrap_or_default())
}

fn as_date(unix_seconds: UnixSeconds) -> DateTime {
    DateTime::from_millis(crate::revocation::stored_exp_millis(unix_seconds) as i64)
}

/// Reads a numeric field that MongoDB may return as i32, i64 or f64.
fn number(doc: &Document, field: &str) -> Option<u64> {
    match doc.get(field)? {
        mongodb::bson::Bson::Int32(v) => u64::try_from(*v).ok(),
        mongodb::bson::Bson::Int64(v) => u64::try_from(*v).ok(),
        mongodb::bson::Bson::Double(v) => Some(*v as u64),
        _ => None,
    }
}

/// `storageSize + totalIndexSize`: data and indexes as stored on disk.
fn on_disk(stats: &Document) -> Option<u64> {
    Some(number(stats, "storageSize")? + number(stats, "totalIndexSize")?)
}

/// The reason an unordered `update` command's reply reports, if any statement failed.
fn write_failure(reply: &Document, sent: usize) -> Option<String> {
    if let Ok(errors) = reply.get_array("writeErrors") {
        let first = errors.first().map(ToString::to_string).unwrap_or_default();
        return Some(format!("{} of {sent} upserts failed; first: {first}", errors.len()));
    }
    reply.get_document("writeConcernError").ok().map(|e| format!("write concern failed: {e}"))
}

/// The `mongodb://host:port/db` line of [`crate::revocation::SCHEMES`].
pub(in crate::revocation) static SCHEME: Scheme = Scheme {
    name: BACKEND,
    url_schemes: &["mongodb"],
    example: "mongodb://host:port/db",
    namespacing: Namespacing::Database,
    open: opener!(MongoStore::connect),
    profile: Profile {
        summary: "deny-list in MongoDB: one query by `_id` per request, TTL index",
        needs: "MongoDB",
        when_down: profile::FAILS_CLOSED,
        unit: EntryUnit::RevokedToken,
    },
};

#[async_trait]
impl RevocationStore for MongoStore {
    fn name(&self) -> &'static str {
        SCHEME.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { remembers: true, expires: true, shared: true }
    }

    async fn revoke(&self, jti: Jti, expires_at: UnixSeconds) -> Result<(), StoreError> {
        // An upsert keyed by _id makes a repeated revoke a no-op instead of a duplicate-key error.
        let upsert = self
            .collection
            .update_one(
                doc! { "_id": jti.to_string() },
                doc! { "$set": { "expiresAt": as_date(expires_at) } },
            )
            .upsert(true);
        bounded(self.operation_timeout, "revoke", upsert).await.map(|_| ())
    }

    async fn is_revoked(&self, jti: Jti, _expires_at: UnixSeconds) -> Result<bool, StoreError> {
        let now = DateTime::from_millis(now_millis() as i64);
        let find = self
            .collection
            .find_one(doc! { "_id": jti.to_string(), "expiresAt": { "$gt": now } })
            .projection(doc! { "_id": 1 });
        Ok(bounded(self.operation_timeout, "check", find).await?.is_some())
    }

    /// One unordered `update` command of upserts per `BULK_BATCH` ids: the server applies
    /// them in any order and keeps going past a failed one (reported as an error). The driver's
    /// `Client::bulk_write` would need MongoDB 8.0.
    async fn revoke_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<(), StoreError> {
        for batch in entries.chunks(BULK_BATCH) {
            let updates: Vec<Document> = batch
                .iter()
                .map(|&(jti, expires_at)| {
                    doc! {
                        "q": { "_id": jti.to_string() },
                        "u": { "$set": { "expiresAt": as_date(expires_at) } },
                        "upsert": true,
                    }
                })
                .collect();
            let command = doc! { "update": COLLECTION, "updates": updates, "ordered": false };
            let reply =
                bounded(MAINTENANCE_TIMEOUT, "bulk upsert", self.database.run_command(command))
                    .await?;
            if let Some(reason) = write_failure(&reply, batch.len()) {
                return Err(StoreError::backend(BACKEND, reason));
            }
        }
        Ok(())
    }

    /// One `delete` of `_id` in the batch per `BULK_BATCH` ids.
    async fn forget_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<u64, StoreError> {
        let mut removed = 0;
        for batch in entries.chunks(BULK_BATCH) {
            let ids: Vec<String> = batch.iter().map(|(jti, _)| jti.to_string()).collect();
            let delete = self.collection.delete_many(doc! { "_id": { "$in": ids } });
            removed += bounded(MAINTENANCE_TIMEOUT, "delete", delete).await?.deleted_count;
        }
        Ok(removed)
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        let count = self.collection.estimated_document_count();
        let entries = bounded(MAINTENANCE_TIMEOUT, "count", count).await?;
        Ok(StoreStats { entries: Some(entries), bytes: self.on_disk_bytes().await? })
    }

    async fn health(&self) -> Result<(), StoreError> {
        let ping = self.database.run_command(doc! { "ping": 1 });
        bounded(self.operation_timeout, "ping", ping).await.map(|_| ())
    }

    async fn server_version(&self) -> Option<String> {
        Some(self.server.to_string())
    }

    async fn server_caveat(&self) -> Option<String> {
        self.server.caveat().map(str::to_string)
    }

    async fn clear(&self) -> Result<(), StoreError> {
        let delete = self.collection.delete_many(doc! {});
        bounded(MAINTENANCE_TIMEOUT, "delete", delete).await.map(|_| ())
    }

    /// Drops the whole database: stores are only destroyed in namespaces revbench created.
    async fn destroy(&self) -> Result<(), StoreError> {
        self.drop_database().await
    }
}

/// `url` without its `timeoutMS` option, and the bound it sets (default
/// [`OPERATION_TIMEOUT`]). The driver does not implement `timeoutMS` and refuses unknown
/// options, so revbench takes it out and applies it itself. Done on the text, not through a URL
/// parser, so multi-host URLs (`mongodb://a:27017,b:27017/db`) pass untouched.
fn take_timeout(url: &str) -> Result<(String, Duration), StoreError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_string(), OPERATION_TIMEOUT));
    };
    let mut timeout = OPERATION_TIMEOUT;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some((key, value)) if key.eq_ignore_ascii_case("timeoutMS") => {
                let bad = || StoreError::BadUrl {
                    url: url.to_string(),
                    reason: format!(
                        "`timeoutMS={value}` must be a whole number of milliseconds, at least 1"
                    ),
                };
                let millis: u64 = value.parse().map_err(|_| bad())?;
                if millis == 0 {
                    return Err(bad());
                }
                timeout = Duration::from_millis(millis);
            }
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
    Ok((url, timeout))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// collStats numbers are read whatever numeric type the server chose.
    #[test]
    fn numbers_of_any_width() {
        let reply = doc! { "size": 10_i32, "totalIndexSize": 20_i64, "avg": 1.5_f64, "s": "x" };
        assert_eq!(number(&reply, "size"), Some(10));
        assert_eq!(number(&reply, "totalIndexSize"), Some(20));
        assert_eq!(number(&reply, "avg"), Some(1));
        assert_eq!(number(&reply, "s"), None);
        assert_eq!(number(&reply, "missing"), None);
    }

    /// The reported size is on-disk data plus indexes, never the uncompressed `size`.
    #[test]
    fn size_is_on_disk() {
        let stats =
            doc! { "size": 1_000_000_i64, "storageSize": 40_960_i32, "totalIndexSize": 8_192_i32 };
        assert_eq!(on_disk(&stats), Some(49_152));
        assert_eq!(on_disk(&doc! { "size": 10 }), None);
    }

    /// `timeoutMS` is taken out of the URL and becomes the bound; bad values are refused.
    #[test]
    fn timeout_ms_sets_the_bound() {
        let default = take_timeout("mongodb://a:1,b:2/db").unwrap();
        assert_eq!(default, ("mongodb://a:1,b:2/db".to_string(), OPERATION_TIMEOUT));
        let (url, bound) = take_timeout("mongodb://h/db?w=1&timeoutMS=250&tls=true").unwrap();
        assert_eq!(
            (url.as_str(), bound),
            ("mongodb://h/db?w=1&tls=true", Duration::from_millis(250))
        );
        let (url, _) = take_timeout("mongodb://h/db?timeoutMS=5000").unwrap();
        assert_eq!(url, "mongodb://h/db");
        for bad in ["mongodb://h/?timeoutMS=0", "mongodb://h/?timeoutMS=1s"] {
            let err = take_timeout(bad).unwrap_err().to_string();
            assert!(err.contains("timeoutMS") && err.contains("milliseconds"), "{err}");
        }
    }

    /// A bulk reply with failed statements is an error naming how many failed.
    #[test]
    fn bulk_write_errors_are_reported() {
        let ok = doc! { "n": 3, "nModified": 0, "ok": 1.0 };
        assert_eq!(write_failure(&ok, 3), None);
        let failed =
            doc! { "n": 2, "writeErrors": [{ "index": 1, "code": 11000, "errmsg": "dup" }] };
        let reason = write_failure(&failed, 3).unwrap();
        assert!(reason.starts_with("1 of 3 upserts failed"), "{reason}");
    }
}
