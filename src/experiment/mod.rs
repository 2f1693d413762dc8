//! Time-series experiments. The first is growth as tokens expire ([`growth`]): does each store
//! let revoked tokens go at `exp`, at what memory, and does the check slow as the list grows?

pub mod command;
pub mod growth;
pub mod sampler;
pub mod summary;
pub mod traffic;
