//! Units that appear in field names and types: a latency in microseconds is a [`Micros`].

/// A duration in whole microseconds (latency percentiles, injected delays).
pub type Micros = u64;
