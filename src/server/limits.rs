//! Request size limits, answered with the same JSON errors as every other refusal.
//!
//! Two layers limit header size. hyper refuses a request whose head does not fit its read
//! buffer (about 408 KiB by default) with a bare `431` and closes the connection before any of
//! our code runs; we keep that buffer as it is, because raising it past a megabyte so that
//! such a request could get a JSON 401 would let every connection make the server hold a
//! megabyte of headers. Below that, [`limit_header_bytes`] refuses heads over
//! [`MAX_HEADER_BYTES`] with a JSON `431`, so a client gets a readable reason for all but the
//! grossest requests. Bodies are limited by axum's `DefaultBodyLimit` (see `MAX_BODY_BYTES`).
//!
//! The check is a plain tower layer rather than `axum::middleware::from_fn`, which boxes a
//! future and clones the inner service on every request: measurable on the protected call.

use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::future::{ready, Either, Ready};
use tower::{Layer, Service};

use super::ApiError;

/// Largest total of header names and values accepted. Our tokens are under 4 KiB
/// (`MAX_TOKEN_BYTES`), so a token in both the `Authorization` header and the cookie fits
/// with room for ordinary browser headers; nginx's default (4 × 8 KiB buffers) is similar.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

// A token that is merely too long must reach the token check and get its 401.
const _: () = assert!(crate::token::MAX_TOKEN_BYTES < MAX_HEADER_BYTES);

/// Refuses requests whose headers add up to more than [`MAX_HEADER_BYTES`] with a JSON 431.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeaderLimitLayer;

impl<S> Layer<S> for HeaderLimitLayer {
    type Service = HeaderLimit<S>;

    fn layer(&self, inner: S) -> HeaderLimit<S> {
        HeaderLimit { inner }
    }
}

/// The service [`HeaderLimitLayer`] wraps around the routes.
#[derive(Debug, Clone)]
pub struct HeaderLimit<S> {
    inner: S,
}

impl<S> Service<Request> for HeaderLimit<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let bytes = header_bytes(request.headers());
        if bytes > MAX_HEADER_BYTES {
            let refusal = ApiError::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                format!("request headers are {bytes} bytes; the limit is {MAX_HEADER_BYTES}"),
            );
            return Either::Left(ready(Ok(refusal.into_response())));
        }
        Either::Right(self.inner.call(request))
    }
}

/// Bytes of header names and values, counting `": "` and CRLF as they travel on the wire.
fn header_bytes(headers: &axum::http::HeaderMap) -> usize {
    headers.iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    /// Header size counts names, values and separators.
    #[test]
    fn counts_names_values_and_separators() {
        let mut headers = HeaderMap::new();
        headers.insert("x-a", HeaderValue::from_static("12345"));
        assert_eq!(header_bytes(&headers), 3 + 5 + 4);
    }
}
