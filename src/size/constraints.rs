//! The user's limits, and which strategies meet them: all of them, cheapest first; for each
//! one that fails, the limit it breaks and by how much.

use std::time::Duration;

use super::model::Sizing;
use crate::units::short_bytes;

/// Limits a strategy must meet; `None` for no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Constraints {
    /// Longest a copied token may keep working after logout.
    pub max_window: Option<Duration>,
    /// Largest check p99 beyond no check at all (`none:` at the same point).
    pub max_added_p99: Option<Duration>,
    /// Largest memory in each server process.
    pub max_memory_per_replica: Option<u64>,
    /// Checks must go on while the shared store is down.
    pub survive_store_outage: bool,
}

impl Constraints {
    pub fn any(&self) -> bool {
        self.max_window.is_some()
            || self.max_added_p99.is_some()
            || self.max_memory_per_replica.is_some()
            || self.survive_store_outage
    }
}

/// One limit broken, in words: which, and by how much.
#[derive(Debug, Clone, PartialEq)]
pub struct Breach(pub String);

/// A strategy judged against the limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict<'a> {
    pub sizing: &'a Sizing,
    pub breaches: Vec<Breach>,
}

/// Every strategy judged: those that meet every limit first, cheapest (least memory in all;
/// unknown memory last) first, then the others.
pub fn judge<'a>(sizings: &'a [Sizing], limits: &Constraints) -> Vec<Verdict<'a>> {
    let mut verdicts: Vec<Verdict> =
        sizings.iter().map(|s| Verdict { sizing: s, breaches: breaches(s, limits) }).collect();
    let cost = |v: &Verdict| v.sizing.memory_total.unwrap_or(f64::INFINITY);
    verdicts.sort_by(|a, b| {
        (!a.breaches.is_empty())
            .cmp(&!b.breaches.is_empty())
            .then(cost(a).total_cmp(&cost(b)))
            .then(a.sizing.store.cmp(&b.sizing.store))
    });
    verdicts
}

fn breaches(s: &Sizing, limits: &Constraints) -> Vec<Breach> {
    let mut out = Vec::new();
    if let Some(max) = limits.max_window {
        let max = max.as_secs_f64();
        match s.window.secs {
            Some(w) if w > max => out.push(Breach(format!(
                "replay window {} > {} ({}, {})",
                seconds(w),
                seconds(max),
                excess(w, max),
                s.window.how
            ))),
            Some(_) => {}
            None => out.push(Breach(format!("replay window unknown ({})", s.window.how))),
        }
    }
    if let Some(max) = limits.max_added_p99 {
        let max_us = max.as_secs_f64() * 1e6;
        match s.added_p99_us {
            Some(added) if added > max_us => out.push(Breach(format!(
                "added check p99 {:.3} ms > {:.3} ms ({})",
                added / 1e3,
                max_us / 1e3,
                excess(added, max_us)
            ))),
            Some(_) => {}
            None => out.push(Breach(
                "added check p99 unknown (the sweep has no `none:` beside it)".to_string(),
            )),
        }
    }
    if let Some(max) = limits.max_memory_per_replica {
        match (s.memory_per_replica, s.grows_per_hour) {
            (_, Some(per_hour)) if s.memory_per_replica != Some(0.0) => out.push(Breach(format!(
                "memory per replica grows without bound ({per_hour:.0} entries an hour)"
            ))),
            (Some(m), _) if m > max as f64 => out.push(Breach(format!(
                "memory per replica {} > {} ({})",
                short_bytes(m),
                short_bytes(max as f64),
                excess(m, max as f64)
            ))),
            (Some(_), _) => {}
            (None, _) => out.push(Breach("memory per replica not measured".to_string())),
        }
    }
    if limits.survive_store_outage && !s.survives_store_outage {
        out.push(Breach("fails closed while its store is down".to_string()));
    }
    out
}

/// `3.2×` the limit, or `+40 %` for a near miss.
fn excess(value: f64, limit: f64) -> String {
    if limit <= 0.0 {
        return "any is too much".to_string();
    }
    let ratio = value / limit;
    if ratio >= 2.0 {
        format!("{ratio:.1}× the limit")
    } else {
        format!("+{:.0} %", (ratio - 1.0) * 100.0)
    }
}

fn seconds(secs: f64) -> String {
    if secs >= 60.0 {
        format!("{:.1} min", secs / 60.0)
    } else if secs >= 1.0 {
        format!("{secs:.1} s")
    } else {
        format!("{:.1} ms", secs * 1e3)
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::{Keeping, Placement, Window};
    use super::*;

    fn sizing(store: &str, per_replica: f64, total: f64, window: f64, survives: bool) -> Sizing {
        Sizing {
            store: store.into(),
            scheme: store.into(),
            keeping: Keeping::PerToken,
            placement: Placement::Shared,
            entries: Some(1.0),
            grows_per_hour: None,
            bytes_per_entry: None,
            memory_per_replica: Some(per_replica),
            memory_shared: Some(total - per_replica),
            memory_total: Some(total),
            check: None,
            added_p99_us: Some(300.0),
            store_ops_per_sec: 0.0,
            window: Window { secs: Some(window), how: "test".into() },
            survives_store_outage: survives,
        }
    }

    /// Those meeting every limit come first, cheapest first; the others say what they break
    /// and by how much.
    #[test]
    fn meeting_all_cheapest_first_and_breaches_measured() {
        let sizings = [
            sizing("big-local", 600.0 * 1024.0 * 1024.0, 3.6e9, 0.0, true),
            sizing("shared-b", 0.0, 2e6, 0.0, true),
            sizing("shared-a", 0.0, 1e6, 0.0, true),
            sizing("leaky", 0.0, 5e5, 900.0, true),
            sizing("closed", 0.0, 1e5, 0.0, false),
        ];
        let limits = Constraints {
            max_window: Some(Duration::from_secs(1)),
            max_added_p99: Some(Duration::from_micros(500)),
            max_memory_per_replica: Some(256 << 20),
            survive_store_outage: true,
        };
        let verdicts = judge(&sizings, &limits);
        let names: Vec<&str> = verdicts.iter().map(|v| v.sizing.store.as_str()).collect();
        assert_eq!(&names[..2], ["shared-a", "shared-b"]);
        let why = |name: &str| {
            verdicts.iter().find(|v| v.sizing.store == name).unwrap().breaches[0].0.clone()
        };
        assert!(
            why("big-local").contains("600.0 MiB > 256.0 MiB (2.3× the limit)"),
            "{}",
            why("big-local")
        );
        assert!(why("leaky").contains("15.0 min > 1.0 s"), "{}", why("leaky"));
        assert!(why("closed").contains("fails closed"));
    }
}
