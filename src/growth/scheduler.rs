//! `revbench growth`: how each store grows, shrinks and slows as tokens expire.
//!
//! For each store, one after another, in a namespace of growth's own (removed at the end or on
//! Ctrl-C; only it is counted): clear its namespace, optionally prefill it, start a
//! `revbench serve` process on it, drive logouts and checks at steady rates, and every sample
//! interval record the store's entries and bytes, the server's RSS and the check latency over
//! the interval, beside the expected steady state `prefill + logout_rate × token_ttl`.
//! `results.json` is rewritten after every store.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::options::GrowthOptions;
use super::sampler::Sampler;
use super::summary::summarise;
use super::traffic::{Tallies, Traffic, TrafficSpec};
use crate::harness::output::{http_client, shared_secret};
use crate::harness::{probe, Output, Replica, ReplicaSpec, Target};
use crate::interrupt::Interrupt;
use crate::results::growth::{
    GrowthConfig, GrowthResults, GrowthSample, GrowthSeries, GrowthSummary, PrefillReport,
    GROWTH_KIND,
};
use crate::results::ResultsHeader;
use crate::revocation::{self, SharedStore};
use crate::time::now_secs;
use crate::token::TokenKeys;

/// How long a killed server gets to stop writing before an interrupted growth removes its
/// namespaces.
const INTERRUPT_GRACE: Duration = Duration::from_millis(300);

/// Runs every store in turn, each in a namespace of its own that is removed afterwards, and
/// returns the results (also in `out_dir/results.json`).
///
/// Only each store's own namespace is counted; a store that cannot count its own entries is
/// refused before anything is measured. On Ctrl-C the namespaces are removed before exiting.
pub async fn run(options: GrowthOptions) -> anyhow::Result<GrowthResults> {
    options.validate()?;
    // Before any load starts, so the signal reaches us (see `Interrupt`).
    let mut interrupt = Interrupt::listen().context("cannot listen for Ctrl-C")?;
    let output = Output::create(&options.out_dir)?;
    let (targets, stores) = probe(&options.stores, "growth").await;
    let mut results = GrowthResults {
        header: ResultsHeader::start(),
        kind: GROWTH_KIND.to_string(),
        config: GrowthConfig {
            token_ttl_secs: options.token_ttl.as_secs(),
            logout_rate_per_sec: options.logout_rate_per_sec,
            check_rate_per_sec: options.check_rate_per_sec,
            duration_secs: options.duration.as_secs_f64(),
            sample_interval_secs: options.sample_interval.as_secs_f64(),
            prefill_entries: options.prefill,
            expected_entries: options.expected_entries(),
            logout_users: options.logout_users,
        },
        stores,
        series: Vec::new(),
    };
    output.write(|path| results.write(path))?;
    for skipped in results.stores.iter().filter(|s| s.reason.is_some()) {
        eprintln!("skipped {}: {}", skipped.url, skipped.reason.as_deref().unwrap_or(""));
    }
    let measured = tokio::select! {
        measured = measure_all(&options, &output, &targets, &mut results) => measured,
        () = interrupt.recv() => {
            // The measurement was dropped, killing its server; let it die before cleaning.
            tokio::time::sleep(INTERRUPT_GRACE).await;
            Err(anyhow::anyhow!("interrupted; results so far are in {}", output.results.display()))
        }
    };
    for target in targets {
        let name = target.name.clone();
        if let Err(e) = target.remove().await {
            eprintln!("warning: could not remove growth's namespace in {name}: {e}");
        }
    }
    measured?;
    results.header.finish();
    output.write(|path| results.write(path))?;
    Ok(results)
}

/// Checks every store can count its own entries, then measures them one after another.
async fn measure_all(
    options: &GrowthOptions,
    output: &Output,
    targets: &[Target],
    results: &mut GrowthResults,
) -> anyhow::Result<()> {
    for target in targets {
        ensure_counts_own_entries(target).await?;
    }
    let http = http_client()?;
    for target in targets {
        let series = measure(options, &http, target)
            .await
            .with_context(|| format!("growth of {}", target.name))?;
        results.series.push(series);
        output.write(|path| results.write(path))?;
    }
    Ok(())
}

/// Growth's curves are its own entries only: a store that cannot count them (no count, or the
/// count fails, e.g. a Redis user without `SCAN`) is refused with the reason.
async fn ensure_counts_own_entries(target: &Target) -> anyhow::Result<()> {
    let name = &target.name;
    match target.handle().stats().await {
        Ok(stats) if stats.entries.is_some() => Ok(()),
        Ok(_) => anyhow::bail!(
            "{name} cannot count its entries, so its growth cannot be measured; leave it out of \
             --stores"
        ),
        Err(e) => anyhow::bail!(
            "growth counts only its own entries, and {name} cannot count them: {e}; grant the \
             user SCAN (Redis) or SELECT (PostgreSQL) on its namespace, or leave the store out \
             of --stores"
        ),
    }
}

/// One store's series.
async fn measure(
    options: &GrowthOptions,
    http: &reqwest::Client,
    target: &Target,
) -> anyhow::Result<GrowthSeries> {
    let handle = target.handle();
    handle.clear().await.context("cannot clear the store before measuring")?;
    let secret = shared_secret();
    let spec = ReplicaSpec {
        exe: options.server_exe.clone(),
        store_url: target.url.clone(),
        token_ttl: options.token_ttl,
        jwt_secret: secret.clone(),
        inject_latency: None,
        inject_work: None,
        fail_open: false,
        cpus: None,
        admin_token: shared_secret(),
    };
    let (replica, prefill) = start_filled(options, http, &spec, handle).await?;
    let result = drive(options, http, &target.url, &replica, &secret, prefill).await;
    replica.stop().await;
    result
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
    if !handle.capabilities().shared {
        // An in-process store can only be filled inside the server process.
        let timeout = crate::run::fleet::fill_timeout(n);
        let args = ["--prefill".to_string(), n.to_string()];
        let replica = spec.start_with_args(http, &args, timeout).await?;
        let facts = replica.listening.prefill;
        let report = PrefillReport {
            entries: n,
            fill_secs: facts.map(|f| f.fill_ms as f64 / 1000.0).unwrap_or(f64::NAN),
            filled_by: "server".to_string(),
            server_rss_before_bytes: facts.and_then(|f| f.rss_before_fill),
            server_rss_after_bytes: facts.and_then(|f| f.rss_after_fill),
            store_bytes_before: None,
            store_bytes_after: None,
        };
        return Ok((replica, Some(report)));
    }
    // Shared stores: fill the backend directly, alive for the whole run and a minute more.
    let lifetime =
        options.duration.saturating_add(options.token_ttl).saturating_add(Duration::from_secs(60));
    let before = handle.stats().await.ok().and_then(|s| s.bytes);
    let entries = revocation::random_entries(n, now_secs().saturating_add(lifetime.as_secs()));
    let fill_time = revocation::fill(handle, entries).await.context("cannot prefill the store")?;
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
    let before_load = sampler.sample(true).await;
    let notes = foreign_entries(&before_load, options.prefill).into_iter().collect();
    let spec = traffic_spec(options, replica, secret)?;
    sampler.load_started = Instant::now();
    let traffic = Traffic::start(spec, http.clone(), tallies.clone());
    let samples = sample_until_done(options, &sampler, &store_name, before_load).await;
    let elapsed = sampler.load_started.elapsed();
    traffic.stop().await;
    let summary = summarise_series(options, &samples, &tallies, prefill.as_ref());
    let logouts = tallies.logouts.load(Ordering::Relaxed);
    Ok(GrowthSeries {
        store: store_name,
        url: crate::redact::redact(url),
        prefill,
        samples,
        summary,
        logouts,
        logout_errors: tallies.logout_errors.load(Ordering::Relaxed),
        achieved_logout_rate_per_sec: logouts as f64 / elapsed.as_secs_f64().max(1e-9),
        notes,
    })
}

/// A note when the store held more than the prefill before the load: growth counts only its
/// own namespace, so something else writes into it, and the curve is not the load's alone.
fn foreign_entries(before_load: &GrowthSample, prefill: u64) -> Option<String> {
    let entries = before_load.entries.filter(|e| *e > prefill)?;
    Some(format!(
        "the store held {entries} entries before the load, {} more than the prefill: \
         something else writes into growth's own namespace",
        entries - prefill
    ))
}

/// The logouts and checks `options` asks for, on `replica`, with tokens it can verify.
fn traffic_spec(
    options: &GrowthOptions,
    replica: &Replica,
    secret: &str,
) -> anyhow::Result<TrafficSpec> {
    Ok(TrafficSpec {
        base_url: replica.base_url.clone(),
        keys: TokenKeys::hs256(secret.as_bytes())?,
        logout_rate_per_sec: options.logout_rate_per_sec,
        check_rate_per_sec: options.check_rate_per_sec,
        token_ttl: options.token_ttl,
        logout_users: options.logout_users,
    })
}

/// Samples every interval after `first` (taken before the load) until the duration is over,
/// printing a line per sample when asked.
async fn sample_until_done(
    options: &GrowthOptions,
    sampler: &Sampler<'_>,
    store_name: &str,
    first: GrowthSample,
) -> Vec<GrowthSample> {
    let mut samples = vec![first];
    let mut ticker = tokio::time::interval(options.sample_interval);
    // A slow sample delays the next rather than bunching the ones it missed.
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate: the sample before the load stands in for it.
    ticker.tick().await;
    // The last sample is the tick nearest the load's end, up to half an interval past it.
    while sampler.load_started.elapsed() + options.sample_interval / 2 < options.duration {
        ticker.tick().await;
        let sample = sampler.sample(false).await;
        if options.progress {
            eprintln!("{}", progress_line(store_name, &sample));
        }
        samples.push(sample);
    }
    samples
}

/// The series' summary, the check latency over the whole load beside it.
fn summarise_series(
    options: &GrowthOptions,
    samples: &[GrowthSample],
    tallies: &Tallies,
    prefill: Option<&PrefillReport>,
) -> GrowthSummary {
    let all_checks = tallies.all_checks();
    let (p50, p99) = if all_checks.is_empty() {
        (None, None)
    } else {
        (Some(all_checks.value_at_quantile(0.5)), Some(all_checks.value_at_quantile(0.99)))
    };
    // The memory before a prefill is the baseline, so the prefilled entries are paid for too.
    let baseline = prefill.and_then(|p| p.store_bytes_before.or(p.server_rss_before_bytes));
    summarise(samples, options.token_ttl.as_secs(), options.expected_entries(), baseline, p50, p99)
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
