//! Handing tokens to a client: the body and cookies that answer a login or a refresh-token
//! rotation, and the cookies a logout expires. Both `/login` and `/refresh` answer the same
//! way, so neither handler depends on the other.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::auth::{COOKIE_NAME, REFRESH_COOKIE};
use super::SharedState;
use crate::revocation::strategies::refresh::access_jti;
use crate::revocation::{Grant, Jti};
use crate::time::UnixSeconds;

#[derive(Debug, Serialize, Deserialize)]
pub struct LoginResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
    /// Set by a refresh-token strategy (`refresh+redis://`): trade it at `POST /refresh`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_expires_in: Option<u64>,
}

/// The access-token cookie (`token`, every path); `max_age` 0 expires it.
pub(super) fn access_cookie(state: &SharedState, value: &str, max_age: u64) -> HeaderValue {
    named_cookie(state, COOKIE_NAME, "/", value, max_age)
}

/// The refresh-token cookie (`refresh_token`, sent back to `/refresh` only); `max_age` 0
/// expires it.
pub(super) fn refresh_cookie(state: &SharedState, value: &str, max_age: u64) -> HeaderValue {
    named_cookie(state, REFRESH_COOKIE, "/refresh", value, max_age)
}

/// `name=value` for `path`, HttpOnly, SameSite=Strict, Secure when configured.
fn named_cookie(
    state: &SharedState,
    name: &str,
    path: &str,
    value: &str,
    max_age: u64,
) -> HeaderValue {
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{name}={value}; Max-Age={max_age}; Path={path}; HttpOnly; SameSite=Strict{secure}"
    );
    HeaderValue::from_str(&cookie).expect("tokens and numbers are valid header text")
}

/// The access token's lifetime: the refresh-token strategy's `access=`, else the server's.
fn access_ttl(state: &SharedState) -> u64 {
    let refresh_ttl = state.store.refresh_tokens().and_then(|r| r.access_ttl());
    refresh_ttl.unwrap_or(state.config.token_ttl).as_secs().max(1)
}

/// The answer to a login or a rotation: a new access token for `sub` (in the body and the
/// `token` cookie) and, with `grant`, its refresh token (body and `refresh_token` cookie, sent
/// back to `/refresh` only).
pub(super) fn issued(
    state: &SharedState,
    sub: &str,
    iat: UnixSeconds,
    grant: Option<Grant>,
) -> Response {
    let ttl = access_ttl(state);
    let jti = grant.as_ref().map_or_else(Jti::random, |g| access_jti(g.family));
    let (token, _) = state.keys.issue_with_jti(sub, iat, ttl, jti);
    let refresh_expires_in = grant.as_ref().map(|g| g.refresh_exp.saturating_sub(iat));
    let refresh_token = grant.map(|g| g.refresh_token);
    let refresh = refresh_token
        .as_deref()
        .zip(refresh_expires_in)
        .map(|(raw, max_age)| refresh_cookie(state, raw, max_age));
    let body = LoginResponse {
        access_token: token.clone(),
        token_type: "Bearer".to_string(),
        expires_in: ttl,
        refresh_token,
        refresh_expires_in,
    };
    let mut response = Json(body).into_response();
    response.headers_mut().append(header::SET_COOKIE, access_cookie(state, &token, ttl));
    if let Some(refresh) = refresh {
        response.headers_mut().append(header::SET_COOKIE, refresh);
    }
    response
}
