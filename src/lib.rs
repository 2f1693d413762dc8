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
//!   environment.rs      CPU, memory, OS, rustc, version and commit, recorded with results
//!   results.rs          the versioned `run` schema every exporter reads; results/growth.rs `growth`'s
//!   compare.rs          baseline vs current, noise-aware, exit code for CI
//!   footprint.rs        `revbench footprint`: fill a store, bytes per revoked entry
//!   revocation/
//!     mod.rs            trait RevocationStore + its contract; open(url) picks the backend
//!     jti.rs            the 128-bit token id every store is keyed by
//!     url_params.rs     revbench's own query parameters in store URLs
//!     none.rs naive.rs memory.rs hashmap.rs redis.rs mongo.rs postgres.rs
//!     delayed.rs        a wrapper adding a known delay to every check (--inject-latency)
//!     scratch.rs        a store in a private namespace for one measurement, removed after
//!     conformance.rs    the one test suite every backend must pass
//!   server/
//!     mod.rs            router, AppState, run(listener, shutdown)
//!     auth.rs           the per-request check: token → verify → store
//!     handlers.rs       /login /logout /revoke /api/me /healthz /stats
//!     counters.rs       checks, revoked hits, store errors, fail-open passes
//!     error.rs          JSON error responses
//!     limits.rs         header size limit (JSON 431); why hyper's own limit stays
//!     serve.rs          `revbench serve` (hidden `--prefill N` fills before listening)
//!   experiment/         time-series experiments: `revbench growth`
//!     growth.rs         per store: prefill, start a server process, load it, sample, summarise
//!     traffic.rs        steady-rate logouts and live-token checks; what they did (Tallies)
//!     sampler.rs        one sample: /stats, server VmRSS, check p50/p99 of the interval
//!     prefill.rs        batched fills: in-process, Redis pipeline, PostgreSQL unnest, Mongo
//!     summary.rs        plateau, ratio to rate × ttl, drops, bytes per live entry
//!     command.rs        CLI edge and the summary table
//!   load/
//!     scenario.rs       scenarios/*.toml, parsed and validated
//!     steps.rs          the goose transactions (me, relogin, replay, …), timed into HDR
//!     recorder.rs       histograms, statuses, replays, outage phases
//!     attack.rs         one goose attack, configured in code
//!     replicas.rs       `revbench serve` processes on free loopback ports
//!     forwarder.rs      a cuttable TCP forwarder (the store-outage scenario)
//!     pinning.rs        --pin: servers and client on separate CPUs
//!     run.rs            `revbench run`: interleaved rounds, results.json after each
//!     command.rs        the CLI edge of `run`; summary.rs its closing table
//!   report/
//!     mod.rs            build the report model, write files; the Exporter trait
//!     tables.rs         tables and sections shared by the exporters
//!     narrative.rs      the generated "what this means" sentences
//!     markdown.rs html.rs   the exporters
//!     charts.rs plot.rs colors.rs   chart specs from results, plotters drawing, store colours
//!     criterion.rs      criterion's saved estimates for the microbenchmark table
//! scenarios/            declarative workloads, one TOML file each
//! benches/
//!   check_latency.rs    criterion: is_revoked by store × size × hit/miss, verify, request
//! tests/
//!   common/             TestServer, TCP Forwarder, a killable redis-server, recorded load
//!   conformance.rs      the conformance suite per backend
//!   server.rs           the server over real HTTP: replay loophole, fail closed, JSON errors
//!   hostile_tokens.rs   60+ forged and malformed credentials, bad bodies, oversized heads
//!   outage.rs           Redis killed and PostgreSQL cut off under load; fail closed / open
//!   restart.rs          revocations across a server restart, per store
//!   hygiene.rs          cookies, graceful shutdown, no token in the process's output
//!   growth.rs           growth shapes: naive rises, TTL stores plateau, postgres sawtooth
//!   run.rs injected_latency.rs   short `revbench run`s: leaks by topology, outage, hidden delay
//!   report.rs           reports and compare on hand-made fixtures
//!   footprint.rs        bytes per revoked entry, end to end
//!   bad_config.rs       the binary's one-line errors for bad configuration
//! fuzz/                 cargo-fuzz targets: token and scenario parsing (own package, nightly)
//! ```

pub mod cli;
pub mod compare;
pub mod environment;
pub mod experiment;
pub mod footprint;
pub mod load;
pub mod report;
pub mod results;
pub mod revocation;
pub mod server;
pub mod token;
