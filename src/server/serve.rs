//! `revbench serve`: open the store, bind, serve until Ctrl-C or SIGTERM.

use anyhow::Context;
use tokio::net::TcpListener;

use super::{AppState, ServerConfig};
use crate::cli::ServeArgs;
use crate::experiment::prefill::{fill, SERVE_PREFILL_LIFETIME};
use crate::revocation::{self, SharedStore};
use crate::token::{now_secs, TokenKeys};

/// Runs the server the arguments describe until a shutdown signal arrives.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let keys = TokenKeys::for_algorithm(args.algorithm)?;
    let mut store = revocation::open(&args.store).await?;
    let filled = match args.prefill {
        Some(count) => prefill(&store, &args.store, count).await?,
        None => String::new(),
    };
    if let Some(delay) = args.inject_latency {
        store = std::sync::Arc::new(revocation::DelayedStore::new(store, delay));
    }
    let listener = TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}; pick another --addr", args.addr))?;
    let addr = listener.local_addr()?;
    let config = ServerConfig {
        token_ttl: args.token_ttl,
        fail_open: args.fail_open,
        secure_cookies: args.secure_cookies,
    };
    // One stable line that scripts and `revbench run` read to learn the port.
    println!(
        "listening on http://{addr} store={} fail_open={}{filled}",
        store.name(),
        config.fail_open
    );
    let state = AppState::new(store, keys, config);
    super::run(listener, state, shutdown_signal()).await.context("server failed")
}

/// `--prefill N`: fills the store before listening (in-process stores can be filled from
/// nowhere else) and returns ` prefilled=N fill_ms=… rss_before_fill=… rss_after_fill=…` for
/// the listening line, which is how `revbench growth` learns the fill's time and memory.
async fn prefill(store: &SharedStore, url: &str, count: u64) -> anyhow::Result<String> {
    let rss = || {
        crate::experiment::sampler::resident_bytes(std::process::id())
            .map(|b| b.to_string())
            .unwrap_or_else(|| "unknown".to_string())
    };
    let before = rss();
    let expires_at = now_secs() + SERVE_PREFILL_LIFETIME.as_secs();
    let took = fill(store, url, count, expires_at).await.context("--prefill failed")?;
    Ok(format!(
        " prefilled={count} fill_ms={} rss_before_fill={before} rss_after_fill={}",
        took.as_millis(),
        rss()
    ))
}

/// Completes on Ctrl-C or (on Unix) SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
