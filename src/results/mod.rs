//! The results schema: plain, documented serde structs that every exporter reads.
//!
//! `results.json` is written by `revbench run` (and rewritten after every measurement, so a
//! crash loses nothing). Readers must check [`SCHEMA_VERSION`]. Times are microseconds
//! (`_us`), sizes bytes, rates per second.

use std::collections::BTreeMap;
use std::path::Path;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::environment::Environment;
use crate::scenario::Scenario;
use crate::time::now_rfc3339;
use crate::units::Micros;

pub mod answers;
pub mod axis;
mod forgotten;
pub mod growth;
pub mod histogram;
mod prefill;
mod replay;
mod servers;
pub mod sweep;
mod timeline;

pub use forgotten::LoadForgotten;
pub use prefill::ServerPrefill;
pub use replay::{middle_and_max, ReplayCounts, ReplayWindow};
pub use servers::{ServerCounters, ServerWindow};
pub use timeline::{Timeline, TimelineEvent, Values, RESTARTED, STORE_BACK, STORE_CUT};

/// Bumped on every incompatible change to these structs.
pub const SCHEMA_VERSION: u32 = 1;

/// Percentiles kept for the latency spectrum (HDR-style chart).
pub const SPECTRUM_PERCENTILES: [f64; 10] =
    [0.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.99, 100.0];

/// What every results file starts with, whichever command wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultsHeader {
    pub schema_version: u32,
    /// RFC 3339 UTC start time.
    pub started_at: String,
    /// Set when the run completed; absent in a file rewritten mid-run.
    pub finished_at: Option<String>,
    pub environment: Environment,
}

impl ResultsHeader {
    /// A header for a run starting now, with this machine's environment.
    pub fn start() -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            started_at: now_rfc3339(),
            finished_at: None,
            environment: Environment::capture(),
        }
    }

    /// Marks the run finished now.
    pub fn finish(&mut self) {
        self.finished_at = Some(now_rfc3339());
        self.environment.load_average_at_end = crate::environment::load_average();
    }
}

/// A whole `revbench run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResults {
    #[serde(flatten)]
    pub header: ResultsHeader,
    pub config: RunConfig,
    /// Every store asked for, measured or skipped.
    pub stores: Vec<StoreRecord>,
    /// One entry per (store, scenario), rounds in run order.
    pub measurements: Vec<Measurement>,
    /// Store × scenario pairs that cannot be measured (e.g. an outage of an in-process store).
    #[serde(default)]
    pub not_applicable: Vec<NotApplicable>,
    /// Measurements that failed (e.g. the servers did not start); a paired run records them
    /// and goes on, so `compare` can name a store that works in one build and not the other.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<MeasurementFailure>,
}

/// A measurement that could not be made, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasurementFailure {
    pub store: String,
    pub scenario: String,
    pub round: usize,
    /// The pair it belonged to, in a paired run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<usize>,
    pub error: String,
}

/// One side of a paired run (`revbench run --baseline-binary`): both sides' files carry the
/// same `run_id`, and rounds with the same `pair` number were measured back to back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairedRun {
    pub run_id: String,
    /// `base` or `candidate`.
    pub side: String,
    /// The executable that served this side.
    pub server_exe: String,
}

/// A store × scenario pair that was not measured, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotApplicable {
    pub store: String,
    pub scenario: String,
    pub reason: String,
}

impl NotApplicable {
    /// The status as shown: `not applicable: <reason>`, or the reason alone when it says so
    /// itself (`not applicable with --target: …`).
    pub fn status(&self) -> String {
        if self.reason.starts_with("not applicable") {
            self.reason.clone()
        } else {
            format!("not applicable: {}", self.reason)
        }
    }
}

/// What a store outage did (the `store-outage` scenario).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutageResult {
    /// When the store was cut off, from the start of the load.
    pub cut_after_secs: f64,
    /// How long it stayed unreachable.
    pub down_secs: f64,
    /// Responses while it was down, e.g. `"me 503": 812` (fail closed: no `"me 200"`).
    pub statuses_during: BTreeMap<String, u64>,
    /// Revoked tokens let in while the store was down.
    pub replays_accepted_during: u64,
    /// From the store's return to the first `GET /api/me` answered 200 (ms); `None` if the
    /// server never recovered before the end of the measurement.
    pub recovery_ms: Option<f64>,
}

/// What was asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    pub scenarios: Vec<Scenario>,
    pub rounds: usize,
    pub quick: bool,
    /// Latency added to every check by `--inject-latency`, if any (µs).
    pub injected_latency_us: Option<u64>,
    /// CPU work added to every check by `--inject-work`, if any (ns of CPU time, calibrated
    /// by each server at its start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injected_work_ns: Option<u64>,
    /// Where the server and the load client ran (`--pin`), e.g. "server: cpu 1, client: cpu 0".
    pub placement: String,
    /// Load applied before each measurement and not recorded (s); absent in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_secs: Option<f64>,
    /// Set when this file is one side of a paired run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paired: Option<PairedRun>,
}

/// Whether a store was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreStatus {
    Measured,
    /// It did not answer (or its URL was bad); the reason says which.
    Skipped,
}

/// A store asked for: measured, or skipped and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreRecord {
    /// The store's label (`redis`, `redis/9?prefix=other:`, or the name given as `name=URL`):
    /// what every measurement of the store is filed under.
    pub name: String,
    /// The scheme's short name (`redis`), for what is known of every store of a kind: its
    /// colour, its description. Absent in older files, whose `name` is the scheme's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// URL as given, with revbench's own per-run parameters.
    pub url: String,
    pub status: StoreStatus,
    pub reason: Option<String>,
    /// The backend server's version (`INFO server`, `SHOW server_version`, `buildInfo`), or
    /// the name of the wire-compatible server that answered instead.
    pub server_version: Option<String>,
    /// Set when that server is a stand-in for the product the store is named after: what its
    /// figures must not be taken for ("wire-compatible server — not MongoDB's performance").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_caveat: Option<String>,
}

/// One store under one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub store: String,
    pub scenario: String,
    pub rounds: Vec<RoundResult>,
    /// The median of each metric across rounds (absent until one round finished).
    pub median: Option<RoundMedian>,
}

/// One round of one measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundResult {
    /// 1-based round number.
    pub round: usize,
    /// Position of this measurement in the whole run (1-based), to show interleaving.
    pub sequence: usize,
    pub started_at: String,
    pub elapsed_secs: f64,
    /// Requests of the load that got a response, whatever it was (replays included; the
    /// replay-window probes' requests are counted in `replay_window.requests`).
    pub requests: u64,
    pub requests_per_sec: f64,
    /// Latency of every request of the load answered as expected (see
    /// [`answers::expected_status`]), replays excluded (they are in `replay_latency`), from
    /// its actual send. Its mix of request kinds follows the store (a strategy may add
    /// refreshes): stores are compared on [`RoundResult::check_latency`]. (Files written
    /// before `error_latency` existed mixed in every answer; before `replay_latency`, a
    /// revoking store's refused replays.)
    pub latency: LatencySummary,
    /// Latency of answers with another status (401/503 where 200 was expected, …), replays
    /// excluded: kept apart so a store that fails fast never looks faster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_latency: Option<LatencySummary>,
    /// Per request kind (`me`, `login`, `logout`, `refresh`), answers as expected only.
    /// `me` is the check latency: `GET /api/me` with a live token, the same request for every
    /// store. (Older files have a `replay` kind: the replays answered 401.)
    pub latency_by_request: BTreeMap<String, LatencySummary>,
    /// Latency of every replay of a revoked copy, whatever its answer (accepted, refused,
    /// unanswered), so that no store's latency figure holds requests another's does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_latency: Option<LatencySummary>,
    /// Constant-rate mode only: latency from each request's intended start, without the load
    /// client's own lateness (see `pacing_lateness`).
    pub corrected_latency: Option<LatencySummary>,
    /// Constant-rate mode only: how late the client sent each request after it could have
    /// (its timer and scheduling, not the server's fault), µs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pacing_lateness: Option<LatencySummary>,
    /// Responses by request kind and status, e.g. `"me 200": 1234`.
    pub statuses: BTreeMap<String, u64>,
    /// Requests without a response, by request kind and error kind.
    pub errors: BTreeMap<String, u64>,
    /// Replays of revoked copies sent: accepted + refused + unanswered.
    pub replays_attempted: u64,
    /// Replays answered 200: the revoked copy was let in (a leak).
    pub replays_accepted: u64,
    /// Replays answered 401: the copy was refused. Absent in older files, which counted
    /// every answer but 200 as refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replays_refused: Option<u64>,
    /// Replays not answered properly — a 5xx or any status but 200 and 401, or no answer at
    /// all (timeout, connection refused): neither accepted nor refused, so kept out of the
    /// leak rate and shown beside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replays_unanswered: Option<u64>,
    /// `replays_accepted / (replays_accepted + replays_refused)`: the share of answered
    /// replays let in; absent when no replay was answered.
    pub leak_rate: Option<f64>,
    /// Store calls that failed, over the measured window, summed over the servers (each
    /// counted once: see `servers`).
    pub store_errors: u64,
    /// Requests let through without an answer from the store (`--fail-open`), likewise.
    pub fail_open_passes: u64,
    /// Requests the servers answered over the measured window by their own count, summed
    /// over the servers: the load's `requests` plus the probes' (`replay_window.requests`),
    /// give or take requests in flight at either end. `None` when a server could not report
    /// or does not count them (an older `revbench serve`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_requests: Option<u64>,
    /// Revocations that returned before every replica acknowledged them (`hybrid+redis`),
    /// over the measured window; `None` for the stores that push nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_timeouts: Option<u64>,
    /// Revocations refused because the queue for Redis was full (`hybrid+redis`) over the
    /// measured window; `None` for the stores that queue nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_overflows: Option<u64>,
    /// Checks answered from a local filter, and checks asked of the shared store (one round
    /// trip each), over the measured window and summed over the servers (`filter+redis`);
    /// `None` for the stores without a filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_checks: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_checks: Option<u64>,
    /// Each server's own counters (`/stats`) at the start and at the end of the measured
    /// window (a server started during it starts at zero): every server-side count above is
    /// the sum of these deltas, and `revbench merge` counts a server that several generators
    /// read once. Absent in older files, whose counts were the servers' raw totals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<ServerWindow>,
    /// Simulated users that drove the load (this generator's share with `--segment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<usize>,
    /// Store entries and bytes at the end, as the store reports them (first replica).
    pub store_entries: Option<u64>,
    pub store_bytes: Option<u64>,
    /// Largest peak resident set (VmHWM) among the replicas.
    pub server_peak_rss_bytes: Option<u64>,
    /// CPU the load client (this process: goose, HDR recording) spent per request (µs).
    #[serde(default)]
    pub client_cpu_us_per_request: Option<f64>,
    /// CPU the server replicas spent per request they answered (µs): their CPU time from
    /// `/proc/PID/stat` over the measured window, divided by `server_requests` (by the
    /// load's recorded requests in files without it).
    #[serde(default)]
    pub server_cpu_us_per_request: Option<f64>,
    /// Set for scenarios that cut the store off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outage: Option<OutageResult>,
    /// How long copied tokens kept working after logout (scenarios that replay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_window: Option<ReplayWindow>,
    /// In a paired run: the pair this round belongs to (the other side has the same number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<usize>,
    /// `POST /refresh` requests sent per second of measured time, whatever the answer; `None`
    /// when the scenario sent none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_requests_per_sec: Option<f64>,
    /// Keys the servers wrote to (or deleted from) their store during the measured time, from
    /// their counters: one per logout or revoke (none with `none:`), plus a refresh-token
    /// strategy's logins (2), rotations (3) and reuses. `None` when a server could not report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_writes: Option<u64>,
    /// [`store_writes`](Self::store_writes) per simulated user per hour of measured time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_writes_per_user_hour: Option<f64>,
    /// The store writes made by `POST /refresh` (rotations, reuses) per simulated user per hour
    /// of measured time: what renewing tokens costs the store, apart from logins and logouts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_writes_per_user_hour: Option<f64>,
    /// The round over time, in short intervals of the measured window (requests, error
    /// answers, check latency p50 and p99, the outage's and restart's instants); absent in
    /// older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Timeline>,
    /// Set when the servers filled their in-process store before listening (`revbench
    /// sweep`): the first replica's fill, outside the measured window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_prefill: Option<ServerPrefill>,
    /// Set when the store was kept filled across measurements (a `revoked=` sweep's shared
    /// store): what its load revoked, removed after the measurement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_forgotten: Option<LoadForgotten>,
}

/// Medians across rounds; min and max show the spread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundMedian {
    pub requests_per_sec: Spread,
    pub p50_us: Spread,
    pub p90_us: Spread,
    pub p99_us: Spread,
    pub p999_us: Spread,
    pub max_us: Spread,
    pub corrected_p99_us: Option<Spread>,
    #[serde(default)]
    pub corrected_p50_us: Option<Spread>,
    pub leak_rate: Option<Spread>,
    pub server_peak_rss_bytes: Option<Spread>,
    /// The check latency's (`GET /api/me`) percentiles, over the rounds that have it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_p50_us: Option<Spread>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_p99_us: Option<Spread>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_p999_us: Option<Spread>,
    /// The replay window's largest probe (µs) over the rounds where it was measured and
    /// finite. (Older files: `replay_window_p99_us`, which with eight probes was the largest.)
    #[serde(default, alias = "replay_window_p99_us", skip_serializing_if = "Option::is_none")]
    pub replay_window_max_us: Option<Spread>,
    /// Share of probed copies never refused, over the rounds that probed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_never_refused: Option<Spread>,
    /// Refresh requests per second, over the rounds that sent some.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_requests_per_sec: Option<Spread>,
    /// Store writes per user per hour, over the rounds whose servers reported them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_writes_per_user_hour: Option<Spread>,
    /// Writes made by `POST /refresh` per user per hour, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_writes_per_user_hour: Option<Spread>,
}

/// The median of a metric over rounds, and its min and max.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// `None` for no values.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let mut values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median =
            if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 };
        Some(Spread { median, min: values[0], max: values[n - 1] })
    }
}

/// Latency percentiles of one histogram (µs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    pub count: u64,
    pub mean_us: f64,
    pub p50_us: Micros,
    pub p90_us: Micros,
    pub p99_us: Micros,
    pub p999_us: Micros,
    pub max_us: Micros,
    /// `(percentile, µs)` pairs at [`SPECTRUM_PERCENTILES`].
    pub spectrum: Vec<(f64, Micros)>,
    /// The whole histogram (hdrhistogram V2 + DEFLATE, base64), so files from several load
    /// generators merge exactly (`revbench merge`); absent in files from older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<String>,
}

impl LatencySummary {
    pub fn from_histogram(h: &Histogram<u64>) -> Self {
        Self {
            count: h.len(),
            mean_us: h.mean(),
            p50_us: h.value_at_quantile(0.50),
            p90_us: h.value_at_quantile(0.90),
            p99_us: h.value_at_quantile(0.99),
            p999_us: h.value_at_quantile(0.999),
            max_us: h.max(),
            spectrum: SPECTRUM_PERCENTILES
                .iter()
                .map(|p| (*p, h.value_at_quantile(p / 100.0)))
                .collect(),
            histogram: histogram::encode(h).ok(),
        }
    }
}

/// Writes per simulated user and hour of measured time: what compares strategies whatever a
/// run's length and users.
pub fn per_user_hour(writes: Option<u64>, users: usize, secs: f64) -> Option<f64> {
    writes.map(|n| n as f64 / users.max(1) as f64 / (secs.max(1e-9) / 3600.0))
}

/// The request kind whose latency is the check latency.
pub const CHECK_REQUEST: &str = "me";

impl RoundResult {
    /// The check latency: `GET /api/me` with a live token answered 200 — the same request
    /// for every store, so stores are compared like with like. `None` when the scenario
    /// sent none.
    pub fn check_latency(&self) -> Option<&LatencySummary> {
        self.latency_by_request.get(CHECK_REQUEST)
    }

    /// Replays answered (accepted or refused); in older files every replay that got a
    /// response.
    pub fn replays_answered(&self) -> u64 {
        self.replays_attempted.saturating_sub(self.replays_unanswered.unwrap_or(0))
    }

    /// The mean wait `--inject-latency` delivered per check over the measured window (µs), by
    /// the servers' own record; `None` without one, or from servers that do not record it.
    pub fn injected_delay_us(&self) -> Option<f64> {
        self.mean_per_check_us(|c| (c.injected_delays, c.injected_delay_ns))
    }

    /// The mean CPU work `--inject-work` added per check over the measured window (µs), by
    /// the servers' own record; `None` without it, or from servers that do not record it.
    pub fn injected_work_us(&self) -> Option<f64> {
        self.mean_per_check_us(|c| (c.injected_works, c.injected_work_ns))
    }

    /// A test knob's mean per check (µs) from the servers' totals: `pick` gives its
    /// `(count, total ns)`.
    fn mean_per_check_us(
        &self,
        pick: fn(&ServerCounters) -> (Option<u64>, Option<u64>),
    ) -> Option<f64> {
        let (count, ns) = pick(&ServerWindow::total(&self.servers)?);
        let (count, ns) = (count?, ns?);
        (count > 0).then(|| ns as f64 / count as f64 / 1e3)
    }

    /// `accepted / answered`, `None` when no replay was answered.
    pub fn leak_of(accepted: u64, answered: u64) -> Option<f64> {
        (answered > 0).then(|| accepted as f64 / answered as f64)
    }
}

impl Measurement {
    /// Recomputes [`Measurement::median`] from the rounds.
    pub fn update_median(&mut self) {
        let rounds = &self.rounds;
        let spread =
            |f: &dyn Fn(&RoundResult) -> Option<f64>| Spread::of(rounds.iter().filter_map(f));
        let Some(requests_per_sec) = spread(&|r| Some(r.requests_per_sec)) else {
            self.median = None;
            return;
        };
        self.median = Some(RoundMedian {
            requests_per_sec,
            p50_us: spread(&|r| Some(r.latency.p50_us as f64)).expect("rounds exist"),
            p90_us: spread(&|r| Some(r.latency.p90_us as f64)).expect("rounds exist"),
            p99_us: spread(&|r| Some(r.latency.p99_us as f64)).expect("rounds exist"),
            p999_us: spread(&|r| Some(r.latency.p999_us as f64)).expect("rounds exist"),
            max_us: spread(&|r| Some(r.latency.max_us as f64)).expect("rounds exist"),
            corrected_p99_us: spread(&|r| r.corrected_latency.as_ref().map(|l| l.p99_us as f64)),
            corrected_p50_us: spread(&|r| r.corrected_latency.as_ref().map(|l| l.p50_us as f64)),
            leak_rate: spread(&|r| r.leak_rate),
            server_peak_rss_bytes: spread(&|r| r.server_peak_rss_bytes.map(|b| b as f64)),
            check_p50_us: spread(&|r| r.check_latency().map(|l| l.p50_us as f64)),
            check_p99_us: spread(&|r| r.check_latency().map(|l| l.p99_us as f64)),
            check_p999_us: spread(&|r| r.check_latency().map(|l| l.p999_us as f64)),
            replay_window_max_us: spread(&|r| {
                r.replay_window.as_ref().and_then(|w| w.max_us).map(|us| us as f64)
            }),
            replay_never_refused: spread(&|r| {
                r.replay_window.as_ref().and_then(ReplayWindow::never_refused_fraction)
            }),
            refresh_requests_per_sec: spread(&|r| r.refresh_requests_per_sec),
            store_writes_per_user_hour: spread(&|r| r.store_writes_per_user_hour),
            refresh_writes_per_user_hour: spread(&|r| r.refresh_writes_per_user_hour),
        });
    }
}

/// Why a results file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is not a revbench results file: {message}")]
    NotResults { path: String, message: String },
    #[error(
        "{path} has schema_version {found}, this revbench reads {SCHEMA_VERSION}; \
         re-run `revbench run` with this version or use the revbench that wrote it"
    )]
    SchemaMismatch { path: String, found: u64 },
}

impl StoreRecord {
    /// A store labelled `label` that answered at `url`, with the server behind it and its
    /// caveat if any; its scheme is the URL's.
    pub fn measured(
        label: &str,
        url: &str,
        server_version: Option<String>,
        server_caveat: Option<String>,
    ) -> Self {
        let (name, scheme, url) = (label.to_string(), scheme_name(url), crate::redact::redact(url));
        let status = StoreStatus::Measured;
        Self { name, scheme, url, status, reason: None, server_version, server_caveat }
    }

    /// A store labelled `label` that could not be measured.
    pub fn skipped(label: &str, url: &str, reason: String) -> Self {
        let (name, scheme, url) = (label.to_string(), scheme_name(url), crate::redact::redact(url));
        let (status, reason) = (StoreStatus::Skipped, Some(reason));
        Self { name, scheme, url, status, reason, server_version: None, server_caveat: None }
    }

    /// The same record with its scheme named (when the URL does not say it, as `--target`'s
    /// server URLs do not).
    pub fn with_scheme(self, scheme: &str) -> Self {
        Self { scheme: Some(scheme.to_string()), ..self }
    }

    /// The scheme's short name: recorded, or (older files) the store's name.
    pub fn scheme_name(&self) -> &str {
        self.scheme.as_deref().unwrap_or(&self.name)
    }
}

/// The short name of the scheme `url` names, if it names one.
fn scheme_name(url: &str) -> Option<String> {
    crate::revocation::Scheme::of(url).ok().map(|s| s.name.to_string())
}

impl RunResults {
    /// Reads and checks a results file. Medians are derived from the rounds, so they are
    /// recomputed: every reader sees this version's medians, whatever wrote the file.
    pub fn read(path: &Path) -> Result<Self, ReadError> {
        let mut results: Self = read_versioned(path, None)?;
        for measurement in &mut results.measurements {
            measurement.update_median();
        }
        Ok(results)
    }

    /// The record of the store labelled `label`.
    pub fn store(&self, label: &str) -> Option<&StoreRecord> {
        self.stores.iter().find(|s| s.name == label)
    }

    /// The scheme's short name of the store labelled `label` (the label itself when the store
    /// is not listed).
    pub fn scheme_of<'a>(&'a self, label: &'a str) -> &'a str {
        self.store(label).map_or(label, StoreRecord::scheme_name)
    }

    /// Writes the file atomically (temp file + rename), so a crash never leaves half a file.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        write_json(path, self)
    }
}

/// Reads a results file, checking [`SCHEMA_VERSION`] and its `kind` (`None` for `revbench run`
/// files, which have none; `Some("growth")` for `revbench growth`).
pub(crate) fn read_versioned<T: serde::de::DeserializeOwned>(
    path: &Path,
    kind: Option<&str>,
) -> Result<T, ReadError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|source| ReadError::Io { path: shown.clone(), source })?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| ReadError::NotResults { path: shown.clone(), message: e.to_string() })?;
    let found = value.get("schema_version").and_then(|v| v.as_u64()).ok_or_else(|| {
        ReadError::NotResults { path: shown.clone(), message: "no schema_version".into() }
    })?;
    if found != u64::from(SCHEMA_VERSION) {
        return Err(ReadError::SchemaMismatch { path: shown, found });
    }
    let found_kind = value.get("kind").and_then(|k| k.as_str());
    if found_kind != kind {
        let message = match (found_kind, kind) {
            (Some(found), None) => format!("a `revbench {found}` file, not a `revbench run` one"),
            (_, Some(wanted)) => format!("no `kind: {wanted}` (a `revbench run` file?)"),
            (None, None) => unreachable!("equal kinds were accepted above"),
        };
        return Err(ReadError::NotResults { path: shown, message });
    }
    serde_json::from_value(value)
        .map_err(|e| ReadError::NotResults { path: shown, message: e.to_string() })
}

/// Writes `value` as pretty JSON, atomically.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    write_atomically(path, &serde_json::to_vec_pretty(value).expect("results serialize"))
}

/// Writes `bytes` to a sibling temp file, then renames it over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Medians of odd and even counts, with min and max.
    #[test]
    fn spread_median_min_max() {
        let s = Spread::of([3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        assert_eq!(Spread::of([1.0, 2.0, 4.0, 10.0]).unwrap().median, 3.0);
        assert!(Spread::of([]).is_none());
        assert!(Spread::of([f64::NAN]).is_none());
    }
}
