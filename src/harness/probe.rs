//! Opening the stores a command was asked to measure: each in a namespace of its own
//! ([`crate::revocation::namespaced`]) under its label; the ones that answer are measured, the
//! others recorded as skipped with the reason.

use crate::results::StoreRecord;
use crate::revocation::{ScratchStore, SharedStore};

/// A store that answered, in the measurement's own namespace.
pub struct Target {
    /// The store's label (see [`super::label`]): its name in results.
    pub name: String,
    /// The URL the servers open: the user's URL with the namespace in it.
    pub url: String,
    scratch: ScratchStore,
}

impl Target {
    /// The runner's own handle on the store (to clear it, read its stats, …), which takes no
    /// part in the servers' traffic ([`crate::revocation::open_passive`]).
    pub fn handle(&self) -> &SharedStore {
        &self.scratch.store
    }

    /// Removes the measurement's namespace (table, database, keys), and only that.
    pub async fn remove(self) -> Result<(), crate::revocation::StoreError> {
        self.scratch.remove().await
    }
}

/// Opens every `--stores` entry (`URL` or `name=URL`) in a namespace labelled `label` (`run`,
/// `growth`); returns the stores that answered and a record of every one asked for, each
/// under its store label.
pub async fn probe(entries: &[String], label: &str) -> (Vec<Target>, Vec<StoreRecord>) {
    let mut targets = Vec::new();
    let mut records = Vec::new();
    for entry in entries {
        let (name, url) = match super::label::labelled(entry) {
            Ok(store) => (store.label, store.url),
            Err(e) => {
                records.push(StoreRecord::skipped(entry, entry, e.to_string()));
                continue;
            }
        };
        match ScratchStore::open_passive(url, label).await {
            Ok(scratch) => {
                let version = scratch.store.server_version().await;
                let caveat = scratch.store.server_caveat().await;
                records.push(StoreRecord::measured(&name, &scratch.url, version, caveat));
                targets.push(Target { name, url: scratch.url.clone(), scratch });
            }
            Err(e) => records.push(StoreRecord::skipped(&name, url, e.to_string())),
        }
    }
    (targets, records)
}
