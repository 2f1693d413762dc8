//! `revbench growth`: does each store let revoked tokens go at `exp`, at what memory, and does
//! the check slow as the list grows?
//!
//! [`scheduler`] measures store after store; [`traffic`] drives logouts and checks at steady
//! rates; [`sampler`] reads the store and the server every interval; [`summary`] sums a series up.

pub mod command;
pub mod options;
pub mod sampler;
pub mod scheduler;
pub mod summary;
pub mod traffic;
