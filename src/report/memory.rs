//! Memory per entry from a run's own numbers: at the end of every round each store reports
//! its entries and bytes (`store_entries`, `store_bytes`); across rounds and scenarios the
//! entry count varies, and the least-squares slope of bytes over entries is what one more
//! entry costs. A fixed overhead (an empty table, a server's baseline) falls into the
//! intercept, not the slope.
//!
//! What "bytes" counts is each store's own (see its `stats()`): the heap of an in-process
//! table, `used_memory` of the whole Redis server (other clients' keys move it too),
//! `pg_total_relation_size` of the table (grows by whole pages). Stores that report no bytes
//! (`naive:`, `memory:`) have no figure.

use crate::results::Measurement;

/// Fewest round ends, and smallest spread of entries, a slope is computed from.
const MIN_SAMPLES: usize = 3;
const MIN_ENTRY_SPREAD: u64 = 100;

/// Bytes per entry and the samples behind it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerEntry {
    pub bytes_per_entry: f64,
    pub samples: usize,
    pub min_entries: u64,
    pub max_entries: u64,
}

/// The slope over every round end of these measurements (one store's); `None` when the
/// store reports no bytes, the entries barely vary, or bytes did not grow with entries.
pub fn per_entry(measurements: &[&Measurement]) -> Option<PerEntry> {
    let points: Vec<(f64, f64)> = measurements
        .iter()
        .flat_map(|m| m.rounds.iter())
        .filter_map(|r| Some((r.store_entries? as f64, r.store_bytes? as f64)))
        .collect();
    let min = points.iter().map(|p| p.0).fold(f64::MAX, f64::min);
    let max = points.iter().map(|p| p.0).fold(0.0, f64::max);
    if points.len() < MIN_SAMPLES || max - min < MIN_ENTRY_SPREAD as f64 {
        return None;
    }
    let n = points.len() as f64;
    let (mx, my) =
        (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let sxy: f64 = points.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = points.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let slope = sxy / sxx;
    (slope > 0.0).then_some(PerEntry {
        bytes_per_entry: slope,
        samples: points.len(),
        min_entries: min as u64,
        max_entries: max as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::RunResults;

    fn with_ends(ends: &[(Option<u64>, Option<u64>)]) -> Measurement {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/small-results.json");
        let mut m = RunResults::read(std::path::Path::new(path)).unwrap().measurements.remove(1);
        let template = m.rounds[0].clone();
        m.rounds = ends
            .iter()
            .map(|(entries, bytes)| {
                let mut r = template.clone();
                (r.store_entries, r.store_bytes) = (*entries, *bytes);
                r
            })
            .collect();
        m
    }

    /// A fixed overhead goes to the intercept: 1 MB + 50 B per entry reads 50 B.
    #[test]
    fn slope_ignores_fixed_overhead() {
        let ends: Vec<_> =
            [100u64, 1_000, 2_000].iter().map(|&n| (Some(n), Some(1_000_000 + 50 * n))).collect();
        let m = with_ends(&ends);
        let per = per_entry(&[&m]).unwrap();
        assert!((per.bytes_per_entry - 50.0).abs() < 1e-6, "{per:?}");
        assert_eq!((per.samples, per.min_entries, per.max_entries), (3, 100, 2_000));
    }

    /// No bytes, too few samples, or entries that barely vary: no figure.
    #[test]
    fn no_figure_without_enough_data() {
        let no_bytes = with_ends(&[(Some(10), None), (Some(1_000), None), (Some(2_000), None)]);
        assert!(per_entry(&[&no_bytes]).is_none());
        let flat = with_ends(&[(Some(10), Some(5)), (Some(20), Some(9)), (Some(30), Some(12))]);
        assert!(per_entry(&[&flat]).is_none());
        let shrinking =
            with_ends(&[(Some(0), Some(900)), (Some(500), Some(500)), (Some(900), Some(100))]);
        assert!(per_entry(&[&shrinking]).is_none());
    }
}
