//! Strategies beyond a per-request deny-list lookup: a local copy kept in sync (a table or a
//! filter), a per-user cut-off, short-lived access tokens with rotated refresh tokens.

pub mod bloom;
pub mod cutoff_redis;
mod feed;
pub mod filter_redis;
pub mod hybrid;
pub mod refresh;
pub mod refresh_redis;
