//! The bound on one fill's wall time (`--max-fill-time`): a fill is projected from a measured
//! rate (the previous point's, then its own after its first entries), and a store whose fill
//! would run past the bound is stopped with the projection as its reason, before the time is
//! spent.

use std::time::Duration;

use crate::units::short_count;

/// `--max-fill-time` unless given: the example sweep's slowest fill (PostgreSQL, 9 M entries
/// at ~48k/s) took about 3 minutes; past 10 a sweep of four sizes stops being a few minutes'
/// wait on a developer machine.
pub const DEFAULT_MAX_FILL_TIME: &str = "10m";

/// Entries written before a rate is trusted to project the rest: the first batches carry the
/// connection's set-up, and a fill of a few thousand is over before its rate means anything.
pub const PROJECT_AFTER: u64 = 20_000;

/// Why writing `remaining` more entries at `rate` entries/s, after `elapsed` already spent,
/// would end past `max`; `None` when it fits.
pub fn beyond_fill_time(
    remaining: u64,
    elapsed: Duration,
    rate: f64,
    max: Duration,
) -> Option<String> {
    let total_secs = elapsed.as_secs_f64() + remaining as f64 / rate.max(1e-9);
    (total_secs > max.as_secs_f64()).then(|| {
        format!(
            "fill at {}/s would take {:.1} min, beyond --max-fill-time {}",
            short_count(rate as u64),
            total_secs / 60.0,
            humantime::format_duration(max)
        )
    })
}

/// A rate to project from: `added / secs`, when enough was added for it to mean something.
pub fn trusted_rate(added: u64, secs: f64) -> Option<f64> {
    (added >= PROJECT_AFTER && secs > 0.0).then(|| added as f64 / secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN_MIN: Duration = Duration::from_secs(600);

    /// A fill that fits the bound goes on; one that would not is refused with its rate, the
    /// time it would take and the bound, the time already spent counted.
    #[test]
    fn projects_from_the_rate() {
        // 9 M at 48k/s: 187.5 s, well inside ten minutes.
        assert!(beyond_fill_time(9_000_000, Duration::ZERO, 48_000.0, TEN_MIN).is_none());
        // 9 M at 3k/s: 3,000 s.
        let reason = beyond_fill_time(9_000_000, Duration::ZERO, 3_000.0, TEN_MIN).unwrap();
        assert_eq!(reason, "fill at 3k/s would take 50.0 min, beyond --max-fill-time 10m");
        // 1 M left at 2k/s is 500 s: inside the bound alone, past it after 2 min spent.
        assert!(beyond_fill_time(1_000_000, Duration::ZERO, 2_000.0, TEN_MIN).is_none());
        let late = beyond_fill_time(1_000_000, Duration::from_secs(120), 2_000.0, TEN_MIN);
        assert_eq!(late.unwrap(), "fill at 2k/s would take 10.3 min, beyond --max-fill-time 10m");
    }

    /// Time spent past the bound stops a fill whatever is left, and a rate of nothing
    /// projects for ever rather than dividing by zero.
    #[test]
    fn past_the_bound_or_stalled() {
        assert!(beyond_fill_time(1, Duration::from_secs(601), 1e6, TEN_MIN).is_some());
        assert!(beyond_fill_time(1_000, Duration::ZERO, 0.0, TEN_MIN).is_some());
        assert!(beyond_fill_time(0, Duration::ZERO, 0.0, TEN_MIN).is_none(), "nothing left");
    }

    /// A rate is trusted only after enough entries.
    #[test]
    fn small_fills_give_no_rate() {
        assert_eq!(trusted_rate(1_000, 0.01), None);
        assert_eq!(trusted_rate(PROJECT_AFTER, 0.0), None);
        assert_eq!(trusted_rate(100_000, 2.0), Some(50_000.0));
    }
}
