//! Stores that live in the server process: each replica keeps its own list.

pub mod compact;
pub mod cutoff;
pub mod hashmap;
mod id_table;
pub mod memory;
pub mod naive;
pub mod none;
mod sweeper;
