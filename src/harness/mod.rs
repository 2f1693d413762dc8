//! What every measuring command (`run`, `growth`) shares: server replicas as processes, CPU
//! placement, opening the stores to measure in namespaces of their own, servers already
//! running elsewhere (`--target`), the store URLs they are given and the labels that name them,
//! and the output directory with its results file.

pub mod label;
pub mod output;
pub mod pinning;
pub mod probe;
pub mod remote;
pub mod replica;
pub mod stores;

pub use output::Output;
pub use probe::{probe, Target};
pub use remote::Deployment;
pub use replica::{Replica, ReplicaError, ReplicaSpec};
pub use stores::{check_store_urls, ensure_measured, store_list, STORES_ENV};
