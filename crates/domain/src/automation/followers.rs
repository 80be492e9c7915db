//! Follower syncs: listing every follower, page by page, and fetching each one's profile.

use std::collections::HashSet;

use tsunagi_line::UserId;
use tsunagi_proto::{ContactProfile, Entry, EntryBody, OpId};

use super::Bot;

/// A follower sync in the log, and how far it got.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct FollowerSync {
    pub(super) op_id: OpId,
    /// Follower ids in the order LINE listed them, page by page.
    pub(super) ids: Vec<UserId>,
    pub(super) listed: HashSet<UserId>,
    pub(super) pages: u32,
    pub(super) next: Option<String>,
    /// Every page is listed.
    pub(super) complete: bool,
    /// Followers whose profile is logged since the sync began.
    pub(super) profiled: HashSet<UserId>,
    pub(super) finished: bool,
}

/// What a follower sync needs next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncStep {
    /// The next page of follower ids, from `start` (LINE's `next` of the page before).
    Page {
        sync: OpId,
        page: u32,
        start: Option<String>,
    },
    /// Profiles to fetch, and how far the sync is.
    Profiles {
        sync: OpId,
        users: Vec<UserId>,
        done: u64,
        total: u64,
    },
    /// Every listed follower is profiled.
    Finish { sync: OpId, total: u64 },
}

impl Bot {
    /// The next step of the oldest follower sync not finished, with at most `batch`
    /// profiles to fetch.
    pub fn follower_sync(&self, batch: usize) -> Option<SyncStep> {
        let sync = self.syncs.values().find(|s| !s.finished)?;
        if !sync.complete {
            return Some(SyncStep::Page {
                sync: sync.op_id,
                page: sync.pages,
                start: sync.next.clone(),
            });
        }
        let total = sync.ids.len() as u64;
        let users: Vec<UserId> = sync
            .ids
            .iter()
            .filter(|u| !sync.profiled.contains(*u))
            .take(batch)
            .cloned()
            .collect();
        if users.is_empty() {
            return Some(SyncStep::Finish {
                sync: sync.op_id,
                total,
            });
        }
        Some(SyncStep::Profiles {
            sync: sync.op_id,
            users,
            done: sync.profiled.len() as u64,
            total,
        })
    }

    /// A follower sync begins.
    pub(super) fn fold_sync_followers(&mut self, entry: &Entry) {
        if let EntryBody::Op { op_id, .. } = &entry.body {
            self.syncs.insert(
                entry.seq,
                *op_id,
                FollowerSync {
                    op_id: *op_id,
                    ids: Vec::new(),
                    listed: HashSet::new(),
                    pages: 0,
                    next: None,
                    complete: false,
                    profiled: HashSet::new(),
                    finished: false,
                },
            );
        }
    }

    /// A page of follower ids, taken if it is the page the sync asked for next.
    pub(super) fn fold_follower_ids(
        &mut self,
        sync: &OpId,
        page: u32,
        user_ids: &[UserId],
        next: &Option<String>,
    ) {
        let Some(sync) = self.syncs.get_mut(sync) else {
            return;
        };
        if page != sync.pages || sync.complete {
            return;
        }
        for user in user_ids {
            if sync.listed.insert(user.clone()) {
                sync.ids.push(user.clone());
            }
        }
        sync.pages += 1;
        sync.next.clone_from(next);
        sync.complete = next.is_none();
    }

    /// Followers whose profile the sync skipped count as done.
    pub(super) fn fold_sync_progress(&mut self, sync: &OpId, skipped: &[UserId]) {
        if let Some(sync) = self.syncs.get_mut(sync) {
            sync.profiled.extend(skipped.iter().cloned());
        }
    }

    pub(super) fn fold_sync_done(&mut self, sync: &OpId) {
        if let Some(sync) = self.syncs.get_mut(sync) {
            sync.finished = true;
        }
    }

    /// Listed followers whose profile is logged count as done in every sync not finished.
    pub(super) fn note_profiled(&mut self, profiles: &[ContactProfile]) {
        for sync in self.syncs.values_mut().filter(|s| !s.finished) {
            sync.profiled.extend(
                profiles
                    .iter()
                    .map(|p| &p.user_id)
                    .filter(|u| sync.listed.contains(*u))
                    .cloned(),
            );
        }
    }
}
