//! Upgrades keep data: a desk's store and a relay's database, at every schema an earlier
//! version left them in and holding what that schema could hold of a clinic's day, open
//! in this version with every row they had.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection as _, Row as _, SqliteConnection};
use tsunagi_desk::Store;
use tsunagi_desk::relay::{DeviceToken, RelayClient};
use tsunagi_desk::sync::{Sync, SyncOptions};
use tsunagi_e2e::clinic::{CHANNEL, Clinic};
use tsunagi_line::client::RetryKey;
use tsunagi_line::message::Message;
use tsunagi_line::{ChannelId, UserId};
use tsunagi_proto::api::Role;
use tsunagi_proto::{ConversationId, Operation, SendOp};
use tsunagi_relay::store::{LogStore as _, SqliteStore};
use url::Url;

fn migrations(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(name)
}

#[tokio::test]
async fn a_relay_database_from_every_earlier_schema_upgrades_keeping_its_rows() {
    let day = ClinicDay::record().await;
    every_prefix_upgrades(&migrations("relay-sqlite"), &day.relay, |path| async move {
        SqliteStore::open(&path).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_desk_store_from_every_earlier_schema_upgrades_keeping_its_rows() {
    let day = ClinicDay::record().await;
    every_prefix_upgrades(&migrations("desk"), &day.desk, |path| async move {
        Store::open(&path).await.unwrap().close().await;
    })
    .await;
}

/// A relay's database and a desk's store after a morning at the clinic: patients writing,
/// operators claiming, answering and closing, a patient blocking the account.
struct ClinicDay {
    relay: PathBuf,
    desk: PathBuf,
    _dir: tempfile::TempDir,
}

impl ClinicDay {
    async fn record() -> ClinicDay {
        let clinic = Clinic::start(6).await.unwrap();
        let patients: Vec<UserId> = clinic.patients().into_iter().map(|p| p.user_id).collect();
        let dir = tempfile::tempdir().unwrap();
        let desk_path = dir.path().join("desk.db");
        let code = clinic.invite(Role::Owner).await.unwrap();
        let enrolled = crate::processes::enroll(&clinic.relay_address, &code, "Aiko").await;
        let client = RelayClient::new(
            Url::parse(&clinic.relay_address).unwrap(),
            DeviceToken::new(enrolled.token),
        )
        .unwrap();
        let store = Store::open(&desk_path).await.unwrap();
        let sync = Sync::new(
            store.clone(),
            client,
            ChannelId::from(CHANNEL),
            SyncOptions::default(),
        );
        let running = tokio::spawn({
            let sync = sync.clone();
            async move {
                let _ = sync.run(std::future::pending()).await;
            }
        });

        for (n, patient) in patients.iter().enumerate() {
            clinic
                .says(patient, &format!("予約の変更をお願いします {n}"))
                .await
                .unwrap();
        }
        for patient in &patients[..4] {
            let conversation = ConversationId::from(patient.as_str());
            clinic.claim_as("front-desk", patient).await.unwrap();
            clinic
                .act_as(
                    "front-desk",
                    Operation::Send(SendOp {
                        conversation: conversation.clone(),
                        messages: vec![Message::text("承知しました。")],
                        retry_key: RetryKey::new(),
                        prefer_reply_token: true,
                    }),
                )
                .await
                .unwrap();
            clinic.until_received(patient, 1).await.unwrap();
        }
        clinic
            .act_as(
                "front-desk",
                Operation::Close {
                    conversation: ConversationId::from(patients[0].as_str()),
                },
            )
            .await
            .unwrap();
        clinic.blocks(&patients[5]).await.unwrap();

        // The desk catches up with everything the relay logged, the executor's outcomes too.
        let channel = ChannelId::from(CHANNEL);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let head = clinic.relay.store.head(&channel).await.unwrap();
            if store.cursor().await.unwrap() == head && head.0 > 20 {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the desk never caught up"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        running.abort();
        drop(sync);
        store.close().await;

        // A consistent copy of the relay's database, its write-ahead log folded in.
        let relay_path = dir.path().join("relay.db");
        let mut relay = connect(&clinic.relay_database()).await;
        sqlx::query("VACUUM INTO ?")
            .bind(relay_path.to_str().unwrap())
            .execute(&mut relay)
            .await
            .unwrap();
        relay.close().await.unwrap();
        ClinicDay {
            relay: relay_path,
            desk: desk_path,
            _dir: dir,
        }
    }
}

/// Work the store has still to do, which an upgrade may add to (one that rebuilds the
/// search index queues every contact to be indexed again) but never takes from.
const QUEUES: &[&str] = &["contacts_to_index"];

/// For every prefix of `migrations` (a store some earlier version left): a database at that
/// schema, filled with what it can hold of `full`'s rows, upgraded by `open`. Every row it
/// held is still there afterwards, and its schema is the one a fresh store gets.
async fn every_prefix_upgrades<F, Fut>(migrations: &Path, full: &Path, open: F)
where
    F: Fn(PathBuf) -> Fut,
    Fut: Future<Output = ()>,
{
    let all = Migrator::new(migrations).await.unwrap();
    let count = all.migrations.len();
    assert!(
        count > 1,
        "{} holds {count} migrations",
        migrations.display()
    );
    let dir = tempfile::tempdir().unwrap();

    let fresh = dir.path().join("fresh.db");
    open(fresh.clone()).await;
    let fresh_schema = schema(&mut connect(&fresh).await).await;

    for prefix in 1..count {
        let path = dir.path().join(format!("at-{prefix}.db"));
        let mut db = connect(&path).await;
        let earlier = Migrator {
            migrations: all.migrations[..prefix].to_vec().into(),
            ..Migrator::DEFAULT
        };
        earlier.run(&mut db).await.unwrap();
        let copied = copy_rows(&mut db, full).await;
        assert!(copied > 0, "nothing to upgrade at schema {prefix}");
        let held = held_columns(&mut db).await;
        let before = rows(&mut db, &held).await;
        db.close().await.unwrap();

        open(path.clone()).await;

        let mut db = connect(&path).await;
        let after = rows(&mut db, &held).await;
        for (table, rows) in &before {
            if QUEUES.contains(&table.as_str()) {
                let lost: Vec<&String> =
                    rows.iter().filter(|r| !after[table].contains(r)).collect();
                assert!(
                    lost.is_empty(),
                    "upgrading from schema {prefix} of {count} lost from `{table}`: {lost:?}"
                );
                continue;
            }
            pretty_assertions::assert_eq!(
                &after[table],
                rows,
                "upgrading from schema {prefix} of {count} changed `{table}`"
            );
        }
        pretty_assertions::assert_eq!(
            schema(&mut db).await,
            fresh_schema,
            "schema after upgrading from {prefix} of {count}"
        );
        db.close().await.unwrap();
    }
}

async fn connect(path: &Path) -> SqliteConnection {
    let options = SqliteConnectOptions::from_str("sqlite:")
        .unwrap()
        .filename(path)
        .create_if_missing(true);
    SqliteConnection::connect_with(&options).await.unwrap()
}

/// The tables a schema holds rows in: its own, not SQLite's, the migrator's, or the inner
/// tables of full-text indexes (which their triggers fill).
async fn tables(db: &mut SqliteConnection) -> Vec<String> {
    let all: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut *db)
    .await
    .unwrap();
    let virtual_tables: Vec<&String> = all
        .iter()
        .filter(|(_, sql)| sql.starts_with("CREATE VIRTUAL TABLE"))
        .map(|(name, _)| name)
        .collect();
    all.iter()
        .filter(|(name, _)| {
            !virtual_tables
                .iter()
                .any(|v| name == *v || name.starts_with(&format!("{v}_")))
        })
        .map(|(name, _)| name.clone())
        .collect()
}

async fn columns(db: &mut SqliteConnection, schema: &str, table: &str) -> Vec<String> {
    sqlx::query(&format!(
        "SELECT name FROM {schema}.pragma_table_info('{table}')"
    ))
    .fetch_all(&mut *db)
    .await
    .unwrap()
    .iter()
    .map(|row| row.get::<String, _>(0))
    .collect()
}

/// Copies into `db` every row of `full` its schema can hold: the columns both have, rows
/// its constraints refuse left out. Returns how many rows it holds then.
async fn copy_rows(db: &mut SqliteConnection, full: &Path) -> usize {
    sqlx::query("ATTACH DATABASE ? AS full")
        .bind(full.to_str().unwrap())
        .execute(&mut *db)
        .await
        .unwrap();
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *db)
        .await
        .unwrap();
    let mut held = 0;
    for table in tables(db).await {
        let theirs = columns(db, "full", &table).await;
        let shared: Vec<String> = columns(db, "main", &table)
            .await
            .into_iter()
            .filter(|column| theirs.contains(column))
            .map(|column| format!("\"{column}\""))
            .collect();
        if shared.is_empty() {
            continue;
        }
        let list = shared.join(", ");
        sqlx::query(&format!(
            "INSERT OR IGNORE INTO main.\"{table}\" ({list}) SELECT {list} FROM full.\"{table}\""
        ))
        .execute(&mut *db)
        .await
        .unwrap();
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM main.\"{table}\""))
            .fetch_one(&mut *db)
            .await
            .unwrap();
        held += n as usize;
    }
    sqlx::query("DETACH DATABASE full")
        .execute(&mut *db)
        .await
        .unwrap();
    held
}

/// Every table and its columns.
async fn held_columns(db: &mut SqliteConnection) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for table in tables(db).await {
        let columns = columns(db, "main", &table).await;
        out.insert(table, columns);
    }
    out
}

/// The rows of each of `tables`' columns, each row as its values' SQL literals, sorted.
/// A table that is gone has no rows.
async fn rows(
    db: &mut SqliteConnection,
    tables: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (table, columns) in tables {
        let row = columns
            .iter()
            .map(|column| format!("quote(\"{column}\")"))
            .collect::<Vec<_>>()
            .join(" || ', ' || ");
        let mut rows: Vec<String> = sqlx::query_scalar(&format!("SELECT {row} FROM \"{table}\""))
            .fetch_all(&mut *db)
            .await
            .unwrap_or_else(|error| panic!("reading `{table}`: {error}"));
        rows.sort();
        out.insert(table.clone(), rows);
    }
    out
}

/// The schema as SQLite keeps it: every table, index, trigger and view by its SQL.
async fn schema(db: &mut SqliteConnection) -> String {
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT type, name, sql FROM sqlite_master
         WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    )
    .fetch_all(&mut *db)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(kind, name, sql)| format!("{kind} {name}: {}\n", sql.unwrap_or_default()))
        .collect()
}
