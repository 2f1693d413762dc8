//! `redis-cluster://host:port,host:port/?prefix=P` — the `redis://` store's keys and commands
//! (`SET P<jti> "" EXAT <exp>`, `EXISTS`) on a Redis Cluster: each check and revoke goes to
//! the master that owns its key's slot, over one multiplexed connection per master (the redis
//! crate's async cluster client, which follows `MOVED`/`ASK` after a resharding).
//!
//! Any reachable node is enough to start; the others are found from the cluster itself.
//! `revoke_many` reads the slot map once per batch and sends one pipeline per master.
//! `stats()` counts the keys under this store's prefix on every master (`SCAN MATCH`, as the
//! single-node store does) and sums the masters' `used_memory` (the whole servers). Redis
//! Cluster has only database 0, so the URL path must be empty, `/` or `/0`.

use std::collections::HashMap;
use std::future::ready;
use std::pin::pin;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::future::join_all;
use futures_util::TryStreamExt;
use percent_encoding::percent_decode_str;
use redis::aio::ConnectionLike;
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{
    MultipleNodeRoutingInfo, ResponsePolicy, Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr,
};
use redis::{FromRedisValue, RedisFuture, Value};

use crate::redact::redact;
use crate::revocation::backends::redis::{info_field, scan_prefix, DEFAULT_PREFIX};
use crate::revocation::{
    opener, profile, Capabilities, EntryUnit, Jti, Namespacing, Profile, RevocationStore, Scheme,
    StoreError, StoreStats,
};
use crate::time::UnixSeconds;

const BACKEND: &str = "redis-cluster";
const FIX: &str = "start the cluster (`scripts/redis-cluster.sh start` prints its URL) or pass \
                   another --store URL";
/// How long a check may wait for its master before it counts as a store error.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Redis Cluster's key space: CRC16(key) mod 16384.
const SLOTS: u16 = 16384;

/// A Redis Cluster-backed revocation list.
#[derive(Clone)]
pub struct RedisClusterStore {
    // Cheap to clone: a handle to the client's routing task, which owns one connection per node.
    conn: ClusterConnection,
    prefix: String,
}

/// What a `redis-cluster://` URL says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClusterUrl {
    /// Seed nodes as `host:port`.
    pub nodes: Vec<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub prefix: String,
}

impl ClusterUrl {
    /// Parses `redis-cluster://[user:password@]host:port[,host:port…][/[0]][?prefix=P]`.
    pub(crate) fn parse(url: &str) -> Result<Self, StoreError> {
        let bad = |reason: String| StoreError::BadUrl { url: redact(url), reason };
        let rest = url
            .strip_prefix("redis-cluster://")
            .ok_or_else(|| bad("must start with redis-cluster://".to_string()))?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        if !matches!(path, "" | "0") {
            return Err(bad(format!(
                "Redis Cluster has only database 0; drop `/{path}` from the URL"
            )));
        }
        let (credentials, hosts) = match authority.rsplit_once('@') {
            Some((credentials, hosts)) => (Some(credentials), hosts),
            None => (None, authority),
        };
        // Userinfo is percent-encoded (`+` is a plus, not a space as in a query).
        let decode = |s: &str| {
            let decoded = percent_decode_str(s).decode_utf8_lossy().into_owned();
            (!decoded.is_empty()).then_some(decoded)
        };
        let (username, password) = match credentials.map(|c| c.split_once(':').unwrap_or((c, ""))) {
            None => (None, None),
            Some((user, password)) => (decode(user), decode(password)),
        };
        let nodes = hosts
            .split(',')
            .map(|node| {
                parse_node(node).ok_or_else(|| bad(format!("bad node `{node}`: use host:port")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut prefix = DEFAULT_PREFIX.to_string();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "prefix" => prefix = value.into_owned(),
                other => {
                    return Err(bad(format!("unknown parameter `{other}`: the only one is prefix")))
                }
            }
        }
        if prefix.contains(['*', '?', '[', ']', '\\']) {
            return Err(bad(format!("prefix `{prefix}` must not contain glob characters")));
        }
        Ok(Self { nodes, username, password, prefix })
    }
}

/// `host:port` (port 6379 when missing), or `None` when it is not one.
fn parse_node(node: &str) -> Option<String> {
    let (host, port) = node.rsplit_once(':').unwrap_or((node, "6379"));
    let port: u16 = port.parse().ok()?;
    let valid_host = !host.is_empty() && !host.contains(['/', '@', '?', ' ']);
    (valid_host && port > 0).then(|| format!("{host}:{port}"))
}

impl RedisClusterStore {
    /// Connects through the seed nodes, discovers the masters, and checks every one answers.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let parsed = ClusterUrl::parse(url)?;
        let unreachable = |reason: String| StoreError::Unreachable {
            backend: BACKEND,
            url: redact(url),
            reason,
            fix: FIX,
        };
        let seeds: Vec<String> = parsed.nodes.iter().map(|n| format!("redis://{n}")).collect();
        let mut builder = ClusterClientBuilder::new(seeds)
            .connection_timeout(CONNECT_TIMEOUT)
            .response_timeout(RESPONSE_TIMEOUT)
            .retries(2)
            .min_retry_wait(50)
            .max_retry_wait(500);
        if let Some(user) = &parsed.username {
            builder = builder.username(user);
        }
        if let Some(password) = &parsed.password {
            builder = builder.password(password);
        }
        let client = builder.build().map_err(|e| unreachable(e.to_string()))?;
        let conn = tokio::time::timeout(CONNECT_TIMEOUT * 3, client.get_async_connection())
            .await
            .map_err(|_| unreachable("timed out".to_string()))?
            .map_err(|e| unreachable(e.to_string()))?;
        let store = Self { conn, prefix: parsed.prefix };
        store.health().await.map_err(|e| unreachable(e.to_string()))?;
        Ok(store)
    }

    /// The key for `jti`.
    fn key(&self, jti: Jti) -> String {
        crate::revocation::backends::redis::jti_key(&self.prefix, jti)
    }

    async fn query<T: FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StoreError> {
        cmd.query_async(&mut self.conn.clone()).await.map_err(|e| StoreError::backend(BACKEND, e))
    }

    async fn route<T: FromRedisValue>(
        &self,
        cmd: redis::Cmd,
        routing: RoutingInfo,
    ) -> Result<T, StoreError> {
        let value = self
            .conn
            .clone()
            .route_command(cmd, routing)
            .await
            .map_err(|e| StoreError::backend(BACKEND, e))?;
        redis::from_redis_value(value).map_err(|e| StoreError::backend(BACKEND, e))
    }

    /// The masters as slot ranges, read from `CLUSTER SLOTS` (one round trip).
    async fn masters(&self) -> Result<Vec<Master>, StoreError> {
        let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::RandomPrimary);
        let reply: Value = self.route(redis::cmd("CLUSTER").arg("SLOTS").clone(), routing).await?;
        parse_cluster_slots(&reply)
            .ok_or_else(|| StoreError::backend(BACKEND, "unexpected CLUSTER SLOTS reply"))
    }

    /// One pipeline of `SET … EXAT` to the master at `route`.
    async fn revoke_on(
        &self,
        route: Route,
        entries: &[(Jti, UnixSeconds)],
    ) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        for &(jti, expires_at) in entries {
            pipe.add_command(crate::revocation::backends::redis::revoke_cmd(
                &self.prefix,
                jti,
                expires_at,
            ))
            .ignore();
        }
        let routing = SingleNodeRoutingInfo::SpecificNode(route);
        match self.conn.clone().route_pipeline(pipe, 0, entries.len(), routing).await {
            Ok(_) => return Ok(()),
            Err(e) if !e.is_cluster_error() => return Err(StoreError::backend(BACKEND, e)),
            Err(_) => {}
        }
        // A slot moved between reading the map and writing (MOVED/ASK while resharding): one
        // by one, each routed and redirected by the client.
        for &(jti, expires_at) in entries {
            self.revoke(jti, expires_at).await?;
        }
        Ok(())
    }
}

/// One master and the slot ranges it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Master {
    address: String,
    ranges: Vec<(u16, u16)>,
}

impl Master {
    /// A route that reaches this master: its first slot.
    fn route(&self) -> Route {
        Route::new(self.ranges[0].0, SlotAddr::Master)
    }

    fn serves(&self, slot: u16) -> bool {
        self.ranges.iter().any(|&(start, end)| (start..=end).contains(&slot))
    }
}

/// `CLUSTER SLOTS`: `[[start, end, [ip, port, id…], replicas…]…]`, grouped by master.
fn parse_cluster_slots(reply: &Value) -> Option<Vec<Master>> {
    let Value::Array(ranges) = reply else { return None };
    let mut masters: Vec<Master> = Vec::new();
    for range in ranges {
        let Value::Array(fields) = range else { return None };
        let start = u16::from_redis_value_ref(fields.first()?).ok()?;
        let end = u16::from_redis_value_ref(fields.get(1)?).ok()?;
        let Value::Array(node) = fields.get(2)? else { return None };
        let ip = String::from_redis_value_ref(node.first()?).ok()?;
        let port = u16::from_redis_value_ref(node.get(1)?).ok()?;
        let address = format!("{ip}:{port}");
        match masters.iter_mut().find(|m| m.address == address) {
            Some(master) => master.ranges.push((start, end)),
            None => masters.push(Master { address, ranges: vec![(start, end)] }),
        }
    }
    (!masters.is_empty()).then_some(masters)
}

/// The cluster slot of `key`: CRC16-XMODEM of the key (or of its `{hash tag}`) mod 16384, as
/// in the Redis Cluster specification.
pub(crate) fn key_slot(key: &[u8]) -> u16 {
    let hashed = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let close = key[open + 1..].iter().position(|&b| b == b'}')?;
            (close > 0).then(|| &key[open + 1..open + 1 + close])
        })
        .unwrap_or(key);
    crc16_xmodem(hashed) % SLOTS
}

fn crc16_xmodem(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

fn all_masters(policy: Option<ResponsePolicy>) -> RoutingInfo {
    RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, policy))
}

/// The `redis-cluster://` line of [`crate::revocation::SCHEMES`].
pub(in crate::revocation) static SCHEME: Scheme = Scheme {
    name: BACKEND,
    url_schemes: &["redis-cluster"],
    example: "redis-cluster://host:port,host:port/",
    namespacing: Namespacing::KeyPrefix,
    open: opener!(RedisClusterStore::connect),
    profile: Profile {
        summary:
            "the Redis deny-list on a Redis Cluster: one `EXISTS` per request on the key's master",
        needs: "Redis Cluster",
        when_down: profile::FAILS_CLOSED,
        unit: EntryUnit::RevokedToken,
    },
};

#[async_trait]
impl RevocationStore for RedisClusterStore {
    fn name(&self) -> &'static str {
        SCHEME.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { remembers: true, expires: true, shared: true }
    }

    async fn revoke(&self, jti: Jti, expires_at: UnixSeconds) -> Result<(), StoreError> {
        self.query::<()>(&crate::revocation::backends::redis::revoke_cmd(
            &self.prefix,
            jti,
            expires_at,
        ))
        .await
    }

    async fn is_revoked(&self, jti: Jti, _expires_at: UnixSeconds) -> Result<bool, StoreError> {
        let mut cmd = redis::cmd("EXISTS");
        cmd.arg(self.key(jti));
        Ok(self.query::<u64>(&cmd).await? > 0)
    }

    /// Splits the chunk by master (from one `CLUSTER SLOTS`) and sends one pipeline to each,
    /// all at once: one round trip per master instead of one per id.
    async fn revoke_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let masters = self.masters().await?;
        let mut by_master: HashMap<usize, Vec<(Jti, UnixSeconds)>> = HashMap::new();
        for &(jti, expires_at) in entries {
            let slot = key_slot(self.key(jti).as_bytes());
            let master = masters.iter().position(|m| m.serves(slot)).ok_or_else(|| {
                StoreError::backend(BACKEND, format!("slot {slot} is served by no master"))
            })?;
            by_master.entry(master).or_default().push((jti, expires_at));
        }
        let writes = by_master.iter().map(|(&m, group)| self.revoke_on(masters[m].route(), group));
        join_all(writes).await.into_iter().collect()
    }

    /// One `UNLINK` per batch of ids, which the client splits by slot.
    async fn forget_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<u64, StoreError> {
        let mut removed = 0;
        for unlink in crate::revocation::backends::redis::unlink_cmds(&self.prefix, entries) {
            removed += self.query::<u64>(&unlink).await?;
        }
        Ok(removed)
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        // Keys under this store's prefix, like the single-node store (never another's keys);
        // bytes are the masters' whole used_memory.
        let (mut entries, mut bytes) = (0, 0);
        for master in self.masters().await? {
            let mut node = OnMaster::new(&self.conn, &master);
            entries += scan_prefix(&mut node, &self.prefix, BACKEND)
                .try_fold(0, |count, keys| ready(Ok(count + keys.len() as u64)))
                .await?;
            let info: String = redis::cmd("INFO")
                .arg("memory")
                .query_async(&mut node)
                .await
                .map_err(|e| StoreError::backend(BACKEND, e))?;
            bytes += info_field(&info, "used_memory").unwrap_or(0);
        }
        Ok(StoreStats { entries: Some(entries), bytes: Some(bytes) })
    }

    /// Every master answers `PING`.
    async fn health(&self) -> Result<(), StoreError> {
        let routing = all_masters(Some(ResponsePolicy::AllSucceeded));
        self.route::<Value>(redis::cmd("PING"), routing).await.map(|_| ())
    }

    async fn server_version(&self) -> Option<String> {
        let masters = self.masters().await.ok()?.len();
        let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::RandomPrimary);
        let info: String =
            self.route(redis::cmd("INFO").arg("server").clone(), routing).await.ok()?;
        let version = info.lines().find_map(|l| l.strip_prefix("redis_version:"))?;
        Some(format!("Redis {} (cluster of {masters} masters)", version.trim()))
    }

    /// Deletes every key under this store's prefix on every master (SCAN each, UNLINK).
    async fn clear(&self) -> Result<(), StoreError> {
        for master in self.masters().await? {
            let mut node = OnMaster::new(&self.conn, &master);
            let mut batches = pin!(scan_prefix(&mut node, &self.prefix, BACKEND));
            while let Some(keys) = batches.try_next().await? {
                // UNLINK of several keys is split by slot by the client.
                self.query::<u64>(redis::cmd("UNLINK").arg(keys)).await?;
            }
        }
        Ok(())
    }
}

/// One master as a connection of its own: every command goes to that master, so the shared
/// [`scan_prefix`] walks the cluster one master at a time (a `SCAN` cursor only means
/// something on the node that issued it, and the cluster client would route each step to a
/// node of its choosing).
struct OnMaster {
    conn: ClusterConnection,
    routing: SingleNodeRoutingInfo,
}

impl OnMaster {
    fn new(conn: &ClusterConnection, master: &Master) -> Self {
        Self { conn: conn.clone(), routing: SingleNodeRoutingInfo::SpecificNode(master.route()) }
    }
}

impl ConnectionLike for OnMaster {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> RedisFuture<'a, Value> {
        let routing = RoutingInfo::SingleNode(self.routing.clone());
        Box::pin(self.conn.route_command(cmd.clone(), routing))
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(self.conn.route_pipeline(pipeline.clone(), offset, count, self.routing.clone()))
    }

    fn get_db(&self) -> i64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slots match the Redis Cluster specification's CRC16 and hash-tag rules.
    #[test]
    fn key_slots_follow_the_specification() {
        // The specification's check value: CRC16-XMODEM("123456789") = 0x31C3.
        assert_eq!(crc16_xmodem(b"123456789"), 0x31C3);
        // `redis-cli cluster keyslot foo` → 12182, `… bar` → 5061.
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b"{user1}.following"), key_slot(b"user1"));
        // An empty tag `{}` does not count: the whole key is hashed.
        assert_eq!(key_slot(b"foo{}{bar}"), crc16_xmodem(b"foo{}{bar}") % SLOTS);
    }

    /// Nodes, credentials, prefix and database are read; anything else is refused with a fix.
    #[test]
    fn urls_parse() {
        let url = ClusterUrl::parse(
            "redis-cluster://bob:s%40cret@10.0.0.1:7000,10.0.0.2:7001/?prefix=a%3A",
        )
        .unwrap();
        assert_eq!(url.nodes, vec!["10.0.0.1:7000", "10.0.0.2:7001"]);
        assert_eq!(url.username.as_deref(), Some("bob"));
        assert_eq!(url.password.as_deref(), Some("s@cret"));
        assert_eq!(url.prefix, "a:");
        let plain = ClusterUrl::parse("redis-cluster://h1,h2:7001").unwrap();
        assert_eq!(plain.nodes, vec!["h1:6379", "h2:7001"]);
        assert_eq!(plain.prefix, DEFAULT_PREFIX);
        for (bad, says) in [
            ("redis-cluster://h:1/3", "only database 0"),
            ("redis-cluster://h:1/?pool=2", "unknown parameter `pool`"),
            ("redis-cluster://h:x", "bad node `h:x`"),
            ("redis-cluster://h:1,,h:2", "bad node ``"),
            ("redis-cluster://h:1/?prefix=a*", "glob"),
        ] {
            let message = ClusterUrl::parse(bad).unwrap_err().to_string();
            assert!(message.contains(says), "{bad}: {message}");
        }
    }

    /// Passwords are never shown: messages carry the URL with `****` in their place.
    #[test]
    fn passwords_are_redacted() {
        let err = ClusterUrl::parse("redis-cluster://bob:hunter2@h:1/5").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(err.to_string().contains("bob:****@"), "{err}");
    }

    /// A `CLUSTER SLOTS` reply is grouped by master, ranges kept.
    #[test]
    fn cluster_slots_group_by_master() {
        let node = |port: i64| {
            Value::Array(vec![Value::BulkString(b"127.0.0.1".to_vec()), Value::Int(port)])
        };
        let range =
            |start, end, port| Value::Array(vec![Value::Int(start), Value::Int(end), node(port)]);
        let reply = Value::Array(vec![
            range(0, 5460, 7000),
            range(5461, 10922, 7001),
            range(10923, 16383, 7000),
        ]);
        let masters = parse_cluster_slots(&reply).unwrap();
        assert_eq!(masters.len(), 2);
        assert_eq!(masters[0].ranges, vec![(0, 5460), (10923, 16383)]);
        assert!(masters[0].serves(16383) && !masters[0].serves(5461));
        assert_eq!(masters[1].address, "127.0.0.1:7001");
        assert_eq!(parse_cluster_slots(&Value::Nil), None);
    }
}
