//! Measurement namespaces: every measurement works in a namespace revbench creates for it, and
//! removes only that. A namespace the user's URL names is a *parent*, never used as given:
//! a Redis prefix gets revbench's own prefix appended, a PostgreSQL table is replaced by a
//! fresh one beside it, a MongoDB database by a fresh one (authenticating where the URL said).
//!
//! Every name records what made it and when: `revbench:<label>:<unix seconds>_<random>:` (a
//! Redis prefix), `revbench_<label>_<unix seconds>_<random>` (a table, a database), the
//! label being the command (`run`, `growth`, `footprint`, …). `revbench clean` finds them
//! again by [`parse_tag`] after a run that could not remove its own (a `kill -9`).

use crate::revocation::{Jti, Namespacing, Scheme, StoreError};

/// `url` pointed at a fresh namespace `revbench…<label>…<unix seconds>_<random>` for the
/// stores that share a server; in-process URLs come back unchanged. `label` is lowercase
/// letters and `_`.
pub fn namespaced(url: &str, label: &str) -> Result<String, StoreError> {
    let scheme = Scheme::of(url)?;
    if scheme.namespacing == Namespacing::InProcess {
        return Ok(url.to_string());
    }
    let tag = format!("{}_{}", crate::time::now_secs(), &Jti::random().to_string()[..8]);
    let name = match scheme.namespacing {
        Namespacing::KeyPrefix => {
            let (parsed, _) = parse_lenient(url)?;
            let given =
                parsed.query_pairs().find(|(k, _)| k == "prefix").map(|(_, v)| v.into_owned());
            format!("{}revbench:{label}:{tag}:", given.unwrap_or_default())
        }
        Namespacing::Database => format!("{}revbench_{label}_{tag}", database_parent(url)?),
        _ => format!("revbench_{label}_{tag}"),
    };
    pointed_at(url, &name)
}

/// Longest part of a MongoDB URL's database name kept as its namespaces' parent: with
/// `_revbench_<label>_<unix seconds>_<random>` it stays within MongoDB's 63 characters.
const MAX_DATABASE_PARENT: usize = 24;

/// The start of the names of the databases revbench makes under a MongoDB URL: its database
/// (cut to [`MAX_DATABASE_PARENT`] characters) and `_`, or nothing when it names none; so runs
/// given different databases each find (and `clean`) only their own.
pub fn database_parent(url: &str) -> Result<String, StoreError> {
    let (parsed, _) = parse_lenient(url)?;
    let database = parsed.path().trim_start_matches('/');
    Ok(match database.chars().take(MAX_DATABASE_PARENT).collect::<String>() {
        parent if parent.is_empty() => String::new(),
        parent => format!("{parent}_"),
    })
}

/// `url` pointed at the namespace `name`: the key prefix, the table, or the database (the
/// URL's own database stays the authentication source, as the driver would have used it).
pub fn pointed_at(url: &str, name: &str) -> Result<String, StoreError> {
    let scheme = Scheme::of(url)?;
    let (mut parsed, nodes) = parse_lenient(url)?;
    let given =
        |name: &str| parsed.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    match scheme.namespacing {
        Namespacing::InProcess => return Ok(url.to_string()),
        Namespacing::KeyPrefix => set_param(&mut parsed, "prefix", name),
        Namespacing::Table => set_param(&mut parsed, "table", name),
        Namespacing::Database => {
            // Credentials are checked against a database the URL implies (below) unless
            // `authSource` names one: pin it before the path changes, or the fresh database
            // would become the authentication source.
            if given("authSource").is_none() {
                if let Some(source) = implied_auth_source(&parsed) {
                    parsed.query_pairs_mut().append_pair("authSource", &source);
                }
            }
            parsed.set_path(&format!("/{name}"));
        }
    }
    Ok(match nodes {
        Some(nodes) => parsed.to_string().replacen(PLACEHOLDER_HOST, &nodes, 1),
        None => parsed.to_string(),
    })
}

/// What a namespace's name says: `<label><separator><unix seconds>_<random>` (what follows
/// `revbench:` or `revbench_`) → the label (the command that made it) and when it was made.
/// `None` for a name revbench did not give.
pub fn parse_tag(name: &str, separator: char) -> Option<(String, u64)> {
    let (head, random) = name.rsplit_once('_')?;
    let (label, secs) = head.rsplit_once(separator)?;
    let label_ok = !label.is_empty() && label.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    let random_ok = random.len() == 8 && random.chars().all(|c| c.is_ascii_hexdigit());
    let secs = secs.parse().ok().filter(|_| label_ok && random_ok)?;
    Some((label.to_string(), secs))
}

/// Stands in for an authority the `url` crate cannot parse while the query is edited.
const PLACEHOLDER_HOST: &str = "nodes.revbench.invalid";

/// `url` parsed; a list of nodes (`redis-cluster://h:1,h:2/…`), which the `url` crate refuses,
/// is swapped for a placeholder host and returned to be put back.
fn parse_lenient(url: &str) -> Result<(url::Url, Option<String>), StoreError> {
    let bad = |e: url::ParseError| StoreError::BadUrl {
        url: crate::redact::redact(url),
        reason: e.to_string(),
    };
    let error = match url::Url::parse(url) {
        Ok(parsed) => return Ok((parsed, None)),
        Err(e) => e,
    };
    let Some((scheme, rest)) = url.split_once("://") else { return Err(bad(error)) };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (nodes, tail) = rest.split_at(end);
    if !nodes.contains(',') {
        return Err(bad(error));
    }
    let parsed = url::Url::parse(&format!("{scheme}://{PLACEHOLDER_HOST}{tail}")).map_err(bad)?;
    Ok((parsed, Some(nodes.to_string())))
}

/// The database a MongoDB driver authenticates against when the URL has credentials but no
/// `authSource` (the driver specifications' rule): `$external` for the external mechanisms,
/// else the URL's database, else `admin` (`$external` for PLAIN). `None` without credentials.
fn implied_auth_source(url: &url::Url) -> Option<String> {
    let mechanism = url
        .query_pairs()
        .find(|(k, _)| k.eq_ignore_ascii_case("authMechanism"))
        .map(|(_, v)| v.to_ascii_uppercase());
    if url.username().is_empty() && mechanism.is_none() {
        return None;
    }
    let database = url.path().trim_start_matches('/');
    let database = (!database.is_empty()).then(|| database.to_string());
    Some(match mechanism.as_deref() {
        Some("MONGODB-X509" | "MONGODB-OIDC" | "MONGODB-AWS" | "GSSAPI") => "$external".into(),
        Some("PLAIN") => database.unwrap_or_else(|| "$external".into()),
        _ => database.unwrap_or_else(|| "admin".into()),
    })
}

/// Sets query parameter `name` to `value`, replacing any value it had.
fn set_param(url: &mut url::Url, name: &str, value: &str) {
    let kept: Vec<(String, String)> =
        url.query_pairs().filter(|(k, _)| k != name).map(|(k, v)| (k.into(), v.into())).collect();
    url.query_pairs_mut().clear().extend_pairs(kept).append_pair(name, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(url: &str, name: &str) -> Option<String> {
        url::Url::parse(url).unwrap().query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into())
    }

    /// Shared backends get a fresh namespace each time; in-process URLs are left alone.
    #[test]
    fn fresh_namespaces() {
        let redis = namespaced("redis://127.0.0.1:6379/0", "bench").unwrap();
        assert!(param(&redis, "prefix").unwrap().starts_with("revbench:bench:"), "{redis}");
        assert_ne!(namespaced("redis://127.0.0.1:6379/0", "bench").unwrap(), redis);
        let pg = namespaced("postgres://u@h:5432/db?pool=2", "run").unwrap();
        assert!(param(&pg, "table").unwrap().starts_with("revbench_run_"), "{pg}");
        assert_eq!(param(&pg, "pool").as_deref(), Some("2"));
        let mongo = namespaced("mongodb://h:27017", "growth").unwrap();
        assert!(mongo.contains("/revbench_growth_") && param(&mongo, "authSource").is_none());
        assert_eq!(namespaced("naive:", "bench").unwrap(), "naive:");
        // The name says what made it and when.
        let table = param(&pg, "table").unwrap();
        let (label, made) = parse_tag(table.strip_prefix("revbench_").unwrap(), '_').unwrap();
        assert_eq!(label, "run");
        assert!(made.abs_diff(crate::time::now_secs()) < 5, "{table}");
        let prefix = param(&redis, "prefix").unwrap();
        let tag = prefix.strip_prefix("revbench:").unwrap().trim_end_matches(':');
        assert_eq!(parse_tag(tag, ':').unwrap().0, "bench");
        assert_eq!(parse_tag("run_abc", '_'), None);
        assert_eq!(parse_tag("user_table", '_'), None);
        assert!(namespaced("memcached://x", "bench").is_err());
    }

    /// A Redis Cluster URL (a list of nodes the `url` crate cannot parse) gets a prefix too,
    /// its nodes and credentials kept as written.
    #[test]
    fn cluster_urls_get_a_prefix() {
        let url = "redis-cluster://u:p@127.0.0.1:1,127.0.0.1:2/?prefix=mine%3A";
        let cluster = namespaced(url, "run").unwrap();
        assert!(cluster.starts_with("redis-cluster://u:p@127.0.0.1:1,127.0.0.1:2/?"), "{cluster}");
        let query = cluster.split_once('?').unwrap().1;
        let prefix = url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "prefix");
        assert!(prefix.unwrap().1.starts_with("mine:revbench:run:"), "{cluster}");
        let bare = namespaced("redis-cluster://127.0.0.1:1,127.0.0.1:2", "run").unwrap();
        assert!(bare.starts_with("redis-cluster://127.0.0.1:1,127.0.0.1:2?prefix="), "{bare}");
    }

    /// A namespace the user named is a parent: the prefix is extended, the table and database
    /// are replaced (the database stays the authentication source), and only one of each
    /// parameter is left.
    #[test]
    fn user_namespaces_are_parents() {
        let redis = namespaced("redis://h/7?prefix=mine%3A", "footprint").unwrap();
        let prefix = param(&redis, "prefix").unwrap();
        assert!(prefix.starts_with("mine:revbench:footprint:") && prefix.len() > 30, "{prefix}");
        assert_eq!(redis.matches("prefix=").count(), 1, "{redis}");
        let pg = namespaced("postgres://u@h/db?table=keepme", "footprint").unwrap();
        assert!(!pg.contains("keepme") && pg.matches("table=").count() == 1, "{pg}");
        let mongo = namespaced("mongodb://u:p@h/admin_db", "run").unwrap();
        assert_eq!(param(&mongo, "authSource").as_deref(), Some("admin_db"));
        assert!(!mongo.contains("/admin_db?"), "{mongo}");
        assert!(mongo.contains("/admin_db_revbench_run_"), "the database is a parent: {mongo}");
        let long = namespaced(&format!("mongodb://h/{}", "d".repeat(80)), "footprint").unwrap();
        let database = url::Url::parse(&long).unwrap().path()[1..].to_string();
        assert!(database.len() <= 63 && database.contains("_revbench_footprint_"), "{database}");
        let given = namespaced("mongodb://u:p@h/app?authSource=admin", "run").unwrap();
        assert_eq!(given.matches("authSource").count(), 1, "{given}");
        // Without a database the driver authenticates against `admin`: still so afterwards.
        let admin = namespaced("mongodb://u:p@h", "run").unwrap();
        assert_eq!(param(&admin, "authSource").as_deref(), Some("admin"), "{admin}");
        let x509 = namespaced("mongodb://u@h/app?authMechanism=MONGODB-X509", "run").unwrap();
        assert_eq!(param(&x509, "authSource").as_deref(), Some("$external"), "{x509}");
        let anonymous = namespaced("mongodb://h/app", "run").unwrap();
        assert_eq!(param(&anonymous, "authSource"), None, "{anonymous}");
    }
}
