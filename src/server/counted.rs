//! Counts the requests the server answers on its API routes, so a measurement can check its
//! own tallies against the server's (`/stats` `requests`). The harness's own reads,
//! `GET /stats` and `GET /healthz`, are not counted: reading the counter does not move it.
//!
//! A plain tower layer, as [`super::limits`] is, for the same reason: `from_fn` would box a
//! future and clone the inner service on every request.

use std::task::{Context, Poll};

use axum::extract::Request;
use tower::{Layer, Service};

use super::SharedState;

/// Paths whose requests are not counted: the harness reads them around a measurement.
const NOT_COUNTED: [&str; 2] = ["/stats", "/healthz"];

/// Counts every request except [`NOT_COUNTED`] in the state's counters.
#[derive(Clone)]
pub struct CountRequestsLayer {
    pub state: SharedState,
}

impl<S> Layer<S> for CountRequestsLayer {
    type Service = CountRequests<S>;

    fn layer(&self, inner: S) -> CountRequests<S> {
        CountRequests { inner, state: self.state.clone() }
    }
}

/// The service [`CountRequestsLayer`] wraps around the routes.
#[derive(Clone)]
pub struct CountRequests<S> {
    inner: S,
    state: SharedState,
}

impl<S: Service<Request>> Service<Request> for CountRequests<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if !NOT_COUNTED.contains(&request.uri().path()) {
            self.state.counters.request();
        }
        self.inner.call(request)
    }
}
