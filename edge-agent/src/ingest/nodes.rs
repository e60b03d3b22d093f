//! Which room nodes have gone silent, as pure logic: the ingest records when each node was
//! last heard; a periodic check reports a node stale once when it has been silent for
//! `node_timeout`, and back once when it is heard again.

use std::collections::BTreeMap;
use std::time::Duration;

use farm_protocol::UnixMillis;

/// A node's change of state, to log and record as an alarm event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeChange {
    /// Silent for longer than the timeout.
    Stale {
        /// The node's room.
        room: String,
        /// The node.
        node: String,
        /// When it was last heard, unix ms.
        last_seen: UnixMillis,
    },
    /// Heard again after being stale.
    Back {
        /// The node's room.
        room: String,
        /// The node.
        node: String,
    },
}

/// Last-heard times of every node, and which are stale.
#[derive(Debug, Default)]
pub struct NodeTracker {
    nodes: BTreeMap<(String, String), (UnixMillis, bool)>,
}

impl NodeTracker {
    /// Records that `node` in `room` was heard at `now`; returns `Back` if it was stale.
    pub fn seen(&mut self, room: &str, node: &str, now: UnixMillis) -> Option<NodeChange> {
        let entry = self
            .nodes
            .entry((room.to_owned(), node.to_owned()))
            .or_insert((now, false));
        entry.0 = entry.0.max(now);
        std::mem::replace(&mut entry.1, false).then(|| NodeChange::Back {
            room: room.to_owned(),
            node: node.to_owned(),
        })
    }

    /// The nodes that became stale by `now`, each reported once.
    pub fn check(&mut self, now: UnixMillis, timeout: Duration) -> Vec<NodeChange> {
        let timeout = i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
        let mut changes = Vec::new();
        for ((room, node), (last_seen, stale)) in &mut self.nodes {
            if !*stale && now.saturating_sub(*last_seen) > timeout {
                *stale = true;
                changes.push(NodeChange::Stale {
                    room: room.clone(),
                    node: node.clone(),
                    last_seen: *last_seen,
                });
            }
        }
        changes
    }

    /// Every node heard, by room and name: (room, node, last heard in unix ms, stale), for the
    /// panel's system page.
    pub fn list(&self) -> Vec<(&str, &str, UnixMillis, bool)> {
        self.nodes
            .iter()
            .map(|((room, node), (last_seen, stale))| {
                (room.as_str(), node.as_str(), *last_seen, *stale)
            })
            .collect()
    }

    /// (nodes heard, of which stale), for `/metrics`.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.nodes.len(),
            self.nodes.values().filter(|(_, stale)| *stale).count(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_node_is_reported_stale_once_and_back_once() {
        let timeout = Duration::from_secs(120);
        let mut nodes = NodeTracker::default();
        assert_eq!(nodes.seen("r", "n", 0), None);
        assert!(
            nodes.check(120_000, timeout).is_empty(),
            "exactly the timeout is not stale yet"
        );
        let stale = nodes.check(120_001, timeout);
        assert_eq!(
            stale,
            vec![NodeChange::Stale {
                room: "r".into(),
                node: "n".into(),
                last_seen: 0
            }]
        );
        assert!(nodes.check(500_000, timeout).is_empty(), "reported once");
        assert_eq!(nodes.counts(), (1, 1));
        assert_eq!(
            nodes.seen("r", "n", 500_001),
            Some(NodeChange::Back {
                room: "r".into(),
                node: "n".into()
            })
        );
        assert_eq!(nodes.seen("r", "n", 500_002), None);
        assert_eq!(nodes.counts(), (1, 0));
    }
}
