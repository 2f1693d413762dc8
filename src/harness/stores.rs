//! The store URLs `run` and `growth` are given: `--stores` (or `REVBENCH_STORES`) split into
//! URLs, refused before anything runs when one names no store, and a run that measured none
//! of them is an error.

/// Where `run` and `growth` also read `--stores` from.
pub const STORES_ENV: &str = "REVBENCH_STORES";

/// Refuses, before anything runs, a store URL named by the user that names no store or does not
/// parse: a typo is a mistake to fix, not a store to skip. (Stores that do not answer are
/// skipped with the reason, and `run` fails when nothing at all was measured.)
pub fn check_store_urls(urls: &[String]) -> anyhow::Result<()> {
    for url in urls {
        crate::revocation::namespaced(url, "check")
            .map_err(|e| anyhow::anyhow!("--stores: {e}"))?;
    }
    Ok(())
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
/// pieces that follow a cluster URL and name no store are its nodes, put back.
pub fn store_list(pieces: Vec<String>) -> Vec<String> {
    let mut stores: Vec<String> = Vec::new();
    for piece in pieces {
        match stores.last_mut() {
            Some(last)
                if last.starts_with("redis-cluster://")
                    && crate::revocation::Scheme::of(&piece).is_err() =>
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
    }
}
