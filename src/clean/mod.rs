//! `revbench clean`: finds the namespaces revbench made under a URL's parent namespace —
//! Redis key prefixes `<prefix>revbench:<command>:<when>_<random>:`, PostgreSQL tables and
//! MongoDB databases `revbench_<command>_<when>_<random>` — and removes those older than a
//! bound. A measurement removes its own namespace when it ends; these are what a `kill -9`,
//! the OOM killer or a lost CI runner left. Nothing else is touched: a name revbench did not
//! give does not parse ([`parse_tag`]), so it is never listed.
//!
//! The parent: for Redis the URL's database and its `prefix` (empty when none), so runs
//! given different prefixes each clean only their own; for PostgreSQL the URL's database
//! (its current schema); for MongoDB the URL's database, whose name starts the names of the
//! databases made under it (`<database>_revbench_…`; the server when the URL names none).

pub mod command;

use std::pin::pin;

use futures_util::TryStreamExt;

use crate::redact::redact;
use crate::revocation::backends::{mongo, postgres, redis::scan_prefix};
use crate::revocation::{
    database_parent, parse_tag, pointed_at, Namespacing, RedisStore, Scheme, StoreError,
};

/// One namespace revbench made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    /// The key prefix, table or database.
    pub name: String,
    /// The command that made it (`run`, `growth`, `footprint`, …).
    pub command: String,
    /// When it was made (Unix seconds).
    pub created: u64,
    /// The URL that opens it.
    url: String,
}

/// The namespaces revbench made under `url`'s parent, oldest first.
pub async fn find(url: &str) -> Result<Vec<Namespace>, StoreError> {
    let scheme = Scheme::of(url)?;
    let mut found = match (scheme.name, scheme.namespacing) {
        ("redis", Namespacing::KeyPrefix) => redis_prefixes(url).await?,
        (_, Namespacing::Table) => {
            let tables = postgres::tables_starting(url, "revbench_").await?;
            named(url, tables, |table| table.strip_prefix("revbench_"), '_')?
        }
        (_, Namespacing::Database) => {
            let ours = format!("{}revbench_", database_parent(url)?);
            let databases = mongo::databases_starting(url, &ours).await?;
            named(url, databases, |db| db.strip_prefix(&ours), '_')?
        }
        _ => {
            return Err(StoreError::BadUrl {
                url: redact(url),
                reason: "clean takes a redis://, postgres:// or mongodb:// URL (the server \
                         and parent namespace a run was given)"
                    .to_string(),
            })
        }
    };
    found.sort_by(|a, b| (a.created, &a.name).cmp(&(b.created, &b.name)));
    Ok(found)
}

/// Removes `namespace`: every key under the prefix, the table, or the database.
pub async fn remove(namespace: &Namespace) -> Result<(), StoreError> {
    crate::revocation::open_passive(&namespace.url).await?.destroy().await
}

/// The names that parse as revbench's, with the URL that opens each.
fn named(
    url: &str,
    names: Vec<String>,
    tag: impl Fn(&str) -> Option<&str>,
    separator: char,
) -> Result<Vec<Namespace>, StoreError> {
    let mut found = Vec::new();
    for name in names {
        let Some((command, created)) = tag(&name).and_then(|t| parse_tag(t, separator)) else {
            continue;
        };
        found.push(Namespace { url: pointed_at(url, &name)?, name, command, created });
    }
    Ok(found)
}

/// Distinct `<parent>revbench:<command>:<tag>:` prefixes among the database's keys (one
/// `SCAN` of the database).
async fn redis_prefixes(url: &str) -> Result<Vec<Namespace>, StoreError> {
    let parsed = url::Url::parse(url)
        .map_err(|e| StoreError::BadUrl { url: redact(url), reason: e.to_string() })?;
    let parent = parsed.query_pairs().find(|(k, _)| k == "prefix").map(|(_, v)| v.into_owned());
    let ours = format!("{}revbench:", parent.unwrap_or_default());
    let store = RedisStore::connect(url).await?;
    let mut conn = store.connection();
    let mut prefixes = std::collections::BTreeSet::new();
    let mut batches = pin!(scan_prefix(&mut conn, &ours, "redis"));
    while let Some(keys) = batches.try_next().await? {
        for key in keys {
            // `<command>:<tag>:<rest>` after ours.
            let mut parts = key[ours.len()..].splitn(3, ':');
            if let (Some(command), Some(tag), Some(_)) = (parts.next(), parts.next(), parts.next())
            {
                prefixes.insert(format!("{command}:{tag}"));
            }
        }
    }
    let names = prefixes.into_iter().map(|p| format!("{ours}{p}:")).collect();
    named(url, names, |name| name.strip_prefix(&ours)?.strip_suffix(':'), ':')
}
