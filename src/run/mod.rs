//! `revbench run`: goose scenarios driving server replicas, every store side by side in
//! interleaved rounds.
//!
//! [`scheduler`] orders the measurements and rewrites the results after each; [`measure`] is
//! one of them; [`attack`] and [`steps`] are the goose load; [`recorder`] keeps what it saw;
//! [`outage`] cuts a store off mid-load through [`forwarder`]; [`progress`] shows the way.

pub mod attack;
pub mod command;
pub mod forwarder;
pub mod http1;
pub mod measure;
pub mod options;
pub mod outage;
pub mod progress;
pub mod recorder;
pub mod replay_window;
pub mod scheduler;
pub mod segment;
pub mod steps;
pub mod summary;
