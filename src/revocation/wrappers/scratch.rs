//! A store opened in a namespace of its own for one measurement, and removed afterwards, so
//! measurements never touch anyone else's keys, tables or documents.

use crate::revocation::{namespaced, open, SharedStore, StoreError};

/// A store in a private namespace ([`namespaced`]): its own Redis key prefix, PostgreSQL table
/// or MongoDB database.
pub struct ScratchStore {
    /// The store, to fill and measure.
    pub store: SharedStore,
    /// The URL actually opened, with the private namespace in it.
    pub url: String,
}

impl ScratchStore {
    /// Opens `url` in a fresh namespace named after `label` (lowercase letters and `_`).
    pub async fn open(url: &str, label: &str) -> Result<Self, StoreError> {
        let url = namespaced(url, label)?;
        Ok(Self { store: open(&url).await?, url })
    }

    /// [`ScratchStore::open`] as a handle that takes no part in the servers' own traffic
    /// ([`crate::revocation::open_passive`]): for the harness, which only clears, fills,
    /// counts and removes the store its servers use.
    pub async fn open_passive(url: &str, label: &str) -> Result<Self, StoreError> {
        let url = namespaced(url, label)?;
        Ok(Self { store: crate::revocation::open_passive(&url).await?, url })
    }

    /// Leaves nothing behind: drops the PostgreSQL table or MongoDB database, deletes the Redis
    /// keys under the prefix, empties an in-process store.
    pub async fn remove(self) -> Result<(), StoreError> {
        self.store.destroy().await
    }
}
