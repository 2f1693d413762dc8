//! The generators' timelines as one: interval `i` of every generator (each counts from its own
//! window's start, and the generators started together) put together.

use crate::results::{Timeline, Values};

/// Requests and error answers summed interval by interval; the check latency's p50 and p99
/// the slowest generator's in each interval (an interval's percentiles cannot be added up
/// without its histogram, which is not kept); the first timeline's interval and events.
/// `None` when no generator kept one; generators with another interval are left out.
pub fn merge(timelines: &[Option<&Timeline>]) -> Option<Timeline> {
    let first = timelines.iter().flatten().next()?;
    let alike: Vec<&Timeline> = (timelines.iter().flatten())
        .filter(|t| t.interval_ms == first.interval_ms)
        .copied()
        .collect();
    let combine = |pick: fn(&Timeline) -> &Values, add: fn(u64, u64) -> u64| {
        let len = alike.iter().map(|t| pick(t).len()).max().unwrap_or(0);
        let merged = (0..len).map(|i| alike.iter().filter_map(|t| pick(t).get(i)).reduce(add));
        Values(merged.collect())
    };
    Some(Timeline {
        interval_ms: first.interval_ms,
        requests: zeros_for_missing(combine(|t| &t.requests, |a, b| a + b)),
        errors: zeros_for_missing(combine(|t| &t.errors, |a, b| a + b)),
        check_p50_us: combine(|t| &t.check_p50_us, u64::max),
        check_p99_us: combine(|t| &t.check_p99_us, u64::max),
        events: first.events.clone(),
    })
}

/// Counts are never missing: an interval no generator reached counted nothing.
fn zeros_for_missing(values: Values) -> Values {
    Values(values.0.into_iter().map(|v| Some(v.unwrap_or(0))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline(requests: &[u64], p99: &[Option<u64>]) -> Timeline {
        let counts = Values(requests.iter().map(|n| Some(*n)).collect());
        Timeline {
            interval_ms: 100,
            requests: counts.clone(),
            errors: counts,
            check_p50_us: Values(p99.to_vec()),
            check_p99_us: Values(p99.to_vec()),
            events: Vec::new(),
        }
    }

    /// Counts add up interval by interval, the longer timeline's tail included; percentiles
    /// are the slowest generator's, missing only where every generator's is.
    #[test]
    fn counts_add_percentiles_take_the_slowest() {
        let a = timeline(&[10, 20, 30], &[Some(100), None, Some(300)]);
        let b = timeline(&[1, 2], &[Some(150), None]);
        let merged = merge(&[Some(&a), None, Some(&b)]).unwrap();
        assert_eq!(merged.requests.0, [Some(11), Some(22), Some(30)]);
        assert_eq!(merged.errors, merged.requests);
        assert_eq!(merged.check_p99_us.0, [Some(150), None, Some(300)]);
        assert!(merge(&[None, None]).is_none());
    }
}
