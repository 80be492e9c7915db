//! What the executor writes to the log: the bot's decisions, with the profiles they ask
//! for, and what became of the executor's own work, appended under the executor's device
//! and fenced by its lease.

use serde_json::value::RawValue;
use tsunagi_domain::automation::{Decision, Logged};
use tsunagi_line::UserId;
use tsunagi_line::webhook::Chat;
use tsunagi_proto::{DeviceId, EXECUTOR_DEVICE, OpId, Operation};

use super::{Executor, Failure};
use crate::store::{LogStore, NewBody, NewEntry, StoreError};

impl<S: LogStore> Executor<S> {
    /// Logs the bot's ops in one append, then fetches the profiles it asked for. Returns
    /// how many ops were new to the log.
    pub(super) async fn decide(&mut self, decisions: Vec<Decision>) -> Result<usize, Failure> {
        let mut ops = Vec::new();
        let mut profiles = Vec::new();
        for decision in decisions {
            match decision {
                Decision::Log(logged) => ops.push(logged),
                Decision::FetchProfile { user, chat, op_id } => {
                    profiles.push(((user, chat), op_id));
                }
            }
        }
        let mut new = self.log(ops).await?;
        if profiles.is_empty() {
            return Ok(new);
        }
        let (users, ids): (Vec<(UserId, Chat)>, Vec<OpId>) = profiles.into_iter().unzip();
        let fetched = self.fetch_profiles(users).await?;
        let ops = ids
            .into_iter()
            .zip(fetched)
            .filter_map(|(op_id, (user, profile))| match profile {
                Ok(profile) => Some(Logged {
                    op_id,
                    op: Operation::Profiles {
                        profiles: vec![profile],
                    },
                }),
                // Not a friend (404), no longer a member, or LINE is busy: the profile
                // comes with the next follower sync instead, if they follow.
                Err(error) => {
                    tracing::debug!(%user, %error, "no profile");
                    None
                }
            })
            .collect();
        new += self.log(ops).await?;
        Ok(new)
    }

    /// Appends ops under the executor's device, in one durable write.
    pub(super) async fn log(&self, ops: Vec<Logged>) -> Result<usize, Failure> {
        if ops.is_empty() {
            return Ok(0);
        }
        // The night's purge: once the log is purged, the files go, and the uploads older
        // than their time.
        let uploads_before = ops.iter().find_map(|logged| match &logged.op {
            Operation::Expire { before, .. } => Some(before.uploads),
            _ => None,
        });
        let at = self.relay.now();
        let entries = ops
            .into_iter()
            .map(|Logged { op_id, op }| {
                let op = serde_json::to_string(&op)
                    .ok()
                    .and_then(|json| RawValue::from_string(json).ok())
                    .ok_or_else(|| StoreError::Corrupt("an op that is not JSON".into()))?;
                Ok(NewEntry {
                    at,
                    body: NewBody::Op {
                        op_id,
                        device: DeviceId::from(EXECUTOR_DEVICE),
                        role: None,
                        op,
                    },
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let appended = self
            .relay
            .store
            .append_fenced(&self.channel, self.fence(), entries)
            .await?;
        if let Some(uploads_before) = uploads_before {
            self.expired_files(uploads_before).await;
        }
        Ok(appended
            .iter()
            .filter(|a| matches!(a, crate::store::Appended::New(_)))
            .count())
    }

    /// Deletes what the night's purge left: the files it noted, and the uploads kept
    /// since before `uploads_before`. A failure is logged; what is left goes at the next
    /// start or night.
    async fn expired_files(&self, uploads_before: Option<tsunagi_proto::UnixMillis>) {
        if let Err(error) = crate::erased::delete_erased_files(&self.relay, &self.channel).await {
            tracing::warn!(%error, "deleting the files the night's purge left");
        }
        let (Some(before), Some(media)) = (uploads_before, self.relay.media()) else {
            return;
        };
        match media.uploads().expire(&self.channel, before).await {
            Ok(0) => {}
            Ok(deleted) => {
                tracing::info!(channel = %self.channel, deleted, "deleted uploads past the clinic's retention")
            }
            Err(error) => tracing::warn!(%error, "deleting uploads past the clinic's retention"),
        }
    }

    pub(super) async fn log_one(&self, cause: String, op: Operation) -> Result<(), Failure> {
        self.log(vec![Logged {
            op_id: OpId::derived(&cause),
            op,
        }])
        .await
        .map(drop)
    }
}
