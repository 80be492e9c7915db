//! The one shape the bot's ledgers share: entries in the order the log made them, each
//! also found by its own key.

use std::collections::{BTreeMap, HashMap, btree_map};
use std::hash::Hash;

use tsunagi_proto::Seq;

/// Entries by the seq of the entry that made each (so oldest first), and each one's seq by
/// its key: a send's or reminder's or follower sync's op id, a medium's message id.
///
/// Settling an entry forgets it by its key. A key made again points at the newer entry;
/// the older stays where it was (a redelivered webhook keeps its first medium too).
#[derive(Debug, Clone)]
pub(super) struct Ledger<K, V> {
    entries: BTreeMap<Seq, V>,
    by_key: HashMap<K, Seq>,
}

impl<K, V> Default for Ledger<K, V> {
    fn default() -> Self {
        Self {
            entries: BTreeMap::new(),
            by_key: HashMap::new(),
        }
    }
}

impl<K: Eq + Hash, V> Ledger<K, V> {
    /// The ledger as a snapshot keeps it: the entries, and the index by key.
    pub(super) fn from_parts(entries: BTreeMap<Seq, V>, by_key: HashMap<K, Seq>) -> Self {
        Self { entries, by_key }
    }

    pub(super) fn entries(&self) -> &BTreeMap<Seq, V> {
        &self.entries
    }

    pub(super) fn by_key(&self) -> &HashMap<K, Seq> {
        &self.by_key
    }

    /// Notes `value`, made by the entry `seq`, under `key`.
    pub(super) fn insert(&mut self, seq: Seq, key: K, value: V) {
        self.entries.insert(seq, value);
        self.by_key.insert(key, seq);
    }

    pub(super) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let seq = self.by_key.get(key)?;
        self.entries.get_mut(seq)
    }

    /// Settles the entry noted under `key`: it is forgotten.
    pub(super) fn remove(&mut self, key: &K) -> Option<V> {
        let seq = self.by_key.remove(key)?;
        self.entries.remove(&seq)
    }

    /// The entries, oldest first.
    pub(super) fn values(&self) -> btree_map::Values<'_, Seq, V> {
        self.entries.values()
    }

    pub(super) fn values_mut(&mut self) -> btree_map::ValuesMut<'_, Seq, V> {
        self.entries.values_mut()
    }
}
