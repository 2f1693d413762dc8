//! Opening the stores a command was asked to measure: each in a namespace of its own
//! ([`crate::revocation::namespaced`]); the ones that answer are measured, the others recorded
//! as skipped with the reason.

use crate::results::StoreRecord;
use crate::revocation::{ScratchStore, SharedStore};

/// A store that answered, in the measurement's own namespace.
pub struct Target {
    /// The store's short name.
    pub name: String,
    /// The URL the servers open: the user's URL with the namespace in it.
    pub url: String,
    scratch: ScratchStore,
}

impl Target {
    /// The runner's own handle on the store (to clear it, read its stats, …).
    pub fn handle(&self) -> &SharedStore {
        &self.scratch.store
    }

    /// Removes the measurement's namespace (table, database, keys), and only that.
    pub async fn remove(self) -> Result<(), crate::revocation::StoreError> {
        self.scratch.remove().await
    }
}

/// Opens every URL in a namespace labelled `label` (`run`, `growth`); returns the stores that
/// answered and a record of every one asked for.
pub async fn probe(urls: &[String], label: &str) -> (Vec<Target>, Vec<StoreRecord>) {
    let mut targets = Vec::new();
    let mut records = Vec::new();
    for url in urls {
        match ScratchStore::open(url, label).await {
            Ok(scratch) => {
                let name = scratch.store.name().to_string();
                let version = scratch.store.server_version().await;
                let caveat = scratch.store.server_caveat().await;
                records.push(StoreRecord::measured(&name, &scratch.url, version, caveat));
                targets.push(Target { name, url: scratch.url.clone(), scratch });
            }
            Err(e) => records.push(StoreRecord::skipped(url, e.to_string())),
        }
    }
    (targets, records)
}
