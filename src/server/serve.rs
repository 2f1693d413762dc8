//! `revbench serve`: open the store, bind, serve until Ctrl-C or SIGTERM.

use anyhow::Context;
use tokio::net::TcpListener;

use super::{AppState, ServerConfig};
use crate::cli::ServeArgs;
use crate::revocation;
use crate::token::TokenKeys;

/// Runs the server the arguments describe until a shutdown signal arrives.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let keys = TokenKeys::for_algorithm(args.algorithm)?;
    let mut store = revocation::open(&args.store).await?;
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
    println!("listening on http://{addr} store={} fail_open={}", store.name(), config.fail_open);
    let state = AppState::new(store, keys, config);
    super::run(listener, state, shutdown_signal()).await.context("server failed")
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
