//! `revbench sweep`: the same measurement as `revbench run`, repeated along one axis — the
//! size of the revoked set (`--axis revoked=0,10k,100k,1M,10M`), the load (`users`, `rate`),
//! `replicas`, `token-ttl`, `logout-rate`, or a round trip to the store (`store-rtt`) — to
//! answer "does the check slow down as the list grows?" and its siblings.
//!
//! [`axis`] parses the axis; [`point`] applies a value to the scenario; [`fill`] brings each
//! store to a point's size (shared stores grow by what is missing, in-process stores are
//! filled by their servers at start), within [`fill_time`]'s bound; [`store_rtt`] puts a
//! measured round trip in front of a store; [`scheduler`] runs the points, each in
//! interleaved rounds, and stops a store [`failing`] most of its requests; [`kept`] checks
//! that a shared store is back to its prefill after each round; [`summary`] prints the table.

pub mod axis;
pub mod command;
pub mod failing;
pub mod fill;
pub mod fill_time;
pub mod kept;
pub mod point;
pub mod scheduler;
pub mod store_rtt;
pub mod summary;
