//! The [`LogStore`](super::LogStore) methods whose SQL is the same on SQLite and
//! PostgreSQL (`$n` placeholders, which SQLite takes too), written once for both.

/// Expands, inside `impl LogStore for …`, to the methods both stores share. `read`,
/// `write` and `leases` name the store's pools for queries, for the rare writes outside
/// the log, and for the executors' leases and cursors.
macro_rules! shared_queries {
    (read: $read:ident, write: $write:ident, leases: $leases:ident) => {
        async fn channels(&self) -> Result<Vec<Channel>> {
            let rows: Vec<(String, i64, i64)> =
                sqlx::query_as("SELECT id, head, created_at FROM channels ORDER BY id")
                    .fetch_all(&self.$read)
                    .await?;
            Ok(rows
                .into_iter()
                .map(|(id, head, created_at)| Channel {
                    id: ChannelId::new(id),
                    head: Seq(head as u64),
                    created_at: UnixMillis(created_at),
                })
                .collect())
        }

        async fn replace_channel_secret(&self, channel: &ChannelId, secret: &Sealed) -> Result<()> {
            let result =
                sqlx::query("UPDATE channels SET secret_nonce = $1, secret_sealed = $2 WHERE id = $3")
                    .bind(&secret.nonce)
                    .bind(&secret.ciphertext)
                    .bind(channel.as_str())
                    .execute(&self.$write)
                    .await?;
            if result.rows_affected() == 0 {
                return Err(StoreError::UnknownChannel(channel.clone()));
            }
            Ok(())
        }

        async fn channel_secret(&self, channel: &ChannelId) -> Result<Option<Sealed>> {
            let row: Option<(Vec<u8>, Vec<u8>)> =
                sqlx::query_as("SELECT secret_nonce, secret_sealed FROM channels WHERE id = $1")
                    .bind(channel.as_str())
                    .fetch_optional(&self.$read)
                    .await?;
            Ok(row.map(|(nonce, ciphertext)| Sealed { nonce, ciphertext }))
        }

        async fn set_credential(
            &self,
            channel: &ChannelId,
            name: &str,
            sealed: Option<&Sealed>,
            at: UnixMillis,
        ) -> Result<()> {
            let known: Option<(String,)> = sqlx::query_as("SELECT id FROM channels WHERE id = $1")
                .bind(channel.as_str())
                .fetch_optional(&self.$write)
                .await?;
            if known.is_none() {
                return Err(StoreError::UnknownChannel(channel.clone()));
            }
            match sealed {
                Some(sealed) => {
                    sqlx::query(
                        "INSERT INTO channel_credentials (channel_id, name, nonce, sealed, updated_at) \
                         VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (channel_id, name) DO UPDATE \
                         SET nonce = excluded.nonce, sealed = excluded.sealed, updated_at = excluded.updated_at",
                    )
                    .bind(channel.as_str())
                    .bind(name)
                    .bind(&sealed.nonce)
                    .bind(&sealed.ciphertext)
                    .bind(at.0)
                    .execute(&self.$write)
                    .await?;
                }
                None => {
                    sqlx::query("DELETE FROM channel_credentials WHERE channel_id = $1 AND name = $2")
                        .bind(channel.as_str())
                        .bind(name)
                        .execute(&self.$write)
                        .await?;
                }
            }
            Ok(())
        }

        async fn credential(&self, channel: &ChannelId, name: &str) -> Result<Option<Sealed>> {
            let row: Option<(Vec<u8>, Vec<u8>)> = sqlx::query_as(
                "SELECT nonce, sealed FROM channel_credentials WHERE channel_id = $1 AND name = $2",
            )
            .bind(channel.as_str())
            .bind(name)
            .fetch_optional(&self.$read)
            .await?;
            Ok(row.map(|(nonce, ciphertext)| Sealed { nonce, ciphertext }))
        }

        async fn append(&self, channel: &ChannelId, entries: Vec<NewEntry>) -> Result<Vec<Appended>> {
            queue_append(&self.writer, channel, None, entries).await
        }

        async fn append_fenced(
            &self,
            channel: &ChannelId,
            fence: Fence,
            entries: Vec<NewEntry>,
        ) -> Result<Vec<Appended>> {
            queue_append(&self.writer, channel, Some(fence), entries).await
        }

        async fn read(&self, channel: &ChannelId, after: Seq, limit: u32) -> Result<Vec<Entry>> {
            let rows = sqlx::query_as(&format!(
                "SELECT {ENTRY_SELECT} FROM entries
                 WHERE channel_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
            ))
            .bind(channel.as_str())
            .bind(after.0 as i64)
            .bind(i64::from(limit))
            .fetch_all(&self.$read)
            .await?;
            entries_from(rows)
        }

        async fn erased_files(&self, channel: &ChannelId) -> Result<Vec<(String, String)>> {
            Ok(sqlx::query_as(
                "SELECT kind, name FROM erased_files WHERE channel_id = $1 ORDER BY kind, name",
            )
            .bind(channel.as_str())
            .fetch_all(&self.$read)
            .await?)
        }

        async fn erased_file_deleted(&self, channel: &ChannelId, kind: &str, name: &str) -> Result<()> {
            sqlx::query("DELETE FROM erased_files WHERE channel_id = $1 AND kind = $2 AND name = $3")
                .bind(channel.as_str())
                .bind(kind)
                .bind(name)
                .execute(&self.$write)
                .await?;
            Ok(())
        }

        async fn upload_named(&self, channel: &ChannelId, name: &str) -> Result<bool> {
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT seq FROM entries
                 WHERE channel_id = $1 AND kind = 'op' AND op LIKE $2 LIMIT 1",
            )
            .bind(channel.as_str())
            .bind(format!("%/public/uploads/{name}%"))
            .fetch_optional(&self.$read)
            .await?;
            Ok(found.is_some())
        }

        async fn head(&self, channel: &ChannelId) -> Result<Seq> {
            sqlx::query_scalar::<_, i64>("SELECT head FROM channels WHERE id = $1")
                .bind(channel.as_str())
                .fetch_optional(&self.$read)
                .await?
                .map(|h| Seq(h as u64))
                .ok_or_else(|| StoreError::UnknownChannel(channel.clone()))
        }

        fn subscribe(&self, channel: &ChannelId) -> watch::Receiver<Seq> {
            self.heads.subscribe(channel)
        }

        fn metrics(&self) -> &Metrics {
            &self.metrics
        }

        async fn create_invite(&self, invite: &Invite) -> Result<()> {
            let mut tx = self.$write.begin().await?;
            if invite.channel.is_none() {
                sqlx::query(
                    "UPDATE invites SET withdrawn_at = $1
                     WHERE channel_id IS NULL AND used_at IS NULL AND withdrawn_at IS NULL",
                )
                .bind(invite.created_at.0)
                .execute(&mut *tx)
                .await?;
            }
            let result = sqlx::query(
                "INSERT INTO invites
                     (id, code_hash, channel_id, role, created_by, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&invite.id)
            .bind(&invite.code_hash)
            .bind(invite.channel.as_ref().map(ChannelId::as_str))
            .bind(role_text(invite.role))
            .bind(invite.created_by.as_ref().map(DeviceId::as_str))
            .bind(invite.created_at.0)
            .bind(invite.expires_at.0)
            .execute(&mut *tx)
            .await;
            match result {
                Ok(_) => Ok(tx.commit().await?),
                Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                    match &invite.channel {
                        Some(channel) => Err(StoreError::UnknownChannel(channel.clone())),
                        None => Err(sqlx::Error::Database(e).into()),
                    }
                }
                Err(e) => Err(e.into()),
            }
        }

        async fn invites(
            &self,
            channel: &ChannelId,
            now: UnixMillis,
        ) -> Result<Vec<OutstandingInvite>> {
            let rows: Vec<(String, String, Option<String>, i64, i64)> = sqlx::query_as(
                "SELECT id, role, created_by, created_at, expires_at FROM invites
                 WHERE channel_id = $1 AND used_at IS NULL AND withdrawn_at IS NULL
                   AND expires_at > $2 AND id IS NOT NULL
                 ORDER BY created_at, id",
            )
            .bind(channel.as_str())
            .bind(now.0)
            .fetch_all(&self.$read)
            .await?;
            rows.into_iter()
                .map(|(id, role, created_by, created_at, expires_at)| {
                    Ok(OutstandingInvite {
                        id,
                        role: super::columns::role_from(&role)?,
                        created_by: created_by.map(DeviceId::new),
                        created_at: UnixMillis(created_at),
                        expires_at: UnixMillis(expires_at),
                    })
                })
                .collect()
        }

        async fn withdraw_invite(
            &self,
            channel: &ChannelId,
            id: &str,
            now: UnixMillis,
        ) -> Result<bool> {
            let result = sqlx::query(
                "UPDATE invites SET withdrawn_at = $1
                 WHERE id = $2 AND channel_id = $3 AND used_at IS NULL AND withdrawn_at IS NULL",
            )
            .bind(now.0)
            .bind(id)
            .bind(channel.as_str())
            .execute(&self.$write)
            .await?;
            Ok(result.rows_affected() == 1)
        }

        async fn device(&self, id: &DeviceId) -> Result<Option<Device>> {
            sqlx::query_as::<_, DeviceRow>(&format!(
                "SELECT {DEVICE_SELECT} FROM devices WHERE id = $1"
            ))
            .bind(id.as_str())
            .fetch_optional(&self.$read)
            .await?
            .map(Device::try_from)
            .transpose()
        }

        async fn seen(&self, id: &DeviceId, at: UnixMillis) -> Result<()> {
            sqlx::query("UPDATE devices SET last_seen_at = $1 WHERE id = $2")
                .bind(at.0)
                .bind(id.as_str())
                .execute(&self.$write)
                .await?;
            Ok(())
        }

        async fn devices(&self, channel: &ChannelId) -> Result<Vec<Device>> {
            sqlx::query_as::<_, DeviceRow>(&format!(
                "SELECT {DEVICE_SELECT} FROM devices WHERE channel_id = $1 OR channel_id IS NULL
                 ORDER BY created_at, id"
            ))
            .bind(channel.as_str())
            .fetch_all(&self.$read)
            .await?
            .into_iter()
            .map(Device::try_from)
            .collect()
        }

        async fn has_relay_owner(&self) -> Result<bool> {
            let found = sqlx::query(
                "SELECT 1 FROM devices
                 WHERE channel_id IS NULL AND role = 'owner' AND revoked_at IS NULL LIMIT 1",
            )
            .fetch_optional(&self.$read)
            .await?;
            Ok(found.is_some())
        }

        async fn revoked_since(&self, since: UnixMillis) -> Result<Vec<DeviceId>> {
            let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM devices WHERE revoked_at >= $1")
                .bind(since.0)
                .fetch_all(&self.$read)
                .await?;
            Ok(ids.into_iter().map(DeviceId::new).collect())
        }

        async fn revoke_device(&self, id: &DeviceId, now: UnixMillis) -> Result<bool> {
            let mut tx = self.$write.begin().await?;
            let result =
                sqlx::query("UPDATE devices SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
                    .bind(now.0)
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await?;
            sqlx::query(
                "UPDATE invites SET withdrawn_at = $1
                 WHERE created_by = $2 AND used_at IS NULL AND withdrawn_at IS NULL",
            )
            .bind(now.0)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(result.rows_affected() == 1)
        }

        async fn release_executor(&self, channel: &ChannelId, holder: &str) -> Result<()> {
            sqlx::query(
                "UPDATE executors SET lease_expires_at = 0 WHERE channel_id = $1 AND holder = $2",
            )
            .bind(channel.as_str())
            .bind(holder)
            .execute(&self.$leases)
            .await?;
            Ok(())
        }

        async fn executor_cursor(&self, channel: &ChannelId) -> Result<Option<Seq>> {
            let cursor: Option<i64> =
                sqlx::query_scalar("SELECT cursor FROM executors WHERE channel_id = $1")
                    .bind(channel.as_str())
                    .fetch_optional(&self.$read)
                    .await?;
            Ok(cursor.map(|c| Seq(c as u64)))
        }

        async fn move_executor_cursor(
            &self,
            channel: &ChannelId,
            holder: &str,
            seq: Seq,
            now: UnixMillis,
        ) -> Result<bool> {
            let result = sqlx::query(
                "UPDATE executors SET cursor = CASE WHEN cursor > $1 THEN cursor ELSE $1 END
                 WHERE channel_id = $2 AND holder = $3 AND lease_expires_at > $4",
            )
            .bind(seq.0 as i64)
            .bind(channel.as_str())
            .bind(holder)
            .bind(now.0)
            .execute(&self.$leases)
            .await?;
            Ok(result.rows_affected() == 1)
        }

        async fn save_executor_snapshot(
            &self,
            channel: &ChannelId,
            fence: Fence,
            seq: Seq,
            state: Vec<u8>,
        ) -> Result<()> {
            let result = sqlx::query(
                "INSERT INTO executor_snapshots (channel_id, seq, state)
                 SELECT $1, $2, $3 FROM executors
                 WHERE channel_id = $1 AND holder = $4 AND lease_expires_at > $5 AND cursor >= $2
                 ON CONFLICT (channel_id) DO UPDATE SET seq = excluded.seq, state = excluded.state",
            )
            .bind(channel.as_str())
            .bind(seq.0 as i64)
            .bind(state)
            .bind(&fence.holder)
            .bind(fence.now.0)
            .execute(&self.$leases)
            .await?;
            if result.rows_affected() == 1 {
                Ok(())
            } else {
                Err(StoreError::LeaseLost(channel.clone()))
            }
        }

        async fn executor_snapshot(&self, channel: &ChannelId) -> Result<Option<(Seq, Vec<u8>)>> {
            let row: Option<(i64, Vec<u8>)> =
                sqlx::query_as("SELECT seq, state FROM executor_snapshots WHERE channel_id = $1")
                    .bind(channel.as_str())
                    .fetch_optional(&self.$read)
                    .await?;
            Ok(row.map(|(seq, state)| (Seq(seq as u64), state)))
        }
    };
}

pub(super) use shared_queries;
