//! The reference server over real HTTP on loopback (`cargo test --test server`): the replay
//! loophole and its fix, fail closed on a dead store, hostile tokens and bodies, abusive
//! clients, cookies, graceful shutdown and token-free logs.
//!
//! One test binary for these areas: each binary links the whole dependency tree, so a few
//! binaries build much faster than one per file. Its tests run in parallel threads of one
//! process: none may change process-wide state (environment variables, the working directory).

#[path = "../common/mod.rs"]
mod common;

mod abuse;
mod hostile_tokens;
mod hygiene;
mod server;
