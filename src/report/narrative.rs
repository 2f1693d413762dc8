//! The generated "what this means" sentences: only what the numbers show.

use crate::results::Measurement;

/// Replays attempted and accepted over all rounds.
pub fn replays(m: &Measurement) -> (u64, u64) {
    m.rounds.iter().fold((0, 0), |(a, l), r| (a + r.replays_attempted, l + r.replays_accepted))
}

/// One paragraph for a scenario's measurements, comparing each store with `none` when it was
/// measured.
pub fn paragraph(measurements: &[&Measurement], replicas: usize) -> String {
    let none_p50 = measurements
        .iter()
        .find(|m| m.store == "none")
        .and_then(|m| m.median.as_ref())
        .map(|median| median.p50_us.median);
    let mut sentences = Vec::new();
    for m in measurements {
        let Some(median) = &m.median else { continue };
        let mut parts = Vec::new();
        match none_p50 {
            Some(base) if m.store != "none" && base > 0.0 => {
                let delta_ms = (median.p50_us.median - base) / 1000.0;
                let ratio = median.p50_us.median / base;
                if delta_ms >= 0.0 {
                    parts.push(format!("adds {delta_ms:.2} ms at p50 ({ratio:.2}× none)"));
                } else {
                    parts.push(format!(
                        "is {:.2} ms faster than none at p50 ({ratio:.2}× none)",
                        -delta_ms
                    ));
                }
            }
            _ => parts.push(format!("answers in {:.2} ms at p50", median.p50_us.median / 1000.0)),
        }
        let (attempted, accepted) = replays(m);
        if attempted > 0 {
            let pct = 100.0 * accepted as f64 / attempted as f64;
            let across =
                if replicas > 1 { format!(" across {replicas} replicas") } else { String::new() };
            parts.push(format!("leaked {accepted} of {attempted} replays ({pct:.0}%){across}"));
        }
        let errors: u64 = m.rounds.iter().map(|r| r.store_errors).sum();
        if errors > 0 {
            parts.push(format!("had {errors} store errors"));
        }
        sentences.push(format!("{} {}", m.store, parts.join(" and ")));
    }
    if sentences.is_empty() {
        return "No store was measured.".to_string();
    }
    format!("{}.", sentences.join("; "))
}
