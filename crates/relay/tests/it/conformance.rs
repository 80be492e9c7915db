//! The store conformance suite (`tsunagi_relay::testing::conformance`) on both backends.

mod sqlite {
    use tsunagi_relay::store::SqliteStore;

    async fn open() -> (tempfile::TempDir, SqliteStore, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("relay.db"))
            .await
            .unwrap();
        // One process holds a SQLite log: the other handle is the same store.
        (dir, store.clone(), store)
    }

    tsunagi_relay::conformance_suite!(open);
}

mod postgres {
    use tsunagi_relay::store::PgStore;
    use tsunagi_relay::testing::TestPostgres;

    async fn open() -> (TestPostgres, PgStore, PgStore) {
        let server = TestPostgres::start().await;
        let url = server.new_database().await;
        let one = PgStore::connect(&url).await.unwrap();
        // Another relay process on the same database.
        let other = PgStore::connect(&url).await.unwrap();
        (server, one, other)
    }

    tsunagi_relay::conformance_suite!(open);
}
