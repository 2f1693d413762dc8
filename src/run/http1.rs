//! The load client's HTTP: each simulated user keeps one keep-alive HTTP/1.1 connection per
//! replica, driven through hyper's connection-level client inside the user's own task.
//!
//! Goose still schedules the users, their ramp-up and their transactions; only the request
//! itself bypasses goose's reqwest client, whose pool lookup, per-request header map and URL
//! handling, spawned connection task and per-request timer cost more CPU per request than the
//! server under test spends: on a machine the two share, the client would measure itself
//! (`scripts/overhead.sh` compares it with wrk). Here the user's task polls its connection and
//! its exchange together (see [`poll_together`]), so a request is written and its answer read
//! without a hop through another task or the run queue; the timeout is one timer per user,
//! pushed forward at each request (tokio extends a later deadline without touching its wheel).

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures_util::FutureExt;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{handshake, Connection, SendRequest};
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::{sleep_until, Instant, Sleep};

use crate::lock::MutexExt;

/// A whole exchange (connect, request, body) that takes longer is counted as a timeout.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Where one replica listens.
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port`, to connect to.
    addr: String,
    /// The same, as the `Host` header.
    host: HeaderValue,
}

impl Target {
    /// The target of a base URL such as `http://127.0.0.1:4321`.
    pub fn new(base: &str) -> Result<Self, url::ParseError> {
        let url = url::Url::parse(base)?;
        let host = url.host_str().ok_or(url::ParseError::EmptyHost)?;
        let port = url.port_or_known_default().ok_or(url::ParseError::InvalidPort)?;
        let addr = format!("{host}:{port}");
        let host =
            HeaderValue::from_str(&addr).map_err(|_| url::ParseError::InvalidDomainCharacter)?;
        Ok(Self { addr, host })
    }
}

/// Why a request got no response, named as in the results (`connect`, `timeout`, `other`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpError {
    Connect,
    Timeout,
    Other,
}

impl HttpError {
    pub fn kind(self) -> &'static str {
        match self {
            HttpError::Connect => "connect",
            HttpError::Timeout => "timeout",
            HttpError::Other => "other",
        }
    }
}

/// One request: method, path, and the optional bearer token and JSON body.
pub struct Outgoing<'a> {
    pub method: Method,
    pub path: &'static str,
    pub bearer: Option<&'a str>,
    pub json: Option<String>,
}

type Driver = Connection<TokioIo<TcpStream>, Full<Bytes>>;

/// A keep-alive connection: the handle requests are sent on, and the connection's I/O, which
/// the user's task polls while it waits for an answer.
struct Conn {
    sender: SendRequest<Full<Bytes>>,
    driver: Pin<Box<Driver>>,
}

#[derive(Default)]
struct Inner {
    by_replica: Vec<Option<Conn>>,
    /// The timeout of the exchange in progress, reused from one request to the next.
    watchdog: Option<Pin<Box<Sleep>>>,
    /// The last `Authorization` value built, and its token: a user sends the same token
    /// until it logs in again.
    bearer: Option<(String, HeaderValue)>,
}

/// One user's connections, one per replica, opened on first use and again after a failure.
#[derive(Default)]
pub struct Connections {
    // Goose keeps session data behind `Sync`; the mutex provides it and is never locked:
    // the user's task reaches it through `get_mut`.
    inner: Mutex<Inner>,
}

/// A cloned user (goose clones its template users) opens connections of its own.
impl Clone for Connections {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl Connections {
    /// Sends `outgoing` to `target` (replica `replica`) and reads the whole answer.
    pub async fn send(
        &mut self,
        replica: usize,
        target: &Target,
        outgoing: Outgoing<'_>,
    ) -> Result<(u16, Bytes), HttpError> {
        let inner = self.inner.locked_mut();
        if inner.by_replica.len() <= replica {
            inner.by_replica.resize_with(replica + 1, || None);
        }
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        let watchdog = inner.watchdog.get_or_insert_with(|| Box::pin(sleep_until(deadline)));
        watchdog.as_mut().reset(deadline);
        let request = request(target, outgoing, &mut inner.bearer)?;
        let slot = &mut inner.by_replica[replica];
        let outcome = tokio::select! {
            biased;
            outcome = exchange(slot, target, request) => outcome,
            () = watchdog.as_mut() => Err(HttpError::Timeout),
        };
        if outcome.is_err() {
            // A connection that failed once is not trusted again: the next request reconnects.
            *slot = None;
        }
        outcome
    }
}

async fn exchange(
    slot: &mut Option<Conn>,
    target: &Target,
    request: Request<Full<Bytes>>,
) -> Result<(u16, Bytes), HttpError> {
    if slot.as_ref().is_none_or(|conn| conn.sender.is_closed()) {
        *slot = Some(connect(target).await?);
    }
    let Conn { sender, driver } = slot.as_mut().expect("connected above");
    let answer = async {
        sender.ready().await.map_err(|_| HttpError::Other)?;
        let response = sender.send_request(request).await.map_err(|_| HttpError::Other)?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.map_err(|_| HttpError::Other)?;
        Ok((status, body.to_bytes()))
    };
    tokio::pin!(answer);
    poll_fn(|cx| poll_together(cx, answer.as_mut(), driver.as_mut())).await
}

/// Most rounds of [`poll_together`] in one poll of the user's task.
const MAX_ROUNDS: usize = 16;

/// Polls the exchange and the connection in turn while either wakes the other, so a request
/// is written, and an answer's head and body are read, within one poll of the user's task.
/// Polled once each, every hand-over between them (request queued, head parsed, body wanted,
/// body read) costs a trip to the back of the run queue behind every other user, a wait the
/// measured latency would count (wrk reads a whole answer in one callback).
fn poll_together<T>(
    cx: &mut Context<'_>,
    mut answer: Pin<&mut impl Future<Output = Result<T, HttpError>>>,
    mut driver: Pin<&mut Driver>,
) -> Poll<Result<T, HttpError>> {
    let tracking = Arc::new(Tracking { woken: AtomicBool::new(false), task: cx.waker().clone() });
    let waker = Waker::from(tracking.clone());
    let mut inner = Context::from_waker(&waker);
    for _ in 0..MAX_ROUNDS {
        tracking.woken.store(false, Ordering::SeqCst);
        if let Poll::Ready(outcome) = answer.as_mut().poll(&mut inner) {
            return Poll::Ready(outcome);
        }
        if driver.as_mut().poll(&mut inner).is_ready() {
            // The connection ended (closed or failed); an answer it completed on the way out
            // is still taken.
            return Poll::Ready(answer.now_or_never().unwrap_or(Err(HttpError::Other)));
        }
        if !tracking.woken.load(Ordering::SeqCst) {
            // Waiting on the network: the socket wakes the task.
            return Poll::Pending;
        }
    }
    Poll::Pending
}

/// The task's waker, noting whether anything woke it during [`poll_together`] (every wake is
/// still passed on, so none is lost).
struct Tracking {
    woken: AtomicBool,
    task: Waker,
}

impl Wake for Tracking {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.task.wake_by_ref();
    }
}

fn request(
    target: &Target,
    outgoing: Outgoing<'_>,
    last_bearer: &mut Option<(String, HeaderValue)>,
) -> Result<Request<Full<Bytes>>, HttpError> {
    let mut request = Request::builder().method(outgoing.method).uri(outgoing.path);
    let headers = request.headers_mut().ok_or(HttpError::Other)?;
    headers.insert(HOST, target.host.clone());
    if let Some(token) = outgoing.bearer {
        let value = match last_bearer {
            Some((last, value)) if last == token => value.clone(),
            _ => {
                let value = HeaderValue::try_from(format!("Bearer {token}"))
                    .map_err(|_| HttpError::Other)?;
                *last_bearer = Some((token.to_string(), value.clone()));
                value
            }
        };
        headers.insert(AUTHORIZATION, value);
    }
    let body = match outgoing.json {
        Some(json) => {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            Full::new(Bytes::from(json))
        }
        None => Full::new(Bytes::new()),
    };
    request.body(body).map_err(|_| HttpError::Other)
}

/// Opens a keep-alive connection.
async fn connect(target: &Target) -> Result<Conn, HttpError> {
    let stream = TcpStream::connect(&target.addr).await.map_err(|_| HttpError::Connect)?;
    // As wrk and reqwest do: a request is one small write, never held back by Nagle.
    stream.set_nodelay(true).map_err(|_| HttpError::Connect)?;
    let (sender, driver) = handshake(TokioIo::new(stream)).await.map_err(|_| HttpError::Connect)?;
    Ok(Conn { sender, driver: Box::pin(driver) })
}
