//! The per-request check: find the token, verify it, ask the store.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

use super::{ApiError, AppState, SharedState};
use crate::revocation::{Jti, TokenFacts};
use crate::time::now_secs;
use crate::token::{Claims, TokenError};

/// Name of the cookie holding the access token.
pub const COOKIE_NAME: &str = "token";

/// Name of the cookie holding the refresh token (sent to `/refresh` only).
pub const REFRESH_COOKIE: &str = "refresh_token";

/// A caller whose token verified and is not revoked.
#[derive(Debug)]
pub struct Authenticated {
    pub claims: Claims,
    pub jti: Jti,
}

/// The token from `Authorization: Bearer` (preferred) or the `token` cookie.
pub fn token_from_headers(headers: &HeaderMap) -> Result<&str, TokenError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value =
            value.to_str().map_err(|_| TokenError::Invalid("header is not ASCII".into()))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| TokenError::Invalid("Authorization must be `Bearer <token>`".into()))?
            .trim();
        return if token.is_empty() { Err(TokenError::Missing) } else { Ok(token) };
    }
    cookie_value(headers, COOKIE_NAME).ok_or(TokenError::Missing)
}

/// The first non-empty value of the cookie `name`.
pub fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    for value in headers.get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for pair in value.split(';') {
            if let Some((key, token)) = pair.trim().split_once('=') {
                if key == name && !token.is_empty() {
                    return Some(token);
                }
            }
        }
    }
    None
}

impl AppState {
    /// Verifies the request's token and checks the store. Fails closed on a store error
    /// unless the server runs with `fail_open`.
    ///
    /// `exp` is judged twice: before the check (an expired token costs no store call) and
    /// again once the store has answered. Stores forget an entry at `exp`, so a token that
    /// was alive at verification but died while the check was under way (up to the store's
    /// timeout for a network store) may have been forgotten already: judged at an instant
    /// after the store looked, `exp` then refuses it, and no revoked token outlives its entry.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Authenticated, ApiError> {
        let token = token_from_headers(headers)?;
        let (claims, jti) = self.keys.verify(token, now_secs())?;
        self.counters.check();
        if let Some(work) = &self.config.injected_work {
            work.run();
        }
        let facts = TokenFacts { jti, sub: &claims.sub, iat: claims.iat, exp: claims.exp };
        let answer = match self.store.is_refused_now(facts) {
            Some(refused) => Ok(refused),
            None => self.store.is_refused(facts).await,
        };
        if claims.exp <= now_secs() {
            return Err(TokenError::Expired.into());
        }
        match answer {
            Ok(false) => Ok(Authenticated { claims, jti }),
            Ok(true) => {
                self.counters.revoked_hit();
                Err(ApiError::unauthorized("token has been revoked"))
            }
            Err(err) => {
                let refusal = self.store_failed("check", &err);
                if self.config.fail_open {
                    self.counters.fail_open_pass();
                    Ok(Authenticated { claims, jti })
                } else {
                    Err(refusal)
                }
            }
        }
    }
}

/// Handlers take the caller as an argument: the check reads the request's own headers (the
/// `HeaderMap` extractor would copy them all first, on every request).
impl FromRequestParts<SharedState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        state.authenticate(&parts.headers).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    /// A revoked token whose `exp` passes while its check is under way is refused: the store
    /// forgot it at `exp`, but `exp` is judged again after the store answered.
    #[tokio::test]
    async fn exp_passing_during_the_check_is_refused() {
        use std::sync::Arc;
        use std::time::Duration;

        use crate::revocation::{DelayedStore, MemoryStore, SharedStore};
        use crate::server::{AppState, ServerConfig};
        use crate::time::now_millis;
        use crate::token::{Claims, TokenKeys};

        let keys = TokenKeys::hs256(&[9u8; 32]).unwrap();
        let inner: SharedStore = Arc::new(MemoryStore::new());
        // The check lands 1.5 s after verification, past an `exp` at most 1.3 s away.
        let store: SharedStore =
            Arc::new(DelayedStore::new(inner.clone(), Duration::from_millis(1500)));
        let state = AppState::new(store, keys.clone(), ServerConfig::default());
        // The next whole second at least 300 ms away, so verification surely passes.
        let exp = (now_millis() + 300).div_ceil(1000);
        let claims =
            Claims { sub: "eve".into(), jti: Jti::random().to_string(), iat: exp - 10, exp };
        let jti: Jti = claims.jti.parse().unwrap();
        inner.revoke(jti, exp).await.unwrap();
        let token = keys.sign(&claims);
        let headers = headers(&[(header::AUTHORIZATION, &format!("Bearer {token}"))]);

        let refused = state.authenticate(&headers).await.unwrap_err();
        assert_eq!(refused.status, axum::http::StatusCode::UNAUTHORIZED, "{}", refused.message);
        assert_eq!(refused.message, TokenError::Expired.to_string());
        // The store had forgotten it: without the second look the replay would have passed.
        assert!(!inner.is_revoked(jti, exp).await.unwrap(), "the store still held the entry");
    }

    /// Bearer wins over the cookie; the cookie is found among others.
    #[test]
    fn finds_bearer_then_cookie() {
        let both = headers(&[(header::AUTHORIZATION, "Bearer abc"), (header::COOKIE, "token=def")]);
        assert_eq!(token_from_headers(&both), Ok("abc"));
        let cookie = headers(&[(header::COOKIE, "a=1; token=def; b=2")]);
        assert_eq!(token_from_headers(&cookie), Ok("def"));
    }

    /// Missing, empty and non-Bearer credentials are refused.
    #[test]
    fn refuses_missing_or_malformed() {
        assert_eq!(token_from_headers(&HeaderMap::new()), Err(TokenError::Missing));
        assert_eq!(
            token_from_headers(&headers(&[(header::AUTHORIZATION, "Bearer   ")])),
            Err(TokenError::Missing)
        );
        assert!(matches!(
            token_from_headers(&headers(&[(header::AUTHORIZATION, "Basic dXNlcg==")])),
            Err(TokenError::Invalid(_))
        ));
        assert_eq!(
            token_from_headers(&headers(&[(header::COOKIE, "token=")])),
            Err(TokenError::Missing)
        );
    }
}
