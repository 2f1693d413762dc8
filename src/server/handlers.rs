//! One function per route.

use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::{Deserialize, Serialize};

use super::auth::Authenticated;
use super::issue::{access_cookie, issued, refresh_cookie};
use super::{ApiError, CountersSnapshot, SharedState};
use crate::revocation::{Capabilities, StoreStats, TokenFacts};
use crate::time::now_secs;
use crate::token::fingerprint;

/// Longest username accepted at `/login`.
pub const MAX_USERNAME_BYTES: usize = 256;

#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    pub username: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct MeResponse {
    pub sub: String,
    pub jti: String,
}

#[derive(Debug, Deserialize)]
pub struct RevokeRequest {
    pub token: Option<String>,
}

/// The body of `GET /stats`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatsResponse {
    pub store: String,
    /// The server process's id, random at start (absent from older servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    pub capabilities: Capabilities,
    #[serde(flatten)]
    pub stats: StoreStats,
    /// Set when the store could not report its size: a category (`store stats unavailable`),
    /// never the backend's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats_error: Option<String>,
    #[serde(flatten)]
    pub counters: CountersSnapshot,
    /// Revocations that returned before every replica acknowledged them, for a store that
    /// pushes revocations to its replicas (`hybrid+redis`); absent for the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_timeouts: Option<u64>,
    /// Revocations that failed because the store's queue for its backend was full, for a
    /// store that queues writes while its backend is away (`hybrid+redis`); absent for the
    /// others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_overflows: Option<u64>,
    /// Checks answered from a local filter and checks asked of the shared store, for a store
    /// with a filter in front of one (`filter+redis`); absent for the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_answers: Option<crate::revocation::CheckAnswers>,
    /// What the waits of `--inject-latency` delivered (count, total, percentiles); absent
    /// without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injected_delay: Option<crate::injected_delay::DelayCounts>,
    /// The CPU work `--inject-work` added to every check so far; absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injected_work: Option<crate::injected_work::WorkCounts>,
}

pub async fn login(
    State(state): State<SharedState>,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) =
        body.map_err(|e| super::deadline::body_rejection(e.status(), e.body_text(), &e))?;
    let username = request.username.trim();
    if username.is_empty() || username.len() > MAX_USERNAME_BYTES {
        return Err(ApiError::bad_request(format!(
            "username must be 1 to {MAX_USERNAME_BYTES} bytes"
        )));
    }
    // A per-user cut-off may stamp a later `iat` so its own cut-off does not refuse the token.
    let iat = state
        .store
        .issue_at(username, now_secs())
        .await
        .map_err(|e| state.store_failed("login", &e))?;
    // A refresh-token strategy starts a family (fails closed: no refresh token, no login).
    let grant = match state.store.refresh_tokens() {
        Some(refresh) => {
            let grant =
                refresh.start(username, iat).await.map_err(|e| state.store_failed("login", &e))?;
            state.counters.store_writes(grant.writes);
            Some(grant)
        }
        None => None,
    };
    Ok(issued(&state, username, iat, grant))
}

pub async fn me(caller: Authenticated) -> Json<MeResponse> {
    Json(MeResponse { sub: caller.claims.sub, jti: caller.claims.jti })
}

pub async fn logout(
    State(state): State<SharedState>,
    caller: Authenticated,
) -> Result<Response, ApiError> {
    let claims = &caller.claims;
    let facts = TokenFacts { jti: caller.jti, sub: &claims.sub, iat: claims.iat, exp: claims.exp };
    state.store.log_out(facts).await.map_err(|e| state.store_failed("logout", &e))?;
    state.counters.store_writes(state.logout_writes);
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().append(header::SET_COOKIE, access_cookie(&state, "", 0));
    if state.store.refresh_tokens().is_some() {
        response.headers_mut().append(header::SET_COOKIE, refresh_cookie(&state, "", 0));
    }
    Ok(response)
}

/// RFC 7009 §2.2: an invalid or expired token is answered 200 too (there is nothing to revoke,
/// and the answer must not tell an attacker which tokens are valid).
pub async fn revoke(
    State(state): State<SharedState>,
    form: Result<Form<RevokeRequest>, FormRejection>,
) -> Result<StatusCode, ApiError> {
    let Form(request) =
        form.map_err(|e| super::deadline::body_rejection(e.status(), e.body_text(), &e))?;
    let token = request
        .token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::bad_request("form field `token` is required"))?;
    let Ok((claims, jti)) = state.keys.verify(&token, now_secs()) else {
        // Any client can send these: counted, and logged a few a second at most.
        state.counters.invalid_revoke_token();
        state.logs.invalid_revoke_tokens.log(|| {
            format!("revoke: ignored an invalid token (fingerprint {})", fingerprint(&token))
        });
        return Ok(StatusCode::OK);
    };
    let facts = TokenFacts { jti, sub: &claims.sub, iat: claims.iat, exp: claims.exp };
    state.store.log_out(facts).await.map_err(|e| state.store_failed("revoke", &e))?;
    state.counters.store_writes(state.logout_writes);
    Ok(StatusCode::OK)
}

pub async fn healthz(State(state): State<SharedState>) -> Response {
    match state.store.health().await {
        Ok(()) => {
            Json(serde_json::json!({ "status": "ok", "store": state.store.name() })).into_response()
        }
        Err(e) => {
            state.logs.store_errors.log(|| format!("healthz: {e}"));
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({
                    "status": "unavailable",
                    "store": state.store.name(),
                    "error": super::error::STORE_UNAVAILABLE,
                })),
            )
                .into_response()
        }
    }
}

/// `GET /stats[?store=1]`: see [`super::admin`].
pub async fn stats(
    State(state): State<SharedState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Json<StatsResponse>, ApiError> {
    let Some(token) = &state.config.admin_token else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "no such route"));
    };
    if !token.presented_in(&headers) {
        return Err(ApiError::unauthorized("/stats needs the admin token"));
    }
    let reading = if asks_for_store(&uri) {
        let logs = &state.logs;
        let log = |e: String| {
            logs.stats_errors.log(|| format!("stats: {e}"));
        };
        // An in-process store's size costs no walk: read every time.
        let in_process = crate::revocation::Scheme::named(state.store.name())
            .is_some_and(|s| s.namespacing == crate::revocation::Namespacing::InProcess);
        Some(state.store_stats.fresh(&state.store, !in_process, log).await)
    } else {
        state.store_stats.last()
    };
    let (stats, failed) = reading.unwrap_or_default();
    let stats_error = failed.then(|| super::admin::STATS_UNAVAILABLE.to_string());
    let counters = state.counters.snapshot();
    Ok(Json(StatsResponse {
        store: state.store.name().to_string(),
        instance: Some(state.instance.clone()),
        capabilities: state.store.capabilities(),
        stats,
        stats_error,
        counters,
        sync_timeouts: state.store.sync_timeouts(),
        queue_overflows: state.store.queue_overflows(),
        check_answers: state.store.check_answers(),
        injected_delay: state.store.injected_delay(),
        injected_work: state.config.injected_work.map(|work| work.counts(counters.checks)),
    }))
}

/// Whether a `/stats` request asks for the store's size: a `store` parameter, any value.
fn asks_for_store(uri: &Uri) -> bool {
    let mut params = uri.query().unwrap_or("").split('&');
    params.any(|p| p == "store" || p.starts_with("store="))
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such route")
}
