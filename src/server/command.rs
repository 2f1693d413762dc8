//! `revbench serve`: open the store, bind, print [`Listening`], serve until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use super::ready_line::{Listening, PrefillFacts};
use super::{AppState, ServerConfig};
use crate::injected_work::InjectedWork;
use crate::revocation::{self, SharedStore};
use crate::time::{now_secs, parse_duration};
use crate::token::{SigningAlgorithm, TokenKeys};

/// How long entries put in by `serve --prefill` live at least (longer than any growth run or
/// sweep); their expiry times are spread over one token lifetime after it.
pub const PREFILL_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Entries `--prefill` writes between two looks at its progress.
const PREFILL_CHUNK: u64 = 100_000;

/// `revbench serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Revocation store URL (also read from REVBENCH_STORE, which keeps a password out of the
    /// process list).
    #[arg(long, env = STORE_ENV, hide_env_values = true, default_value = "memory:", long_help = store_help())]
    pub store: String,

    /// Address to listen on; port 0 picks a free port (the chosen address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Lifetime of issued tokens, e.g. 15m, 30s (a `refresh+redis://…?access=30s` store URL sets
    /// its access tokens' own).
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    pub token_ttl: Duration,

    /// Let requests through when the store cannot answer (each one is counted in /stats).
    #[arg(long)]
    pub fail_open: bool,

    /// Signature algorithm; HS256 reads its secret from REVBENCH_JWT_SECRET (32+ bytes).
    #[arg(long, value_enum, default_value_t = SigningAlgorithm::Hs256)]
    pub algorithm: SigningAlgorithm,

    /// Mark the token cookie `Secure` (for a server behind HTTPS).
    #[arg(long)]
    pub secure_cookies: bool,

    /// Add this delay before every revocation check (proves the harness sees a known
    /// slowdown), e.g. 2ms.
    #[arg(long, value_parser = parse_duration)]
    pub inject_latency: Option<Duration>,

    /// Add this much CPU work to every revocation check (proves a gate sees a known rise in
    /// CPU per request), e.g. 430ns: a hash loop timed once at start on this machine, so
    /// each check runs the same number of steps.
    #[arg(long, value_parser = parse_duration)]
    pub inject_work: Option<Duration>,

    /// Token that `GET /stats` requires (`Authorization: Bearer <token>`); without one,
    /// `/stats` is not served. Read from REVBENCH_ADMIN_TOKEN when not given, which keeps
    /// it out of the process list.
    #[arg(long, env = super::admin::ADMIN_TOKEN_ENV, hide_env_values = true)]
    pub admin_token: Option<String>,

    /// Fill the store with this many live entries before listening (used by `revbench growth`
    /// and `revbench sweep`).
    #[arg(long, hide = true)]
    pub prefill: Option<u64>,

    /// Shut down when standard input reaches its end: `run` and `growth` hold the other end
    /// of a pipe, so a replica ends with the command that started it, however that ends
    /// (a SIGKILL, the OOM killer, a lost CI runner).
    #[arg(long, hide = true)]
    pub exit_with_stdin: bool,
}

/// Environment variable `--store` is read from when not given: `revbench run` and `growth`
/// pass store URLs to their servers this way, so a password never shows in the process list.
pub const STORE_ENV: &str = "REVBENCH_STORE";

fn store_help() -> String {
    format!("Revocation store URL: {}", revocation::scheme_examples())
}

/// Runs the server the arguments describe until a shutdown signal arrives.
pub async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.admin_token.as_deref() != Some(""),
        "--admin-token is empty: give a token, or none to keep /stats closed"
    );
    let keys = TokenKeys::for_algorithm(args.algorithm)?;
    let mut store = revocation::open(&args.store).await?;
    let prefill = match args.prefill {
        Some(count) => Some(prefill(&store, count, args.token_ttl).await?),
        None => None,
    };
    if let Some(delay) = args.inject_latency {
        store = std::sync::Arc::new(revocation::DelayedStore::new(store, delay));
    }
    let injected_work = args.inject_work.map(InjectedWork::calibrate);
    if let Some(work) = injected_work {
        eprintln!(
            "--inject-work {:?}: {} steps of the work loop per check",
            work.target, work.steps
        );
    }
    let listener = TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}; pick another --addr", args.addr))?;
    let config = ServerConfig {
        token_ttl: args.token_ttl,
        fail_open: args.fail_open,
        secure_cookies: args.secure_cookies,
        admin_token: args.admin_token.as_deref().map(super::admin::AdminToken::new),
        injected_work,
        ..ServerConfig::default()
    };
    let listening = Listening {
        addr: listener.local_addr()?,
        store: store.name().to_string(),
        fail_open: config.fail_open,
        prefill,
    };
    println!("{listening}");
    let state = AppState::new(store, keys, config);
    let parent_gone = stdin_closed(args.exit_with_stdin);
    let shutdown = async move {
        tokio::select! {
            () = shutdown_signal() => {},
            () = parent_gone => {},
        }
    };
    super::run(listener, state, shutdown).await.context("server failed")
}

/// Completes when standard input reaches its end (or cannot be read), when `watch` is set;
/// never otherwise. A plain thread reads it: tokio's stdin would keep the runtime from
/// shutting down while it waits.
async fn stdin_closed(watch: bool) {
    if !watch {
        return std::future::pending().await;
    }
    let (closed, on_close) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 64];
        let mut stdin = std::io::stdin().lock();
        while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
        let _ = closed.send(());
    });
    let _ = on_close.await;
}

/// `--prefill N`: fills the store before listening (in-process stores can be filled from
/// nowhere else); the facts go on the listening line, which is how `revbench growth` learns
/// the fill's time and memory.
async fn prefill(
    store: &SharedStore,
    count: u64,
    token_ttl: Duration,
) -> anyhow::Result<PrefillFacts> {
    let rss = || crate::process::resident_bytes(std::process::id());
    let rss_before_fill = rss();
    let from = now_secs() + PREFILL_LIFETIME.as_secs();
    let mut entries = revocation::spread_entries(count, from, token_ttl.as_secs().max(1));
    let started = std::time::Instant::now();
    let mut progress = revocation::FillProgress::start();
    let mut done = 0;
    while done < count {
        // In chunks, to say how far a fill of millions got: on stderr, which the sweep's
        // and growth's terminal shows (stdout carries the listening line alone).
        let chunk = PREFILL_CHUNK.min(count - done);
        let batch = entries.by_ref().take(chunk as usize);
        revocation::fill(store, batch).await.context("--prefill failed")?;
        done += chunk;
        if let Some(line) = progress.due(done, count, 0) {
            eprintln!("  prefilling {}: {line}", store.name());
        }
    }
    Ok(PrefillFacts {
        entries: count,
        fill_ms: started.elapsed().as_millis() as u64,
        rss_before_fill,
        rss_after_fill: rss(),
    })
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
