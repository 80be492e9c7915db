//! Backups of a relay on SQLite, taken while it serves, and restoring one.
//!
//! A backup is a folder: `relay.db`, a consistent copy of the database as of one moment
//! (SQLite's `VACUUM INTO` reads one snapshot while writers go on), and the relay's key
//! file, without which the channel secrets in it cannot be opened. Keep it as privately as
//! the relay's own data folder. Users' media is plain files in `media/`, copied as files.
//! On PostgreSQL, back up with PostgreSQL's own tools (`pg_dump`, or base backups).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail, ensure};
use sqlx::Connection as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use crate::secret::KEY_FILE;

/// The relay's database file in its data folder, and in a backup.
pub const DATABASE_FILE: &str = "relay.db";

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub channels: u64,
    pub entries: u64,
    /// Whether the key file is in it (a relay keyed by `TSUNAGI_RELAY_KEY` has none).
    pub key: bool,
}

/// Copies the relay in `data` into the new folder `out`, while it may be serving.
pub async fn backup(data: &Path, out: &Path) -> Result<Summary> {
    let database = data.join(DATABASE_FILE);
    ensure!(
        database.exists(),
        "there is no relay database in {}",
        data.display()
    );
    if out.exists() {
        let empty = std::fs::read_dir(out)
            .with_context(|| format!("reading {}", out.display()))?
            .next()
            .is_none();
        ensure!(
            empty,
            "{} exists and is not empty: back up into a new folder",
            out.display()
        );
    }
    create_private_dir(out)?;
    let mut db = connect(&database, false).await?;
    let copy = out.join(DATABASE_FILE);
    sqlx::query("VACUUM INTO ?")
        .bind(
            copy.to_str()
                .context("the backup folder's path is not UTF-8")?,
        )
        .execute(&mut db)
        .await
        .with_context(|| format!("copying the database into {}", copy.display()))?;
    db.close().await.ok();
    restrict(&copy)?;
    let key = data.join(KEY_FILE);
    let has_key = key.exists();
    if has_key {
        copy_private(&key, &out.join(KEY_FILE))?;
    }
    let mut summary = check(&copy).await?;
    summary.key = has_key;
    Ok(summary)
}

/// Puts the backup in `from` into the data folder `data`, which must hold no relay
/// database (the relay stopped, its old database moved away). The backup is checked
/// before anything is written.
pub async fn restore(from: &Path, data: &Path) -> Result<Summary> {
    let backup = from.join(DATABASE_FILE);
    ensure!(
        backup.exists(),
        "{} is not a relay backup: it has no {DATABASE_FILE}",
        from.display()
    );
    let mut summary = check(&backup).await?;
    let target = data.join(DATABASE_FILE);
    for leftover in [
        target.clone(),
        data.join(format!("{DATABASE_FILE}-wal")),
        data.join(format!("{DATABASE_FILE}-shm")),
    ] {
        ensure!(
            !leftover.exists(),
            "{} exists: stop the relay and move its database away before restoring",
            leftover.display()
        );
    }
    let key = from.join(KEY_FILE);
    let existing_key = data.join(KEY_FILE);
    summary.key = key.exists();
    if summary.key && existing_key.exists() {
        let same = std::fs::read(&key)? == std::fs::read(&existing_key)?;
        ensure!(
            same,
            "{} holds another key than the backup's: move it away first",
            existing_key.display()
        );
    }
    create_private_dir(data)?;
    // Written beside the target and renamed: a restore cut short leaves no half database.
    let partial = data.join(format!("{DATABASE_FILE}.restoring"));
    copy_private(&backup, &partial)?;
    std::fs::rename(&partial, &target)
        .with_context(|| format!("moving the restored database to {}", target.display()))?;
    if summary.key && !existing_key.exists() {
        copy_private(&key, &existing_key)?;
    }
    Ok(summary)
}

/// Checks that `database` is an intact relay database, and counts what it holds.
async fn check(database: &Path) -> Result<Summary> {
    let mut db = connect(database, true).await?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut db)
        .await
        .with_context(|| format!("checking {}", database.display()))?;
    if integrity != "ok" {
        bail!("{} is damaged: {integrity}", database.display());
    }
    let counted: Result<(i64, i64), sqlx::Error> =
        sqlx::query_as("SELECT (SELECT count(*) FROM channels), (SELECT count(*) FROM entries)")
            .fetch_one(&mut db)
            .await;
    let (channels, entries) =
        counted.with_context(|| format!("{} is not a relay database", database.display()))?;
    db.close().await.ok();
    Ok(Summary {
        channels: channels as u64,
        entries: entries as u64,
        key: false,
    })
}

async fn connect(path: &Path, read_only: bool) -> Result<SqliteConnection> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(read_only)
        .busy_timeout(std::time::Duration::from_secs(10));
    SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("opening {}", path.display()))
}

fn create_private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    Ok(())
}

/// Copies a file, readable by its owner only, and synced to disk.
fn copy_private(from: &Path, to: &PathBuf) -> Result<()> {
    std::fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    restrict(to)?;
    std::fs::File::open(to)?.sync_all()?;
    Ok(())
}

fn restrict(path: &Path) -> Result<()> {
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .with_context(|| format!("restricting {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_damaged_or_foreign_backup_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let (from, data) = (dir.path().join("backup"), dir.path().join("data"));
        std::fs::create_dir(&from).unwrap();
        std::fs::write(
            from.join(DATABASE_FILE),
            b"not a database at all, just bytes",
        )
        .unwrap();
        let error = restore(&from, &data).await.unwrap_err();
        assert!(format!("{error:#}").contains("relay.db"), "{error:#}");
        assert!(!data.join(DATABASE_FILE).exists());

        // A SQLite database, but not a relay's.
        std::fs::remove_file(from.join(DATABASE_FILE)).unwrap();
        let options = SqliteConnectOptions::new()
            .filename(from.join(DATABASE_FILE))
            .create_if_missing(true);
        let mut other = SqliteConnection::connect_with(&options).await.unwrap();
        sqlx::query("CREATE TABLE notes (text TEXT)")
            .execute(&mut other)
            .await
            .unwrap();
        other.close().await.unwrap();
        let error = restore(&from, &data).await.unwrap_err();
        assert!(
            format!("{error:#}").contains("is not a relay database"),
            "{error:#}"
        );
        assert!(!data.join(DATABASE_FILE).exists());
    }
}
