//! A store's identity in results: its label. Every reader (summary, report, charts, `compare`,
//! `merge`, `export`) names and matches stores by it, so two URLs are two stores.
//!
//! The default label depends on the URL alone — the scheme's name, then the host, port,
//! database and query parameters that differ from the scheme's default local URL — so one URL
//! gets the same label in every run: `redis://127.0.0.1:6379` is `redis`,
//! `redis://127.0.0.1:6379/9?prefix=other:` is `redis/9?prefix=other:`, `redis://10.0.0.5:6380`
//! is `redis@10.0.0.5:6380`. A password or a secret parameter is never part of it. `name=URL`
//! (a plain name of letters, digits, `-` and `_`, as hyperfine's `--command-name`) sets it.

use crate::redact::{is_secret, redact};
use crate::revocation::{Scheme, StoreError};

/// Longest name `name=URL` accepts.
const MAX_NAME: usize = 40;

/// What a `--stores` entry asks for: a label and the URL to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labelled<'a> {
    pub label: String,
    pub url: &'a str,
}

/// The name `name=URL` gives, and the URL; `None` when the entry is a URL alone (the text
/// before its first `=` is not a plain name, e.g. `redis://h/0?prefix=x`).
pub fn split_name(entry: &str) -> (Option<&str>, &str) {
    match entry.split_once('=') {
        Some((name, url)) if is_plain_name(name) => (Some(name), url),
        _ => (None, entry),
    }
}

fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The entry's label (its name, or the URL's default label) and URL.
pub fn labelled(entry: &str) -> Result<Labelled<'_>, StoreError> {
    match split_name(entry) {
        (Some(name), url) => {
            Scheme::of(url)?;
            Ok(Labelled { label: name.to_string(), url })
        }
        (None, url) => Ok(Labelled { label: default_label(url)?, url }),
    }
}

/// Where a backend listens on every developer machine: what a label leaves out.
struct LocalDefault {
    port: Option<u16>,
    /// Databases that mean "the default one" (no path, or the one the default URL names).
    databases: &'static [&'static str],
}

/// The default local URL of a backend, by the URL scheme after any `strategy+`.
fn local_default(url_scheme: &str) -> LocalDefault {
    match url_scheme {
        // `redis+buckets://` is a Redis layout, not a strategy over `buckets://`.
        "redis" | "rediss" | "buckets" => LocalDefault { port: Some(6379), databases: &["", "0"] },
        "postgres" | "postgresql" => {
            LocalDefault { port: Some(5432), databases: &["", "postgres"] }
        }
        "mongodb" => LocalDefault { port: Some(27017), databases: &[""] },
        // A cluster has no standard address: its first node is always shown.
        _ => LocalDefault { port: None, databases: &[""] },
    }
}

fn is_local(host: &str) -> bool {
    matches!(host, "" | "127.0.0.1" | "localhost" | "[::1]" | "::1")
}

/// The label of `url` when no name is given (see the module docs).
pub fn default_label(url: &str) -> Result<String, StoreError> {
    let scheme = Scheme::of(url)?;
    let mut label = scheme.name.to_string();
    let (url_scheme, rest) = url.split_once(':').unwrap_or((url, ""));
    let url_scheme = url_scheme.rsplit('+').next().unwrap_or(url_scheme);
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    if let Some(after) = before_query.strip_prefix("//") {
        let (authority, path) = after.split_at(after.find('/').unwrap_or(after.len()));
        let hosts = authority.rsplit_once('@').map_or(authority, |(_, hosts)| hosts);
        let default = local_default(url_scheme);
        label.push_str(&hosts_part(hosts, default.port));
        let database = path.trim_matches('/');
        if !default.databases.contains(&database) {
            label.push('/');
            label.push_str(database);
        }
    }
    label.push_str(&query_part(query.unwrap_or("")));
    // A URL the user wrote may hold anything; no secret survives into a label.
    Ok(redact(&label))
}

/// `@host`, `:port`, `@host:port`, or for a list of nodes each of them; empty for the
/// default local address.
fn hosts_part(hosts: &str, default_port: Option<u16>) -> String {
    let nodes: Vec<(&str, Option<&str>)> = hosts.split(',').map(split_port).collect();
    let shown = |(host, port): (&str, Option<&str>)| {
        let port = port.filter(|p| default_port.is_none_or(|d| p.parse() != Ok(d)));
        let host = if is_local(host) { "" } else { host };
        format!("{host}{}", port.map(|p| format!(":{p}")).unwrap_or_default())
    };
    match nodes.as_slice() {
        [(host, port)] if is_local(host) => shown((host, *port)),
        [node] => format!("@{}", shown(*node)),
        nodes => format!("@{}", nodes.iter().map(|n| shown(*n)).collect::<Vec<_>>().join(",")),
    }
}

/// `host:port` → (`host`, `port`); an IPv6 address keeps its brackets.
fn split_port(node: &str) -> (&str, Option<&str>) {
    if node.starts_with('[') {
        return match node.find(']') {
            Some(end) => (&node[..=end], node[end + 1..].strip_prefix(':')),
            None => (node, None),
        };
    }
    match node.rsplit_once(':') {
        Some((host, port)) => (host, Some(port).filter(|p| !p.is_empty())),
        None => (node, None),
    }
}

/// `?k=v&…` of every parameter but secrets, sorted by name (their order does not make
/// another store), values decoded; empty without parameters.
fn query_part(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(key, _)| !is_secret(key))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if pairs.is_empty() {
        return String::new();
    }
    pairs.sort();
    let joined: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("?{}", joined.join("&"))
}

/// Refuses two entries with one label: results would pool their rounds under one row.
pub fn check_unique(entries: &[Labelled]) -> Result<(), String> {
    for (i, a) in entries.iter().enumerate() {
        if let Some(b) = entries[..i].iter().find(|b| b.label == a.label) {
            return Err(format!(
                "`{}` and `{}` would both be labelled `{}`: name them, e.g. a={},b={}",
                redact(b.url),
                redact(a.url),
                a.label,
                redact(b.url),
                redact(a.url)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Defaults are left out; what differs from the local default URL is kept.
    #[test]
    fn default_labels() {
        let cases = [
            ("none:", "none"),
            ("hashmap:", "hashmap"),
            ("memory", "memory"),
            ("redis://127.0.0.1:6379", "redis"),
            ("redis+buckets://127.0.0.1:6379", "redis-buckets"),
            ("redis://localhost:6379/0", "redis"),
            ("redis://127.0.0.1:6379/9", "redis/9"),
            ("redis://127.0.0.1:6379/9?prefix=other:", "redis/9?prefix=other:"),
            ("redis://127.0.0.1:6379/9?prefix=other%3A", "redis/9?prefix=other:"),
            ("redis://10.0.0.5", "redis@10.0.0.5"),
            ("redis://10.0.0.5:6380/2", "redis@10.0.0.5:6380/2"),
            ("redis://127.0.0.1:6380", "redis:6380"),
            ("rediss://u:hunter2@cache.example:6379/1", "redis@cache.example/1"),
            ("hybrid+redis://127.0.0.1:6379", "hybrid"),
            ("refresh+redis://127.0.0.1:6379/3?access=2s", "refresh-redis/3?access=2s"),
            ("postgres://postgres@127.0.0.1:5432/postgres", "postgres"),
            ("postgres://postgres@127.0.0.1:5432/postgres?unlogged=true", "postgres?unlogged=true"),
            ("postgresql://u@db:5432/app?password=hunter2&pool=4", "postgres@db/app?pool=4"),
            ("mongodb://127.0.0.1:27017", "mongodb"),
            ("mongodb://h1:27017,h2:27018/app", "mongodb@h1,h2:27018/app"),
            ("redis-cluster://127.0.0.1:7000,127.0.0.1:7001/", "redis-cluster@:7000,:7001"),
            ("redis://[::1]:6379/4", "redis/4"),
        ];
        for (url, label) in cases {
            assert_eq!(default_label(url).unwrap(), label, "{url}");
        }
        assert!(default_label("memcached://h").is_err());
    }

    /// Query order makes no other store; two URLs that differ get two labels.
    #[test]
    fn one_url_one_label() {
        assert_eq!(
            default_label("redis://h/1?b=2&a=1").unwrap(),
            default_label("redis://h/1?a=1&b=2").unwrap()
        );
        assert_ne!(
            default_label("redis://127.0.0.1:6379/9").unwrap(),
            default_label("redis://127.0.0.1:6379/9?prefix=other:").unwrap()
        );
    }

    /// `name=URL` names a store; a URL whose query holds `=` is not mistaken for one.
    #[test]
    fn names() {
        assert_eq!(split_name("a=redis://h/0"), (Some("a"), "redis://h/0"));
        assert_eq!(split_name("fast_1=none:"), (Some("fast_1"), "none:"));
        assert_eq!(split_name("redis://h/0?prefix=x"), (None, "redis://h/0?prefix=x"));
        assert_eq!(split_name("hashmap:?x=1"), (None, "hashmap:?x=1"));
        assert_eq!(labelled("b=redis://h/0").unwrap().label, "b");
        assert!(labelled("b=memcached://h").is_err());
        let entries =
            ["redis://h/0", "x=redis://h/0", "redis://h:6379/0"].map(|e| labelled(e).unwrap());
        let message = check_unique(&entries).unwrap_err();
        assert!(message.contains("labelled `redis@h`") && message.contains("a=redis"), "{message}");
        assert!(check_unique(&entries[..2]).is_ok());
    }
}
