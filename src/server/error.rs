//! Every error response is JSON: `{"error": "<what went wrong>"}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::token::TokenError;

/// The whole body of a 503 for a store failure.
pub const STORE_UNAVAILABLE: &str = "revocation store unavailable";

/// An error a handler returns; its status and message become the response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// The store could not answer: 503, so the caller retries instead of being let in. The
    /// body names no detail (the backend's message may describe its address or its data);
    /// [`AppState::store_failed`](super::AppState::store_failed) logs it.
    pub fn store_unavailable() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, STORE_UNAVAILABLE)
    }
}

impl From<TokenError> for ApiError {
    fn from(err: TokenError) -> Self {
        Self::unauthorized(err.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, Json(serde_json::json!({ "error": self.message }))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
