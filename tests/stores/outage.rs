//! Store outages under load: a `redis-server` of the test's own is killed with SIGKILL and
//! started again while requests with live and revoked tokens keep arriving, and PostgreSQL is
//! cut off through a TCP forwarder, as is MongoDB (the shared servers are never stopped). Fail closed: no 200
//! while the store is down, no revoked token ever accepted, recovery without a server restart
//! within 5 s. Fail open: requests pass and each pass is counted.

use std::time::Duration;

use crate::common::backend::{require_or_skip, server_addr, via, Backend};
use crate::common::load::{Load, Sample, TokenKind};
use crate::common::poll::poll_until;
use crate::common::redis_server::{Persistence, RedisServer};
use crate::common::{client, login, me, Forwarder, TestServer};
use revbench::revocation::{open, ScratchStore};
use revbench::server::{ServerConfig, StatsResponse};
use tokio::time::Instant;

/// How long the store stays down.
const DOWN_FOR: Duration = Duration::from_millis(1000);
/// The longest recovery accepted once the store answers again.
const RECOVERY_LIMIT: Duration = Duration::from_secs(5);
/// Load before the outage and after recovery, to see both steady states.
const STEADY: Duration = Duration::from_millis(300);
const WORKERS: usize = 4;

/// What happened around one outage, as instants on the test's clock.
struct Outage {
    samples: Vec<Sample>,
    killed: Instant,
    /// The store process was gone (waited for) or the forwarder cut.
    dead: Instant,
    /// The store accepted connections again.
    up: Instant,
    /// The first live request started after `up` that got 200.
    recovered: Instant,
}

impl Outage {
    /// Requests sent and answered entirely while the store was down.
    fn while_down(&self) -> impl Iterator<Item = &Sample> {
        self.samples.iter().filter(|s| s.start >= self.dead && s.end <= self.up)
    }

    fn time_to_first(&self, status: u16) -> Option<Duration> {
        self.samples
            .iter()
            .filter(|s| s.end >= self.killed && s.status == status)
            .map(|s| s.end - self.killed)
            .min()
    }

    fn report(&self, label: &str) {
        let count = |kind, status| {
            self.samples.iter().filter(|s| s.kind == kind && s.status == status).count()
        };
        let slowest_while_down = self.while_down().map(|s| s.end - s.start).max();
        println!(
            "{label}: {} requests ({} while down, slowest {:?}); live 200/503: {}/{}, revoked \
             200/401/503: {}/{}/{}; first 503 {:?} after the kill; recovered {:?} after the \
             store answered",
            self.samples.len(),
            self.while_down().count(),
            slowest_while_down,
            count(TokenKind::Live, 200),
            count(TokenKind::Live, 503),
            count(TokenKind::Revoked, 200),
            count(TokenKind::Revoked, 401),
            count(TokenKind::Revoked, 503),
            self.time_to_first(503),
            self.recovered - self.up,
        );
    }
}

/// Logs in `n` live users and `n` users whose token is then revoked by logout.
async fn tokens(server: &TestServer, n: usize) -> (Vec<String>, Vec<String>) {
    let client = client();
    let mut live = Vec::new();
    let mut revoked = Vec::new();
    for i in 0..n {
        live.push(login(&client, server, &format!("live{i}")).await);
        let token = login(&client, server, &format!("gone{i}")).await;
        let logout = client.post(server.url("/logout")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(logout.status(), 204);
        revoked.push(token);
    }
    (live, revoked)
}

/// A backend a test can take away and bring back on the same address.
trait Outageable {
    /// Takes it away; returns once it is gone.
    async fn take_down(&mut self);
    /// Brings it back; returns once it accepts connections.
    async fn bring_back(&mut self);
}

impl Outageable for RedisServer {
    async fn take_down(&mut self) {
        self.kill();
    }

    async fn bring_back(&mut self) {
        self.restart();
    }
}

impl Outageable for Forwarder {
    async fn take_down(&mut self) {
        self.cut().await;
    }

    async fn bring_back(&mut self) {
        self.restore().await.unwrap();
    }
}

/// Runs load, takes the store down for [`DOWN_FOR`], brings it back, and waits for a live
/// request to succeed again (panics after [`RECOVERY_LIMIT`]).
async fn outage_under_load(server: &TestServer, backend: &mut impl Outageable) -> Outage {
    let (live, revoked) = tokens(server, 3).await;
    let load = Load::start(server, WORKERS, &live, &revoked);
    tokio::time::sleep(STEADY).await;
    let killed = Instant::now();
    backend.take_down().await;
    let dead = Instant::now();
    tokio::time::sleep(DOWN_FOR).await;
    backend.bring_back().await;
    let up = Instant::now();
    let first_live_200 = async || {
        let samples = load.samples().into_iter();
        let after = samples.filter(|s| s.kind == TokenKind::Live && s.start >= up);
        after.filter(|s| s.status == 200).map(|s| s.end).min()
    };
    let every = Duration::from_millis(10);
    let recovered = poll_until("recovery", RECOVERY_LIMIT, every, first_live_200).await.unwrap();
    tokio::time::sleep(STEADY).await;
    Outage { samples: load.stop().await, killed, dead, up, recovered }
}

/// The fail-closed promises: no revoked token accepted at any time, only 503 while down,
/// revocations remembered after recovery.
fn assert_fail_closed(outage: &Outage) {
    for sample in &outage.samples {
        let expected = match sample.kind {
            TokenKind::Live => [200, 503].contains(&sample.status),
            TokenKind::Revoked => [401, 503].contains(&sample.status),
        };
        assert!(expected, "unexpected answer {sample:?}");
    }
    assert!(outage.while_down().count() > 0, "the load ran while the store was down");
    assert!(outage.while_down().all(|s| s.status == 503), "only 503 while the store is down");
    assert!(outage.time_to_first(503).is_some(), "the outage was seen");
    let after = |kind, status| {
        outage
            .samples
            .iter()
            .any(|s| s.kind == kind && s.start > outage.recovered && s.status == status)
    };
    assert!(after(TokenKind::Live, 200), "live tokens work after recovery");
    assert!(after(TokenKind::Revoked, 401), "revocations were remembered across the outage");
}

// Outage tests use the multi-threaded runtime so the server, the load and the clock keep
// running while the test blocks briefly to kill or start `redis-server`.

/// Killing a persistent Redis under load: every request while it is down gets 503, no
/// revoked token is ever accepted, and the server recovers within 5 s of Redis answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_under_load_fails_closed_and_recovers() {
    let Some(mut redis) = RedisServer::start(Persistence::AppendOnly) else { return };
    let server = TestServer::start(open(&redis.url()).await.unwrap()).await;
    let outage = outage_under_load(&server, &mut redis).await;
    outage.report("redis fail-closed");
    assert_fail_closed(&outage);
    let stats = stats(&server).await;
    assert_eq!(stats.counters.fail_open_passes, 0);
    assert!(stats.counters.store_errors >= outage.while_down().count() as u64, "{stats:?}");
}

/// With fail-open, the same outage lets every request through — revoked tokens too, which
/// is the price of fail-open — and each one is counted as a fail-open pass in /stats.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_with_fail_open_counts_every_pass() {
    let Some(mut redis) = RedisServer::start(Persistence::AppendOnly) else { return };
    let config = ServerConfig { fail_open: true, ..ServerConfig::default() };
    let store = open(&redis.url()).await.unwrap();
    let server = TestServer::start_with(store, config).await;
    let outage = outage_under_load(&server, &mut redis).await;
    outage.report("redis fail-open");
    let down: Vec<&Sample> = outage.while_down().collect();
    assert!(!down.is_empty(), "the load ran while the store was down");
    assert!(down.iter().all(|s| s.status == 200), "fail-open passes everything while down");
    let revoked_passes =
        outage.samples.iter().filter(|s| s.kind == TokenKind::Revoked && s.status == 200).count()
            as u64;
    assert!(revoked_passes > 0, "fail-open accepted revoked tokens while down");
    let stats = stats(&server).await;
    // Every store error on a check became a pass; every pass of a revoked token and every
    // request answered while down was one of them.
    assert_eq!(stats.counters.fail_open_passes, stats.counters.store_errors, "{stats:?}");
    let at_least = revoked_passes.max(down.len() as u64);
    assert!(stats.counters.fail_open_passes >= at_least, "{stats:?} vs {at_least}");
    println!("fail-open: {revoked_passes} revoked tokens accepted; {:?}", stats.counters);
    let recovered = outage.samples.iter().filter(|s| s.start > outage.recovered);
    let revoked_after: Vec<u16> =
        recovered.filter(|s| s.kind == TokenKind::Revoked).map(|s| s.status).collect();
    assert!(revoked_after.contains(&401), "revocations apply again after recovery");
}

/// A Redis without persistence forgets every revocation when it restarts: the server
/// recovers, and a token revoked before the restart is accepted again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_without_persistence_forgets_revocations_on_restart() {
    let Some(mut redis) = RedisServer::start(Persistence::None) else { return };
    let server = TestServer::start(open(&redis.url()).await.unwrap()).await;
    let (_, revoked) = tokens(&server, 1).await;
    assert_eq!(me(&client(), &server, &revoked[0]).await.0, 401);
    redis.kill();
    redis.restart();
    let answered = async || {
        let status = me(&client(), &server, &revoked[0]).await.0;
        (status != 503).then_some(status)
    };
    let every = Duration::from_millis(20);
    let status = poll_until("answer but 503", RECOVERY_LIMIT, every, answered).await.unwrap();
    assert_eq!(status, 200, "the revocation was lost with the Redis process");
}

/// A shared backend cut off under load through a forwarder (the shared server keeps
/// running): 503 while unreachable, no revoked token accepted, recovery within 5 s.
async fn cut_off_under_load(backend: Backend) {
    let Some(url) = require_or_skip(backend).await else { return };
    let mut forwarder = Forwarder::start(server_addr(&url)).await.unwrap();
    let scratch = ScratchStore::open(&via(&url, forwarder.addr), "outage").await.unwrap();
    let server = TestServer::start(scratch.store.clone()).await;
    let outage = outage_under_load(&server, &mut forwarder).await;
    outage.report(&format!("{} fail-closed", backend.name()));
    assert_fail_closed(&outage);
    scratch.remove().await.unwrap();
}

/// PostgreSQL cut off under load fails closed and recovers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cut_off_under_load_fails_closed_and_recovers() {
    cut_off_under_load(Backend::Postgres).await;
}

/// MongoDB cut off under load through a forwarder (`directConnection=true`, so the driver
/// cannot reach the server around it): 503 while unreachable, no revoked token accepted,
/// recovery within 5 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_cut_off_under_load_fails_closed_and_recovers() {
    cut_off_under_load(Backend::Mongo).await;
}

async fn stats(server: &TestServer) -> StatsResponse {
    crate::common::stats(&client(), server).await
}
