//! Query parameters revbench reads from a store URL before handing the rest to the driver.

use url::Url;

use super::StoreError;
use crate::redact::redact;

/// A parsed store URL from which revbench's own parameters can be taken out.
pub(crate) struct StoreUrl {
    url: Url,
    original: String,
}

impl StoreUrl {
    pub(crate) fn parse(original: &str) -> Result<Self, StoreError> {
        let url = Url::parse(original)
            .map_err(|e| StoreError::BadUrl { url: redact(original), reason: e.to_string() })?;
        Ok(Self { url, original: redact(original) })
    }

    /// Removes `name` from the query and returns its value.
    pub(crate) fn take(&mut self, name: &str) -> Option<String> {
        let mut found = None;
        let kept: Vec<(String, String)> = self
            .url
            .query_pairs()
            .filter_map(|(k, v)| {
                if k == name {
                    found = Some(v.into_owned());
                    None
                } else {
                    Some((k.into_owned(), v.into_owned()))
                }
            })
            .collect();
        if kept.is_empty() {
            self.url.set_query(None);
        } else {
            self.url.query_pairs_mut().clear().extend_pairs(kept);
        }
        found
    }

    /// Takes `name` and parses it, naming the parameter in the error.
    pub(crate) fn take_parsed<T: std::str::FromStr>(
        &mut self,
        name: &str,
        expected: &str,
    ) -> Result<Option<T>, StoreError> {
        match self.take(name) {
            None => Ok(None),
            Some(raw) => raw
                .parse()
                .map(Some)
                .map_err(|_| self.bad(format!("parameter `{name}={raw}` is not {expected}"))),
        }
    }

    /// A `BadUrl` error for this URL.
    pub(crate) fn bad(&self, reason: String) -> StoreError {
        StoreError::BadUrl { url: self.original.clone(), reason }
    }

    /// The URL the user gave, password replaced by `****`, for error messages.
    pub(crate) fn original(&self) -> &str {
        &self.original
    }

    /// The URL without revbench's parameters, for the driver.
    pub(crate) fn for_driver(&self) -> &Url {
        &self.url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Our parameters are taken out and the driver's are kept.
    #[test]
    fn takes_only_named_parameters() {
        let mut url =
            StoreUrl::parse("redis://127.0.0.1:6379/2?prefix=a%3Ab&protocol=resp3").unwrap();
        assert_eq!(url.take("prefix").as_deref(), Some("a:b"));
        assert_eq!(url.for_driver().as_str(), "redis://127.0.0.1:6379/2?protocol=resp3");
        assert_eq!(url.take("prefix"), None);
        let mut url = StoreUrl::parse("postgres://u@h/db?pool=x").unwrap();
        let err = url.take_parsed::<usize>("pool", "a whole number").unwrap_err();
        assert!(err.to_string().contains("pool=x"), "{err}");
        assert_eq!(url.for_driver().as_str(), "postgres://u@h/db");
    }

    /// The user's URL is kept redacted for messages; the driver still gets the password.
    #[test]
    fn passwords_stay_out_of_messages() {
        let mut url = StoreUrl::parse("rediss://u:hunter2@h:1/0?pool=x").unwrap();
        assert_eq!(url.original(), "rediss://u:****@h:1/0?pool=x");
        assert!(!url.bad("x".into()).to_string().contains("hunter2"));
        assert_eq!(url.for_driver().password(), Some("hunter2"));
        let _ = url.take("pool");
    }
}
