//! A shared store kept filled across a `revoked=` point's rounds: after each measurement the
//! load's revocations were removed ([`crate::run::forget`]); here the store is counted, where
//! it can count, beside the prefill it should be back to, and anything short of that is said
//! whether or not progress is shown.

use crate::results::LoadForgotten;
use crate::revocation::SharedStore;
use crate::units::short_count;

/// Records in `forgotten` what `store` holds now beside `prefill`, its prefilled entries.
pub async fn count_after(store: &SharedStore, prefill: u64, forgotten: &mut LoadForgotten) {
    // A strategy with a copy per process counts the copy in `stats`: the shared store is
    // what the sweep filled.
    let stats = match store.shared_stats().await {
        Some(stats) => stats,
        None => store.stats().await,
    };
    forgotten.entries_after = stats.ok().and_then(|s| s.entries);
    forgotten.prefill_entries = Some(prefill);
}

/// Says how it went: a progress line, and a warning for a failed removal, missed logouts or
/// a count that is not the prefill's.
pub fn report(name: &str, forgotten: &LoadForgotten, progress: bool) {
    if progress {
        eprintln!("  {name}: {}", describe(forgotten));
    }
    for warning in warnings(name, forgotten) {
        eprintln!("warning: {warning}");
    }
}

/// The progress line: what was removed, and what the store holds.
fn describe(f: &LoadForgotten) -> String {
    let removed = f.removed.map_or("none".to_string(), |n| n.to_string());
    let held = match (f.entries_after, f.excess()) {
        (Some(_), Some(0)) => "back to its prefill".to_string(),
        (Some(after), _) => format!("{after} entries held"),
        (None, _) => "entries not counted".to_string(),
    };
    format!(
        "{removed} of the {} entries its load revoked removed in {:.2} s; {held} ({} prefilled)",
        f.noted,
        f.secs,
        short_count(f.prefill_entries.unwrap_or(0))
    )
}

/// What keeps the next measurement from starting at the prefill, one sentence each.
fn warnings(name: &str, f: &LoadForgotten) -> Vec<String> {
    let mut said = Vec::new();
    if let Some(error) = &f.error {
        said.push(format!("{name}: the entries its load revoked could not be removed: {error}"));
    }
    if f.missed > 0 {
        said.push(format!(
            "{name}: {} logouts were not noted (past the bound, or unreadable tokens); their \
             entries stay",
            f.missed
        ));
    }
    if let (Some(after), Some(excess)) = (f.entries_after, f.excess()) {
        if excess != 0 {
            said.push(format!(
                "{name} holds {after} entries after the load's were removed, {excess:+} from \
                 its {} prefilled: the next round measures another size",
                f.prefill_entries.unwrap_or(0)
            ));
        }
    }
    said
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forgotten(removed: Option<u64>, after: Option<u64>) -> LoadForgotten {
        LoadForgotten {
            noted: 120,
            missed: 0,
            removed,
            error: removed.is_none().then(|| "redis error: gone".to_string()),
            secs: 0.01,
            entries_after: after,
            prefill_entries: Some(1_000),
        }
    }

    /// Back to the prefill says so and warns of nothing; a count off the prefill, a failed
    /// removal and missed logouts are each a warning with the figures.
    #[test]
    fn says_whether_the_store_is_back_to_its_prefill() {
        let back = forgotten(Some(120), Some(1_000));
        assert!(describe(&back).contains("back to its prefill"), "{}", describe(&back));
        assert!(warnings("redis", &back).is_empty());
        let over = forgotten(Some(100), Some(1_020));
        let said = warnings("redis", &over);
        assert_eq!(said.len(), 1);
        assert!(said[0].contains("1020 entries") && said[0].contains("+20"), "{said:?}");
        let failed = LoadForgotten { missed: 3, ..forgotten(None, None) };
        let said = warnings("redis", &failed);
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(said[0].contains("gone") && said[1].contains("3 logouts"), "{said:?}");
        assert!(describe(&failed).contains("not counted"), "{}", describe(&failed));
    }
}
