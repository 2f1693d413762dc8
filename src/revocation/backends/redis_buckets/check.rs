//! The check without a script: each replica keeps a copy of every bucket's directory, and a
//! check is one `HMGET <hash> <id> d` of the hash the copy names, which answers whether the
//! id is there and the hash's depth `d` in one atomic command.
//!
//! Why the answer can be trusted although another replica may have split hashes since the
//! copy was taken: a hash at address `a` whose depth is `d` holds exactly the bucket's ids
//! whose low `d` bits of the hash are `a` (the revocation script keeps that true, atomically).
//! So when the depth the hash reports is the depth the copy gave, the id is in that hash if
//! it is revoked at all, whatever the copy's age. When the hash is missing: address 0 exists
//! from a bucket's first revocation until the whole bucket expires (every key of a bucket
//! expires at the same second), so a missing hash 0 means nothing in the bucket is revoked.
//! Any other answer (a deeper hash, a missing hash elsewhere) says the copy is stale: that
//! check is asked again with the atomic script, in the same pipeline as a `GET` of the
//! directory that refreshes the copy.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use redis::Value;

use super::scripts::Script;
use super::{bucket_end, dir_key, hash_key, hash_prefix, slot_hash};
use crate::lock::MutexExt;
use crate::revocation::backends::redis::batch::CheckPlan;
use crate::time::{now_secs, UnixSeconds};

/// The field each hash holds its depth in.
pub(super) const DEPTH_FIELD: &str = "d";

/// One check, as the pipeline asks it.
pub(super) enum Query {
    /// `HMGET` of the hash at `addr`, whose depth was `depth` in the replica's copy.
    Cached { bucket: UnixSeconds, field: [u8; 16], addr: u64, depth: u8 },
    /// The check script, then a `GET` of the directory for the copy.
    Exact { bucket: UnixSeconds, field: [u8; 16] },
}

/// The checks of `redis+buckets://`; `None` answers a [`Query::Cached`] whose copy is stale.
pub(super) struct BucketChecks {
    pub(super) prefix: String,
    pub(super) script: Script,
    pub(super) directories: Arc<Directories>,
}

impl CheckPlan for BucketChecks {
    type Query = Query;
    type Answer = Option<bool>;

    fn add(&self, pipe: &mut redis::Pipeline, query: &Query, whole: bool) {
        match *query {
            Query::Cached { bucket, ref field, addr, .. } => {
                let hash = hash_key(&self.prefix, bucket, addr);
                pipe.cmd("HMGET").arg(hash).arg(field.as_slice()).arg(DEPTH_FIELD);
            }
            Query::Exact { bucket, ref field } => {
                let dir = dir_key(&self.prefix, bucket);
                let mut cmd = self.script.cmd(whole);
                cmd.arg(1).arg(&dir).arg(hash_prefix(&self.prefix, bucket)).arg(field.as_slice());
                pipe.add_command(cmd);
                pipe.cmd("GET").arg(dir);
            }
        }
    }

    fn read(&self, query: &Query, replies: &[Value]) -> Result<Option<bool>, String> {
        match (query, replies) {
            (&Query::Cached { addr, depth, .. }, [Value::Array(pair)]) => match pair.as_slice() {
                [member, Value::BulkString(found)] if parse_depth(found) == Some(depth) => {
                    Ok(Some(*member != Value::Nil))
                }
                [Value::Nil, Value::Nil] if addr == 0 => Ok(Some(false)),
                [_, _] => Ok(None),
                other => Err(format!("HMGET answered {other:?}")),
            },
            (&Query::Exact { bucket, .. }, [Value::Int(found), directory]) => {
                let directory = match directory {
                    Value::BulkString(bytes) => bytes.clone(),
                    _ => Vec::new(),
                };
                self.directories.learn(bucket, directory);
                Ok(Some(*found > 0))
            }
            (_, other) => Err(format!("check answered {other:?}")),
        }
    }
}

/// A depth as Redis answers it (the decimal digits `HSET` stored).
fn parse_depth(digits: &[u8]) -> Option<u8> {
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// This replica's copy of each bucket's directory (one depth byte per slot), as last read;
/// a bucket with none is read as one slot of depth 0.
#[derive(Default)]
pub(super) struct Directories {
    // A std Mutex: held to read one byte or swap one entry, never across an await.
    known: Mutex<HashMap<UnixSeconds, Vec<u8>>>,
}

impl Directories {
    /// The address and depth of the hash that holds `field` by the copy of `bucket`.
    pub(super) fn locate(&self, bucket: UnixSeconds, field: &[u8; 16]) -> (u64, u8) {
        let h = u64::from(slot_hash(field));
        let depth = match self.known.locked().get(&bucket) {
            Some(dir) if !dir.is_empty() => dir[(h % dir.len() as u64) as usize],
            _ => 0,
        };
        (h % (1u64 << depth), depth)
    }

    /// Keeps `directory` as the copy of `bucket` (none when empty), and drops the copies of
    /// buckets that have expired.
    pub(super) fn learn(&self, bucket: UnixSeconds, directory: Vec<u8>) {
        let now = now_secs();
        let mut known = self.known.locked();
        known.retain(|&b, _| bucket_end(b) > now);
        if directory.is_empty() {
            known.remove(&bucket);
        } else {
            known.insert(bucket, directory);
        }
    }

    /// Forgets every copy (after `clear`).
    pub(super) fn forget(&self) {
        self.known.locked().clear();
    }
}
