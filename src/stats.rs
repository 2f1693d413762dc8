//! Distribution-free intervals for verdicts: small pure functions, no randomness.
//!
//! - Paired samples (base and candidate measured as pairs): the **median of the per-pair
//!   values** with the exact sign-test interval (order statistics of a Binomial(n, ½);
//!   Conover, *Practical Nonparametric Statistics*, 3rd ed., §3.2).
//! - Two independent samples (rounds vs rounds): the **Hodges–Lehmann shift** (median of
//!   every candidate − base difference) with the exact Mann–Whitney interval (Hollander &
//!   Wolfe, *Nonparametric Statistical Methods*, §4.3).
//! - A proportion (leaks, errors): the Wilson score interval.
//!
//! Exact intervals cannot reach every confidence with few samples (3 pairs: 75% at most;
//! 3 rounds vs 3 rounds: 90%): the widest one, [min, max], is then used and its real coverage
//! is reported in [`Estimate::confidence`], so a verdict never claims more than it has.

use serde::{Deserialize, Serialize};

/// The confidence every verdict asks for.
pub const CONFIDENCE: f64 = 0.95;

/// Above this many samples the normal approximations are used (exact ones are slow or
/// underflow, and are indistinguishable there).
const EXACT_SIGN_MAX: usize = 400;
const EXACT_RANK_MAX: usize = 40;

/// A point estimate with its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
    /// The interval's actual coverage (at least [`CONFIDENCE`] when the sample allows it).
    pub confidence: f64,
}

impl Estimate {
    /// The interval contains `x`.
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }

    /// Applies a monotonic increasing `f` to every bound (e.g. `exp` from log space).
    pub fn map(self, f: impl Fn(f64) -> f64) -> Self {
        Estimate { value: f(self.value), low: f(self.low), high: f(self.high), ..self }
    }
}

fn sorted(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

fn median_of_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The median of `values` with its exact sign-test interval; `None` without values.
pub fn median_interval(values: &[f64]) -> Option<Estimate> {
    let v = sorted(values.iter().copied());
    if v.is_empty() {
        return None;
    }
    let (k, confidence) = sign_rank(v.len());
    Some(Estimate { value: median_of_sorted(&v), low: v[k - 1], high: v[v.len() - k], confidence })
}

/// The Hodges–Lehmann shift `candidate − base` with its exact Mann–Whitney interval.
pub fn shift_interval(base: &[f64], candidate: &[f64]) -> Option<Estimate> {
    let (b, c) = (sorted(base.iter().copied()), sorted(candidate.iter().copied()));
    if b.is_empty() || c.is_empty() {
        return None;
    }
    let diffs = sorted(c.iter().flat_map(|y| b.iter().map(move |x| y - x)));
    let (k, confidence) = rank_sum_rank(b.len(), c.len());
    Some(Estimate {
        value: median_of_sorted(&diffs),
        low: diffs[k - 1],
        high: diffs[diffs.len() - k],
        confidence,
    })
}

/// The ratio `candidate / base` (Hodges–Lehmann in log space) with its interval. Values
/// must be positive; non-positive ones are raised to a tiny positive value so a drop to
/// zero reads as a huge change instead of disappearing.
pub fn ratio_interval(base: &[f64], candidate: &[f64]) -> Option<Estimate> {
    let ln = |v: &[f64]| v.iter().map(|x| x.max(1e-9).ln()).collect::<Vec<_>>();
    shift_interval(&ln(base), &ln(candidate)).map(|e| e.map(f64::exp))
}

/// The median of per-pair ratios `candidate / base` with its sign-test interval.
pub fn paired_ratio_interval(pairs: &[(f64, f64)]) -> Option<Estimate> {
    let ratios: Vec<f64> = pairs.iter().map(|(b, c)| c.max(1e-9) / b.max(1e-9)).collect();
    median_interval(&ratios)
}

/// The median of per-pair differences `candidate − base` with its sign-test interval.
pub fn paired_shift_interval(pairs: &[(f64, f64)]) -> Option<Estimate> {
    let diffs: Vec<f64> = pairs.iter().map(|(b, c)| c - b).collect();
    median_interval(&diffs)
}

/// One-sided exact p-values that a shift of the cost beyond `bound` (in log space for ratios)
/// is only noise: `P(as many or more values beyond bound | the true shift is bound)`.
///
/// Paired: the sign test on per-pair values (`values` are per-pair differences; the count of
/// those strictly above `bound`). The interval of [`median_interval`] excludes `bound` exactly
/// when this p-value is at most (1 − [`CONFIDENCE`]) / 2, so a test and the interval agree.
pub fn sign_test_p(values: &[f64], bound: f64) -> Option<f64> {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    let above = v.iter().filter(|&&x| x > bound).count();
    Some(binomial_upper_tail(v.len(), above))
}

/// Unpaired: the Mann–Whitney test of `candidate − bound` against `base` (the count of pairs
/// with `candidate − base > bound`, ties counting half). Agrees with [`shift_interval`] as
/// [`sign_test_p`] agrees with [`median_interval`].
pub fn rank_sum_test_p(base: &[f64], candidate: &[f64], bound: f64) -> Option<f64> {
    let (b, c) = (sorted(base.iter().copied()), sorted(candidate.iter().copied()));
    if b.is_empty() || c.is_empty() {
        return None;
    }
    let (n, m) = (b.len(), c.len());
    let mut u2 = 0usize; // twice the count: ties count half
    for y in &c {
        for x in &b {
            let d = y - x;
            u2 += if d > bound {
                2
            } else if d == bound {
                1
            } else {
                0
            };
        }
    }
    if n + m > EXACT_RANK_MAX {
        let mean = (n * m) as f64 / 2.0;
        let sd = ((n * m * (n + m + 1)) as f64 / 12.0).sqrt();
        let z = (u2 as f64 / 2.0 - 0.5 - mean) / sd;
        return Some(normal_upper_tail(z));
    }
    let pmf = mann_whitney_pmf(n, m);
    let from = u2.div_ceil(2);
    Some(pmf[from.min(pmf.len())..].iter().sum::<f64>().min(1.0))
}

/// The smallest one-sided p-value [`sign_test_p`] can give with `n` pairs: 2^−n.
pub fn sign_test_floor(n: usize) -> f64 {
    0.5f64.powi(n as i32)
}

/// The smallest one-sided p-value [`rank_sum_test_p`] can give with `n` and `m` rounds:
/// 1 / C(n + m, n), every candidate round beyond every base round.
pub fn rank_sum_floor(n: usize, m: usize) -> f64 {
    let (small, total) = (n.min(m), n + m);
    (0..small).fold(1.0, |p, i| p * (i + 1) as f64 / (total - i) as f64)
}

/// P(B ≥ k) for B ~ Binomial(n, ½).
fn binomial_upper_tail(n: usize, k: usize) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if n > EXACT_SIGN_MAX {
        let z = (k as f64 - 0.5 - n as f64 / 2.0) / (n as f64 / 4.0).sqrt();
        return normal_upper_tail(z);
    }
    let mut term = 0.5f64.powi(n as i32); // P(B = 0)
    let mut below = 0.0; // P(B < k)
    for j in 0..k {
        below += term;
        term *= (n - j) as f64 / (j + 1) as f64;
    }
    (1.0 - below).clamp(0.0, 1.0)
}

/// P(Z ≥ z) for a standard normal Z (Abramowitz & Stegun 7.1.26, error < 1.5e-7).
fn normal_upper_tail(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * (-x * x).exp();
    if z >= 0.0 {
        erfc / 2.0
    } else {
        1.0 - erfc / 2.0
    }
}

/// The 1-based order statistic `k` such that `[x(k), x(n+1−k)]` covers the median with at
/// least [`CONFIDENCE`], and that coverage; `k = 1` (min–max) when none reaches it.
fn sign_rank(n: usize) -> (usize, f64) {
    let alpha_half = (1.0 - CONFIDENCE) / 2.0;
    if n > EXACT_SIGN_MAX {
        let z = 1.959_963_984_540_054;
        let k = ((n as f64 - z * (n as f64).sqrt()) / 2.0).floor().max(1.0) as usize;
        return (k, CONFIDENCE);
    }
    // P(B ≤ j) for B ~ Binomial(n, ½), accumulated until it exceeds α/2.
    let mut term = 0.5f64.powi(n as i32); // P(B = 0)
    let mut cdf = term;
    let mut k = 1;
    let mut tail = cdf; // P(B ≤ k − 1)
    while k < n.div_ceil(2) {
        term *= (n - (k - 1)) as f64 / k as f64; // P(B = k)
        let next = cdf + term;
        if next > alpha_half {
            break;
        }
        cdf = next;
        k += 1;
        tail = cdf;
    }
    (k, 1.0 - 2.0 * tail)
}

/// Like [`sign_rank`] for the `n·m` pairwise differences of two samples (Mann–Whitney U).
fn rank_sum_rank(n: usize, m: usize) -> (usize, f64) {
    let alpha_half = (1.0 - CONFIDENCE) / 2.0;
    let total = n * m;
    if n + m > EXACT_RANK_MAX {
        let z = 1.959_963_984_540_054;
        let sd = ((n * m * (n + m + 1)) as f64 / 12.0).sqrt();
        let k = (total as f64 / 2.0 - z * sd).floor().max(1.0) as usize;
        return (k, CONFIDENCE);
    }
    let pmf = mann_whitney_pmf(n, m);
    let mut cdf = pmf[0];
    if cdf > alpha_half {
        return (1, 1.0 - 2.0 * cdf);
    }
    let mut k = 1;
    while k < total.div_ceil(2) && cdf + pmf[k] <= alpha_half {
        cdf += pmf[k];
        k += 1;
    }
    (k, 1.0 - 2.0 * cdf)
}

/// P(U = u) for u in 0..=n·m under no difference, U counting (first, second) pairs where the
/// first-sample value is larger. Recurrence on the largest of the i + j values: it is from
/// the first sample with probability i/(i+j) (U grows by j), else from the second.
/// Probabilities rather than counts, so nothing overflows.
fn mann_whitney_pmf(n: usize, m: usize) -> Vec<f64> {
    // table[j] holds the distribution for (i − 1, j) while i advances.
    let mut table: Vec<Vec<f64>> = (0..=m).map(|_| vec![1.0]).collect();
    for i in 1..=n {
        let mut row: Vec<Vec<f64>> = vec![vec![1.0]];
        for j in 1..=m {
            let mut dist = vec![0.0; i * j + 1];
            let weight_x = i as f64 / (i + j) as f64;
            let weight_y = j as f64 / (i + j) as f64;
            for (u, p) in table[j].iter().enumerate() {
                // (i−1, j): the largest value is from the first sample: U grows by j.
                dist[u + j] += weight_x * p;
            }
            for (u, p) in row[j - 1].iter().enumerate() {
                // (i, j−1): the largest value is from the second sample: U unchanged.
                dist[u] += weight_y * p;
            }
            row.push(dist);
        }
        table = row;
    }
    table.pop().expect("m + 1 rows")
}

/// The Wilson score interval of `successes / trials` at [`CONFIDENCE`]; `None` for no trials.
pub fn proportion_interval(successes: u64, trials: u64) -> Option<Estimate> {
    if trials == 0 {
        return None;
    }
    let z = 1.959_963_984_540_054;
    let n = trials as f64;
    let p = successes as f64 / n;
    let denominator = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denominator;
    Some(Estimate {
        value: p,
        // Exact at the edges (rounding leaves ~1e-19 otherwise).
        low: if successes == 0 { 0.0 } else { (centre - half).max(0.0) },
        high: if successes == trials { 1.0 } else { (centre + half).min(1.0) },
        confidence: CONFIDENCE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sign-test ranks match published tables: n = 6 → k = 1 (96.9%), n = 10 → k = 2
    /// (97.9%), n = 20 → k = 6 (95.9%); with 3 pairs only min–max at 75%.
    #[test]
    fn sign_ranks_match_tables() {
        let check = |n, k, conf: f64| {
            let (got_k, got_conf) = sign_rank(n);
            assert_eq!(got_k, k, "n = {n}");
            assert!((got_conf - conf).abs() < 1e-3, "n = {n}: {got_conf}");
        };
        check(3, 1, 0.75);
        check(6, 1, 0.96875);
        check(10, 2, 0.97852);
        check(20, 6, 0.95861);
    }

    /// The Mann–Whitney distribution sums to one and gives the tabled ranks: 3 vs 3 reaches
    /// 90% at most (min–max), 8 vs 8 → k = 14 (Hollander & Wolfe's table: 13 lower critical).
    #[test]
    fn rank_sum_ranks_match_tables() {
        let pmf = mann_whitney_pmf(4, 5);
        assert!((pmf.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((pmf[0] - 1.0 / 126.0).abs() < 1e-12, "1 / C(9, 4)");
        let (k, conf) = rank_sum_rank(3, 3);
        assert_eq!(k, 1);
        assert!((conf - 0.9).abs() < 1e-9, "{conf}");
        let (k, conf) = rank_sum_rank(8, 8);
        assert_eq!(k, 14, "{conf}");
        assert!(conf >= 0.95);
    }

    /// A constant shift is found exactly, with an interval around it.
    #[test]
    fn shift_of_a_constant_offset() {
        let base = [100.0, 104.0, 98.0, 101.0, 99.0, 103.0];
        let candidate: Vec<f64> = base.iter().map(|x| x + 100.0).collect();
        let e = shift_interval(&base, &candidate).unwrap();
        assert!((e.value - 100.0).abs() < 1e-9 && e.contains(100.0) && e.low > 90.0, "{e:?}");
        let r = ratio_interval(&base, &candidate).unwrap();
        assert!((r.value - 2.0).abs() < 0.02, "{r:?}");
    }

    /// Paired ratios: the median ratio and an interval that contains it.
    #[test]
    fn paired_ratio_median() {
        let pairs: Vec<(f64, f64)> =
            (0..10).map(|i| (100.0 + i as f64, 110.0 + i as f64)).collect();
        let e = paired_ratio_interval(&pairs).unwrap();
        assert!(e.low <= e.value && e.value <= e.high && e.low > 1.05, "{e:?}");
        assert!(paired_shift_interval(&pairs).unwrap().contains(10.0));
    }

    /// Wilson: 0 of 1000 has a small, non-zero upper bound; 500 of 1000 is centred on ½.
    #[test]
    fn wilson_bounds() {
        let none = proportion_interval(0, 1000).unwrap();
        assert!(none.low == 0.0 && none.high > 0.0 && none.high < 0.005, "{none:?}");
        let half = proportion_interval(500, 1000).unwrap();
        assert!(half.contains(0.5) && half.high - half.low < 0.07, "{half:?}");
        assert!(proportion_interval(0, 0).is_none());
    }

    /// The tests' p-values: all of 6 pairs beyond the bound is 2^−6; none is 1; 3 vs 3 rounds
    /// fully apart is 1/20; the floors agree; the interval excludes the bound exactly when the
    /// one-sided p-value is at most 2.5%.
    #[test]
    fn p_values_match_exact_counts() {
        let six = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert!((sign_test_p(&six, 0.5).unwrap() - 1.0 / 64.0).abs() < 1e-12);
        assert_eq!(sign_test_p(&six, 10.0).unwrap(), 1.0);
        assert!((sign_test_p(&six, 1.5).unwrap() - 7.0 / 64.0).abs() < 1e-12, "5 of 6 or more");
        assert!((sign_test_floor(6) - 1.0 / 64.0).abs() < 1e-15);
        let (b, c) = ([1.0, 2.0, 3.0], [11.0, 12.0, 13.0]);
        assert!((rank_sum_test_p(&b, &c, 5.0).unwrap() - 0.05).abs() < 1e-12);
        assert!((rank_sum_floor(3, 3) - 0.05).abs() < 1e-12);
        assert!((rank_sum_floor(2, 2) - 1.0 / 6.0).abs() < 1e-12);
        assert!(rank_sum_test_p(&b, &c, 20.0).unwrap() > 0.99);
        // From 6 values on (below, the interval is min–max at less than 95%).
        for n in 6..30 {
            let values: Vec<f64> = (0..n).map(|i| i as f64).collect();
            let e = median_interval(&values).unwrap();
            for bound in [e.low - 0.5, e.low + 0.5] {
                let p = sign_test_p(&values, bound).unwrap();
                assert_eq!(e.low > bound, p <= (1.0 - CONFIDENCE) / 2.0, "n {n} bound {bound}");
            }
        }
        let z = normal_upper_tail(1.959_963_984_540_054);
        assert!((z - 0.025).abs() < 1e-6, "{z}");
    }
}
