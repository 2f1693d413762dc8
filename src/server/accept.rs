//! The accept loop, with the limits `axum::serve` lacks: at most
//! [`ServerConfig::max_connections`] connections at once, a header-read timeout, a write
//! deadline ([`super::deadline`]) and a bounded shutdown, so slow, silent or non-reading
//! clients cannot hold the server.
//!
//! - A connection must deliver a request's whole head within `header_read_timeout`, including
//!   the wait for the next request on a kept-alive connection, or hyper closes it: a client
//!   trickling header bytes (slowloris) or connecting and saying nothing holds a slot for at
//!   most that long.
//! - At the limit the loop stops accepting: new connections wait in the kernel's backlog
//!   until a slot frees, rather than costing memory and a task each. With the deadlines, a
//!   slot frees within `header_read_timeout`, `body_read_timeout` or `write_timeout` at worst.
//! - On shutdown it stops accepting, closes idle connections, lets the others finish their
//!   request in flight for up to `shutdown_grace`, drops whatever is left, then returns.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use super::deadline::WriteDeadline;
use super::ServerConfig;

/// Kernel send buffer per connection (the kernel doubles it for its bookkeeping). Without a
/// cap, Linux grows it up to `net.ipv4.tcp_wmem`'s maximum (4 MiB by default) for a client
/// that reads nothing: kernel memory held per slot, and thousands of answers produced before
/// a write blocks and [`WriteDeadline`]'s clock starts. Every answer here is under a few KiB.
const SEND_BUFFER_BYTES: libc::c_int = 64 * 1024;

/// Wait after an accept error such as "too many open files" before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` within `config`'s limits until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    config: &ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = config.max_connections.min(Semaphore::MAX_PERMITS).min(u32::MAX as usize).max(1);
    let permits = Arc::new(Semaphore::new(slots));
    let (stop, stopped) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // A client that reset before accept costs nothing; running out of file
                    // descriptors passes when connections close.
                    if !is_connection_error(&e) {
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // As axum::serve does: small responses go out at once.
        let _ = stream.set_nodelay(true);
        limit_send_buffer(&stream);
        let mut builder = http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(config.header_read_timeout);
        let stream = WriteDeadline::new(stream, config.write_timeout);
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let mut stopped = stopped.clone();
        let grace = config.shutdown_grace;
        tokio::spawn(async move {
            let _permit = permit;
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stopped.changed() => {
                    connection.as_mut().graceful_shutdown();
                    // Past the grace, dropping the connection closes it.
                    let _ = tokio::time::timeout(grace, connection).await;
                }
            }
        });
    }
    drop(listener);
    let _ = stop.send(());
    // Every permit back means every connection has finished or been dropped: within
    // `shutdown_grace`.
    let _ = permits.acquire_many(slots as u32).await;
    Ok(())
}

/// Caps the connection's send buffer at [`SEND_BUFFER_BYTES`]; a failure leaves the default.
fn limit_send_buffer(stream: &tokio::net::TcpStream) {
    use std::os::fd::AsRawFd;
    let bytes = SEND_BUFFER_BYTES;
    // SAFETY: a valid socket descriptor and a c_int option value of the size given.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&bytes as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    )
}
