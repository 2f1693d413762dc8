//! The one line `revbench serve` prints when it is ready, and the one parser of it: how
//! `revbench run`, `revbench growth` and scripts learn a server's address and what it holds.
//!
//! `listening on http://127.0.0.1:PORT store=memory fail_open=false[ prefilled=N fill_ms=MS
//! rss_before_fill=BYTES rss_after_fill=BYTES]`

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

/// What a server says when it starts listening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listening {
    pub addr: SocketAddr,
    /// The store's short name.
    pub store: String,
    pub fail_open: bool,
    /// Set after `serve --prefill N`.
    pub prefill: Option<PrefillFacts>,
}

/// What filling the store before listening took (`serve --prefill N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefillFacts {
    pub entries: u64,
    pub fill_ms: u64,
    /// The server's resident memory before and after the fill (`None` where unreadable).
    pub rss_before_fill: Option<u64>,
    pub rss_after_fill: Option<u64>,
}

impl Listening {
    /// `http://ADDR`, the base of every route.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// The line did not have the form above.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a `listening on http://… store=… fail_open=…` line: `{0}`")]
pub struct NotListening(pub String);

impl fmt::Display for Listening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "listening on {} store={} fail_open={}",
            self.base_url(),
            self.store,
            self.fail_open
        )?;
        if let Some(p) = &self.prefill {
            let bytes = |b: Option<u64>| b.map_or("unknown".to_string(), |b| b.to_string());
            write!(
                f,
                " prefilled={} fill_ms={} rss_before_fill={} rss_after_fill={}",
                p.entries,
                p.fill_ms,
                bytes(p.rss_before_fill),
                bytes(p.rss_after_fill)
            )?;
        }
        Ok(())
    }
}

impl FromStr for Listening {
    type Err = NotListening;

    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let bad = || NotListening(line.to_string());
        let mut words = line.trim_end().strip_prefix("listening on ").ok_or_else(bad)?.split(' ');
        let addr = words.next().and_then(|u| u.strip_prefix("http://")).ok_or_else(bad)?;
        let addr: SocketAddr = addr.parse().map_err(|_| bad())?;
        let fields: Vec<(&str, &str)> = words.filter_map(|w| w.split_once('=')).collect();
        let field = |name: &str| fields.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        let number = |name: &str| field(name).and_then(|v| v.parse::<u64>().ok());
        let prefill = match number("prefilled") {
            Some(entries) => Some(PrefillFacts {
                entries,
                fill_ms: number("fill_ms").ok_or_else(bad)?,
                rss_before_fill: number("rss_before_fill"),
                rss_after_fill: number("rss_after_fill"),
            }),
            None => None,
        };
        Ok(Listening {
            addr,
            store: field("store").ok_or_else(bad)?.to_string(),
            fail_open: field("fail_open").ok_or_else(bad)?.parse().map_err(|_| bad())?,
            prefill,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What is printed parses back to the same value, with and without prefill facts.
    #[test]
    fn round_trips() {
        let mut listening = Listening {
            addr: "127.0.0.1:4321".parse().unwrap(),
            store: "memory".into(),
            fail_open: false,
            prefill: None,
        };
        let line = listening.to_string();
        assert_eq!(line, "listening on http://127.0.0.1:4321 store=memory fail_open=false");
        assert_eq!(line.parse::<Listening>().unwrap(), listening);
        listening.prefill = Some(PrefillFacts {
            entries: 1000,
            fill_ms: 812,
            rss_before_fill: Some(4096),
            rss_after_fill: None,
        });
        let line = listening.to_string();
        assert!(line.ends_with("rss_after_fill=unknown"), "{line}");
        assert_eq!(line.parse::<Listening>().unwrap(), listening);
        assert_eq!(listening.base_url(), "http://127.0.0.1:4321");
    }

    /// Anything else is refused with the line in the error.
    #[test]
    fn refuses_other_lines() {
        for line in [
            "error: cannot reach redis",
            "listening on ftp://x store=a fail_open=false",
            "listening on http://127.0.0.1:1 fail_open=false",
            "listening on http://127.0.0.1:1 store=a fail_open=maybe",
        ] {
            assert!(line.parse::<Listening>().unwrap_err().to_string().contains(line));
        }
    }
}
