//! The relay's log on a PostgreSQL that it reaches over the network: TLS, with the server's
//! certificate checked against the root `sslrootcert` names (issue 29, hole 6). Each test
//! starts a server of its own that serves a certificate the test made, on 127.0.0.1.
//!
//! Whether the store's sessions are encrypted is asked of the server (`pg_stat_ssl`), over
//! its Unix socket, not taken from the client's word.

use serde_json::value::RawValue;
use sqlx::Connection as _;
use tsunagi_line::{ChannelId, MessageId, UserId, WebhookEventId};
use tsunagi_proto::{EntryBody, Seq, UnixMillis};
use tsunagi_relay::secret::{ChannelSecret, RelayKey};
use tsunagi_relay::store::{AnyStore, LogStore, MessageLink, NewBody, NewEntry};
use tsunagi_relay::testing::TestPostgres;

const CHANNEL: &str = "1000000001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_on_a_database_elsewhere_checks_its_certificate_and_is_encrypted() {
    let server = TestPostgres::start_with_tls(&["localhost", "127.0.0.1"]).await;
    let database = server.create_database().await;
    let url = verify_full(&server, &database, &server.ca_file());

    let store = open(&url).await.expect("the store opens over verified TLS");
    let key = RelayKey::generate();
    let channel = ChannelId::from(CHANNEL);
    store
        .add_channel(&channel, &key.seal(&ChannelSecret::new("s")), UnixMillis(1))
        .await
        .expect("a channel is added");
    store
        .append(&channel, vec![message("e1", "m1")])
        .await
        .expect("an entry is appended");
    let read = store
        .read(&channel, Seq(0), 10)
        .await
        .expect("the log is read");
    assert_eq!(read.len(), 1);
    let EntryBody::Line { event, .. } = &read[0].body else {
        panic!("a LINE event was appended: {:?}", read[0].body);
    };
    assert!(event.get().contains("blood pressure 120/80"), "{event}");

    let (sessions, encrypted) = sessions_on(&server, &database).await;
    assert!(sessions >= 1, "the store holds sessions on its database");
    assert_eq!(
        encrypted, sessions,
        "every session of the store is encrypted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_certificate_from_an_authority_not_trusted_is_refused_and_nothing_is_written() {
    let server = TestPostgres::start_with_tls(&["localhost", "127.0.0.1"]).await;
    let database = server.create_database().await;
    let url = verify_full(&server, &database, &server.unrelated_ca_file());

    let refused = open(&url)
        .await
        .expect_err("a certificate no trusted authority signed is refused");
    let said = refused.to_string();
    assert!(
        said.contains("connecting to the database") && said.contains("UnknownIssuer"),
        "the error says the certificate's issuer is not trusted: {said}"
    );
    assert_eq!(tables_in(&server, &database).await, 0, "not even migrated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_certificate_made_for_another_host_is_refused() {
    let server = TestPostgres::start_with_tls(&["db.elsewhere.example"]).await;
    let database = server.create_database().await;
    let url = verify_full(&server, &database, &server.ca_file());

    let refused = open(&url)
        .await
        .expect_err("a certificate for another host name is refused");
    let said = refused.to_string();
    assert!(
        said.contains("not valid for name"),
        "the error says the certificate names another host: {said}"
    );
    assert_eq!(tables_in(&server, &database).await, 0, "not even migrated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmode_require_starts_and_is_encrypted() {
    let server = TestPostgres::start_with_tls(&["db.elsewhere.example"]).await;
    let database = server.create_database().await;
    // `require` encrypts without checking whom it talks to, as libpq's does.
    let url = server.tcp_url("127.0.0.1", &database, "sslmode=require");

    let store = open(&url)
        .await
        .expect("the store opens with sslmode=require");
    store.ready().await.expect("the store answers");

    let (sessions, encrypted) = sessions_on(&server, &database).await;
    assert!(sessions >= 1, "the store holds sessions on its database");
    assert_eq!(
        encrypted, sessions,
        "every session of the store is encrypted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_without_sslmode_is_encrypted_when_the_server_offers_tls() {
    let server = TestPostgres::start_with_tls(&["localhost"]).await;
    let database = server.create_database().await;
    // No sslmode: `prefer`, which sent everything in clear while the relay had no TLS.
    let url = server.tcp_url("localhost", &database, "application_name=relay");

    let store = open(&url).await.expect("the store opens");
    store.ready().await.expect("the store answers");

    let (sessions, encrypted) = sessions_on(&server, &database).await;
    assert!(sessions >= 1, "the store holds sessions on its database");
    assert_eq!(
        encrypted, sessions,
        "every session of the store is encrypted"
    );
}

/// Opens the store as the relay does with `--database url`.
async fn open(url: &str) -> tsunagi_relay::store::Result<AnyStore> {
    let unused = tempfile::tempdir().unwrap();
    AnyStore::open(Some(url), &unused.path().join("relay.db")).await
}

/// The address a relay on another machine is given: `verify-full` against `ca`, by name.
fn verify_full(server: &TestPostgres, database: &str, ca: &std::path::Path) -> String {
    server.tcp_url(
        "localhost",
        database,
        &format!("sslmode=verify-full&sslrootcert={}", ca.display()),
    )
}

/// The sessions the server holds on `database`, and how many of them are encrypted.
async fn sessions_on(server: &TestPostgres, database: &str) -> (i64, i64) {
    let mut admin = server.admin().await;
    sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE s.ssl) \
         FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.datname = $1",
    )
    .bind(database)
    .fetch_one(&mut admin)
    .await
    .unwrap()
}

/// How many tables `database` has: none until the relay's migrations ran.
async fn tables_in(server: &TestPostgres, database: &str) -> i64 {
    let mut connection = sqlx::PgConnection::connect(&server.url(database))
        .await
        .unwrap();
    sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        .fetch_one(&mut connection)
        .await
        .unwrap()
}

/// A patient's text message, as LINE delivers it.
fn message(id: &str, message: &str) -> NewEntry {
    NewEntry {
        at: UnixMillis(10),
        body: NewBody::Line {
            destination: UserId::from("Ubot"),
            webhook_event_id: Some(WebhookEventId::from(id)),
            event: RawValue::from_string(format!(
                r#"{{"type":"message","webhookEventId":"{id}","message":{{"type":"text","id":"{message}","text":"blood pressure 120/80"}}}}"#
            ))
            .unwrap(),
            link: MessageLink::Carries(MessageId::from(message)),
        },
    }
}
