//! The generated "what this means" sentences: only what the numbers show.

use crate::results::{Measurement, StoreRecord, StoreStatus};

/// Replays attempted and accepted over all rounds.
pub fn replays(m: &Measurement) -> (u64, u64) {
    m.rounds.iter().fold((0, 0), |(a, l), r| (a + r.replays_attempted, l + r.replays_accepted))
}

/// One paragraph for a scenario's measurements, comparing each store with `none` when it was
/// measured. A store served by a wire-compatible stand-in is named with it, so its latency is
/// never read as the real product's.
pub fn paragraph(measurements: &[&Measurement], replicas: usize, stores: &[StoreRecord]) -> String {
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
        sentences.push(format!("{} {}", subject(&m.store, stores), parts.join(" and ")));
    }
    if sentences.is_empty() {
        return "No store was measured.".to_string();
    }
    format!("{}.", sentences.join("; "))
}

/// The store's name as tables and chart legends show it: marked when a wire-compatible
/// stand-in answered instead of the product it is named after.
pub fn shown_name(store: &str, stores: &[StoreRecord]) -> String {
    let stand_in = stores.iter().any(|s| s.name == store && s.server_caveat.is_some());
    if stand_in {
        format!("{store} (wire-compatible server)")
    } else {
        store.to_string()
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
    use crate::revocation::mongo_server::WIRE_COMPATIBLE;

    fn status(name: &str, version: &str, caveat: Option<&str>) -> StoreRecord {
        let url = format!("{name}://127.0.0.1");
        StoreRecord::measured(name, &url, Some(version.into()), caveat.map(str::to_string))
    }

    /// A stand-in is named beside its figures; MongoDB itself and other stores are not marked.
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
        assert_eq!(shown_name("mongodb", &stores), "mongodb (wire-compatible server)");
        assert_eq!(subject("redis", &stores), "redis");
        assert_eq!(shown_name("redis", &stores), "redis");
        let real = [status("mongodb", "MongoDB 7.0.14", None)];
        assert_eq!(subject("mongodb", &real), "mongodb");
        assert_eq!(shown_name("mongodb", &real), "mongodb");
    }
}
