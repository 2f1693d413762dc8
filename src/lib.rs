//! revbench measures what it costs, and what it buys, to revoke a JWT at logout.
//!
//! A stateless JWT stays valid until `exp`, so "logout" needs a revocation store. revbench
//! runs a reference auth server ([`server`]) whose store ([`revocation`]) can be swapped, and
//! measures each store's check latency, throughput, memory and correctness.
//!
//! # Components
//!
//! - [`revocation`]: the store contract ([`revocation::RevocationStore`]) and the scheme table
//!   ([`revocation::SCHEMES`]: one line per store), grouped by kind — in-process stores,
//!   backends, strategies, wrappers; every store passes the one conformance suite in
//!   `tests/common/conformance.rs`.
//! - [`token`]: claims, issue and verify with a pinned algorithm.
//! - [`server`]: the axum reference server and `revbench serve`.
//! - [`harness`]: what measuring commands share: replica processes, probing stores, output.
//! - One module per command, each with its `command.rs` (arguments beside the handler):
//!   [`run`] (load in interleaved rounds), [`growth`] (a store as tokens expire),
//!   [`footprint`] (bytes per revoked entry), [`report`] (Markdown, HTML, charts),
//!   [`compare`] (verdicts between runs for CI), [`merge`] (generators side by side),
//!   [`export`] (Bencher Metric Format, github-action-benchmark), [`sweep`] (a run repeated
//!   along an axis, e.g. the revoked set's size), [`size`] (what each strategy costs at the
//!   user's numbers, from a sweep).
//! - [`results`]: the versioned results schema every reader uses.
//! - Vocabulary at the bottom of the graph: [`time`], [`jti`], [`units`], [`process`],
//!   [`scenario`], [`environment`], [`redact`] (passwords in URLs become `****`, wherever a URL
//!   is shown or stored), [`interrupt`] (Ctrl-C for commands that clean up before exiting),
//!   [`stats`] (distribution-free intervals), [`precise_sleep`] (µs-precise sleeps on a
//!   timerfd: injected delays, constant-rate pacing), [`injected_delay`] (`--inject-latency`:
//!   a wait whose median is the delay, and the record of what it delivered),
//!   [`injected_work`] (`--inject-work`: CPU work of a known size per check), [`lock`] (std
//!   locks, one poisoning policy).
//!
//! `cli` holds the command enum and dispatch; `scripts/module-cycles.sh` checks that no module,
//! and no file inside one, imports one that imports it back.

pub mod check;
pub mod clean;
pub mod cli;
pub mod compare;
pub mod environment;
pub mod export;
pub mod footprint;
pub mod growth;
pub mod harness;
pub mod history;
pub mod injected_delay;
pub mod injected_work;
pub mod instructions;
pub mod interrupt;
pub mod jti;
pub mod lock;
pub mod merge;
pub mod precise_sleep;
pub mod process;
pub mod redact;
pub mod report;
pub mod results;
pub mod revocation;
pub mod run;
pub mod scenario;
pub mod server;
pub mod size;
pub mod stats;
pub mod sweep;
pub mod time;
pub mod token;
pub mod units;
