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
//!     serve.rs          `revbench serve` (hidden `--prefill N` fills before listening)
//!   experiment/         time-series experiments: `revbench growth`
//!     growth.rs         per store: prefill, start a server process, load it, sample, summarise
//!     traffic.rs        steady-rate logouts and live-token checks; what they did (Tallies)
//!     sampler.rs        one sample: /stats, server VmRSS, check p50/p99 of the interval
//!     prefill.rs        batched fills: in-process, Redis pipeline, PostgreSQL unnest, Mongo
//!     summary.rs        plateau, ratio to rate × ttl, drops, bytes per live entry
//!     command.rs        CLI edge and the summary table
//!   results.rs          the `revbench run` schema; results/growth.rs the `growth` one
//! tests/                end-to-end: conformance per backend, server over real HTTP, CLI
//! ```

pub mod cli;
pub mod environment;
pub mod experiment;
pub mod load;
pub mod results;
pub mod revocation;
pub mod server;
pub mod token;
