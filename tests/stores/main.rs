//! The stores and strategies against real servers (`cargo test --test stores`): the shared
//! conformance suite for every store, what each strategy adds (synced local checks, per-user
//! cut-offs, refresh-token rotation, Redis Cluster, TLS), outages under load, revocations
//! across a restart, and user data beside every measurement left as it was.
//!
//! One test binary for these areas: each binary links the whole dependency tree, so a few
//! binaries build much faster than one per file. Its tests run in parallel threads of one
//! process: each works in a namespace of its own, and those that share one (`namespaces`)
//! take turns.

#[path = "../common/mod.rs"]
mod common;

mod conformance;
mod cutoff;
mod filter;
mod hybrid;
mod namespaces;
mod outage;
mod redis_buckets;
mod redis_cluster;
mod refresh;
mod restart;
mod stats_cost;
mod tls;
