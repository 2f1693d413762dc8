//! A store opened in a namespace of its own for one measurement, and removed afterwards, so
//! benchmarks and `revbench footprint` never touch anyone else's keys, tables or documents.

use std::sync::Arc;

use super::{open, Jti, PostgresStore, Scheme, SharedStore, StoreError};

/// A store in a private namespace: its own Redis key prefix, PostgreSQL table or MongoDB
/// database (unless the URL already names one, which is then used as given).
pub struct ScratchStore {
    /// The store, to fill and measure.
    pub store: SharedStore,
    /// The URL actually opened, with the private namespace in it.
    pub url: String,
    // Kept typed so `remove` can drop the table rather than only empty it.
    postgres: Option<Arc<PostgresStore>>,
}

impl ScratchStore {
    /// Opens `url` in a fresh namespace named after `label` (lowercase letters and `_`).
    pub async fn open(url: &str, label: &str) -> Result<Self, StoreError> {
        let scheme = url.parse::<Scheme>()?;
        let url = private_url(url, scheme, label);
        if scheme == Scheme::Postgres {
            let postgres = PostgresStore::connect(&url).await?;
            let store: SharedStore = postgres.clone();
            return Ok(Self { store, url, postgres: Some(postgres) });
        }
        Ok(Self { store: open(&url).await?, url, postgres: None })
    }

    /// Leaves nothing behind: drops the PostgreSQL table, deletes the Redis keys under the
    /// prefix or the MongoDB documents, empties an in-process store.
    pub async fn remove(self) -> Result<(), StoreError> {
        match self.postgres {
            Some(postgres) => postgres.drop_table().await,
            None => self.store.clear().await,
        }
    }
}

/// `url` with a private namespace added for the backends that share a server.
fn private_url(url: &str, scheme: Scheme, label: &str) -> String {
    let tag = &Jti::random().to_string()[..10];
    let Ok(mut parsed) = url::Url::parse(url) else { return url.to_string() };
    let has = |name: &str| parsed.query_pairs().any(|(k, _)| k == name);
    match scheme {
        Scheme::Redis if !has("prefix") => {
            parsed.query_pairs_mut().append_pair("prefix", &format!("revbench:{label}:{tag}:"));
        }
        Scheme::Postgres if !has("table") => {
            parsed.query_pairs_mut().append_pair("table", &format!("revbench_{label}_{tag}"));
        }
        Scheme::Mongo if matches!(parsed.path(), "" | "/") => {
            parsed.set_path(&format!("/revbench_{label}_{tag}"));
        }
        _ => return url.to_string(),
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shared backends get a fresh namespace; one the URL already names is kept.
    #[test]
    fn namespaces_are_private_unless_given() {
        let redis = private_url("redis://127.0.0.1:6379/0", Scheme::Redis, "bench");
        assert!(redis.contains("prefix=revbench%3Abench%3A"), "{redis}");
        let pg = private_url("postgres://u@h:5432/db", Scheme::Postgres, "bench");
        assert!(pg.contains("table=revbench_bench_"), "{pg}");
        let mongo = private_url("mongodb://h:27017", Scheme::Mongo, "bench");
        assert!(mongo.contains("/revbench_bench_"), "{mongo}");
        let given = "redis://h/0?prefix=mine%3A";
        assert_eq!(private_url(given, Scheme::Redis, "bench"), given);
        assert_eq!(private_url("naive:", Scheme::Naive, "bench"), "naive:");
        assert_ne!(private_url("redis://127.0.0.1:6379/0", Scheme::Redis, "bench"), redis);
    }
}
