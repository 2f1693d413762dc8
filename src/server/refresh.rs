//! `POST /refresh`: trades a refresh token for a new access token and a new refresh token
//! (refresh-token strategies only; see `revocation::strategies::refresh` for the contract).
//!
//! The token comes from the JSON body `{"refresh_token": "…"}` or, without a body, from the
//! `refresh_token` cookie that `/login` set (path `/refresh`). Answers: 200 with the same body
//! as `/login`; 401 for an unknown, expired or revoked token, and for a reused one (whose family
//! is revoked by it); 400 for a malformed request or a strategy without refresh tokens; 503
//! when the store cannot answer (fail closed).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::auth::{cookie_value, REFRESH_COOKIE};
use super::issue::issued;
use super::{ApiError, SharedState};
use crate::revocation::Rotation;
use crate::time::now_secs;

/// Longest refresh token looked at (ours are 64 hex digits).
const MAX_REFRESH_TOKEN_BYTES: usize = 128;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// The refresh token from the body, or from the cookie when the body is empty.
fn presented(headers: &HeaderMap, body: &Bytes) -> Result<String, ApiError> {
    let token = if body.is_empty() {
        cookie_value(headers, REFRESH_COOKIE)
            .ok_or_else(|| {
                ApiError::bad_request("send {\"refresh_token\": \"…\"} or the refresh_token cookie")
            })?
            .to_string()
    } else {
        let request: RefreshRequest = serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!("body must be {{\"refresh_token\": \"…\"}} ({e})"))
        })?;
        request.refresh_token
    };
    if token.is_empty() || token.len() > MAX_REFRESH_TOKEN_BYTES {
        return Err(ApiError::unauthorized("refresh token is not valid"));
    }
    Ok(token)
}

pub async fn refresh(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| super::deadline::body_rejection(e.status(), e.body_text(), &e))?;
    let Some(tokens) = state.store.refresh_tokens() else {
        return Err(ApiError::bad_request(
            "this server's strategy issues no refresh tokens (use --store refresh+redis://…)",
        ));
    };
    let raw = presented(&headers, &body)?;
    let now = now_secs();
    match tokens.rotate(&raw, now).await.map_err(|e| state.store_failed("refresh", &e))? {
        Rotation::Rotated { sub, grant } => {
            state.counters.refreshed();
            state.counters.refresh_writes(grant.writes);
            Ok(issued(&state, &sub, now, Some(grant)))
        }
        Rotation::Refused => Err(ApiError::unauthorized("refresh token is not valid")),
        Rotation::Reused { writes } => {
            state.counters.refresh_reused();
            state.counters.refresh_writes(writes);
            Err(ApiError::unauthorized(
                "refresh token was already used: every token of its login is revoked",
            ))
        }
    }
}
