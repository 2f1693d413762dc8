//! `revbench size`: what each strategy would cost at the user's own numbers, from a sweep's
//! measurements.
//!
//! The arithmetic ([`Load`]): logouts per second = users × logouts per user per hour / 3600.
//! A deny-list keeps one entry per revoked token until it expires: `logouts/s × token TTL`
//! live entries. A per-user cut-off keeps one entry per user who logged out within a token
//! lifetime: `users × (1 − e^(−logouts per user per hour × TTL in hours))` (a user logging
//! out twice is one entry). Memory = measured bytes per entry × entries, times the replicas
//! for a strategy that keeps a copy in every server. The check latency is the one measured at
//! the sweep's point nearest the entries; past the largest point measured it says so.
//!
//! With constraints ([`Constraints`]) it names the strategies that meet all of them, cheapest
//! (least memory in all) first, and for each one that fails, what it breaks and by how much.

pub mod command;
mod constraints;
mod model;

pub use constraints::{judge, Breach, Constraints, Verdict};
pub use model::{size_all, Keeping, Load, Placement, Sizing};
