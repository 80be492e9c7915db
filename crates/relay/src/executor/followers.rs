//! Profiles: the followers LINE lists, a page of ids and a batch of profiles at a time, and
//! the profile of someone first seen in a chat, fetched several at once and paced to LINE's
//! rate limit.

use futures_util::StreamExt as _;
use tsunagi_domain::automation::{Logged, SyncStep};
use tsunagi_line::UserId;
use tsunagi_line::client::Profile;
use tsunagi_line::webhook::Chat;
use tsunagi_proto::{ContactProfile, OpId, Operation, SyncOutcome};

use super::client::{describe, is_final};
use super::{Executor, Failure};
use crate::store::LogStore;

/// Profiles fetched and logged together during a follower sync.
pub(super) const SYNC_BATCH: usize = 1_000;

/// Follower ids per page (LINE's most).
const IDS_PER_PAGE: u32 = 1_000;

impl<S: LogStore> Executor<S> {
    /// One step of a follower sync: a page of ids, a batch of profiles, or the end.
    pub(super) async fn sync_followers(&mut self, step: SyncStep) -> Result<(), Failure> {
        match step {
            SyncStep::Page { sync, page, start } => {
                let listed = self
                    .client()
                    .await?
                    .followers_ids(Some(IDS_PER_PAGE), start.as_deref())
                    .await;
                let op = match listed {
                    Ok(ids) => Operation::FollowerIds {
                        sync,
                        page,
                        user_ids: ids.user_ids,
                        next: ids.next,
                    },
                    Err(error) if error.status() == Some(403) => Operation::FollowerSyncDone {
                        sync,
                        outcome: SyncOutcome::Unavailable {
                            reason: format!(
                                "LINE lists followers only for verified and premium accounts ({})",
                                describe(&error).0
                            ),
                        },
                    },
                    Err(error) if is_final(&error) => Operation::FollowerSyncDone {
                        sync,
                        outcome: SyncOutcome::Failed {
                            reason: describe(&error).0,
                        },
                    },
                    Err(error) => return Err(Failure::Line(error)),
                };
                self.log_one(format!("followers/{sync}/page/{page}"), op)
                    .await
            }
            SyncStep::Profiles {
                sync,
                users,
                done,
                total,
            } => {
                let users = (users.into_iter())
                    .map(|user| (user.clone(), Chat::User(user)))
                    .collect();
                let fetched = self.fetch_profiles(users).await?;
                let mut profiles = Vec::with_capacity(fetched.len());
                let mut skipped = Vec::new();
                for (user, profile) in fetched {
                    match profile {
                        Ok(profile) => profiles.push(profile),
                        // 404: they left since LINE listed them.
                        Err(error) if is_final(&error) => skipped.push(user),
                        Err(error) => return Err(Failure::Line(error)),
                    }
                }
                let batch = (profiles.len() + skipped.len()) as u64;
                let cause = format!("followers/{sync}/profiles/{done}");
                self.log(vec![
                    Logged {
                        op_id: OpId::derived(&cause),
                        op: Operation::Profiles { profiles },
                    },
                    Logged {
                        op_id: OpId::derived(&format!("{cause}/progress")),
                        op: Operation::FollowerSyncProgress {
                            sync,
                            done: done + batch,
                            total,
                            skipped,
                        },
                    },
                ])
                .await
                .map(drop)
            }
            SyncStep::Finish { sync, total } => {
                self.log_one(
                    format!("followers/{sync}/done"),
                    Operation::FollowerSyncDone {
                        sync,
                        outcome: SyncOutcome::Done { total },
                    },
                )
                .await
            }
        }
    }

    /// Fetches profiles, several at a time, paced to LINE's rate limit; in the order asked.
    /// A user seen in a group or room is asked of that group or room (LINE answers for its
    /// members, friends or not); anyone else of LINE's profiles of the account's friends.
    pub(super) async fn fetch_profiles(
        &mut self,
        users: Vec<(UserId, Chat)>,
    ) -> Result<Vec<(UserId, tsunagi_line::Result<ContactProfile>)>, Failure> {
        let client = self.client().await?.clone();
        let limiter = self.profiles.clone();
        let mut fetched = Vec::with_capacity(users.len());
        let mut fetching = futures_util::stream::iter(users)
            .map(|(user, chat)| {
                let (client, limiter) = (client.clone(), limiter.clone());
                async move {
                    limiter.until_ready().await;
                    let profile = match &chat {
                        Chat::Group(group) => {
                            (client.group_member_profile(group, &user).await).map(of_member)
                        }
                        Chat::Room(room) => {
                            (client.room_member_profile(room, &user).await).map(of_member)
                        }
                        Chat::User(_) => client.profile(&user).await.map(of_follower),
                    };
                    (user, profile)
                }
            })
            .buffered(self.options.profile_concurrency);
        while let Some(profile) = fetching.next().await {
            if let Err(error) = &profile.1 {
                self.refused(error);
            }
            fetched.push(profile);
            // A thousand calls can outlast the lease they are made under.
            self.keep_lease().await?;
        }
        Ok(fetched)
    }
}

/// A profile LINE gave for a follower of the account (it answers only for those).
fn of_follower(profile: Profile) -> ContactProfile {
    ContactProfile {
        user_id: profile.user_id,
        display_name: profile.display_name,
        picture_url: profile.picture_url,
        status_message: profile.status_message,
        language: profile.language,
        follower: true,
    }
}

/// A profile LINE gave for a member of a group or room, who may not be a friend of the
/// account: a name and a picture only.
fn of_member(profile: Profile) -> ContactProfile {
    ContactProfile {
        follower: false,
        ..of_follower(profile)
    }
}
