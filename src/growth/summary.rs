//! Pure functions that turn a growth series into its summary: plateau level, its ratio to the
//! expected steady state, how often the line came down, and bytes per live entry.

use crate::results::growth::{GrowthSample, GrowthSummary};

/// Where the memory figure of a series comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BytesSource {
    /// The backend's own byte count (`/stats` bytes).
    Store,
    /// The server process's resident memory, for stores that report no bytes.
    Rss,
}

impl BytesSource {
    pub fn as_str(self) -> &'static str {
        match self {
            BytesSource::Store => "store",
            BytesSource::Rss => "rss",
        }
    }

    /// Store bytes when the store reports them, else RSS.
    pub fn for_samples(samples: &[GrowthSample]) -> Self {
        if samples.iter().any(|s| s.bytes.is_some()) {
            BytesSource::Store
        } else {
            BytesSource::Rss
        }
    }

    fn read(self, sample: &GrowthSample) -> Option<u64> {
        match self {
            BytesSource::Store => sample.bytes,
            BytesSource::Rss => sample.rss_bytes,
        }
    }
}

/// Summarises `samples`. `baseline_bytes` replaces the first sample's memory figure when the
/// memory before a prefill is known, so the prefill's entries are paid for too.
pub fn summarise(
    samples: &[GrowthSample],
    token_ttl_secs: u64,
    expected_entries: f64,
    baseline_bytes: Option<u64>,
    check_p50_us: Option<u64>,
    check_p99_us: Option<u64>,
) -> GrowthSummary {
    let settled: Vec<u64> = samples
        .iter()
        .filter(|s| s.t_secs >= token_ttl_secs as f64)
        .filter_map(|s| s.entries)
        .collect();
    // The mean, not the median: `exp` is a whole second, so even an exact store oscillates
    // between two levels with the sampling phase, and a median picks one of them.
    let plateau_entries = mean(&settled);
    let entries: Vec<u64> = samples.iter().filter_map(|s| s.entries).collect();
    let entry_drops = entries.windows(2).filter(|w| w[1] < w[0]).count();
    let final_entries = entries.last().copied();
    let source = BytesSource::for_samples(samples);
    let first = baseline_bytes.or_else(|| samples.first().and_then(|s| source.read(s)));
    let last = samples.last().and_then(|s| source.read(s));
    let bytes_per_live_entry = match (first, last, final_entries) {
        (Some(first), Some(last), Some(n)) if n > 0 => {
            Some((last as f64 - first as f64) / n as f64)
        }
        _ => None,
    };
    GrowthSummary {
        plateau_entries,
        plateau_ratio: plateau_entries
            .filter(|_| expected_entries > 0.0)
            .map(|p| p / expected_entries),
        min_entries_after_ttl: settled.iter().min().copied(),
        max_entries_after_ttl: settled.iter().max().copied(),
        final_entries,
        entry_drops,
        bytes_per_live_entry,
        bytes_source: bytes_per_live_entry.map(|_| source.as_str().to_string()),
        check_p50_us,
        check_p99_us,
    }
}

/// The mean of whole numbers, `None` for none.
pub fn mean(values: &[u64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<u64>() as f64 / values.len() as f64)
}

/// The median of whole numbers, `None` for none.
pub fn median(values: &[u64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2] as f64),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t_secs: f64, entries: u64, rss: u64) -> GrowthSample {
        GrowthSample {
            t_secs,
            entries: Some(entries),
            bytes: None,
            expected_entries: 100.0,
            live_revoked: entries,
            logouts_total: 0,
            rss_bytes: Some(rss),
            checks: 0,
            check_p50_us: None,
            check_p99_us: None,
            check_errors: 0,
            store_errors: 0,
        }
    }

    /// The plateau is the median past the first TTL only; drops and RSS per entry are counted.
    #[test]
    fn plateau_ignores_the_ramp() {
        let samples = [
            sample(0.0, 0, 1000),
            sample(1.0, 50, 2000),
            sample(2.0, 100, 3000),
            sample(3.0, 90, 3000),
            sample(4.0, 110, 3000),
            sample(5.0, 100, 3000),
        ];
        let s = summarise(&samples, 2, 100.0, None, Some(5), Some(9));
        assert_eq!(s.plateau_entries, Some(100.0));
        assert_eq!(s.plateau_ratio, Some(1.0));
        assert_eq!((s.min_entries_after_ttl, s.max_entries_after_ttl), (Some(90), Some(110)));
        assert_eq!(s.entry_drops, 2, "100 → 90 and 110 → 100");
        assert_eq!(s.final_entries, Some(100));
        assert_eq!(s.bytes_per_live_entry, Some(20.0));
        assert_eq!(s.bytes_source.as_deref(), Some("rss"));
    }

    /// Store bytes win over RSS, and a pre-fill baseline replaces the first sample.
    #[test]
    fn store_bytes_and_baseline() {
        let mut samples = [sample(0.0, 1000, 0), sample(1.0, 1000, 0)];
        samples[0].bytes = Some(50_000);
        samples[1].bytes = Some(60_000);
        let s = summarise(&samples, 1, 1000.0, Some(10_000), None, None);
        assert_eq!(s.bytes_per_live_entry, Some(50.0));
        assert_eq!(s.bytes_source.as_deref(), Some("store"));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[4, 1, 3, 2]), Some(2.5));
        assert_eq!(mean(&[1, 2]), Some(1.5));
        assert_eq!(mean(&[]), None);
    }
}
