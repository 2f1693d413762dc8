//! Deadlines hyper lacks: for a request body ([`DeadlineBodyLayer`]) and for a response
//! write ([`WriteDeadline`]), so a client that trickles its body or never reads what it is
//! sent holds a connection slot for a bounded time.
//!
//! - A body must have arrived whole within `body_read_timeout` of its request's head; past
//!   that, reading it fails, the handler answers 408 and hyper closes the connection (a body
//!   left unread ends a connection). Only routes that read a body carry the layer: the
//!   protected call pays nothing.
//! - Output that cannot be written must be written within `write_timeout` of the moment the
//!   socket first refused it; past that, the write fails and hyper drops the connection. A
//!   client that pipelines requests without reading their answers is closed once the socket
//!   buffers between it and the server are full, `write_timeout` later.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use hyper::body::{Body as HttpBody, Bytes, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};
use tower::{Layer, Service};

use super::ApiError;

/// The error a body past its deadline gives its reader.
#[derive(Debug, thiserror::Error)]
#[error("request body not received within {} ms", .0.as_millis())]
pub struct BodyTimedOut(pub Duration);

/// The answer to a request whose body could not be read: 408 when the body missed its
/// deadline, else the extractor's own status and text.
pub fn body_rejection(
    status: StatusCode,
    text: String,
    err: &(dyn std::error::Error + 'static),
) -> ApiError {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(timed_out) = e.downcast_ref::<BodyTimedOut>() {
            return ApiError::new(StatusCode::REQUEST_TIMEOUT, timed_out.to_string());
        }
        source = e.source();
    }
    ApiError::new(status, text)
}

/// Gives each request's body a deadline `timeout` after the request reached the service.
#[derive(Debug, Clone, Copy)]
pub struct DeadlineBodyLayer {
    pub timeout: Duration,
}

impl<S> Layer<S> for DeadlineBodyLayer {
    type Service = DeadlineBody<S>;

    fn layer(&self, inner: S) -> DeadlineBody<S> {
        DeadlineBody { inner, timeout: self.timeout }
    }
}

/// The service [`DeadlineBodyLayer`] wraps around a route.
#[derive(Debug, Clone)]
pub struct DeadlineBody<S> {
    inner: S,
    timeout: Duration,
}

impl<S> Service<Request> for DeadlineBody<S>
where
    S: Service<Request, Error = std::convert::Infallible>,
{
    type Response = S::Response;
    type Error = std::convert::Infallible;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> S::Future {
        let timeout = self.timeout;
        let request = request.map(|body| {
            Body::new(TimedBody {
                inner: body,
                deadline: Box::pin(tokio::time::sleep(timeout)),
                timeout,
            })
        });
        self.inner.call(request)
    }
}

/// A body that fails with [`BodyTimedOut`] once its deadline passes.
struct TimedBody {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
    timeout: Duration,
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        ready!(self.deadline.as_mut().poll(cx));
        Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut(self.timeout)))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A connection's stream whose writes fail with [`io::ErrorKind::TimedOut`] once output has
/// waited `timeout` for the socket to take it; reads pass through.
pub struct WriteDeadline<S> {
    inner: S,
    timeout: Duration,
    /// Set while output is waiting: when it must have been written by.
    stalled: Option<Pin<Box<Sleep>>>,
    waiting: bool,
}

impl<S> WriteDeadline<S> {
    pub fn new(inner: S, timeout: Duration) -> Self {
        Self { inner, timeout, stalled: None, waiting: false }
    }

    /// The socket refused output: start the clock if it is not running, and fail once it
    /// has run out.
    fn refused(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        if !self.waiting {
            self.waiting = true;
            let deadline = Instant::now() + self.timeout;
            match &mut self.stalled {
                Some(sleep) => sleep.as_mut().reset(deadline),
                None => self.stalled = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
        }
        let sleep = self.stalled.as_mut().expect("armed above");
        ready!(sleep.as_mut().poll(cx));
        Poll::Ready(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("client read nothing for {} ms", self.timeout.as_millis()),
        ))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteDeadline<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Pending => self.refused(cx).map(Err),
            written => written,
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            Poll::Pending => self.refused(cx).map(Err),
            written => written,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    /// hyper flushes once its whole buffer is written: the output waiting is gone.
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Pending => self.refused(cx).map(Err),
            Poll::Ready(result) => {
                self.waiting = false;
                Poll::Ready(result)
            }
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_shutdown(cx) {
            Poll::Pending => self.refused(cx).map(Err),
            done => done,
        }
    }
}
