//! Stores around a store: an injected delay, a namespace of the measurement's own.

pub mod delayed;
pub mod namespace;
pub mod scratch;
