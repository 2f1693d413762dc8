//! The measuring commands end to end (`cargo test --test run`): short `revbench run`s with real
//! server processes and real stores (leak rates, replay windows, outages, paired runs,
//! `--target`), `growth`, passwords kept out of every output, bad configuration, and the
//! validity of the numbers (probes alike for every store, counts of the measured window, one
//! row per store URL, merges that count each server once).
//!
//! One test binary for these areas: each binary links the whole dependency tree, so a few
//! binaries build much faster than one per file. Its tests run in parallel threads of one
//! process, as the runs of one file always did; their bands allow for a neighbour's load.

#[path = "../common/mod.rs"]
mod common;

mod bad_config;
mod growth;
mod killed;
mod redaction;
mod replay_window;
mod run;
mod sweep;
mod targets;
mod validity;
