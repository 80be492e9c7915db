//! Ops this desk made that are not yet in the log. They wait here while the relay is out
//! of reach and go out in the order they were made, each under the idempotency key it got
//! when it was made, so sending one twice logs it once.

use serde::Serialize;
use sqlx::Row as _;
use tsunagi_proto::api::OperatorInfo;
use tsunagi_proto::{OpId, Operation, UnixMillis};

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
    pub async fn enqueue(&self, op: &Operation, now: UnixMillis) -> Result<OpId> {
        let op_id = OpId::new();
        let json = serde_json::to_string(op).map_err(|e| Error::Invalid(e.to_string()))?;
        sqlx::query("INSERT INTO outbox (op_id, op, created_at) VALUES (?, ?, ?)")
            .bind(op_id.to_string())
            .bind(json)
            .bind(now.0)
            .execute(&self.writer)
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
                            .map_err(|_| Error::Store("outbox op id".into()))?,
                    ),
                    op: serde_json::from_str(&op)
                        .map_err(|e| Error::Store(format!("outbox op: {e}")))?,
                    created_at: row.get(2),
                    last_error: row.get(3),
                    refused: row.get(4),
                })
            })
            .collect()
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
        sqlx::query("DELETE FROM outbox WHERE op_id = ?")
            .bind(op_id.to_string())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub(crate) async fn not_delivered(
        &self,
        op_id: OpId,
        error: &str,
        refused: bool,
    ) -> Result<()> {
        sqlx::query("UPDATE outbox SET last_error = ?, refused = ? WHERE op_id = ?")
            .bind(error)
            .bind(refused)
            .bind(op_id.to_string())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Replaces the operator directory with the relay's list.
    pub async fn set_operators(&self, operators: &[OperatorInfo]) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM operators")
            .execute(&mut *tx)
            .await?;
        for operator in operators {
            let role = serde_json::to_value(operator.role)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            sqlx::query("INSERT INTO operators (id, name, role, active) VALUES (?, ?, ?, ?)")
                .bind(operator.operator.as_str())
                .bind(&operator.name)
                .bind(role)
                .bind(operator.active)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
