//! [`OutboxStats`]: what the outbox reports about itself.

use farm_protocol::Seq;

/// A snapshot of the outbox's counters, for logs, the panel and /metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// The last seq committed (0 before the first).
    pub committed_seq: Seq,
    /// Everything `<= acked_seq` is synced.
    pub acked_seq: Seq,
    /// Unsynced readings evicted over `max_bytes` (data lost).
    pub evicted: u64,
    /// Synced rows deleted (retention or quota).
    pub pruned: u64,
    /// Readings dropped because the queue was full or commits kept failing.
    pub dropped: u64,
    /// Commits that failed (and were retried).
    pub commit_errors: u64,
    /// Bytes the database uses, as of the last commit.
    pub used_bytes: u64,
    /// `outbox.max_bytes`: the quota `used_bytes` is kept under.
    pub max_bytes: u64,
}

impl OutboxStats {
    /// Seqs committed but not yet acknowledged (`committed_seq - acked_seq`).
    pub fn backlog(&self) -> u64 {
        self.committed_seq.saturating_sub(self.acked_seq)
    }
}
