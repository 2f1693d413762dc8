//! `revbench run`: goose scenarios driving server replicas, every store side by side in
//! interleaved rounds.
//!
//! [`scheduler`] orders the measurements of the run's [`subjects`] and rewrites the results
//! after each; [`measure`] is one of them, on a [`fleet`] of servers; [`attack`] and [`steps`]
//! are the goose load; [`recorder`] keeps what it saw and [`counters`] what the servers
//! counted; [`outage`] cuts a store off mid-load through [`forwarder`] (which can also
//! delay every chunk, through [`delayed_pipe`]); [`restart`] replays copies on restarted
//! replicas; [`progress`] shows the way; [`timeline`] keeps the load interval by interval;
//! [`forget`] removes what the load revoked from a store kept across measurements.

pub mod attack;
pub mod command;
pub mod counters;
pub mod delayed_pipe;
pub mod fleet;
pub mod forget;
pub mod forwarder;
pub mod http1;
pub mod measure;
pub mod options;
pub mod outage;
pub mod progress;
pub mod recorder;
pub mod replay_window;
pub mod restart;
pub mod scheduler;
pub mod segment;
pub mod steps;
pub mod subjects;
pub mod summary;
pub mod timeline;
