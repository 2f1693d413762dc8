//! A round over time: what the load saw in each short interval of the measured window.

use serde::{Deserialize, Serialize};

/// One round interval by interval, from the start of the measured window (the end of the
/// warm-up): requests answered, answers that were not as expected, and the check latency's
/// (`GET /api/me` answered 200) p50 and p99. Each request counts in the interval its answer
/// (or its failure) came in. Instants such as a store's cut and return are `events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    /// Length of one interval (ms).
    pub interval_ms: u64,
    /// Requests answered in each interval, whatever the answer (as `requests`).
    pub requests: Values,
    /// In each interval: answers with another status than expected (replays aside: they are
    /// counted by answer in `replays_*`) and requests without an answer.
    pub errors: Values,
    /// The check latency's p50 in each interval (µs); empty where no check was answered 200.
    pub check_p50_us: Values,
    /// Likewise its p99.
    pub check_p99_us: Values,
    /// What happened to the servers or their store, and when.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<TimelineEvent>,
}

/// An instant of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// From the start of the measured window (ms).
    pub at_ms: u64,
    /// `store cut off`, `store back`, `replicas restarted`.
    pub what: String,
}

/// What an event is called in the results and on charts.
pub const STORE_CUT: &str = "store cut off";
pub const STORE_BACK: &str = "store back";
pub const RESTARTED: &str = "replicas restarted";

/// A series of counts or latencies, one per interval, some of them missing; written as one
/// compact string of comma-separated values, a missing one empty (`"120,131,,118"`), so a
/// timeline of hundreds of intervals stays a few lines of a results file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values(pub Vec<Option<u64>>);

impl Values {
    /// The value of interval `i`, `None` when missing or past the end.
    pub fn get(&self, i: usize) -> Option<u64> {
        self.0.get(i).copied().flatten()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Values {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text: Vec<String> =
            self.0.iter().map(|v| v.map(|n| n.to_string()).unwrap_or_default()).collect();
        serializer.serialize_str(&text.join(","))
    }
}

impl<'de> Deserialize<'de> for Values {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.is_empty() {
            return Ok(Values(Vec::new()));
        }
        text.split(',')
            .map(|part| match part.trim() {
                "" => Ok(None),
                n => n.parse().map(Some).map_err(|_| {
                    serde::de::Error::custom(format!("not a count in a timeline: {n:?}"))
                }),
            })
            .collect::<Result<_, _>>()
            .map(Values)
    }
}

impl Timeline {
    /// Number of intervals.
    pub fn intervals(&self) -> usize {
        self.requests.len()
    }

    /// Interval `i`'s start, in seconds from the start of the window.
    pub fn at_secs(&self, i: usize) -> f64 {
        (i as u64 * self.interval_ms) as f64 / 1000.0
    }

    /// Interval `i`'s middle, in seconds from the start of the window (where its values are
    /// plotted).
    pub fn middle_secs(&self, i: usize) -> f64 {
        (i as f64 + 0.5) * self.interval_ms as f64 / 1000.0
    }

    /// Interval `i`'s count as a rate per second of the time it covered of a window that
    /// ended `window_secs` in: the interval the window ends in counts only up to its end
    /// (`None` when that is under a fifth of an interval, too short for a rate); the others,
    /// after the window included (a restart's replays), count whole.
    pub fn rate_in_window(&self, i: usize, count: u64, window_secs: f64) -> Option<f64> {
        let (start, end) = (self.at_secs(i), self.at_secs(i + 1));
        let covered = if start < window_secs && window_secs < end {
            window_secs - start
        } else {
            end - start
        };
        (covered >= (end - start) / 5.0).then(|| count as f64 / covered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values round-trip through their compact text, a missing one included; a bad one is
    /// refused.
    #[test]
    fn values_are_compact_text() {
        let values = Values(vec![Some(120), None, Some(0), Some(7)]);
        let json = serde_json::to_string(&values).unwrap();
        assert_eq!(json, "\"120,,0,7\"");
        assert_eq!(serde_json::from_str::<Values>(&json).unwrap(), values);
        assert_eq!(serde_json::from_str::<Values>("\"\"").unwrap(), Values::default());
        assert!(serde_json::from_str::<Values>("\"1,x\"").is_err());
    }

    /// The interval a window ends in is a rate over its covered part, or none when that part
    /// is too short; whole intervals before and after are rates over their length.
    #[test]
    fn rates_of_partial_intervals() {
        let t = Timeline {
            interval_ms: 100,
            requests: Values(vec![Some(50); 4]),
            errors: Values::default(),
            check_p50_us: Values::default(),
            check_p99_us: Values::default(),
            events: Vec::new(),
        };
        let rate = |i, window| t.rate_in_window(i, 50, window).map(|r| r.round());
        assert_eq!(rate(0, 0.25), Some(500.0));
        assert_eq!(rate(2, 0.25), Some(1000.0), "50 in the 50 ms it covered");
        assert_eq!(rate(2, 0.21), None, "10 ms: too short for a rate");
        assert_eq!(rate(3, 0.25), Some(500.0), "after the window: whole");
    }
}
