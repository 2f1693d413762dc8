//! `revbench growth`: how each store grows, shrinks and slows as tokens expire.
//!
//! For each store, one after another: clear its namespace, optionally prefill it, start a
//! `revbench serve` process on it, drive logouts and checks at steady rates, and every sample
//! interval record the store's entries and bytes, the server's RSS and the check latency over
//! the interval, beside the expected steady state `prefill + logout_rate × token_ttl`.
//! `results.json` is rewritten after every store.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::prefill;
use super::sampler::Sampler;
use super::summary::summarise;
use super::traffic::{Tallies, Traffic, TrafficSpec};
use crate::environment::Environment;
use crate::load::replicas::{Replica, ReplicaSpec};
use crate::load::run::now_rfc3339;
use crate::results::growth::{
    GrowthConfig, GrowthResults, GrowthSample, GrowthSeries, PrefillReport, GROWTH_KIND,
};
use crate::results::{StoreStatus, SCHEMA_VERSION};
use crate::revocation::{self, Jti, SharedStore};
use crate::token::{now_secs, TokenKeys};

/// The shortest token lifetime that works: `exp` is a whole second, so a 1 s token may be
/// dead on arrival.
pub const MIN_TOKEN_TTL: Duration = Duration::from_secs(2);
/// Checks per second with live tokens, unless asked otherwise.
pub const DEFAULT_CHECK_RATE: f64 = 200.0;

/// Namespaces growth uses in shared stores unless the URL names its own, so it never touches
/// the default key prefix, table or database. Redis `DBSIZE` still counts the whole database:
/// give growth a database of its own (`redis://host:port/N`).
const GROWTH_REDIS_PREFIX: &str = "revbench:growth:";
const GROWTH_POSTGRES_TABLE: &str = "revbench_growth";
const GROWTH_MONGO_DATABASE: &str = "revbench_growth";

/// How long the server may take to fill itself per million prefilled entries (on top of the
/// normal start-up time) before it counts as not coming up.
const FILL_TIME_PER_MILLION: Duration = Duration::from_secs(60);

/// What to run.
#[derive(Debug, Clone)]
pub struct GrowthOptions {
    pub stores: Vec<String>,
    pub token_ttl: Duration,
    pub logout_rate_per_sec: f64,
    pub check_rate_per_sec: f64,
    pub duration: Duration,
    pub sample_interval: Duration,
    pub prefill: u64,
    pub out_dir: PathBuf,
    /// The `revbench` executable that serves.
    pub server_exe: PathBuf,
    /// Print one line per sample.
    pub progress: bool,
}

impl GrowthOptions {
    /// `prefill + logout_rate × token_ttl`.
    pub fn expected_entries(&self) -> f64 {
        self.prefill as f64 + self.logout_rate_per_sec * self.token_ttl.as_secs() as f64
    }

    fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(!self.stores.is_empty(), "name a store with --store URL or --stores A,B");
        anyhow::ensure!(
            self.token_ttl >= MIN_TOKEN_TTL && self.token_ttl.subsec_nanos() == 0,
            "--token-ttl must be whole seconds, at least 2s (exp is a whole second)"
        );
        anyhow::ensure!(
            self.logout_rate_per_sec > 0.0 && self.logout_rate_per_sec.is_finite(),
            "--logout-rate must be above 0"
        );
        anyhow::ensure!(self.check_rate_per_sec >= 0.0, "--check-rate must not be negative");
        anyhow::ensure!(!self.sample_interval.is_zero(), "--sample must be above 0, e.g. 1s");
        anyhow::ensure!(
            self.duration >= self.sample_interval,
            "--duration must be at least one --sample interval"
        );
        Ok(())
    }
}

/// Points a shared store at growth's own namespace unless the URL already names one.
pub fn namespace(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else { return url.to_string() };
    let has = |name: &str| parsed.query_pairs().any(|(k, _)| k == name);
    match parsed.scheme() {
        "redis" if !has("prefix") => {
            parsed.query_pairs_mut().append_pair("prefix", GROWTH_REDIS_PREFIX);
        }
        "postgres" | "postgresql" if !has("table") => {
            parsed.query_pairs_mut().append_pair("table", GROWTH_POSTGRES_TABLE);
        }
        "mongodb" if matches!(parsed.path(), "" | "/") => {
            parsed.set_path(&format!("/{GROWTH_MONGO_DATABASE}"));
        }
        _ => return url.to_string(),
    }
    parsed.to_string()
}

/// Runs every store in turn and returns the results (also in `out_dir/results.json`).
pub async fn run(options: GrowthOptions) -> anyhow::Result<GrowthResults> {
    options.validate()?;
    std::fs::create_dir_all(&options.out_dir).with_context(|| {
        format!("cannot create {}; pass --out with a writable directory", options.out_dir.display())
    })?;
    let path = options.out_dir.join("results.json");
    let mut results = GrowthResults {
        schema_version: SCHEMA_VERSION,
        kind: GROWTH_KIND.to_string(),
        started_at: now_rfc3339(),
        finished_at: None,
        environment: Environment::capture(),
        config: GrowthConfig {
            token_ttl_secs: options.token_ttl.as_secs(),
            logout_rate_per_sec: options.logout_rate_per_sec,
            check_rate_per_sec: options.check_rate_per_sec,
            duration_secs: options.duration.as_secs_f64(),
            sample_interval_secs: options.sample_interval.as_secs_f64(),
            prefill_entries: options.prefill,
            expected_entries: options.expected_entries(),
        },
        stores: Vec::new(),
        series: Vec::new(),
    };
    results.write(&path).with_context(|| {
        format!("cannot write {}; pass --out with a writable directory", path.display())
    })?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    for url in &options.stores {
        let url = namespace(url);
        let handle = match revocation::open(&url).await {
            Ok(handle) => handle,
            Err(e) => {
                eprintln!("skipped {url}: {e}");
                results.stores.push(status(&url, None, Some(e.to_string())));
                results.write(&path)?;
                continue;
            }
        };
        let mut store_status = status(&url, Some(handle.name()), None);
        store_status.server_version = handle.server_version().await;
        results.stores.push(store_status);
        let series = measure(&options, &http, &url, &handle)
            .await
            .with_context(|| format!("growth of {url}"))?;
        results.series.push(series);
        results.write(&path)?;
    }
    results.finished_at = Some(now_rfc3339());
    results.write(&path)?;
    Ok(results)
}

fn status(url: &str, name: Option<&str>, skipped: Option<String>) -> StoreStatus {
    let fallback = url.split(':').next().unwrap_or(url).replace("postgresql", "postgres");
    StoreStatus {
        name: name.map(str::to_string).unwrap_or(fallback),
        url: url.to_string(),
        status: if skipped.is_some() { "skipped" } else { "measured" }.to_string(),
        reason: skipped,
        server_version: None,
    }
}

/// One store's series.
async fn measure(
    options: &GrowthOptions,
    http: &reqwest::Client,
    url: &str,
    handle: &SharedStore,
) -> anyhow::Result<GrowthSeries> {
    handle.clear().await.context("cannot clear the store before measuring")?;
    let secret = format!("{}{}", Jti::random(), Jti::random());
    let spec = ReplicaSpec {
        exe: options.server_exe.clone(),
        store_url: url.to_string(),
        token_ttl: options.token_ttl,
        jwt_secret: secret.clone(),
        inject_latency: None,
        fail_open: false,
        cpus: None,
    };
    let (replica, prefill) = start_filled(options, http, &spec, handle).await?;
    let result = drive(options, http, url, &replica, &secret, prefill).await;
    replica.stop().await;
    // Leave nothing behind in a shared backend (the prefill would otherwise live on).
    let cleared = handle.clear().await;
    let mut series = result?;
    if let Err(e) = cleared {
        series.notes.push(format!("could not clear the store afterwards: {e}"));
    }
    Ok(series)
}

/// Starts the server with the store holding `options.prefill` live entries.
async fn start_filled(
    options: &GrowthOptions,
    http: &reqwest::Client,
    spec: &ReplicaSpec,
    handle: &SharedStore,
) -> anyhow::Result<(Replica, Option<PrefillReport>)> {
    let n = options.prefill;
    if n == 0 {
        return Ok((spec.start(http).await?, None));
    }
    if prefill::fills_in_process(&spec.store_url) {
        let timeout = Duration::from_secs(15) + FILL_TIME_PER_MILLION * (n / 1_000_000 + 1) as u32;
        let args = ["--prefill".to_string(), n.to_string()];
        let replica = spec.start_with_args(http, &args, timeout).await?;
        let field = |name: &str| listening_field(&replica.listening_line, name);
        let report = PrefillReport {
            entries: n,
            fill_secs: field("fill_ms").map(|ms| ms as f64 / 1000.0).unwrap_or(f64::NAN),
            filled_by: "server".to_string(),
            server_rss_before_bytes: field("rss_before_fill"),
            server_rss_after_bytes: field("rss_after_fill"),
            store_bytes_before: None,
            store_bytes_after: None,
        };
        return Ok((replica, Some(report)));
    }
    // Shared stores: fill the backend directly, alive for the whole run and a minute more.
    let lifetime = options.duration + options.token_ttl + Duration::from_secs(60);
    let before = handle.stats().await.ok().and_then(|s| s.bytes);
    let fill_time = prefill::fill(handle, &spec.store_url, n, now_secs() + lifetime.as_secs())
        .await
        .context("cannot prefill the store")?;
    let after = handle.stats().await.ok().and_then(|s| s.bytes);
    let report = PrefillReport {
        entries: n,
        fill_secs: fill_time.as_secs_f64(),
        filled_by: "runner".to_string(),
        server_rss_before_bytes: None,
        server_rss_after_bytes: None,
        store_bytes_before: before,
        store_bytes_after: after,
    };
    Ok((spec.start(http).await?, Some(report)))
}

/// `name=value` from the server's listening line, as a number.
pub fn listening_field(line: &str, name: &str) -> Option<u64> {
    line.split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .and_then(|(_, value)| value.parse().ok())
}

/// Loads the running server and samples it until the duration is over.
async fn drive(
    options: &GrowthOptions,
    http: &reqwest::Client,
    url: &str,
    replica: &Replica,
    secret: &str,
    prefill: Option<PrefillReport>,
) -> anyhow::Result<GrowthSeries> {
    let tallies = Arc::new(Tallies::default());
    let mut sampler = Sampler {
        http,
        replica,
        tallies: &tallies,
        load_started: Instant::now(),
        expected_entries: options.expected_entries(),
        prefill: options.prefill,
    };
    let store_name = replica.stats(http).await.map(|s| s.store).unwrap_or_default();
    let mut samples = vec![sampler.sample(true).await];
    let mut notes = Vec::new();
    if let Some(entries) = samples[0].entries.filter(|e| *e > options.prefill) {
        notes.push(format!(
            "the store held {entries} entries before the load, {} more than the prefill: \
             its count includes keys that are not this run's (for Redis, give growth a \
             database of its own: redis://host:port/N)",
            entries - options.prefill
        ));
    }
    let traffic_spec = TrafficSpec {
        base_url: replica.base_url.clone(),
        keys: TokenKeys::hs256(secret.as_bytes())?,
        logout_rate_per_sec: options.logout_rate_per_sec,
        check_rate_per_sec: options.check_rate_per_sec,
        token_ttl: options.token_ttl,
    };
    sampler.load_started = Instant::now();
    let traffic = Traffic::start(traffic_spec, http.clone(), tallies.clone());
    let mut ticker = tokio::time::interval(options.sample_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await; // the first tick is immediate
    while sampler.load_started.elapsed() + options.sample_interval / 2 < options.duration {
        ticker.tick().await;
        let sample = sampler.sample(false).await;
        if options.progress {
            eprintln!("{}", progress_line(&store_name, &sample));
        }
        samples.push(sample);
    }
    let elapsed = sampler.load_started.elapsed();
    traffic.stop().await;
    let all_checks = tallies.all_checks();
    let (p50, p99) = if all_checks.is_empty() {
        (None, None)
    } else {
        (Some(all_checks.value_at_quantile(0.5)), Some(all_checks.value_at_quantile(0.99)))
    };
    let baseline =
        prefill.as_ref().and_then(|p| p.store_bytes_before.or(p.server_rss_before_bytes));
    let summary = summarise(
        &samples,
        options.token_ttl.as_secs(),
        options.expected_entries(),
        baseline,
        p50,
        p99,
    );
    let logouts = tallies.logouts.load(std::sync::atomic::Ordering::Relaxed);
    Ok(GrowthSeries {
        store: store_name,
        url: url.to_string(),
        prefill,
        samples,
        summary,
        logouts,
        logout_errors: tallies.logout_errors.load(std::sync::atomic::Ordering::Relaxed),
        achieved_logout_rate_per_sec: logouts as f64 / elapsed.as_secs_f64().max(1e-9),
        notes,
    })
}

fn progress_line(store: &str, s: &GrowthSample) -> String {
    let ms =
        |us: Option<u64>| us.map(|u| format!("{:.3}", u as f64 / 1000.0)).unwrap_or("-".into());
    format!(
        "{store:<8} t={:>5.1}s entries={:>8} expected={:>8.0} live={:>8} rss={:>6.1} MiB \
         check p50={} ms p99={} ms",
        s.t_secs,
        s.entries.map(|e| e.to_string()).unwrap_or("-".into()),
        s.expected_entries,
        s.live_revoked,
        s.rss_bytes.unwrap_or(0) as f64 / (1024.0 * 1024.0),
        ms(s.check_p50_us),
        ms(s.check_p99_us),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shared stores get growth's namespace unless the URL names one; others are untouched.
    #[test]
    fn namespaces_shared_stores() {
        assert_eq!(
            namespace("redis://127.0.0.1:6379/3"),
            "redis://127.0.0.1:6379/3?prefix=revbench%3Agrowth%3A"
        );
        assert_eq!(namespace("redis://h/3?prefix=mine"), "redis://h/3?prefix=mine");
        assert_eq!(
            namespace("postgres://postgres@h/db?cleanup_interval=5s"),
            "postgres://postgres@h/db?cleanup_interval=5s&table=revbench_growth"
        );
        assert_eq!(namespace("mongodb://h:27017"), "mongodb://h:27017/revbench_growth");
        assert_eq!(namespace("memory:"), "memory:");
    }

    /// Numbers are read from `key=value` pairs on the listening line.
    #[test]
    fn reads_listening_fields() {
        let line = "listening on http://127.0.0.1:1 store=memory fail_open=false fill_ms=812";
        assert_eq!(listening_field(line, "fill_ms"), Some(812));
        assert_eq!(listening_field(line, "store"), None);
        assert_eq!(listening_field(line, "rss_before_fill"), None);
    }
}
