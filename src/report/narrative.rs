//! The generated sentences — the report's summary per topology and each scenario's "what
//! this means" — as short bullets: only what the numbers show.

use super::decision::{Protection, Topology};
use super::vocabulary::{baseline, check_p50s, is_baseline, replays};
use crate::results::{Measurement, Spread, StoreRecord, StoreStatus};
use crate::stats::{self, Estimate};

/// A store's check-latency p50 against `none`'s in the same run: rounds vs rounds
/// (Hodges–Lehmann ratio, Mann–Whitney interval), so a difference the rounds cannot tell from
/// noise is not stated as a fact.
pub struct VersusNone {
    pub ratio: Estimate,
    /// p50 difference, µs.
    pub shift: Estimate,
    /// Every round of the store lies 2× beyond every round of none (or below half), with at
    /// least 2 rounds each: called whatever the interval, as `compare` does.
    pub apart: bool,
}

impl VersusNone {
    pub fn of(m: &Measurement, none: &Measurement) -> Option<Self> {
        let (base, store) = (check_p50s(none), check_p50s(m));
        let apart = match (Spread::of(base.iter().copied()), Spread::of(store.iter().copied())) {
            (Some(b), Some(s)) if base.len() >= 2 && store.len() >= 2 => {
                let factor = crate::compare::GROSS_FACTOR;
                s.min >= factor * b.max || s.max * factor <= b.min
            }
            _ => false,
        };
        Some(Self {
            ratio: stats::ratio_interval(&base, &store)?,
            shift: stats::shift_interval(&base, &store)?,
            apart,
        })
    }

    /// The interval excludes "no change" and covers enough to call anything, or every round
    /// lies 2× apart: `compare`'s rule, so too few rounds (2 a side: 67%) never state a
    /// difference as a fact.
    pub fn measurable(&self) -> bool {
        self.apart || (!self.ratio.contains(1.0) && !self.inconclusive())
    }

    /// Too few rounds for the interval to call anything (below 90%), and not 2× apart.
    pub fn inconclusive(&self) -> bool {
        !self.apart && self.ratio.confidence < crate::compare::MIN_CONFIDENCE
    }

    /// `adds 0.21 ms at p50 (…)`, `is 0.02 ms faster than none at p50 (…)`, `shows no
    /// measurable difference from none at p50 (…)` when the interval includes no change, or
    /// `is inconclusive against none at p50 (…)` when the rounds are too few to say.
    fn cost(&self) -> String {
        let delta_ms = self.shift.value / 1000.0;
        if self.inconclusive() {
            format!("is inconclusive against none at p50 ({})", self.describe())
        } else if !self.measurable() {
            format!("shows no measurable difference from none at p50 ({})", self.describe())
        } else if delta_ms >= 0.0 {
            format!("adds {delta_ms:.2} ms at p50 ({})", self.describe())
        } else {
            format!("is {:.2} ms faster than none at p50 ({})", -delta_ms, self.describe())
        }
    }

    /// `1.54× none, interval 1.48–1.61×` (with the interval's coverage when below 95%).
    fn describe(&self) -> String {
        let mut s = format!(
            "{:.2}× none, interval {:.2}–{:.2}×",
            self.ratio.value, self.ratio.low, self.ratio.high
        );
        if self.ratio.confidence < stats::CONFIDENCE - 1e-9 {
            s.push_str(&format!(" at {:.0}%", self.ratio.confidence * 100.0));
        }
        if self.inconclusive() {
            s.push_str(", too few rounds to call: measure with --rounds 3 or more");
        }
        s
    }
}

/// `asked the shared store for 312 of 20,480 checks (1.5%, a round trip each); answered the
/// rest locally`, for a store with a local filter in front of a shared one.
fn round_trips(m: &Measurement) -> Option<String> {
    let asked: u64 = m.rounds.iter().filter_map(|r| r.store_checks).sum();
    let local: u64 = m.rounds.iter().filter_map(|r| r.local_checks).sum();
    let checks = asked + local;
    (checks > 0).then(|| {
        let pct = 100.0 * asked as f64 / checks as f64;
        format!(
            "asked its shared store for {asked} of {checks} checks ({pct:.1}%, a round trip \
             each) and answered the rest from its filter"
        )
    })
}

/// One bullet per store of a scenario, comparing it with `none` when it was measured. A store
/// served by a wire-compatible stand-in is named with it, so its latency is never read as the
/// real product's.
pub fn bullets(
    measurements: &[&Measurement],
    replicas: usize,
    stores: &[StoreRecord],
) -> Vec<String> {
    let none = baseline(measurements, stores);
    let mut sentences = Vec::new();
    for m in measurements {
        let Some(median) = &m.median else { continue };
        let mut parts = Vec::new();
        if let Some(checks) = round_trips(m) {
            parts.push(checks);
        }
        let versus = none.filter(|n| n.store != m.store).and_then(|none| VersusNone::of(m, none));
        match (versus, median.check_p50_us) {
            (Some(versus), _) => parts.push(versus.cost()),
            (None, Some(p50)) => {
                parts.push(format!("answers in {:.2} ms at p50", p50.median / 1000.0))
            }
            (None, None) => {}
        }
        let tally = replays(m);
        if tally.answered > 0 {
            let pct = 100.0 * tally.accepted as f64 / tally.answered as f64;
            let across =
                if replicas > 1 { format!(" across {replicas} replicas") } else { String::new() };
            parts.push(format!(
                "leaked {} of {} answered replays ({pct:.0}%){across}",
                tally.accepted, tally.answered
            ));
        }
        if tally.unanswered > 0 {
            parts.push(format!(
                "left {} of {} replays unanswered (5xx or no answer: neither refused nor accepted)",
                tally.unanswered, tally.attempted
            ));
        }
        let errors: u64 = m.rounds.iter().map(|r| r.store_errors).sum();
        if errors > 0 {
            parts.push(format!("had {errors} store errors"));
        }
        let late: u64 = m.rounds.iter().filter_map(|r| r.sync_timeouts).sum();
        if late > 0 {
            parts.push(format!(
                "returned {late} logouts before every replica had acknowledged them"
            ));
        }
        let overflows: u64 = m.rounds.iter().filter_map(|r| r.queue_overflows).sum();
        if overflows > 0 {
            parts.push(format!("refused {overflows} logouts because its queue for Redis was full"));
        }
        if parts.is_empty() {
            continue;
        }
        sentences.push(format!("{} {}.", subject(&m.store, stores), list(&parts)));
    }
    if sentences.is_empty() {
        sentences.push("No store was measured.".to_string());
    }
    sentences
}

/// `a`, `a and b`, `a, b and c`.
fn list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// What one topology's numbers say, one bullet each: which strategies refused a replayed copy
/// at once, which within a delay, what the cheapest that refused every copy costs against
/// `none:` at p50 (or that the rounds show no measurable difference) and p99, which leaked
/// and how much.
pub fn topology(t: &Topology, stores: &[StoreRecord]) -> Vec<String> {
    let mut at_once = Vec::new();
    let mut delayed = Vec::new();
    let mut leaking = Vec::new();
    let mut unprobed = Vec::new();
    let mut unanswered = Vec::new();
    for row in &t.rows {
        match row.protection {
            Protection::AtOnce => at_once.push(row.name.clone()),
            Protection::Within(us) => {
                delayed.push(format!("{} (within {:.3} ms)", row.name, us as f64 / 1000.0))
            }
            Protection::Leaks { never, probed } => {
                let tally = replays(row.measurement);
                let accepted = match tally.answered {
                    0 => String::new(),
                    n => format!(", {:.0}% of {n}", 100.0 * tally.accepted as f64 / n as f64),
                };
                leaking.push(format!("{} ({never}/{probed}{accepted})", row.name))
            }
            Protection::NotProbed => unprobed.push(row.name.clone()),
            Protection::Unanswered { copies } => {
                unanswered.push(format!("{} ({copies} copies)", row.name))
            }
        }
    }
    let mut sentences = Vec::new();
    if !at_once.is_empty() {
        sentences.push(format!("Refused every copy at its first replay: {}.", list(&at_once)));
    }
    if !delayed.is_empty() {
        sentences.push(format!("Refused every copy after a delay: {}.", list(&delayed)));
    }
    // The cheapest protective strategy right after the protective ones; when none refused
    // every copy, that is said after what the others did.
    let refused_any = !sentences.is_empty();
    if refused_any {
        sentences.push(cheapest_protective(t, stores));
    }
    if !leaking.is_empty() {
        let limit = t.rows.iter().find_map(|r| {
            r.measurement.rounds.iter().find_map(|round| round.replay_window.as_ref())
        });
        let within = limit
            .map(|w| format!(" within the {:.1} s probe", w.probe_limit_us as f64 / 1e6))
            .unwrap_or_default();
        sentences.push(format!(
            "Leaked{within} (copies never refused, then the share of answered replays under load \
             accepted): {}.",
            list(&leaking)
        ));
    }
    if !unprobed.is_empty() {
        sentences.push(format!("Not probed (every logout failed): {}.", list(&unprobed)));
    }
    if !unanswered.is_empty() {
        sentences.push(format!(
            "Replays unanswered (5xx or no answer), so nothing shows whether copies are refused: \
             {}.",
            list(&unanswered)
        ));
    }
    if !refused_any {
        sentences.push(cheapest_protective(t, stores));
    }
    sentences
}

/// The strategy that refused every copy with the smallest p50 shift against `none:`.
fn cheapest_protective(t: &Topology, stores: &[StoreRecord]) -> String {
    let Some(none) = t.none else {
        return "none: was not measured here, so no cost is stated.".to_string();
    };
    let cheapest = t
        .rows
        .iter()
        .filter(|r| matches!(r.protection, Protection::AtOnce | Protection::Within(_)))
        .filter(|r| !is_baseline(&r.measurement.store, stores))
        .filter_map(|r| Some((r, VersusNone::of(r.measurement, none)?)))
        .min_by(|a, b| a.1.shift.value.total_cmp(&b.1.shift.value));
    match cheapest {
        Some((row, versus)) => {
            let p99 = row
                .added_p99_ms
                .map(|ms| format!(" and {ms:+.2} ms at p99 (difference of medians)"))
                .unwrap_or_default();
            format!(
                "Cheapest of those: {}, which {}{p99}.",
                subject(&row.measurement.store, stores),
                versus.cost()
            )
        }
        None => "No strategy refused every copy here.".to_string(),
    }
}

/// The store's name, with the server that answered when its figures are not the named product's:
/// "mongodb (served by nx_27017 (reports MongoDB 7.0.0), a wire-compatible server — not
/// MongoDB's performance)".
fn subject(store: &str, stores: &[StoreRecord]) -> String {
    let status = stores.iter().find(|s| s.name == store && s.status == StoreStatus::Measured);
    match status.and_then(|s| Some((s.server_version.as_deref()?, s.server_caveat.as_deref()?))) {
        Some((server, caveat)) => format!("{store} (served by {server}, a {caveat})"),
        None => store.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::revocation::backends::mongo_server::WIRE_COMPATIBLE;

    fn status(name: &str, version: &str, caveat: Option<&str>) -> StoreRecord {
        let url = format!("{name}://127.0.0.1");
        StoreRecord::measured(name, &url, Some(version.into()), caveat.map(str::to_string))
    }

    /// A stand-in is named with the server that answered; MongoDB itself and other stores
    /// are not.
    #[test]
    fn stand_ins_are_named_with_their_caveat() {
        let stores = [
            status("mongodb", "nx_27017 (reports MongoDB 7.0.0)", Some(WIRE_COMPATIBLE)),
            status("redis", "Redis 7.2.4", None),
        ];
        assert_eq!(
            subject("mongodb", &stores),
            "mongodb (served by nx_27017 (reports MongoDB 7.0.0), a wire-compatible server — \
             not MongoDB's performance)"
        );
        assert_eq!(subject("redis", &stores), "redis");
        let real = [status("mongodb", "MongoDB 7.0.14", None)];
        assert_eq!(subject("mongodb", &real), "mongodb");
    }
}
