//! The per-request check: find the token, verify it, ask the store.

use axum::http::{header, HeaderMap};

use super::{ApiError, AppState};
use crate::revocation::Jti;
use crate::time::now_secs;
use crate::token::{Claims, TokenError};

/// Name of the cookie holding the access token.
pub const COOKIE_NAME: &str = "token";

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
    for value in headers.get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for pair in value.split(';') {
            if let Some((name, token)) = pair.trim().split_once('=') {
                if name == COOKIE_NAME && !token.is_empty() {
                    return Ok(token);
                }
            }
        }
    }
    Err(TokenError::Missing)
}

impl AppState {
    /// Verifies the request's token and checks the store. Fails closed on a store error
    /// unless the server runs with `fail_open`.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Authenticated, ApiError> {
        let token = token_from_headers(headers)?;
        let (claims, jti) = self.keys.verify(token, now_secs())?;
        self.counters.check();
        match self.store.is_revoked(jti).await {
            Ok(false) => Ok(Authenticated { claims, jti }),
            Ok(true) => {
                self.counters.revoked_hit();
                Err(ApiError::unauthorized("token has been revoked"))
            }
            Err(err) => {
                self.counters.store_error();
                if self.config.fail_open {
                    self.counters.fail_open_pass();
                    Ok(Authenticated { claims, jti })
                } else {
                    Err(ApiError::store_unavailable(&err))
                }
            }
        }
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
