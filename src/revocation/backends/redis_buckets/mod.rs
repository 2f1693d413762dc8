//! `redis+buckets://host:port/db?prefix=P` — the deny-list in Redis hashes small enough for
//! Redis's compact encoding (listpack), grouped by expiry: about 20–25 bytes per revoked token
//! against 150+ for one key per token (`redis://`).
//!
//! - **By expiry**: a token revoked until `exp` goes to the expiry bucket `e = exp /
//!   BUCKET_SECS`. The check receives the token's `exp` too, so it finds the bucket without
//!   asking. Every key of a bucket expires at the end of its minute (`EXAT`/`EXPIREAT`, the
//!   same second for all, at most [`BUCKET_SECS`] after its last token), so a bucket leaves
//!   Redis whole, with no sweep.
//! - **Sub-buckets (extendible hashing)**: the ids of a bucket are spread over hashes
//!   `P<e>:<a>`, `a` the low `d` bits of the id's hash; a directory string `P<e>:d` holds each
//!   slot's depth `d` (one byte), and each hash its own depth (field `d`). A hash that passes
//!   [`LIMIT`] fields is split in two (its directory doubled when needed; the new hash is
//!   created even when empty), so no hash ever holds more than 128 fields nor a value
//!   over 64 bytes: Redis's *default* listpack limits (`hash-max-listpack-entries 128`,
//!   `hash-max-listpack-value 64`). The server's configuration is never read or changed.
//! - **The field is the id's 16 bytes** (through a fixed bijection, [`Jti::spread`], so that
//!   the sub-buckets fill evenly whatever ids come in; the value is empty).
//! - **One command per check, no script**: each replica keeps a copy of the directories it
//!   has read, and a check is `HMGET <hash> <id> d` of the hash its copy names, in the same
//!   pipelines as `redis://`'s checks of concurrent requests. The hash's depth in the reply
//!   proves the copy right for that id, or stale (another replica split the hash): then the
//!   check script (atomic: the directory byte, then `HEXISTS`) answers, in the next pipeline
//!   beside a `GET` of the directory that refreshes the copy (`check.rs`). A check of a token
//!   whose `exp` has passed answers `false` without asking.
//! - Revocations are one script call each (atomic in Redis); fills send [`FILL_CHUNK`] per
//!   call, one call at a time; `forget_many` is a third script, an `HDEL` in the hash the
//!   directory names (no merge: sub-buckets only split).
//!
//! Standalone Redis only: the scripts touch keys they compute, which a cluster forbids.

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::TryStreamExt;

use crate::revocation::backends::redis::batch::CheckBatcher;
use crate::revocation::backends::redis::{info_field, scan_prefix};
use crate::revocation::url_params::StoreUrl;
use crate::revocation::{
    opener, profile, stored_exp, Capabilities, EntryUnit, Jti, Namespacing, Profile, RedisStore,
    RevocationStore, Scheme, StoreError, StoreStats,
};
use crate::time::{now_secs, UnixSeconds};

mod check;
mod scripts;

use check::{BucketChecks, Directories, Query};
use scripts::Script;

/// Key prefix used when the URL sets none.
pub const DEFAULT_PREFIX: &str = "revbench:buckets:";
const BACKEND: &str = "redis-buckets";
/// Width of an expiry bucket, in seconds.
pub const BUCKET_SECS: u64 = 60;
/// A hash with more fields than this is split: one insert takes it to at most 128, Redis's
/// default `hash-max-listpack-entries`.
pub const LIMIT: usize = 127;
/// Revocations per script call in a fill: each call holds Redis for about a millisecond.
const FILL_CHUNK: usize = 100;

/// The deny-list in bucketed hashes.
pub struct RedisBucketsStore {
    redis: RedisStore,
    revoke: Script,
    forget: Script,
    checks: Arc<CheckBatcher<BucketChecks>>,
    /// This replica's copy of the directories, which checks read and refresh.
    directories: Arc<Directories>,
}

impl RedisBucketsStore {
    /// Connects, checks the server answers and loads the scripts.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        // `redis+buckets://…` is `redis://…` for the driver.
        let plain = url.strip_prefix("redis+buckets").map(|rest| format!("redis{rest}"));
        let parsed = StoreUrl::parse(plain.as_deref().unwrap_or(url))?;
        let redis = RedisStore::connect_parsed(parsed, DEFAULT_PREFIX).await?;
        let load = |body: String| Script::load(redis.connection(), body, BACKEND);
        let revoke = load(scripts::REVOKE.replace("#LIMIT#", &LIMIT.to_string())).await?;
        let forget = load(scripts::FORGET.to_string()).await?;
        let directories = Arc::new(Directories::default());
        let plan = BucketChecks {
            prefix: redis.prefix().to_string(),
            script: load(scripts::CHECK.to_string()).await?,
            directories: directories.clone(),
        };
        let checks = CheckBatcher::new(redis.connection(), BACKEND, plan);
        Ok(Self { redis, revoke, forget, checks, directories })
    }

    /// One script call per [`FILL_CHUNK`] entries (all live), each a request of its own: a
    /// whole batch in one pipeline could outlast the connection's response timeout while
    /// hashes split.
    async fn revoke_live(&self, entries: &[(Jti, UnixSeconds)]) -> Result<(), StoreError> {
        let mut conn = self.redis.connection();
        for chunk in entries.chunks(FILL_CHUNK) {
            let args = |cmd: &mut redis::Cmd| {
                cmd.arg(0).arg(self.redis.prefix());
                for &(jti, exp) in chunk {
                    let bucket = bucket_of(exp);
                    cmd.arg(bucket).arg(field(jti).as_slice()).arg(bucket_end(bucket));
                }
            };
            self.revoke
                .run::<()>(&mut conn, args)
                .await
                .map_err(|e| StoreError::backend(BACKEND, e))?;
        }
        Ok(())
    }

    /// Removes the fields of `entries`, [`FILL_CHUNK`] per script call; returns how many were
    /// held.
    async fn forget_fields(&self, entries: &[(Jti, UnixSeconds)]) -> Result<u64, StoreError> {
        let mut conn = self.redis.connection();
        let mut removed = 0;
        for chunk in entries.chunks(FILL_CHUNK) {
            let args = |cmd: &mut redis::Cmd| {
                cmd.arg(0).arg(self.redis.prefix());
                for &(jti, exp) in chunk {
                    cmd.arg(bucket_of(exp)).arg(field(jti).as_slice());
                }
            };
            removed += self
                .forget
                .run::<u64>(&mut conn, args)
                .await
                .map_err(|e| StoreError::backend(BACKEND, e))?;
        }
        Ok(removed)
    }

    /// Ids held under this store's prefix (one `HLEN` per hash, pipelined per `SCAN` step, less
    /// the depth field each hash holds).
    async fn count_fields(&self) -> Result<u64, StoreError> {
        let mut conn = self.redis.connection();
        let mut batches = std::pin::pin!(scan_prefix(&mut conn, self.redis.prefix(), BACKEND));
        let mut count = 0;
        while let Some(keys) = batches.try_next().await? {
            let mut pipe = redis::pipe();
            for key in keys.iter().filter(|k| !k.ends_with(":d")) {
                pipe.cmd("HLEN").arg(key);
            }
            let lens: Vec<u64> = pipe
                .query_async(&mut self.redis.connection())
                .await
                .map_err(|e| StoreError::backend(BACKEND, e))?;
            count += lens.iter().map(|len| len.saturating_sub(1)).sum::<u64>();
        }
        Ok(count)
    }
}

/// The expiry bucket of a token expiring at `exp`.
fn bucket_of(exp: UnixSeconds) -> UnixSeconds {
    stored_exp(exp) / BUCKET_SECS
}

/// When every key of `bucket` expires: the end of its minute, after every `exp` in it.
fn bucket_end(bucket: UnixSeconds) -> UnixSeconds {
    (bucket + 1) * BUCKET_SECS
}

/// The hash field of `jti`: its 16 bytes through the fixed bijection, big-endian (the scripts
/// address sub-buckets by the first four, [`slot_hash`]).
fn field(jti: Jti) -> [u8; 16] {
    jti.spread(0).to_be_bytes()
}

/// The number whose low bits address a field's sub-bucket: its first four bytes.
fn slot_hash(field: &[u8; 16]) -> u32 {
    u32::from_be_bytes([field[0], field[1], field[2], field[3]])
}

/// The directory of `bucket`: one depth byte per slot.
fn dir_key(prefix: &str, bucket: UnixSeconds) -> String {
    format!("{prefix}{bucket}:d")
}

/// What the names of `bucket`'s hashes start with (the address follows).
fn hash_prefix(prefix: &str, bucket: UnixSeconds) -> String {
    format!("{prefix}{bucket}:")
}

/// The hash of `bucket` at address `addr`.
fn hash_key(prefix: &str, bucket: UnixSeconds, addr: u64) -> String {
    format!("{prefix}{bucket}:{addr}")
}

/// The `redis+buckets://` line of [`crate::revocation::SCHEMES`].
pub(in crate::revocation) static SCHEME: Scheme = Scheme {
    name: BACKEND,
    url_schemes: &["redis+buckets"],
    example: "redis+buckets://host:port/db",
    namespacing: Namespacing::KeyPrefix,
    open: opener!(RedisBucketsStore::connect),
    profile: Profile {
        summary: "deny-list in small Redis hashes by expiry minute: one `HMGET` per request",
        needs: "Redis (standalone)",
        when_down: profile::FAILS_CLOSED,
        unit: EntryUnit::RevokedToken,
    },
};

#[async_trait]
impl RevocationStore for RedisBucketsStore {
    fn name(&self) -> &'static str {
        BACKEND
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { remembers: true, expires: true, shared: true }
    }

    async fn revoke(&self, jti: Jti, expires_at: UnixSeconds) -> Result<(), StoreError> {
        self.revoke_many(&[(jti, expires_at)]).await
    }

    /// One `HMGET` in the pipeline of concurrent checks, of the hash this replica's copy of
    /// the directory names; when the copy proves stale, the check script and a fresh copy in
    /// the next pipeline (see `check.rs`). None once `exp` has passed.
    async fn is_revoked(&self, jti: Jti, expires_at: UnixSeconds) -> Result<bool, StoreError> {
        if expires_at <= now_secs() {
            return Ok(false);
        }
        let (bucket, field) = (bucket_of(expires_at), field(jti));
        let (addr, depth) = self.directories.locate(bucket, &field);
        if let Some(revoked) = self.checks.ask(Query::Cached { bucket, field, addr, depth }).await?
        {
            return Ok(revoked);
        }
        let exact = self.checks.ask(Query::Exact { bucket, field }).await?;
        exact.ok_or_else(|| StoreError::backend(BACKEND, "the check script's answer was lost"))
    }

    /// Entries whose `exp` has passed are left out: they would never be asked for.
    async fn revoke_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<(), StoreError> {
        let now = now_secs();
        let live: Vec<(Jti, UnixSeconds)> =
            entries.iter().copied().filter(|&(_, exp)| exp > now).collect();
        if live.is_empty() {
            return Ok(());
        }
        self.revoke_live(&live).await
    }

    async fn forget_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<u64, StoreError> {
        self.forget_fields(entries).await
    }

    /// `entries` counts the fields of every hash under the prefix; `bytes` is `used_memory`
    /// (the whole server, as for `redis://`).
    async fn stats(&self) -> Result<StoreStats, StoreError> {
        let entries = self.count_fields().await?;
        let mut info = redis::cmd("INFO");
        info.arg("memory");
        let info: String = info
            .query_async(&mut self.redis.connection())
            .await
            .map_err(|e| StoreError::backend(BACKEND, e))?;
        Ok(StoreStats { entries: Some(entries), bytes: info_field(&info, "used_memory") })
    }

    async fn health(&self) -> Result<(), StoreError> {
        self.redis.health().await
    }

    async fn server_version(&self) -> Option<String> {
        self.redis.server_version().await
    }

    async fn clear(&self) -> Result<(), StoreError> {
        self.directories.forget();
        self.redis.clear().await
    }
}
