//! The growth load: logouts at a steady rate (each a login, then a logout of that token) and
//! checks at a steady rate with a live, non-revoked token. What they did is kept in
//! [`Tallies`] for the sampler to read.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::lock::MutexExt;
use crate::time::{now_secs, UnixSeconds};
use crate::token::TokenKeys;
use crate::units::Micros;

/// Logins+logouts (or checks) in flight at once; when all are busy the pacer waits, and the
/// achieved rate, recorded per sample, falls below the asked-for one.
const MAX_IN_FLIGHT: usize = 64;
/// A check token is replaced once it has less than this left to live (a quarter of the TTL
/// for short TTLs): `exp` is a whole second, so a fresh token lives between ttl − 1 s and ttl.
const REFRESH_MARGIN: Duration = Duration::from_secs(1);
/// Longest check latency a histogram holds (60 s); longer ones are clamped to it.
const MAX_TRACKABLE: Micros = 60_000_000;

/// What the load has done so far, shared by its tasks and the sampler.
pub struct Tallies {
    pub logouts: AtomicU64,
    pub logout_errors: AtomicU64,
    pub check_errors: AtomicU64,
    /// Acknowledged logouts by their token's `exp`, to count the ones still alive.
    revoked_by_exp: Mutex<BTreeMap<UnixSeconds, u64>>,
    /// Check latencies since the sampler last took them.
    checks: Mutex<Histogram<Micros>>,
    /// Check latencies over the whole run.
    all_checks: Mutex<Histogram<Micros>>,
}

pub fn new_histogram() -> Histogram<Micros> {
    Histogram::new_with_bounds(1, MAX_TRACKABLE, 3).expect("constant bounds are valid")
}

impl Default for Tallies {
    fn default() -> Self {
        Self {
            logouts: AtomicU64::new(0),
            logout_errors: AtomicU64::new(0),
            check_errors: AtomicU64::new(0),
            revoked_by_exp: Mutex::new(BTreeMap::new()),
            checks: Mutex::new(new_histogram()),
            all_checks: Mutex::new(new_histogram()),
        }
    }
}

impl Tallies {
    fn logged_out(&self, exp: UnixSeconds) {
        *self.revoked_by_exp.locked().entry(exp).or_default() += 1;
        self.logouts.fetch_add(1, Ordering::Relaxed);
    }

    /// Revoked tokens still alive at `now_millis` (a token is dead from `exp` on).
    pub fn live_revoked(&self, now_millis: u64) -> u64 {
        let mut by_exp = self.revoked_by_exp.locked();
        // Forget the dead ones so the map stays as small as the live set.
        // Alive while now < exp × 1000, i.e. exp > ⌊now / 1000⌋.
        let first_alive = now_millis / 1000 + 1;
        *by_exp = by_exp.split_off(&first_alive);
        by_exp.values().sum()
    }

    fn checked(&self, elapsed: Duration) {
        let micros = (elapsed.as_micros() as u64).clamp(1, MAX_TRACKABLE);
        self.checks.locked().saturating_record(micros);
        self.all_checks.locked().saturating_record(micros);
    }

    /// The check latencies since the last call, leaving an empty histogram behind.
    pub fn take_interval_checks(&self) -> Histogram<Micros> {
        std::mem::replace(&mut *self.checks.locked(), new_histogram())
    }

    /// Every check latency so far.
    pub fn all_checks(&self) -> Histogram<Micros> {
        self.all_checks.locked().clone()
    }
}

/// Where and how hard to drive.
#[derive(Clone)]
pub struct TrafficSpec {
    pub base_url: String,
    /// Verifies the tokens the server issues (same secret), to learn each one's `exp`.
    pub keys: TokenKeys,
    pub logout_rate_per_sec: f64,
    pub check_rate_per_sec: f64,
    pub token_ttl: Duration,
    /// Users the logouts cycle through (`growth-0` … `growth-{n-1}`); `None`: all one user,
    /// `growth`. A per-user cut-off keeps one entry per user, so this is its entry count.
    pub logout_users: Option<u64>,
}

/// The running load; [`Traffic::stop`] ends it and waits for requests in flight.
pub struct Traffic {
    stop: Arc<AtomicBool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Traffic {
    pub fn start(spec: TrafficSpec, http: reqwest::Client, tallies: Arc<Tallies>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let logouts = {
            let (spec, http, tallies) = (spec.clone(), http.clone(), tallies.clone());
            let mut count = 0u64;
            paced(spec.logout_rate_per_sec, stop.clone(), move || {
                let user = match spec.logout_users {
                    Some(users) => format!("growth-{}", count % users.max(1)),
                    None => "growth".to_string(),
                };
                count += 1;
                logout_one(spec.clone(), http.clone(), tallies.clone(), user)
            })
        };
        let checker = Arc::new(Checker::new(spec.clone(), http, tallies));
        let checks = paced(spec.check_rate_per_sec, stop.clone(), move || {
            let checker = checker.clone();
            async move { checker.check_one().await }
        });
        Self { stop, tasks: vec![tokio::spawn(logouts), tokio::spawn(checks)] }
    }

    pub async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Starts `job` `rate` times a second, at `start + i / rate`, until `stop`; then waits for the
/// jobs in flight. A non-positive rate starts nothing.
async fn paced<F, Fut>(rate: f64, stop: Arc<AtomicBool>, mut job: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    if rate <= 0.0 || !rate.is_finite() {
        return;
    }
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let start = tokio::time::Instant::now();
    let period = Duration::from_secs_f64(1.0 / rate);
    for i in 0u32.. {
        tokio::time::sleep_until(start + period * i).await;
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let Ok(permit) = slots.clone().acquire_owned().await else { break };
        let work = job();
        tokio::spawn(async move {
            work.await;
            drop(permit);
        });
    }
    // Every permit back means every job has finished.
    let _ = slots.acquire_many(MAX_IN_FLIGHT as u32).await;
}

/// Logs in, then logs that token out; counts it by `exp` once the server acknowledged it.
async fn logout_one(spec: TrafficSpec, http: reqwest::Client, tallies: Arc<Tallies>, user: String) {
    let token = match login(&http, &spec.base_url, &user).await {
        Some(token) => token,
        None => {
            tallies.logout_errors.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    let Ok((claims, _)) = spec.keys.verify(&token, now_secs()) else {
        tallies.logout_errors.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let response = http.post(format!("{}/logout", spec.base_url)).bearer_auth(&token).send().await;
    match response {
        Ok(r) if r.status().as_u16() == 204 => tallies.logged_out(claims.exp),
        _ => {
            tallies.logout_errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn login(http: &reqwest::Client, base_url: &str, user: &str) -> Option<String> {
    let response = http
        .post(format!("{base_url}/login"))
        .json(&serde_json::json!({ "username": user }))
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let body: serde_json::Value = response.json().await.ok()?;
    body["access_token"].as_str().map(str::to_string)
}

/// Checks with one live token, logging in again well before it expires.
struct Checker {
    spec: TrafficSpec,
    http: reqwest::Client,
    tallies: Arc<Tallies>,
    // A tokio Mutex: a refresh (an HTTP login) happens while it is held, so concurrent checks
    // wait for the new token instead of all logging in at once.
    token: tokio::sync::Mutex<Option<(String, UnixSeconds)>>,
}

impl Checker {
    fn new(spec: TrafficSpec, http: reqwest::Client, tallies: Arc<Tallies>) -> Self {
        Self { spec, http, tallies, token: tokio::sync::Mutex::new(None) }
    }

    /// A token with at least [`REFRESH_MARGIN`] (or a quarter of its lifetime) left.
    async fn live_token(&self) -> Option<String> {
        let mut current = self.token.lock().await;
        let margin = REFRESH_MARGIN.min(self.spec.token_ttl / 4).as_millis() as u64;
        if let Some((token, exp)) = current.as_ref() {
            if crate::time::now_millis() + margin < exp.saturating_mul(1000) {
                return Some(token.clone());
            }
        }
        // A user of its own, never logged out, so a per-user cut-off never refuses it.
        let token = login(&self.http, &self.spec.base_url, "growth-checker").await?;
        let (claims, _) = self.spec.keys.verify(&token, now_secs()).ok()?;
        *current = Some((token.clone(), claims.exp));
        Some(token)
    }

    async fn check_one(&self) {
        let Some(token) = self.live_token().await else {
            self.tallies.check_errors.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let sent = Instant::now();
        let response =
            self.http.get(format!("{}/api/me", self.spec.base_url)).bearer_auth(token).send().await;
        match response {
            Ok(r) if r.status().as_u16() == 200 => self.tallies.checked(sent.elapsed()),
            _ => {
                self.tallies.check_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Live revoked tokens are those whose `exp` is still ahead, to the millisecond.
    #[test]
    fn counts_live_revoked_by_exp() {
        let tallies = Tallies::default();
        for exp in [10, 10, 11, 12] {
            tallies.logged_out(exp);
        }
        assert_eq!(tallies.live_revoked(9_999), 4);
        assert_eq!(tallies.live_revoked(10_000), 2, "dead at exp exactly");
        assert_eq!(tallies.live_revoked(11_001), 1);
        assert_eq!(tallies.logouts.load(Ordering::Relaxed), 4);
    }

    /// Interval histograms are handed over once and the whole-run one keeps everything.
    #[test]
    fn interval_checks_are_taken_once() {
        let tallies = Tallies::default();
        tallies.checked(Duration::from_micros(100));
        tallies.checked(Duration::from_micros(300));
        assert_eq!(tallies.take_interval_checks().len(), 2);
        assert_eq!(tallies.take_interval_checks().len(), 0);
        assert_eq!(tallies.all_checks().len(), 2);
    }
}
