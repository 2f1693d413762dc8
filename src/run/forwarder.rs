//! A loopback TCP forwarder that can cut a real backend off and bring it back on the same
//! address: how the `store-outage` scenario takes a store away from the servers without
//! stopping the store itself (which other processes may share). Started with a delay, it
//! also puts a known round trip between the servers and their store (a sweep's `store-rtt`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::lock::MutexExt;

/// Forwards connections from `addr` (on 127.0.0.1) to `target` until cut.
pub struct Forwarder {
    pub addr: SocketAddr,
    target: SocketAddr,
    /// Held in each direction: half the round trip it adds (zero: plain forwarding).
    one_way: Duration,
    accept: Option<JoinHandle<()>>,
    pipes: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Forwarder {
    /// Listens on a free loopback port.
    pub async fn start(target: SocketAddr) -> std::io::Result<Self> {
        Self::start_delayed(target, Duration::ZERO).await
    }

    /// Listens on a free loopback port and delivers every chunk `round_trip / 2` after it
    /// was read, in each direction.
    pub async fn start_delayed(target: SocketAddr, round_trip: Duration) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let one_way = round_trip / 2;
        let mut forwarder = Self { addr, target, one_way, accept: None, pipes: Default::default() };
        forwarder.listen(listener);
        Ok(forwarder)
    }

    fn listen(&mut self, listener: TcpListener) {
        let (target, one_way, pipes) = (self.target, self.one_way, self.pipes.clone());
        self.accept = Some(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let pipe = tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else { return };
                    // Without it Nagle holds a pipelined request (a Redis client's one
                    // multiplexed connection) until the previous one is acknowledged.
                    let _ = inbound.set_nodelay(true);
                    let _ = outbound.set_nodelay(true);
                    if one_way.is_zero() {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    } else {
                        super::delayed_pipe::pipe(inbound, outbound, one_way).await;
                    }
                });
                let mut pipes = pipes.locked();
                pipes.retain(|p| !p.is_finished());
                pipes.push(pipe);
            }
        }));
    }

    /// Closes the listening socket and every forwarded connection: the backend is gone.
    /// Returns once every socket is closed (abort alone only asks the tasks to stop, and a
    /// reply could still slip through meanwhile).
    pub async fn cut(&mut self) {
        let mut tasks: Vec<JoinHandle<()>> = self.accept.take().into_iter().collect();
        tasks.extend(self.pipes.locked().drain(..));
        for task in &tasks {
            task.abort();
        }
        for task in tasks {
            let _ = task.await;
        }
    }

    fn abort_all(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
        for pipe in self.pipes.locked().drain(..) {
            pipe.abort();
        }
    }

    /// Listens again on the same address: the backend is back.
    pub async fn restore(&mut self) -> std::io::Result<()> {
        // The aborted accept task drops its listener on its next poll; retry briefly.
        let mut last = None;
        for _ in 0..50 {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => {
                    self.listen(listener);
                    return Ok(());
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(last.expect("at least one bind attempt"))
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.abort_all();
    }
}

/// Starts a forwarder to the store at `url`, adding `round_trip` (zero: none), and returns
/// the URL that goes through it.
pub async fn route(url: &str, round_trip: Duration) -> anyhow::Result<(String, Forwarder)> {
    let parsed = url::Url::parse(url).context("store URL")?;
    let target = backend_addr(&parsed).context("cannot resolve the store's address")?;
    let forwarder = Forwarder::start_delayed(target, round_trip)
        .await
        .context("cannot start a forwarder to the store")?;
    let routed = route_through(&parsed, forwarder.addr)
        .context("cannot point the store URL at the forwarder")?;
    Ok((routed.to_string(), forwarder))
}

/// The store URL pointed at `addr` (a forwarder); `None` if it has no host to replace.
/// MongoDB URLs also get `directConnection=true`: otherwise the driver connects to the members
/// the server announces (`hello.hosts`), around the forwarder, and cutting it would not cut
/// the store off.
pub fn route_through(url: &url::Url, addr: SocketAddr) -> Option<url::Url> {
    let mut routed = url.clone();
    routed.set_ip_host(addr.ip()).ok()?;
    routed.set_port(Some(addr.port())).ok()?;
    if routed.scheme() == "mongodb" {
        let kept: Vec<(String, String)> = routed
            .query_pairs()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("directConnection"))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        routed.query_pairs_mut().clear().extend_pairs(kept).append_pair("directConnection", "true");
    }
    Some(routed)
}

/// Resolves a store URL's host and port (default ports per scheme).
pub fn backend_addr(url: &url::Url) -> Option<SocketAddr> {
    let port = url.port().or(match url.scheme() {
        "redis" | "redis+buckets" | "hybrid+redis" | "filter+redis" | "cutoff+redis"
        | "refresh+redis" => Some(6379),
        "postgres" | "postgresql" => Some(5432),
        "mongodb" => Some(27017),
        _ => None,
    })?;
    let host = url.host_str()?;
    std::net::ToSocketAddrs::to_socket_addrs(&(host, port)).ok()?.next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Bytes flow while open; connections fail while cut; flow resumes after restore.
    #[tokio::test]
    async fn forwards_cuts_and_restores() {
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = echo.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = echo.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 4];
                    while let Ok(n @ 1..) = s.read(&mut buf).await {
                        let _ = s.write_all(&buf[..n]).await;
                    }
                });
            }
        });
        let mut forwarder = Forwarder::start(target).await.unwrap();
        let ping = |addr| async move {
            let mut s = TcpStream::connect(addr).await?;
            s.write_all(b"ping").await?;
            let mut buf = [0u8; 4];
            s.read_exact(&mut buf).await?;
            Ok::<_, std::io::Error>(buf)
        };
        assert_eq!(&ping(forwarder.addr).await.unwrap(), b"ping");
        forwarder.cut().await;
        assert!(ping(forwarder.addr).await.is_err());
        forwarder.restore().await.unwrap();
        assert_eq!(&ping(forwarder.addr).await.unwrap(), b"ping");
    }

    /// A MongoDB URL routed through a forwarder connects directly, to the forwarder only.
    #[test]
    fn mongodb_routes_directly_through_the_forwarder() {
        let addr: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let url =
            url::Url::parse("mongodb://db.internal:27017/run?directConnection=false&w=1").unwrap();
        let routed = route_through(&url, addr).unwrap();
        assert_eq!(routed.as_str(), "mongodb://127.0.0.1:4000/run?w=1&directConnection=true");
        let url = url::Url::parse("redis://127.0.0.1:6379/0").unwrap();
        assert_eq!(route_through(&url, addr).unwrap().as_str(), "redis://127.0.0.1:4000/0");
        assert!(route_through(&url::Url::parse("memory:").unwrap(), addr).is_none());
    }

    /// Default ports are filled in per scheme.
    #[test]
    fn default_ports() {
        let url = url::Url::parse("redis://127.0.0.1/0").unwrap();
        assert_eq!(backend_addr(&url).unwrap().port(), 6379);
        let url = url::Url::parse("postgres://u@127.0.0.1:5433/db").unwrap();
        assert_eq!(backend_addr(&url).unwrap().port(), 5433);
        assert!(backend_addr(&url::Url::parse("memory:").unwrap()).is_none());
    }
}
