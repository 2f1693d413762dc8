//! The yardstick for the reference server's own overhead: a bare axum handler answering
//! `GET /api/me` with the same JSON as `revbench serve` (`{"sub", "jti"}`), with no token, no
//! store, no counters and no middleware, on the same runtime and `axum::serve` as revbench.
//! `scripts/overhead.sh` drives it and `revbench serve` with the same wrk command.
//!
//! `cargo run --release --example bare_axum -- [ADDR]` (default `127.0.0.1:0`); prints the
//! same `listening on http://…` line as `revbench serve`.

use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

/// The body `revbench serve` answers for a live token (its `MeResponse`).
#[derive(Serialize)]
struct Me {
    sub: String,
    jti: String,
}

/// Builds the body per request, as the reference server does from the verified claims.
async fn me() -> Json<Me> {
    Json(Me { sub: "wrk".to_string(), jti: "0123456789abcdef0123456789abcdef".to_string() })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".to_string());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{} store=bare-axum", listener.local_addr()?);
    axum::serve(listener, Router::new().route("/api/me", get(me))).await
}
