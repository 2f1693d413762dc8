//! The Lua scripts of `redis+buckets://`, atomic in Redis: the revocation, which splits
//! hashes; the check that reads a bucket's directory and its hash in one step (the fallback
//! when a replica's copy of the directory turns out stale, see `check.rs`); and `forget_many`'s
//! removal.

use crate::revocation::backends::redis::batch::is_noscript;
use crate::revocation::StoreError;

/// `KEYS[1]` the bucket's directory, `ARGV[1]` its hash prefix, `ARGV[2]` the 16-byte field:
/// 1 if the field is in the hash its directory slot names.
pub(super) const CHECK: &str = r"
local len = redis.call('STRLEN', KEYS[1])
if len == 0 then return 0 end
local f = ARGV[2]
local h = ((string.byte(f, 1) * 256 + string.byte(f, 2)) * 256 + string.byte(f, 3)) * 256
  + string.byte(f, 4)
local d = string.byte(redis.call('GETRANGE', KEYS[1], h % len, h % len))
return redis.call('HEXISTS', ARGV[1] .. string.format('%d', h % 2 ^ d), f)
";

/// `ARGV[1]` the key prefix, then `(bucket, field, end)` triples: adds each field to its
/// bucket's hash, splitting any hash that passes `LIMIT` (`#LIMIT#` is replaced by the
/// constant); returns how many fields were new. Every hash holds its depth in the field `d`
/// (the ids are 16 bytes, so no id is `d`); every key of a bucket is created expiring at
/// `end`, and a split always creates the new hash and never deletes the old one, so while a
/// bucket lives every hash its directory names exists.
pub(super) const REVOKE: &str = r"
local P = ARGV[1]
local added = 0
local function hash(f)
  return ((string.byte(f, 1) * 256 + string.byte(f, 2)) * 256 + string.byte(f, 3)) * 256
    + string.byte(f, 4)
end
for x = 2, #ARGV, 3 do
  local f, t = ARGV[x + 1], ARGV[x + 2]
  local dir, hp = P .. ARGV[x] .. ':d', P .. ARGV[x] .. ':'
  local len = redis.call('STRLEN', dir)
  if len == 0 then redis.call('SET', dir, '\0', 'EXAT', t); len = 1 end
  local h = hash(f)
  local d = string.byte(redis.call('GETRANGE', dir, h % len, h % len))
  local a = h % 2 ^ d
  local k = hp .. string.format('%d', a)
  if redis.call('HSETNX', k, 'd', d) == 1 then redis.call('EXPIREAT', k, t) end
  added = added + redis.call('HSET', k, f, '')
  while redis.call('HLEN', k) > #LIMIT# and d < 32 do
    if 2 ^ d == len then
      redis.call('APPEND', dir, redis.call('GET', dir))
      len = len * 2
    end
    local hi = a + 2 ^ d
    local hk = hp .. string.format('%d', hi)
    local moved, fields = {}, {'d', d + 1}
    for _, g in ipairs(redis.call('HKEYS', k)) do
      if #g == 16 and hash(g) % 2 ^ (d + 1) == hi then
        moved[#moved + 1] = g
        fields[#fields + 1] = g
        fields[#fields + 1] = ''
      end
    end
    redis.call('HSET', hk, unpack(fields))
    redis.call('EXPIREAT', hk, t)
    if #moved > 0 then redis.call('HDEL', k, unpack(moved)) end
    redis.call('HSET', k, 'd', d + 1)
    local depth = string.char(d + 1)
    for j = a, len - 1, 2 ^ d do redis.call('SETRANGE', dir, j, depth) end
    d = d + 1
    if h % 2 ^ d ~= a then a = hi; k = hk end
  end
end
return added
";

/// `ARGV[1]` the key prefix, then `(bucket, field)` pairs: removes each field from the hash
/// its bucket's directory names for it (the hash keeps its depth field, so it stays, as every
/// hash of a live bucket must: see `check.rs`); returns how many fields were removed.
pub(super) const FORGET: &str = r"
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
pub(super) struct Script {
    body: String,
    sha: String,
}

impl Script {
    /// Loads `body` into the server's script cache.
    pub(super) async fn load(
        mut conn: impl redis::aio::ConnectionLike,
        body: String,
        backend: &'static str,
    ) -> Result<Self, StoreError> {
        let sha: String = redis::cmd("SCRIPT")
            .arg("LOAD")
            .arg(&body)
            .query_async(&mut conn)
            .await
            .map_err(|e| StoreError::backend(backend, e))?;
        Ok(Self { body, sha })
    }

    /// `EVALSHA <sha>`, or `EVAL <body>` when `whole`; the caller adds the rest.
    pub(super) fn cmd(&self, whole: bool) -> redis::Cmd {
        let mut cmd = redis::cmd(if whole { "EVAL" } else { "EVALSHA" });
        cmd.arg(if whole { &self.body } else { &self.sha });
        cmd
    }

    /// Runs the script with the arguments `args` adds, by its digest, and whole when the
    /// server answers that it has lost it (`NOSCRIPT`).
    pub(super) async fn run<T: redis::FromRedisValue>(
        &self,
        conn: &mut (impl redis::aio::ConnectionLike + Send),
        args: impl Fn(&mut redis::Cmd),
    ) -> redis::RedisResult<T> {
        let call = |whole: bool| {
            let mut cmd = self.cmd(whole);
            args(&mut cmd);
            cmd
        };
        match call(false).query_async(conn).await {
            Err(e) if is_noscript(&e) => call(true).query_async(conn).await,
            other => other,
        }
    }
}
