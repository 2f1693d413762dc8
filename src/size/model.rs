//! The sizing arithmetic: entries, memory, check latency and store operations per strategy,
//! from the user's load and a sweep's measurements.

use std::time::Duration;

use crate::results::answers::mostly_failed;
use crate::results::sweep::{SweepPoint, SweepResults};
use crate::results::Measurement;
use crate::revocation::strategies::bloom::SIZED_FALSE_POSITIVE_RATE;
use crate::revocation::{profile, EntryUnit, Scheme, SCHEMES};
use crate::units::short_count;

/// The user's system.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    pub users: u64,
    pub logouts_per_user_per_hour: f64,
    pub token_ttl: Duration,
    pub replicas: u64,
    /// Requests per second, each one a check.
    pub rps: f64,
}

impl Load {
    /// Logouts per second, all users together.
    pub fn logouts_per_sec(&self) -> f64 {
        self.users as f64 * self.logouts_per_user_per_hour / 3600.0
    }

    /// Live entries of a deny-list: every revoked token until it expires.
    pub fn revoked_tokens(&self) -> f64 {
        self.logouts_per_sec() * self.token_ttl.as_secs_f64()
    }

    /// Live entries of a per-user cut-off: users who logged out within one token lifetime.
    pub fn users_logged_out(&self) -> f64 {
        let hours = self.token_ttl.as_secs_f64() / 3600.0;
        self.users as f64 * (1.0 - (-self.logouts_per_user_per_hour * hours).exp())
    }
}

/// What one entry of a strategy stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keeping {
    PerToken,
    PerUser,
    Nothing,
    /// Not sized from logouts (refresh-token rotation keeps entries per session).
    NotSized,
}

/// Where a strategy keeps its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// In every server process: a copy per replica.
    PerReplica,
    /// In one shared store.
    Shared,
    /// Both: a local copy per replica, kept in sync through a shared store.
    PerReplicaAndShared,
}

impl Placement {
    /// Where `scheme` keeps its entries.
    pub fn of(scheme: &Scheme) -> Placement {
        if scheme.in_process() {
            Placement::PerReplica
        } else if scheme.name == HYBRID || scheme.name == FILTER {
            Placement::PerReplicaAndShared
        } else {
            Placement::Shared
        }
    }

    /// Where the bytes a run measures per entry are (the store's own reading: the local copy
    /// where there is one), as the decision view says it.
    pub fn said(self) -> &'static str {
        match self {
            Placement::PerReplica => "in each replica",
            Placement::Shared => "once, in the shared store",
            Placement::PerReplicaAndShared => "in each replica's copy, the shared store's on top",
        }
    }
}

/// The scheme name of `hybrid+redis://`: a table per replica kept in sync through Redis.
const HYBRID: &str = "hybrid";

/// The scheme name of `filter+redis://`: a filter per replica in front of a shared store.
const FILTER: &str = "filter";

/// The check latency at the sweep point nearest the entries.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckAt {
    /// The point's value (entries).
    pub at: u64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Set when the entries lie past the largest point measured: the figure is the largest
    /// point's, not a measurement at this size.
    pub beyond: Option<String>,
}

/// How long a copied token keeps working after logout.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// `None`: not known (neither measured nor following from the design).
    pub secs: Option<f64>,
    /// `measured at N entries`, or why it follows from the design.
    pub how: String,
}

/// One strategy at the user's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Sizing {
    /// The store's label in the sweep.
    pub store: String,
    pub scheme: String,
    pub keeping: Keeping,
    pub placement: Placement,
    /// Live entries; `None` for one that never forgets or is not sized.
    pub entries: Option<f64>,
    /// For a store that never forgets: entries added per hour, for ever.
    pub grows_per_hour: Option<f64>,
    /// Measured bytes per entry and the point it was measured at.
    pub bytes_per_entry: Option<(f64, u64)>,
    /// Bytes in each server process, in the shared store, and in all.
    pub memory_per_replica: Option<f64>,
    pub memory_shared: Option<f64>,
    pub memory_total: Option<f64>,
    pub check: Option<CheckAt>,
    /// Check p99 beyond `none:`'s at the same point (the cost of checking at all).
    pub added_p99_us: Option<f64>,
    /// Operations per second on the shared store (checks and logouts; none in-process).
    pub store_ops_per_sec: f64,
    pub window: Window,
    /// Whether checks go on when the shared store is down.
    pub survives_store_outage: bool,
}

impl Sizing {
    /// What one entry costs in each server process: the measured bytes per entry where every
    /// replica keeps its own copy, nothing where only the shared store keeps it; `None` for a
    /// local copy a sweep of the shared store does not measure (`hybrid+redis`).
    pub fn bytes_per_entry_per_replica(&self) -> Option<f64> {
        match (self.keeping, self.placement) {
            (Keeping::Nothing, _) | (_, Placement::Shared) => Some(0.0),
            (_, Placement::PerReplica) => self.bytes_per_entry.map(|(b, _)| b.max(0.0)),
            (_, Placement::PerReplicaAndShared) => None,
        }
    }
}

/// Every measured store of `sweep` at `load`. `never_forgets(scheme)` says which stores keep
/// entries for ever (`naive:`).
pub fn size_all(
    load: &Load,
    sweep: &SweepResults,
    never_forgets: &dyn Fn(&str) -> bool,
) -> Vec<Sizing> {
    let measured = sweep
        .stores
        .iter()
        .filter(|s| sweep.points.iter().any(|p| p.measurements.iter().any(|m| m.store == s.name)));
    measured
        .filter_map(|record| {
            let scheme = SCHEMES.iter().copied().find(|s| s.name == record.scheme_name())?;
            Some(size_one(load, sweep, &record.name, scheme, never_forgets(scheme.name)))
        })
        .collect()
}

fn size_one(
    load: &Load,
    sweep: &SweepResults,
    store: &str,
    scheme: &Scheme,
    never_forgets: bool,
) -> Sizing {
    let keeping = match scheme.profile.unit {
        EntryUnit::RevokedToken => Keeping::PerToken,
        EntryUnit::LoggedOutUser => Keeping::PerUser,
        EntryUnit::Nothing => Keeping::Nothing,
        EntryUnit::RefreshToken => Keeping::NotSized,
    };
    let placement = Placement::of(scheme);
    let entries = match keeping {
        _ if never_forgets => None,
        Keeping::PerToken => Some(load.revoked_tokens()),
        Keeping::PerUser => Some(load.users_logged_out()),
        Keeping::Nothing => Some(0.0),
        Keeping::NotSized => None,
    };
    let grows_per_hour = never_forgets.then(|| load.logouts_per_sec() * 3600.0);
    // A store that never forgets is looked up at the largest size measured.
    let size = entries.unwrap_or(f64::MAX);
    let bytes_per_entry =
        nearest(sweep, store, size, |p| p.fills.iter().find(|f| f.store == store)?.bytes_per_entry);
    let (memory_per_replica, memory_shared) = memory(placement, entries, bytes_per_entry);
    let memory_total =
        memory_per_replica.zip(memory_shared).map(|(r, s)| r * load.replicas as f64 + s);
    let check = check_at(sweep, store, entries);
    let per_request_lookup = scheme.profile.when_down == profile::FAILS_CLOSED;
    Sizing {
        store: store.to_string(),
        scheme: scheme.name.to_string(),
        keeping,
        placement,
        entries,
        grows_per_hour,
        bytes_per_entry,
        memory_per_replica,
        memory_shared,
        memory_total,
        added_p99_us: check.as_ref().and_then(|c| added_p99(sweep, c)),
        check,
        store_ops_per_sec: store_ops(load, placement, per_request_lookup, scheme.name == FILTER),
        window: window(load, sweep, store, placement, keeping, size),
        survives_store_outage: !per_request_lookup,
    }
}

/// `(per replica, shared)` bytes: measured bytes per entry × entries where they are kept.
fn memory(
    placement: Placement,
    entries: Option<f64>,
    bytes_per_entry: Option<(f64, u64)>,
) -> (Option<f64>, Option<f64>) {
    if entries == Some(0.0) {
        return (Some(0.0), Some(0.0));
    }
    let bytes = entries.zip(bytes_per_entry).map(|(n, (b, _))| n * b.max(0.0));
    match placement {
        Placement::PerReplica => (bytes, Some(0.0)),
        Placement::Shared => (Some(0.0), bytes),
        // The local copies are not measured by a sweep of the shared store.
        Placement::PerReplicaAndShared => (None, bytes),
    }
}

/// Store operations per second: a check per request and a write per logout for a store
/// looked up on every request; for a filter in front of the store (`filter+redis`), a check
/// per false positive (a token revoked and replayed adds one more, not counted: replays are
/// not part of the load); a write per logout for one kept in sync (none in-process).
fn store_ops(load: &Load, placement: Placement, per_request_lookup: bool, filtered: bool) -> f64 {
    match placement {
        Placement::PerReplica => 0.0,
        _ if filtered => load.rps * SIZED_FALSE_POSITIVE_RATE + load.logouts_per_sec(),
        _ if per_request_lookup => load.rps + load.logouts_per_sec(),
        _ => load.logouts_per_sec(),
    }
}

/// The value of the point nearest `size` (on a log scale) where `value` is known.
fn nearest<T>(
    sweep: &SweepResults,
    store: &str,
    size: f64,
    value: impl Fn(&SweepPoint) -> Option<T>,
) -> Option<(T, u64)> {
    let distance = |v: u64| ((v.max(1) as f64).ln() - size.max(1.0).ln()).abs();
    sweep
        .points
        .iter()
        .filter(|p| p.measurements.iter().any(|m| m.store == store) || value(p).is_some())
        .filter_map(|p| Some((value(p)?, p.value)))
        .min_by(|a, b| distance(a.1).total_cmp(&distance(b.1)))
}

fn check_at(sweep: &SweepResults, store: &str, entries: Option<f64>) -> Option<CheckAt> {
    let size = entries.unwrap_or(f64::MAX);
    let ((p50, p99), at) = nearest(sweep, store, size, |p| {
        let measured = p.measurements.iter().find(|m| m.store == store)?;
        // Most requests failed: the latency is of the few that got through, not the store's.
        if mostly_failed(&measured.rounds) {
            return None;
        }
        let median = measured.median.as_ref()?;
        Some((median.check_p50_us?.median, median.check_p99_us?.median))
    })?;
    let beyond = match entries {
        None => Some(format!(
            "it never forgets: the list only grows, past the largest size measured ({})",
            short_count(at)
        )),
        Some(n) if n > largest(sweep, store, true) as f64 => {
            let (n, answered) = (short_count(n.round() as u64), short_count(at));
            Some(if largest(sweep, store, false) > at {
                format!(
                    "beyond the range where it answered: {n} entries; it answered most requests up \
                     to {answered}, and failed most of them beyond"
                )
            } else {
                format!("beyond the measured range: {n} entries, largest measured {answered}")
            })
        }
        _ => None,
    };
    Some(CheckAt { at, p50_us: p50, p99_us: p99, beyond })
}

/// The largest point at which `store` was measured; with `answered`, where it also answered
/// most of its requests.
fn largest(sweep: &SweepResults, store: &str, answered: bool) -> u64 {
    let measured = |p: &&SweepPoint| {
        let counts = |m: &Measurement| !answered || !mostly_failed(&m.rounds);
        p.measurements.iter().any(|m| m.store == store && counts(m))
    };
    sweep.points.iter().filter(measured).map(|p| p.value).max().unwrap_or(0)
}

/// Check p99 beyond `none:`'s at the same point, when `none:` was measured there.
fn added_p99(sweep: &SweepResults, check: &CheckAt) -> Option<f64> {
    let point = sweep.point(check.at)?;
    let none = point
        .measurements
        .iter()
        .find(|m| sweep.stores.iter().any(|s| s.name == m.store && s.scheme_name() == "none"))?;
    let none_p99 = none.median.as_ref()?.check_p99_us?.median;
    Some((check.p99_us - none_p99).max(0.0))
}

fn window(
    load: &Load,
    sweep: &SweepResults,
    store: &str,
    placement: Placement,
    keeping: Keeping,
    size: f64,
) -> Window {
    let measured = nearest(sweep, store, size, |p| {
        let median = p.measurements.iter().find(|m| m.store == store)?.median.as_ref()?;
        median.replay_window_max_us.map(|s| s.median)
    });
    if let Some((us, at)) = measured {
        return Window { secs: Some(us / 1e6), how: format!("measured at {}", short_count(at)) };
    }
    let ttl = load.token_ttl.as_secs_f64();
    match (keeping, placement) {
        (Keeping::Nothing, _) => {
            Window { secs: Some(ttl), how: "nothing is checked: a copy works until exp".into() }
        }
        (_, Placement::PerReplica) if load.replicas > 1 => Window {
            secs: Some(ttl),
            how: "each replica knows only its own logouts: a copy works on the others until exp"
                .into(),
        },
        (Keeping::NotSized, _) | (_, Placement::PerReplicaAndShared) => {
            Window { secs: None, how: "not measured in this sweep".into() }
        }
        _ => Window {
            secs: Some(0.0),
            how: "every check reads the one list a logout wrote (design, not measured)".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::sweep::{PointFill, SweepConfig, SweepResults};
    use crate::results::{Measurement, ResultsHeader, RoundMedian, Spread, StoreRecord};

    fn spread(v: f64) -> Spread {
        Spread { median: v, min: v, max: v }
    }

    fn median(p50_us: f64, p99_us: f64) -> RoundMedian {
        RoundMedian {
            requests_per_sec: spread(1000.0),
            p50_us: spread(p50_us),
            p90_us: spread(p99_us),
            p99_us: spread(p99_us),
            p999_us: spread(p99_us),
            max_us: spread(p99_us),
            corrected_p99_us: None,
            corrected_p50_us: None,
            leak_rate: None,
            server_peak_rss_bytes: None,
            check_p50_us: Some(spread(p50_us)),
            check_p99_us: Some(spread(p99_us)),
            check_p999_us: Some(spread(p99_us)),
            replay_window_max_us: None,
            replay_never_refused: None,
            refresh_requests_per_sec: None,
            store_writes_per_user_hour: None,
            refresh_writes_per_user_hour: None,
        }
    }

    /// A sweep of `none:`, `hashmap:` (per token, a copy per replica), `redis://` (per token,
    /// shared), `cutoff+redis://` (per user, shared) and `filter+redis://` (per token, shared,
    /// with a filter per replica) at 1k, 10k and 100k entries, with bytes per entry 40, 100, 80
    /// and 180, and a check p99 of `base + value/1000` µs.
    fn sweep() -> SweepResults {
        let stores = [
            ("none", "none:", 0.0),
            ("hashmap", "hashmap:", 40.0),
            ("redis", "redis://127.0.0.1:6379", 100.0),
            ("cutoff+redis", "cutoff+redis://127.0.0.1:6379", 80.0),
            ("filter+redis", "filter+redis://127.0.0.1:6379", 180.0),
        ];
        let scenario = crate::scenario::Scenario::load("check-only").unwrap();
        let points = [1_000u64, 10_000, 100_000]
            .iter()
            .map(|&value| crate::results::sweep::SweepPoint {
                value,
                fills: stores
                    .iter()
                    .map(|(name, _, bytes)| PointFill {
                        store: name.to_string(),
                        filled_by: "runner".into(),
                        entries: value,
                        added: value,
                        fill_secs: 1.0,
                        rate_per_sec: None,
                        bytes_before: None,
                        bytes_after: None,
                        bytes_per_entry: Some(*bytes),
                        bytes_source: "store".into(),
                    })
                    .collect(),
                measurements: stores
                    .iter()
                    .enumerate()
                    .map(|(i, (name, _, _))| Measurement {
                        store: name.to_string(),
                        scenario: "check-only".into(),
                        rounds: Vec::new(),
                        median: Some(median(100.0, 200.0 + 100.0 * i as f64 + value as f64 / 1e3)),
                    })
                    .collect(),
                failures: Vec::new(),
                store_rtt: Vec::new(),
            })
            .collect();
        SweepResults {
            header: ResultsHeader::start(),
            kind: crate::results::sweep::SWEEP_KIND.into(),
            config: SweepConfig {
                axis: "revoked".into(),
                values: vec![1_000, 10_000, 100_000],
                scenario,
                rounds: 1,
                warmup_secs: 1.0,
                duration_secs: 2.0,
                placement: "unpinned".into(),
            },
            stores: stores
                .iter()
                .map(|(n, url, _)| StoreRecord::measured(n, url, None, None))
                .collect(),
            points,
            stopped: Vec::new(),
            load_at_start: None,
            load_at_end: None,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-6 * b.abs().max(1.0)
    }

    /// The brief's example by hand: 2M users × 0.05 logouts/user/hour = 27.78 logouts/s;
    /// × 900 s = 25,000 revoked tokens; 2M × (1 − e^(−0.05 × 0.25)) = 24,844.4 users; six
    /// replicas; 20,000 requests/s.
    #[test]
    fn arithmetic_matches_hand_computed_figures() {
        let load = Load {
            users: 2_000_000,
            logouts_per_user_per_hour: 0.05,
            token_ttl: Duration::from_secs(900),
            replicas: 6,
            rps: 20_000.0,
        };
        assert!(close(load.logouts_per_sec(), 27.777_777_8));
        assert!(close(load.revoked_tokens(), 25_000.0));
        assert!((load.users_logged_out() - 24_844.4).abs() < 0.5, "{}", load.users_logged_out());
        let sizings = size_all(&load, &sweep(), &|_| false);
        let get = |name: &str| sizings.iter().find(|s| s.store == name).unwrap();

        // Per token, a copy in each replica: 25,000 × 40 B = 1,000,000 B each, 6,000,000 B in all.
        let hashmap = get("hashmap");
        assert_eq!(
            (hashmap.keeping, hashmap.placement),
            (Keeping::PerToken, Placement::PerReplica)
        );
        assert!(close(hashmap.memory_per_replica.unwrap(), 1_000_000.0));
        assert!(close(hashmap.memory_total.unwrap(), 6_000_000.0));
        // 40 B in each of the 6 replicas' processes; Redis keeps its entries in the store only.
        assert_eq!(hashmap.bytes_per_entry_per_replica(), Some(40.0));
        assert_eq!(hashmap.store_ops_per_sec, 0.0);
        // Six replicas that do not share their lists: a copy works until exp on the others.
        assert_eq!(hashmap.window.secs, Some(900.0));

        // Per token, shared: 25,000 × 100 B = 2,500,000 B once; a lookup per request plus a
        // write per logout = 20,027.78 operations/s.
        let redis = get("redis");
        assert!(close(redis.memory_shared.unwrap(), 2_500_000.0));
        assert!(close(redis.memory_total.unwrap(), 2_500_000.0));
        assert_eq!(redis.bytes_per_entry_per_replica(), Some(0.0));
        assert!(close(redis.store_ops_per_sec, 20_027.777_777_8));
        // 25,000 entries: the nearest point is 10k (log distance 0.92 against 1.39 to 100k);
        // its p99 is 200 + 2×100 + 10 = 410 µs, none's 210 µs: 200 µs added.
        let check = redis.check.as_ref().unwrap();
        assert_eq!((check.at, check.p99_us, check.beyond.is_none()), (10_000, 410.0, true));
        assert!(close(redis.added_p99_us.unwrap(), 200.0));
        assert!(!redis.survives_store_outage);

        // Per user, shared: 24,844.4 users × 80 B = 1,987,552 B.
        let cutoff = get("cutoff+redis");
        assert_eq!(cutoff.keeping, Keeping::PerUser);
        assert!((cutoff.memory_total.unwrap() - 24_844.4 * 80.0).abs() < 40.0);

        // Per token, shared, with a filter per replica that the sweep does not measure:
        // 25,000 × 180 B = 4,500,000 B in Redis; the copies unknown. Redis is asked only for the
        // filter's false positives: 20,000 × 1 % + 27.78 writes = 227.78 operations/s.
        let filter = get("filter+redis");
        assert_eq!(filter.placement, Placement::PerReplicaAndShared);
        assert!(close(filter.memory_shared.unwrap(), 4_500_000.0));
        assert_eq!((filter.memory_per_replica, filter.memory_total), (None, None));
        assert!(close(filter.store_ops_per_sec, 227.777_777_8));
        assert!(!filter.survives_store_outage);
    }

    /// A load whose live entries (100M) lie far past every point of [`sweep`].
    fn far_beyond() -> Load {
        Load {
            users: 100_000_000,
            logouts_per_user_per_hour: 1.0,
            token_ttl: Duration::from_secs(3600),
            replicas: 1,
            rps: 1.0,
        }
    }

    /// Past the largest point measured, the check latency is the largest point's and says so.
    #[test]
    fn beyond_the_measured_range_is_said() {
        let load = far_beyond();
        let sizings = size_all(&load, &sweep(), &|_| false);
        let check = sizings[1].check.as_ref().unwrap();
        assert_eq!(check.at, 100_000);
        assert!(check.beyond.as_ref().unwrap().contains("beyond the measured range"));
    }

    /// A point where most of a store's requests failed offers no latency (it is of the few
    /// that got through): the nearest point where the store answered is used, and the range
    /// it answered in is what "beyond" is measured against.
    #[test]
    fn a_point_where_most_requests_failed_is_not_used() {
        let mut sweep = sweep();
        let example = concat!(env!("CARGO_MANIFEST_DIR"), "/reports/example/results.json");
        let example = crate::results::RunResults::read(std::path::Path::new(example)).unwrap();
        let mut failing = example.measurements[0].rounds[0].clone();
        failing.errors.clear();
        failing.statuses = [("me 503", 45), ("me 200", 5)].map(|(k, n)| (k.to_string(), n)).into();
        failing.requests = 50;
        // `redis` (the third store) failed 45 of 50 requests at 100k.
        sweep.points[2].measurements[2].rounds = vec![failing];
        let load = far_beyond();
        let sizings = size_all(&load, &sweep, &|_| false);
        let redis = sizings[2].check.as_ref().unwrap();
        assert_eq!(redis.at, 10_000, "the largest point where it answered");
        let beyond = redis.beyond.as_ref().unwrap();
        assert!(beyond.contains("it answered most requests up to 10k"), "{beyond}");
        assert_eq!(sizings[1].check.as_ref().unwrap().at, 100_000, "hashmap answered there");
    }
}
