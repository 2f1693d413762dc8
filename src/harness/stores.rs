//! The store URLs `run` and `growth` are given: `--stores` (or `REVBENCH_STORES`) split into
//! URLs, refused before anything runs when one names no store, and a run that measured none
//! of them is an error.

/// Where `run` and `growth` also read `--stores` from.
pub const STORES_ENV: &str = "REVBENCH_STORES";

/// Refuses, before anything runs, a store URL named by the user that names no store or does not
/// parse: a typo is a mistake to fix, not a store to skip; and two entries with one label
/// (see [`super::label`]), whose rounds would pool under one row. (Stores that do not answer
/// are skipped with the reason, and `run` fails when nothing at all was measured.)
pub fn check_store_urls(entries: &[String]) -> anyhow::Result<()> {
    let mut labelled = Vec::with_capacity(entries.len());
    for entry in entries {
        let store = super::label::labelled(entry).map_err(|e| anyhow::anyhow!("--stores: {e}"))?;
        crate::revocation::namespaced(store.url, "check")
            .map_err(|e| anyhow::anyhow!("--stores: {e}"))?;
        labelled.push(store);
    }
    super::label::check_unique(&labelled).map_err(|e| anyhow::anyhow!("--stores: {e}"))
}

/// Fails when no store of a finished run or growth was measured (every one skipped, with the
/// reasons printed as they were skipped): an empty table is not a result.
pub fn ensure_measured(stores: &[crate::results::StoreRecord]) -> anyhow::Result<()> {
    anyhow::ensure!(
        stores.iter().any(|s| s.status == crate::results::StoreStatus::Measured),
        "nothing was measured: every store was skipped (the reasons are above)"
    );
    Ok(())
}

/// `--stores` splits at commas, and so does a `redis-cluster://h:1,h:2/` list of nodes: the
/// pieces that follow a cluster URL (named or not) and name no store are its nodes, put back.
pub fn store_list(pieces: Vec<String>) -> Vec<String> {
    let mut stores: Vec<String> = Vec::new();
    for piece in pieces {
        let url = |entry: &str| super::label::split_name(entry).1.to_string();
        match stores.last_mut() {
            Some(last)
                if url(last).starts_with("redis-cluster://")
                    && crate::revocation::Scheme::of(&url(&piece)).is_err() =>
            {
                last.push(',');
                last.push_str(&piece);
            }
            _ => stores.push(piece),
        }
    }
    stores
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cluster's node list survives `--stores` splitting at commas; other URLs stay apart.
    #[test]
    fn cluster_nodes_are_rejoined() {
        let pieces = "redis://h:1/0,redis-cluster://a:1,b:2,c:3/?prefix=x,memory:,none:"
            .split(',')
            .map(str::to_string)
            .collect();
        assert_eq!(
            store_list(pieces),
            ["redis://h:1/0", "redis-cluster://a:1,b:2,c:3/?prefix=x", "memory:", "none:"]
        );
        let named = "c=redis-cluster://a:1,b:2/,b=redis://h/0".split(',').map(str::to_string);
        assert_eq!(store_list(named.collect()), ["c=redis-cluster://a:1,b:2/", "b=redis://h/0"]);
    }
}
