//! The tests that measure this process (`cargo test --test measuring`): latency injected into
//! every check and seen at p50, CPU work injected into every check and seen in the servers' CPU
//! per request, and memory per entry from the process's resident size.
//!
//! A binary of their own, and one test at a time within it ([`ALONE`]): a neighbour's load or
//! allocations would move what they measure. Cargo runs test binaries one after another.

#[path = "../common/mod.rs"]
mod common;

mod footprint;
mod injected_latency;
mod injected_work;

/// Held by every test of this binary from start to end, so none shares the process with
/// another (the libtest harness would otherwise run them in parallel threads).
static ALONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
