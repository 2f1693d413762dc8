//! Load: goose scenarios built from `scenarios/*.toml`, server replicas as processes, and the
//! interleaved `revbench run` that measures every store side by side.

pub mod attack;
pub mod command;
pub mod forwarder;
pub mod pinning;
pub mod recorder;
pub mod replicas;
pub mod run;
pub mod scenario;
pub mod steps;
pub mod summary;
