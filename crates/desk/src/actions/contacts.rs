//! A contact: tags, private notes, the clinic's own fields, and the follower list.

use std::collections::BTreeMap;
use std::path::Path;

use tsunagi_line::UserId;
use tsunagi_proto::{ConsentKind, OpId, Operation};

use crate::Result;
use crate::export::Exported;
use crate::profile::Joined;

impl Joined {
    /// Queues a tag added to `contact`, or taken off.
    pub async fn tag(&self, contact: UserId, tag: String, added: bool) -> Result<OpId> {
        self.queue(&Operation::Tag {
            contact,
            tag,
            added,
        })
        .await
    }

    /// Queues a consent `contact` gave or withdrew (to the wording of version `wording`),
    /// as an operator heard it; agreeing to reminders again undoes a stop word.
    pub async fn record_consent(
        &self,
        contact: UserId,
        consent: ConsentKind,
        given: bool,
        wording: String,
    ) -> Result<OpId> {
        let op = Operation::Consent {
            contact,
            consent,
            given,
            wording: wording.trim().to_owned(),
        };
        tsunagi_domain::validate::operation(&op)?;
        self.queue(&op).await
    }

    /// Queues a private note about `contact`, never sent to LINE.
    pub async fn note(&self, contact: UserId, text: String) -> Result<OpId> {
        self.queue(&Operation::Note { contact, text }).await
    }

    /// Queues the clinic's own facts about `contact`, by field; an empty value clears one,
    /// the fields not named stay as they are.
    pub async fn set_contact_fields(
        &self,
        contact: UserId,
        fields: BTreeMap<String, String>,
    ) -> Result<OpId> {
        self.queue(&Operation::ContactFields { contact, fields })
            .await
    }

    /// Has the relay ask LINE for the account's followers and their profiles (owners); its
    /// progress comes through the log.
    pub async fn sync_followers(&self) -> Result<()> {
        self.append_now(&Operation::SyncFollowers).await?;
        Ok(())
    }

    /// Writes everything this desk and the relay hold about `contact` to `out` as one
    /// archive (a patient's request for their data), and has the log keep that this owner
    /// took it: staff are refused by the log, and then nothing is written. Files the desk
    /// has not cached come from the relay.
    pub async fn export_contact(&self, contact: &UserId, out: &Path) -> Result<Exported> {
        let gathered = self.gather(contact).await?;
        let op = Operation::Export {
            contact: contact.clone(),
        };
        gathered.write(out, self.append_now(&op)).await
    }

    /// Erases everything Tsunagi holds about `contact` (owners): the log replaces every
    /// entry about them, the relay deletes their files, and every desk purges them as it
    /// applies the erase, this one before this returns. The audit keeps who erased which
    /// LINE user id, and when. Staff are refused by the log, and nothing is erased.
    pub async fn erase_contact(&self, contact: &UserId) -> Result<()> {
        let op = Operation::Erase {
            contact: contact.clone(),
        };
        tsunagi_domain::validate::operation(&op)?;
        self.append_now(&op).await?;
        Ok(())
    }

    /// Keeps `contact`'s data whatever the retention, for `reason` (owners), or lets the
    /// retention apply to them again.
    pub async fn hold_contact(&self, contact: &UserId, held: bool, reason: String) -> Result<()> {
        let op = Operation::Hold {
            contact: contact.clone(),
            held,
            reason: reason.trim().to_owned(),
        };
        tsunagi_domain::validate::operation(&op)?;
        self.append_now(&op).await?;
        Ok(())
    }
}
