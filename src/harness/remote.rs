//! `revbench run --target URL[,URL…]`: reference servers already running elsewhere (each a
//! `revbench serve` base URL), measured as replicas of one deployment. Their store is read from
//! `GET /stats`; revbench controls neither their processes nor their store, so it never clears,
//! restarts or cuts them off, and reads no memory or CPU of theirs.

use thiserror::Error;

use crate::redact::redact;
use crate::results::StoreRecord;
use crate::revocation::Capabilities;
use crate::scenario::Scenario;
use crate::server::StatsResponse;

/// Why `--target` cannot be measured (bad input: the run stops before any load).
#[derive(Debug, Error)]
pub enum RemoteError {
    #[error("--target `{url}`: {reason}; give a server's base URL, e.g. http://10.0.0.5:8080")]
    BadUrl { url: String, reason: String },
    #[error("--target {url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("--target {url}: GET /stats did not answer as `revbench serve` does: {reason}")]
    NotRevbench { url: String, reason: String },
    #[error(
        "--target {first_url} serves {first} but {url} serves {other}: all targets must be \
         replicas of one deployment (one store)"
    )]
    Mismatch { first_url: String, first: String, url: String, other: String },
}

/// The servers a run measures with `--target`, and the store they all report.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The store's short name, as `/stats` reports it (`redis`, `hashmap`, …).
    pub store: String,
    pub capabilities: Capabilities,
    /// Base URLs, without a trailing slash, as given (they may hold credentials: show
    /// [`Deployment::shown_urls`] instead).
    pub urls: Vec<String>,
    /// The token their `/stats` requires, if given.
    pub admin_token: Option<String>,
}

/// A server's `GET /stats`, with the admin token it was given (`serve --admin-token`);
/// `store` also has it read the store's size, which may cost a keyspace walk: only outside a
/// measured window.
pub async fn stats(
    http: &reqwest::Client,
    base_url: &str,
    admin_token: Option<&str>,
    store: bool,
) -> reqwest::Result<StatsResponse> {
    let query = if store { "?store=1" } else { "" };
    let mut request = http.get(format!("{base_url}/stats{query}"));
    if let Some(token) = admin_token {
        request = request.bearer_auth(token);
    }
    request.send().await?.error_for_status()?.json().await
}

/// Checks every URL and reads its store from `/stats` (with `admin_token`, the one the
/// servers were started with); all must report the same store.
pub async fn connect(
    http: &reqwest::Client,
    urls: &[String],
    admin_token: Option<&str>,
) -> Result<Deployment, RemoteError> {
    let mut deployment: Option<Deployment> = None;
    for given in urls {
        let url = base_url(given)?;
        let answer = stats(http, &url, admin_token, false).await.map_err(|e| {
            let locked = matches!(e.status().map(|s| s.as_u16()), Some(401 | 404));
            if locked {
                let reason = if admin_token.is_some() {
                    "the server refused the admin token given (--admin-token)"
                } else {
                    "the server requires its admin token: pass --admin-token (or set \
                     REVBENCH_ADMIN_TOKEN) as it was given to `revbench serve`"
                };
                return RemoteError::NotRevbench { url: redact(&url), reason: reason.into() };
            }
            let not_revbench = e.is_decode() || e.is_status();
            let (url, reason) = (redact(&url), redact(&without_url(e)));
            if not_revbench {
                RemoteError::NotRevbench { url, reason }
            } else {
                RemoteError::Unreachable { url, reason }
            }
        })?;
        let described = describe(&answer.store, answer.capabilities);
        match &mut deployment {
            None => {
                deployment = Some(Deployment {
                    store: answer.store,
                    capabilities: answer.capabilities,
                    urls: vec![url],
                    admin_token: admin_token.map(str::to_string),
                })
            }
            Some(first) => {
                if first.store != answer.store || first.capabilities != answer.capabilities {
                    return Err(RemoteError::Mismatch {
                        first_url: redact(&first.urls[0]),
                        first: describe(&first.store, first.capabilities),
                        url: redact(&url),
                        other: described,
                    });
                }
                first.urls.push(url);
            }
        }
    }
    deployment.ok_or_else(|| RemoteError::BadUrl {
        url: String::new(),
        reason: "no URL given".to_string(),
    })
}

/// A base URL the load client can drive: plain `http://host:port` (its HTTP/1.1 client speaks
/// no TLS, and every route is at the root).
fn base_url(given: &str) -> Result<String, RemoteError> {
    let bad = |reason: &str| RemoteError::BadUrl { url: redact(given), reason: reason.to_string() };
    let url = url::Url::parse(given.trim()).map_err(|e| bad(&e.to_string()))?;
    if url.scheme() != "http" {
        return Err(bad("only http:// is supported (the load client speaks plain HTTP/1.1)"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    if url.path() != "/" || url.query().is_some() {
        return Err(bad("a path or query is not supported: every route is at the server's root"));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// reqwest's message without the URL it appends (the caller names the target itself).
fn without_url(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

fn describe(store: &str, capabilities: Capabilities) -> String {
    let shared = if capabilities.shared { "shared" } else { "in-process" };
    format!("`{store}` ({shared})")
}

impl Deployment {
    /// The URLs as results and reports show them: credentials redacted.
    pub fn shown_urls(&self) -> Vec<String> {
        self.urls.iter().map(|u| redact(u)).collect()
    }

    /// The servers a scenario that asks for `replicas` of them is spread over: the first
    /// `replicas` targets (all of them when there are fewer), as a normal run would start
    /// `replicas` servers.
    pub fn servers_for(&self, scenario: &Scenario) -> &[String] {
        &self.urls[..scenario.replicas.min(self.urls.len())]
    }

    /// Why `scenario` cannot be measured on these servers, if it cannot.
    pub fn not_applicable(&self, scenario: &Scenario) -> Option<String> {
        let why = if scenario.restart_then_replay {
            "revbench cannot restart servers it did not start"
        } else if scenario.outage.is_some() {
            "revbench cannot cut off the store of servers it did not start"
        } else if scenario.replays_across_replicas() && self.urls.len() < 2 {
            "replaying on another replica needs two targets or more"
        } else {
            return None;
        };
        Some(format!("{NOT_APPLICABLE}: {why}"))
    }

    /// The store as the results list it.
    pub fn record(&self) -> StoreRecord {
        StoreRecord::measured(&self.store, &self.shown_urls().join(","), None, None)
            .with_scheme(&self.store)
    }
}

/// How a scenario that needs process control is marked with `--target`.
pub const NOT_APPLICABLE: &str = "not applicable with --target";

#[cfg(test)]
mod tests {
    use super::*;

    /// Base URLs lose a trailing slash; TLS, paths and other schemes are refused by name.
    #[test]
    fn base_urls() {
        assert_eq!(base_url("http://10.0.0.5:8080/").unwrap(), "http://10.0.0.5:8080");
        assert_eq!(base_url("http://u:pw@h:1").unwrap(), "http://u:pw@h:1");
        for (bad, why) in [
            ("https://h:1", "only http://"),
            ("http://h:1/api", "path"),
            ("h:1", "only http://"),
            ("nonsense", "relative URL"),
        ] {
            let message = base_url(bad).unwrap_err().to_string();
            assert!(message.contains(why) && message.contains("base URL"), "{bad}: {message}");
        }
        let message = base_url("https://u:secret@h:1").unwrap_err().to_string();
        assert!(!message.contains("secret"), "{message}");
    }

    /// Restart and outage scenarios are not applicable; cross-replica replays need two targets.
    #[test]
    fn what_is_not_applicable() {
        let deployment = |n: usize| Deployment {
            store: "redis".into(),
            capabilities: Capabilities { remembers: true, expires: true, shared: true },
            urls: (0..n).map(|i| format!("http://h:{i}")).collect(),
            admin_token: None,
        };
        let scenario = |name: &str| Scenario::load(name).unwrap();
        for name in ["restart", "store-outage", "outage-replicas"] {
            let why = deployment(3).not_applicable(&scenario(name)).unwrap();
            assert!(why.starts_with(NOT_APPLICABLE), "{name}: {why}");
        }
        assert!(deployment(1).not_applicable(&scenario("replicas")).is_some());
        assert!(deployment(2).not_applicable(&scenario("replicas")).is_none());
        assert!(deployment(1).not_applicable(&scenario("logout-replay")).is_none());
        assert_eq!(deployment(2).servers_for(&scenario("logout-replay")).len(), 1);
        assert_eq!(deployment(2).servers_for(&scenario("replicas")).len(), 2);
    }
}
