//! Secrets out of everything revbench shows or stores: the one place a store URL's password
//! becomes `****` (`redis://user:****@host/0`).
//!
//! Every URL that reaches a terminal, an error, `results.json` or a report goes through
//! [`redact`]. It works on any text, so an error message that quotes a URL is covered too.

/// What a secret is replaced with.
pub const MASK: &str = "****";

/// Query parameters whose values are secrets (matched case-insensitively, as substrings):
/// libpq's `password`, MongoDB's `authMechanismProperties` (AWS session tokens) and
/// `tlsCertificateKeyFilePassword`, and anything named like a secret or token.
const SECRET_PARAMS: &[&str] = &["password", "secret", "token", "authmechanismproperties"];

/// `text` with the password of every `scheme://user:password@host` in it replaced by
/// [`MASK`], and the values of secret query parameters too. Text without URLs is unchanged.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        // A URL ends where prose or quoting starts; these never appear unencoded inside one.
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '`' | '"' | '\'' | '<' | '>'))
            .unwrap_or(after.len());
        let (url, tail) = after.split_at(end);
        redact_after_scheme(url, &mut out);
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// `user:password@host:port/path?query#fragment`, redacted into `out`.
fn redact_after_scheme(url: &str, out: &mut String) {
    let authority_end = url.find(['/', '?', '#']).unwrap_or(url.len());
    let (authority, rest) = url.split_at(authority_end);
    match authority.rfind('@').map(|at| authority.split_at(at)) {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => {
                out.push_str(user);
                out.push(':');
                out.push_str(MASK);
                out.push_str(host);
            }
            None => out.push_str(authority),
        },
        None => out.push_str(authority),
    }
    let (before_query, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    out.push_str(before_query);
    let Some(query) = query else { return };
    let (query, fragment) = match query.split_once('#') {
        Some((query, fragment)) => (query, Some(fragment)),
        None => (query, None),
    };
    out.push('?');
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((key, _value)) if is_secret(key) => {
                out.push_str(key);
                out.push('=');
                out.push_str(MASK);
            }
            _ => out.push_str(pair),
        }
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
}

/// Whether a query parameter named `key` holds a secret (see [`SECRET_PARAMS`]).
pub fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_PARAMS.iter().any(|secret| key.contains(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Passwords and secret parameters are masked; users, hosts, paths and other parameters
    /// are kept; text without a URL is unchanged.
    #[test]
    fn masks_passwords_only() {
        let cases = [
            (
                "redis://user:hunter2@127.0.0.1:6379/7?prefix=a",
                "redis://user:****@127.0.0.1:6379/7?prefix=a",
            ),
            ("redis://:hunter2@h:6379", "redis://:****@h:6379"),
            ("postgres://postgres@h:5432/db?table=t", "postgres://postgres@h:5432/db?table=t"),
            ("postgres://u@h/db?password=hunter2&pool=2", "postgres://u@h/db?password=****&pool=2"),
            (
                "mongodb://u:p%40ss@h1,h2/db?authMechanismProperties=AWS_SESSION_TOKEN:x#f",
                "mongodb://u:****@h1,h2/db?authMechanismProperties=****#f",
            ),
            ("redis://u:pa:ss@h", "redis://u:****@h"),
            (
                "redis-cluster://bob:hunter2@h:1,h:2/?prefix=x",
                "redis-cluster://bob:****@h:1,h:2/?prefix=x",
            ),
            ("redis://h:1/0?a=b@c", "redis://h:1/0?a=b@c"),
            ("memory:", "memory:"),
            ("no url here: just text", "no url here: just text"),
        ];
        for (given, expected) in cases {
            assert_eq!(redact(given), expected, "{given}");
        }
    }

    /// URLs inside messages are found, however they are quoted or followed.
    #[test]
    fn finds_urls_in_messages() {
        let message = "bad store URL `redis://u:hunter2@h/0`: x; cannot reach postgres at \
                       postgres://u:hunter2@h:5432: refused (\"mongodb://a:hunter2@m\")";
        let redacted = redact(message);
        assert!(!redacted.contains("hunter2"), "{redacted}");
        assert_eq!(redacted.matches("****").count(), 3, "{redacted}");
        assert!(redacted.contains("`redis://u:****@h/0`: x"), "{redacted}");
        assert!(redacted.contains("postgres://u:****@h:5432: refused"), "{redacted}");
    }

    /// Redacting twice changes nothing more; non-ASCII text passes through.
    #[test]
    fn idempotent_and_unicode_safe() {
        let once = redact("é redis://ü:ß@h/0 ✓");
        assert_eq!(once, "é redis://ü:****@h/0 ✓");
        assert_eq!(redact(&once), once);
    }
}
