//! Ops this desk made that are not yet in the log. They wait here while the relay is out
//! of reach and go out in the order they were made, each under the idempotency key it got
//! when it was made, so sending one twice logs it once.

use serde::Serialize;
use sqlx::Row as _;
use std::collections::BTreeSet;
use tsunagi_proto::api::OperatorInfo;

use tsunagi_proto::{ConversationId, DeviceId, EXECUTOR_DEVICE, OpId, Operation, UnixMillis};

use crate::store::Store;
use crate::{Error, Result};

/// An op waiting for the relay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingOp {
    pub op_id: OpId,
    pub op: Operation,
    pub created_at: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The relay refused it: it will not be sent again.
    pub refused: bool,
}

impl Store {
    /// Queues an op to append; its idempotency key is fixed now.
    /// An op the relay would refuse is refused here, with every reason.
    pub async fn enqueue(&self, op: &Operation, now: UnixMillis) -> Result<OpId> {
        tsunagi_domain::validate::operation(op)?;
        let op_id = OpId::new();
        let json = serde_json::to_string(op).map_err(|e| Error::Invalid(e.to_string()))?;
        self.writer
            .run(move |db| {
                db.prepare_cached("INSERT INTO outbox (op_id, op, created_at) VALUES (?, ?, ?)")?
                    .execute(rusqlite::params![op_id.to_string(), json, now.0])?;
                Ok(())
            })
            .await?;
        Ok(op_id)
    }

    /// Every op not yet in the log, oldest first (refused ones included).
    pub async fn pending(&self) -> Result<Vec<PendingOp>> {
        let rows = sqlx::query(
            "SELECT op_id, op, created_at, last_error, refused FROM outbox ORDER BY position",
        )
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.get(0);
                let op: String = row.get(1);
                Ok(PendingOp {
                    op_id: OpId(
                        id.parse()
                            .map_err(|_| Error::unreadable(format!("an outbox op id {id:?}")))?,
                    ),
                    op: serde_json::from_str(&op)
                        .map_err(|e| Error::unreadable(format!("an outbox op: {e}")))?,
                    created_at: row.get(2),
                    last_error: row.get(3),
                    refused: row.get(4),
                })
            })
            .collect()
    }

    /// This desk's ops on `conversation` not yet in the log, oldest first.
    pub async fn pending_in(&self, conversation: &ConversationId) -> Result<Vec<PendingOp>> {
        let mut pending = self.pending().await?;
        pending.retain(|p| p.op.conversation() == Some(conversation));
        Ok(pending)
    }

    /// How many ops wait for the relay, and how many it refused.
    pub async fn outbox_counts(&self) -> Result<(u32, u32)> {
        let row = sqlx::query(
            "SELECT COUNT(*) FILTER (WHERE NOT refused), COUNT(*) FILTER (WHERE refused)
             FROM outbox",
        )
        .fetch_one(&self.readers)
        .await?;
        Ok((row.get::<i64, _>(0) as u32, row.get::<i64, _>(1) as u32))
    }

    /// Makes a refused op wait to be sent again.
    pub(crate) async fn unrefuse(&self, op_id: OpId) -> Result<()> {
        let changed = self
            .writer
            .run(move |db| {
                Ok(db
                    .prepare_cached("UPDATE outbox SET refused = 0 WHERE op_id = ? AND refused")?
                    .execute([op_id.to_string()])?)
            })
            .await?;
        if changed == 0 {
            return Err(Error::Invalid(format!("op {op_id} is not a refused op")));
        }
        Ok(())
    }

    /// Drops an op that has not reached the log.
    pub(crate) async fn discard(&self, op_id: OpId) -> Result<()> {
        let changed = self
            .writer
            .run(move |db| {
                Ok(db
                    .prepare_cached("DELETE FROM outbox WHERE op_id = ?")?
                    .execute([op_id.to_string()])?)
            })
            .await?;
        if changed == 0 {
            return Err(Error::Invalid(format!(
                "op {op_id} is not waiting here (it may be in the log already)"
            )));
        }
        Ok(())
    }

    /// The oldest op still to send.
    pub(crate) async fn next_pending(&self) -> Result<Option<(OpId, Operation)>> {
        let pending = self.pending().await?;
        Ok(pending
            .into_iter()
            .find(|p| !p.refused)
            .map(|p| (p.op_id, p.op)))
    }

    /// The op is in the log.
    pub(crate) async fn delivered(&self, op_id: OpId) -> Result<()> {
        self.writer
            .run(move |db| {
                db.prepare_cached("DELETE FROM outbox WHERE op_id = ?")?
                    .execute([op_id.to_string()])?;
                Ok(())
            })
            .await
    }

    pub(crate) async fn not_delivered(
        &self,
        op_id: OpId,
        error: &str,
        refused: bool,
    ) -> Result<()> {
        let error = error.to_owned();
        self.writer
            .run(move |db| {
                db.prepare_cached("UPDATE outbox SET last_error = ?, refused = ? WHERE op_id = ?")?
                    .execute(rusqlite::params![error, refused, op_id.to_string()])?;
                Ok(())
            })
            .await
    }

    /// Those of `devices` (other than the relay's executor) missing from the operator
    /// directory.
    pub async fn unknown_operators(
        &self,
        devices: &BTreeSet<DeviceId>,
    ) -> Result<BTreeSet<DeviceId>> {
        let mut unknown = BTreeSet::new();
        for device in devices {
            if device.as_str() == EXECUTOR_DEVICE {
                continue;
            }
            let known = sqlx::query("SELECT 1 FROM operators WHERE id = ?")
                .bind(device.as_str())
                .fetch_optional(&self.readers)
                .await?;
            if known.is_none() {
                unknown.insert(device.clone());
            }
        }
        Ok(unknown)
    }

    /// Replaces the operator directory with the relay's list.
    pub async fn set_operators(&self, operators: &[OperatorInfo]) -> Result<()> {
        let operators = operators.to_vec();
        self.writer
            .run(move |db| {
                let tx = db.transaction()?;
                tx.execute("DELETE FROM operators", [])?;
                for operator in &operators {
                    let role = serde_json::to_value(operator.role)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    tx.prepare_cached(
                        "INSERT INTO operators (id, name, role, active) VALUES (?, ?, ?, ?)",
                    )?
                    .execute(rusqlite::params![
                        operator.operator.as_str(),
                        operator.name,
                        role,
                        operator.active
                    ])?;
                }
                tx.commit()?;
                Ok(())
            })
            .await
    }
}
