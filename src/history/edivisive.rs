//! E-divisive means: change points in a series (Matteson & James, "A nonparametric approach
//! for multiple change point analysis of multivariate data", JASA 2014), as Hunter and Apache
//! Otava use it on benchmark histories.
//!
//! Divisive: the series is one segment; in each segment the split `τ` that maximises the
//! energy statistic (α = 1)
//!
//! ```text
//! Q(τ) = m·n/(m+n) · ( 2/(m·n) Σ|xᵢ−yⱼ| − 1/C(m,2) Σ|xᵢ−xₖ| − 1/C(n,2) Σ|yⱼ−yₖ| )
//! ```
//!
//! (x the `m` values before τ, y the `n` from τ on, each at least [`Settings::min_segment`])
//! is found; the best split over every segment is tested by permutation — the segment's
//! values shuffled [`Settings::permutations`] times with a fixed seed, its best `Q` recomputed
//! each time, `p = (1 + #{Q_perm ≥ Q}) / (1 + permutations)` — and kept when
//! `p ≤ Settings::alpha`, after which its two halves are searched in turn. The first split not
//! significant ends the search. Same input, same seed: same answer.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// How hard to look.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Fewest values on either side of a change point.
    pub min_segment: usize,
    /// Shuffles per permutation test.
    pub permutations: usize,
    /// Largest permutation p-value kept as a change point.
    pub alpha: f64,
    /// Seed of the shuffles.
    pub seed: u64,
}

impl Default for Settings {
    /// 4 values a side, 199 shuffles, p ≤ 1%: on 30 values with 3% noise, a 10% step is found
    /// every time and a series without one shows a change about once in a hundred
    /// (`docs/measurements/ci-gate.md`).
    fn default() -> Self {
        Settings { min_segment: 4, permutations: 199, alpha: 0.01, seed: 0x5eed }
    }
}

/// A change point: the series' level changes from index `at` on (0-based).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangePoint {
    pub at: usize,
    /// The energy statistic of the split.
    pub q: f64,
    /// Its permutation p-value.
    pub p_value: f64,
}

/// The change points of `values`, sorted by index.
pub fn change_points(values: &[f64], settings: &Settings) -> Vec<ChangePoint> {
    let mut rng = StdRng::seed_from_u64(settings.seed);
    let mut found: Vec<ChangePoint> = Vec::new();
    loop {
        let mut bounds: Vec<usize> = found.iter().map(|c| c.at).collect();
        bounds.insert(0, 0);
        bounds.push(values.len());
        let best = bounds
            .windows(2)
            .filter_map(|w| {
                best_split(&values[w[0]..w[1]], settings.min_segment).map(|s| (w[0], s))
            })
            .max_by(|a, b| a.1 .1.total_cmp(&b.1 .1));
        let Some((start, (at, q))) = best else { break };
        let end = bounds[bounds.iter().position(|&b| b > start).expect("a segment ends")];
        let p_value = permutation_p(&values[start..end], q, settings, &mut rng);
        if p_value > settings.alpha {
            break;
        }
        found.push(ChangePoint { at: start + at, q, p_value });
        found.sort_by_key(|c| c.at);
    }
    found
}

/// The split of `segment` with the largest `Q` and that `Q`; `None` when the segment is too
/// short to split.
fn best_split(segment: &[f64], min_segment: usize) -> Option<(usize, f64)> {
    let min = min_segment.max(2);
    let n = segment.len();
    if n < 2 * min {
        return None;
    }
    // left[τ]: Σ|xₐ−x_b| over a < b < τ; right[τ]: the same over τ ≤ a < b.
    let d = |a: usize, b: usize| (segment[a] - segment[b]).abs();
    let mut left = vec![0.0; n + 1];
    for t in 1..=n {
        left[t] = left[t - 1] + (0..t - 1).map(|a| d(a, t - 1)).sum::<f64>();
    }
    let mut right = vec![0.0; n + 1];
    for t in (0..n).rev() {
        right[t] = right[t + 1] + (t + 1..n).map(|b| d(t, b)).sum::<f64>();
    }
    let total = left[n];
    (min..=n - min)
        .map(|tau| {
            let (m, k) = (tau as f64, (n - tau) as f64);
            let (left, right) = (left[tau], right[tau]);
            let between = total - left - right;
            let e = 2.0 * between / (m * k)
                - left / (m * (m - 1.0) / 2.0)
                - right / (k * (k - 1.0) / 2.0);
            (tau, m * k / (m + k) * e)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// The share of shuffles of `segment` whose best split is at least as strong as `q`.
fn permutation_p(segment: &[f64], q: f64, settings: &Settings, rng: &mut StdRng) -> f64 {
    let mut shuffled = segment.to_vec();
    let mut as_strong = 0;
    for _ in 0..settings.permutations {
        shuffled.shuffle(rng);
        let best = best_split(&shuffled, settings.min_segment).map_or(f64::MIN, |s| s.1);
        if best >= q {
            as_strong += 1;
        }
    }
    (1 + as_strong) as f64 / (1 + settings.permutations) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clean step is found where it is, a flat series has none, and a short one cannot be
    /// split.
    #[test]
    fn finds_a_step_and_nothing_in_a_flat_series() {
        let mut step = vec![100.0; 12];
        step.extend([150.0; 10]);
        step.iter_mut().enumerate().for_each(|(i, v)| *v += (i % 3) as f64);
        let found = change_points(&step, &Settings::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].at, 12);
        assert!(found[0].p_value <= 0.01);
        let flat: Vec<f64> = (0..30).map(|i| 100.0 + (i * 7 % 5) as f64).collect();
        assert!(change_points(&flat, &Settings::default()).is_empty());
        assert!(change_points(&[1.0, 9.0, 1.0], &Settings::default()).is_empty());
    }

    /// Two steps in one series are both found, by dividing the series.
    #[test]
    fn divides_until_no_split_is_significant() {
        let values: Vec<f64> = (0..36)
            .map(|i| {
                let level = if i < 12 {
                    100.0
                } else if i < 24 {
                    130.0
                } else {
                    90.0
                };
                level + (i * 5 % 3) as f64
            })
            .collect();
        let at: Vec<usize> =
            change_points(&values, &Settings::default()).iter().map(|c| c.at).collect();
        assert_eq!(at, [12, 24]);
    }
}
