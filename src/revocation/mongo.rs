//! `mongodb://host:port/db` — one document `{_id: <jti>, expiresAt: Date}` per revoked token in
//! the collection `revoked_tokens` (database from the URL path, default `revbench`), with a TTL
//! index (`expireAfterSeconds: 0`) on `expiresAt`.
//!
//! MongoDB's TTL monitor deletes expired documents only about every 60 s, so the check filters
//! on `expiresAt > now` itself: the answer is exact while removal lags.
//!
//! `stats()` reports the collection's document count (including expired documents the TTL
//! monitor has not removed) and `collStats` `size + totalIndexSize`.

use std::time::Duration;

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::future::BoxFuture;
use mongodb::bson::{doc, DateTime, Document};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Collection, Database, IndexModel};

use super::{
    Capabilities, Jti, Namespacing, RevocationStore, Scheme, SharedStore, StoreError, StoreStats,
};
use crate::time::now_millis;
use crate::time::UnixSeconds;

/// Database used when the URL names none.
pub const DEFAULT_DATABASE: &str = "revbench";
/// The collection holding revoked ids.
pub const COLLECTION: &str = "revoked_tokens";

const BACKEND: &str = "mongodb";
const FIX: &str = "start MongoDB (`docker compose up -d mongodb`) or pass another --store URL";
const SELECTION_TIMEOUT: Duration = Duration::from_secs(2);

/// A MongoDB-backed revocation list.
#[derive(Clone)]
pub struct MongoStore {
    database: Database,
    collection: Collection<Document>,
}

impl MongoStore {
    /// Connects, checks the server answers `ping`, and creates the TTL index if missing.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let mut options = ClientOptions::parse(url)
            .await
            .map_err(|e| StoreError::BadUrl { url: url.to_string(), reason: e.to_string() })?;
        // Fail fast: the driver's default waits 30 s for a server before giving up.
        options.server_selection_timeout.get_or_insert(SELECTION_TIMEOUT);
        options.connect_timeout.get_or_insert(SELECTION_TIMEOUT);
        let database = options.default_database.clone().unwrap_or(DEFAULT_DATABASE.to_string());
        let client = Client::with_options(options)
            .map_err(|e| StoreError::BadUrl { url: url.to_string(), reason: e.to_string() })?;
        let database = client.database(&database);
        let collection = database.collection::<Document>(COLLECTION);
        let store = Self { database, collection };
        // The driver's error carries the whole topology description; the first clause says
        // what happened ("Server selection timeout: No available servers").
        let unreachable = |e: StoreError| StoreError::Unreachable {
            backend: BACKEND,
            url: url.to_string(),
            reason: e.to_string().split(". Topology:").next().unwrap_or_default().to_string(),
            fix: FIX,
        };
        store.health().await.map_err(unreachable)?;
        let ttl_index = IndexModel::builder()
            .keys(doc! { "expiresAt": 1 })
            .options(IndexOptions::builder().expire_after(Duration::ZERO).build())
            .build();
        store.collection.create_index(ttl_index).await.map_err(backend_error)?;
        Ok(store)
    }

    /// The collection, for bulk work such as batched fills.
    pub fn collection(&self) -> &Collection<Document> {
        &self.collection
    }
}

fn backend_error(e: mongodb::error::Error) -> StoreError {
    StoreError::backend(BACKEND, e)
}

fn as_date(unix_seconds: UnixSeconds) -> DateTime {
    DateTime::from_millis(super::stored_exp_millis(unix_seconds) as i64)
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

/// The `mongodb://host:port/db` line of [`super::SCHEMES`].
pub(super) static SCHEME: Scheme = Scheme {
    name: BACKEND,
    url_schemes: &["mongodb"],
    example: "mongodb://host:port/db",
    namespacing: Namespacing::Database,
    open,
};

fn open(url: &str) -> BoxFuture<'_, Result<SharedStore, StoreError>> {
    Box::pin(async move { Ok(Arc::new(MongoStore::connect(url).await?) as SharedStore) })
}

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
        self.collection
            .update_one(
                doc! { "_id": jti.to_string() },
                doc! { "$set": { "expiresAt": as_date(expires_at) } },
            )
            .upsert(true)
            .await
            .map_err(backend_error)?;
        Ok(())
    }

    async fn is_revoked(&self, jti: Jti) -> Result<bool, StoreError> {
        let now = DateTime::from_millis(now_millis() as i64);
        let found = self
            .collection
            .find_one(doc! { "_id": jti.to_string(), "expiresAt": { "$gt": now } })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(backend_error)?;
        Ok(found.is_some())
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        let entries = self.collection.estimated_document_count().await.map_err(backend_error)?;
        let reply = self
            .database
            .run_command(doc! { "collStats": COLLECTION })
            .await
            .map_err(backend_error)?;
        let bytes = match (number(&reply, "size"), number(&reply, "totalIndexSize")) {
            (Some(data), Some(index)) => Some(data + index),
            _ => None,
        };
        Ok(StoreStats { entries: Some(entries), bytes })
    }

    async fn health(&self) -> Result<(), StoreError> {
        self.database.run_command(doc! { "ping": 1 }).await.map(|_| ()).map_err(backend_error)
    }

    async fn server_version(&self) -> Option<String> {
        let info = self.database.run_command(doc! { "buildInfo": 1 }).await.ok()?;
        info.get_str("version").ok().map(|v| format!("MongoDB {v}"))
    }

    async fn clear(&self) -> Result<(), StoreError> {
        self.collection.delete_many(doc! {}).await.map_err(backend_error)?;
        Ok(())
    }
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
}
