//! Stores in a server of their own, shared by every replica pointed at the same URL.

pub mod mongo;
pub mod mongo_server;
pub mod postgres;
pub mod redis;
pub mod redis_buckets;
pub mod redis_cluster;
pub mod tls;
