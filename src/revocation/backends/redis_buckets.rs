//! `redis+buckets://host:port/db?prefix=P` — the deny-list in Redis hashes small enough for
//! Redis's compact encoding (listpack), grouped by expiry: about 20–25 bytes per revoked token
//! against 150+ for one key per token (`redis://`).
//!
//! - **By expiry**: a token revoked until `exp` goes to the expiry bucket `e = exp /
//!   BUCKET_SECS`. The check receives the token's `exp` too, so it finds the bucket without
//!   asking. Every key of a bucket expires when the last token in it does (`EXPIREAT`, raised
//!   to the latest `exp` written to it), so a bucket leaves Redis whole, with no sweep.
//! - **Sub-buckets (extendible hashing)**: the ids of a bucket are spread over hashes
//!   `P<e>:<a>`, `a` the low `d` bits of the id's hash; a directory string `P<e>:d` holds each
//!   slot's depth `d` (one byte). A hash that passes [`LIMIT`] fields is split in two (its
//!   directory doubled when needed), so no hash ever holds more than 128 fields nor a value
//!   over 64 bytes: Redis's *default* listpack limits (`hash-max-listpack-entries 128`,
//!   `hash-max-listpack-value 64`). The server's configuration is never read or changed.
//! - **The field is the id's 16 bytes** (through a fixed bijection, [`Jti::spread`], so that
//!   the sub-buckets fill evenly whatever ids come in; the value is empty).
//! - **One round trip per check**: a script reads the directory byte and runs `HEXISTS`
//!   (`EVALSHA`), in the same pipelines as `redis://`'s checks of concurrent requests. A check
//!   of a token whose `exp` has passed answers `false` without asking.
//! - Revocations are one script call each (atomic in Redis); fills send [`FILL_CHUNK`] per
//!   call, one call at a time; `forget_many` is a third script, an `HDEL` in the hash the
//!   directory names (no merge: sub-buckets only split).
//!
//! Standalone Redis only: the scripts touch keys they compute, which a cluster forbids.

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::TryStreamExt;

use crate::revocation::backends::redis::batch::{is_noscript, CheckBatcher, CheckCommand};
use crate::revocation::backends::redis::{info_field, scan_prefix};
use crate::revocation::url_params::StoreUrl;
use crate::revocation::{
    opener, profile, stored_exp, Capabilities, EntryUnit, Jti, Namespacing, Profile, RedisStore,
    RevocationStore, Scheme, StoreError, StoreStats,
};
use crate::time::{now_secs, UnixSeconds};

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

/// `KEYS[1]` the bucket's directory, `ARGV[1]` its hash prefix, `ARGV[2]` the 16-byte field:
/// 1 if the field is in the hash its directory slot names.
const CHECK: &str = r"
local len = redis.call('STRLEN', KEYS[1])
if len == 0 then return 0 end
local f = ARGV[2]
local h = ((string.byte(f, 1) * 256 + string.byte(f, 2)) * 256 + string.byte(f, 3)) * 256
  + string.byte(f, 4)
local d = string.byte(redis.call('GETRANGE', KEYS[1], h % len, h % len))
return redis.call('HEXISTS', ARGV[1] .. string.format('%d', h % 2 ^ d), f)
";

/// `ARGV[1]` the key prefix, then `(bucket, field, exp)` triples: adds each field to its
/// bucket's hash, splitting any hash that passes `LIMIT` (`ARGV` `#LIMIT#` is replaced by the
/// constant); returns how many fields were new.
const REVOKE: &str = r"
local P = ARGV[1]
local added = 0
local function hash(f)
  return ((string.byte(f, 1) * 256 + string.byte(f, 2)) * 256 + string.byte(f, 3)) * 256
    + string.byte(f, 4)
end
local function stretch(k, t)
  if redis.call('EXPIRETIME', k) < t then redis.call('EXPIREAT', k, t) end
end
for x = 2, #ARGV, 3 do
  local f, t = ARGV[x + 1], tonumber(ARGV[x + 2])
  local dir, hp = P .. ARGV[x] .. ':d', P .. ARGV[x] .. ':'
  local len = redis.call('STRLEN', dir)
  if len == 0 then redis.call('SET', dir, '\0'); len = 1 end
  stretch(dir, t)
  local h = hash(f)
  local d = string.byte(redis.call('GETRANGE', dir, h % len, h % len))
  local a = h % 2 ^ d
  local k = hp .. string.format('%d', a)
  added = added + redis.call('HSET', k, f, '')
  stretch(k, t)
  while redis.call('HLEN', k) > #LIMIT# and d < 32 do
    if 2 ^ d == len then
      redis.call('APPEND', dir, redis.call('GET', dir))
      len = len * 2
    end
    local hi = a + 2 ^ d
    local hk = hp .. string.format('%d', hi)
    local moved, fields = {}, {}
    for _, g in ipairs(redis.call('HKEYS', k)) do
      if hash(g) % 2 ^ (d + 1) == hi then
        moved[#moved + 1] = g
        fields[#fields + 1] = g
        fields[#fields + 1] = ''
      end
    end
    if #moved > 0 then
      local until_ = redis.call('EXPIRETIME', k)
      redis.call('HSET', hk, unpack(fields))
      redis.call('EXPIREAT', hk, until_)
      redis.call('HDEL', k, unpack(moved))
    end
    local depth = string.char(d + 1)
    for j = a, len - 1, 2 ^ d do redis.call('SETRANGE', dir, j, depth) end
    d = d + 1
    if h % 2 ^ d ~= a then a = hi; k = hk end
  end
end
return added
";

/// `ARGV[1]` the key prefix, then `(bucket, field)` pairs: removes each field from the hash
/// its bucket's directory names for it (a hash left empty leaves Redis; the directory expires
/// with the bucket); returns how many fields were removed.
const FORGET: &str = r"
local P = ARGV[1]
local removed = 0
for x = 2, #ARGV, 2 do
  local f = ARGV[x + 1]
  local dir = P .. ARGV[x] .. ':d'
  local len = redis.call('STRLEN', dir)
  if len > 0 then
    local h = ((string.byte(f, 1) * 256 + string.byte(f, 2)) * 256 + string.byte(f, 3)) * 256
      + string.byte(f, 4)
    local d = string.byte(redis.call('GETRANGE', dir, h % len, h % len))
    local k = P .. ARGV[x] .. ':' .. string.format('%d', h % 2 ^ d)
    removed = removed + redis.call('HDEL', k, f)
  end
end
return removed
";

/// A script sent by its digest, or whole when the server has lost it.
struct Script {
    body: String,
    sha: String,
}

impl Script {
    /// `EVALSHA <sha>`, or `EVAL <body>` when `whole`; the caller adds the rest.
    fn cmd(&self, whole: bool) -> redis::Cmd {
        let mut cmd = redis::cmd(if whole { "EVAL" } else { "EVALSHA" });
        cmd.arg(if whole { &self.body } else { &self.sha });
        cmd
    }
}

/// The deny-list in bucketed hashes.
pub struct RedisBucketsStore {
    redis: RedisStore,
    revoke: Arc<Script>,
    forget: Script,
    checks: Arc<CheckBatcher>,
}

impl RedisBucketsStore {
    /// Connects, checks the server answers and loads the scripts.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        // `redis+buckets://…` is `redis://…` for the driver.
        let plain = url.strip_prefix("redis+buckets").map(|rest| format!("redis{rest}"));
        let parsed = StoreUrl::parse(plain.as_deref().unwrap_or(url))?;
        let redis = RedisStore::connect_parsed(parsed, DEFAULT_PREFIX).await?;
        let load = |body: String| {
            let mut conn = redis.connection();
            async move {
                let sha: String = redis::cmd("SCRIPT")
                    .arg("LOAD")
                    .arg(&body)
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| StoreError::backend(BACKEND, e))?;
                Ok::<_, StoreError>(Script { body, sha })
            }
        };
        let revoke = Arc::new(load(REVOKE.replace("#LIMIT#", &LIMIT.to_string())).await?);
        let check = load(CHECK.to_string()).await?;
        let forget = load(FORGET.to_string()).await?;
        let prefix = redis.prefix().to_string();
        let command: CheckCommand = Box::new(move |pipe, jti, exp, whole| {
            let bucket = bucket_of(exp);
            let mut cmd = check.cmd(whole);
            cmd.arg(1)
                .arg(format!("{prefix}{bucket}:d"))
                .arg(format!("{prefix}{bucket}:"))
                .arg(field(jti).as_slice());
            pipe.add_command(cmd);
        });
        let checks = CheckBatcher::new(redis.connection(), BACKEND, command);
        Ok(Self { redis, revoke, forget, checks })
    }

    /// Adds `entries` (all live) in one script call.
    fn revoke_cmd(&self, entries: &[(Jti, UnixSeconds)], whole: bool) -> redis::Cmd {
        let mut cmd = self.revoke.cmd(whole);
        cmd.arg(0).arg(self.redis.prefix());
        for &(jti, exp) in entries {
            cmd.arg(bucket_of(exp)).arg(field(jti).as_slice()).arg(stored_exp(exp));
        }
        cmd
    }

    /// One script call per [`FILL_CHUNK`] entries, each a request of its own: a whole batch
    /// in one pipeline could outlast the connection's response timeout while hashes split.
    async fn revoke_live(&self, entries: &[(Jti, UnixSeconds)]) -> Result<(), StoreError> {
        let mut conn = self.redis.connection();
        for chunk in entries.chunks(FILL_CHUNK) {
            let sent = self.revoke_cmd(chunk, false).query_async::<()>(&mut conn).await;
            match sent {
                Err(e) if is_noscript(&e) => {
                    self.revoke_cmd(chunk, true).query_async::<()>(&mut conn).await
                }
                other => other,
            }
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
            let call = |whole: bool| {
                let mut cmd = self.forget.cmd(whole);
                cmd.arg(0).arg(self.redis.prefix());
                for &(jti, exp) in chunk {
                    cmd.arg(bucket_of(exp)).arg(field(jti).as_slice());
                }
                cmd
            };
            removed += match call(false).query_async::<u64>(&mut conn).await {
                Err(e) if is_noscript(&e) => call(true).query_async(&mut conn).await,
                other => other,
            }
            .map_err(|e| StoreError::backend(BACKEND, e))?;
        }
        Ok(removed)
    }

    /// Fields held under this store's prefix (one `HLEN` per hash, pipelined per `SCAN` step).
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
            count += lens.iter().sum::<u64>();
        }
        Ok(count)
    }
}

/// The expiry bucket of a token expiring at `exp`.
fn bucket_of(exp: UnixSeconds) -> UnixSeconds {
    stored_exp(exp) / BUCKET_SECS
}

/// The hash field of `jti`: its 16 bytes through the fixed bijection, big-endian (the script
/// addresses sub-buckets by the first four).
fn field(jti: Jti) -> [u8; 16] {
    jti.spread(0).to_be_bytes()
}

/// The `redis+buckets://` line of [`crate::revocation::SCHEMES`].
pub(in crate::revocation) static SCHEME: Scheme = Scheme {
    name: BACKEND,
    url_schemes: &["redis+buckets"],
    example: "redis+buckets://host:port/db",
    namespacing: Namespacing::KeyPrefix,
    open: opener!(RedisBucketsStore::connect),
    profile: Profile {
        summary: "deny-list in small Redis hashes by expiry minute: one script call per request",
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

    /// One script call in the pipeline of concurrent checks; none once `exp` has passed.
    async fn is_revoked(&self, jti: Jti, expires_at: UnixSeconds) -> Result<bool, StoreError> {
        if expires_at <= now_secs() {
            return Ok(false);
        }
        self.checks.is_revoked(jti, expires_at).await
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
        self.redis.clear().await
    }
}
