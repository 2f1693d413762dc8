//! A TCP pipe that holds every chunk for a fixed time in each direction: how a sweep puts a
//! known network round trip between the servers and their store on one machine, without root
//! (`tc netem` needs it). Chunks keep their order and overlap in flight, as on a real link:
//! the delay adds latency, not a throughput limit.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::precise_sleep;

/// Bytes read at once from either side.
const CHUNK: usize = 16 * 1024;
/// Chunks in flight per direction; a full queue holds the reader back (bounded, like a link).
const IN_FLIGHT: usize = 256;

/// Forwards between `a` and `b`, each chunk delivered `one_way` after it was read, until either
/// side closes.
pub async fn pipe(a: TcpStream, b: TcpStream, one_way: Duration) {
    let (a_read, a_write) = a.into_split();
    let (b_read, b_write) = b.into_split();
    // Whichever direction ends first ends the other: the connection is gone.
    tokio::select! {
        () = one_direction(a_read, b_write, one_way) => {}
        () = one_direction(b_read, a_write, one_way) => {}
    }
}

/// Reads from `from` and writes each chunk to `to` once `one_way` has passed since it was read.
async fn one_direction(
    mut from: impl AsyncReadExt + Unpin,
    mut to: impl AsyncWriteExt + Unpin,
    one_way: Duration,
) {
    let (send, mut receive) = mpsc::channel::<(Instant, Vec<u8>)>(IN_FLIGHT);
    let reader = async move {
        loop {
            let mut buf = vec![0u8; CHUNK];
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    buf.truncate(n);
                    if send.send((Instant::now() + one_way, buf)).await.is_err() {
                        break;
                    }
                }
            }
        }
    };
    let writer = async move {
        while let Some((due, chunk)) = receive.recv().await {
            // tokio's timer rounds up to 1 ms: a sub-millisecond delay needs the precise one.
            precise_sleep::sleep_until(due).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A request and its answer each take the one-way delay: the round trip is two of them
    /// (never less), and the bytes arrive whole and in order.
    #[tokio::test]
    async fn a_round_trip_takes_twice_the_one_way_delay() {
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let echo_addr = echo.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = echo.accept().await.unwrap();
            let mut buf = [0u8; 64];
            while let Ok(n @ 1..) = s.read(&mut buf).await {
                s.write_all(&buf[..n]).await.unwrap();
            }
        });
        let front = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let front_addr = front.local_addr().unwrap();
        let one_way = Duration::from_millis(5);
        tokio::spawn(async move {
            let (inbound, _) = front.accept().await.unwrap();
            let outbound = TcpStream::connect(echo_addr).await.unwrap();
            pipe(inbound, outbound, one_way).await;
        });
        let mut client = TcpStream::connect(front_addr).await.unwrap();
        for round in 0..3u8 {
            let started = std::time::Instant::now();
            client.write_all(&[round; 10]).await.unwrap();
            let mut back = [0u8; 10];
            client.read_exact(&mut back).await.unwrap();
            let took = started.elapsed();
            assert_eq!(back, [round; 10]);
            assert!(took >= 2 * one_way, "{took:?}");
            assert!(took < Duration::from_millis(500), "{took:?}");
        }
    }
}
