//! revbench measures what it costs, and what it buys, to revoke a JWT at logout.
//!
//! A stateless JWT stays valid until `exp`, so "logout" needs a revocation store. revbench
//! runs a reference auth server ([`server`]) whose store ([`revocation`]) can be swapped, and
//! measures each store's check latency, throughput, memory and correctness.
//!
//! # Layout
//!
//! ```text
//! src/
//!   main.rs             thin: parse the CLI, call cli::execute, print errors, exit code
//!   lib.rs              this page
//!   cli.rs              clap definitions and dispatch
//!   token.rs            claims {sub, jti, iat, exp}; issue and verify (HS256, EdDSA)
//!   revocation/
//!     mod.rs            trait RevocationStore + its contract; open(url) picks the backend
//!     jti.rs            the 128-bit token id every store is keyed by
//!     url_params.rs     revbench's own query parameters in store URLs
//!     none.rs naive.rs memory.rs redis.rs mongo.rs postgres.rs
//!     conformance.rs    the one test suite every backend must pass
//!   server/
//!     mod.rs            router, AppState, run(listener, shutdown)
//!     auth.rs           the per-request check: token → verify → store
//!     handlers.rs       /login /logout /revoke /api/me /healthz /stats
//!     counters.rs       checks, revoked hits, store errors, fail-open passes
//!     error.rs          JSON error responses
//!     limits.rs         header size limit (JSON 431); why hyper's own limit stays
//!     serve.rs          `revbench serve`
//! tests/
//!   common/             TestServer, TCP Forwarder, a killable redis-server, recorded load
//!   conformance.rs      the conformance suite per backend
//!   server.rs           the server over real HTTP: replay loophole, fail closed, JSON errors
//!   hostile_tokens.rs   60+ forged and malformed credentials, bad bodies, oversized heads
//!   outage.rs           Redis killed and PostgreSQL cut off under load; fail closed / open
//!   restart.rs          revocations across a server restart, per store
//!   hygiene.rs          cookies, graceful shutdown, no token in the process's output
//!   bad_config.rs       the binary's one-line errors for bad configuration
//! fuzz/                 cargo-fuzz target for token parsing (own package, nightly)
//! ```

pub mod cli;
pub mod revocation;
pub mod server;
pub mod token;
